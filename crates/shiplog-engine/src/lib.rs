//! shiplog's engine: from a repository and a store to an attributed delivery model.
//!
//! The CLI's commands and the team server both start here, so a number the server's API returns
//! is computed by the same code as the number `shiplog metrics` prints. The engine reports what it
//! does through a [`Reporter`] (the CLI draws progress bars and notes on stderr; the server logs
//! or stays quiet) and fails with a typed [`AnalysisError`].

pub mod analysis;
mod error;
pub mod ingest;
pub mod store;

pub use analysis::{
    Analysis, AnalysisOptions, DeploySource, Reporter, analyze_with, db_path, open_repo, open_store,
};
pub use error::AnalysisError;
