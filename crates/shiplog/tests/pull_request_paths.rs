//! End-to-end: the same pull requests and reviews imported by the real binary through GitHub's two
//! paths — webhook deliveries (`pull_request`, `pull_request_review`) and saved REST lists (pulls,
//! reviews) — into two real SQLite stores over the `merge-styles` fixture, which must end in the
//! same stored records and the same lead-time stages.
//!
//! The fixture's REST lists (`pulls.json`, `reviews.json`, written by
//! `tests/fixtures/merge-styles.sh`) are the base; each test changes them the way real histories
//! do, and derives the webhook deliveries from the same items.

mod common;

use std::path::{Path, PathBuf};

use common::{Fixture, num};
use serde_json::{Value, json};
use shiplog_core::PullRequest;
use shiplog_store::Store;
use shiplog_store_sqlite::SqliteStore;

const H: f64 = 3600.0;

fn read(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(fx: &Fixture, name: &str, value: &Value) -> String {
    let path = fx.dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
    path.to_str().expect("utf-8 path").to_owned()
}

/// The fixture's pulls and reviews lists.
fn lists(fx: &Fixture) -> (Vec<Value>, Vec<Value>) {
    let pulls = read(&fx.dir.path().join("pulls.json"));
    let reviews = read(&fx.dir.path().join("reviews.json"));
    (
        pulls.as_array().expect("pulls list").clone(),
        reviews.as_array().expect("reviews list").clone(),
    )
}

fn number_of(review: &Value) -> u64 {
    review["pull_request_url"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .and_then(|n| n.parse().ok())
        .expect("review of a numbered pull request")
}

/// Webhook deliveries carrying the same pull requests and reviews: one `pull_request` delivery
/// per pull request, one `pull_request_review` delivery per review (with its pull request).
fn webhooks(fx: &Fixture, pulls: &[Value], reviews: &[Value]) -> Vec<String> {
    let repository = json!({"full_name": "acme/shop", "name": "shop"});
    let mut files = Vec::new();
    for pr in pulls {
        let n = pr["number"].as_u64().expect("number");
        let payload =
            json!({"action": "closed", "number": n, "pull_request": pr, "repository": repository});
        files.push(write(fx, &format!("hook-pr-{n}.json"), &payload));
    }
    for (i, review) in reviews.iter().enumerate() {
        let n = number_of(review);
        let pr = pulls
            .iter()
            .find(|p| p["number"].as_u64() == Some(n))
            .expect("reviewed pull request");
        let payload = json!({
            "action": "submitted",
            "review": {"id": 900 + i, "user": review["user"], "state": review["state"],
                       "submitted_at": review["submitted_at"]},
            "pull_request": pr,
            "repository": repository,
        });
        files.push(write(fx, &format!("hook-review-{i}.json"), &payload));
    }
    files
}

fn db(fx: &Fixture, name: &str) -> PathBuf {
    fx.dir.path().join(name)
}

fn stored(path: &Path) -> Vec<PullRequest> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(path).await.expect("open store");
        let mut prs = store.pull_requests().await.expect("pull requests");
        store.close().await;
        prs.sort_by(|a, b| a.id.cmp(&b.id));
        prs
    })
}

/// Imports `files` into the store at `db`; returns stderr.
fn import(fx: &Fixture, db: &Path, files: &[String]) -> String {
    let mut args = vec!["--db", db.to_str().expect("utf-8"), "import"];
    args.extend(files.iter().map(String::as_str));
    fx.ok_stderr(&args)
}

fn stages(fx: &Fixture, db: &Path) -> Value {
    let m = fx.json(&[
        "--db",
        db.to_str().expect("utf-8"),
        "metrics",
        "--deploys",
        "tags",
        "--service",
        "shop",
        "--since",
        "2026-02-01",
        "--until",
        "2026-03-01",
        "--format",
        "json",
    ]);
    m["change_lead_time"]["stages"].clone()
}

/// Imports through both paths; asserts the same stored records and returns them, with the stages
/// of the REST store and both imports' stderr.
fn both_paths(
    fx: &Fixture,
    pulls: &[Value],
    reviews: &[Value],
) -> (Vec<PullRequest>, Value, [String; 2]) {
    let rest_db = db(fx, "rest.db");
    let hook_db = db(fx, "webhooks.db");
    let rest = import(
        fx,
        &rest_db,
        &[
            write(fx, "pulls-edited.json", &json!(pulls)),
            write(fx, "reviews-edited.json", &json!(reviews)),
        ],
    );
    let hooks = import(fx, &hook_db, &webhooks(fx, pulls, reviews));
    let from_rest = stored(&rest_db);
    let from_hooks = stored(&hook_db);
    assert_eq!(from_rest.len(), 5);
    // REST lists carry no additions/deletions and webhooks may; the fixture's items have none,
    // so the whole records must agree.
    assert_eq!(
        from_rest, from_hooks,
        "both import paths store the same records"
    );
    let rest_stages = stages(fx, &rest_db);
    assert_eq!(
        rest_stages,
        stages(fx, &hook_db),
        "both import paths give the same stages"
    );
    (from_rest, rest_stages, [rest, hooks])
}

fn pr(records: &[PullRequest], n: u64) -> &PullRequest {
    records
        .iter()
        .find(|p| p.number == Some(n))
        .expect("stored pull request")
}

fn ts(text: &str) -> jiff::Timestamp {
    text.parse().expect("timestamp")
}

#[test]
fn a_review_before_the_opening_keeps_the_opening_and_its_pickup_is_excluded_and_counted() {
    let fx = Fixture::build("merge-styles");
    let (pulls, mut reviews) = lists(&fx);
    // #1 opened Feb 1 14:00; a review dated an hour earlier (the REST list has it first, as
    // GitHub's reviews of a pull request re-opened from an older branch do).
    reviews.insert(
        0,
        json!({"pull_request_url": "https://api.github.com/repos/acme/shop/pulls/1",
               "submitted_at": "2026-02-01T13:00:00Z", "state": "COMMENTED",
               "user": {"login": "reviewer"}}),
    );
    let (records, stages, _) = both_paths(&fx, &pulls, &reviews);
    let one = pr(&records, 1);
    assert_eq!(
        one.opened_at,
        ts("2026-02-01T14:00:00Z"),
        "the opening stays"
    );
    assert_eq!(one.first_review_at, Some(ts("2026-02-01T13:00:00Z")));
    // Pickup: #1 is -1 h (excluded, counted); #2 2 h, #3 17 h remain. Review: #1 now runs from
    // 13:00 to Feb 2 08:00 = 19 h; #2 20 h, #3 1 h: median 19 h.
    assert_eq!(stages["pickup"]["count"], 2);
    assert_eq!(stages["pickup"]["excluded_negative"], 1);
    assert_eq!(num(&stages["pickup"]["median_seconds"]), 9.5 * H);
    assert_eq!(stages["review"]["count"], 3);
    assert_eq!(num(&stages["review"]["median_seconds"]), 19.0 * H);
    assert_eq!(stages["coding"]["count"], 5, "coding is unchanged");
}

#[test]
fn reviews_by_or_of_a_deleted_account_are_kept() {
    let fx = Fixture::build("merge-styles");
    let (mut pulls, mut reviews) = lists(&fx);
    // #4 (opened Feb 4 12:10) was written by an account since deleted: GitHub's `user` is null.
    // A reviewer's comment at 12:20 is its first review.
    pulls[3]["user"] = Value::Null;
    reviews.push(
        json!({"pull_request_url": "https://api.github.com/repos/acme/shop/pulls/4",
                        "submitted_at": "2026-02-04T12:20:00Z", "state": "APPROVED",
                        "user": {"login": "reviewer"}}),
    );
    // #3 (opened Feb 3 16:00): a review by a deleted account at 20:00, before the reviewer's
    // review of Feb 4 09:00.
    reviews.push(
        json!({"pull_request_url": "https://api.github.com/repos/acme/shop/pulls/3",
                        "submitted_at": "2026-02-03T20:00:00Z", "state": "COMMENTED",
                        "user": null}),
    );
    let (records, stages, stderr) = both_paths(&fx, &pulls, &reviews);
    assert_eq!(
        pr(&records, 4).first_review_at,
        Some(ts("2026-02-04T12:20:00Z"))
    );
    assert_eq!(
        pr(&records, 3).first_review_at,
        Some(ts("2026-02-03T20:00:00Z"))
    );
    for err in stderr {
        assert!(
            !err.contains("is not in this import"),
            "no false note about a missing pull request: {err}"
        );
    }
    // Pickup: #1 2 h, #2 2 h, #3 4 h, #4 10 min; sorted 600, 7200, 7200, 14400 s: median 2 h.
    assert_eq!(stages["pickup"]["count"], 4);
    assert_eq!(stages["pickup"]["excluded_negative"], 0);
    assert_eq!(num(&stages["pickup"]["median_seconds"]), 2.0 * H);
    // The author's own review of #2 (13:00) still does not count on either path.
    assert_eq!(
        pr(&records, 2).first_review_at,
        Some(ts("2026-02-02T14:00:00Z"))
    );
}
