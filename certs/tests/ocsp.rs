//! OCSP against a real responder on loopback: a CA of the test's own (it keeps its key to
//! sign responses) issues a certificate naming the responder; with no CRL, the responder's
//! good, revoked and unknown answers decide, and answers that are stale, signed by a stranger
//! or missing count as an unknown status, which hard fail refuses and soft fail accepts. A
//! delegated responder certificate (id-kp-OCSPSigning) is accepted. An answer larger than
//! the OCSP response cap is not read, however good it would be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyid_certs::{
    AcceptedPolicy, CertError, CertificateDer, IdentityAttribute, MAX_CRL_BYTES,
    MAX_OCSP_RESPONSE_BYTES, RevocationMode, RevocationStatus, Validator, ValidatorConfig,
};
use der::asn1::{BitString, GeneralizedTime, Ia5String, Null, ObjectIdentifier};
use der::{Decode, Encode};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SigningKey,
};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    OcspResponseStatus, ResponderId, ResponseBytes, ResponseData, SingleResponse, Version,
};

const POLICY: &str = "1.3.6.1.4.1.32473.7.1";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Answer {
    Good,
    Revoked,
    Unknown,
    Stale,
    Stranger,
    Delegated,
    Down,
    /// A good answer, correctly signed, padded past the OCSP response cap.
    Oversized,
}

struct Responder {
    ca_key: KeyPair,
    ca_subject: x509_cert::name::Name,
    stranger: KeyPair,
    delegate_key: KeyPair,
    delegate_der: Vec<u8>,
    answer: Mutex<Answer>,
}

fn time(t: SystemTime) -> OcspGeneralizedTime {
    OcspGeneralizedTime(GeneralizedTime::from_system_time(t).unwrap())
}

impl Responder {
    fn respond(&self, request: &[u8]) -> Vec<u8> {
        let request = OcspRequest::from_der(request).unwrap();
        let id = request.tbs_request.request_list[0].req_cert.clone();
        let answer = *self.answer.lock().unwrap();
        let now = SystemTime::now();
        let (this_update, next_update) = if answer == Answer::Stale {
            (
                now - Duration::from_secs(7200),
                now - Duration::from_secs(3600),
            )
        } else {
            (
                now - Duration::from_secs(60),
                now + Duration::from_secs(3600),
            )
        };
        let cert_status = match answer {
            Answer::Revoked => CertStatus::Revoked(x509_ocsp::RevokedInfo {
                revocation_time: time(now - Duration::from_secs(600)),
                revocation_reason: None,
            }),
            Answer::Unknown => CertStatus::Unknown(Null),
            _ => CertStatus::good(),
        };
        let data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByName(self.ca_subject.clone()),
            produced_at: time(now),
            responses: vec![SingleResponse {
                cert_id: id,
                cert_status,
                this_update: time(this_update),
                next_update: Some(time(next_update)),
                single_extensions: None,
            }],
            response_extensions: (answer == Answer::Oversized).then(|| {
                vec![x509_cert::ext::Extension {
                    extn_id: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.32473.7.99"),
                    critical: false,
                    extn_value: der::asn1::OctetString::new(vec![0u8; MAX_OCSP_RESPONSE_BYTES])
                        .unwrap(),
                }]
            }),
        };
        let tbs = data.to_der().unwrap();
        let (signer, certs) = match answer {
            Answer::Stranger => (&self.stranger, None),
            Answer::Delegated => (
                &self.delegate_key,
                Some(vec![
                    x509_cert::Certificate::from_der(&self.delegate_der).unwrap(),
                ]),
            ),
            _ => (&self.ca_key, None),
        };
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
                parameters: None,
            },
            signature: BitString::from_bytes(&signer.sign(&tbs).unwrap()).unwrap(),
            certs,
        };
        OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1"),
                response: der::asn1::OctetString::new(basic.to_der().unwrap()).unwrap(),
            }),
        }
        .to_der()
        .unwrap()
    }
}

fn policies() -> CustomExtension {
    let policies = x509_cert::ext::pkix::CertificatePolicies(vec![
        x509_cert::ext::pkix::certpolicy::PolicyInformation {
            policy_identifier: ObjectIdentifier::new_unwrap(POLICY),
            policy_qualifiers: None,
        },
    ]);
    CustomExtension::from_oid_content(&[2, 5, 29, 32], policies.to_der().unwrap())
}

fn aia(url: &str) -> CustomExtension {
    let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
        access_method: ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1"),
        access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(url).unwrap()),
    }]);
    CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], aia.to_der().unwrap())
}

/// A CA, a citizen certificate naming `url` as its OCSP responder, and the responder state.
fn pki(url: &str) -> (CertificateDer<'static>, CertificateDer<'static>, Responder) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "OCSP test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let ca_der = ca_cert.der().clone();
    let ca_subject = x509_cert::Certificate::from_der(&ca_der)
        .unwrap()
        .tbs_certificate
        .subject;
    let issuer = Issuer::new(
        ca,
        KeyPair::try_from(ca_key.serialize_der().as_slice()).unwrap(),
    );

    let leaf_key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name
        .push(rcgen::DnType::CommonName, "OCSP citizen");
    leaf.subject_alt_names = vec![rcgen::SanType::URI("urn:test:citizen".try_into().unwrap())];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.custom_extensions = vec![policies(), aia(url)];
    let leaf_der = leaf.signed_by(&leaf_key, &issuer).unwrap().der().clone();

    let delegate_key = KeyPair::generate().unwrap();
    let mut delegate = CertificateParams::new(Vec::<String>::new()).unwrap();
    delegate
        .distinguished_name
        .push(rcgen::DnType::CommonName, "OCSP responder");
    delegate.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
    let delegate_der = delegate
        .signed_by(&delegate_key, &issuer)
        .unwrap()
        .der()
        .to_vec();
    let responder = Responder {
        ca_key,
        ca_subject,
        stranger: KeyPair::generate().unwrap(),
        delegate_key,
        delegate_der,
        answer: Mutex::new(Answer::Good),
    };
    (ca_der, leaf_der, responder)
}

#[tokio::test]
async fn the_responder_the_certificate_names_decides_when_no_crl_does() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ocsp", listener.local_addr().unwrap());
    let (ca, leaf, responder) = pki(&url);
    let responder = Arc::new(responder);
    let served = responder.clone();
    let app = axum::Router::new().route(
        "/ocsp",
        axum::routing::post(move |body: axum::body::Bytes| {
            let responder = served.clone();
            async move {
                if *responder.answer.lock().unwrap() == Answer::Down {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, Vec::new());
                }
                (axum::http::StatusCode::OK, responder.respond(&body))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let validator = |mode, ocsp| {
        Validator::new(ValidatorConfig {
            anchors: vec![ca.clone()],
            intermediates: vec![],
            policies: vec![AcceptedPolicy {
                oid: POLICY.into(),
                revocation: mode,
                issuers: vec![ca.clone()],
            }],
            identity: IdentityAttribute::SanUri,
            crls: vec![],
            ocsp,
            max_crl_bytes: MAX_CRL_BYTES,
        })
        .unwrap()
    };
    let hard = validator(RevocationMode::HardFail, true);
    let soft = validator(RevocationMode::SoftFail, true);
    let chain = [leaf.clone()];
    let now = SystemTime::now();

    for (answer, expected) in [
        (Answer::Good, Ok(RevocationStatus::Good)),
        (Answer::Delegated, Ok(RevocationStatus::Good)),
        (Answer::Revoked, Err("revoked")),
        (Answer::Unknown, Err("revocation_unknown")),
        (Answer::Stale, Err("revocation_unknown")),
        (Answer::Stranger, Err("revocation_unknown")),
        (Answer::Down, Err("revocation_unknown")),
        // Past the response cap: not read to the end, so no answer.
        (Answer::Oversized, Err("revocation_unknown")),
    ] {
        *responder.answer.lock().unwrap() = answer;
        let got = hard.validate(&chain, now).await;
        match (&expected, &got) {
            (Ok(status), Ok(valid)) => assert_eq!(valid.revocation, *status, "{answer:?}"),
            (Err(code), Err(e)) => assert_eq!(e.code(), *code, "{answer:?}"),
            _ => panic!("{answer:?}: expected {expected:?}, got {got:?}"),
        }
        // Soft fail accepts what is unknown, never what is revoked.
        let soft_got = soft.validate(&chain, now).await;
        match answer {
            Answer::Revoked => assert!(matches!(soft_got, Err(CertError::Revoked))),
            Answer::Good | Answer::Delegated => {
                assert_eq!(soft_got.unwrap().revocation, RevocationStatus::Good)
            }
            _ => assert_eq!(
                soft_got.unwrap().revocation,
                RevocationStatus::Unknown,
                "{answer:?}"
            ),
        }
    }

    // With OCSP off, the responder is never asked.
    *responder.answer.lock().unwrap() = Answer::Good;
    let off = validator(RevocationMode::HardFail, false);
    assert!(matches!(
        off.validate(&chain, now).await,
        Err(CertError::RevocationUnknown)
    ));
}
