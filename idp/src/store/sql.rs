//! The sqlx store: one code path (`AnyPool`, `$n` placeholders, i64/text/bytes) for SQLite and
//! PostgreSQL, with migrations per backend embedded in the binary.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Executor;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions};

use super::{StoreError, StoreResult};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Reads go through `read`; writes through `write`, which on SQLite is a single connection so
/// writers queue in the pool instead of spinning on SQLite's file lock.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(super) read: AnyPool,
    pub(super) write: AnyPool,
    backend: Backend,
    pub(super) changes: std::sync::Arc<Changes>,
}

/// Counters of changes that short-lived caches of this process must not outlive: a cache
/// entry made before a change is stale at once (other replicas' caches by their age).
#[derive(Debug, Default)]
pub struct Changes {
    revocations: AtomicU64,
    alerts: AtomicU64,
}

impl Changes {
    /// Grants, sessions or access tokens were revoked or removed.
    pub fn revoked(&self) {
        self.revocations.fetch_add(1, Ordering::Release);
    }

    /// Alerts were raised or removed.
    pub fn alerted(&self) {
        self.alerts.fetch_add(1, Ordering::Release);
    }

    pub fn revocations(&self) -> u64 {
        self.revocations.load(Ordering::Acquire)
    }

    pub fn alerts(&self) -> u64 {
        self.alerts.load(Ordering::Acquire)
    }
}

impl SqlStore {
    /// Connect to `url` (`sqlite://…` or `postgres://…`); `max_connections` bounds the read
    /// pool.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Database(
                "database_url must start with sqlite: or postgres:".into(),
            ));
        };
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(10))
                // sqlx pings a connection when it returns to the pool and, by default, again
                // when it leaves it. An embedded SQLite connection cannot be dropped by a peer,
                // so the second ping is only a thread round trip per query.
                .test_before_acquire(backend == Backend::Postgres)
                .after_connect(move |conn, _meta| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            // WAL lets readers run beside the writer; NORMAL sync is durable
                            // across application crashes in WAL mode.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                            )
                            .await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
        };
        let (read, write) = match backend {
            Backend::Sqlite => {
                let write = pool(1).await?;
                (pool(max_connections.max(1)).await?, write)
            }
            Backend::Postgres => {
                let shared = pool(max_connections.max(2)).await?;
                (shared.clone(), shared)
            }
        };
        Ok(Self {
            read,
            write,
            backend,
            changes: std::sync::Arc::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// What this process changed that caches depend on.
    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    /// Apply the embedded migrations for this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Migrate(e.to_string()))
    }

    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}
