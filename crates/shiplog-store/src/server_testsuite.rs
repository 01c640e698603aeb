//! The [`ServerStore`] contract in executable form: deliveries (stored, de-duplicated, claimed
//! under leases, finished with their records in one transaction, requeued, listed) and API
//! tokens. A backend's test calls [`run_server_suite`] with a function making a fresh store.

use std::future::Future;

use jiff::Timestamp;

use crate::testsuite::{sample_deployments, sample_incidents};
use crate::{
    DeliveryFilter, DeliveryState, EventBatch, NewDelivery, ServerStore, StoredDelivery,
    TokenRecord, TokenScope,
};

/// Runs every test, each against a fresh, empty store made by `make` (given the test's name).
pub async fn run_server_suite<F, Fut>(mut make: F)
where
    F: FnMut(&'static str) -> Fut,
    Fut: Future<Output = Box<dyn ServerStore>>,
{
    macro_rules! run {
        ($($test:ident),* $(,)?) => {$(
            eprintln!("shiplog-store server suite: {}", stringify!($test));
            let store = make(stringify!($test)).await;
            $test(store.as_ref()).await;
            drop(store);
        )*};
    }
    run!(
        deliveries_are_stored_in_order_and_read_back,
        a_repeated_delivery_id_is_a_duplicate,
        group_commit_matches_one_by_one,
        claims_are_leases,
        finishing_writes_records_and_outcome_together,
        requeue_one_or_every_failed,
        listing_filters_and_pages_newest_first,
        counts_and_oldest_pending,
        tokens_are_created_found_and_revoked,
    );
}

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second)
        .unwrap_or_else(|e| panic!("server suite fixture: {e}"))
}

fn delivery(source: &str, id: Option<&str>, body: &[u8]) -> NewDelivery {
    NewDelivery {
        source: source.to_owned(),
        delivery_id: id.map(str::to_owned),
        received_at: at(0),
        headers: vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("x-github-event".to_owned(), "deployment_status".to_owned()),
        ],
        body: body.to_vec(),
    }
}

fn seq(stored: StoredDelivery) -> i64 {
    match stored {
        StoredDelivery::New(seq) | StoredDelivery::Duplicate(seq) => seq,
    }
}

async fn store(s: &dyn ServerStore, d: &NewDelivery) -> StoredDelivery {
    s.store_delivery(d)
        .await
        .unwrap_or_else(|e| panic!("store_delivery failed: {e}"))
}

/// Bodies and headers come back byte for byte; sequence numbers grow.
pub async fn deliveries_are_stored_in_order_and_read_back(s: &dyn ServerStore) {
    let body: Vec<u8> = (0..=255u8).chain(b"{\"x\":1}".iter().copied()).collect();
    let first = store(s, &delivery("github", Some("a"), &body)).await;
    let second = store(s, &delivery("gitlab", None, b"{}")).await;
    let (StoredDelivery::New(a), StoredDelivery::New(b)) = (first, second) else {
        panic!("expected two new deliveries, got {first:?} and {second:?}");
    };
    assert!(b > a, "sequence numbers must grow: {a} then {b}");
    let read = s
        .delivery(a)
        .await
        .unwrap_or_else(|e| panic!("delivery: {e}"))
        .unwrap_or_else(|| panic!("delivery {a} not found"));
    assert_eq!(read.body, body);
    assert_eq!(read.body_len, i64::try_from(body.len()).unwrap_or(-1));
    assert_eq!(read.headers, delivery("github", None, b"").headers);
    assert_eq!(read.source, "github");
    assert_eq!(read.delivery_id.as_deref(), Some("a"));
    assert_eq!(read.received_at, at(0));
    assert_eq!(read.state, DeliveryState::Pending);
    assert_eq!((read.attempts, read.duplicates), (0, 0));
    assert!(s.delivery(b + 1000).await.is_ok_and(|d| d.is_none()));
}

/// Same source and id: a duplicate of the first, counted; no id, or another source: new.
pub async fn a_repeated_delivery_id_is_a_duplicate(s: &dyn ServerStore) {
    let first = seq(store(s, &delivery("github", Some("x-1"), b"{}")).await);
    assert_eq!(
        store(s, &delivery("github", Some("x-1"), b"{\"other\":1}")).await,
        StoredDelivery::Duplicate(first)
    );
    assert_eq!(
        store(s, &delivery("github", Some("x-1"), b"{}")).await,
        StoredDelivery::Duplicate(first)
    );
    assert!(matches!(
        store(s, &delivery("gitlab", Some("x-1"), b"{}")).await,
        StoredDelivery::New(_)
    ));
    assert!(matches!(
        store(s, &delivery("github", None, b"{}")).await,
        StoredDelivery::New(_)
    ));
    assert!(matches!(
        store(s, &delivery("github", None, b"{}")).await,
        StoredDelivery::New(_)
    ));
    let d = s
        .delivery(first)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("delivery {first} lost"));
    assert_eq!(d.duplicates, 2);
    assert_eq!(
        d.body, b"{}",
        "a duplicate must not replace the stored body"
    );
    let all = s
        .deliveries(&DeliveryFilter::default())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(all.len(), 4);
}

/// `store_deliveries` gives what storing one by one gives, a repeated id in the group included.
pub async fn group_commit_matches_one_by_one(s: &dyn ServerStore) {
    let existing = seq(store(s, &delivery("github", Some("old"), b"{}")).await);
    let group = vec![
        delivery("github", Some("g-1"), b"1"),
        delivery("github", Some("old"), b"2"),
        delivery("github", Some("g-1"), b"3"),
        delivery("pagerduty", None, b"4"),
    ];
    let stored = s
        .store_deliveries(&group)
        .await
        .unwrap_or_else(|e| panic!("store_deliveries: {e}"));
    assert_eq!(stored.len(), 4);
    let StoredDelivery::New(g1) = stored[0] else {
        panic!("{stored:?}");
    };
    assert_eq!(stored[1], StoredDelivery::Duplicate(existing));
    assert_eq!(stored[2], StoredDelivery::Duplicate(g1));
    assert!(matches!(stored[3], StoredDelivery::New(_)));
    let first = s.delivery(g1).await.ok().flatten();
    assert_eq!(first.as_ref().map(|d| &d.body[..]), Some(&b"1"[..]));
    assert_eq!(
        first.map(|d| d.duplicates),
        Some(1),
        "the repeat is counted"
    );
    let old = s.delivery(existing).await.ok().flatten();
    assert_eq!(
        old.map(|d| d.duplicates),
        Some(1),
        "the re-delivery is counted"
    );
}

/// A claimed delivery is not claimed again while its lease runs, and is once it ended; each
/// claim counts an attempt; oldest first; at most `limit`.
pub async fn claims_are_leases(s: &dyn ServerStore) {
    let mut seqs = Vec::new();
    for i in 0..5 {
        seqs.push(seq(store(
            s,
            &delivery("github", Some(&format!("c-{i}")), b"{}"),
        )
        .await));
    }
    let claim = |worker: &'static str, now: i64, until: i64, limit: u32| async move {
        s.claim_deliveries(worker, at(now), at(until), limit)
            .await
            .unwrap_or_else(|e| panic!("claim_deliveries: {e}"))
    };
    let first = claim("w1", 10, 70, 3).await;
    let got: Vec<i64> = first.iter().map(|d| d.seq).collect();
    assert_eq!(got, seqs[..3].to_vec(), "oldest first, at most the limit");
    assert!(first.iter().all(|d| d.attempts == 1 && !d.body.is_empty()));
    let second = claim("w2", 20, 80, 10).await;
    let got: Vec<i64> = second.iter().map(|d| d.seq).collect();
    assert_eq!(
        got,
        seqs[3..].to_vec(),
        "leased deliveries are not claimed twice"
    );
    assert!(claim("w3", 30, 90, 10).await.is_empty());
    // w1's lease ended at 70: its deliveries go to whoever claims after.
    let third = claim("w3", 75, 135, 10).await;
    let got: Vec<i64> = third.iter().map(|d| d.seq).collect();
    assert_eq!(got, seqs[..3].to_vec());
    assert!(third.iter().all(|d| d.attempts == 2));
}

/// Records and the outcome are written together; a finished delivery is claimed no more.
pub async fn finishing_writes_records_and_outcome_together(s: &dyn ServerStore) {
    let a = seq(store(s, &delivery("github", Some("f-1"), b"{}")).await);
    let b = seq(store(s, &delivery("github", Some("f-2"), b"{}")).await);
    let claimed = s
        .claim_deliveries("w", at(0), at(60), 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(claimed.len(), 2);
    let batch = EventBatch {
        deployments: sample_deployments(),
        incidents: sample_incidents(),
        ..EventBatch::default()
    };
    let summary = s
        .finish_delivery(a, DeliveryState::Accepted, "2 deployments", at(5), &batch)
        .await
        .unwrap_or_else(|e| panic!("finish_delivery: {e}"));
    assert_eq!(
        summary.deployments.inserted,
        u64::try_from(batch.deployments.len()).unwrap_or(0)
    );
    assert_eq!(
        s.deployments().await.map(|d| d.len()).unwrap_or(0),
        batch.deployments.len()
    );
    s.finish_delivery(
        b,
        DeliveryState::Failed,
        "$.deployment: missing",
        at(6),
        &EventBatch::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("finish_delivery: {e}"));
    let a = s
        .delivery(a)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("lost"));
    assert_eq!(a.state, DeliveryState::Accepted);
    assert_eq!(a.detail.as_deref(), Some("2 deployments"));
    assert_eq!(a.processed_at, Some(at(5)));
    let b = s
        .delivery(b)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("lost"));
    assert_eq!(b.state, DeliveryState::Failed);
    assert_eq!(b.detail.as_deref(), Some("$.deployment: missing"));
    // Even after every lease ended, finished deliveries are not claimed.
    let again = s
        .claim_deliveries("w", at(1000), at(1060), 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(again.is_empty(), "{again:?}");
}

/// Requeue puts one delivery, or every failed one, back to pending, claimable at once.
pub async fn requeue_one_or_every_failed(s: &dyn ServerStore) {
    let mut seqs = Vec::new();
    for i in 0..3 {
        seqs.push(seq(store(
            s,
            &delivery("github", Some(&format!("r-{i}")), b"{}"),
        )
        .await));
    }
    let _ = s.claim_deliveries("w", at(0), at(60), 10).await;
    let none = EventBatch::default();
    for (&q, state) in seqs.iter().zip([
        DeliveryState::Failed,
        DeliveryState::Failed,
        DeliveryState::Ignored,
    ]) {
        s.finish_delivery(q, state, "why", at(1), &none)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(s.requeue_deliveries(Some(seqs[2])).await.ok(), Some(1));
    assert_eq!(
        s.requeue_deliveries(Some(seqs[2] + 1000)).await.ok(),
        Some(0)
    );
    let claimed = s
        .claim_deliveries("w", at(2), at(62), 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        claimed.iter().map(|d| d.seq).collect::<Vec<_>>(),
        vec![seqs[2]]
    );
    assert_eq!(s.requeue_deliveries(None).await.ok(), Some(2));
    let claimed = s
        .claim_deliveries("w", at(3), at(63), 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        claimed.iter().map(|d| d.seq).collect::<Vec<_>>(),
        seqs[..2].to_vec()
    );
}

/// Filters by state and source, pages with `before_seq`, newest first, no bodies.
pub async fn listing_filters_and_pages_newest_first(s: &dyn ServerStore) {
    let mut seqs = Vec::new();
    for i in 0..6 {
        let source = if i % 2 == 0 { "github" } else { "gitlab" };
        seqs.push(seq(store(
            s,
            &delivery(source, Some(&format!("l-{i}")), b"{\"a\":1}"),
        )
        .await));
    }
    let list = |filter: DeliveryFilter| async move {
        s.deliveries(&filter)
            .await
            .unwrap_or_else(|e| panic!("deliveries: {e}"))
            .iter()
            .map(|d| {
                assert!(d.body.is_empty(), "lists carry no bodies");
                assert_eq!(d.body_len, 7);
                d.seq
            })
            .collect::<Vec<i64>>()
    };
    let mut newest_first = seqs.clone();
    newest_first.reverse();
    assert_eq!(list(DeliveryFilter::default()).await, newest_first);
    assert_eq!(
        list(DeliveryFilter {
            source: Some("gitlab".to_owned()),
            ..DeliveryFilter::default()
        })
        .await,
        vec![seqs[5], seqs[3], seqs[1]]
    );
    assert_eq!(
        list(DeliveryFilter {
            limit: 2,
            ..DeliveryFilter::default()
        })
        .await,
        vec![seqs[5], seqs[4]]
    );
    assert_eq!(
        list(DeliveryFilter {
            limit: 2,
            before_seq: Some(seqs[4]),
            ..DeliveryFilter::default()
        })
        .await,
        vec![seqs[3], seqs[2]]
    );
    let _ = s.claim_deliveries("w", at(0), at(60), 1).await;
    s.finish_delivery(
        seqs[0],
        DeliveryState::Ignored,
        "a push",
        at(1),
        &EventBatch::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        list(DeliveryFilter {
            state: Some(DeliveryState::Ignored),
            ..DeliveryFilter::default()
        })
        .await,
        vec![seqs[0]]
    );
    assert_eq!(
        list(DeliveryFilter {
            state: Some(DeliveryState::Pending),
            source: Some("github".to_owned()),
            ..DeliveryFilter::default()
        })
        .await,
        vec![seqs[4], seqs[2]]
    );
}

/// Counts by source and state (with duplicates), and the oldest pending arrival.
pub async fn counts_and_oldest_pending(s: &dyn ServerStore) {
    assert_eq!(s.oldest_pending().await.ok(), Some(None));
    let mut first = delivery("github", Some("o-1"), b"{}");
    first.received_at = at(100);
    let mut second = delivery("github", Some("o-2"), b"{}");
    second.received_at = at(50);
    let a = seq(store(s, &first).await);
    store(s, &second).await;
    store(s, &first).await;
    store(s, &delivery("cdevents", None, b"{}")).await;
    assert_eq!(s.oldest_pending().await.ok(), Some(Some(at(0))));
    let _ = s.claim_deliveries("w", at(0), at(60), 1).await;
    s.finish_delivery(
        a,
        DeliveryState::Accepted,
        "1 deployment",
        at(1),
        &EventBatch::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let counts = s.delivery_counts().await.unwrap_or_else(|e| panic!("{e}"));
    let find = |source: &str, state: DeliveryState| {
        counts
            .iter()
            .find(|c| c.source == source && c.state == state)
            .map(|c| (c.count, c.duplicates))
    };
    assert_eq!(find("github", DeliveryState::Accepted), Some((1, 1)));
    assert_eq!(find("github", DeliveryState::Pending), Some((1, 0)));
    assert_eq!(find("cdevents", DeliveryState::Pending), Some((1, 0)));
    assert_eq!(counts.len(), 3, "{counts:?}");
}

/// Tokens: created once per name, found by hash until revoked, listed by name.
pub async fn tokens_are_created_found_and_revoked(s: &dyn ServerStore) {
    let token = |name: &str, scope: TokenScope, hash: &str| TokenRecord {
        name: name.to_owned(),
        scope,
        hash: hash.to_owned(),
        created_at: at(0),
        revoked_at: None,
    };
    let ci = token("ci", TokenScope::EventsWrite, "aa11");
    s.create_token(&ci).await.unwrap_or_else(|e| panic!("{e}"));
    s.create_token(&token("admin", TokenScope::Admin, "bb22"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        s.create_token(&token("ci", TokenScope::Read, "cc33"))
            .await
            .is_err(),
        "a name is never reused"
    );
    let names: Vec<String> = s
        .tokens()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, vec!["admin".to_owned(), "ci".to_owned()]);
    assert_eq!(s.token_by_hash("aa11").await.ok(), Some(Some(ci.clone())));
    assert_eq!(s.token_by_hash("zz").await.ok(), Some(None));
    assert_eq!(s.revoke_token("ci", at(9)).await.ok(), Some(true));
    assert_eq!(s.revoke_token("ci", at(10)).await.ok(), Some(false));
    assert_eq!(s.revoke_token("nobody", at(10)).await.ok(), Some(false));
    assert_eq!(s.token_by_hash("aa11").await.ok(), Some(None));
    let listed = s.tokens().await.unwrap_or_else(|e| panic!("{e}"));
    let revoked = listed
        .iter()
        .find(|t| t.name == "ci")
        .and_then(|t| t.revoked_at);
    assert_eq!(revoked, Some(at(9)));
}
