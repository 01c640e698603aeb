//! One GET against GitHub's REST API, the way GitHub asks clients to make it: the version and
//! media-type headers, a bearer token, `If-None-Match` when a previous answer is known, and
//! waiting out rate limits (and retrying brief server errors) instead of failing.
//!
//! The client is blocking ([`ureq`]): a sync makes its requests one after the other (GitHub asks
//! integrations not to make concurrent requests, to stay clear of secondary rate limits), so an
//! async client and its runtime would buy nothing.

use std::fmt;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value as Json;
use shiplog_ingest::formats::Headers;
use url::Url;

use crate::error::SyncError;
use crate::link;

/// Waits for a rate limit before giving up on one request.
const MAX_RATE_LIMIT_WAITS: u32 = 5;
/// Retries of a request answered 500, 502, 503 or 504.
const MAX_SERVER_RETRIES: u32 = 2;
/// GitHub's advice for a secondary rate limit that says nothing of when to retry: wait at least a
/// minute (doubled on each repeat).
const SECONDARY_WAIT: Duration = Duration::from_secs(60);
/// The largest answer read (a page of 100 pull requests is a few megabytes).
const BODY_LIMIT: u64 = 64 * 1024 * 1024;

/// The API's root: `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise
/// Server. Pagination links are only followed on its scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(Url);

impl BaseUrl {
    /// Validates an `http://` or `https://` URL without a query or fragment; a trailing `/` is
    /// dropped.
    pub fn parse(text: &str) -> Result<Self, SyncError> {
        let bad = |problem: &str| SyncError::BadBaseUrl {
            url: text.to_owned(),
            problem: problem.to_owned(),
        };
        let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad(
                "expected an http:// or https:// URL, e.g. https://api.github.com or https://HOST/api/v3",
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("expected a host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("expected no query (?...) or fragment (#...)"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "expected no user name or password in the URL; the token comes from GITHUB_TOKEN",
            ));
        }
        Ok(Self(url))
    }

    /// The host, for `gh auth token --hostname`: `github.com` for `api.github.com`.
    pub fn host(&self) -> String {
        match self.0.host_str().unwrap_or_default() {
            "api.github.com" => "github.com".to_owned(),
            host => host.to_owned(),
        }
    }

    /// The URL of `path` (segments joined with `/`, each a safe name) under the root.
    pub(crate) fn join(&self, segments: &[&str]) -> Url {
        let mut url = self.0.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Whether `url` is on the API's scheme, host and port.
    pub(crate) fn same_origin(&self, url: &Url) -> bool {
        url.origin() == self.0.origin()
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str().trim_end_matches('/'))
    }
}

/// A GitHub token. Never printed: its `Debug` is redacted and no error holds it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Trims a token (from an environment variable or `gh auth token`); refuses an empty one or one
    /// that cannot be a header value.
    pub fn new(text: &str) -> Result<Self, SyncError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SyncError::BadToken("empty"));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SyncError::BadToken(
                "not a single word of printable characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(redacted)")
    }
}

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `User-Agent` (GitHub requires one): `shiplog/<version>`.
    pub user_agent: String,
    /// The longest single wait for a rate limit; a longer one fails the sync instead.
    pub max_wait: Duration,
}

/// Why the client waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitReason {
    /// The primary rate limit is used up (`X-RateLimit-Remaining: 0`) until `reset`.
    RateLimit {
        /// When it resets (`X-RateLimit-Reset`).
        reset: Option<Timestamp>,
    },
    /// A secondary rate limit (`Retry-After`, or a 403/429 whose message says so).
    SecondaryRateLimit,
    /// A brief server error (500, 502, 503, 504) before a retry.
    ServerError {
        /// The status.
        status: u16,
    },
}

/// A wait the client needs before retrying a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// How long.
    pub duration: Duration,
    /// Why.
    pub reason: WaitReason,
    /// The request that is retried after it.
    pub url: String,
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wait = human(self.duration);
        match &self.reason {
            WaitReason::RateLimit { reset: Some(reset) } => write!(
                f,
                "GitHub's rate limit is used up until {reset}: waiting {wait}, then going on"
            ),
            WaitReason::RateLimit { reset: None } => {
                write!(
                    f,
                    "GitHub's rate limit is used up: waiting {wait}, then going on"
                )
            }
            WaitReason::SecondaryRateLimit => write!(
                f,
                "GitHub asked to slow down (secondary rate limit): waiting {wait}, then going on"
            ),
            WaitReason::ServerError { status } => write!(
                f,
                "GitHub answered {status} for {}: retrying in {wait}",
                self.url
            ),
        }
    }
}

/// What a sync reports while it runs, and how it waits. Every method has a default, so a caller
/// implements what it shows; tests replace [`Observer::wait`] to wait without sleeping.
pub trait Observer {
    /// Reading `what` (e.g. "pull requests") starts.
    fn begin(&self, what: &str) {
        let _ = what;
    }
    /// `done` of `total` steps (pages, or items for per-item endpoints); `total` once known.
    fn progress(&self, done: u64, total: Option<u64>) {
        let _ = (done, total);
    }
    /// Reading what [`Observer::begin`] named is finished.
    fn end(&self) {}
    /// Blocks for `wait.duration` before a retry (the default sleeps). Called only for waits
    /// within the client's maximum.
    fn wait(&self, wait: &Wait) {
        std::thread::sleep(wait.duration);
    }
}

/// An answer to a GET.
#[derive(Debug)]
pub(crate) enum Reply {
    /// 304: unchanged since the `ETag` sent.
    NotModified {
        /// The server's `Date`.
        date: Option<Timestamp>,
    },
    /// 200 with JSON.
    Page(Page),
}

/// A 200 answer.
#[derive(Debug)]
pub(crate) struct Page {
    /// The parsed body.
    pub body: Json,
    /// The `ETag`, to send back as `If-None-Match` next time.
    pub etag: Option<String>,
    /// `Link: rel="next"`, checked to be on the API's host.
    pub next: Option<Url>,
    /// The number of the last page, from `Link: rel="last"`.
    pub last_page: Option<u64>,
    /// The server's `Date`.
    pub date: Option<Timestamp>,
}

/// A blocking GitHub REST client for one API root and token.
pub struct Client {
    agent: ureq::Agent,
    base: BaseUrl,
    token: Token,
    max_wait: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `base` with `token`. Connections are reused; proxies come from the usual
    /// environment variables (`HTTPS_PROXY`, `NO_PROXY`, ...).
    pub fn new(base: BaseUrl, token: Token, options: &ClientOptions) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(options.user_agent.as_str())
            // A renamed repository answers with a redirect; keep the token on the same host only.
            .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build();
        Self {
            agent: config.into(),
            base,
            token,
            max_wait: options.max_wait,
        }
    }

    /// The API root.
    pub fn base(&self) -> &BaseUrl {
        &self.base
    }

    /// GETs `url`, sending `etag` as `If-None-Match`. Waits out rate limits (through `observer`,
    /// at most the maximum wait each time) and retries brief server errors.
    pub(crate) fn get(
        &self,
        url: &Url,
        etag: Option<&str>,
        observer: &dyn Observer,
    ) -> Result<Reply, SyncError> {
        let shown = url.as_str().to_owned();
        let mut rate_limit_waits = 0;
        let mut server_retries = 0;
        loop {
            let mut request = self
                .agent
                .get(url.as_str())
                .header("Accept", "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28")
                .header("Authorization", format!("Bearer {}", self.token.0));
            if let Some(etag) = etag {
                request = request.header("If-None-Match", etag);
            }
            let mut response = request.call().map_err(|e| SyncError::Transport {
                url: shown.clone(),
                source: Box::new(e),
            })?;
            let status = response.status().as_u16();
            let headers = Headers(
                response
                    .headers()
                    .iter()
                    .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                    .collect(),
            );
            let date = headers.get("date").and_then(http_date);
            if status == 304 {
                return Ok(Reply::NotModified { date });
            }
            let body = response
                .body_mut()
                .with_config()
                .limit(BODY_LIMIT)
                .read_to_vec()
                .map_err(|e| SyncError::Transport {
                    url: shown.clone(),
                    source: Box::new(e),
                })?;
            match status {
                200 => return self.page(&shown, &headers, &body, date),
                401 => {
                    return Err(SyncError::TokenRejected {
                        url: shown,
                        message: message(&body),
                    });
                }
                404 => return Err(SyncError::NotFound { url: shown }),
                403 | 429 => {
                    let Some((duration, reason)) = rate_limit_wait(
                        status,
                        &headers,
                        &body,
                        Timestamp::now(),
                        rate_limit_waits,
                    ) else {
                        return Err(SyncError::Forbidden {
                            url: shown,
                            message: message(&body),
                        });
                    };
                    if rate_limit_waits >= MAX_RATE_LIMIT_WAITS {
                        return Err(SyncError::StillRateLimited {
                            url: shown,
                            waits: rate_limit_waits,
                        });
                    }
                    if duration > self.max_wait {
                        let reset = match reason {
                            WaitReason::RateLimit { reset } => reset,
                            _ => None,
                        };
                        return Err(SyncError::RateLimitTooLong {
                            url: shown,
                            wait: duration,
                            max_wait: self.max_wait,
                            reset,
                        });
                    }
                    rate_limit_waits += 1;
                    observer.wait(&Wait {
                        duration,
                        reason,
                        url: shown.clone(),
                    });
                }
                500 | 502 | 503 | 504 if server_retries < MAX_SERVER_RETRIES => {
                    server_retries += 1;
                    observer.wait(&Wait {
                        duration: Duration::from_secs(u64::from(server_retries)),
                        reason: WaitReason::ServerError { status },
                        url: shown.clone(),
                    });
                }
                _ => {
                    return Err(SyncError::Status {
                        url: shown,
                        status,
                        message: message(&body),
                    });
                }
            }
        }
    }

    fn page(
        &self,
        shown: &str,
        headers: &Headers,
        body: &[u8],
        date: Option<Timestamp>,
    ) -> Result<Reply, SyncError> {
        let body: Json = serde_json::from_slice(body).map_err(|e| SyncError::InvalidResponse {
            url: shown.to_owned(),
            problem: format!("not JSON: {e}"),
        })?;
        let links = headers.get("link").map(link::parse).unwrap_or_default();
        let next = match links.next {
            Some(next) => {
                let url = Url::parse(&next).map_err(|e| SyncError::InvalidResponse {
                    url: shown.to_owned(),
                    problem: format!("the next-page link {next:?} is not a URL: {e}"),
                })?;
                if !self.base.same_origin(&url) {
                    return Err(SyncError::ForeignLink {
                        url: shown.to_owned(),
                        next,
                    });
                }
                Some(url)
            }
            None => None,
        };
        Ok(Reply::Page(Page {
            body,
            etag: headers.get("etag").map(str::to_owned),
            next,
            last_page: links.last.as_deref().and_then(link::page_number),
            date,
        }))
    }
}

/// How long to wait before retrying a 403 or 429, if it is a rate limit (GitHub's documented
/// rules, in order): `Retry-After` seconds; with `X-RateLimit-Remaining: 0`, until
/// `X-RateLimit-Reset` (by this machine's clock, or by the server's `Date` when this clock says
/// the reset has passed); a message about a rate limit, or any 429, a minute doubled per earlier
/// wait. `None`: a 403 that is no rate limit.
fn rate_limit_wait(
    status: u16,
    headers: &Headers,
    body: &[u8],
    now: Timestamp,
    earlier_waits: u32,
) -> Option<(Duration, WaitReason)> {
    if let Some(seconds) = headers
        .get("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
    {
        return Some((Duration::from_secs(seconds), WaitReason::SecondaryRateLimit));
    }
    if headers.get("x-ratelimit-remaining") == Some("0") {
        let reset = headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|s| Timestamp::from_second(s).ok());
        let until = |from: Timestamp| {
            reset
                .map(|r| r.duration_since(from))
                .filter(|d| d.is_positive())
        };
        let by_server = || headers.get("date").and_then(http_date).and_then(until);
        let wait = until(now)
            .or_else(by_server)
            .and_then(|d| Duration::try_from(d).ok())
            .unwrap_or(Duration::from_secs(1));
        return Some((wait, WaitReason::RateLimit { reset }));
    }
    if status == 429 || message(body).to_ascii_lowercase().contains("rate limit") {
        let factor = 1u32 << earlier_waits.min(4);
        return Some((SECONDARY_WAIT * factor, WaitReason::SecondaryRateLimit));
    }
    None
}

/// GitHub's `message` from an error body, else the body's start.
fn message(body: &[u8]) -> String {
    serde_json::from_slice::<Json>(body)
        .ok()
        .and_then(|j| j.get("message").and_then(Json::as_str).map(str::to_owned))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            match text.char_indices().nth(200) {
                Some((cut, _)) => format!("{}...", &text[..cut]),
                None if text.is_empty() => "(no message)".to_owned(),
                None => text.to_owned(),
            }
        })
}

/// An HTTP date (`Tue, 15 Nov 1994 08:12:31 GMT`).
fn http_date(text: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(text)
        .ok()
}

/// `14m 30s`, `45s`, `600ms`: a wait as a person reads it.
pub(crate) fn human(duration: Duration) -> String {
    let d = SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX);
    let d = if d >= SignedDuration::from_secs(1) {
        SignedDuration::from_secs(d.as_secs())
    } else {
        SignedDuration::from_millis(d.as_millis() as i64)
    };
    format!("{d:#}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[(&str, &str)]) -> Headers {
        Headers(
            list.iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn retry_after_wins_then_the_reset_time_then_a_minute() {
        let now = at("2026-03-03T12:00:00.250Z");
        let h = headers(&[("retry-after", "30"), ("x-ratelimit-remaining", "0")]);
        assert_eq!(
            rate_limit_wait(403, &h, b"{}", now, 0),
            Some((Duration::from_secs(30), WaitReason::SecondaryRateLimit))
        );
        let reset = now.as_second() + 90;
        let reset_text = reset.to_string();
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &reset_text),
        ]);
        assert_eq!(
            rate_limit_wait(403, &h, b"{}", now, 0),
            Some((
                Duration::from_millis(89_750),
                WaitReason::RateLimit {
                    reset: Timestamp::from_second(reset).ok()
                }
            ))
        );
        let body = br#"{"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        assert_eq!(
            rate_limit_wait(403, &headers(&[]), body, now, 0),
            Some((Duration::from_secs(60), WaitReason::SecondaryRateLimit))
        );
        assert_eq!(
            rate_limit_wait(429, &headers(&[]), b"", now, 2).map(|w| w.0),
            Some(Duration::from_secs(240)),
            "repeated secondary limits back off"
        );
        let forbidden = br#"{"message": "Resource not accessible by personal access token"}"#;
        assert_eq!(rate_limit_wait(403, &headers(&[]), forbidden, now, 0), None);
    }

    #[test]
    fn a_reset_this_clock_thinks_passed_uses_the_servers_date() {
        // This machine's clock runs 10 minutes ahead of GitHub's.
        let now = at("2026-03-03T12:10:00Z");
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1772539260"), // 2026-03-03T12:01:00Z
            ("date", "Tue, 03 Mar 2026 12:00:00 GMT"),
        ]);
        assert_eq!(
            rate_limit_wait(403, &h, b"", now, 0).map(|w| w.0),
            Some(Duration::from_secs(60))
        );
        // Both clocks say it passed: a short pause, not a busy loop.
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1")]);
        assert_eq!(
            rate_limit_wait(403, &h, b"", now, 0).map(|w| w.0),
            Some(Duration::from_secs(1))
        );
    }

    #[test]
    fn messages_come_from_githubs_json_or_the_body() {
        assert_eq!(
            message(br#"{"message":"Bad credentials"}"#),
            "Bad credentials"
        );
        assert_eq!(message(b"  <html>oops</html> "), "<html>oops</html>");
        assert_eq!(message(b""), "(no message)");
        assert_eq!(message(&[b'x'; 300]).len(), 203);
    }

    #[test]
    fn base_urls_are_checked_and_name_their_host() {
        let base = BaseUrl::parse("https://api.github.com/").expect("valid");
        assert_eq!(base.to_string(), "https://api.github.com");
        assert_eq!(base.host(), "github.com");
        assert_eq!(
            base.join(&["repos", "acme", "shop", "pulls"]).as_str(),
            "https://api.github.com/repos/acme/shop/pulls"
        );
        let ghe = BaseUrl::parse("https://ghe.example.com/api/v3").expect("valid");
        assert_eq!(ghe.host(), "ghe.example.com");
        assert_eq!(
            ghe.join(&["repos", "a", "b"]).as_str(),
            "https://ghe.example.com/api/v3/repos/a/b"
        );
        assert!(ghe.same_origin(&Url::parse("https://ghe.example.com/x?page=2").expect("url")));
        assert!(!ghe.same_origin(&Url::parse("https://evil.example.com/x").expect("url")));
        assert!(!ghe.same_origin(&Url::parse("http://ghe.example.com/x").expect("url")));
        for bad in [
            "api.github.com",
            "ftp://x",
            "https://x/?a=1",
            "https://user:pw@x",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn next_links_are_followed_only_on_the_apis_host() {
        let client = Client::new(
            BaseUrl::parse("https://api.github.com").expect("base"),
            Token::new("t").expect("token"),
            &ClientOptions {
                user_agent: "shiplog/test".to_owned(),
                max_wait: Duration::from_secs(1),
            },
        );
        let shown = "https://api.github.com/repos/a/b/pulls";
        let own = headers(&[(
            "link",
            r#"<https://api.github.com/repositories/1/pulls?page=2>; rel="next", <https://api.github.com/repositories/1/pulls?page=9>; rel="last""#,
        )]);
        match client.page(shown, &own, b"[]", None) {
            Ok(Reply::Page(page)) => {
                assert_eq!(
                    page.next.map(String::from).as_deref(),
                    Some("https://api.github.com/repositories/1/pulls?page=2")
                );
                assert_eq!(page.last_page, Some(9));
            }
            other => panic!("{other:?}"),
        }
        let foreign = headers(&[(
            "link",
            r#"<https://elsewhere.example/pulls?page=2>; rel="next""#,
        )]);
        assert!(matches!(
            client.page(shown, &foreign, b"[]", None),
            Err(SyncError::ForeignLink { .. })
        ));
        assert!(matches!(
            client.page(shown, &own, b"<html>", None),
            Err(SyncError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn tokens_are_never_shown() {
        let token = Token::new(" ghp_secret\n").expect("valid");
        assert_eq!(format!("{token:?}"), "Token(redacted)");
        assert!(Token::new("  ").is_err());
        assert!(Token::new("a b").is_err());
    }

    #[test]
    fn waits_read_like_a_person_would_say_them() {
        assert_eq!(human(Duration::from_millis(872_500)), "14m 32s");
        assert_eq!(human(Duration::from_millis(600)), "600ms");
        assert_eq!(human(Duration::from_secs(3600)), "1h");
    }
}
