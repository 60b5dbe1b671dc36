//! Any-ID login method adapters: each method begins a login and completes it into a
//! [`VerifiedIdentity`]. No HTTP server and no axum types live here; the `idp` crate persists
//! whatever state a method needs between the two steps.

pub mod dev;

use serde::{Deserialize, Serialize};

/// Assurance levels (DESIGN §4), ordered low < substantial < high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Loa {
    Low,
    Substantial,
    High,
}

impl Loa {
    pub const ALL: [Loa; 3] = [Loa::Low, Loa::Substantial, Loa::High];

    /// The `acr` value for this level.
    pub fn acr(self) -> &'static str {
        match self {
            Loa::Low => "urn:anyid:loa:low",
            Loa::Substantial => "urn:anyid:loa:substantial",
            Loa::High => "urn:anyid:loa:high",
        }
    }

    pub fn from_acr(acr: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.acr() == acr)
    }
}

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
}

#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    #[error("unknown account choice")]
    UnknownChoice,
}
