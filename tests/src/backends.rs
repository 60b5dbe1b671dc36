//! One named test per database backend: [`per_backend!`](crate::per_backend) turns a test
//! written once against a [`Backend`](crate::Backend) into `<test>::sqlite` and
//! `<test>::postgres`, so a failure names its backend and the PostgreSQL half shows in the
//! test list.

/// Turn `async fn name(backend: Backend) { body }` into a module `name` with one test per
/// backend, `name::sqlite` and `name::postgres`, each calling the body with its backend.
///
/// The attributes written on the function (its `#[tokio::test]`, with any runtime
/// arguments such as `flavor = "multi_thread"`, and its doc comment) go on every generated
/// test; without `#[tokio::test]` nothing runs and the build fails on dead code.
///
/// `name::postgres` needs `ANYID_TEST_DATABASE_URL`. When it is not set the test prints one
/// line saying it was skipped and why, and returns at once: it then passes **without having
/// checked anything** (the harness has no "skipped" outcome for a test that started), so a
/// green `name::postgres` means something only when that variable was set.
///
/// ```ignore
/// per_backend!(
///     /// What the test shows.
///     #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
///     async fn a_code_is_redeemed_once(backend: Backend) {
///         let op = TestServer::start(backend).await.unwrap();
///         // ...
///     }
/// );
/// ```
#[macro_export]
macro_rules! per_backend {
    (
        $(#[$attr:meta])*
        async fn $name:ident($backend:ident: $backend_type:ty $(,)?) $body:block
    ) => {
        async fn $name($backend: $backend_type) $body

        mod $name {
            $(#[$attr])*
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }

            $(#[$attr])*
            async fn postgres() {
                if $crate::db::postgres_or_skip(concat!(module_path!(), "::postgres")) {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        }
    };
}
