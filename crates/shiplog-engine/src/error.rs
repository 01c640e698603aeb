//! What can stop an analysis, in the user's terms; each message carries its hint.

use std::path::PathBuf;

use shiplog_core::NameError;
use shiplog_core::services::MembershipError;
use shiplog_git::paths::PathsError;
use shiplog_git::{OpenError, RepoError, SyncError};
use shiplog_store::StoreError;

/// A failed analysis (opening the repository or the store, reading history, attribution).
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store could not be opened.
    #[error("cannot open the store {}", path.display())]
    OpenStore {
        /// Where it was looked for.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// No store was named and there is no repository to keep one in.
    #[error(
        "no store given and not inside a git repository\nhint: pass --repo PATH, or --db PATH (or set SHIPLOG_DB)"
    )]
    NoStore,
    /// The store's directory could not be created.
    #[error("cannot create {}", path.display())]
    StoreDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// No repository at the path.
    #[error("{0}\nhint: run inside a git repository or pass --repo PATH")]
    OpenRepo(OpenError),
    /// Reading the repository failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Reading history failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Classifying commits by service path failed.
    #[error(transparent)]
    Paths(#[from] PathsError),
    /// The path classification does not fit the history.
    #[error(transparent)]
    Membership(#[from] MembershipError),
    /// A name derived from the repository is not valid.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The directory's name gives no service name.
    #[error(
        "the repository's directory name {name:?} gives no valid service name\nhint: name the service with --service NAME"
    )]
    DirectoryName {
        /// The directory's name.
        name: String,
        /// Why.
        #[source]
        source: NameError,
    },
    /// Nothing to measure.
    #[error(
        "the store holds no deployments, so there is nothing to measure yet\nhint: derive deployments from git with --deploys tags (v* tags) or --deploys merges (first-parent commits of the default branch), or record them with `shiplog record deployment`"
    )]
    NoDeployments,
    /// `--deploys tags` found no tag, or only tags that are not releases.
    #[error(
        "{0}\nhint: choose the pattern with --deploys 'tags=GLOB', count pre-releases with --deploys 'tags=GLOB,prereleases', or use --deploys merges"
    )]
    NoReleaseTags(String),
    /// Deployments of commits the repository lacks.
    #[error(
        "{0}\nhint: fetch the missing history (git fetch), or leave these deployments out with --skip-unknown"
    )]
    UnknownCommits(shiplog_core::attribution::UnknownCommits),
}
