//! Application state, built once at start and shared by every request: configuration, the
//! store, the key ring, the clock, and metrics. No globals: two servers run in one process.

use std::sync::Arc;

use anyid_adapters::upstream::Upstream;
use anyid_policy::Engine;
use anyid_policy::limits::{AuthFailureLimits, RequestLimiter};

use crate::clock::{Clock, UnixTime};
use crate::config::Config;
use crate::keys::Keys;
use crate::store::SqlStore;
use crate::telemetry::Metrics;

pub struct Core {
    pub config: Config,
    /// The issuer identifier, exactly as published (no trailing slash).
    pub issuer: String,
    /// The issuer's origin (scheme, host, port).
    pub origin: String,
    pub store: SqlStore,
    pub keys: Keys,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    /// Recently read client registrations (the token endpoint's hot path).
    pub client_cache: crate::oidc::client_cache::ClientCache,
    /// Throttles repeated failed client authentications per client and address.
    pub client_auth_failures: AuthFailureLimits,
    /// Bounds unauthenticated requests that create login state, per address and in total.
    pub login_limits: RequestLimiter,
    /// The policy decision point: the Cedar set in force (reloadable), calendar and zones.
    pub policy: Engine,
    /// The access record's writer (`audit::intake`), group-committed.
    pub audit_log: crate::audit::intake::LogWriter,
    /// The key that signs the access record's checkpoints.
    pub log_key: crate::audit::checkpoint::LogKey,
    /// Every policy decision, written in group commits off the request path.
    pub decisions: crate::decisions::DecisionLog,
    /// Request budgets (per client), shared by replicas through Redis when configured.
    pub budgets: crate::budgets::Budgets,
    pub recents: crate::cache::Recents,
    /// Dev mode's demo relying party, when running.
    pub demo: Option<crate::demo::DemoClient>,
    /// The discovery document, serialised once.
    pub discovery: Arc<[u8]>,
    /// Upstream identity providers, in the order of the configuration.
    pub upstreams: Vec<Upstream>,
    /// WebAuthn ceremonies, when passkeys are on.
    pub passkeys: Option<anyid_adapters::passkey::Passkeys>,
    /// Certificate login (both transports), when on.
    pub certificates: Option<anyid_adapters::certificate::CertificateLogin>,
    /// The GeoIP database of the travel risk signal, when configured.
    pub geoip: Option<crate::risk::GeoIp>,
}

pub type AppState = Arc<Core>;

impl Core {
    /// What the protocol domain needs, lent for a request.
    pub fn provider(&self) -> crate::oidc::Provider<'_> {
        crate::oidc::Provider {
            store: &self.store,
            clock: self.clock.as_ref(),
            keys: &self.keys,
            issuer: &self.issuer,
            lifetimes: self.config.tokens,
            secrets: &self.config.purpose_keys,
            clients: &self.client_cache,
            client_auth_failures: &self.client_auth_failures,
            policy: &self.policy,
            decisions: &self.decisions,
            budgets: &self.budgets,
            recent: &self.recents,
            audit: &self.audit_log,
            secure_cookies: self.secure_cookies(),
        }
    }

    /// What login orchestration needs, lent for a request.
    pub fn broker(&self) -> crate::login::Broker<'_> {
        crate::login::Broker {
            op: self.provider(),
            upstreams: &self.upstreams,
            passkeys: self.passkeys.as_ref(),
            certificates: self.certificates.as_ref(),
            dev_login: self.config.dev_login,
            mtls_url: self.config.mtls.as_ref().map(|m| m.url.as_str()),
            key_encryption_key: &self.config.key_encryption_key.0,
            origin: &self.origin,
            geoip: self.geoip.as_ref(),
        }
    }

    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// An endpoint URL under the issuer.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// Cookies are `Secure` and `__Host-` prefixed unless the issuer is plain-http loopback
    /// (dev), where browsers would drop them.
    pub fn upstream(&self, id: &str) -> Option<&Upstream> {
        self.upstreams
            .iter()
            .find(|u| u.id() == id && u.config().enabled)
    }

    pub fn secure_cookies(&self) -> bool {
        self.config.issuer.scheme() == "https"
    }

    /// How pages show times: in the deployment's time zone, named.
    pub fn local_times(&self) -> crate::clock::LocalTimes {
        crate::clock::LocalTimes::new(self.config.policy.calendar.offset())
    }
}
