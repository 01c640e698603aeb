//! A fresh PostgreSQL database per test, for this crate's tests and the server's (feature
//! `test-support`).
//!
//! Tests need a real server: they read its URL from `SHIPLOG_TEST_DATABASE_URL` and fail, saying
//! how to start one, when it is not set. Only `SHIPLOG_SKIP_POSTGRES=1` (an explicit opt-out that
//! CI never sets) turns that failure into a skip.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::{Connection, PgConnection};

use crate::{PostgresStore, redact_url};

/// The variable naming the server tests use.
pub const DATABASE_URL_VAR: &str = "SHIPLOG_TEST_DATABASE_URL";

/// The variable that, set to `1`, skips the PostgreSQL tests instead of failing them.
pub const SKIP_VAR: &str = "SHIPLOG_SKIP_POSTGRES";

/// What a test prints when no server is given.
pub const HOW_TO_START: &str = "\
PostgreSQL tests need a server: set SHIPLOG_TEST_DATABASE_URL, for example with
    eval \"$(.ci/postgres.sh start)\"      # a throw-away cluster in a temp dir (installs postgresql if missing)
    cargo test -p shiplog-store-postgres
    .ci/postgres.sh stop \"$SHIPLOG_PG_DIR\"
or point it at a server of your own: SHIPLOG_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
(the user must be allowed to CREATE DATABASE). To skip these tests on purpose: SHIPLOG_SKIP_POSTGRES=1.";

/// The server's URL, or `None` when the tests are skipped on purpose. Panics with
/// [`HOW_TO_START`] when neither is set.
pub fn server_url() -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var(SKIP_VAR).is_ok_and(|v| v == "1") => {
            eprintln!("{SKIP_VAR}=1: skipping a PostgreSQL test");
            None
        }
        _ => panic!("{DATABASE_URL_VAR} is not set.\n{HOW_TO_START}"),
    }
}

/// A database made for one test, dropped (with its open connections) when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    server_url: String,
    name: String,
    url: String,
}

/// `url` with its path (the database name) replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

fn unique_name(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in format!("{nanos}-{}-{n}", std::process::id()).bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let label: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .map(|c| c.to_ascii_lowercase())
        .take(30)
        .collect();
    format!("shiplog_test_{label}_{hash:016x}")
}

async fn admin(server_url: &str) -> PgConnection {
    PgConnection::connect(server_url).await.unwrap_or_else(|e| {
        panic!(
            "cannot connect to the test server {} ({DATABASE_URL_VAR}): {e}\n{HOW_TO_START}",
            redact_url(server_url)
        )
    })
}

impl TestDatabase {
    /// Creates a new, empty database on the test server (named after `label`), or `None` when
    /// the tests are skipped on purpose (see [`server_url`]).
    pub async fn create(label: &str) -> Option<TestDatabase> {
        let server_url = server_url()?;
        let name = unique_name(label);
        let mut conn = admin(&server_url).await;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        let _ = conn.close().await;
        let url = with_database(&server_url, &name);
        Some(TestDatabase {
            server_url,
            name,
            url,
        })
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A store on it (migrated).
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connecting to the test database: {e}"))
    }
}

impl Drop for TestDatabase {
    /// Drops the database from a thread of its own (drop cannot await, and may run inside a
    /// runtime), waiting until it is gone.
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("a runtime to drop {name}: {e}"))?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&server_url)
                    .await
                    .map_err(|e| format!("connecting to drop {name}: {e}"))?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .map_err(|e| format!("DROP DATABASE {name}: {e}"))?;
                let _ = conn.close().await;
                Ok::<(), String>(())
            })
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("test database left behind: {e}"),
            Err(_) => eprintln!("test database {} left behind: the drop panicked", self.name),
        }
    }
}

/// A fresh, empty database on the test server, or `None` when the tests are skipped on purpose
/// (see [`server_url`]).
pub async fn test_database() -> Option<TestDatabase> {
    TestDatabase::create("db").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_replaces_the_path_and_keeps_the_query() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }

    #[test]
    fn names_are_unique_and_safe() {
        let a = unique_name("Some-Test");
        let b = unique_name("Some-Test");
        assert_ne!(a, b);
        assert!(a.starts_with("shiplog_test_sometest_"), "{a}");
        assert!(a.len() < 63, "{a}");
    }
}
