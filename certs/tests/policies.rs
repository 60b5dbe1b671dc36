//! Certificate policies bound to the CAs allowed to assert them, the policy checked along the
//! path (RFC 5280 §6.1, simplified), and identities namespaced by their issuing CA: against
//! the dev PKI (two CAs under one root giving the same identity value) and against PKIs of
//! the test's own with two levels of CAs, renewed CAs and every kind of policy extension.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::SystemTime;

use anyid_certs::dev::{self, DevPki};
use anyid_certs::{
    ANY_POLICY, AcceptedPolicy, CertError, CertificateDer, IdentityAttribute, MAX_CRL_BYTES,
    NAMESPACE_PREFIX, RevocationMode, Validator, ValidatorConfig, certificates_from_pem,
    identity_namespace,
};
use der::Encode;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

const POLICY: &str = "1.3.6.1.4.1.32473.7.1";
const OTHER_POLICY: &str = "1.3.6.1.4.1.32473.7.2";

fn pem(path: &Path) -> Vec<CertificateDer<'static>> {
    certificates_from_pem(&std::fs::read(path).unwrap()).unwrap()
}

fn dev_chain(pki: &DevPki, name: &str) -> Vec<CertificateDer<'static>> {
    pem(&pki.citizens.iter().find(|c| c.name == name).unwrap().cert)
}

/// The dev PKI's trust, with the high policy bound to `issuers`.
fn dev_validator(pki: &DevPki, issuers: &[&Path]) -> Result<Validator, CertError> {
    Validator::new(ValidatorConfig {
        anchors: pem(&pki.root),
        intermediates: pem(&pki.intermediate),
        policies: vec![AcceptedPolicy {
            oid: dev::DEV_POLICY_HIGH.into(),
            revocation: RevocationMode::HardFail,
            issuers: issuers.iter().flat_map(|p| pem(p)).collect(),
        }],
        identity: IdentityAttribute::SanUri,
        crls: pki
            .crl_paths
            .iter()
            .cloned()
            .map(anyid_certs::CrlSource::File)
            .collect(),
        ocsp: false,
        max_crl_bytes: MAX_CRL_BYTES,
    })
}

#[tokio::test]
async fn the_same_identity_value_from_two_cas_is_two_identities() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dev::generate(dir.path(), SystemTime::now()).unwrap();
    let now = SystemTime::now();
    let both = dev_validator(&pki, &[&pki.intermediate, &pki.other_intermediate]).unwrap();
    let hong = both.validate(&dev_chain(&pki, "hong"), now).await.unwrap();
    let twin = both
        .validate(&dev_chain(&pki, "other-ca"), now)
        .await
        .unwrap();
    assert_eq!(hong.identity, "urn:anyid:dev:citizen:hong");
    assert_eq!(twin.identity, hong.identity, "the same value");
    assert_ne!(twin.namespace, hong.namespace, "from two CAs");
    let root = &pem(&pki.root)[0];
    assert_eq!(
        hong.namespace,
        identity_namespace(root, &pem(&pki.intermediate)[0]).unwrap()
    );
    assert_eq!(
        twin.namespace,
        identity_namespace(root, &pem(&pki.other_intermediate)[0]).unwrap()
    );
    assert!(hong.namespace.starts_with(NAMESPACE_PREFIX));

    // Each CA asserts the policy only where it is bound to it.
    let citizen_ca = dev_validator(&pki, &[&pki.intermediate]).unwrap();
    assert!(
        citizen_ca
            .validate(&dev_chain(&pki, "hong"), now)
            .await
            .is_ok()
    );
    assert!(matches!(
        citizen_ca.validate(&dev_chain(&pki, "other-ca"), now).await,
        Err(CertError::PolicyNotAccepted)
    ));
    let other_ca = dev_validator(&pki, &[&pki.other_intermediate]).unwrap();
    assert!(matches!(
        other_ca.validate(&dev_chain(&pki, "hong"), now).await,
        Err(CertError::PolicyNotAccepted)
    ));
    assert!(
        other_ca
            .validate(&dev_chain(&pki, "other-ca"), now)
            .await
            .is_ok()
    );
}

#[test]
fn a_policy_bound_to_no_ca_or_to_a_ca_outside_the_trust_is_a_readable_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dev::generate(dir.path(), SystemTime::now()).unwrap();
    let none = dev_validator(&pki, &[]).unwrap_err().to_string();
    assert_eq!(
        none,
        format!(
            "certificate policy {}: no issuing CA is allowed to assert it",
            dev::DEV_POLICY_HIGH
        )
    );
    let stranger = dev_validator(&pki, &[&dir.path().join("untrusted-root.pem")])
        .unwrap_err()
        .to_string();
    assert!(
        stranger.starts_with(&format!("certificate policy {}: ", dev::DEV_POLICY_HIGH))
            && stranger.contains("\"CN=Untrusted Root CA,O=Any-ID development\"")
            && stranger.contains("does not chain to a configured trust anchor"),
        "{stranger}"
    );
    // The root itself may be bound (it then issues citizens' certificates itself).
    assert!(dev_validator(&pki, &[&pki.root]).is_ok());
}

/// A CA of the test's own: its certificate and what signs under it.
struct Ca {
    der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

fn policies(oids: &[&str]) -> CustomExtension {
    let policies = x509_cert::ext::pkix::CertificatePolicies(
        oids.iter()
            .map(|oid| x509_cert::ext::pkix::certpolicy::PolicyInformation {
                policy_identifier: der::oid::ObjectIdentifier::new_unwrap(oid),
                policy_qualifiers: None,
            })
            .collect(),
    );
    CustomExtension::from_oid_content(&[2, 5, 29, 32], policies.to_der().unwrap())
}

/// A CA named `name` asserting `asserts` (`None`: no certificatePolicies extension), signed
/// by `parent` (`None`: self-signed, a root).
fn ca(name: &str, asserts: Option<&[&str]>, parent: Option<&Ca>) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    if let Some(oids) = asserts {
        params.custom_extensions = vec![policies(oids)];
    }
    let cert = match parent {
        Some(p) => params.signed_by(&key, &p.issuer).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    Ca {
        der: cert.der().clone(),
        issuer: Issuer::new(params, key),
    }
}

/// A citizen certificate from `ca` asserting `policy`, identified by `uri`.
fn leaf(ca: &Ca, policy: &str, uri: &str) -> CertificateDer<'static> {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "Policy citizen");
    params.subject_alt_names = vec![SanType::URI(uri.try_into().unwrap())];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.custom_extensions = vec![policies(&[policy])];
    params.signed_by(&key, &ca.issuer).unwrap().der().clone()
}

/// Trust `root`, know `intermediates`, accept [`POLICY`] from `bound` (soft fail: these
/// PKIs publish no CRL).
fn validator(root: &Ca, intermediates: &[&Ca], bound: &[&Ca]) -> Validator {
    Validator::new(ValidatorConfig {
        anchors: vec![root.der.clone()],
        intermediates: intermediates.iter().map(|c| c.der.clone()).collect(),
        policies: vec![AcceptedPolicy {
            oid: POLICY.into(),
            revocation: RevocationMode::SoftFail,
            issuers: bound.iter().map(|c| c.der.clone()).collect(),
        }],
        identity: IdentityAttribute::SanUri,
        crls: vec![],
        ocsp: false,
        max_crl_bytes: MAX_CRL_BYTES,
    })
    .unwrap()
}

#[tokio::test]
async fn every_ca_of_the_path_with_a_policy_extension_must_assert_the_policy_or_any_policy() {
    let now = SystemTime::now();
    let any = [ANY_POLICY];
    let this = [POLICY];
    let other = [OTHER_POLICY];
    let both = [OTHER_POLICY, POLICY];
    /// What a CA asserts: `None` for no certificatePolicies extension.
    type Asserts<'a> = Option<&'a [&'a str]>;
    // (the CA under the root, the issuing CA under it, accepted?)
    let cases: [(Asserts, Asserts, bool); 8] = [
        (Some(&this), Some(&this), true),
        (Some(&any), Some(&both), true),
        (Some(&this), Some(&any), true),
        // A CA without the extension does not restrict the policy.
        (None, Some(&this), true),
        (None, None, true),
        // The issuing CA does not assert it.
        (Some(&this), Some(&other), false),
        (None, Some(&other), false),
        // The CA above it does not.
        (Some(&other), Some(&this), false),
    ];
    for (upper, issuing, accepted) in cases {
        let root = ca("Policy root", Some(&other), None);
        let mid = ca("Policy middle CA", upper, Some(&root));
        let issuing_ca = ca("Policy issuing CA", issuing, Some(&mid));
        let v = validator(&root, &[&mid, &issuing_ca], &[&issuing_ca]);
        let got = v
            .validate(&[leaf(&issuing_ca, POLICY, "urn:test:a")], now)
            .await;
        match (accepted, got) {
            (true, Ok(valid)) => assert_eq!(valid.policy_oid, POLICY),
            (false, Err(CertError::PolicyNotAccepted)) => {}
            (_, got) => panic!("{upper:?} / {issuing:?}: {got:?}"),
        }
    }
}

#[tokio::test]
async fn a_renewed_ca_keeps_its_namespace_and_its_policy_binding() {
    let now = SystemTime::now();
    let root = ca("Renewal root", None, None);
    let old = ca("Renewal issuing CA", Some(&[POLICY]), Some(&root));
    // The same name under a new key.
    let renewed = ca("Renewal issuing CA", Some(&[POLICY]), Some(&root));
    let stranger = ca("Another issuing CA", Some(&[POLICY]), Some(&root));
    let v = validator(&root, &[&old, &renewed, &stranger], &[&old]);
    let before = v
        .validate(&[leaf(&old, POLICY, "urn:test:a")], now)
        .await
        .unwrap();
    let after = v
        .validate(&[leaf(&renewed, POLICY, "urn:test:a")], now)
        .await
        .unwrap();
    assert_eq!(before.namespace, after.namespace);
    assert_eq!(before.identity, after.identity);
    // A CA of another name under the same root is neither bound nor in the namespace.
    assert!(matches!(
        v.validate(&[leaf(&stranger, POLICY, "urn:test:a")], now)
            .await,
        Err(CertError::PolicyNotAccepted)
    ));
    let open = validator(&root, &[&old, &stranger], &[&old, &stranger]);
    let other = open
        .validate(&[leaf(&stranger, POLICY, "urn:test:a")], now)
        .await
        .unwrap();
    assert_ne!(other.namespace, before.namespace);
    // A root that issues citizens' certificates itself is its own issuing CA.
    let direct = validator(&root, &[], &[&root]);
    let valid = direct
        .validate(&[leaf(&root, POLICY, "urn:test:a")], now)
        .await
        .unwrap();
    assert_eq!(
        valid.namespace,
        identity_namespace(&root.der, &root.der).unwrap()
    );
}
