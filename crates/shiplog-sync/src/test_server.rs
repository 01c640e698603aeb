//! A fake GitHub REST API on 127.0.0.1, for tests (feature `test-server`).
//!
//! It answers the way GitHub does — the same status codes, headers and JSON error bodies,
//! `Link` pagination with absolute URLs, weak `ETag`s and `304 Not Modified` for a matching
//! `If-None-Match`, the `since`, `labels` and `state` filters of the issues and comments lists, 401 for a wrong
//! token, 404 for an unknown path, and rate-limit replies on demand — so the client is tested over a
//! real socket against real shapes. The items served are built by the tests from GitHub's recorded
//! payloads ([`items`]). Every request is recorded, so tests can assert what the client sent.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value as Json, json};

/// A request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query's pairs, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers as sent.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// A header's value (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Something to go wrong with the next request to a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trouble {
    /// 403 with `X-RateLimit-Remaining: 0` and a reset at the next whole second.
    RateLimited,
    /// 403 with `X-RateLimit-Remaining: 0` and a reset this many seconds ahead.
    RateLimitedFor(u64),
    /// 429 with `Retry-After: N` (a secondary rate limit).
    RetryAfter(u64),
    /// 403 whose message is a secondary rate limit, with no header saying when to retry.
    SecondaryLimit,
    /// 403 for a token without the permission.
    Forbidden,
    /// Any status with GitHub's JSON error body.
    Status(u16, String),
}

/// What a path serves.
#[derive(Debug, Clone)]
enum Route {
    /// A list, paginated (`page_size`: fixed, else `per_page`, default 30, at most 100); `key`
    /// wraps each page as `{"total_count": N, key: [...]}`.
    List {
        items: Vec<Json>,
        page_size: Option<usize>,
        key: Option<String>,
    },
    /// One object.
    Object(Json),
}

struct Inner {
    token: String,
    routes: HashMap<String, Route>,
    troubles: HashMap<String, VecDeque<Trouble>>,
    log: Vec<Request>,
}

/// The fake API. Stops when dropped.
pub struct FakeGitHub {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeGitHub {
    /// Listens on 127.0.0.1 (a free port) and accepts `token` only.
    pub fn start(token: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let inner = Arc::new(Mutex::new(Inner {
            token: token.to_owned(),
            routes: HashMap::new(),
            troubles: HashMap::new(),
            log: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let inner = Arc::clone(&inner);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let inner = Arc::clone(&inner);
                    std::thread::spawn(move || serve(stream, addr, &inner));
                }
            })
        };
        Self {
            addr,
            inner,
            stop,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`: the `--base-url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves `items` as a list at `path` (e.g. `/repos/o/r/pulls`), in the order given.
    pub fn list(&self, path: &str, items: Vec<Json>) {
        self.route(
            path,
            Route::List {
                items,
                page_size: None,
                key: None,
            },
        );
    }

    /// Serves `items` at `path` in pages of `page_size`, whatever `per_page` asks.
    pub fn list_paged(&self, path: &str, items: Vec<Json>, page_size: usize) {
        self.route(
            path,
            Route::List {
                items,
                page_size: Some(page_size.max(1)),
                key: None,
            },
        );
    }

    /// Serves workflow runs at `path` as GitHub does: `{"total_count": N, "workflow_runs": [...]}`.
    pub fn runs(&self, path: &str, runs: Vec<Json>) {
        self.route(
            path,
            Route::List {
                items: runs,
                page_size: None,
                key: Some("workflow_runs".to_owned()),
            },
        );
    }

    /// Serves one object at `path`.
    pub fn object(&self, path: &str, value: Json) {
        self.route(path, Route::Object(value));
    }

    fn route(&self, path: &str, route: Route) {
        lock(&self.inner).routes.insert(path.to_owned(), route);
    }

    /// Makes the next request to `path` go wrong (queued: several go wrong in turn).
    pub fn trouble(&self, path: &str, trouble: Trouble) {
        lock(&self.inner)
            .troubles
            .entry(path.to_owned())
            .or_default()
            .push_back(trouble);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.inner).log.clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        lock(&self.inner).log.clear();
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Serves the requests of one connection (kept alive) until the client closes it.
fn serve(mut stream: TcpStream, addr: SocketAddr, inner: &Mutex<Inner>) {
    // A pooled connection nobody uses any more ends the thread after a while.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let parsed = {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut request = httparse::Request::new(&mut headers);
            match request.parse(&buffer) {
                Ok(httparse::Status::Complete(len)) => Some((
                    len,
                    request.method.unwrap_or("GET").to_owned(),
                    request.path.unwrap_or("/").to_owned(),
                    request
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_owned(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect::<Vec<_>>(),
                )),
                Ok(httparse::Status::Partial) => None,
                Err(_) => return,
            }
        };
        let Some((len, method, target, headers)) = parsed else {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        buffer.drain(..len);
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path.to_owned(), query.to_owned()),
            None => (target.clone(), String::new()),
        };
        let request = Request {
            method,
            path,
            query: url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            headers,
        };
        let response = answer(&request, addr, inner);
        if stream.write_all(&response).is_err() {
            return;
        }
    }
}

fn now_http() -> String {
    jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&Timestamp::now())
        .unwrap_or_default()
}

fn error_body(message: &str, status: u16) -> Json {
    json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string(),
    })
}

/// The whole response to one request, as bytes.
fn answer(request: &Request, addr: SocketAddr, inner: &Mutex<Inner>) -> Vec<u8> {
    let mut state = lock(inner);
    state.log.push(request.clone());
    let now = Timestamp::now().as_second();
    let mut headers: Vec<(String, String)> = vec![
        ("Date".into(), now_http()),
        (
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ),
        (
            "X-GitHub-Media-Type".into(),
            "github.v3; format=json".into(),
        ),
        ("X-RateLimit-Limit".into(), "5000".into()),
        ("X-RateLimit-Remaining".into(), "4999".into()),
        ("X-RateLimit-Reset".into(), (now + 3600).to_string()),
        ("X-RateLimit-Used".into(), "1".into()),
        ("X-RateLimit-Resource".into(), "core".into()),
        (
            "Vary".into(),
            "Accept, Authorization, Cookie, X-GitHub-OTP".into(),
        ),
    ];
    let expected = format!("Bearer {}", state.token);
    if request.header("authorization") != Some(expected.as_str()) {
        return respond(401, headers, &error_body("Bad credentials", 401));
    }
    if let Some(trouble) = state
        .troubles
        .get_mut(&request.path)
        .and_then(VecDeque::pop_front)
    {
        let limited = |headers: &mut Vec<(String, String)>, reset: i64| {
            headers.retain(|(n, _)| {
                !n.starts_with("X-RateLimit-Remaining")
                    && !n.starts_with("X-RateLimit-Reset")
                    && !n.starts_with("X-RateLimit-Used")
            });
            headers.push(("X-RateLimit-Remaining".into(), "0".into()));
            headers.push(("X-RateLimit-Reset".into(), reset.to_string()));
            headers.push(("X-RateLimit-Used".into(), "5000".into()));
        };
        let rate_message = "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.";
        let secondary = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.";
        return match trouble {
            Trouble::RateLimited => {
                limited(&mut headers, now + 1);
                respond(403, headers, &error_body(rate_message, 403))
            }
            Trouble::RateLimitedFor(seconds) => {
                limited(&mut headers, now + seconds as i64);
                respond(403, headers, &error_body(rate_message, 403))
            }
            Trouble::RetryAfter(seconds) => {
                headers.push(("Retry-After".into(), seconds.to_string()));
                respond(429, headers, &error_body(secondary, 429))
            }
            Trouble::SecondaryLimit => respond(403, headers, &error_body(secondary, 403)),
            Trouble::Forbidden => respond(
                403,
                headers,
                &error_body("Resource not accessible by personal access token", 403),
            ),
            Trouble::Status(status, message) => {
                respond(status, headers, &error_body(&message, status))
            }
        };
    }
    let Some(route) = state.routes.get(&request.path).cloned() else {
        return respond(404, headers, &error_body("Not Found", 404));
    };
    drop(state);
    let body = match route {
        Route::Object(value) => value,
        Route::List {
            items,
            page_size,
            key,
        } => {
            let items = filter(items, request);
            let size = page_size.unwrap_or_else(|| {
                request
                    .param("per_page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(30)
                    .clamp(1, 100)
            });
            let page: usize = request
                .param("page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1);
            let pages = items.len().div_ceil(size).max(1);
            let link = |n: usize, rel: &str| {
                let mut pairs: Vec<(String, String)> = request
                    .query
                    .iter()
                    .filter(|(k, _)| k != "page")
                    .cloned()
                    .collect();
                pairs.push(("page".into(), n.to_string()));
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs)
                    .finish();
                format!("<http://{addr}{}?{query}>; rel=\"{rel}\"", request.path)
            };
            let mut links = Vec::new();
            if page > 1 {
                links.push(link(page - 1, "prev"));
            }
            if page < pages {
                links.push(link(page + 1, "next"));
                links.push(link(pages, "last"));
            }
            if page > 1 {
                links.push(link(1, "first"));
            }
            if !links.is_empty() {
                headers.push(("Link".into(), links.join(", ")));
            }
            let slice: Vec<Json> = items
                .into_iter()
                .skip((page - 1) * size)
                .take(size)
                .collect();
            match key {
                Some(key) => json!({"total_count": slice.len(), key: slice}),
                None => Json::Array(slice),
            }
        }
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let etag = format!("W/\"{:016x}\"", hasher.finish());
    headers.push(("ETag".into(), etag.clone()));
    if request.header("if-none-match") == Some(etag.as_str()) {
        headers.retain(|(n, _)| n != "Content-Type");
        return raw(304, &headers, &[]);
    }
    raw(200, &headers, &bytes)
}

/// The issues list's filters: `since` (updated at or after), `labels` (all of them, any case),
/// `state` (`open`, `closed`; `all` or absent keeps both).
fn filter(items: Vec<Json>, request: &Request) -> Vec<Json> {
    let since = request
        .param("since")
        .and_then(|s| s.parse::<Timestamp>().ok());
    let labels: Vec<String> = request
        .param("labels")
        .map(|l| l.split(',').map(|s| s.trim().to_lowercase()).collect())
        .unwrap_or_default();
    let state = request.param("state").filter(|s| *s != "all");
    items
        .into_iter()
        .filter(|item| {
            since.is_none_or(|since| {
                item.get("updated_at")
                    .and_then(Json::as_str)
                    .and_then(|t| t.parse::<Timestamp>().ok())
                    .is_some_and(|t| t >= since)
            })
        })
        .filter(|item| {
            labels.iter().all(|wanted| {
                item.get("labels")
                    .and_then(Json::as_array)
                    .is_some_and(|have| {
                        have.iter().any(|l| {
                            l.get("name")
                                .and_then(Json::as_str)
                                .is_some_and(|n| n.to_lowercase() == *wanted)
                        })
                    })
            })
        })
        .filter(|item| state.is_none_or(|s| item.get("state").and_then(Json::as_str) == Some(s)))
        .collect()
}

fn respond(status: u16, headers: Vec<(String, String)>, body: &Json) -> Vec<u8> {
    raw(
        status,
        &headers,
        &serde_json::to_vec(body).unwrap_or_default(),
    )
}

fn raw(status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let reason = match status {
        200 => "OK",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Unknown",
    };
    let mut out = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// REST list items built from GitHub's recorded webhook payloads (octokit's examples), which hold
/// the same objects the REST API lists. `dir` is the folder of the recorded payloads; the
/// repository is theirs, `Codertocat/Hello-World`.
pub mod items {
    use std::path::Path;

    use serde_json::{Value as Json, json};

    /// The repository the recorded payloads belong to.
    pub const REPOSITORY: &str = "Codertocat/Hello-World";
    const API: &str = "https://api.github.com/repos/Codertocat/Hello-World";

    /// A recorded payload, e.g. `payload(dir, "deployment_status_payload.json")`.
    pub fn payload(dir: &Path, name: &str) -> Json {
        let path = dir.join(name);
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// A pulls-list item: the recorded merged pull request as number `number`, updated at
    /// `updated_at`, merged as `merge_commit` at `merged_at` (or open when `None`).
    pub fn pull(dir: &Path, number: u64, updated_at: &str, merged: Option<(&str, &str)>) -> Json {
        let mut pr =
            payload(dir, "pull_request_closed_merged.DERIVED.json")["pull_request"].clone();
        pr["number"] = json!(number);
        pr["url"] = json!(format!("{API}/pulls/{number}"));
        pr["updated_at"] = json!(updated_at);
        match merged {
            Some((merge_commit, merged_at)) => {
                pr["merge_commit_sha"] = json!(merge_commit);
                pr["merged_at"] = json!(merged_at);
                pr["closed_at"] = json!(merged_at);
            }
            None => {
                pr["state"] = json!("open");
                pr["merged"] = json!(false);
                pr["merged_at"] = Json::Null;
                pr["closed_at"] = Json::Null;
            }
        }
        pr
    }

    /// A reviews-list item for pull request `number`, by its requested reviewer or (`by_author`)
    /// by its author.
    pub fn review(dir: &Path, id: u64, number: u64, by_author: bool, submitted_at: &str) -> Json {
        let pr = payload(dir, "pull_request_closed_merged.DERIVED.json")["pull_request"].clone();
        let user = if by_author {
            pr["user"].clone()
        } else {
            pr["requested_reviewers"][0].clone()
        };
        json!({
            "id": id,
            "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=",
            "user": user,
            "body": "Looks good.",
            "state": "APPROVED",
            "html_url": format!("https://github.com/Codertocat/Hello-World/pull/{number}#pullrequestreview-{id}"),
            "pull_request_url": format!("{API}/pulls/{number}"),
            "author_association": "COLLABORATOR",
            "submitted_at": submitted_at,
            "commit_id": pr["head"]["sha"].clone(),
        })
    }

    /// A deployments-list item: the recorded deployment as `id`, of `sha`, created at
    /// `created_at`.
    pub fn deployment(dir: &Path, id: u64, sha: &str, created_at: &str) -> Json {
        let mut d = payload(dir, "deployment_status_payload.json")["deployment"].clone();
        d["id"] = json!(id);
        d["url"] = json!(format!("{API}/deployments/{id}"));
        d["statuses_url"] = json!(format!("{API}/deployments/{id}/statuses"));
        d["sha"] = json!(sha);
        d["created_at"] = json!(created_at);
        d["updated_at"] = json!(created_at);
        d
    }

    /// A statuses-list item of deployment `id`.
    pub fn status(dir: &Path, id: u64, status_id: u64, state: &str, created_at: &str) -> Json {
        let mut s = payload(dir, "deployment_status_payload.json")["deployment_status"].clone();
        s["id"] = json!(status_id);
        s["url"] = json!(format!("{API}/deployments/{id}/statuses/{status_id}"));
        s["deployment_url"] = json!(format!("{API}/deployments/{id}"));
        s["state"] = json!(state);
        s["created_at"] = json!(created_at);
        s["updated_at"] = json!(created_at);
        s
    }

    /// An issue-comments-list item (`GET .../issues/comments`) on pull request (`on_pull`) or issue
    /// `number`, by the recorded pull request's author, by someone else, or by a bot (`who`:
    /// "author", "reviewer" or "bot").
    pub fn comment(dir: &Path, id: u64, number: u64, on_pull: bool, who: &str, at: &str) -> Json {
        let page = if on_pull { "pull" } else { "issues" };
        json!({
            "id": id,
            "user": commenter(dir, who),
            "body": "Thanks!",
            "html_url": format!("https://github.com/Codertocat/Hello-World/{page}/{number}#issuecomment-{id}"),
            "issue_url": format!("{API}/issues/{number}"),
            "author_association": "COLLABORATOR",
            "created_at": at,
            "updated_at": at,
        })
    }

    /// A review-comments-list item (`GET .../pulls/comments`) on pull request `number` (`who` as
    /// for [`comment`]).
    pub fn review_comment(dir: &Path, id: u64, number: u64, who: &str, at: &str) -> Json {
        json!({
            "id": id,
            "user": commenter(dir, who),
            "body": "Why not a constant?",
            "diff_hunk": "@@ -1 +1 @@",
            "path": "README.md",
            "html_url": format!("https://github.com/Codertocat/Hello-World/pull/{number}#discussion_r{id}"),
            "pull_request_url": format!("{API}/pulls/{number}"),
            "created_at": at,
            "updated_at": at,
        })
    }

    /// The recorded pull request's author, its requested reviewer, or a bot made from the reviewer.
    fn commenter(dir: &Path, who: &str) -> Json {
        let pr = payload(dir, "pull_request_closed_merged.DERIVED.json")["pull_request"].clone();
        match who {
            "author" => pr["user"].clone(),
            "bot" => {
                let mut bot = pr["requested_reviewers"][0].clone();
                bot["login"] = json!("coverage-reporter[bot]");
                bot["type"] = json!("Bot");
                bot
            }
            _ => pr["requested_reviewers"][0].clone(),
        }
    }

    /// A releases-list item: the recorded release as `tag`.
    pub fn release(dir: &Path, id: u64, tag: &str, created_at: &str) -> Json {
        let mut r = payload(dir, "release_published.json")["release"].clone();
        r["id"] = json!(id);
        r["tag_name"] = json!(tag);
        r["created_at"] = json!(created_at);
        r["published_at"] = json!(created_at);
        r
    }

    /// An issues-list item: the recorded issue as `number` with one label, closed at `closed_at`
    /// when given.
    pub fn issue(
        dir: &Path,
        number: u64,
        label: &str,
        created_at: &str,
        updated_at: &str,
        closed_at: Option<&str>,
    ) -> Json {
        let mut i = payload(dir, "issues_labeled.json")["issue"].clone();
        i["number"] = json!(number);
        i["url"] = json!(format!("{API}/issues/{number}"));
        i["labels"][0]["name"] = json!(label);
        i["created_at"] = json!(created_at);
        i["updated_at"] = json!(updated_at);
        i["state"] = json!(if closed_at.is_some() {
            "closed"
        } else {
            "open"
        });
        i["closed_at"] = closed_at.map_or(Json::Null, |c| json!(c));
        i
    }

    /// A workflow-runs item: the recorded completed run as `id` of workflow `name`, of `sha`,
    /// moved to this repository.
    pub fn run(dir: &Path, id: u64, name: &str, sha: &str, updated_at: &str) -> Json {
        let mut r = payload(dir, "workflow_run_completed.json")["workflow_run"].clone();
        r["id"] = json!(id);
        r["name"] = json!(name);
        r["head_sha"] = json!(sha);
        r["run_started_at"] = json!(updated_at);
        r["created_at"] = json!(updated_at);
        r["updated_at"] = json!(updated_at);
        r["repository"]["full_name"] = json!(REPOSITORY);
        r
    }
}
