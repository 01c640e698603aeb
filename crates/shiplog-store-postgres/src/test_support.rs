//! Fresh PostgreSQL databases for tests (feature `test-support`), for this crate's tests and the
//! server's.
//!
//! Tests run against a real server named by `SHIPLOG_TEST_DATABASE_URL`. Each test gets its own
//! database (`shiplog_test_<random>`), created on the server at that URL and dropped when the
//! [`TestDatabase`] is dropped. Without the variable a test fails, saying how to start a server,
//! unless `SHIPLOG_SKIP_POSTGRES=1` opts out explicitly (then [`test_database`] returns `None` and
//! says so on stderr).

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, PgConnection};

/// The variable naming the test server (a URL whose database the tests may create databases from).
pub const URL_VARIABLE: &str = "SHIPLOG_TEST_DATABASE_URL";

/// The variable that, set to `1`, skips PostgreSQL tests instead of failing them.
pub const SKIP_VARIABLE: &str = "SHIPLOG_SKIP_POSTGRES";

/// What a test prints when no server is configured.
pub const HOW_TO_START: &str = "\
PostgreSQL tests need a server: set SHIPLOG_TEST_DATABASE_URL, e.g.
    eval \"$(.ci/postgres.sh start)\"      # a throw-away server in a temp dir (installs postgresql if missing)
    cargo test -p shiplog-store-postgres
    .ci/postgres.sh stop \"$SHIPLOG_PG_DIR\"
or point it at a server of your own: SHIPLOG_TEST_DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/postgres
(the user must be allowed to CREATE DATABASE). To skip these tests instead, set SHIPLOG_SKIP_POSTGRES=1.";

/// A database created for one test, dropped (with its connections) when this is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// The URL of the fresh database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// `url` with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = jiff::Timestamp::now().as_nanosecond();
    let mixed = (nanos as u64)
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("{mixed:016x}")
}

/// A fresh, empty database on the test server, or `None` when `SHIPLOG_SKIP_POSTGRES=1` and no
/// server is configured.
///
/// # Panics
///
/// When `SHIPLOG_TEST_DATABASE_URL` is unset (and the opt-out is not given), or the server cannot
/// be reached or refuses to create the database: the message says how to start one.
pub async fn test_database() -> Option<TestDatabase> {
    let admin_url = match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var(SKIP_VARIABLE).as_deref() == Ok("1") => {
            eprintln!("{SKIP_VARIABLE}=1: skipping a PostgreSQL test (no {URL_VARIABLE})");
            return None;
        }
        _ => panic!("{URL_VARIABLE} is not set.\n{HOW_TO_START}"),
    };
    let name = format!("shiplog_test_{}", random_suffix());
    let mut conn = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "cannot connect to the PostgreSQL test server {}: {e}\n{HOW_TO_START}",
            crate::redact_url(&admin_url)
        )
    });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
    let _ = conn.close().await;
    Some(TestDatabase {
        url: with_database(&admin_url, &name),
        admin_url,
        name,
    })
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime, which cannot be blocked on: drop the database
        // from a thread with a runtime of its own.
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin_url)
                    .await
                    .map_err(|e| e.to_string())?;
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<(), String>(())
            })
        })
        .join();
        let problem = match dropped {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(_) => "the dropping thread panicked".to_owned(),
        };
        eprintln!("could not drop the test database {}: {problem}", self.name);
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
