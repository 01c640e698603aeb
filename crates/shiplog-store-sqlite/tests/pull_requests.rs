//! What only SQLite has for pull requests and incident links: the 0003 migration over a store that
//! already holds incidents, values too large for its integers, and hand-damaged rows.

use shiplog_store::testsuite::{sample_incidents, sample_pull_requests};
use shiplog_store::{EventBatch, Store, StoreError};
use shiplog_store_sqlite::SqliteStore;
use sqlx::{Connection, SqliteConnection};

async fn raw(path: &std::path::Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0003_keeps_incidents_stored_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.db");
    let store = SqliteStore::open(&path).await.expect("open");
    store.close().await;
    // Make the file look like one written before 0003: no duplicate_of, no pull_requests, and an
    // incident row in the old shape.
    let mut conn = raw(&path).await;
    for sql in [
        "DROP TABLE pull_requests",
        "ALTER TABLE incidents DROP COLUMN duplicate_of",
        "DELETE FROM _sqlx_migrations WHERE version = 3",
        "INSERT INTO incidents (id, service, environment, opened_at) VALUES ('inc-old', 'api', 'production', 1700000000000000)",
    ] {
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    conn.close().await.expect("close");

    let store = SqliteStore::open(&path).await.expect("reopen migrates");
    let incidents = store.incidents().await.expect("read");
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].id.as_str(), "inc-old");
    assert_eq!(incidents[0].duplicate_of, None);
    assert!(store.pull_requests().await.expect("read").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_too_large_for_sqlite_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("s.db"))
        .await
        .expect("open");
    let mut prs = sample_pull_requests();
    prs[1].additions = Some(u64::MAX);
    let err = store
        .apply(&EventBatch {
            incidents: sample_incidents(),
            pull_requests: prs,
            ..EventBatch::default()
        })
        .await
        .expect_err("must refuse");
    assert_eq!(
        err.to_string(),
        "store encode pull requests failed: pull request github:octo-org/octo-repo#10: additions 18446744073709551615 does not fit in a 64-bit signed integer"
    );
    assert!(
        store.incidents().await.expect("read").is_empty(),
        "all or nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_rows_name_table_key_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let store = SqliteStore::open(&path).await.expect("open");
    store
        .apply(&EventBatch {
            pull_requests: sample_pull_requests(),
            ..EventBatch::default()
        })
        .await
        .expect("apply");
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE pull_requests SET labels = 'bug' WHERE id = 'github:octo-org/octo-repo#2'")
        .execute(&mut conn)
        .await
        .expect("damage");
    match store.pull_requests().await {
        Err(StoreError::Corrupt {
            table, key, what, ..
        }) => {
            assert_eq!(
                (table, key.as_str(), what),
                ("pull_requests", "github:octo-org/octo-repo#2", "labels")
            );
        }
        other => panic!("expected a corrupt row, got {other:?}"),
    }
}
