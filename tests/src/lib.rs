//! The Any-ID testkit: boots the real server on `127.0.0.1:0` on a fresh database (SQLite
//! always, PostgreSQL when `ANYID_TEST_DATABASE_URL` is set), and drives it as real peers
//! would: a browser with a cookie jar, and relying parties built on the `openidconnect` crate.
//! A test written once for both backends becomes one named test per backend with
//! [`per_backend!`].
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backends;
pub mod browser;
pub mod certificates;
pub mod db;
pub mod geoip;
pub mod passkey;
pub mod rp;
pub mod scenarios;
pub mod upstream;

use std::sync::Arc;

use anyid::clock::ShiftedClock;
use anyid::config::{Config, ConfigFile, Mode};
use anyid::server::{self, Running};
use serde_json::Value;

pub use browser::{Browser, Landing};
pub use db::{Backend, TestDatabase};
pub use rp::Rp;

/// A running Any-ID on loopback with its own database, data dir and clock.
pub struct TestServer {
    pub backend: Backend,
    pub clock: Arc<ShiftedClock>,
    running: Running,
    db: TestDatabase,
    _data_dir: tempfile::TempDir,
    admin_http: reqwest::Client,
}

impl TestServer {
    pub async fn start(backend: Backend) -> anyhow::Result<Self> {
        Self::start_with(backend, |_| {}).await
    }

    /// Start with a configuration adjusted by `tweak`.
    pub async fn start_with(
        backend: Backend,
        tweak: impl FnOnce(&mut ConfigFile),
    ) -> anyhow::Result<Self> {
        let db = TestDatabase::fresh(backend).await?;
        let data_dir = tempfile::tempdir()?;
        let public = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let mtls = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let mut file = ConfigFile {
            listen: public.local_addr()?,
            admin_listen: Some(admin.local_addr()?),
            data_dir: data_dir.path().to_path_buf(),
            database_url: Some(anyid::config::Secret::new(db.url.clone())),
            ..ConfigFile::default()
        };
        file.mtls.listen = Some(mtls.local_addr()?);
        tweak(&mut file);
        anyid::config::dev::prepare(&file)?;
        let config = Config::resolve(file, Mode::Dev)?;
        let clock = Arc::new(ShiftedClock::default());
        let state = server::build(config, clock.clone()).await?;
        let listeners = server::Listeners {
            public,
            admin: Some(admin),
            mtls: Some(mtls),
        };
        let running = server::start_on(state, listeners).await?;
        Ok(Self {
            backend,
            clock,
            running,
            db,
            _data_dir: data_dir,
            admin_http: reqwest::Client::new(),
        })
    }

    /// The server's data dir (dev secrets, the dev CA in `certs/`).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    pub fn database_url(&self) -> String {
        self.db.url.clone()
    }

    /// How many rows `table` holds (what a request wrote, or did not).
    pub async fn count(&self, table: &str) -> i64 {
        let pool = sqlx::AnyPool::connect(&self.db.url)
            .await
            .expect("database");
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.expect("count");
        pool.close().await;
        n
    }

    /// Every row of every table as text, one line per row (`table: col=value ...`), each
    /// value cast to text by the database, blobs in lower-case hex. For checking that a value
    /// is stored nowhere (look for its hex form too).
    pub async fn dump(&self) -> String {
        let pool = sqlx::AnyPool::connect(&self.db.url)
            .await
            .expect("database");
        let (tables_sql, columns_sql, cast) = match self.backend {
            Backend::Sqlite => (
                "SELECT name FROM sqlite_master WHERE type = 'table'",
                "SELECT name FROM pragma_table_info($1)",
                "CASE WHEN typeof(\"{c}\") = 'blob' THEN lower(hex(\"{c}\")) \
                 ELSE CAST(\"{c}\" AS TEXT) END",
            ),
            Backend::Postgres => (
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                "\"{c}\"::text",
            ),
        };
        let tables: Vec<(String,)> = sqlx::query_as(tables_sql)
            .fetch_all(&pool)
            .await
            .expect("tables");
        let mut out = String::new();
        for (table,) in tables {
            let columns: Vec<(String,)> = sqlx::query_as(columns_sql)
                .bind(&table)
                .fetch_all(&pool)
                .await
                .expect("columns");
            let select: Vec<String> = columns.iter().map(|(c,)| cast.replace("{c}", c)).collect();
            let sql = sqlx::AssertSqlSafe(format!("SELECT {} FROM \"{table}\"", select.join(", ")));
            for row in sqlx::query(sql).fetch_all(&pool).await.expect("rows") {
                use sqlx::Row;
                out.push_str(&table);
                out.push(':');
                for (i, (column,)) in columns.iter().enumerate() {
                    let value: Option<String> = row.try_get(i).expect("a text value");
                    out.push_str(&format!(" {column}={}", value.unwrap_or_default()));
                }
                out.push('\n');
            }
        }
        pool.close().await;
        out
    }

    pub fn issuer(&self) -> &str {
        &self.running.state.issuer
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer())
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!(
            "http://{}{path}",
            self.running.admin_addr.expect("admin listener")
        )
    }

    pub fn admin_token(&self) -> String {
        self.running
            .state
            .config
            .admin_token
            .as_ref()
            .expect("admin token")
            .expose()
            .to_owned()
    }

    pub fn state(&self) -> &anyid::state::AppState {
        &self.running.state
    }

    /// `GET` an admin API path with the admin token; the JSON answer.
    pub async fn admin_get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .admin_http
            .get(self.admin_url(path))
            .bearer_auth(self.admin_token())
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// Register a relying party through the admin API; returns (client_id, client_secret).
    pub async fn add_client(&self, registration: Value) -> anyhow::Result<(String, String)> {
        let response = self
            .admin_http
            .post(self.admin_url("/admin/v1/clients"))
            .bearer_auth(self.admin_token())
            .json(&registration)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(
            status.as_u16() == 201,
            "client registration failed: {status} {body}"
        );
        Ok((
            body["client_id"].as_str().unwrap_or_default().to_owned(),
            body["client_secret"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ))
    }

    /// Register a relying party (redirect URI on `host`, port 1) and discover this provider
    /// with it, as a real relying party would.
    pub async fn relying_party(&self, name: &str, host: &str) -> Rp {
        let (id, secret) = self
            .add_client(rp_registration(name, host))
            .await
            .expect("registration");
        Rp::discover(
            self.issuer(),
            &id,
            &secret,
            &format!("http://{host}:1/callback"),
        )
        .await
        .expect("discovery")
    }

    pub async fn stop(self) {
        self.running.shutdown().await;
        self.db.drop_database().await;
    }
}

/// The whole seconds a 429 answer says to wait (`Retry-After`), checked to be within
/// 1..=`at_most`.
pub fn retry_after(answer: &reqwest::Response, at_most: u64) -> u64 {
    let wait: u64 = answer.headers()[reqwest::header::RETRY_AFTER]
        .to_str()
        .expect("Retry-After is text")
        .parse()
        .expect("Retry-After in seconds");
    assert!((1..=at_most).contains(&wait), "Retry-After {wait}");
    wait
}

/// A relying party registration on a loopback redirect URI that is never contacted: the
/// browser stops at the redirect and hands the URL to the relying party.
pub fn rp_registration(name: &str, host: &str) -> Value {
    serde_json::json!({
        "name": name,
        "redirect_uris": [format!("http://{host}:1/callback")],
        "post_logout_redirect_uris": [format!("http://{host}:1/signed-out")],
    })
}
