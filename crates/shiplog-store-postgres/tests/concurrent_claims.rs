//! Two server processes (two stores, two connection pools) claiming from one database at once:
//! `FOR UPDATE SKIP LOCKED` must give every delivery to exactly one of them.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use shiplog_store::{NewDelivery, ServerStore, StoredDelivery};
use shiplog_store_postgres::PostgresStore;
use shiplog_store_postgres::test_support::TestDatabase;

const DELIVERIES: usize = 500;

async fn claim_until_empty(store: PostgresStore, worker: &'static str) -> Vec<i64> {
    let mut claimed = Vec::new();
    loop {
        let now = Timestamp::now();
        let lease_until = now
            .checked_add(SignedDuration::from_secs(3600))
            .expect("an hour from now");
        let batch = store
            .claim_deliveries(worker, now, lease_until, 7)
            .await
            .unwrap_or_else(|e| panic!("{worker} claiming: {e}"));
        if batch.is_empty() {
            return claimed;
        }
        for delivery in &batch {
            assert_eq!(
                delivery.attempts, 1,
                "{worker} got seq {} again",
                delivery.seq
            );
        }
        claimed.extend(batch.iter().map(|d| d.seq));
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_claim_every_delivery_exactly_once() {
    let Some(db) = TestDatabase::create("concurrent_claims").await else {
        return;
    };
    let first = db.store().await;
    let second = db.store().await;
    let received_at = Timestamp::from_second(1_700_000_000).expect("timestamp");
    let deliveries: Vec<NewDelivery> = (0..DELIVERIES)
        .map(|i| NewDelivery {
            source: "github".to_owned(),
            delivery_id: Some(format!("delivery-{i}")),
            received_at,
            headers: vec![("x-github-event".to_owned(), "deployment_status".to_owned())],
            body: format!("{{\"n\":{i}}}").into_bytes(),
        })
        .collect();
    let mut stored = Vec::with_capacity(DELIVERIES);
    for chunk in deliveries.chunks(100) {
        stored.extend(first.store_deliveries(chunk).await.expect("store"));
    }
    let seqs: Vec<i64> = stored
        .iter()
        .map(|s| match s {
            StoredDelivery::New(seq) => *seq,
            StoredDelivery::Duplicate(seq) => panic!("delivery {seq} stored as a duplicate"),
        })
        .collect();

    let a = tokio::spawn(claim_until_empty(first.clone(), "process-a"));
    let b = tokio::spawn(claim_until_empty(second.clone(), "process-b"));
    let (a, b) = (a.await.expect("process a"), b.await.expect("process b"));

    let mut times_claimed: BTreeMap<i64, u32> = BTreeMap::new();
    for seq in a.iter().chain(&b) {
        *times_claimed.entry(*seq).or_default() += 1;
    }
    let twice: Vec<_> = times_claimed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "claimed more than once: {twice:?}");
    let never: Vec<_> = seqs
        .iter()
        .filter(|s| !times_claimed.contains_key(s))
        .collect();
    assert!(never.is_empty(), "never claimed: {never:?}");
    assert_eq!(times_claimed.len(), DELIVERIES);
    eprintln!(
        "process a claimed {}, process b claimed {}",
        a.len(),
        b.len()
    );
    // Both held leases, so nothing is claimable until they run out; after, everything is again.
    let after = Timestamp::now()
        .checked_add(SignedDuration::from_secs(7200))
        .expect("two hours from now");
    let until = after
        .checked_add(SignedDuration::from_secs(60))
        .expect("later");
    let none = first
        .claim_deliveries("process-c", Timestamp::now(), until, 1000)
        .await
        .expect("claim during leases");
    assert!(
        none.is_empty(),
        "claimed {} deliveries under lease",
        none.len()
    );
    let again = second
        .claim_deliveries("process-c", after, until, 1000)
        .await
        .expect("claim after leases");
    assert_eq!(again.len(), DELIVERIES);
    assert!(again.iter().all(|d| d.attempts == 2));
    first.close().await;
    second.close().await;
}

/// Two processes merging updates of one incident must not interleave: while one holds the
/// processing lock, the other waits; dropping the guard (or the process dying) lets it in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_processing_lock_lets_one_process_in_at_a_time() {
    let Some(db) = TestDatabase::create("processing_lock").await else {
        return;
    };
    let first = db.store().await;
    let second = db.store().await;
    let held = first
        .lock_processing()
        .await
        .expect("the first takes the lock");
    let waiting = tokio::spawn(async move {
        let lock = second
            .lock_processing()
            .await
            .expect("the second takes it after");
        (lock, Timestamp::now())
    });
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(
        !waiting.is_finished(),
        "the second process got in while the first held the lock"
    );
    let released_at = Timestamp::now();
    drop(held);
    let (_lock, got_at) = tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
        .await
        .expect("the lock is released when its guard is dropped")
        .expect("the waiting task");
    assert!(got_at >= released_at);
    // A third store gets it once the second lets go, and a guard that is never dropped explicitly
    // (a process that dies) is released with its connection.
    let third = db.store().await;
    drop(_lock);
    tokio::time::timeout(std::time::Duration::from_secs(10), third.lock_processing())
        .await
        .expect("the third gets the lock")
        .expect("lock");
}
