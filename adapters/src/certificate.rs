//! Certificate login, one validation core (`anyid_certs::Validator`) for both transports:
//! a CMS SignedData over a server challenge (how Korean joint certificates log in) and the
//! verified peer chain of a mutual-TLS connection. The certificate's accepted policy OID
//! gives the assurance level; a configured attribute gives the identity.

use std::path::PathBuf;
use std::time::SystemTime;

use anyid_certs::{
    AcceptedPolicy, CertError, CertificateDer, CrlSource, IdentityAttribute, RevocationMode,
    ValidCertificate, Validator, ValidatorConfig,
};
use serde::Deserialize;
use serde_json::json;

use crate::{AdapterError, Loa, StrongIdentifier, VerifiedIdentity};

/// The login method id of certificates (both transports).
pub const METHOD: &str = "certificate";
/// The issuer under which certificate identities are linked to citizens.
pub const ISSUER: &str = "urn:anyid:x509";

/// `[certificates]` in the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertificateConfig {
    /// Unset: on in dev mode (with the dev CA), off in production.
    pub enabled: Option<bool>,
    /// PEM files of the trust anchors (root CAs).
    pub trust_anchors: Vec<PathBuf>,
    /// PEM files of intermediate CAs the citizen's signer may leave out.
    pub intermediates: Vec<PathBuf>,
    /// Accepted certificate-policy OIDs and the level each proves; the first match wins.
    #[serde(rename = "policy")]
    pub policies: Vec<PolicyLevel>,
    /// `subject_serial_number`, `san_uri`, `san_other_name:<oid>` or `fingerprint` (a
    /// fingerprint the citizen registered while logged in).
    pub identity: String,
    /// Whether the identity is a national identity-linking value: it then links accounts
    /// (stored only as a keyed hash).
    pub strong_identifier: bool,
    /// CRLs: file paths or http(s) URLs, refreshed in the background.
    pub crls: Vec<String>,
    pub crl_refresh_seconds: u64,
    /// A CRL fetched by URL larger than this many bytes is refused (the previous one is kept).
    pub crl_max_bytes: usize,
    /// Ask the OCSP responder a certificate names (AIA) when no current CRL covers it.
    pub ocsp: bool,
    /// Levels at which an unknown revocation status refuses the login (hard fail); at the
    /// others it is accepted (soft fail). A certificate known to be revoked always fails.
    pub revocation_hard_fail: Vec<Loa>,
}

impl Default for CertificateConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            trust_anchors: Vec::new(),
            intermediates: Vec::new(),
            policies: Vec::new(),
            identity: "san_uri".into(),
            strong_identifier: false,
            crls: Vec::new(),
            crl_refresh_seconds: 3600,
            crl_max_bytes: anyid_certs::MAX_CRL_BYTES,
            ocsp: true,
            revocation_hard_fail: vec![Loa::High],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyLevel {
    pub oid: String,
    pub loa: Loa,
}

impl CertificateConfig {
    fn identity_attribute(&self) -> Result<IdentityAttribute, AdapterError> {
        Ok(match self.identity.as_str() {
            "subject_serial_number" => IdentityAttribute::SubjectSerialNumber,
            "san_uri" => IdentityAttribute::SanUri,
            "fingerprint" => IdentityAttribute::Fingerprint,
            other => match other.strip_prefix("san_other_name:") {
                Some(oid) if !oid.is_empty() => IdentityAttribute::SanOtherName {
                    oid: oid.to_owned(),
                },
                _ => {
                    return Err(AdapterError::Config(format!(
                        "certificates.identity {other:?} is not one of subject_serial_number, \
                         san_uri, san_other_name:<oid>, fingerprint"
                    )));
                }
            },
        })
    }

    /// Whether identities are fingerprints a citizen registers (never a first login).
    pub fn by_fingerprint(&self) -> bool {
        self.identity == "fingerprint"
    }
}

/// Why a certificate login was refused: the validation core's reason.
pub type Refusal = CertError;

pub struct CertificateLogin {
    validator: Validator,
    anchors: Vec<CertificateDer<'static>>,
    config: CertificateConfig,
}

fn read_pem(path: &PathBuf) -> Result<Vec<CertificateDer<'static>>, AdapterError> {
    let bytes = std::fs::read(path)
        .map_err(|e| AdapterError::Config(format!("reading {}: {e}", path.display())))?;
    anyid_certs::certificates_from_pem(&bytes)
        .map_err(|e| AdapterError::Config(format!("{}: {e}", path.display())))
}

impl CertificateLogin {
    pub fn new(config: CertificateConfig) -> Result<Self, AdapterError> {
        if config.policies.is_empty() {
            return Err(AdapterError::Config(
                "certificates: at least one [[certificates.policy]] is required".into(),
            ));
        }
        let mut anchors = Vec::new();
        for path in &config.trust_anchors {
            anchors.extend(read_pem(path)?);
        }
        if anchors.is_empty() {
            return Err(AdapterError::Config(
                "certificates: no trust anchors configured".into(),
            ));
        }
        let mut intermediates = Vec::new();
        for path in &config.intermediates {
            intermediates.extend(read_pem(path)?);
        }
        let policies = config
            .policies
            .iter()
            .map(|p| AcceptedPolicy {
                oid: p.oid.clone(),
                revocation: if config.revocation_hard_fail.contains(&p.loa) {
                    RevocationMode::HardFail
                } else {
                    RevocationMode::SoftFail
                },
            })
            .collect();
        let crls = config
            .crls
            .iter()
            .map(|c| {
                if c.starts_with("http://") || c.starts_with("https://") {
                    CrlSource::Url(c.clone())
                } else {
                    CrlSource::File(PathBuf::from(c))
                }
            })
            .collect();
        let validator = Validator::new(ValidatorConfig {
            anchors: anchors.clone(),
            intermediates,
            policies,
            identity: config.identity_attribute()?,
            crls,
            ocsp: config.ocsp,
            max_crl_bytes: config.crl_max_bytes,
        })
        .map_err(|e| AdapterError::Config(format!("certificates: {e}")))?;
        Ok(Self {
            validator,
            anchors,
            config,
        })
    }

    /// The trust anchors, for the mutual-TLS listener's certificate request hints.
    pub fn anchors(&self) -> &[CertificateDer<'static>] {
        &self.anchors
    }

    pub fn config(&self) -> &CertificateConfig {
        &self.config
    }

    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// Re-read and re-fetch the CRLs (the server calls this on a timer).
    pub async fn refresh(&self) -> Result<(), CertError> {
        self.validator.refresh_crls().await
    }

    /// A signed challenge: `signed` is the CMS SignedData (base64 or PEM) over `challenge`.
    pub async fn signed_challenge(
        &self,
        signed: &str,
        challenge: &[u8],
        now: SystemTime,
    ) -> Result<VerifiedIdentity, Refusal> {
        let der = anyid_certs::cms::decode_signed_data(signed)?;
        let chain = anyid_certs::cms::verify_signed_challenge(&der, challenge)?;
        let valid = self.validator.validate(&chain, now).await?;
        Ok(self.identity(valid))
    }

    /// A mutual-TLS peer chain (leaf first) whose key the TLS handshake proved.
    pub async fn peer_chain(
        &self,
        chain: &[CertificateDer<'_>],
        now: SystemTime,
    ) -> Result<VerifiedIdentity, Refusal> {
        let valid = self.validator.validate(chain, now).await?;
        Ok(self.identity(valid))
    }

    fn identity(&self, valid: ValidCertificate) -> VerifiedIdentity {
        let loa = self
            .config
            .policies
            .iter()
            .find(|p| p.oid == valid.policy_oid)
            .map(|p| p.loa)
            .unwrap_or_default();
        VerifiedIdentity {
            method: METHOD.into(),
            issuer: ISSUER.into(),
            subject: valid.identity.clone(),
            claims: json!({ "name": valid.subject }),
            loa,
            // RFC 8176: proof of possession of a (software- or hardware-held) key; which
            // one cannot be told from the certificate, so the weaker claim.
            amr: vec!["swk".into()],
            strong_identifier: self
                .config
                .strong_identifier
                .then_some(StrongIdentifier(valid.identity)),
        }
    }
}
