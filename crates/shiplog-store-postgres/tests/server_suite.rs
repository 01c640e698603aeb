//! The shared server suite (`shiplog_store::server_testsuite::run_server_suite`) against a real
//! PostgreSQL server, each test on a fresh database.

use std::sync::Mutex;

use shiplog_store::ServerStore;
use shiplog_store_postgres::test_support::{TestDatabase, server_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_the_shared_server_suite() {
    if server_url().is_none() {
        return;
    }
    // Every test's database lives until the suite ends (the stores are handed out as trait objects).
    let databases: Mutex<Vec<TestDatabase>> = Mutex::new(Vec::new());
    shiplog_store::server_testsuite::run_server_suite(|name| {
        let databases = &databases;
        async move {
            let db = TestDatabase::create(name)
                .await
                .expect("server URL checked above");
            let store = db.store().await;
            databases.lock().expect("databases").push(db);
            Box::new(store) as Box<dyn ServerStore>
        }
    })
    .await;
}
