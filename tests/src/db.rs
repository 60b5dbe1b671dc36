//! Fresh databases per test: a SQLite file in a temporary folder, or a new PostgreSQL
//! database created on the server named by `ANYID_TEST_DATABASE_URL` and dropped afterwards.

use sqlx::{Connection, Executor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const POSTGRES_ENV: &str = "ANYID_TEST_DATABASE_URL";

/// The PostgreSQL server's admin URL from `ANYID_TEST_DATABASE_URL`, if set and not empty.
pub fn postgres_admin_url() -> Option<String> {
    std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty())
}

/// Whether `test` can run on PostgreSQL; when it cannot, print one line saying that `test`
/// was skipped, checked nothing, and why.
pub fn postgres_or_skip(test: &str) -> bool {
    let configured = postgres_admin_url().is_some();
    if !configured {
        eprintln!("{test}: SKIPPED, nothing checked: {POSTGRES_ENV} is not set (no PostgreSQL)");
    }
    configured
}

/// A fresh database for one test. A PostgreSQL database is dropped by
/// [`drop_database`](Self::drop_database), or, when a test panics before that, by `Drop`.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<PostgresDatabase>,
}

impl TestDatabase {
    pub async fn fresh(backend: Backend) -> anyhow::Result<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("anyid.db").display()
                );
                Ok(Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url()
                    .ok_or_else(|| anyhow::anyhow!("{POSTGRES_ENV} is not set"))?;
                let name = format!("anyid_t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin_url).await?;
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .await?;
                conn.close().await?;
                let mut url = url::Url::parse(&admin_url)?;
                url.set_path(&format!("/{name}"));
                Ok(Self {
                    url: url.to_string(),
                    _dir: None,
                    postgres: Some(PostgresDatabase { admin_url, name }),
                })
            }
        }
    }

    /// Drop a PostgreSQL test database now (SQLite files go with their temporary folder).
    pub async fn drop_database(mut self) {
        if let Some(db) = self.postgres.take() {
            db.drop_now().await;
        }
    }
}

impl Drop for TestDatabase {
    /// A test that panicked never reached [`drop_database`](Self::drop_database): drop its
    /// PostgreSQL database here. `Drop` cannot await and usually runs on the test's own
    /// runtime (where `block_on` is refused), so a helper thread drops it on a runtime of its
    /// own while this one waits. Nothing here may panic: this can run during unwinding.
    fn drop(&mut self) {
        let Some(db) = self.postgres.take() else {
            return;
        };
        let dropping = std::thread::Builder::new()
            .name("drop-test-database".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(db.drop_now()),
                    Err(e) => eprintln!("test database {} left behind: {e}", db.name),
                }
            });
        match dropping {
            Ok(thread) => {
                let _ = thread.join();
            }
            Err(e) => eprintln!("test database left behind: {e}"),
        }
    }
}

/// A database this testkit created on the PostgreSQL server at `admin_url`.
struct PostgresDatabase {
    admin_url: String,
    name: String,
}

impl PostgresDatabase {
    /// `WITH (FORCE)` ends the sessions a stopped or panicked server left open; `IF EXISTS`
    /// makes a second drop harmless.
    async fn drop_now(self) {
        let dropped = async {
            let mut conn = sqlx::PgConnection::connect(&self.admin_url).await?;
            conn.execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            )))
            .await?;
            conn.close().await
        };
        if let Err(e) = dropped.await {
            eprintln!("test database {} left behind: {e}", self.name);
        }
    }
}

/// Whether the PostgreSQL server at `admin_url` has a database called `name`.
pub async fn postgres_database_exists(admin_url: &str, name: &str) -> anyhow::Result<bool> {
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    let found: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut conn)
        .await?;
    conn.close().await?;
    Ok(found.is_some())
}
