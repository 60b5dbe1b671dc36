//! Building and running the server: state from configuration, the public and admin
//! listeners, background upkeep, graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use anyid_adapters::certificate::CertificateLogin;
use anyid_adapters::passkey::Passkeys;
use anyid_adapters::upstream::Upstream;
use anyid_policy::limits::{AuthFailureLimits, RequestLimiter};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clients::{self, Admin, NewClient};
use crate::clock::Clock;
use crate::config::{Config, Mode};
use crate::crypto;
use crate::demo::{DEMO_CLIENT_ID, DemoClient};
use crate::http;
use crate::keys::Keys;
use crate::oidc::discovery;
use crate::state::{AppState, Core};
use crate::store::{DecisionStore, GrantStore, SqlStore};
use crate::telemetry::Metrics;

/// The most keys a failure limiter tracks at once (past that it fails closed).
const MAX_LIMITED_KEYS: usize = 100_000;

/// Connect storage, apply migrations, load or create keys, and (in dev) register the demo
/// relying party.
pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    if config.database_url.expose().starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    }
    let store = SqlStore::connect(
        config.database_url.expose(),
        config.database_max_connections,
    )
    .await
    .context("connecting to the database")?;
    store.migrate().await.context("applying migrations")?;
    ensure_partitions(&store, clock.now()).await;
    if let Some(certs) = config.certificates.as_ref().filter(|c| c.strong_identifier) {
        let changed =
            crate::login::account::protect_certificate_subjects(&store, &config.purpose_keys)
                .await
                .context("hashing certificate identities that are linking values")?;
        if changed > 0 {
            tracing::info!(changed, identity = %certs.identity, "certificate identities now stored as keyed hashes");
        }
    }
    let derived = crate::login::profile::refresh_stale(&store)
        .await
        .context("deriving citizens' profiles by the current rule")?;
    if derived > 0 {
        tracing::info!(
            derived,
            "citizens' profiles derived again by the current rule"
        );
    }
    let kek = *config
        .key_encryption_key
        .as_aes_key()
        .context("key_encryption_key must be 32 bytes")?;
    let keys = Keys::load_or_create(&store, kek, clock.now())
        .await
        .context("loading signing keys")?;
    let issuer = config.issuer.as_str().trim_end_matches('/').to_owned();
    // c2sp.org/signed-note: a schema-less URL names the key.
    let log_name = format!(
        "{}/access-log",
        issuer
            .split_once("://")
            .map_or(issuer.as_str(), |(_, rest)| rest)
    );
    let log_key =
        crate::audit::checkpoint::LogKey::load_or_create(&store, &kek, &log_name, clock.now())
            .await
            .context("loading the access log's key")?;
    let demo = if config.mode == Mode::Dev {
        let secret = crypto::random_token()?;
        let demo = DemoClient::new(&issuer, secret.clone())?;
        let registration = NewClient {
            client_id: Some(DEMO_CLIENT_ID.into()),
            name: "Demo service".into(),
            redirect_uris: vec![demo.redirect_uri.clone()],
            post_logout_redirect_uris: vec![demo.home.clone()],
            purpose: Some("Showing what a relying party receives (a demonstration)".into()),
            retention: Some("Nothing is kept: the demo shows the answer and forgets it".into()),
            ..NewClient::default()
        };
        clients::put_with_secret(
            &Admin::operator(),
            &store,
            &registration,
            &secret,
            config.mode,
            clock.now(),
        )
        .await
        .context("registering the demo relying party")?;
        Some(demo)
    } else {
        None
    };
    let discovery: Arc<[u8]> = Arc::from(discovery::document(&issuer).to_string().into_bytes());
    let mut upstreams = Vec::new();
    for upstream in config.upstreams.iter().filter(|u| u.enabled) {
        upstreams.push(
            Upstream::new(upstream.clone())
                .with_context(|| format!("setting up upstream provider {:?}", upstream.id))?,
        );
    }
    let passkeys = match &config.passkey_rp_id {
        Some(rp_id) => {
            // WebAuthn compares origins (scheme, host, port), not the issuer's path.
            let origin = url::Url::parse(&config.issuer.origin().ascii_serialization())
                .context("the issuer's origin")?;
            Some(Passkeys::new(rp_id, &origin, "Any-ID").context("setting up passkeys")?)
        }
        None => {
            if !matches!(config.issuer.host(), Some(url::Host::Domain(_))) {
                tracing::warn!(
                    issuer = %config.issuer,
                    "passkeys are off: the issuer's host is not a domain (use localhost for loopback)"
                );
            }
            None
        }
    };
    let certificates = match &config.certificates {
        Some(c) => Some(CertificateLogin::new(c.clone()).context("setting up certificate login")?),
        None => None,
    };
    let geoip = match &config.geoip_database {
        Some(path) => Some(
            crate::risk::GeoIp::open(path)
                .with_context(|| format!("opening the GeoIP database {}", path.display()))?,
        ),
        None => None,
    };
    let limits = config.limits.clone();
    let shared = match &limits.redis_url {
        Some(url) => Some(Arc::new(
            crate::budgets::SharedBudgets::new(url.expose())
                .context("limits.redis_url is not a Redis URL")?,
        )),
        None => None,
    };
    let budgets = crate::budgets::Budgets::new(&limits, shared);
    let audit_log = crate::audit::intake::spawn_writer(store.clone(), clock.clone());
    let metrics = Metrics::new();
    let decisions = crate::decisions::DecisionLog::new(
        {
            let store = store.clone();
            crate::batch::GroupWriter::spawn(50_000, 1000, move |rows| {
                let store = store.clone();
                async move { store.record_decisions(&rows).await }
            })
        },
        metrics.clone(),
    );
    let policy = crate::policy::engine(&config.policy).context("loading policies")?;
    let origin = config.issuer.origin().ascii_serialization();
    Ok(Arc::new(Core {
        config,
        issuer,
        origin,
        store,
        keys,
        clock,
        metrics,
        decisions,
        budgets,
        recents: crate::cache::Recents::default(),
        client_cache: Default::default(),
        client_auth_failures: AuthFailureLimits::new(
            limits.client_auth_failures_per_minute,
            Duration::from_secs(60),
            MAX_LIMITED_KEYS,
        ),
        login_limits: RequestLimiter::new(
            limits.login_per_source_per_minute,
            limits.login_per_second,
        ),
        policy,
        audit_log,
        log_key,
        demo,
        discovery,
        upstreams,
        passkeys,
        certificates,
        geoip,
    }))
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    pub admin_addr: Option<SocketAddr>,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stop accepting, finish in-flight requests, stop upkeep.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        self.state.store.close().await;
    }

    /// Run until Ctrl-C or SIGTERM, then shut down gracefully.
    pub async fn until_signalled(self) {
        shutdown_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

/// Bind the configured addresses and serve.
pub async fn start(state: AppState) -> anyhow::Result<Running> {
    /// Bind `addr` for `listener`; an error says which listener and what moves it.
    async fn bind(addr: SocketAddr, listener: &str, moved_by: &str) -> anyhow::Result<TcpListener> {
        TcpListener::bind(addr).await.with_context(|| {
            format!("the {listener} cannot listen on {addr} ({moved_by} moves it)")
        })
    }
    let listeners = Listeners {
        public: bind(state.config.listen, "main listener", "--listen or `listen`").await?,
        admin: match state.config.admin_listen {
            Some(addr) => {
                Some(bind(addr, "admin listener", "--admin-listen or `admin_listen`").await?)
            }
            None => None,
        },
        mtls: match &state.config.mtls {
            Some(m) => Some(
                bind(
                    m.listen,
                    "certificate (mutual TLS) listener",
                    "`mtls.listen` or ANYID_MTLS__LISTEN",
                )
                .await?,
            ),
            None => None,
        },
    };
    start_on(state, listeners).await
}

/// Sockets to serve on.
pub struct Listeners {
    pub public: TcpListener,
    pub admin: Option<TcpListener>,
    /// The mutual-TLS listener for certificate login.
    pub mtls: Option<TcpListener>,
}

/// Serve on listeners the caller bound (tests bind port 0 first to learn the issuer).
pub async fn start_on(state: AppState, listeners: Listeners) -> anyhow::Result<Running> {
    let Listeners {
        public,
        admin,
        mtls,
    } = listeners;
    let (tx, rx) = watch::channel(false);
    let addr = public.local_addr()?;
    let mut tasks = vec![serve(
        public,
        http::public_router(state.clone()),
        rx.clone(),
    )];
    let admin_addr = match admin {
        Some(listener) => {
            let a = listener.local_addr()?;
            tasks.push(serve(
                listener,
                http::admin_router(state.clone()),
                rx.clone(),
            ));
            Some(a)
        }
        None => None,
    };
    if let (Some(listener), Some(config), Some(certificates)) =
        (mtls, &state.config.mtls, &state.certificates)
    {
        let tls = http::mtls::tls_config(config, certificates.anchors())
            .context("setting up the mutual-TLS listener")?;
        tasks.push(http::mtls::serve(listener, tls, state.clone(), rx.clone()));
    }
    tasks.push(tokio::spawn(reload_on_hangup(state.clone(), rx.clone())));
    tasks.push(tokio::spawn(upkeep(state.clone(), rx)));
    Ok(Running {
        addr,
        admin_addr,
        state,
        shutdown: tx,
        tasks,
    })
}

fn serve(
    listener: TcpListener,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!(cause = %e, "listener failed");
        }
    })
}

/// The access record's month partitions (PostgreSQL), ahead of their events; a failure
/// only leaves events in the default partition, so it is said and retried later.
async fn ensure_partitions(store: &SqlStore, now: crate::clock::UnixTime) {
    use crate::store::AuditStore;
    match store.ensure_audit_partitions(now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(created = n, "access-record partitions made"),
        Err(e) => {
            tracing::warn!(cause = %e, "access-record partitions could not be made; events stay in the default partition")
        }
    }
}

/// Periodic work: pick up keys rotated by another process, purge expired rows, forget
/// recovered rate-limit keys, fold metric samples into histograms.
async fn upkeep(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut keys_tick = tokio::time::interval(Duration::from_secs(30));
    let mut purge_tick = tokio::time::interval(Duration::from_secs(300));
    let mut metrics_tick = tokio::time::interval(Duration::from_secs(5));
    let crl_every = state
        .certificates
        .as_ref()
        .map_or(3600, |c| c.config().crl_refresh_seconds.max(60));
    let mut crl_tick = tokio::time::interval(Duration::from_secs(crl_every));
    let mut checkpoint_tick = tokio::time::interval(Duration::from_secs(
        state.config.audit.checkpoint_seconds.max(1),
    ));
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = metrics_tick.tick() => state.metrics.run_upkeep(),
            _ = keys_tick.tick() => {
                if let Err(e) = state.keys.reload(&state.store, state.now()).await {
                    tracing::error!(cause = %e, "reloading signing keys failed; keeping the current ones");
                }
                state.client_auth_failures.forget_recovered(state.clock.since_epoch());
                state.login_limits.forget_recovered();
            }
            _ = checkpoint_tick.tick() => {
                if let Err(e) = crate::audit::checkpoint::checkpoint(&state.store, &state.log_key, state.now()).await {
                    tracing::error!(cause = %e, "signing a checkpoint of the access record failed; will retry");
                }
            }
            _ = crl_tick.tick() => {
                if let Some(certificates) = &state.certificates
                    && let Err(e) = certificates.refresh().await
                {
                    tracing::warn!(cause = %e, "refreshing CRLs failed; keeping the previous ones");
                }
            }
            _ = purge_tick.tick() => {
                match state.store.purge_expired(state.now()).await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, "purged expired records"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(cause = %e, "purging expired records failed; will retry"),
                }
                ensure_partitions(&state.store, state.now()).await;
                match crate::retention::sweep(&state.store, &state.config.retention, state.now()).await {
                    Ok(swept) if swept.any() => tracing::info!(?swept, "removed records past their retention"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(cause = %e, "the retention sweep failed; will retry"),
                }
            }
        }
    }
}

/// SIGHUP reloads the policies.
async fn reload_on_hangup(state: AppState, mut stop: watch::Receiver<bool>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(cause = %e, "cannot listen for SIGHUP; reload policies through the admin API");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = hangups.recv() => {
                    let _ = crate::policy::reload(&state.policy, &state.config.policy, "SIGHUP");
                }
                _ = stop.changed() => return,
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (state, stop.changed().await);
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
