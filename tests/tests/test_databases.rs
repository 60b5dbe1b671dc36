//! The testkit's promise about databases: a test that fails leaves no PostgreSQL database
//! behind, even though it never reaches `TestServer::stop`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid_tests::db::{postgres_admin_url, postgres_database_exists, postgres_or_skip};
use anyid_tests::{Backend, TestServer};

/// The server's pool still holds sessions on the database when the test panics; unwinding
/// drops the database anyway.
#[tokio::test]
async fn a_test_that_panics_leaves_no_postgres_database_behind() {
    if !postgres_or_skip("a_test_that_panics_leaves_no_postgres_database_behind") {
        return;
    }
    let admin_url = postgres_admin_url().unwrap();
    let (named, name) = tokio::sync::oneshot::channel();
    let failing = {
        let admin_url = admin_url.clone();
        tokio::spawn(async move {
            let op = TestServer::start(Backend::Postgres).await.unwrap();
            let url = url::Url::parse(&op.database_url()).unwrap();
            let database = url.path().trim_start_matches('/').to_owned();
            assert!(
                postgres_database_exists(&admin_url, &database)
                    .await
                    .unwrap()
            );
            named.send(database).unwrap();
            panic!("a test fails with its server running");
        })
    };
    assert!(failing.await.unwrap_err().is_panic());
    let name = name.await.unwrap();
    assert!(
        !postgres_database_exists(&admin_url, &name).await.unwrap(),
        "{name} was left behind"
    );
}
