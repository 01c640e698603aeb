//! The [`Store`] contract in executable form: tests every backend runs against a real database.
//!
//! A backend's integration test calls [`run_all`] with a function that makes a fresh, empty store
//! for each test. Every test takes `&dyn Store` and panics with a message saying what broke; each can
//! also be called on its own.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use jiff::Timestamp;
use shiplog_core::{
    Capability, CapabilityAnswer, Deployment, DeploymentId, DeploymentSource, DeploymentStatus,
    Environment, Incident, IncidentId, PracticeChange, PracticeName, PracticeScope, PullRequest,
    PullRequestId, Recorder, RepositoryName, ServiceName, Sha, TeamName,
};

use crate::{
    ApplySummary, EventBatch, HistorySegment, HistorySeqError, HypothesisVersionError,
    NoSuchExperiment, Store, StoreError, WriteCounts,
};
use shiplog_core::experiment::{
    ComparisonPlan, Expectation, Experiment, Hypothesis, Outcome, Review,
};

/// Runs every test of the suite, each against a fresh, empty store made by `make`.
///
/// `make` receives the test's name (usable to name a database, a schema or a file) and must
/// return a store holding nothing. A test that fails panics; its name is printed before it runs.
pub async fn run_all<F, Fut>(mut make: F)
where
    F: FnMut(&'static str) -> Fut,
    Fut: Future<Output = Box<dyn Store>>,
{
    macro_rules! run {
        ($($test:ident),* $(,)?) => {$(
            eprintln!("shiplog-store testsuite: {}", stringify!($test));
            let store = make(stringify!($test)).await;
            $test(store.as_ref()).await;
            drop(store);
        )*};
    }
    run!(
        store_is_usable_as_a_trait_object,
        new_store_is_empty,
        apply_inserts_and_reads_back_exactly,
        empty_batch_changes_nothing,
        reapplying_a_batch_changes_nothing,
        every_changed_field_counts_as_updated,
        mixed_batch_counts_are_exact,
        later_record_wins_within_a_batch,
        large_batch_round_trips,
        history_of_unknown_repository_is_empty,
        history_appends_in_order,
        history_rejects_out_of_order_segments,
        replace_history_replaces_everything,
        replace_history_rejects_out_of_order_segments,
        repositories_are_independent,
        concurrent_writers_are_serialized,
        practice_changes_round_trip,
        practice_changes_update_by_name,
        pull_requests_round_trip,
        pull_requests_update_by_id,
        sync_state_is_saved_with_the_records_per_scope,
        assessments_keep_each_day,
        experiments_are_append_only,
    );
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// 2024-03-01T10:00:00Z in unix microseconds.
const T0: i64 = 1_709_287_200_000_000;
const SECOND: i64 = 1_000_000;

fn ts(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros)
        .unwrap_or_else(|e| panic!("testsuite fixture: bad timestamp {micros}: {e}"))
}

fn did(text: &str) -> DeploymentId {
    DeploymentId::new(text).unwrap_or_else(|e| panic!("testsuite fixture: {e}"))
}

fn iid(text: &str) -> IncidentId {
    IncidentId::new(text).unwrap_or_else(|e| panic!("testsuite fixture: {e}"))
}

fn service(text: &str) -> ServiceName {
    ServiceName::new(text).unwrap_or_else(|e| panic!("testsuite fixture: {e}"))
}

fn env(text: &str) -> Environment {
    Environment::new(text).unwrap_or_else(|e| panic!("testsuite fixture: {e}"))
}

/// A sha whose hex form holds both digits and letters.
fn sha(n: u32) -> Sha {
    let mut bytes = [0u8; 20];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (n as u8)
            .wrapping_mul(31)
            .wrapping_add((i as u8).wrapping_mul(0x9d))
            ^ 0xa5;
    }
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    Sha::from_bytes(bytes)
}

fn deployment(id: &str, finished_at: i64) -> Deployment {
    Deployment {
        id: did(id),
        service: service("api"),
        environment: Environment::production(),
        sha: sha(1),
        finished_at: ts(finished_at),
        started_at: None,
        status: DeploymentStatus::Success,
        unplanned: false,
        source: DeploymentSource::Recorded,
        recorded_by: None,
    }
}

fn incident(id: &str, opened_at: i64) -> Incident {
    Incident {
        id: iid(id),
        service: service("api"),
        environment: Environment::production(),
        opened_at: ts(opened_at),
        resolved_at: None,
        deployment_id: None,
        sha: None,
        title: None,
        duplicate_of: None,
    }
}

/// Deployments covering every status, source and optional field, with sub-second timestamps, a
/// timestamp before 1970, and ties on `finished_at` broken by id (in byte order: `D` < `d`,
/// `d-10` < `d-9`). Not sorted.
pub fn sample_deployments() -> Vec<Deployment> {
    let tie = T0 + 86_400 * SECOND + 7;
    vec![
        Deployment {
            started_at: Some(ts(T0 - 300 * SECOND + 7)),
            recorded_by: Some(Recorder::Ci {
                system: Some("github-actions".to_owned()),
            }),
            sha: sha(1),
            ..deployment("d-1", T0 + 123_456)
        },
        Deployment {
            status: DeploymentStatus::Failure,
            source: DeploymentSource::Imported,
            recorded_by: Some(Recorder::Manual),
            sha: sha(2),
            ..deployment("d-2", T0 + 60 * SECOND + 1)
        },
        Deployment {
            unplanned: true,
            source: DeploymentSource::GitTag,
            recorded_by: None,
            sha: sha(3),
            ..deployment("tag/v1.2.0", T0 + 3_600 * SECOND + 999_999)
        },
        Deployment {
            service: service("payments/worker"),
            environment: env("staging"),
            started_at: Some(ts(T0 + 7_100 * SECOND + 500_001)),
            source: DeploymentSource::GitMerge,
            recorded_by: None,
            sha: sha(4),
            ..deployment("merge:abc", T0 + 7_200 * SECOND + 500_000)
        },
        Deployment {
            recorded_by: Some(Recorder::Ci { system: None }),
            sha: sha(5),
            ..deployment("d-9", tie)
        },
        Deployment {
            service: service("web"),
            sha: sha(6),
            ..deployment("d-10", tie)
        },
        Deployment {
            service: service("payments/worker"),
            unplanned: true,
            status: DeploymentStatus::Failure,
            sha: sha(7),
            ..deployment("D-1", tie)
        },
        Deployment {
            started_at: Some(ts(-1_000_001)),
            sha: sha(8),
            ..deployment("old-1", -1)
        },
    ]
}

/// Incidents covering every optional field (including an empty title, distinct from none), a
/// non-production environment, a deployment id that names no stored deployment, and ties on
/// `opened_at` broken by id. Not sorted.
pub fn sample_incidents() -> Vec<Incident> {
    let tie = T0 + 100 * SECOND + 250_000;
    vec![
        Incident {
            resolved_at: Some(ts(T0 + 200 * SECOND + 1)),
            deployment_id: Some(did("d-1")),
            title: Some("Checkout \"errors\"; 'quoted' — ünïcode ✓".to_owned()),
            ..incident("inc-1", tie)
        },
        Incident {
            environment: env("staging"),
            sha: Some(sha(2)),
            deployment_id: Some(did("d-404")),
            duplicate_of: Some(iid("pagerduty:PXYZ123")),
            ..incident("inc-2", T0 + 50 * SECOND + 500_000)
        },
        Incident {
            service: service("payments/worker"),
            resolved_at: Some(ts(T0 + 9_000 * SECOND + 999_999)),
            deployment_id: Some(did("tag/v1.2.0")),
            sha: Some(sha(3)),
            title: Some(String::new()),
            ..incident("inc-3", tie)
        },
        Incident {
            title: Some("latency".to_owned()),
            ..incident("INC-0", tie)
        },
        Incident {
            resolved_at: Some(ts(-3)),
            ..incident("old-inc", -5)
        },
    ]
}

fn sample_batch() -> EventBatch {
    EventBatch {
        deployments: sample_deployments(),
        incidents: sample_incidents(),
        practice_changes: vec![],
        pull_requests: vec![],
    }
}

fn sorted_deployments(mut list: Vec<Deployment>) -> Vec<Deployment> {
    list.sort_by(|a, b| (a.finished_at, &a.id).cmp(&(b.finished_at, &b.id)));
    list
}

fn sorted_incidents(mut list: Vec<Incident>) -> Vec<Incident> {
    list.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
    list
}

fn counts(inserted: u64, updated: u64, unchanged: u64) -> WriteCounts {
    WriteCounts {
        inserted,
        updated,
        unchanged,
    }
}

fn summary(deployments: WriteCounts, incidents: WriteCounts) -> ApplySummary {
    ApplySummary {
        deployments,
        incidents,
        practice_changes: WriteCounts::default(),
        pull_requests: WriteCounts::default(),
    }
}

/// Deterministic pseudo-random bytes (splitmix64).
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn segment(seq: i64, commits: i64, data: Vec<u8>) -> HistorySegment {
    HistorySegment {
        seq,
        commits,
        data: data.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers that panic with a clear message
// ---------------------------------------------------------------------------------------------

fn ok<T>(result: Result<T, StoreError>, doing: &str) -> T {
    result.unwrap_or_else(|e| panic!("{doing} failed: {e} ({e:?})"))
}

/// Compares two lists item by item, naming the first difference.
fn assert_list<T: Debug + PartialEq>(what: &str, got: &[T], expected: &[T]) {
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            g == e,
            "{what}: item {i} differs\n     got: {g:?}\nexpected: {e:?}"
        );
    }
    assert!(
        got.len() == expected.len(),
        "{what}: got {} items, expected {}\n     got: {got:#?}\nexpected: {expected:#?}",
        got.len(),
        expected.len()
    );
}

/// Compares history segments without printing megabytes of data.
fn assert_history(what: &str, got: &[HistorySegment], expected: &[HistorySegment]) {
    let brief = |list: &[HistorySegment]| {
        list.iter()
            .map(|s| {
                format!(
                    "(seq {}, {} commits, {} bytes)",
                    s.seq,
                    s.commits,
                    s.data.len()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    assert!(
        got.len() == expected.len(),
        "{what}: got {} segments [{}], expected {} [{}]",
        got.len(),
        brief(got),
        expected.len(),
        brief(expected)
    );
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            g.seq == e.seq && g.commits == e.commits,
            "{what}: segment {i} is (seq {}, {} commits), expected (seq {}, {} commits)",
            g.seq,
            g.commits,
            e.seq,
            e.commits
        );
        if g.data != e.data {
            let first = g
                .data
                .iter()
                .zip(&e.data)
                .position(|(a, b)| a != b)
                .unwrap_or(g.data.len().min(e.data.len()));
            panic!(
                "{what}: segment {i} (seq {}) data differs: got {} bytes, expected {}, first difference at byte {first}",
                g.seq,
                g.data.len(),
                e.data.len()
            );
        }
    }
}

async fn assert_events(
    store: &dyn Store,
    what: &str,
    deployments: &[Deployment],
    incidents: &[Incident],
) {
    let got = ok(store.deployments().await, "reading deployments");
    assert_list(
        &format!("{what}: deployments (ordered by finished_at, then id in byte order)"),
        &got,
        &sorted_deployments(deployments.to_vec()),
    );
    let got = ok(store.incidents().await, "reading incidents");
    assert_list(
        &format!("{what}: incidents (ordered by opened_at, then id in byte order)"),
        &got,
        &sorted_incidents(incidents.to_vec()),
    );
}

async fn assert_stored_history(
    store: &dyn Store,
    repository: &str,
    what: &str,
    expected: &[HistorySegment],
) {
    let got = ok(
        store.history(repository).await,
        &format!("reading the history of {repository:?}"),
    );
    assert_history(
        &format!("{what}: history of {repository:?}"),
        &got,
        expected,
    );
}

/// Asserts that `result` is the refusal of an out-of-order segment.
fn assert_seq_error(result: Result<(), StoreError>, repository: &str, expected: i64, found: i64) {
    let what = format!(
        "writing segment seq {found} to the history of {repository:?} (expected seq {expected})"
    );
    match result {
        Ok(()) => panic!("{what} succeeded; it must fail with a HistorySeqError"),
        Err(StoreError::Query { source, .. }) => {
            let Some(err) = source.downcast_ref::<HistorySeqError>() else {
                panic!(
                    "{what} failed with a query error whose source is not a HistorySeqError: {source}"
                )
            };
            let want = HistorySeqError {
                repository: repository.to_owned(),
                expected,
                found,
            };
            assert!(*err == want, "{what}: got {err:?}, expected {want:?}");
        }
        Err(other) => panic!(
            "{what} failed with {other:?}; expected StoreError::Query with a HistorySeqError source"
        ),
    }
}

/// Polls two futures concurrently (no runtime needed) and returns both outputs.
async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let mut out_a = None;
    let mut out_b = None;
    poll_fn(|cx| {
        if out_a.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            out_a = Some(v);
        }
        if out_b.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            out_b = Some(v);
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    match (out_a, out_b) {
        (Some(a), Some(b)) => (a, b),
        _ => unreachable!("join2 finished with both outputs"),
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

fn assert_send_sync<T: ?Sized + Send + Sync>() {}
fn assert_send<T: Send>(_: &T) {}

/// `Store` works as `&dyn Store`, `Box<dyn Store>` and `Arc<dyn Store>`, and its futures are `Send`
/// (so a server can hold one store and use it from spawned tasks).
pub async fn store_is_usable_as_a_trait_object(store: &dyn Store) {
    assert_send_sync::<dyn Store>();
    assert_send_sync::<Box<dyn Store>>();
    assert_send_sync::<Arc<dyn Store>>();
    let batch = EventBatch::default();
    let apply = store.apply(&batch);
    assert_send(&apply);
    ok(apply.await, "applying an empty batch");
    let history = store.history("repo");
    assert_send(&history);
    ok(history.await, "reading history");
    let boxed: Box<&dyn Store> = Box::new(store);
    ok(
        boxed.deployments().await,
        "reading deployments through a box",
    );
}

/// A fresh store holds nothing.
pub async fn new_store_is_empty(store: &dyn Store) {
    assert_events(store, "a new store", &[], &[]).await;
    assert_stored_history(store, "repo", "a new store", &[]).await;
}

/// Every field of every kind of record is read back exactly, in order.
pub async fn apply_inserts_and_reads_back_exactly(store: &dyn Store) {
    let batch = sample_batch();
    let got = ok(store.apply(&batch).await, "applying the sample batch");
    let n_d = batch.deployments.len() as u64;
    let n_i = batch.incidents.len() as u64;
    assert_eq!(
        got,
        summary(counts(n_d, 0, 0), counts(n_i, 0, 0)),
        "applying {n_d} new deployments and {n_i} new incidents must count them all as inserted"
    );
    assert_events(
        store,
        "after applying the sample batch",
        &batch.deployments,
        &batch.incidents,
    )
    .await;
}

/// An empty batch succeeds, counts nothing and changes nothing.
pub async fn empty_batch_changes_nothing(store: &dyn Store) {
    let got = ok(
        store.apply(&EventBatch::default()).await,
        "applying an empty batch",
    );
    assert_eq!(
        got,
        ApplySummary::default(),
        "an empty batch must count nothing"
    );
    assert_events(store, "after an empty batch on an empty store", &[], &[]).await;

    let batch = sample_batch();
    ok(store.apply(&batch).await, "applying the sample batch");
    let got = ok(
        store.apply(&EventBatch::default()).await,
        "applying an empty batch",
    );
    assert_eq!(
        got,
        ApplySummary::default(),
        "an empty batch must count nothing"
    );
    assert_events(
        store,
        "after an empty batch",
        &batch.deployments,
        &batch.incidents,
    )
    .await;
}

/// Applying the same records again (in any order) counts them all unchanged and changes nothing.
pub async fn reapplying_a_batch_changes_nothing(store: &dyn Store) {
    let batch = sample_batch();
    ok(store.apply(&batch).await, "applying the sample batch");
    let n_d = batch.deployments.len() as u64;
    let n_i = batch.incidents.len() as u64;
    let got = ok(store.apply(&batch).await, "applying the sample batch again");
    assert_eq!(
        got,
        summary(counts(0, 0, n_d), counts(0, 0, n_i)),
        "applying the same batch again must count every record as unchanged"
    );
    let mut reversed = batch.clone();
    reversed.deployments.reverse();
    reversed.incidents.reverse();
    let got = ok(
        store.apply(&reversed).await,
        "applying the sample batch reversed",
    );
    assert_eq!(
        got,
        summary(counts(0, 0, n_d), counts(0, 0, n_i)),
        "applying the same records in another order must count every record as unchanged"
    );
    assert_events(
        store,
        "after re-applying",
        &batch.deployments,
        &batch.incidents,
    )
    .await;
}

type DeploymentChange = (&'static str, &'static str, fn(&mut Deployment));
type IncidentChange = (&'static str, &'static str, fn(&mut Incident));

/// A change to any single field (down to one microsecond, or an empty title becoming none) is an
/// update, and the new value is what is read back.
pub async fn every_changed_field_counts_as_updated(store: &dyn Store) {
    let batch = sample_batch();
    ok(store.apply(&batch).await, "applying the sample batch");
    let mut deployments: BTreeMap<DeploymentId, Deployment> = batch
        .deployments
        .iter()
        .map(|d| (d.id.clone(), d.clone()))
        .collect();
    let mut incidents: BTreeMap<IncidentId, Incident> = batch
        .incidents
        .iter()
        .map(|i| (i.id.clone(), i.clone()))
        .collect();

    let deployment_changes: &[DeploymentChange] = &[
        ("service", "d-1", |d| d.service = service("api-v2")),
        ("environment", "d-1", |d| d.environment = env("staging")),
        ("sha", "d-1", |d| d.sha = sha(99)),
        ("finished_at by 1µs", "d-2", |d| {
            d.finished_at = ts(d.finished_at.as_microsecond() + 1)
        }),
        ("started_at None -> Some", "d-2", |d| {
            d.started_at = Some(ts(T0 + 59 * SECOND + 3))
        }),
        ("started_at by 1µs", "d-2", |d| {
            d.started_at = d.started_at.map(|t| ts(t.as_microsecond() - 1))
        }),
        ("started_at Some -> None", "merge:abc", |d| {
            d.started_at = None
        }),
        ("status failure -> success", "d-2", |d| {
            d.status = DeploymentStatus::Success
        }),
        ("status success -> failure", "d-9", |d| {
            d.status = DeploymentStatus::Failure
        }),
        ("unplanned false -> true", "d-9", |d| d.unplanned = true),
        ("unplanned true -> false", "tag/v1.2.0", |d| {
            d.unplanned = false
        }),
        ("source", "d-10", |d| d.source = DeploymentSource::GitMerge),
        ("recorded_by None -> manual", "d-10", |d| {
            d.recorded_by = Some(Recorder::Manual)
        }),
        ("recorded_by ci:system -> ci", "d-1", |d| {
            d.recorded_by = Some(Recorder::Ci { system: None })
        }),
        ("recorded_by ci -> None", "d-9", |d| d.recorded_by = None),
    ];
    for (what, id, change) in deployment_changes {
        let mut record = deployments[&did(id)].clone();
        change(&mut record);
        let got = ok(
            store
                .apply(&EventBatch {
                    deployments: vec![record.clone()],
                    incidents: vec![],
                    practice_changes: vec![],
                    pull_requests: vec![],
                })
                .await,
            &format!("applying deployment {id} with a changed {what}"),
        );
        assert_eq!(
            got,
            summary(counts(0, 1, 0), counts(0, 0, 0)),
            "applying deployment {id} with a changed {what} must count one update"
        );
        deployments.insert(record.id.clone(), record);
        let expected: Vec<_> = deployments.values().cloned().collect();
        assert_events(
            store,
            &format!("after changing deployment {id}'s {what}"),
            &expected,
            &incidents.values().cloned().collect::<Vec<_>>(),
        )
        .await;
    }

    let incident_changes: &[IncidentChange] = &[
        ("service", "inc-2", |i| i.service = service("web")),
        ("environment", "inc-2", |i| {
            i.environment = Environment::production()
        }),
        ("opened_at by 1µs", "inc-1", |i| {
            i.opened_at = ts(i.opened_at.as_microsecond() + 1)
        }),
        ("resolved_at None -> Some (resolved)", "inc-2", |i| {
            i.resolved_at = Some(ts(T0 + 4_000 * SECOND + 654_321))
        }),
        ("resolved_at by 1µs", "inc-2", |i| {
            i.resolved_at = i.resolved_at.map(|t| ts(t.as_microsecond() + 1))
        }),
        ("resolved_at Some -> None (reopened)", "inc-3", |i| {
            i.resolved_at = None
        }),
        ("deployment_id None -> Some", "INC-0", |i| {
            i.deployment_id = Some(did("d-2"))
        }),
        ("deployment_id to another", "INC-0", |i| {
            i.deployment_id = Some(did("d-10"))
        }),
        ("deployment_id Some -> None", "inc-1", |i| {
            i.deployment_id = None
        }),
        ("sha None -> Some", "inc-1", |i| i.sha = Some(sha(42))),
        ("sha to another", "inc-1", |i| i.sha = Some(sha(43))),
        ("sha Some -> None", "inc-3", |i| i.sha = None),
        ("title None -> Some", "inc-2", |i| {
            i.title = Some("now titled".to_owned())
        }),
        ("title to another", "inc-2", |i| {
            i.title = Some("now titled!".to_owned())
        }),
        ("title empty -> None", "inc-3", |i| i.title = None),
        ("title None -> empty", "inc-3", |i| {
            i.title = Some(String::new())
        }),
        ("duplicate_of None -> Some", "inc-1", |i| {
            i.duplicate_of = Some(iid("pagerduty:P1"))
        }),
        ("duplicate_of to another", "inc-1", |i| {
            i.duplicate_of = Some(iid("inc-3"))
        }),
        ("duplicate_of Some -> None", "inc-2", |i| {
            i.duplicate_of = None
        }),
    ];
    for (what, id, change) in incident_changes {
        let mut record = incidents[&iid(id)].clone();
        change(&mut record);
        let got = ok(
            store
                .apply(&EventBatch {
                    deployments: vec![],
                    incidents: vec![record.clone()],
                    practice_changes: vec![],
                    pull_requests: vec![],
                })
                .await,
            &format!("applying incident {id} with a changed {what}"),
        );
        assert_eq!(
            got,
            summary(counts(0, 0, 0), counts(0, 1, 0)),
            "applying incident {id} with a changed {what} must count one update"
        );
        incidents.insert(record.id.clone(), record);
        assert_events(
            store,
            &format!("after changing incident {id}'s {what}"),
            &deployments.values().cloned().collect::<Vec<_>>(),
            &incidents.values().cloned().collect::<Vec<_>>(),
        )
        .await;
    }
}

/// A batch mixing new, changed and identical records counts each exactly.
pub async fn mixed_batch_counts_are_exact(store: &dyn Store) {
    let batch = sample_batch();
    ok(store.apply(&batch).await, "applying the sample batch");

    let mut deployments = batch.deployments.clone();
    let mut incidents = batch.incidents.clone();
    // d-2 failed, then was redeployed successfully under the same id; inc-2 got resolved.
    deployments[1].status = DeploymentStatus::Success;
    deployments[1].started_at = Some(ts(T0 + 30 * SECOND + 5));
    incidents[1].resolved_at = Some(ts(T0 + 3_000 * SECOND + 17));
    incidents[3].title = Some("latency (p99)".to_owned());
    let new_deployments = vec![
        Deployment {
            unplanned: true,
            sha: sha(50),
            ..deployment("hotfix-1", T0 + 10 * SECOND + 314_159)
        },
        Deployment {
            environment: env("staging"),
            sha: sha(51),
            ..deployment("d-3", T0 + 20 * SECOND + 1)
        },
    ];
    let new_incidents = vec![incident("inc-4", T0 + 11 * SECOND + 999_999)];

    let change = EventBatch {
        deployments: vec![
            new_deployments[0].clone(),
            deployments[0].clone(),
            deployments[1].clone(),
            new_deployments[1].clone(),
            deployments[2].clone(),
        ],
        incidents: vec![
            incidents[1].clone(),
            incidents[0].clone(),
            new_incidents[0].clone(),
            incidents[3].clone(),
        ],
        practice_changes: vec![],
        pull_requests: vec![],
    };
    let got = ok(store.apply(&change).await, "applying a mixed batch");
    assert_eq!(
        got,
        summary(counts(2, 1, 2), counts(1, 2, 1)),
        "a mixed batch: deployments 2 new, 1 changed, 2 identical; incidents 1 new, 2 changed, 1 identical"
    );
    deployments.extend(new_deployments);
    incidents.extend(new_incidents);
    assert_events(store, "after a mixed batch", &deployments, &incidents).await;
}

/// An id twice in one batch: records are counted in order and the later one wins.
pub async fn later_record_wins_within_a_batch(store: &dyn Store) {
    let v1 = deployment("dup", T0 + 1);
    let v2 = Deployment {
        status: DeploymentStatus::Failure,
        sha: sha(9),
        ..deployment("dup", T0 + 2)
    };
    let v3 = Deployment {
        unplanned: true,
        ..v2.clone()
    };
    let open = incident("inc-dup", T0 + 5);
    let resolved = Incident {
        resolved_at: Some(ts(T0 + 900 * SECOND + 123)),
        ..open.clone()
    };
    let same = deployment("same", T0 + 3);

    let got = ok(
        store
            .apply(&EventBatch {
                deployments: vec![v1.clone(), same.clone(), v2.clone(), same.clone()],
                incidents: vec![open.clone(), resolved.clone()],
                practice_changes: vec![],
                pull_requests: vec![],
            })
            .await,
        "applying a batch holding ids twice",
    );
    assert_eq!(
        got,
        summary(counts(2, 1, 1), counts(1, 1, 0)),
        "a batch [dup v1, same, dup v2, same] / [inc open, inc resolved] on an empty store: \
         the second occurrence of an id compares with the first"
    );
    assert_events(
        store,
        "after a batch holding ids twice",
        &[v2.clone(), same.clone()],
        std::slice::from_ref(&resolved),
    )
    .await;

    // v2 is stored: v2 is unchanged, v3 an update, v2 again an update back.
    let got = ok(
        store
            .apply(&EventBatch {
                deployments: vec![v2.clone(), v3.clone(), v2.clone()],
                incidents: vec![open.clone()],
                practice_changes: vec![],
                pull_requests: vec![],
            })
            .await,
        "applying [v2, v3, v2]",
    );
    assert_eq!(
        got,
        summary(counts(0, 2, 1), counts(0, 1, 0)),
        "applying [dup v2, dup v3, dup v2] over v2 (and reopening the incident)"
    );
    assert_events(
        store,
        "after [v2, v3, v2]",
        &[v2.clone(), same.clone()],
        std::slice::from_ref(&open),
    )
    .await;

    let got = ok(
        store
            .apply(&EventBatch {
                deployments: vec![v1.clone(), v3.clone()],
                incidents: vec![],
                practice_changes: vec![],
                pull_requests: vec![],
            })
            .await,
        "applying [v1, v3]",
    );
    assert_eq!(got, summary(counts(0, 2, 0), counts(0, 0, 0)));
    assert_events(
        store,
        "after [v1, v3]",
        &[v3, same],
        std::slice::from_ref(&open),
    )
    .await;
}

fn large_deployments(n: u32, variant: u32) -> Vec<Deployment> {
    (0..n)
        .map(|i| {
            let changed = variant > 0 && i % 2 == 0;
            Deployment {
                id: did(&format!("bulk-{i:05}")),
                service: service(["api", "web", "payments/worker"][(i % 3) as usize]),
                environment: if i % 5 == 0 {
                    env("staging")
                } else {
                    Environment::production()
                },
                sha: sha(i),
                // Not in id order, with ties on finished_at.
                finished_at: ts(T0
                    + i64::from((i * 7_919) % n) * 13 * SECOND / 10
                    + i64::from(i % 3)),
                started_at: (i % 4 != 0).then(|| ts(T0 - i64::from(i) * SECOND + 1)),
                status: if i % 11 == 0 {
                    DeploymentStatus::Failure
                } else {
                    DeploymentStatus::Success
                },
                unplanned: if changed { i % 7 != 0 } else { i % 7 == 0 },
                source: [
                    DeploymentSource::Recorded,
                    DeploymentSource::Imported,
                    DeploymentSource::GitTag,
                    DeploymentSource::GitMerge,
                ][(i % 4) as usize],
                recorded_by: match i % 3 {
                    0 => None,
                    1 => Some(Recorder::Manual),
                    _ => Some(Recorder::Ci {
                        system: Some("buildkite".to_owned()),
                    }),
                },
            }
        })
        .collect()
}

/// 10,000 deployments and 2,000 incidents in one batch: exact counts, exact read-back, and exact
/// counts when half of them change.
pub async fn large_batch_round_trips(store: &dyn Store) {
    let deployments = large_deployments(10_000, 0);
    let incidents: Vec<Incident> = (0..2_000u32)
        .map(|i| Incident {
            resolved_at: (i % 2 == 0).then(|| ts(T0 + i64::from(i) * 3 * SECOND + 17)),
            deployment_id: (i % 3 == 0).then(|| did(&format!("bulk-{:05}", i * 5))),
            title: (i % 4 == 0).then(|| format!("incident number {i}")),
            ..incident(
                &format!("bulk-inc-{i:04}"),
                T0 + i64::from(i % 500) * SECOND,
            )
        })
        .collect();
    let batch = EventBatch {
        deployments,
        incidents,
        practice_changes: vec![],
        pull_requests: vec![],
    };
    let got = ok(store.apply(&batch).await, "applying 10,000 deployments");
    assert_eq!(
        got,
        summary(counts(10_000, 0, 0), counts(2_000, 0, 0)),
        "a large batch of new records"
    );
    assert_events(
        store,
        "after a large batch",
        &batch.deployments,
        &batch.incidents,
    )
    .await;

    let got = ok(store.apply(&batch).await, "re-applying a large batch");
    assert_eq!(
        got,
        summary(counts(0, 0, 10_000), counts(0, 0, 2_000)),
        "re-applying a large batch"
    );

    let changed = EventBatch {
        deployments: large_deployments(10_000, 1),
        incidents: vec![],
        practice_changes: vec![],
        pull_requests: vec![],
    };
    let got = ok(
        store.apply(&changed).await,
        "applying a large batch, half changed",
    );
    assert_eq!(
        got,
        summary(counts(0, 5_000, 5_000), counts(0, 0, 0)),
        "a large batch where every second deployment changed"
    );
    assert_events(
        store,
        "after a large batch, half changed",
        &changed.deployments,
        &batch.incidents,
    )
    .await;
}

/// The history of a repository never written is empty, not an error.
pub async fn history_of_unknown_repository_is_empty(store: &dyn Store) {
    assert_stored_history(store, "never-written", "an unknown repository", &[]).await;
    ok(
        store.append_history("other", &segment(0, 1, vec![1])).await,
        "appending to another repository",
    );
    assert_stored_history(store, "never-written", "an unknown repository", &[]).await;
}

/// Segments 0, 1, 2 are read back in order with their exact bytes, including an empty one and an
/// 8 MiB one.
pub async fn history_appends_in_order(store: &dyn Store) {
    let repo = "/srv/git/shiplog.git";
    let segments = [
        segment(0, 1_234, pseudo_random_bytes(100_003, 1)),
        segment(1, 0, Vec::new()),
        segment(2, 250_000, pseudo_random_bytes(8 * 1024 * 1024, 2)),
        segment(3, 7, (0..=255u8).collect()),
    ];
    for (i, s) in segments.iter().enumerate() {
        ok(
            store.append_history(repo, s).await,
            &format!(
                "appending segment seq {} ({} bytes) to the history",
                s.seq,
                s.data.len()
            ),
        );
        assert_stored_history(
            store,
            repo,
            &format!("after appending seq {}", s.seq),
            &segments[..=i],
        )
        .await;
    }
}

/// A segment whose `seq` is not one past the last is refused, and nothing changes.
pub async fn history_rejects_out_of_order_segments(store: &dyn Store) {
    let repo = "repo";
    assert_seq_error(
        store.append_history(repo, &segment(1, 1, vec![1])).await,
        repo,
        0,
        1,
    );
    assert_seq_error(
        store.append_history(repo, &segment(-1, 1, vec![1])).await,
        repo,
        0,
        -1,
    );
    assert_stored_history(
        store,
        repo,
        "after refused appends to an empty history",
        &[],
    )
    .await;

    let first = vec![
        segment(0, 10, pseudo_random_bytes(1_000, 3)),
        segment(1, 20, pseudo_random_bytes(2_000, 4)),
    ];
    for s in &first {
        ok(store.append_history(repo, s).await, "appending a segment");
    }
    for bad in [0, 1, 3, 100, -1] {
        assert_seq_error(
            store
                .append_history(repo, &segment(bad, 99, vec![0xff; 10]))
                .await,
            repo,
            2,
            bad,
        );
        assert_stored_history(
            store,
            repo,
            &format!("after a refused append of seq {bad}"),
            &first,
        )
        .await;
    }
    let next = segment(2, 30, pseudo_random_bytes(3_000, 5));
    ok(
        store.append_history(repo, &next).await,
        "appending seq 2 after refused appends",
    );
    let mut all = first;
    all.push(next);
    assert_stored_history(store, repo, "after appending seq 2", &all).await;
}

/// `replace_history` replaces every segment (with fewer, more, or none), and appending continues
/// after the replacement.
pub async fn replace_history_replaces_everything(store: &dyn Store) {
    let repo = "https://example.com/org/repo.git";
    for s in 0..4 {
        ok(
            store
                .append_history(repo, &segment(s, s, pseudo_random_bytes(500, s as u64)))
                .await,
            "appending a segment",
        );
    }
    let fewer = vec![
        segment(0, 1_000, pseudo_random_bytes(3 * 1024 * 1024, 10)),
        segment(1, 1, vec![7]),
    ];
    ok(
        store.replace_history(repo, &fewer).await,
        "replacing 4 segments with 2",
    );
    assert_stored_history(store, repo, "after replacing 4 segments with 2", &fewer).await;

    let more: Vec<_> = (0..5)
        .map(|s| {
            segment(
                s,
                100 + s,
                pseudo_random_bytes(1_000 + s as usize, 20 + s as u64),
            )
        })
        .collect();
    ok(
        store.replace_history(repo, &more).await,
        "replacing 2 segments with 5",
    );
    assert_stored_history(store, repo, "after replacing 2 segments with 5", &more).await;

    let next = segment(5, 1, vec![5; 5]);
    ok(
        store.append_history(repo, &next).await,
        "appending seq 5 after a replacement",
    );
    let mut all = more;
    all.push(next);
    assert_stored_history(store, repo, "after appending to a replaced history", &all).await;

    ok(
        store.replace_history(repo, &[]).await,
        "replacing with nothing",
    );
    assert_stored_history(store, repo, "after replacing with nothing", &[]).await;
    assert_seq_error(
        store.append_history(repo, &segment(6, 1, vec![])).await,
        repo,
        0,
        6,
    );
    let first = segment(0, 3, vec![1, 2, 3]);
    ok(
        store.append_history(repo, &first).await,
        "appending seq 0 to a cleared history",
    );
    assert_stored_history(
        store,
        repo,
        "after appending to a cleared history",
        &[first],
    )
    .await;

    ok(
        store
            .replace_history("fresh", &[segment(0, 1, vec![9])])
            .await,
        "replacing the history of a repository never written",
    );
    assert_stored_history(
        store,
        "fresh",
        "after replacing a new repository's history",
        &[segment(0, 1, vec![9])],
    )
    .await;
}

/// `replace_history` with `seq`s other than 0, 1, 2, ... is refused and changes nothing.
pub async fn replace_history_rejects_out_of_order_segments(store: &dyn Store) {
    let repo = "repo";
    let stored = vec![segment(0, 1, vec![1]), segment(1, 2, vec![2, 2])];
    ok(
        store.replace_history(repo, &stored).await,
        "replacing with seq 0, 1",
    );
    let cases: [(&[i64], i64, i64); 4] = [
        (&[1, 2], 0, 1),
        (&[0, 2], 1, 2),
        (&[0, 0], 1, 0),
        (&[0, 1, 3], 2, 3),
    ];
    for (seqs, expected, found) in cases {
        let segments: Vec<_> = seqs.iter().map(|&s| segment(s, 5, vec![5])).collect();
        assert_seq_error(
            store.replace_history(repo, &segments).await,
            repo,
            expected,
            found,
        );
        assert_stored_history(
            store,
            repo,
            &format!("after a refused replacement with seqs {seqs:?}"),
            &stored,
        )
        .await;
    }
}

/// Each repository has its own sequence of segments; writing one leaves the others alone.
pub async fn repositories_are_independent(store: &dyn Store) {
    let repos = [
        "a",
        "a/b",
        "A",
        "/home/dev/dépôt's repo",
        "git@example.com:org/a.git",
    ];
    let mut expected: BTreeMap<&str, Vec<HistorySegment>> = BTreeMap::new();
    for round in 0..2i64 {
        for (i, repo) in repos.iter().enumerate() {
            let s = segment(
                round,
                (i as i64) * 10 + round,
                pseudo_random_bytes(64 + i, ((i as u64) << 8) | round as u64),
            );
            ok(
                store.append_history(repo, &s).await,
                &format!("appending seq {round} to {repo:?}"),
            );
            expected.entry(repo).or_default().push(s);
        }
    }
    for repo in repos {
        assert_stored_history(
            store,
            repo,
            "after appending to five repositories",
            &expected[repo],
        )
        .await;
    }

    let replacement = vec![segment(0, 77, vec![7; 77])];
    ok(
        store.replace_history("a", &replacement).await,
        "replacing the history of \"a\"",
    );
    expected.insert("a", replacement);
    ok(
        store.replace_history("A", &[]).await,
        "clearing the history of \"A\"",
    );
    expected.insert("A", vec![]);
    for repo in repos {
        assert_stored_history(
            store,
            repo,
            "after replacing \"a\" and clearing \"A\"",
            &expected[repo],
        )
        .await;
    }
    assert_stored_history(store, "a/", "a repository never written", &[]).await;
    assert_events(store, "after writing only history", &[], &[]).await;
}

/// Writes running at the same time are serialized: overlapping batches count each record once as
/// inserted, and of two appends of the same `seq` exactly one succeeds.
pub async fn concurrent_writers_are_serialized(store: &dyn Store) {
    let all = large_deployments(2_000, 0);
    let first = EventBatch {
        deployments: all[..1_500].to_vec(),
        incidents: vec![incident("inc-a", T0)],
        practice_changes: vec![],
        pull_requests: vec![],
    };
    let second = EventBatch {
        deployments: all[500..].to_vec(),
        incidents: vec![incident("inc-a", T0)],
        practice_changes: vec![],
        pull_requests: vec![],
    };
    let (a, b) = join2(store.apply(&first), store.apply(&second)).await;
    let a = ok(a, "applying the first of two concurrent batches");
    let b = ok(b, "applying the second of two concurrent batches");
    let sum = |f: fn(&ApplySummary) -> WriteCounts| {
        let (x, y) = (f(&a), f(&b));
        counts(
            x.inserted + y.inserted,
            x.updated + y.updated,
            x.unchanged + y.unchanged,
        )
    };
    assert_eq!(
        sum(|s| s.deployments),
        counts(2_000, 0, 1_000),
        "two concurrent batches of 1,500 deployments overlapping on 1,000 (got {a:?} and {b:?})"
    );
    assert_eq!(
        sum(|s| s.incidents),
        counts(1, 0, 1),
        "two concurrent batches holding the same incident (got {a:?} and {b:?})"
    );
    assert_events(
        store,
        "after two concurrent batches",
        &all,
        &[incident("inc-a", T0)],
    )
    .await;

    let one = segment(0, 1, vec![1; 1_000]);
    let two = segment(0, 2, vec![2; 1_000]);
    let (r1, r2) = join2(
        store.append_history("race", &one),
        store.append_history("race", &two),
    )
    .await;
    let winner = match (&r1, &r2) {
        (Ok(()), Err(_)) => one,
        (Err(_), Ok(())) => two,
        _ => panic!(
            "of two concurrent appends of seq 0 exactly one must succeed; got {r1:?} and {r2:?}"
        ),
    };
    assert_stored_history(
        store,
        "race",
        "after two concurrent appends of seq 0",
        &[winner],
    )
    .await;

    let (r1, r2) = join2(
        store.append_history("left", &segment(0, 1, vec![1])),
        store.append_history("right", &segment(0, 2, vec![2])),
    )
    .await;
    ok(r1, "appending to one repository while appending to another");
    ok(r2, "appending to one repository while appending to another");
    assert_stored_history(
        store,
        "left",
        "after concurrent appends",
        &[segment(0, 1, vec![1])],
    )
    .await;
    assert_stored_history(
        store,
        "right",
        "after concurrent appends",
        &[segment(0, 2, vec![2])],
    )
    .await;
}

fn practice(name: &str, started_on: &str) -> PracticeChange {
    PracticeChange {
        name: PracticeName::new(name).unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
        started_on: started_on
            .parse()
            .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
        ended_on: None,
        scope: PracticeScope::AllServices,
        capability: None,
        note: None,
    }
}

/// Practice changes covering every scope and optional field, with a tie on the start date broken
/// by name, and non-ASCII text. Not sorted.
pub fn sample_practice_changes() -> Vec<PracticeChange> {
    vec![
        PracticeChange {
            scope: PracticeScope::services(vec![service("web"), service("api")]),
            capability: Some(
                Capability::new("trunk-based-development")
                    .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
            ),
            note: Some("No branch lives longer than a day — «vraiment»".to_owned()),
            ..practice("Trunk-based development", "2026-03-03")
        },
        PracticeChange {
            ended_on: Some(
                "2026-02-01"
                    .parse()
                    .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
            ),
            scope: PracticeScope::Team {
                team: TeamName::new("payments")
                    .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
            },
            ..practice("Pair programming", "2026-01-05")
        },
        practice("All hands on deck", "2026-03-03"),
        PracticeChange {
            note: Some(String::new()),
            ..practice("Small batches", "2025-12-31")
        },
    ]
}

fn sorted_practice_changes(mut list: Vec<PracticeChange>) -> Vec<PracticeChange> {
    list.sort_by(|a, b| (a.started_on, &a.name).cmp(&(b.started_on, &b.name)));
    list
}

fn practice_batch(changes: Vec<PracticeChange>) -> EventBatch {
    EventBatch {
        practice_changes: changes,
        ..EventBatch::default()
    }
}

/// Practice changes are read back exactly, ordered by start date then name, and counted apart
/// from the events written in the same batch.
pub async fn practice_changes_round_trip(store: &dyn Store) {
    assert_list(
        "practice changes of a new store",
        &ok(store.practice_changes().await, "reading practice changes"),
        &[],
    );
    let mut batch = sample_batch();
    batch.practice_changes = sample_practice_changes();
    let got = ok(
        store.apply(&batch).await,
        "applying events and practice changes",
    );
    let n = batch.practice_changes.len() as u64;
    assert_eq!(
        got.practice_changes,
        counts(n, 0, 0),
        "{n} new practice changes must count as inserted"
    );
    assert_eq!(
        got.deployments,
        counts(batch.deployments.len() as u64, 0, 0),
        "deployments in the same batch are counted on their own"
    );
    assert_list(
        "practice changes (ordered by started_on, then name)",
        &ok(store.practice_changes().await, "reading practice changes"),
        &sorted_practice_changes(batch.practice_changes.clone()),
    );
    let again = ok(store.apply(&batch).await, "applying the same batch again");
    assert_eq!(again.practice_changes, counts(0, 0, n));
}

/// A practice change is identified by its name: recording it again updates every field (here:
/// ending it, changing its scope), and within a batch the later record wins.
pub async fn practice_changes_update_by_name(store: &dyn Store) {
    let changes = sample_practice_changes();
    ok(
        store.apply(&practice_batch(changes.clone())).await,
        "applying practice changes",
    );
    let mut ended = changes[0].clone();
    ended.ended_on = Some(
        "2026-06-30"
            .parse()
            .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
    );
    let mut rescoped = ended.clone();
    rescoped.scope = PracticeScope::services(vec![service("api")]);
    rescoped.capability = None;
    rescoped.note = None;
    let got = ok(
        store
            .apply(&practice_batch(vec![
                ended,
                rescoped.clone(),
                changes[1].clone(),
            ]))
            .await,
        "updating a practice change twice in one batch",
    );
    assert_eq!(
        got.practice_changes,
        counts(0, 2, 1),
        "two changes of one practice count as two updates, the untouched one as unchanged"
    );
    let mut expected = changes.clone();
    expected[0] = rescoped;
    assert_list(
        "practice changes after the updates",
        &ok(store.practice_changes().await, "reading practice changes"),
        &sorted_practice_changes(expected),
    );
}

// ---------------------------------------------------------------------------------------------
// Pull requests
// ---------------------------------------------------------------------------------------------

fn pull_request(id: &str, number: u64, opened_at: i64) -> PullRequest {
    let number = Some(number);
    PullRequest {
        id: PullRequestId::new(id).unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
        repository: RepositoryName::new("octo-org/octo-repo")
            .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
        number,
        title: None,
        opened_at: ts(opened_at),
        ready_for_review_at: None,
        draft: false,
        first_review_at: None,
        merged_at: None,
        closed_at: None,
        merge_commit: None,
        head_sha: None,
        head_branch: None,
        base_branch: None,
        commits: vec![],
        first_commit_at: None,
        additions: None,
        deletions: None,
        changed_files: None,
        labels: vec![],
    }
}

/// Pull requests covering every optional field (several commits and labels, empty lists, zero
/// sizes, sub-second times, a GitLab id with `!`), and ties on `opened_at` broken by id. Not sorted.
pub fn sample_pull_requests() -> Vec<PullRequest> {
    let tie = T0 + 500 * SECOND + 1;
    vec![
        PullRequest {
            title: Some("Update the README — ünïcode \"quoted\"".to_owned()),
            ready_for_review_at: Some(ts(T0 + 60 * SECOND + 7)),
            first_review_at: Some(ts(T0 + 120 * SECOND + 999_999)),
            merged_at: Some(ts(T0 + 3_600 * SECOND)),
            closed_at: Some(ts(T0 + 3_600 * SECOND)),
            merge_commit: Some(sha(10)),
            head_sha: Some(sha(11)),
            head_branch: Some("feature/ünï-code".to_owned()),
            base_branch: Some("main".to_owned()),
            commits: vec![sha(12), sha(13), sha(11)],
            first_commit_at: Some(ts(T0 - 86_400 * SECOND)),
            additions: Some(120),
            deletions: Some(0),
            changed_files: Some(7),
            labels: vec!["bug".to_owned(), "size/S".to_owned()],
            ..pull_request("github:octo-org/octo-repo#2", 2, T0)
        },
        PullRequest {
            draft: true,
            title: Some(String::new()),
            changed_files: Some(0),
            labels: vec!["wip".to_owned()],
            ..pull_request("github:octo-org/octo-repo#10", 10, tie)
        },
        PullRequest {
            repository: RepositoryName::new("group/sub/project")
                .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
            closed_at: Some(ts(tie + 5)),
            head_branch: Some("fix".to_owned()),
            ..pull_request("gitlab:group/sub/project!45", 45, tie)
        },
        pull_request("github:octo-org/octo-repo#9", 9, T0 - 1),
    ]
}

fn sorted_pull_requests(mut list: Vec<PullRequest>) -> Vec<PullRequest> {
    list.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
    list
}

async fn assert_pull_requests(store: &dyn Store, what: &str, expected: &[PullRequest]) {
    assert_list(
        &format!("{what}: pull requests (ordered by opened_at, then id in byte order)"),
        &ok(store.pull_requests().await, "reading pull requests"),
        &sorted_pull_requests(expected.to_vec()),
    );
}

/// Pull requests are read back exactly, ordered by opening time then id, counted apart from the
/// events of the same batch; applying them again changes nothing.
pub async fn pull_requests_round_trip(store: &dyn Store) {
    assert_pull_requests(store, "a new store", &[]).await;
    let batch = EventBatch {
        pull_requests: sample_pull_requests(),
        ..sample_batch()
    };
    let n = batch.pull_requests.len() as u64;
    let got = ok(
        store.apply(&batch).await,
        "applying pull requests and events",
    );
    assert_eq!(
        got.pull_requests,
        counts(n, 0, 0),
        "{n} new pull requests must count as inserted"
    );
    assert_eq!(
        got.incidents,
        counts(batch.incidents.len() as u64, 0, 0),
        "incidents in the same batch count on their own"
    );
    assert_pull_requests(store, "after inserting", &batch.pull_requests).await;
    assert_events(
        store,
        "after inserting",
        &batch.deployments,
        &batch.incidents,
    )
    .await;

    let mut reversed = batch.clone();
    reversed.pull_requests.reverse();
    let again = ok(
        store.apply(&reversed).await,
        "applying the same batch again",
    );
    assert_eq!(
        again.pull_requests,
        counts(0, 0, n),
        "the same pull requests again (in another order) must count as unchanged"
    );
    assert_pull_requests(store, "after applying again", &batch.pull_requests).await;
}

type PullRequestChange = (&'static str, usize, fn(&mut PullRequest));

/// A change to any single field of a pull request is an update and is read back; within a batch
/// the later record with an id wins.
pub async fn pull_requests_update_by_id(store: &dyn Store) {
    let mut current = sample_pull_requests();
    ok(
        store
            .apply(&EventBatch {
                pull_requests: current.clone(),
                ..EventBatch::default()
            })
            .await,
        "applying the sample pull requests",
    );
    let changes: &[PullRequestChange] = &[
        ("repository", 3, |p| {
            p.repository = RepositoryName::new("octo-org/other").unwrap_or_else(|e| panic!("{e}"))
        }),
        ("number", 3, |p| p.number = Some(90)),
        ("number Some -> None", 3, |p| p.number = None),
        ("title None -> Some", 3, |p| p.title = Some("t".to_owned())),
        ("title empty -> None", 1, |p| p.title = None),
        ("opened_at by 1µs", 0, |p| {
            p.opened_at = ts(p.opened_at.as_microsecond() - 1)
        }),
        ("ready_for_review_at Some -> None", 0, |p| {
            p.ready_for_review_at = None
        }),
        ("draft true -> false", 1, |p| p.draft = false),
        ("first_review_at by 1µs", 0, |p| {
            p.first_review_at = p.first_review_at.map(|t| ts(t.as_microsecond() + 1))
        }),
        ("merged_at None -> Some", 2, |p| p.merged_at = p.closed_at),
        ("closed_at Some -> None", 2, |p| p.closed_at = None),
        ("merge_commit to another", 0, |p| {
            p.merge_commit = Some(sha(20))
        }),
        ("head_sha Some -> None", 0, |p| p.head_sha = None),
        ("head_branch", 2, |p| {
            p.head_branch = Some("fix-2".to_owned())
        }),
        ("base_branch None -> Some", 2, |p| {
            p.base_branch = Some("main".to_owned())
        }),
        ("commits reordered", 0, |p| p.commits.reverse()),
        ("commits emptied", 0, |p| p.commits.clear()),
        ("first_commit_at Some -> None", 0, |p| {
            p.first_commit_at = None
        }),
        ("additions", 0, |p| p.additions = Some(121)),
        ("deletions Some(0) -> None", 0, |p| p.deletions = None),
        ("changed_files", 0, |p| p.changed_files = Some(8)),
        ("changed_files Some(0) -> None", 1, |p| {
            p.changed_files = None
        }),
        ("changed_files None -> Some", 2, |p| {
            p.changed_files = Some(1_000)
        }),
        ("labels", 0, |p| p.labels = vec!["bug".to_owned()]),
        ("labels emptied", 1, |p| p.labels.clear()),
    ];
    for (what, index, change) in changes {
        let mut record = current[*index].clone();
        change(&mut record);
        let got = ok(
            store
                .apply(&EventBatch {
                    pull_requests: vec![record.clone()],
                    ..EventBatch::default()
                })
                .await,
            &format!("applying pull request {} with a changed {what}", record.id),
        );
        assert_eq!(
            got.pull_requests,
            counts(0, 1, 0),
            "applying pull request {} with a changed {what} must count one update",
            record.id
        );
        current[*index] = record;
        assert_pull_requests(store, &format!("after changing {what}"), &current).await;
    }

    let first = pull_request("github:octo-org/octo-repo#77", 77, T0 + 9);
    let second = PullRequest {
        merged_at: Some(ts(T0 + 99)),
        ..first.clone()
    };
    let got = ok(
        store
            .apply(&EventBatch {
                pull_requests: vec![first.clone(), second.clone(), second.clone()],
                ..EventBatch::default()
            })
            .await,
        "applying one new id three times",
    );
    assert_eq!(
        got.pull_requests,
        counts(1, 1, 1),
        "an id three times in a batch: inserted, then updated, then unchanged"
    );
    current.push(second);
    assert_pull_requests(store, "after a batch holding an id three times", &current).await;
}

// ---------------------------------------------------------------------------------------------
// Sync cursors
// ---------------------------------------------------------------------------------------------

fn state(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `apply_synced` writes the records as `apply` does (same counts) and saves the cursors with them;
/// cursors are read back per scope, exactly, and a later save replaces the keys it names and keeps
/// the others, even with an empty batch.
pub async fn sync_state_is_saved_with_the_records_per_scope(store: &dyn Store) {
    let scope = "github https://api.github.com acme/shop";
    let other = "github https://ghe.example.com/api/v3 acme/shop";
    assert!(
        ok(store.sync_state(scope).await, "reading a scope never saved").is_empty(),
        "a scope never saved has no cursors"
    );
    let batch = sample_batch();
    let n_d = batch.deployments.len() as u64;
    let n_i = batch.incidents.len() as u64;
    let first = state(&[
        (
            "pulls",
            r#"{"since":"2026-03-03T12:00:00Z","etag":"W/\"5d1c\""}"#,
        ),
        ("deployments", r#"{"pending":[7,9]}"#),
        ("issues:sévère", "ünïcode\nand a second line"),
    ]);
    let got = ok(
        store.apply_synced(&batch, scope, &first).await,
        "applying the sample batch with cursors",
    );
    assert_eq!(
        got,
        summary(counts(n_d, 0, 0), counts(n_i, 0, 0)),
        "apply_synced must count records as apply does"
    );
    assert_events(
        store,
        "after apply_synced",
        &batch.deployments,
        &batch.incidents,
    )
    .await;
    assert_eq!(
        ok(store.sync_state(scope).await, "reading the cursors"),
        first,
        "cursors must read back exactly"
    );
    assert!(
        ok(store.sync_state(other).await, "reading another scope").is_empty(),
        "cursors of one scope must not show in another"
    );

    let update = state(&[
        ("pulls", r#"{"since":"2026-03-04T12:00:00Z"}"#),
        ("releases", "{}"),
    ]);
    let got = ok(
        store
            .apply_synced(&EventBatch::default(), scope, &update)
            .await,
        "saving cursors with an empty batch",
    );
    assert_eq!(got, ApplySummary::default());
    let mut expected = first.clone();
    expected.extend(update.clone());
    assert_eq!(
        ok(store.sync_state(scope).await, "reading the updated cursors"),
        expected,
        "a save must replace the keys it names and keep the others"
    );

    let got = ok(
        store.apply_synced(&batch, other, &first).await,
        "applying the same batch with another scope's cursors",
    );
    assert_eq!(
        got,
        summary(counts(0, 0, n_d), counts(0, 0, n_i)),
        "records already stored count as unchanged"
    );
    assert_eq!(ok(store.sync_state(other).await, "reading"), first);
    assert_eq!(ok(store.sync_state(scope).await, "reading"), expected);
}

// ---------------------------------------------------------------------------------------------
// Self-assessment answers
// ---------------------------------------------------------------------------------------------

fn answer(capability: &str, statement: u32, rating: u8, day: &str) -> CapabilityAnswer {
    CapabilityAnswer {
        capability: shiplog_core::Capability::new(capability)
            .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
        statement,
        rating,
        answered_on: day
            .parse()
            .unwrap_or_else(|e| panic!("testsuite fixture: bad date {day}: {e}")),
    }
}

/// Answers read back exactly, ordered by day, capability and statement; the same statement
/// answered again on the same day replaces the answer (updated, or unchanged when equal), on
/// another day adds one; answers are independent of the event records.
pub async fn assessments_keep_each_day(store: &dyn Store) {
    assert!(
        ok(store.assessments().await, "reading answers of a new store").is_empty(),
        "a new store holds no answers"
    );
    let first = vec![
        answer("continuous-integration", 2, 4, "2026-03-03"),
        answer("continuous-integration", 1, 5, "2026-03-03"),
        answer("generative-organizational-culture", 1, 1, "2026-03-03"),
    ];
    assert_eq!(
        ok(store.save_assessment(&first).await, "saving answers"),
        counts(3, 0, 0)
    );
    let mut expected = first.clone();
    expected.sort_by(|a, b| {
        (a.answered_on, &a.capability, a.statement).cmp(&(
            b.answered_on,
            &b.capability,
            b.statement,
        ))
    });
    assert_eq!(ok(store.assessments().await, "reading answers"), expected);
    // Same day: replaced or unchanged; another day: added.
    let again = vec![
        answer("continuous-integration", 1, 5, "2026-03-03"),
        answer("continuous-integration", 2, 3, "2026-03-03"),
        answer("continuous-integration", 2, 2, "2026-04-01"),
    ];
    assert_eq!(
        ok(store.save_assessment(&again).await, "saving answers again"),
        counts(1, 1, 1)
    );
    let got = ok(store.assessments().await, "reading answers again");
    assert_eq!(
        got,
        vec![
            answer("continuous-integration", 1, 5, "2026-03-03"),
            answer("continuous-integration", 2, 3, "2026-03-03"),
            answer("generative-organizational-culture", 1, 1, "2026-03-03"),
            answer("continuous-integration", 2, 2, "2026-04-01"),
        ]
    );
    assert!(
        ok(store.deployments().await, "reading deployments").is_empty(),
        "answers are not events"
    );
}

// ---------------------------------------------------------------------------------------------
// Experiments
// ---------------------------------------------------------------------------------------------

fn hypothesis(version: u32, written_at: i64, expect: &[&str]) -> Hypothesis {
    Hypothesis {
        version,
        written_at: ts(written_at),
        started_on: "2026-03-02"
            .parse()
            .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
        expectations: expect
            .iter()
            .map(|e| Expectation::parse(e).unwrap_or_else(|err| panic!("testsuite fixture: {err}")))
            .collect(),
        planned_days: 56,
        before_days: 90,
        transition_days: 14,
        comparison: ComparisonPlan::None,
    }
}

fn assert_version_error(result: Result<(), StoreError>, expected: u32, found: u32) {
    let what = format!("adding hypothesis version {found} (expected version {expected})");
    match result {
        Ok(()) => panic!("{what} succeeded; it must fail with a HypothesisVersionError"),
        Err(StoreError::Query { source, .. }) => {
            let Some(err) = source.downcast_ref::<HypothesisVersionError>() else {
                panic!(
                    "{what} failed with a query error whose source is not a HypothesisVersionError: {source}"
                )
            };
            assert_eq!(
                (err.expected, err.found),
                (expected, found),
                "{what}: {err}"
            );
        }
        Err(other) => panic!("{what} failed with {other:?}"),
    }
}

/// An experiment starts with its practice change and hypothesis version 1 in one transaction;
/// versions are append-only (a repeated or skipped version is refused and changes nothing);
/// reviews are appended in order; everything reads back exactly, ordered by start date then name.
pub async fn experiments_are_append_only(store: &dyn Store) {
    assert_list(
        "experiments of a new store",
        &ok(store.experiments().await, "reading experiments"),
        &[],
    );
    let name = PracticeName::new("Review within a day")
        .unwrap_or_else(|e| panic!("testsuite fixture: {e}"));
    let change = PracticeChange {
        capability: Some(
            Capability::new("streamlining-change-approval")
                .unwrap_or_else(|e| panic!("testsuite fixture: {e}")),
        ),
        scope: PracticeScope::services(vec![service("api")]),
        ..practice("Review within a day", "2026-03-02")
    };
    let mut v1 = hypothesis(1, T0, &["change_lead_time -30%", "change_fail_rate -5pp"]);
    v1.comparison = ComparisonPlan::With(vec![service("billing"), service("web")]);
    // A version other than 1 cannot start an experiment, and leaves no practice change behind.
    assert_version_error(
        store
            .add_hypothesis(
                &name,
                &hypothesis(2, T0, &["lead_time -30%"]),
                Some(&change),
            )
            .await,
        1,
        2,
    );
    assert_list(
        "practice changes after a refused start",
        &ok(store.practice_changes().await, "reading practice changes"),
        &[],
    );
    ok(
        store.add_hypothesis(&name, &v1, Some(&change)).await,
        "starting an experiment",
    );
    assert_list(
        "practice changes after the start",
        &ok(store.practice_changes().await, "reading practice changes"),
        std::slice::from_ref(&change),
    );
    // Starting again is refused: the first version stays as written.
    assert_version_error(
        store
            .add_hypothesis(
                &name,
                &hypothesis(1, T0 + SECOND, &["lead_time -10%"]),
                None,
            )
            .await,
        2,
        1,
    );
    assert_version_error(
        store
            .add_hypothesis(
                &name,
                &hypothesis(3, T0 + SECOND, &["lead_time -10%"]),
                None,
            )
            .await,
        2,
        3,
    );
    let v2 = hypothesis(2, T0 + 86_400 * SECOND, &["deployment_frequency +50%"]);
    ok(
        store.add_hypothesis(&name, &v2, None).await,
        "adding version 2",
    );

    // A second experiment on a practice change recorded earlier, starting first.
    let other_change = practice("Small batches", "2026-01-05");
    ok(
        store
            .apply(&practice_batch(vec![other_change.clone()]))
            .await,
        "recording a practice change",
    );
    let other_name = other_change.name.clone();
    let o1 = Hypothesis {
        started_on: other_change.started_on,
        ..hypothesis(1, T0 - SECOND, &["rework_rate -2.5pp"])
    };
    ok(
        store.add_hypothesis(&other_name, &o1, None).await,
        "starting a second experiment",
    );

    // Reviews: refused for an unknown experiment, appended in order otherwise.
    let unknown = PracticeName::new("Nothing").unwrap_or_else(|e| panic!("testsuite fixture: {e}"));
    let early = Review {
        reviewed_at: ts(T0 + 2 * 86_400 * SECOND),
        hypothesis_version: 2,
        outcome: Outcome::CannotTellYet,
        provisional: true,
    };
    match store.add_review(&unknown, &early).await {
        Err(StoreError::Query { source, .. })
            if source.downcast_ref::<NoSuchExperiment>().is_some() => {}
        other => panic!(
            "a review of an unknown experiment must fail with NoSuchExperiment, got {other:?}"
        ),
    }
    let last = Review {
        reviewed_at: ts(T0 + 60 * 86_400 * SECOND),
        outcome: Outcome::Reached,
        provisional: false,
        ..early.clone()
    };
    ok(store.add_review(&name, &early).await, "adding a review");
    ok(
        store.add_review(&name, &last).await,
        "adding a second review",
    );

    let expected = vec![
        Experiment {
            name: other_name,
            started_on: other_change.started_on,
            hypotheses: vec![o1],
            reviews: vec![],
        },
        Experiment {
            name,
            started_on: change.started_on,
            hypotheses: vec![v1, v2],
            reviews: vec![early, last],
        },
    ];
    assert_list(
        "experiments (ordered by start date, then name)",
        &ok(store.experiments().await, "reading experiments"),
        &expected,
    );
}
