//! One repository's sync: which endpoints, in which order, how far back, and what is remembered
//! for the next run.
//!
//! | endpoint | incremental by | remembered |
//! |---|---|---|
//! | `GET /repos/{o}/{r}/pulls?state=all&sort=updated&direction=desc` | paging stops at the first pull request updated before the last sync | first page's `ETag` |
//! | `GET .../pulls/{n}/reviews` | only for the pull requests just fetched (a review updates its pull request) | — |
//! | `GET .../issues/comments?since=...` and `GET .../pulls/comments?since=...` (conversation and review comments: a pull request's first comment by someone else can come before its first review) | `since` | `ETag` |
//! | `GET .../deployments` (newest first) | paging stops at the first deployment created before the last sync | `ETag`, and the ids of deployments not finished yet |
//! | `GET .../deployments/{id}/statuses` | for new deployments, and those not finished at the last sync | — |
//! | `GET .../releases` (newest first) | paging stops at the first release created before the last sync | `ETag` |
//! | `GET .../actions/runs?status=completed&created=>=...` (only with deploy workflows) | runs created from a week before the last sync (a run can finish long after it starts) | `ETag` |
//! | `GET .../issues?labels=L&state=all&since=...` (one per incident label: GitHub ANDs labels) | `since` | `ETag` |
//!
//! Every first page is sent with the last run's `ETag` as `If-None-Match`: `304 Not Modified`
//! means nothing in that list changed, and costs no rate limit. The time remembered is GitHub's
//! (the first answer's `Date`), less two minutes, so nothing updated while a run was under way is
//! missed and this machine's clock does not matter.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use shiplog_ingest::formats::Delivery;
use url::Url;

use crate::error::SyncError;
use crate::http::{BaseUrl, Client, Observer, Reply};

/// How much earlier than the run's start the next run starts reading.
const OVERLAP: SignedDuration = SignedDuration::from_secs(120);
/// How far before the last sync workflow runs are read again (runs finish after they start).
const RUN_LOOKBACK: SignedDuration = SignedDuration::from_hours(7 * 24);
/// How long a deployment without a final status is looked at again on each run.
const PENDING_FOR: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Items per page: GitHub's maximum.
const PER_PAGE: &str = "100";

/// A GitHub repository, `OWNER/REPO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    owner: String,
    name: String,
}

impl FromStr for Repository {
    type Err = SyncError;

    fn from_str(text: &str) -> Result<Self, SyncError> {
        let bad = || SyncError::BadRepository(text.to_owned());
        let ok = |part: &str| {
            !part.is_empty()
                && part.len() <= 100
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        let (owner, name) = text.trim().split_once('/').ok_or_else(bad)?;
        if !ok(owner) || !ok(name) {
            return Err(bad());
        }
        Ok(Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// From when a run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFrom {
    /// What changed since the last sync of each endpoint; everything on the first.
    LastSync,
    /// What changed since this time, whatever was synced before (no `If-None-Match`).
    Since(Timestamp),
    /// Everything again.
    Beginning,
}

/// What to sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Issue labels that make an issue an incident; empty means `incident`.
    pub incident_labels: Vec<String>,
    /// Read workflow runs (only useful when some workflow's runs are deployments).
    pub workflow_runs: bool,
    /// From when.
    pub from: ReadFrom,
}

/// What is remembered of one endpoint between runs, saved as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// GitHub's time when the last successful run began (less a margin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// The first page's `ETag` at that run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Deployments that had no final status yet: read again next time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<u64>,
}

impl Cursor {
    /// A cursor that remembers only a first page's `ETag`.
    fn with_etag(etag: Option<String>) -> Self {
        Self {
            etag,
            ..Self::default()
        }
    }
}

/// The key under which a repository's cursors are saved: one per API root and repository, so a
/// GitHub Enterprise repository and a github.com one of the same name do not mix.
pub fn scope(base: &BaseUrl, repository: &Repository) -> String {
    format!("github {base} {repository}")
}

/// What one kind of request fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fetched {
    /// What, e.g. "pull requests".
    pub what: String,
    /// Requests made.
    pub requests: u32,
    /// Of which answered `304 Not Modified`.
    pub not_modified: u32,
    /// Items received.
    pub items: u64,
}

/// The result of a run: pages for the GitHub parser, the cursors to save once they are stored,
/// and what happened.
#[derive(Debug, Clone)]
pub struct Synced {
    /// REST list responses, one per list (pages joined), labelled by their path.
    pub deliveries: Vec<Delivery>,
    /// The new cursors, endpoint key → JSON: save them with the records.
    pub state: BTreeMap<String, String>,
    /// Per kind of request.
    pub fetched: Vec<Fetched>,
    /// Things the person should know (e.g. deployments not finished yet).
    pub notes: Vec<String>,
    /// When the previous sync of pull requests began (`None` on a first sync).
    pub previous: Option<Timestamp>,
}

impl Synced {
    /// Requests made in all.
    pub fn requests(&self) -> u32 {
        self.fetched.iter().map(|f| f.requests).sum()
    }

    /// Requests answered `304 Not Modified`.
    pub fn not_modified(&self) -> u32 {
        self.fetched.iter().map(|f| f.not_modified).sum()
    }

    /// Items received in all.
    pub fn items(&self) -> u64 {
        self.fetched.iter().map(|f| f.items).sum()
    }
}

/// A list's items, or "unchanged".
enum Listing {
    NotModified,
    Items {
        items: Vec<Json>,
        etag: Option<String>,
    },
}

impl Listing {
    fn etag_or(self, old: Option<String>) -> (Vec<Json>, Option<String>) {
        match self {
            Listing::NotModified => (Vec::new(), old),
            Listing::Items { items, etag } => (items, etag),
        }
    }
}

/// Whether a list sorted newest first has reached items from before `cutoff` (by `field`).
fn older(field: &'static str, cutoff: Option<Timestamp>) -> impl Fn(&Json) -> bool {
    move |item| {
        cutoff.is_some_and(|cutoff| {
            item.get(field)
                .and_then(Json::as_str)
                .and_then(|t| t.parse::<Timestamp>().ok())
                .is_some_and(|t| t < cutoff)
        })
    }
}

fn never(_: &Json) -> bool {
    false
}

/// `2026-03-03T12:00:00Z`: whole seconds, as GitHub's query parameters take them.
fn query_time(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

struct Run<'a> {
    client: &'a Client,
    repository: &'a Repository,
    observer: &'a dyn Observer,
    /// GitHub's `Date` of the first answer.
    server_start: Option<Timestamp>,
    fetched: Vec<Fetched>,
    deliveries: Vec<Delivery>,
}

impl Run<'_> {
    fn url(&self, tail: &[&str], query: &[(&str, &str)]) -> Url {
        let mut segments = vec!["repos", &self.repository.owner, &self.repository.name];
        segments.extend_from_slice(tail);
        let mut url = self.client.base().join(&segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn stats(&mut self, what: &str) -> &mut Fetched {
        let at = match self.fetched.iter().position(|f| f.what == what) {
            Some(at) => at,
            None => {
                self.fetched.push(Fetched {
                    what: what.to_owned(),
                    ..Fetched::default()
                });
                self.fetched.len() - 1
            }
        };
        &mut self.fetched[at]
    }

    fn get(&mut self, what: &str, url: &Url, etag: Option<&str>) -> Result<Reply, SyncError> {
        self.stats(what).requests += 1;
        let reply = self.client.get(url, etag, self.observer)?;
        let date = match &reply {
            Reply::NotModified { date } => {
                self.stats(what).not_modified += 1;
                *date
            }
            Reply::Page(page) => page.date,
        };
        if self.server_start.is_none() {
            self.server_start = date;
        }
        Ok(reply)
    }

    /// Reads a list page by page through `Link: rel="next"`, until `stop` says an item is too old
    /// (it and what follows are left out). `key`: the field holding the items (`workflow_runs`),
    /// else the body is the list. `pages`: report each page as progress.
    fn list(
        &mut self,
        what: &str,
        first: Url,
        key: Option<&str>,
        etag: Option<&str>,
        stop: &dyn Fn(&Json) -> bool,
        pages: bool,
    ) -> Result<Listing, SyncError> {
        let mut items = Vec::new();
        let mut first_etag = None;
        let mut next = Some(first);
        let mut number = 0u64;
        let mut total = None;
        while let Some(url) = next.take() {
            let conditional = if number == 0 { etag } else { None };
            let page = match self.get(what, &url, conditional)? {
                Reply::NotModified { .. } if number == 0 => return Ok(Listing::NotModified),
                Reply::NotModified { .. } => {
                    return Err(SyncError::InvalidResponse {
                        url: url.to_string(),
                        problem: "304 Not Modified for a request that was not conditional"
                            .to_owned(),
                    });
                }
                Reply::Page(page) => page,
            };
            number += 1;
            if number == 1 {
                first_etag = page.etag.clone();
            }
            // The last page has no `rel="last"`: the total is the one learnt before.
            total = page.last_page.or(total).map(|last| last.max(number));
            if pages {
                self.observer.progress(number, total);
            }
            let mut done = false;
            for item in page_items(&url, page.body, key)? {
                if stop(&item) {
                    done = true;
                    break;
                }
                items.push(item);
            }
            if !done {
                next = page.next;
            }
        }
        self.stats(what).items += items.len() as u64;
        Ok(Listing::Items {
            items,
            etag: first_etag,
        })
    }

    /// Reads a list that GitHub filters by `since` (items updated then or later), newest update
    /// first, its first page asked with `etag`; keeps it for the parser and returns the cursor to
    /// save (the old ETag when the list is unchanged).
    fn since_list(
        &mut self,
        what: &str,
        tail: &[&str],
        filters: &[(&str, &str)],
        since: Option<Timestamp>,
        etag: Option<String>,
        old: &Cursor,
    ) -> Result<Cursor, SyncError> {
        let since = since.map(query_time);
        let mut query = filters.to_vec();
        query.extend([
            ("sort", "updated"),
            ("direction", "desc"),
            ("per_page", PER_PAGE),
        ]);
        if let Some(since) = &since {
            query.push(("since", since));
        }
        let url = self.url(tail, &query);
        let (items, etag) = self.fetch(what, &url, None, etag, old, &never)?;
        self.deliver(&url, items)?;
        Ok(Cursor::with_etag(etag))
    }

    /// Reads one list, shown as `what` while it runs, its first page asked with `etag`: its items
    /// (none when unchanged) and the `ETag` to remember (`old`'s when unchanged). `key` and `stop`
    /// as for [`Run::list`].
    fn fetch(
        &mut self,
        what: &str,
        url: &Url,
        key: Option<&str>,
        etag: Option<String>,
        old: &Cursor,
        stop: &dyn Fn(&Json) -> bool,
    ) -> Result<(Vec<Json>, Option<String>), SyncError> {
        self.observer.begin(what);
        let listing = self.list(what, url.clone(), key, etag.as_deref(), stop, true)?;
        self.observer.end();
        Ok(listing.etag_or(old.etag.clone()))
    }

    /// Keeps a list for the parser, labelled by its path; an empty list is no delivery.
    fn deliver(&mut self, url: &Url, items: Vec<Json>) -> Result<(), SyncError> {
        if items.is_empty() {
            return Ok(());
        }
        let body =
            serde_json::to_vec(&Json::Array(items)).map_err(|e| SyncError::InvalidResponse {
                url: url.to_string(),
                problem: e.to_string(),
            })?;
        self.deliveries.push(Delivery::file(url.path(), body));
        Ok(())
    }
}

/// The items of one page: the body's array, or the array in its field `key`.
fn page_items(url: &Url, body: Json, key: Option<&str>) -> Result<Vec<Json>, SyncError> {
    let list = match (key, body) {
        (None, list) => list,
        (Some(key), Json::Object(mut map)) => map.remove(key).unwrap_or(Json::Null),
        (Some(_), other) => other,
    };
    match list {
        Json::Array(items) => Ok(items),
        other => Err(SyncError::InvalidResponse {
            url: url.to_string(),
            problem: format!(
                "expected a JSON array{}, got {}",
                key.map(|k| format!(" in {k:?}")).unwrap_or_default(),
                match other {
                    Json::Null => "nothing",
                    Json::Bool(_) => "a boolean",
                    Json::Number(_) => "a number",
                    Json::String(_) => "a string",
                    Json::Array(_) => "an array",
                    Json::Object(_) => "an object",
                }
            ),
        }),
    }
}

fn cursor(saved: &BTreeMap<String, String>, key: &str) -> Cursor {
    // A cursor that does not read (edited by hand, an older format) only costs a full read.
    saved
        .get(key)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// The incident labels, as the parser compares them.
fn labels(options: &SyncOptions) -> Vec<String> {
    shiplog_ingest::formats::incident_labels(&options.incident_labels)
}

/// Fetches what changed in `repository` since the cursors in `saved` (endpoint key → JSON, as
/// returned in [`Synced::state`] by the last run). Requests are made one at a time; progress and
/// waits go to `observer`.
pub fn sync(
    client: &Client,
    repository: &Repository,
    options: &SyncOptions,
    saved: &BTreeMap<String, String>,
    observer: &dyn Observer,
) -> Result<Synced, SyncError> {
    let local_start = Timestamp::now();
    let mut run = Run {
        client,
        repository,
        observer,
        server_start: None,
        fetched: Vec::new(),
        deliveries: Vec::new(),
    };
    let mut cursors: BTreeMap<String, Cursor> = BTreeMap::new();
    let mut notes = Vec::new();
    let cutoff = |c: &Cursor| match options.from {
        ReadFrom::LastSync => c.since,
        ReadFrom::Since(t) => Some(t),
        ReadFrom::Beginning => None,
    };
    let conditional = |c: &Cursor| match options.from {
        ReadFrom::LastSync => c.etag.clone(),
        _ => None,
    };

    // Pull requests, newest update first, then the reviews of those that changed.
    let old = cursor(saved, "pulls");
    let previous = old.since;
    let url = run.url(
        &["pulls"],
        &[
            ("state", "all"),
            ("sort", "updated"),
            ("direction", "desc"),
            ("per_page", PER_PAGE),
        ],
    );
    let (pulls, etag) = run.fetch(
        "pull requests",
        &url,
        None,
        conditional(&old),
        &old,
        &older("updated_at", cutoff(&old)),
    )?;
    let numbers: Vec<u64> = pulls
        .iter()
        .filter_map(|p| p.get("number").and_then(Json::as_u64))
        .collect();
    run.deliver(&url, pulls)?;
    cursors.insert("pulls".to_owned(), Cursor::with_etag(etag));
    if !numbers.is_empty() {
        observer.begin("reviews");
        let total = numbers.len() as u64;
        for (i, number) in numbers.iter().enumerate() {
            let number = number.to_string();
            let url = run.url(&["pulls", &number, "reviews"], &[("per_page", PER_PAGE)]);
            let (reviews, _) = run
                .list("reviews", url.clone(), None, None, &never, false)?
                .etag_or(None);
            run.deliver(&url, reviews)?;
            observer.progress(i as u64 + 1, Some(total));
        }
        observer.end();
    }

    // Comments, repository-wide: conversation comments (on issues and pull requests alike) and
    // review comments on diffs.
    for (key, tail, what) in [
        ("issue-comments", ["issues", "comments"], "comments"),
        ("review-comments", ["pulls", "comments"], "review comments"),
    ] {
        let old = cursor(saved, key);
        let cursor = run.since_list(what, &tail, &[], cutoff(&old), conditional(&old), &old)?;
        cursors.insert(key.to_owned(), cursor);
    }

    // Deployments, newest first, with the statuses of new and unfinished ones.
    let old = cursor(saved, "deployments");
    let url = run.url(&["deployments"], &[("per_page", PER_PAGE)]);
    let (mut deployments, etag) = run.fetch(
        "deployments",
        &url,
        None,
        conditional(&old),
        &old,
        &older("created_at", cutoff(&old)),
    )?;
    let listed_ids: BTreeSet<u64> = deployments
        .iter()
        .filter_map(|d| d.get("id").and_then(Json::as_u64))
        .collect();
    for id in old.pending.iter().filter(|id| !listed_ids.contains(id)) {
        let one = run.url(&["deployments", &id.to_string()], &[]);
        match run.get("deployments", &one, None) {
            Ok(Reply::Page(page)) => {
                run.stats("deployments").items += 1;
                deployments.push(page.body);
            }
            // Deleted since: nothing to finish.
            Ok(Reply::NotModified { .. }) | Err(SyncError::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let now = run.server_start.unwrap_or(local_start);
    let mut pending = Vec::new();
    let mut kept = Vec::new();
    if !deployments.is_empty() {
        observer.begin("deployment statuses");
        let total = deployments.len() as u64;
        for (i, deployment) in deployments.into_iter().enumerate() {
            observer.progress(i as u64 + 1, Some(total));
            let Some(id) = deployment.get("id").and_then(Json::as_u64) else {
                kept.push(deployment); // the parser says what is wrong with it
                continue;
            };
            let url = run.url(
                &["deployments", &id.to_string(), "statuses"],
                &[("per_page", PER_PAGE)],
            );
            let (statuses, _) = run
                .list(
                    "deployment statuses",
                    url.clone(),
                    None,
                    None,
                    &never,
                    false,
                )?
                .etag_or(None);
            let states: Vec<&str> = statuses
                .iter()
                .filter_map(|s| s.get("state").and_then(Json::as_str))
                .collect();
            let settled = states
                .iter()
                .any(|s| matches!(*s, "success" | "failure" | "error" | "inactive"));
            let recent = deployment
                .get("created_at")
                .and_then(Json::as_str)
                .and_then(|t| t.parse::<Timestamp>().ok())
                .is_none_or(|created| now.duration_since(created) < PENDING_FOR);
            if settled || !recent {
                kept.push(deployment);
                run.deliver(&url, statuses)?;
            } else {
                let environment = deployment
                    .get("environment")
                    .and_then(Json::as_str)
                    .unwrap_or("?");
                notes.push(format!(
                    "deployment {id} to {environment} is not finished yet ({}): it is read again on the next sync",
                    states.first().copied().unwrap_or("no status yet")
                ));
                pending.push(id);
            }
        }
        observer.end();
    }
    run.deliver(&url, kept)?;
    cursors.insert(
        "deployments".to_owned(),
        Cursor {
            etag,
            pending,
            ..Cursor::default()
        },
    );

    // Releases, newest first (deployments when the parser is told so, else noted and skipped).
    let old = cursor(saved, "releases");
    let url = run.url(&["releases"], &[("per_page", PER_PAGE)]);
    let (releases, etag) = run.fetch(
        "releases",
        &url,
        None,
        conditional(&old),
        &old,
        &older("created_at", cutoff(&old)),
    )?;
    run.deliver(&url, releases)?;
    cursors.insert("releases".to_owned(), Cursor::with_etag(etag));

    // Completed workflow runs, when some workflow's runs are deployments.
    if options.workflow_runs {
        let old = cursor(saved, "runs");
        let created = cutoff(&old).map(|c| format!(">={}", query_time(c - RUN_LOOKBACK)));
        let mut query = vec![("status", "completed"), ("per_page", PER_PAGE)];
        if let Some(created) = &created {
            query.push(("created", created));
        }
        let url = run.url(&["actions", "runs"], &query);
        let (runs, etag) = run.fetch(
            "workflow runs",
            &url,
            Some("workflow_runs"),
            conditional(&old),
            &old,
            &never,
        )?;
        run.deliver(&url, runs)?;
        cursors.insert("runs".to_owned(), Cursor::with_etag(etag));
    }

    // Incident issues, one label at a time (GitHub's `labels` means all of them).
    for label in labels(options) {
        let key = format!("issues:{label}");
        let old = cursor(saved, &key);
        let filters = [("labels", label.as_str()), ("state", "all")];
        let what = format!("issues labelled {label}");
        let cursor = run.since_list(
            &what,
            &["issues"],
            &filters,
            cutoff(&old),
            conditional(&old),
            &old,
        )?;
        cursors.insert(key, cursor);
    }

    let start = run.server_start.unwrap_or(local_start) - OVERLAP;
    let mut state = BTreeMap::new();
    for (key, mut c) in cursors {
        c.since = Some(start);
        let text = serde_json::to_string(&c).map_err(|e| SyncError::InvalidResponse {
            url: client.base().to_string(),
            problem: format!("cannot save the sync cursor {key}: {e}"),
        })?;
        state.insert(key, text);
    }
    Ok(Synced {
        deliveries: run.deliveries,
        state,
        fetched: run.fetched,
        notes,
        previous,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_owner_slash_name() {
        let repo: Repository = "octo-org/octo.repo_2".parse().expect("valid");
        assert_eq!(repo.to_string(), "octo-org/octo.repo_2");
        for bad in [
            "octo",
            "a/b/c",
            "/b",
            "a/",
            "a b/c",
            "a/..",
            "https://github.com/a/b",
        ] {
            assert!(bad.parse::<Repository>().is_err(), "{bad}");
        }
    }

    #[test]
    fn cursors_round_trip_and_unreadable_ones_start_over() {
        let c = Cursor {
            since: Some("2026-03-03T12:00:00Z".parse().expect("ts")),
            etag: Some("W/\"abc\"".to_owned()),
            pending: vec![7],
        };
        let mut saved = BTreeMap::new();
        saved.insert(
            "deployments".to_owned(),
            serde_json::to_string(&c).expect("json"),
        );
        saved.insert("pulls".to_owned(), "not json".to_owned());
        assert_eq!(cursor(&saved, "deployments"), c);
        assert_eq!(cursor(&saved, "pulls"), Cursor::default());
        assert_eq!(cursor(&saved, "releases"), Cursor::default());
    }

    #[test]
    fn labels_default_to_incident_and_repeat_once() {
        let options = |labels: &[&str]| SyncOptions {
            incident_labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            workflow_runs: false,
            from: ReadFrom::LastSync,
        };
        assert_eq!(labels(&options(&[])), ["incident"]);
        assert_eq!(
            labels(&options(&["Sev1", "sev1 ", "outage"])),
            ["sev1", "outage"]
        );
    }

    #[test]
    fn query_times_are_whole_seconds() {
        let t: Timestamp = "2026-03-03T12:00:00.75Z".parse().expect("ts");
        assert_eq!(query_time(t), "2026-03-03T12:00:00Z");
    }
}
