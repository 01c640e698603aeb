//! What only SQLite shows for sync cursors: a sync's records and its cursors are one transaction,
//! whichever of the two writes fails (a trigger stands in for the failure).

use std::collections::BTreeMap;
use std::path::Path;

use shiplog_store::testsuite::sample_deployments;
use shiplog_store::{EventBatch, Store};
use shiplog_store_sqlite::SqliteStore;
use sqlx::{Connection, SqliteConnection};

const SCOPE: &str = "github https://api.github.com acme/shop";

async fn execute(path: &Path, sql: &str) {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.expect("close");
}

fn batch() -> EventBatch {
    EventBatch {
        deployments: sample_deployments(),
        ..EventBatch::default()
    }
}

fn cursors() -> BTreeMap<String, String> {
    BTreeMap::from([("pulls".to_owned(), r#"{"etag":"W/\"1\""}"#.to_owned())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cursors_that_cannot_be_saved_take_the_records_back_with_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let store = SqliteStore::open(&path).await.expect("open");
    execute(
        &path,
        "CREATE TRIGGER refuse BEFORE INSERT ON sync_state BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .await;
    let err = store
        .apply_synced(&batch(), SCOPE, &cursors())
        .await
        .expect_err("saving the cursors fails");
    assert!(err.to_string().contains("write sync state"), "{err}");
    assert!(
        store.deployments().await.expect("read").is_empty(),
        "the records written before the cursors were rolled back"
    );
    assert!(store.sync_state(SCOPE).await.expect("read").is_empty());

    execute(&path, "DROP TRIGGER refuse").await;
    store
        .apply_synced(&batch(), SCOPE, &cursors())
        .await
        .expect("saves");
    assert_eq!(
        store.deployments().await.expect("read").len(),
        sample_deployments().len()
    );
    assert_eq!(store.sync_state(SCOPE).await.expect("read"), cursors());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_cannot_be_written_save_no_cursors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let store = SqliteStore::open(&path).await.expect("open");
    execute(
        &path,
        "CREATE TRIGGER refuse BEFORE INSERT ON deployments BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .await;
    store
        .apply_synced(&batch(), SCOPE, &cursors())
        .await
        .expect_err("writing the records fails");
    assert!(
        store.sync_state(SCOPE).await.expect("read").is_empty(),
        "no cursor may claim records that were not stored"
    );
}
