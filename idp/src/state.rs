//! Application state, built once at start and shared by every request: configuration, the
//! store, the key ring, the clock, and metrics. No globals: two servers run in one process.

use std::sync::Arc;

use anyid_adapters::upstream::Upstream;
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
    pub store: SqlStore,
    pub keys: Keys,
    pub clock: Arc<dyn Clock>,
    pub metrics: Metrics,
    /// Recently read client registrations (the token endpoint's hot path).
    pub client_cache: crate::clients::ClientCache,
    /// Throttles repeated failed client authentications per client and address.
    pub client_auth_failures: AuthFailureLimits,
    /// Bounds unauthenticated requests that create login state, per address and in total.
    pub login_limits: RequestLimiter,
    /// Dev mode's demo relying party, when running.
    pub demo: Option<crate::http::demo::DemoClient>,
    /// The discovery document, serialised once.
    pub discovery: Arc<[u8]>,
    /// Upstream identity providers, in the order of the configuration.
    pub upstreams: Vec<Upstream>,
    /// WebAuthn ceremonies, when passkeys are on.
    pub passkeys: Option<anyid_adapters::passkey::Passkeys>,
    /// Certificate login (both transports), when on.
    pub certificates: Option<anyid_adapters::certificate::CertificateLogin>,
}

pub type AppState = Arc<Core>;

impl Core {
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
}
