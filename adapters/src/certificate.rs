//! Certificate login, one validation core (`anyid_certs::Validator`) for both transports:
//! a CMS SignedData over a server challenge (how Korean joint certificates log in) and the
//! verified peer chain of a mutual-TLS connection. The certificate's accepted policy OID
//! (asserted by a CA the policy is bound to) gives the assurance level; a configured
//! attribute gives the identity, linked under its issuing CA's namespace
//! (`urn:anyid:x509:<hex>`, `anyid_certs::identity_namespace`), so two CAs that hand out the
//! same value give two identities.

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
    /// Accepted certificate-policy OIDs, the level each proves and the CAs allowed to assert
    /// it; the first match wins.
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
    /// PEM files of the issuing CAs allowed to issue certificates under this policy (at least
    /// one). A CA is matched by its name under its trust anchor, so a renewed CA certificate
    /// stays allowed; a CA between it and its root must be a trust anchor or listed in
    /// `intermediates`.
    #[serde(default)]
    pub issuers: Vec<PathBuf>,
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

/// The certificates of a PEM file; `key` names the setting in the error.
fn read_pem(key: &str, path: &PathBuf) -> Result<Vec<CertificateDer<'static>>, AdapterError> {
    let bytes = std::fs::read(path).map_err(|e| {
        AdapterError::Config(format!(
            "certificates.{key}: reading {}: {e}",
            path.display()
        ))
    })?;
    anyid_certs::certificates_from_pem(&bytes)
        .map_err(|e| AdapterError::Config(format!("certificates.{key}: {}: {e}", path.display())))
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
            anchors.extend(read_pem("trust_anchors", path)?);
        }
        if anchors.is_empty() {
            return Err(AdapterError::Config(
                "certificates: no trust anchors configured".into(),
            ));
        }
        let mut intermediates = Vec::new();
        for path in &config.intermediates {
            intermediates.extend(read_pem("intermediates", path)?);
        }
        let mut policies = Vec::new();
        for p in &config.policies {
            if p.issuers.is_empty() {
                return Err(AdapterError::Config(format!(
                    "certificates.policy {}: issuers is empty; list the PEM files of the CAs \
                     allowed to issue certificates under this policy",
                    p.oid
                )));
            }
            let mut issuers = Vec::new();
            for path in &p.issuers {
                issuers.extend(read_pem(&format!("policy {}: issuers", p.oid), path)?);
            }
            policies.push(AcceptedPolicy {
                oid: p.oid.clone(),
                revocation: if config.revocation_hard_fail.contains(&p.loa) {
                    RevocationMode::HardFail
                } else {
                    RevocationMode::SoftFail
                },
                issuers,
            });
        }
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
            issuer: valid.namespace,
            subject: valid.identity.clone(),
            // Nothing from the certificate's name: a joint certificate's CN carries serial
            // digits and a DN is no person's name, so neither becomes `name`.
            claims: json!({}),
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

#[cfg(test)]
mod tests {
    use super::*;
    use anyid_certs::dev::{self, DevPki};

    fn pki() -> (tempfile::TempDir, DevPki) {
        let dir = tempfile::tempdir().unwrap();
        let pki = dev::generate(dir.path(), SystemTime::now()).unwrap();
        (dir, pki)
    }

    /// The dev PKI with the high policy bound to `issuers`.
    fn config(pki: &DevPki, issuers: Vec<PathBuf>) -> CertificateConfig {
        CertificateConfig {
            enabled: Some(true),
            trust_anchors: vec![pki.root.clone()],
            intermediates: vec![pki.intermediate.clone()],
            policies: vec![PolicyLevel {
                oid: dev::DEV_POLICY_HIGH.into(),
                loa: Loa::High,
                issuers,
            }],
            crls: pki
                .crl_paths
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            ..CertificateConfig::default()
        }
    }

    fn refusal(config: CertificateConfig) -> String {
        match CertificateLogin::new(config) {
            Ok(_) => panic!("the configuration was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_policy_without_allowed_cas_or_with_a_ca_outside_the_trust_is_refused_readably() {
        let (dir, pki) = pki();
        let oid = dev::DEV_POLICY_HIGH;
        assert_eq!(
            refusal(config(&pki, Vec::new())),
            format!(
                "configuration: certificates.policy {oid}: issuers is empty; list the PEM files \
                 of the CAs allowed to issue certificates under this policy"
            )
        );
        let missing = dir.path().join("missing.pem");
        let e = refusal(config(&pki, vec![missing.clone()]));
        assert!(
            e.starts_with(&format!(
                "configuration: certificates.policy {oid}: issuers: reading {}: ",
                missing.display()
            )),
            "{e}"
        );
        let e = refusal(config(&pki, vec![dir.path().join("untrusted-root.pem")]));
        assert!(
            e.contains(&format!(
                "certificate policy {oid}: the CA \"CN=Untrusted Root CA"
            )) && e.contains("does not chain to a configured trust anchor"),
            "{e}"
        );
        let e = refusal(CertificateConfig {
            trust_anchors: vec![missing],
            ..config(&pki, vec![pki.intermediate.clone()])
        });
        assert!(e.contains("certificates.trust_anchors: reading"), "{e}");
    }

    #[tokio::test]
    async fn two_cas_giving_the_same_value_give_two_identities_in_their_own_namespaces() {
        let (_dir, pki) = pki();
        let both = vec![pki.intermediate.clone(), pki.other_intermediate.clone()];
        let login = CertificateLogin::new(config(&pki, both)).unwrap();
        let now = SystemTime::now();
        let mut identities = Vec::new();
        for name in ["hong", "other-ca"] {
            let citizen = pki.citizens.iter().find(|c| c.name == name).unwrap();
            let key = std::fs::read_to_string(&citizen.key).unwrap();
            let chain = std::fs::read_to_string(&citizen.cert).unwrap();
            let signed = anyid_certs::cms::sign_challenge(b"challenge", &key, &chain).unwrap();
            let signed = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, signed);
            let identity = login
                .signed_challenge(&signed, b"challenge", now)
                .await
                .unwrap();
            let root =
                &anyid_certs::certificates_from_pem(&std::fs::read(&pki.root).unwrap()).unwrap()[0];
            let ca = &anyid_certs::certificates_from_pem(&std::fs::read(&citizen.ca).unwrap())
                .unwrap()[0];
            assert_eq!(
                identity.issuer,
                anyid_certs::identity_namespace(root, ca).unwrap()
            );
            assert_eq!(identity.loa, Loa::High);
            identities.push(identity);
        }
        assert_eq!(identities[0].subject, "urn:anyid:dev:citizen:hong");
        assert_eq!(identities[0].subject, identities[1].subject);
        assert_ne!(identities[0].issuer, identities[1].issuer);
    }
}
