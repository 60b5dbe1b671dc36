//! The validation core and the signed challenge against a freshly generated dev PKI: every
//! refusal has its own reason, revocation follows the policy's mode, CRLs refresh from a
//! real HTTP server on loopback (and one larger than the cap is refused without being read to
//! the end), and no input makes the parsers panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime};

use anyid_certs::dev::{self, DevPki};
use anyid_certs::{
    AcceptedPolicy, CertError, CertificateDer, CrlSource, IdentityAttribute, MAX_CRL_BYTES,
    RevocationMode, RevocationStatus, Validator, ValidatorConfig, certificates_from_pem, cms,
};

fn pki() -> (tempfile::TempDir, DevPki) {
    let dir = tempfile::tempdir().unwrap();
    let pki = dev::generate(dir.path(), SystemTime::now()).unwrap();
    (dir, pki)
}

fn pem(path: &PathBuf) -> Vec<CertificateDer<'static>> {
    certificates_from_pem(&std::fs::read(path).unwrap()).unwrap()
}

fn chain(pki: &DevPki, name: &str) -> Vec<CertificateDer<'static>> {
    pem(&pki.citizens.iter().find(|c| c.name == name).unwrap().cert)
}

fn config(pki: &DevPki, identity: IdentityAttribute, mode: RevocationMode) -> ValidatorConfig {
    ValidatorConfig {
        anchors: pem(&pki.root),
        intermediates: pem(&pki.intermediate),
        policies: vec![
            AcceptedPolicy {
                oid: dev::DEV_POLICY_HIGH.into(),
                revocation: mode,
                issuers: pem(&pki.intermediate),
            },
            AcceptedPolicy {
                oid: dev::DEV_POLICY_SUBSTANTIAL.into(),
                revocation: mode,
                issuers: pem(&pki.intermediate),
            },
        ],
        identity,
        crls: pki.crl_paths.iter().cloned().map(CrlSource::File).collect(),
        ocsp: false,
        max_crl_bytes: MAX_CRL_BYTES,
    }
}

fn validator(pki: &DevPki) -> Validator {
    Validator::new(config(
        pki,
        IdentityAttribute::SanUri,
        RevocationMode::HardFail,
    ))
    .unwrap()
}

#[tokio::test]
async fn valid_certificates_give_their_policy_and_every_kind_of_identity() {
    let (_dir, pki) = pki();
    let now = SystemTime::now();
    let v = validator(&pki);
    let hong = v.validate(&chain(&pki, "hong"), now).await.unwrap();
    assert_eq!(hong.policy_oid, dev::DEV_POLICY_HIGH);
    assert_eq!(hong.identity, "urn:anyid:dev:citizen:hong");
    assert_eq!(hong.subject, "Dev citizen hong");
    assert_eq!(hong.revocation, RevocationStatus::Good);
    let lee = v.validate(&chain(&pki, "lee"), now).await.unwrap();
    assert_eq!(lee.policy_oid, dev::DEV_POLICY_SUBSTANTIAL);
    // RSA too, and the leaf alone (the intermediate comes from the configuration).
    let kim = chain(&pki, "kim");
    assert!(v.validate(&kim[..1], now).await.is_ok());

    for (attribute, expected) in [
        (IdentityAttribute::SubjectSerialNumber, "DEV0001".to_owned()),
        (
            IdentityAttribute::SanOtherName {
                oid: dev::IDENTIFY_DATA_OID.into(),
            },
            "dev-vid-hong".to_owned(),
        ),
        (IdentityAttribute::Fingerprint, hong.fingerprint.clone()),
    ] {
        let v = Validator::new(config(&pki, attribute.clone(), RevocationMode::HardFail)).unwrap();
        let got = v.validate(&chain(&pki, "hong"), now).await.unwrap();
        assert_eq!(got.identity, expected, "{attribute:?}");
    }
    assert_eq!(hong.fingerprint.len(), 64);
    let missing = IdentityAttribute::SanOtherName {
        oid: "1.2.3.4".into(),
    };
    let v = Validator::new(config(&pki, missing, RevocationMode::HardFail)).unwrap();
    assert!(matches!(
        v.validate(&chain(&pki, "hong"), now).await,
        Err(CertError::NoIdentity)
    ));
}

#[tokio::test]
async fn each_bad_certificate_is_refused_for_its_own_reason() {
    let (_dir, pki) = pki();
    let v = validator(&pki);
    let now = SystemTime::now();
    for (name, code) in [
        ("expired", "expired"),
        ("future", "not_yet_valid"),
        ("revoked", "revoked"),
        ("stranger", "unknown_issuer"),
        ("wrong-policy", "policy_not_accepted"),
        ("wrong-usage", "key_usage"),
        // An accepted policy from a CA it is not bound to.
        ("other-ca", "policy_not_accepted"),
    ] {
        let err = v.validate(&chain(&pki, name), now).await.unwrap_err();
        assert_eq!(err.code(), code, "{name}: {err}");
    }
    assert_eq!(v.validate(&[], now).await.unwrap_err().code(), "malformed");
    let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
    assert_eq!(
        v.validate(&[junk], now).await.unwrap_err().code(),
        "malformed"
    );
}

#[tokio::test]
async fn without_a_current_crl_hard_fail_refuses_and_soft_fail_accepts_but_revoked_stays_revoked() {
    let (_dir, pki) = pki();
    let now = SystemTime::now();
    for (mode, expect_ok) in [
        (RevocationMode::HardFail, false),
        (RevocationMode::SoftFail, true),
    ] {
        let mut c = config(&pki, IdentityAttribute::SanUri, mode);
        c.crls.clear();
        let v = Validator::new(c).unwrap();
        let got = v.validate(&chain(&pki, "hong"), now).await;
        match (expect_ok, got) {
            (true, Ok(valid)) => assert_eq!(valid.revocation, RevocationStatus::Unknown),
            (false, Err(CertError::RevocationUnknown)) => {}
            (_, other) => panic!("{mode:?}: {other:?}"),
        }
    }
    // A stale CRL counts as none (ExpirationPolicy::Enforce): past its nextUpdate, the
    // certificates themselves still valid.
    let later = SystemTime::now() + Duration::from_secs((dev::CRL_DAYS as u64 + 10) * 86400);
    let v = validator(&pki);
    assert!(matches!(
        v.validate(&chain(&pki, "hong"), later).await,
        Err(CertError::RevocationUnknown)
    ));
    let soft = Validator::new(config(
        &pki,
        IdentityAttribute::SanUri,
        RevocationMode::SoftFail,
    ))
    .unwrap();
    assert!(matches!(
        soft.validate(&chain(&pki, "revoked"), now).await,
        Err(CertError::Revoked)
    ));
}

#[tokio::test]
async fn crls_refresh_from_a_url_and_a_failed_refresh_keeps_the_last_good_one() {
    let (_dir, pki) = pki();
    let inter_crl = std::fs::read(&pki.crl_paths[1]).unwrap();
    // 0: 404, 1: the CRL, 2: garbage.
    let phase = Arc::new(AtomicU8::new(0));
    let served = phase.clone();
    let app = axum::Router::new().route(
        "/intermediate.crl",
        axum::routing::get(move || {
            let phase = served.load(Ordering::SeqCst);
            let body = inter_crl.clone();
            async move {
                match phase {
                    0 => (axum::http::StatusCode::NOT_FOUND, Vec::new()),
                    1 => (axum::http::StatusCode::OK, body),
                    _ => (axum::http::StatusCode::OK, b"not a CRL".to_vec()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/intermediate.crl", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut c = config(&pki, IdentityAttribute::SanUri, RevocationMode::HardFail);
    c.crls = vec![
        CrlSource::File(pki.crl_paths[0].clone()),
        CrlSource::Url(url),
    ];
    let v = Validator::new(c).unwrap();
    let now = SystemTime::now();
    assert!(v.refresh_crls().await.is_err(), "404");
    assert!(matches!(
        v.validate(&chain(&pki, "revoked"), now).await,
        Err(CertError::RevocationUnknown)
    ));
    phase.store(1, Ordering::SeqCst);
    v.refresh_crls().await.unwrap();
    assert!(matches!(
        v.validate(&chain(&pki, "revoked"), now).await,
        Err(CertError::Revoked)
    ));
    assert!(v.validate(&chain(&pki, "hong"), now).await.is_ok());
    phase.store(2, Ordering::SeqCst);
    assert!(v.refresh_crls().await.is_err(), "garbage");
    assert!(matches!(
        v.validate(&chain(&pki, "revoked"), now).await,
        Err(CertError::Revoked)
    ));
}

/// A one-connection HTTP/1.1 server on loopback answering 200 with `total` zero bytes, with
/// a Content-Length when `announce`, else delimited by closing the connection. The task
/// returns how many body bytes the client took before it hung up.
async fn big_answer(total: usize, announce: bool) -> (String, tokio::task::JoinHandle<usize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/big.crl", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the request ended early");
            head.extend_from_slice(&buf[..n]);
        }
        let length = if announce {
            format!("content-length: {total}\r\n")
        } else {
            String::new()
        };
        let status = format!("HTTP/1.1 200 OK\r\n{length}connection: close\r\n\r\n");
        if socket.write_all(status.as_bytes()).await.is_err() {
            return 0;
        }
        let chunk = vec![0u8; 64 << 10];
        let mut sent = 0;
        while sent < total {
            let n = chunk.len().min(total - sent);
            if socket.write_all(&chunk[..n]).await.is_err() {
                break;
            }
            sent += n;
        }
        sent
    });
    (url, task)
}

#[tokio::test]
async fn a_crl_larger_than_the_cap_is_refused_and_the_last_good_one_kept() {
    let (_dir, pki) = pki();
    let now = SystemTime::now();
    for announce in [false, true] {
        // Far more than the cap (and than any socket buffer between the two ends).
        let total = 32 * MAX_CRL_BYTES;
        let (url, served) = big_answer(total, announce).await;
        let mut c = config(&pki, IdentityAttribute::SanUri, RevocationMode::HardFail);
        c.crls = vec![
            CrlSource::File(pki.crl_paths[0].clone()),
            CrlSource::File(pki.crl_paths[1].clone()),
            CrlSource::Url(url),
        ];
        let v = Validator::new(c).unwrap();
        let err = v.refresh_crls().await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("larger than {MAX_CRL_BYTES} bytes")),
            "announce {announce}: {err}"
        );
        drop(v);
        let sent = served.await.unwrap();
        assert!(
            sent < total / 2,
            "announce {announce}: the client stopped reading ({sent} of {total} bytes sent)"
        );
    }
    // The refusal of one source leaves the others in force.
    let mut c = config(&pki, IdentityAttribute::SanUri, RevocationMode::HardFail);
    let (url, _served) = big_answer(MAX_CRL_BYTES + 1, false).await;
    c.crls.push(CrlSource::Url(url));
    let v = Validator::new(c).unwrap();
    assert!(v.refresh_crls().await.is_err());
    assert!(matches!(
        v.validate(&chain(&pki, "revoked"), now).await,
        Err(CertError::Revoked)
    ));
}

fn credentials(pki: &DevPki, name: &str) -> (String, String) {
    let c = pki.citizens.iter().find(|c| c.name == name).unwrap();
    (
        std::fs::read_to_string(&c.key).unwrap(),
        std::fs::read_to_string(&c.cert).unwrap(),
    )
}

#[tokio::test]
async fn a_signed_challenge_round_trips_for_rsa_and_ecdsa_and_tampering_is_caught() {
    let (_dir, pki) = pki();
    let v = validator(&pki);
    for name in ["hong", "kim"] {
        let (key, chain) = credentials(&pki, name);
        let der = cms::sign_challenge(b"challenge-1", &key, &chain).unwrap();
        let signer_chain = cms::verify_signed_challenge(&der, b"challenge-1").unwrap();
        let valid = v.validate(&signer_chain, SystemTime::now()).await.unwrap();
        assert_eq!(valid.identity, format!("urn:anyid:dev:citizen:{name}"));
        assert!(matches!(
            cms::verify_signed_challenge(&der, b"challenge-2"),
            Err(CertError::NonceMismatch)
        ));
        // What a signature claims is its signer's certificate, whether or not it verifies.
        assert_eq!(
            cms::claimed_signer(&der).as_deref(),
            Some(signer_chain[0].as_ref())
        );
        // PEM and base64 text both decode to the same DER.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let pem = format!("-----BEGIN PKCS7-----\n{}\n-----END PKCS7-----\n", b64);
        assert_eq!(cms::decode_signed_data(&b64).unwrap(), der);
        assert_eq!(cms::decode_signed_data(&pem).unwrap(), der);

        // Flip each byte of the last 64 (the signature) and a spread of others: never
        // accepted. (This validator knows no intermediates, so the copy the SignedData
        // carries must be intact too.)
        let strict = {
            let mut c = config(&pki, IdentityAttribute::SanUri, RevocationMode::HardFail);
            c.intermediates.clear();
            Validator::new(c).unwrap()
        };
        assert!(
            strict
                .validate(&signer_chain, SystemTime::now())
                .await
                .is_ok()
        );
        let positions: Vec<usize> = (der.len() - 64..der.len())
            .chain((0..der.len()).step_by(7))
            .collect();
        for i in positions {
            let mut bad = der.clone();
            bad[i] ^= 0x01;
            if let Ok(chain) = cms::verify_signed_challenge(&bad, b"challenge-1") {
                // A flip inside a carried certificate may still parse; the chain must then
                // fail validation.
                assert!(
                    strict.validate(&chain, SystemTime::now()).await.is_err(),
                    "{name}: byte {i} flipped and accepted"
                );
            }
        }
    }
    // The signer's algorithm parameters are outside the signature; RSA's must be NULL (RFC
    // 5754 §3.2), so an empty OCTET STRING in their place is refused.
    let (key, chain) = credentials(&pki, "kim");
    let der = cms::sign_challenge(b"challenge-1", &key, &chain).unwrap();
    let rsa_null = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let at = der
        .windows(rsa_null.len())
        .rposition(|w| w == rsa_null)
        .unwrap()
        + rsa_null.len()
        - 2;
    let mut bad = der.clone();
    bad[at] = 0x04;
    assert!(matches!(
        cms::verify_signed_challenge(&bad, b"challenge-1"),
        Err(CertError::Malformed(_))
    ));
    // The wrong key for the certificate is refused by the reference signer.
    let (hong_key, _) = credentials(&pki, "hong");
    let (_, lee_chain) = credentials(&pki, "lee");
    assert!(cms::sign_challenge(b"x", &hong_key, &lee_chain).is_err());
}

#[test]
fn load_or_generate_reuses_a_complete_pki_and_regenerates_an_incomplete_one() {
    let dir = tempfile::tempdir().unwrap();
    let now = SystemTime::now();
    let first = dev::load_or_generate(dir.path(), now).unwrap();
    let root = std::fs::read(&first.root).unwrap();
    let again = dev::load_or_generate(dir.path(), now).unwrap();
    assert_eq!(std::fs::read(&again.root).unwrap(), root, "reused");
    std::fs::remove_file(&first.citizens[0].key).unwrap();
    let fresh = dev::load_or_generate(dir.path(), now).unwrap();
    assert_ne!(std::fs::read(&fresh.root).unwrap(), root, "regenerated");
    assert!(fresh.citizens[0].key.exists());
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = cms::verify_signed_challenge(&bytes, b"n");
            let _ = cms::claimed_signer(&bytes);
        }

        #[test]
        fn on_any_text(text in "\\PC{0,300}") {
            let _ = cms::decode_signed_data(&text);
        }

        #[test]
        fn on_der_like_prefixes(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
            // Start like a ContentInfo so the parser gets past the first tag.
            let mut bytes = vec![0x30, 0x82, 0x01, 0x00, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0xa0];
            bytes.extend(tail);
            let _ = cms::verify_signed_challenge(&bytes, b"n");
            let _ = cms::claimed_signer(&bytes);
        }
    }
}

#[test]
fn a_dev_citizen_pkcs12_opens_with_its_password_and_holds_the_key_and_chain() {
    let (_dir, pki) = pki();
    let hong = pki.citizens.iter().find(|c| c.name == "hong").unwrap();
    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-in"])
        .arg(&hong.p12)
        .args(["-passin", &format!("pass:{}", dev::P12_PASSWORD), "-nodes"])
        .output()
        .expect("openssl (scripts/test installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    let key = std::fs::read_to_string(&hong.key).unwrap();
    let body = |pem: &str| -> String { pem.lines().filter(|l| !l.starts_with("-----")).collect() };
    let key_block = text
        .split("-----BEGIN PRIVATE KEY-----")
        .nth(1)
        .and_then(|t| t.split("-----END PRIVATE KEY-----").next())
        .expect("a private key");
    assert_eq!(body(key_block), body(&key), "the same key");
    assert_eq!(
        text.matches("-----BEGIN CERTIFICATE-----").count(),
        2,
        "leaf and intermediate"
    );
    assert!(text.contains("Dev citizen hong"), "{text}");
    // The wrong password fails the MAC.
    let wrong = std::process::Command::new("openssl")
        .args(["pkcs12", "-in"])
        .arg(&hong.p12)
        .args(["-passin", "pass:wrong", "-nodes"])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
}
