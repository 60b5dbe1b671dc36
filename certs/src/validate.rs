//! The validation core: RFC 5280 path validation to the configured trust anchors
//! (rustls-webpki, client-auth usage where an EKU is present), the validity window, key
//! usage, an accepted certificate policy asserted by a CA bound to it and allowed along the
//! path (`ca`), revocation by CRL or OCSP per the policy's mode (fetched bodies capped,
//! `fetch`), and the identity the configuration names, within its issuing CA's namespace.

use std::path::PathBuf;
use std::sync::RwLock;
use std::time::SystemTime;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, TrustAnchor, UnixTime};
use webpki::{
    CertRevocationList, EndEntityCert, ExpirationPolicy, KeyUsage, OwnedCertRevocationList,
    RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};

use crate::ca::{self, CaName};
use crate::fetch::{self, MAX_OCSP_RESPONSE_BYTES};
use crate::x509::{Parsed, hex};
use crate::{CertError, ocsp};

/// How strictly revocation is enforced for certificates under a policy. A certificate known
/// to be revoked always fails; the mode decides what an unknown status does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationMode {
    HardFail,
    SoftFail,
}

#[derive(Debug, Clone)]
pub struct AcceptedPolicy {
    /// Dotted OID.
    pub oid: String,
    pub revocation: RevocationMode,
    /// The CAs allowed to issue certificates under this policy, as their certificates (at
    /// least one). Matched by name under their anchor (see `ca`), so a CA's renewed
    /// certificate stays allowed.
    pub issuers: Vec<CertificateDer<'static>>,
}

/// An accepted policy with its CAs resolved.
struct BoundPolicy {
    accepted: AcceptedPolicy,
    issuers: Vec<CaName>,
}

/// Which certificate attribute identifies the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityAttribute {
    /// The subject DN's serialNumber (2.5.4.5).
    SubjectSerialNumber,
    /// The first URI subject alternative name.
    SanUri,
    /// The otherName subject alternative name of this type (dotted OID).
    SanOtherName { oid: String },
    /// SHA-256 of the certificate (lowercase hex): the caller looks it up among
    /// fingerprints citizens registered.
    Fingerprint,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrlSource {
    File(PathBuf),
    Url(String),
}

#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    pub anchors: Vec<CertificateDer<'static>>,
    /// Intermediates the client may leave out.
    pub intermediates: Vec<CertificateDer<'static>>,
    /// A certificate must carry one of these, asserted by a CA the policy lists and allowed
    /// along its path; the first such (in this order) wins.
    pub policies: Vec<AcceptedPolicy>,
    pub identity: IdentityAttribute,
    pub crls: Vec<CrlSource>,
    /// Ask the OCSP responder a certificate names when no current CRL covers it.
    pub ocsp: bool,
    /// A CRL fetched by URL larger than this is refused (default [`crate::MAX_CRL_BYTES`]).
    pub max_crl_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStatus {
    /// A current CRL of the issuer does not list it, or its OCSP responder says good.
    Good,
    /// Neither a current CRL nor OCSP vouches for it (accepted only under
    /// [`RevocationMode::SoftFail`]).
    Unknown,
}

/// What a valid certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCertificate {
    pub policy_oid: String,
    /// The namespace of `identity`: its issuing CA under its trust anchor
    /// (`urn:anyid:x509:<hex>`, see [`crate::identity_namespace`]).
    pub namespace: String,
    pub identity: String,
    /// SHA-256 of the leaf, lowercase hex.
    pub fingerprint: String,
    /// The subject's common name, else its DN.
    pub subject: String,
    pub serial: String,
    pub revocation: RevocationStatus,
}

pub struct Validator {
    anchors: Vec<TrustAnchor<'static>>,
    anchor_certs: Vec<CertificateDer<'static>>,
    /// The anchors' subject names, DER, in the order of `anchors`.
    anchor_names: Vec<Vec<u8>>,
    ocsp: bool,
    max_crl_bytes: usize,
    intermediates: Vec<CertificateDer<'static>>,
    policies: Vec<BoundPolicy>,
    identity: IdentityAttribute,
    sources: Vec<CrlSource>,
    /// The latest good CRL of each source (by index); a failed refresh keeps the old one.
    crls: RwLock<Vec<Option<CertRevocationList<'static>>>>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let policies: Vec<&str> = self
            .policies
            .iter()
            .map(|p| p.accepted.oid.as_str())
            .collect();
        f.debug_struct("Validator")
            .field("anchors", &self.anchors.len())
            .field("policies", &policies)
            .finish_non_exhaustive()
    }
}

/// A CRL from PEM or DER bytes.
fn parse_crl(bytes: &[u8]) -> Result<CertRevocationList<'static>, CertError> {
    let der = match CertificateRevocationListDer::from_pem_slice(bytes) {
        Ok(der) => der.as_ref().to_vec(),
        Err(_) => bytes.to_vec(),
    };
    OwnedCertRevocationList::from_der(&der)
        .map(CertRevocationList::from)
        .map_err(|e| CertError::Malformed(format!("CRL: {e}")))
}

/// webpki's verdict in our words.
fn refusal(e: webpki::Error) -> CertError {
    use webpki::Error as E;
    match e {
        E::CertExpired { .. } => CertError::Expired,
        E::CertNotValidYet { .. } => CertError::NotYetValid,
        E::CertRevoked => CertError::Revoked,
        E::UnknownIssuer => CertError::UnknownIssuer,
        E::RequiredEkuNotFoundContext(_) | E::EmptyEkuExtension => CertError::KeyUsage,
        E::UnknownRevocationStatus | E::CrlExpired { .. } => CertError::RevocationUnknown,
        E::InvalidSignatureForPublicKey => CertError::BadSignature,
        other => CertError::Malformed(format!("certificate path: {other}")),
    }
}

fn unix_time(now: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(
        now.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

impl Validator {
    /// Build a validator; file CRLs are read now (URL CRLs at the first refresh).
    pub fn new(config: ValidatorConfig) -> Result<Self, CertError> {
        let anchors = config
            .anchors
            .iter()
            .map(|a| {
                webpki::anchor_from_trusted_cert(a)
                    .map(|t| t.to_owned())
                    .map_err(|e| CertError::Config(format!("trust anchor: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if anchors.is_empty() {
            return Err(CertError::Config("no trust anchors".into()));
        }
        if config.policies.is_empty() {
            return Err(CertError::Config("no accepted certificate policy".into()));
        }
        let anchor_names = config
            .anchors
            .iter()
            .map(|a| Parsed::from_der(a.as_ref())?.subject_der())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CertError::Config(format!("trust anchor: {e}")))?;
        let cas = config
            .intermediates
            .iter()
            .chain(config.policies.iter().flat_map(|p| p.issuers.iter()))
            .map(|c| Parsed::from_der(c.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CertError::Config(format!("CA certificate: {e}")))?;
        let policies = config
            .policies
            .into_iter()
            .map(|p| {
                let named =
                    |e: CertError| CertError::Config(format!("certificate policy {}: {e}", p.oid));
                if p.issuers.is_empty() {
                    return Err(named(CertError::Config(
                        "no issuing CA is allowed to assert it".into(),
                    )));
                }
                let issuers = p
                    .issuers
                    .iter()
                    .map(|c| ca::resolve(&Parsed::from_der(c.as_ref())?, &anchor_names, &cas))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(named)?;
                Ok(BoundPolicy {
                    accepted: p,
                    issuers,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let validator = Self {
            anchors,
            anchor_certs: config.anchors,
            anchor_names,
            ocsp: config.ocsp,
            max_crl_bytes: config.max_crl_bytes,
            intermediates: config.intermediates,
            policies,
            identity: config.identity,
            crls: RwLock::new(config.crls.iter().map(|_| None).collect()),
            sources: config.crls,
            http: fetch::client()?,
        };
        for (i, source) in validator.sources.iter().enumerate() {
            if let CrlSource::File(path) = source {
                let bytes = std::fs::read(path)
                    .map_err(|e| CertError::Config(format!("CRL {}: {e}", path.display())))?;
                validator.store_crl(i, parse_crl(&bytes)?);
            }
        }
        Ok(validator)
    }

    fn store_crl(&self, index: usize, crl: CertRevocationList<'static>) {
        let mut crls = self.crls.write().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = crls.get_mut(index) {
            *slot = Some(crl);
        }
    }

    /// Re-read CRL files and re-fetch CRL URLs. A source that fails keeps its previous
    /// CRL; the first failure is returned after every source was tried.
    pub async fn refresh_crls(&self) -> Result<(), CertError> {
        let mut first_error = None;
        for (i, source) in self.sources.iter().enumerate() {
            let bytes = match source {
                CrlSource::File(path) => std::fs::read(path)
                    .map_err(|e| CertError::Io(format!("CRL {}: {e}", path.display()))),
                CrlSource::Url(url) => self.fetch(url).await,
            };
            match bytes.and_then(|b| parse_crl(&b)) {
                Ok(crl) => self.store_crl(i, crl),
                Err(e) => {
                    tracing::warn!(source = ?source, error = %e, "CRL refresh failed; keeping the previous CRL");
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn fetch(&self, url: &str) -> Result<Vec<u8>, CertError> {
        fetch::read_capped(
            self.http.get(url),
            self.max_crl_bytes,
            &format!("CRL {url}"),
        )
        .await
    }

    /// Validate `chain` (leaf first, then any intermediates the client sent) at `now`.
    pub async fn validate(
        &self,
        chain: &[CertificateDer<'_>],
        now: SystemTime,
    ) -> Result<ValidCertificate, CertError> {
        let Some(leaf) = chain.first() else {
            return Err(CertError::Malformed("no certificate".into()));
        };
        let parsed = Parsed::from_der(leaf.as_ref())?;
        let end_entity = EndEntityCert::try_from(leaf).map_err(refusal)?;
        let mut intermediates: Vec<CertificateDer<'_>> = chain[1..].to_vec();
        intermediates.extend(self.intermediates.iter().cloned());
        let time = unix_time(now);
        let algorithms = webpki::ALL_VERIFICATION_ALGS;
        // RFC 5280 §6.1 path validation; the EKU, if any, must allow client authentication.
        let path = end_entity
            .verify_for_usage(
                algorithms,
                &self.anchors,
                &intermediates,
                time,
                KeyUsage::client_auth(),
                None,
                None,
            )
            .map_err(refusal)?;
        // The CA certificates of the path (the leaf's issuer first) and the anchor it ends at.
        let path_cas: Vec<CertificateDer<'static>> = path
            .intermediate_certificates()
            .map(|c| c.der().into_owned())
            .collect();
        let anchor = self
            .anchors
            .iter()
            .position(|a| a == path.anchor())
            .ok_or(CertError::UnknownIssuer)?;
        drop(path);
        // The issuer of the leaf (for OCSP): the first CA of the path, else the anchor.
        let issuer = path_cas
            .first()
            .or_else(|| self.anchor_certs.get(anchor))
            .cloned();
        let issuing_ca = CaName {
            anchor: self.anchor_names.get(anchor).cloned().unwrap_or_default(),
            ca: parsed.issuer_der()?,
        };
        let ca_policies = path_cas
            .iter()
            .map(|c| Parsed::from_der(c.as_ref())?.policy_extension())
            .collect::<Result<Vec<_>, _>>()?;
        // RFC 5280 §4.2.1.3: a signing login needs digitalSignature when key usage is given.
        if !parsed.signs()? {
            return Err(CertError::KeyUsage);
        }
        // RFC 5280 §4.2.1.4 and §6.1, simplified (see `ca`): a policy the leaf asserts, its
        // issuing CA bound to it, and every CA of the path allowing it.
        let leaf_policies = parsed.policies()?;
        let Some(policy) = self
            .policies
            .iter()
            .find(|p| {
                leaf_policies.contains(&p.accepted.oid)
                    && p.issuers.contains(&issuing_ca)
                    && ca::path_allows(&ca_policies, &p.accepted.oid)
            })
            .map(|p| &p.accepted)
        else {
            return Err(CertError::PolicyNotAccepted);
        };
        let crl = self.crl_status(&end_entity, &intermediates, time);
        let verdict = match crl {
            Err(CertError::RevocationUnknown) if self.ocsp => {
                self.ocsp_status(&parsed, issuer.as_ref(), time).await
            }
            other => other,
        };
        let revocation = match (verdict, policy.revocation) {
            (Err(CertError::RevocationUnknown), RevocationMode::SoftFail) => {
                RevocationStatus::Unknown
            }
            (verdict, _) => verdict?,
        };
        let fingerprint =
            hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, leaf.as_ref()).as_ref());
        let identity = match &self.identity {
            IdentityAttribute::SubjectSerialNumber => parsed.subject_serial_number(),
            IdentityAttribute::SanUri => parsed.san_uri(),
            IdentityAttribute::SanOtherName { oid } => parsed.san_other_name(oid),
            IdentityAttribute::Fingerprint => Some(fingerprint.clone()),
        }
        .filter(|v| !v.is_empty())
        .ok_or(CertError::NoIdentity)?;
        Ok(ValidCertificate {
            policy_oid: policy.oid.clone(),
            namespace: issuing_ca.namespace(),
            identity,
            fingerprint,
            subject: parsed.display_name(),
            serial: parsed.serial_hex(),
            revocation,
        })
    }

    /// Check the leaf against the current CRLs (stale CRLs count as none). The end entity
    /// only: intermediates are few, operated by the anchors' CAs, and are revoked by
    /// removing them from the configuration.
    fn crl_status(
        &self,
        end_entity: &EndEntityCert<'_>,
        intermediates: &[CertificateDer<'_>],
        time: UnixTime,
    ) -> Result<RevocationStatus, CertError> {
        let crls = self.crls.read().unwrap_or_else(|p| p.into_inner());
        let loaded: Vec<&CertRevocationList<'static>> = crls.iter().flatten().collect();
        let Ok(builder) = RevocationOptionsBuilder::new(&loaded) else {
            return Err(CertError::RevocationUnknown);
        };
        let options = builder
            .with_depth(RevocationCheckDepth::EndEntity)
            .with_status_policy(UnknownStatusPolicy::Deny)
            .with_expiration_policy(ExpirationPolicy::Enforce)
            .build();
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.anchors,
                intermediates,
                time,
                KeyUsage::client_auth(),
                Some(options),
                None,
            )
            .map(|_| RevocationStatus::Good)
            .map_err(refusal)
    }

    /// Ask the responder the leaf names (RFC 6960); no responder, no answer or an answer that
    /// does not check out is an unknown status.
    async fn ocsp_status(
        &self,
        leaf: &Parsed,
        issuer: Option<&CertificateDer<'static>>,
        time: UnixTime,
    ) -> Result<RevocationStatus, CertError> {
        let (Some(url), Some(issuer_der)) = (ocsp::responder(&leaf.0), issuer) else {
            return Err(CertError::RevocationUnknown);
        };
        let answer = async {
            let issuer = Parsed::from_der(issuer_der.as_ref())?;
            let id = ocsp::cert_id(&leaf.0, &issuer.0)?;
            let request = self
                .http
                .post(&url)
                .header("content-type", "application/ocsp-request")
                .body(ocsp::request(&id)?);
            let body = fetch::read_capped(request, MAX_OCSP_RESPONSE_BYTES, &format!("OCSP {url}"))
                .await?;
            ocsp::status(&body, &id, &issuer.0, issuer_der, time)
        };
        match answer.await {
            Ok(ocsp::OcspStatus::Good) => Ok(RevocationStatus::Good),
            Ok(ocsp::OcspStatus::Revoked) => Err(CertError::Revoked),
            Ok(ocsp::OcspStatus::Unknown) => Err(CertError::RevocationUnknown),
            Err(e) => {
                tracing::warn!(responder = %url, error = %e, "OCSP gave no usable answer");
                Err(CertError::RevocationUnknown)
            }
        }
    }
}
