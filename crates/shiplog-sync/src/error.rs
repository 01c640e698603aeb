//! What can go wrong talking to GitHub, one variant per thing the person can do something about.
//! Every message names the URL (never the token: it is only ever in a request header).

use std::time::Duration;

use jiff::Timestamp;

use crate::http::human;

/// A failed sync. Nothing of a failed sync is meant to be stored.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The repository is not `OWNER/REPO`.
    #[error(
        "{0:?} is not a GitHub repository: expected OWNER/REPO (letters, digits, '-', '_' and '.')"
    )]
    BadRepository(String),

    /// The base URL is not an http(s) URL.
    #[error("{url:?} is not a GitHub API base URL: {problem}")]
    BadBaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        problem: String,
    },

    /// The token is empty or cannot be sent in a header.
    #[error("the GitHub token is {0}")]
    BadToken(&'static str),

    /// 401: GitHub did not accept the token.
    #[error("GitHub rejected the token (401 {message}) at {url}")]
    TokenRejected {
        /// The request's URL.
        url: String,
        /// GitHub's message, e.g. "Bad credentials".
        message: String,
    },

    /// 404: the repository (or the resource) does not exist, or the token cannot see it — GitHub
    /// answers 404, not 403, for private repositories a token cannot read.
    #[error("GitHub answered 404 Not Found for {url}")]
    NotFound {
        /// The request's URL.
        url: String,
    },

    /// 403 that is not a rate limit: the token lacks a permission, or the repository blocks it.
    #[error("GitHub refused {url} (403: {message})")]
    Forbidden {
        /// The request's URL.
        url: String,
        /// GitHub's message, e.g. "Resource not accessible by personal access token".
        message: String,
    },

    /// Any other unexpected status.
    #[error("GitHub answered {status} for {url}: {message}")]
    Status {
        /// The request's URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// GitHub's message, or the start of the body.
        message: String,
    },

    /// The request did not get an answer: DNS, connection, TLS, timeout.
    #[error("cannot reach {url}: {source}")]
    Transport {
        /// The request's URL.
        url: String,
        /// What failed.
        #[source]
        source: Box<ureq::Error>,
    },

    /// The answer is not the JSON GitHub sends for this endpoint.
    #[error("unexpected answer from {url}: {problem}")]
    InvalidResponse {
        /// The request's URL.
        url: String,
        /// What was expected and found.
        problem: String,
    },

    /// Waiting for the rate limit would take longer than allowed.
    #[error(
        "GitHub's rate limit for this token is used up{}; waiting {} is longer than the maximum wait of {} (at {url})",
        reset.map(|r| format!(" until {r}")).unwrap_or_default(),
        human(*wait),
        human(*max_wait)
    )]
    RateLimitTooLong {
        /// The request's URL.
        url: String,
        /// How long GitHub asked to wait.
        wait: Duration,
        /// The cap.
        max_wait: Duration,
        /// When the limit resets, when GitHub said.
        reset: Option<Timestamp>,
    },

    /// Still limited after waiting several times.
    #[error("GitHub is still rate limiting {url} after {waits} waits")]
    StillRateLimited {
        /// The request's URL.
        url: String,
        /// How many times the client waited.
        waits: u32,
    },

    /// A `Link: rel="next"` pointed away from the API's host; following it would send the token
    /// there.
    #[error(
        "GitHub's next-page link {next:?} (from {url}) leaves the API's host; not following it"
    )]
    ForeignLink {
        /// The request's URL.
        url: String,
        /// The link.
        next: String,
    },
}
