//! Live sync of delivery history from GitHub's REST API.
//!
//! `shiplog import` reads what someone saved; this crate fetches it. For one repository it lists
//! pull requests (and the reviews of those that changed), deployments with their statuses,
//! releases, workflow runs (when some workflow deploys) and incident issues, and hands every page
//! on as a [`Delivery`](shiplog_ingest::formats::Delivery) that the same GitHub parser reads as
//! `shiplog import` does. A synced record and an imported one are therefore the same record, and
//! no GitHub shape is parsed twice.
//!
//! It is its own crate because it is the only part of shiplog that talks to the network, and the
//! network is where the hard parts are:
//!
//! - pagination through `Link: <...>; rel="next"` headers, following only links to the API's own
//!   host (a link elsewhere would carry the token there);
//! - incremental runs: a cursor per endpoint ([`github::Cursor`]) keeps the time of the last sync
//!   and the first page's `ETag`, so the next run sends `If-None-Match` (a `304 Not Modified` does
//!   not count against the rate limit), asks for `since` where GitHub supports it, and stops
//!   paging lists sorted newest first once items are older than the last sync;
//! - rate limits, primary (`X-RateLimit-Remaining: 0` until `X-RateLimit-Reset`) and secondary
//!   (`Retry-After`, or a 403 that says so): the client waits through an [`Observer`], which can
//!   show a countdown and is what tests replace to wait without sleeping, up to a cap;
//! - errors that say what to do (a rejected token, a repository that is missing or hidden) and
//!   name the URL, never the token.
//!
//! It stores nothing: the caller loads the saved cursors, and saves the new ones together with the
//! records in one transaction, so a sync that fails half-way leaves the cursors where they were
//! and the next run fetches the same again. The user documentation is the "Live sync from
//! GitHub" section of `docs/ingestion.md`.

mod error;
pub mod github;
mod http;
mod link;
#[cfg(feature = "test-server")]
pub mod test_server;

pub use error::SyncError;
pub use http::{BaseUrl, Client, ClientOptions, Observer, Token, Wait, WaitReason};

/// A duration as a person reads it: `14m 32s`, `45s`, `600ms`.
pub fn human_duration(duration: std::time::Duration) -> String {
    http::human(duration)
}
