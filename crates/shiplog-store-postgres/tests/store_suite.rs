//! The shared store suite (`shiplog_store::testsuite::run_all`) against a real PostgreSQL server,
//! each test on a fresh database, plus what only PostgreSQL has: URLs and their errors.

use std::sync::{Arc, Mutex};

use shiplog_store::testsuite;
use shiplog_store::{Store, StoreError};
use shiplog_store_postgres::PostgresStore;
use shiplog_store_postgres::test_support::{TestDatabase, test_database};

async fn connect(db: &TestDatabase) -> PostgresStore {
    PostgresStore::connect(db.url())
        .await
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", db.url()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_shared_suite() {
    // Every test's database lives until the suite ends (the stores are handed out as trait objects).
    let databases: Arc<Mutex<Vec<TestDatabase>>> = Arc::default();
    if test_database().await.is_none() {
        return;
    }
    let keep = databases.clone();
    testsuite::run_all(move |_name| {
        let keep = keep.clone();
        async move {
            let db = test_database().await.expect("a test database");
            let store = connect(&db).await;
            keep.lock().expect("databases").push(db);
            Box::new(store) as Box<dyn Store>
        }
    })
    .await;
    drop(databases);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_twice_keeps_data_and_does_not_rerun_migrations() {
    let Some(db) = test_database().await else {
        return;
    };
    let first = connect(&db).await;
    first
        .apply(&shiplog_store::EventBatch {
            deployments: testsuite::sample_deployments(),
            ..Default::default()
        })
        .await
        .expect("apply");
    first.close().await;
    let second = connect(&db).await;
    assert_eq!(
        second.deployments().await.expect("read").len(),
        testsuite::sample_deployments().len()
    );
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_explained_and_the_password_redacted() {
    // Port 1 on 127.0.0.1: nothing listens there.
    let url = "postgres://shiplog:hunter2@127.0.0.1:1/shiplog";
    let err = PostgresStore::connect(url)
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let text = format!("{err}");
    assert!(
        text.contains("postgres://shiplog:***@127.0.0.1:1/shiplog"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.contains("no PostgreSQL server answers there"),
        "{text}"
    );
}

#[tokio::test]
async fn a_missing_database_is_explained() {
    let Some(db) = test_database().await else {
        return;
    };
    let url = db.url().replace(db.name(), "shiplog_no_such_database");
    let err = PostgresStore::connect(&url)
        .await
        .expect_err("the database does not exist");
    let text = err.to_string();
    assert!(text.contains("does not exist"), "{text}");
    assert!(text.contains("hint: create the database first"), "{text}");
}

#[tokio::test]
async fn a_schema_from_a_newer_shiplog_is_refused() {
    let Some(db) = test_database().await else {
        return;
    };
    connect(&db).await.close().await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(db.url())
        .await
        .expect("connect");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert a future migration");
    let err = PostgresStore::connect(db.url())
        .await
        .expect_err("a newer schema must be refused");
    assert!(matches!(err, StoreError::Migrate(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("written by a newer shiplog (schema 99990101000000"),
        "{err}"
    );
}
