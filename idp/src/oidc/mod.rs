//! The OpenID Connect / OAuth 2 protocol domain, without HTTP types: authorization-request
//! validation, the login flow state machine, PKCE, client authentication, grants, token and
//! claims assembly, SSO sessions, userinfo, introspection, revocation and logout.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod client_cache;
pub mod discovery;
pub mod flow;
pub mod grants;
pub mod introspection;
pub mod logout;
pub mod params;
pub mod pkce;
pub mod revocation;
pub mod session;
pub mod subject;
pub mod tokens;
pub mod userinfo;

use anyid_policy::facts::ClientFacts;
use anyid_policy::limits::AuthFailureLimits;
use anyid_policy::{Decision, Engine, Request as PolicyRequest};

use crate::clock::{Clock, UnixTime};
use crate::config::TokenLifetimes;
use crate::keys::Keys;
use crate::store::{ClientRecord, SqlStore};

use self::client_cache::ClientCache;

/// What the protocol domain works with, and nothing more: storage, time, signing keys, who
/// this provider is, token lifetimes, the subject secret, the registered clients and the
/// client-authentication limits. The application state lends one per request
/// (`Core::provider`); a unit test builds one from a store on a temporary file.
#[derive(Clone, Copy)]
pub struct Provider<'a> {
    pub store: &'a SqlStore,
    pub clock: &'a dyn Clock,
    pub keys: &'a Keys,
    /// The issuer identifier, exactly as published (no trailing slash).
    pub issuer: &'a str,
    pub lifetimes: TokenLifetimes,
    /// Keyed-hash and MAC keys, one per purpose.
    pub secrets: &'a crate::crypto::PurposeKeys,
    pub clients: &'a ClientCache,
    pub client_auth_failures: &'a AuthFailureLimits,
    /// The policy decision point.
    pub policy: &'a Engine,
    /// Where every decision is logged.
    pub decisions: &'a crate::decisions::DecisionLog,
    /// Request budgets.
    pub budgets: &'a crate::budgets::Budgets,
    /// What this process looked up a moment ago.
    pub recent: &'a crate::cache::Recents,
    /// The access record, where Any-ID's own events go (`audit::event::AccessRecord::own`).
    pub audit: &'a crate::audit::intake::LogWriter,
    /// Cookies are `Secure` and `__Host-` prefixed: the issuer is https.
    pub secure_cookies: bool,
}

impl Provider<'_> {
    pub fn now(&self) -> UnixTime {
        self.clock.now()
    }

    /// An endpoint URL under the issuer.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// Ask the policy decision point about `request` (DESIGN §6), log the decision, and say
    /// what it decided.
    pub fn decide(&self, request: &PolicyRequest) -> Decision {
        self.decide_outcome(request).decision
    }

    /// The same, with the whole outcome (the determining policies and their reasons).
    pub fn decide_outcome(&self, request: &PolicyRequest) -> anyid_policy::Outcome {
        let outcome = self.policy.evaluate(request, self.clock.since_epoch());
        let id = uuid::Uuid::now_v7().to_string();
        self.decisions.record(crate::decisions::DecisionRecord::new(
            request,
            &outcome,
            id,
            self.now(),
            self.secrets,
        ));
        match outcome.decision {
            Decision::Allow => tracing::debug!(
                action = ?request.action,
                policies = ?outcome.policies,
                "policy allows"
            ),
            decision => tracing::info!(
                action = ?request.action,
                ?decision,
                policies = ?outcome.policies,
                reasons = ?outcome.reasons,
                zone = %outcome.zone,
                "policy does not allow"
            ),
        }
        outcome
    }

    /// The time now in Unix milliseconds, as the access record keeps it.
    pub fn now_ms(&self) -> i64 {
        i64::try_from(self.clock.since_epoch().as_millis()).unwrap_or(i64::MAX)
    }

    /// Append Any-ID's own `records` to the access record and wait until they are durable:
    /// what is not recorded does not happen (a release, a permit), so a failed write is the
    /// request's failure, never dropped.
    pub async fn record(
        &self,
        records: Vec<crate::audit::event::AccessRecord>,
    ) -> Result<(), crate::error::OAuthError> {
        self.audit
            .write(records)
            .await
            .map(drop)
            .map_err(|e| crate::error::OAuthError::server_error(format!("the access record: {e}")))
    }

    /// What policy knows about a relying party, its agency as configured.
    pub fn client_facts(&self, client: &ClientRecord) -> ClientFacts {
        ClientFacts {
            id: client.id.clone(),
            sensitive: client.sensitive,
            agency: client.agency.as_deref().map(|id| self.policy.agency(id)),
            minimum: None,
        }
    }
}

/// Scopes this provider understands (OIDC Core §5.4 plus `offline_access`, §11).
pub const SUPPORTED_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
];

/// Authorization codes live 60 seconds (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_TTL_S: i64 = 60;
/// A login flow (the citizen choosing a method, consenting) must finish within 15 minutes.
pub const FLOW_TTL_S: i64 = 15 * 60;

pub fn parse_scope(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}
