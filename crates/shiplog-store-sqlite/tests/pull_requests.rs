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
        // The table 0003 recreates lacks what later migrations added to it.
        "DELETE FROM _sqlx_migrations WHERE version = 9",
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
async fn migration_0009_leaves_the_file_count_of_stored_pull_requests_unknown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("old.db");
    let store = SqliteStore::open(&path).await.expect("open");
    let prs = sample_pull_requests();
    assert!(prs.iter().any(|p| p.changed_files.is_some()));
    store
        .apply(&EventBatch {
            pull_requests: prs.clone(),
            ..EventBatch::default()
        })
        .await
        .expect("apply");
    store.close().await;
    // Make the file look like one written before 0009.
    let mut conn = raw(&path).await;
    for sql in [
        "ALTER TABLE pull_requests DROP COLUMN changed_files",
        "DELETE FROM _sqlx_migrations WHERE version = 9",
    ] {
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    conn.close().await.expect("close");

    let store = SqliteStore::open(&path).await.expect("reopen migrates");
    let mut got = store.pull_requests().await.expect("read");
    assert_eq!(got.len(), prs.len());
    assert!(got.iter().all(|p| p.changed_files.is_none()), "{got:?}");
    let mut expected: Vec<_> = prs
        .into_iter()
        .map(|mut p| {
            p.changed_files = None;
            p
        })
        .collect();
    let key = |p: &shiplog_core::PullRequest| p.id.as_str().to_owned();
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(got, expected, "every other field is kept");
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
    sqlx::query("UPDATE pull_requests SET labels = '[]', changed_files = -3 WHERE id = 'github:octo-org/octo-repo#2'")
        .execute(&mut conn)
        .await
        .expect("damage");
    match store.pull_requests().await {
        Err(StoreError::Corrupt {
            table, key, what, ..
        }) => {
            assert_eq!(
                (table, key.as_str(), what),
                (
                    "pull_requests",
                    "github:octo-org/octo-repo#2",
                    "changed_files"
                )
            );
        }
        other => panic!("expected a corrupt changed_files, got {other:?}"),
    }
}
