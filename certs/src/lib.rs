//! Any-ID certificates: one validation core for certificate login (X.509 path validation per
//! RFC 5280 through rustls-webpki, validity, key usage, accepted certificate policies bound to
//! their issuing CAs, CRL and OCSP revocation with capped fetches, identity extraction within
//! the issuing CA's namespace), CMS SignedData challenge verification and a reference signer
//! (RFC 5652), and the dev CA (rcgen). No HTTP server and no storage here.

mod ca;
pub mod challenge;
pub mod cms;
pub mod dev;
mod fetch;
mod ocsp;
mod p12;
mod validate;
mod x509;

pub use ca::{ANY_POLICY, NAMESPACE_PREFIX, identity_namespace};
pub use fetch::{MAX_CRL_BYTES, MAX_OCSP_RESPONSE_BYTES};
pub use rustls_pki_types::CertificateDer;
pub use validate::{
    AcceptedPolicy, CrlSource, IdentityAttribute, RevocationMode, RevocationStatus,
    ValidCertificate, Validator, ValidatorConfig,
};

/// Why a certificate or a signature was refused. Each variant is one thing a citizen can be
/// told; [`CertError::code`] names it stably.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("the certificate has expired")]
    Expired,
    #[error("the certificate is not valid yet")]
    NotYetValid,
    #[error("the certificate is revoked")]
    Revoked,
    #[error("the certificate does not chain to a trusted root")]
    UnknownIssuer,
    #[error("the certificate carries no accepted certificate policy")]
    PolicyNotAccepted,
    #[error("the certificate's key usage does not allow signing in")]
    KeyUsage,
    #[error("the certificate's revocation status is unknown")]
    RevocationUnknown,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the signature is over a different challenge")]
    NonceMismatch,
    #[error("the certificate has no value for the configured identity attribute")]
    NoIdentity,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Io(String),
}

impl CertError {
    /// A stable snake_case name for logs and for choosing a message.
    pub fn code(&self) -> &'static str {
        match self {
            CertError::Expired => "expired",
            CertError::NotYetValid => "not_yet_valid",
            CertError::Revoked => "revoked",
            CertError::UnknownIssuer => "unknown_issuer",
            CertError::PolicyNotAccepted => "policy_not_accepted",
            CertError::KeyUsage => "key_usage",
            CertError::RevocationUnknown => "revocation_unknown",
            CertError::BadSignature => "bad_signature",
            CertError::NonceMismatch => "nonce_mismatch",
            CertError::NoIdentity => "no_identity",
            CertError::Malformed(_) => "malformed",
            CertError::Config(_) => "config",
            CertError::Io(_) => "io",
        }
    }
}

/// Every certificate in a PEM text, in order.
pub fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, CertError> {
    use rustls_pki_types::pem::PemObject;
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::Malformed(format!("PEM: {e}")))?;
    if certs.is_empty() {
        return Err(CertError::Malformed("no certificate in PEM".into()));
    }
    Ok(certs)
}
