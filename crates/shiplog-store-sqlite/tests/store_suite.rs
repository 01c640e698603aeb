//! The shared store suite against real SQLite files, plus what only SQLite has: files, reopening,
//! migrations, hand-edited rows.

use std::path::Path;

use shiplog_core::{Deployment, DeploymentId, DeploymentSource, DeploymentStatus, Environment};
use shiplog_core::{ServiceName, Sha};
use shiplog_store::testsuite::{
    self, sample_deployments, sample_incidents, sample_practice_changes,
};
use shiplog_store::{ApplySummary, EventBatch, HistorySegment, Store, StoreError, WriteCounts};
use shiplog_store_sqlite::SqliteStore;
use sqlx::{Connection, SqliteConnection};

async fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path)
        .await
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()))
}

/// A plain connection to the file, bypassing the store (to inspect or damage it).
async fn raw(path: &Path) -> SqliteConnection {
    let url = format!("sqlite://{}", path.display());
    SqliteConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
}

fn sample_batch() -> EventBatch {
    EventBatch {
        deployments: sample_deployments(),
        incidents: sample_incidents(),
        practice_changes: sample_practice_changes(),
        pull_requests: testsuite::sample_pull_requests(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_shared_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    testsuite::run_all(|name| {
        let path = root.join(format!("{name}.db"));
        async move { Box::new(open(&path).await) as Box<dyn Store> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_shared_server_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_owned();
    shiplog_store::server_testsuite::run_server_suite(|name| {
        let path = root.join(format!("{name}.db"));
        async move { Box::new(open(&path).await) as Box<dyn shiplog_store::ServerStore> }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_creates_the_file_and_missing_parents_in_wal_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a/b/c/shiplog.db");
    let store = open(&path).await;
    assert_eq!(store.path(), path);
    assert!(path.is_file(), "{} was not created", path.display());
    store.close().await;

    let mut conn = raw(&path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("journal mode");
    assert_eq!(mode, "wal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_data_and_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shiplog.db");
    let batch = sample_batch();
    let segment = HistorySegment {
        seq: 0,
        commits: 3,
        data: vec![1, 2, 3].into(),
    };

    let store = open(&path).await;
    store.apply(&batch).await.expect("apply");
    store
        .append_history("repo", &segment)
        .await
        .expect("append");
    store.close().await;

    let migrations = |path: &Path| {
        let path = path.to_owned();
        async move {
            let mut conn = raw(&path).await;
            sqlx::query_as::<_, (i64, bool, Vec<u8>)>(
                "SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version",
            )
            .fetch_all(&mut conn)
            .await
            .expect("reading _sqlx_migrations")
        }
    };
    let before = migrations(&path).await;
    assert!(!before.is_empty() && before.iter().all(|(_, ok, _)| *ok));

    for round in 0..2 {
        let store = open(&path).await;
        assert_eq!(
            store.deployments().await.expect("deployments").len(),
            batch.deployments.len(),
            "deployments after reopening (round {round})"
        );
        assert_eq!(
            store.incidents().await.expect("incidents").len(),
            batch.incidents.len()
        );
        assert_eq!(
            store.history("repo").await.expect("history"),
            std::slice::from_ref(&segment)
        );
        let again = store.apply(&batch).await.expect("apply again");
        assert_eq!(again.deployments.unchanged, batch.deployments.len() as u64);
        assert_eq!(again.incidents.unchanged, batch.incidents.len() as u64);
        store.close().await;
        assert_eq!(
            migrations(&path).await,
            before,
            "migrations after reopening"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_share_it() {
    // As two shiplog processes would.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shiplog.db");
    let (one, two) = (open(&path).await, open(&path).await);
    let batch = sample_batch();
    let (a, b) = tokio::join!(one.apply(&batch), two.apply(&batch));
    let (a, b) = (a.expect("apply one"), b.expect("apply two"));
    let n = batch.deployments.len() as u64;
    assert_eq!(
        a.deployments.inserted + b.deployments.inserted,
        n,
        "{a:?} {b:?}"
    );
    assert_eq!(a.deployments.unchanged + b.deployments.unchanged, n);
    assert_eq!(
        one.deployments().await.expect("read one"),
        two.deployments().await.expect("read two")
    );
}

#[tokio::test]
async fn open_under_a_file_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "plain file").expect("write");
    let path = file.join("shiplog.db");
    let err = SqliteStore::open(&path)
        .await
        .expect_err("opening under a file must fail");
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message must name {}: {message}",
        path.display()
    );
}

#[tokio::test]
async fn open_a_file_that_is_not_a_database_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are notes, not a database\n".repeat(200)).expect("write");
    let err = SqliteStore::open(&path)
        .await
        .expect_err("opening a text file must fail");
    let message = err.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "the message must name {}: {message}",
        path.display()
    );
}

#[tokio::test]
async fn a_store_migrated_by_a_newer_shiplog_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shiplog.db");
    open(&path).await.close().await;
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101000000, 'from the future', TRUE, X'00', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert a future migration");
    conn.close().await.expect("close");

    let err = SqliteStore::open(&path)
        .await
        .expect_err("a newer schema must be refused");
    assert!(matches!(err, StoreError::Migrate(_)), "{err:?}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "the message must name the path: {err}"
    );
    assert!(
        err.to_string().contains(
            "written by a newer shiplog (schema 99990101000000; this shiplog knows schema"
        ),
        "the message says what to do: {err}"
    );
    assert!(err.to_string().ends_with("upgrade shiplog"), "{err}");
}

#[tokio::test]
async fn an_interrupted_schema_update_is_explained_without_sqlx_internals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shiplog.db");
    open(&path).await.close().await;
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE _sqlx_migrations SET success = FALSE WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)")
        .execute(&mut conn)
        .await
        .expect("mark the last migration dirty");
    conn.close().await.expect("close");
    let err = SqliteStore::open(&path)
        .await
        .expect_err("a dirty schema must be refused");
    let text = err.to_string();
    assert!(
        text.contains("was interrupted, so it is half updated"),
        "{text}"
    );
    assert!(!text.contains("_sqlx_migrations"), "{text}");
}

#[tokio::test]
async fn a_directory_or_a_read_only_file_is_explained() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = SqliteStore::open(dir.path())
        .await
        .expect_err("a directory is no store");
    assert!(
        err.to_string()
            .contains("it is a directory, not a store file"),
        "{err}"
    );
    let path = dir.path().join("ro.db");
    open(&path).await.close().await;
    let mut perms = std::fs::metadata(&path).expect("stat").permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms).expect("chmod");
    let err = SqliteStore::open(&path).await.expect_err("read-only");
    assert!(err.to_string().contains("the file is read-only"), "{err}");
}

/// Damages one column of one row by hand, then expects reading to report exactly it.
async fn expect_corrupt(
    path: &Path,
    damage: &str,
    table: &'static str,
    key: &str,
    what: &'static str,
) {
    let store = open(path).await;
    store.apply(&sample_batch()).await.expect("apply");
    let mut conn = raw(path).await;
    sqlx::query(sqlx::AssertSqlSafe(damage.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{damage}: {e}"));
    conn.close().await.expect("close");

    let result = match table {
        "deployments" => store.deployments().await.map(|_| ()),
        "incidents" => store.incidents().await.map(|_| ()),
        "practice_changes" => store.practice_changes().await.map(|_| ()),
        _ => store.history("repo").await.map(|_| ()),
    };
    match result {
        Err(StoreError::Corrupt {
            table: t,
            key: k,
            what: w,
            detail,
        }) => {
            assert_eq!(
                (t, k.as_str(), w),
                (table, key, what),
                "after {damage}: {detail}"
            );
        }
        other => panic!("after {damage}: expected a Corrupt error, got {other:?}"),
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_stored_values_are_corrupt_errors_naming_table_key_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shiplog.db");
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "UPDATE deployments SET sha = 'not-a-sha' WHERE id = 'd-1'",
            "deployments",
            "d-1",
            "sha",
        ),
        (
            "UPDATE deployments SET service = 'has space' WHERE id = 'd-2'",
            "deployments",
            "d-2",
            "service",
        ),
        (
            "UPDATE deployments SET environment = '' WHERE id = 'd-2'",
            "deployments",
            "d-2",
            "environment",
        ),
        (
            "UPDATE deployments SET finished_at = 'yesterday' WHERE id = 'd-9'",
            "deployments",
            "d-9",
            "finished_at",
        ),
        (
            "UPDATE deployments SET started_at = 9223372036854775807 WHERE id = 'd-1'",
            "deployments",
            "d-1",
            "started_at",
        ),
        (
            "UPDATE deployments SET status = 'exploded' WHERE id = 'd-10'",
            "deployments",
            "d-10",
            "status",
        ),
        (
            "UPDATE deployments SET unplanned = 2 WHERE id = 'd-10'",
            "deployments",
            "d-10",
            "unplanned",
        ),
        (
            "UPDATE deployments SET source = 'carrier-pigeon' WHERE id = 'd-1'",
            "deployments",
            "d-1",
            "source",
        ),
        (
            "UPDATE deployments SET id = 'bad id' WHERE id = 'd-1'",
            "deployments",
            "bad id",
            "id",
        ),
        (
            "UPDATE incidents SET sha = 'abc' WHERE id = 'inc-2'",
            "incidents",
            "inc-2",
            "sha",
        ),
        (
            "UPDATE incidents SET deployment_id = '' WHERE id = 'inc-1'",
            "incidents",
            "inc-1",
            "deployment_id",
        ),
        (
            "UPDATE incidents SET title = X'00ff' WHERE id = 'inc-1'",
            "incidents",
            "inc-1",
            "title",
        ),
        (
            "UPDATE incidents SET opened_at = 1.5 WHERE id = 'inc-1'",
            "incidents",
            "inc-1",
            "opened_at",
        ),
        (
            "UPDATE practice_changes SET started_on = 'soon' WHERE name = 'Small batches'",
            "practice_changes",
            "Small batches",
            "started_on",
        ),
        (
            "UPDATE practice_changes SET services = 'api my-web', team = 'core' WHERE name = 'Trunk-based development'",
            "practice_changes",
            "Trunk-based development",
            "team",
        ),
        (
            "UPDATE practice_changes SET ended_on = '2025-01-01' WHERE name = 'Pair programming'",
            "practice_changes",
            "Pair programming",
            "ended_on",
        ),
        (
            "INSERT INTO history_segments (repository, seq, commits, file, bytes) VALUES ('repo', 1, 1, 'x.seg', 1)",
            "history_segments",
            "\"repo\" seq 1",
            "seq",
        ),
        (
            "UPDATE practice_changes SET started_on = 'soon' WHERE name = 'Small batches'",
            "practice_changes",
            "Small batches",
            "started_on",
        ),
        (
            "UPDATE practice_changes SET services = 'api my-web', team = 'core' WHERE name = 'Trunk-based development'",
            "practice_changes",
            "Trunk-based development",
            "team",
        ),
        (
            "UPDATE practice_changes SET ended_on = '2025-01-01' WHERE name = 'Pair programming'",
            "practice_changes",
            "Pair programming",
            "ended_on",
        ),
        (
            "INSERT INTO history_segments (repository, seq, commits, file, bytes) VALUES ('repo', 0, 1, 'missing.seg', 1)",
            "history_segments",
            "\"repo\" seq 0",
            "file",
        ),
    ];
    for (i, (damage, table, key, what)) in cases.iter().enumerate() {
        let path = path.with_file_name(format!("case-{i}.db"));
        expect_corrupt(&path, damage, table, key, what).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_a_record_over_a_damaged_row_repairs_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("shiplog.db");
    let store = open(&path).await;
    let batch = sample_batch();
    store.apply(&batch).await.expect("apply");
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE deployments SET finished_at = 'soon', sha = 'xyz' WHERE id = 'd-1'")
        .execute(&mut conn)
        .await
        .expect("damage");
    conn.close().await.expect("close");
    assert!(store.deployments().await.is_err());

    let got = store.apply(&batch).await.expect("apply over damage");
    let n = batch.deployments.len() as u64;
    assert_eq!(
        got.deployments,
        WriteCounts {
            inserted: 0,
            updated: 1,
            unchanged: n - 1
        }
    );
    let mut expected = batch.deployments.clone();
    expected.sort_by(|a, b| (a.finished_at, &a.id).cmp(&(b.finished_at, &b.id)));
    assert_eq!(store.deployments().await.expect("read repaired"), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_10_000_deployments_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("shiplog.db")).await;
    let base = jiff::Timestamp::from_second(1_700_000_000).expect("timestamp");
    let deployments: Vec<Deployment> = (0..10_000u32)
        .map(|i| {
            let mut sha = [0u8; 20];
            sha[..4].copy_from_slice(&i.to_be_bytes());
            Deployment {
                id: DeploymentId::new(&format!("d-{i}")).expect("id"),
                service: ServiceName::new("api").expect("service"),
                environment: Environment::production(),
                sha: Sha::from_bytes(sha),
                finished_at: base
                    .checked_add(jiff::SignedDuration::from_micros(i64::from(i) * 1_000_001))
                    .expect("timestamp"),
                started_at: None,
                status: DeploymentStatus::Success,
                unplanned: i % 10 == 0,
                source: DeploymentSource::Imported,
                recorded_by: None,
            }
        })
        .collect();
    let batch = EventBatch {
        deployments,
        incidents: vec![],
        practice_changes: vec![],
        pull_requests: vec![],
    };

    let first = store.apply(&batch).await.expect("apply");
    let second = store.apply(&batch).await.expect("apply again");
    let read = store.deployments().await.expect("read");
    assert_eq!(first.deployments.inserted, 10_000);
    assert_eq!(
        second,
        ApplySummary {
            deployments: WriteCounts {
                inserted: 0,
                updated: 0,
                unchanged: 10_000
            },
            incidents: WriteCounts::default(),
            practice_changes: WriteCounts::default(),
            pull_requests: WriteCounts::default(),
        }
    );
    assert_eq!(read, batch.deployments);
}

/// History bytes live in files beside the database; replacing a history removes the old files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_files_sit_beside_the_database_and_are_cleaned_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let store = open(&path).await;
    let segment = |seq: i64, byte: u8| HistorySegment {
        seq,
        commits: 1,
        data: vec![byte; 1000].into(),
    };
    store
        .append_history("repo", &segment(0, 1))
        .await
        .expect("append");
    store
        .append_history("repo", &segment(1, 2))
        .await
        .expect("append");
    let files = || -> usize { walk(&dir.path().join("s.db.history")) };
    assert_eq!(files(), 2);
    // A failed append (wrong seq) leaves no file behind.
    assert!(store.append_history("repo", &segment(5, 3)).await.is_err());
    assert_eq!(files(), 2);
    store
        .replace_history("repo", &[segment(0, 9)])
        .await
        .expect("replace");
    assert_eq!(files(), 1);
    assert_eq!(
        store.history("repo").await.expect("read")[0].data,
        vec![9; 1000]
    );
    store.replace_history("repo", &[]).await.expect("clear");
    assert_eq!(files(), 0);
}

fn walk(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() { walk(&path) } else { 1 }
        })
        .sum()
}
