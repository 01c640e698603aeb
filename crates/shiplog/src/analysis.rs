//! The engine ([`shiplog_engine`]) as the commands call it: with the terminal's [`Ui`] as its
//! reporter and its typed errors as `anyhow` errors.

use std::path::{Path, PathBuf};

use anyhow::Result;
use shiplog_config::Config;
use shiplog_git::GitRepo;
use shiplog_store::Store;

pub use shiplog_engine::{Analysis, AnalysisOptions};

use crate::store::AnyStore;
use crate::ui::Ui;

/// The store location: `--db`/`SHIPLOG_DB`, else `.shiplog/shiplog.db` under the repository root.
pub fn db_path(explicit: Option<&Path>, repo: Option<&GitRepo>) -> Result<PathBuf> {
    Ok(shiplog_engine::db_path(explicit, repo)?)
}

/// Opens the store at `path`: a SQLite file or a `postgres://` URL.
pub async fn open_store(path: &Path) -> Result<AnyStore> {
    Ok(shiplog_engine::open_store(path).await?)
}

/// Opens the repository containing `path`.
pub fn open_repo(path: &Path) -> Result<GitRepo> {
    Ok(shiplog_engine::open_repo(path)?)
}

/// Loads, syncs and attributes under `config` ([`shiplog_engine::analyze_with`]).
pub async fn analyze_with(
    repo: GitRepo,
    store: &dyn Store,
    options: &AnalysisOptions<'_>,
    config: &Config,
    ui: &Ui,
) -> Result<Analysis> {
    Ok(shiplog_engine::analyze_with(repo, store, options, config, ui).await?)
}
