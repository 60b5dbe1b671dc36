//! Issuing CAs as certificate login sees them. X.509 knows a CA by its subject name: a
//! certificate names its issuer and path validation chains names (RFC 5280 §4.1.2.4,
//! §4.1.2.6, §6.1). That name, with the name of the trust anchor the path ends at, gives the
//! identity namespace of the certificates the CA issues and binds each accepted policy to the
//! CAs allowed to assert it; the policy is also checked along the path (RFC 5280 §6.1,
//! simplified).
//!
//! **Namespace.** `urn:anyid:x509:` and the lowercase hex SHA-256 of the DER subject name of
//! the trust anchor followed by the DER subject name of the issuing CA (each a SEQUENCE
//! carrying its own length, so the concatenation is unambiguous). A certificate identity is
//! the configured attribute's value within that namespace, so two CAs handing out the same
//! subject serial number or SAN value give two identities. Names, not keys: a CA that renews
//! its certificate under a new key keeps its namespace, and its citizens; another CA, or the
//! same CA name under another anchor, never shares it. A CA cross-certified under two
//! configured anchors would have one namespace per anchor: configure one of the anchors.
//!
//! **Policy binding.** Each accepted policy lists the CAs allowed to issue certificates under
//! it, as their certificates. Each is resolved once, when the validator is built, to its
//! anchor by following issuer names through the configured CAs. A leaf counts for a policy
//! only when its issuing CA, under the anchor its path ends at, is one of them.
//!
//! **Policy along the path.** Every CA certificate between the leaf and the anchor that
//! carries a certificatePolicies extension must list the policy or anyPolicy (2.5.29.32.0).
//! A CA certificate without the extension does not restrict it: strict RFC 5280 §6.1.3 (e)
//! would end policy processing there, but the operator's binding already names the CAs that
//! may assert the policy, and CA certificates of deployed PKIs often carry no policies. The
//! trust anchor is an input to path validation, not part of the path (§6.1.1 (d)), so its
//! own extensions are not read. Policy mappings, inhibitAnyPolicy and policy constraints are
//! not processed: a mapped policy counts as not asserted.

use aws_lc_rs::digest;
use rustls_pki_types::CertificateDer;

use crate::CertError;
use crate::x509::{Parsed, hex};

/// The prefix of every certificate identity namespace.
pub const NAMESPACE_PREFIX: &str = "urn:anyid:x509:";
/// anyPolicy (RFC 5280 §4.2.1.4).
pub const ANY_POLICY: &str = "2.5.29.32.0";
/// How many CAs are followed up from a configured CA to find its anchor.
const MAX_DEPTH: usize = 8;

/// An issuing CA: the DER subject names of its trust anchor and of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CaName {
    pub anchor: Vec<u8>,
    pub ca: Vec<u8>,
}

impl CaName {
    /// The namespace of the identities in the certificates this CA issues.
    pub fn namespace(&self) -> String {
        let mut context = digest::Context::new(&digest::SHA256);
        context.update(&self.anchor);
        context.update(&self.ca);
        format!("{NAMESPACE_PREFIX}{}", hex(context.finish().as_ref()))
    }
}

/// The namespace of identities in certificates that `issuing_ca` issues under `anchor` (the
/// same certificate when the anchor issues citizens' certificates itself).
pub fn identity_namespace(
    anchor: &CertificateDer<'_>,
    issuing_ca: &CertificateDer<'_>,
) -> Result<String, CertError> {
    Ok(CaName {
        anchor: Parsed::from_der(anchor.as_ref())?.subject_der()?,
        ca: Parsed::from_der(issuing_ca.as_ref())?.subject_der()?,
    }
    .namespace())
}

/// A configured CA's name and anchor: itself when it is an anchor (`anchors` are subject
/// names), else the anchor reached by following issuer names through `cas`.
pub(crate) fn resolve(
    ca: &Parsed,
    anchors: &[Vec<u8>],
    cas: &[Parsed],
) -> Result<CaName, CertError> {
    let name = ca.subject_der()?;
    if anchors.contains(&name) {
        return Ok(CaName {
            anchor: name.clone(),
            ca: name,
        });
    }
    let mut issuer = ca.issuer_der()?;
    for _ in 0..MAX_DEPTH {
        if anchors.contains(&issuer) {
            return Ok(CaName {
                anchor: issuer,
                ca: name,
            });
        }
        let Some(next) = cas
            .iter()
            .find(|c| c.subject_der().is_ok_and(|s| s == issuer))
        else {
            break;
        };
        issuer = next.issuer_der()?;
    }
    Err(CertError::Config(format!(
        "the CA \"{}\" does not chain to a configured trust anchor (list the CAs between it \
         and its root as intermediates)",
        ca.0.tbs_certificate.subject
    )))
}

/// RFC 5280 §6.1, simplified (see the module documentation): whether the CA certificates of
/// a path, each as its policy list (`None`: no certificatePolicies extension), allow `oid`.
pub(crate) fn path_allows(cas: &[Option<Vec<String>>], oid: &str) -> bool {
    cas.iter().all(|policies| {
        policies
            .as_ref()
            .is_none_or(|p| p.iter().any(|x| x == oid || x == ANY_POLICY))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(anchor: &[u8], ca: &[u8]) -> String {
        CaName {
            anchor: anchor.to_vec(),
            ca: ca.to_vec(),
        }
        .namespace()
    }

    #[test]
    fn namespaces_separate_cas_and_anchors() {
        let a = name(b"\x30\x01A", b"\x30\x01B");
        assert!(a.starts_with(NAMESPACE_PREFIX));
        assert_eq!(a.len(), NAMESPACE_PREFIX.len() + 64);
        assert_eq!(a, name(b"\x30\x01A", b"\x30\x01B"), "stable");
        assert_ne!(a, name(b"\x30\x01A", b"\x30\x01C"), "another CA");
        assert_ne!(a, name(b"\x30\x01C", b"\x30\x01B"), "another anchor");
        assert_ne!(a, name(b"\x30\x01B", b"\x30\x01A"), "order matters");
    }

    #[test]
    fn a_ca_restricts_the_path_only_through_its_policy_extension() {
        let oid = "1.3.6.1.4.1.32473.1.1";
        let listed = Some(vec!["1.2.3".to_owned(), oid.to_owned()]);
        let any = Some(vec![ANY_POLICY.to_owned()]);
        let other = Some(vec!["1.2.3".to_owned()]);
        let empty = Some(Vec::new());
        assert!(path_allows(&[], oid), "issued by the anchor itself");
        assert!(path_allows(&[listed.clone(), any.clone(), None], oid));
        assert!(!path_allows(&[listed.clone(), other], oid));
        assert!(!path_allows(&[empty, any], oid));
        assert!(
            !path_allows(&[listed], "1.3.6.1.4.1.32473.1"),
            "no prefix match"
        );
    }
}
