//! Any-ID login method adapters: each method begins a login and completes it into a
//! [`VerifiedIdentity`]. No HTTP server and no axum types live here; the `idp` crate persists
//! the [`PendingLogin`] a method returns from `begin` (server-side, consumed once) and hands
//! it back to `complete` with the callback parameters.

pub mod certificate;
pub mod dev;
pub mod passkey;
pub mod upstream;

use serde::{Deserialize, Serialize};

/// Assurance levels live in the policy crate; a [`VerifiedIdentity`] carries one.
pub use anyid_policy::Loa;

/// What a completed login proves: who (issuer + subject at that issuer), how strongly, and the
/// claims the method verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The login method id, as on the login page's `data-method`.
    pub method: String,
    pub issuer: String,
    pub subject: String,
    /// Verified profile claims with OIDC Core §5.1 names.
    pub claims: serde_json::Value,
    pub loa: Loa,
    /// RFC 8176 authentication method references.
    pub amr: Vec<String>,
    /// A verified national identity-linking value (such as CI) from a method trusted for
    /// linking. Never logged; the idp stores only a keyed hash of it.
    pub strong_identifier: Option<StrongIdentifier>,
}

/// A secret string (a client secret, a token, a database URL with a password): redacted in
/// `Debug`, neither `Display` nor `Serialize`, read only through [`Secret::expose`]. The one
/// secret type of the workspace (the server's configuration uses it too).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// A national identity-linking value. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct StrongIdentifier(pub String);

impl std::fmt::Debug for StrongIdentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StrongIdentifier([redacted])")
    }
}

/// Protocol state a method needs between `begin` and `complete`: persisted server-side by
/// the caller, found again by `state`, and consumed once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The provider (method) id.
    pub provider: String,
    /// The `state` sent upstream; the callback must echo it.
    pub state: String,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    /// Our callback URL registered upstream.
    pub redirect_uri: String,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// How a method starts.
#[derive(Debug, Clone)]
pub enum Begin {
    /// Send the browser to `url`; keep `pending`.
    Redirect { url: String, pending: PendingLogin },
}

/// What came back on the callback (query or `form_post` body).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    /// Apple's first-login `user` JSON (name), sent only once.
    pub user: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("unknown account choice")]
    UnknownChoice,
    /// The provider is switched off by its circuit breaker after repeated failures.
    #[error("{0} is temporarily unavailable")]
    Unavailable(String),
    /// The provider answered the login with an error (the person declined, for example).
    #[error("the provider refused the login: {0}")]
    Refused(String),
    /// The callback does not belong to the pending login (state mismatch, missing code).
    #[error("the login response does not match the login that was started: {0}")]
    Mismatch(&'static str),
    /// The provider's tokens or profile did not verify.
    #[error("the provider's answer did not verify: {0}")]
    Invalid(String),
    /// The provider refused a back-channel request: an OAuth error such as `invalid_grant`, or
    /// any 4xx answer (429 included). It is up, and a made-up code posted to our callback
    /// makes it answer so, so this never counts against its circuit breaker.
    #[error("the provider rejected the request: {0}")]
    Rejected(String),
    /// The provider could not be reached, timed out, answered 5xx or answered a success that
    /// is garbage: a provider failure, counted by its circuit breaker.
    #[error("the provider could not be reached: {0}")]
    Upstream(String),
    #[error("configuration: {0}")]
    Config(String),
}
