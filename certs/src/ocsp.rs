//! OCSP (RFC 6960) for certificates that name a responder in their Authority Information
//! Access extension: a request for one certificate, and a response that counts only when the
//! issuer, or a responder the issuer delegated with `id-kp-OCSPSigning` (§4.2.2.2), signed
//! it and it is current. Anything else is "status unknown", which the policy's revocation
//! mode then decides.

use aws_lc_rs::signature::{self, UnparsedPublicKey};
use der::asn1::{Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_cert::Certificate;
use x509_cert::ext::pkix::AuthorityInfoAccessSyntax;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    TbsRequest, Version,
};

use crate::CertError;

const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
const ID_PKIX_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9), as webpki wants it: the OID's DER value.
const OCSP_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09];
/// Clock skew tolerated on thisUpdate/nextUpdate.
const SKEW_S: u64 = 300;
/// A response without nextUpdate is current for this long after thisUpdate.
const NO_NEXT_UPDATE_S: u64 = 24 * 3600;

/// What a responder said, once its answer checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OcspStatus {
    Good,
    Revoked,
    Unknown,
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> CertError {
    move |e| CertError::Malformed(format!("OCSP {what}: {e}"))
}

/// The responder URL the certificate names (AIA id-ad-ocsp, an http(s) URI).
pub(crate) fn responder(leaf: &Certificate) -> Option<String> {
    let (_, aia) = leaf
        .tbs_certificate
        .get::<AuthorityInfoAccessSyntax>()
        .ok()??;
    aia.0.into_iter().find_map(|d| match d.access_location {
        GeneralName::UniformResourceIdentifier(uri)
            if d.access_method == ID_AD_OCSP
                && (uri.as_str().starts_with("http://")
                    || uri.as_str().starts_with("https://")) =>
        {
            Some(uri.to_string())
        }
        _ => None,
    })
}

/// The CertID of `leaf` under `issuer`, with SHA-1 as RFC 5019 §2.1.1 has responders expect
/// (an identifier, not a security hash here).
pub(crate) fn cert_id(leaf: &Certificate, issuer: &Certificate) -> Result<CertId, CertError> {
    let sha1 = |bytes: &[u8]| {
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes)
            .as_ref()
            .to_vec()
    };
    let name = issuer
        .tbs_certificate
        .subject
        .to_der()
        .map_err(malformed("issuer name"))?;
    let key = issuer
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: SHA1,
            parameters: Some(Null.into()),
        },
        issuer_name_hash: OctetString::new(sha1(&name)).map_err(malformed("hash"))?,
        issuer_key_hash: OctetString::new(sha1(key)).map_err(malformed("hash"))?,
        serial_number: leaf.tbs_certificate.serial_number.clone(),
    })
}

/// An unsigned request for one certificate (RFC 6960 §4.1.1).
pub(crate) fn request(id: &CertId) -> Result<Vec<u8>, CertError> {
    OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: id.clone(),
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    }
    .to_der()
    .map_err(malformed("request"))
}

/// Verify `signature` over `message` by the key of `cert`.
fn signed_by(
    cert: &Certificate,
    algorithm: &ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let verifier: &dyn signature::VerificationAlgorithm = match *algorithm {
        ECDSA_WITH_SHA256 => &signature::ECDSA_P256_SHA256_ASN1,
        SHA256_WITH_RSA => &signature::RSA_PKCS1_2048_8192_SHA256,
        _ => return false,
    };
    let key = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes();
    UnparsedPublicKey::new(verifier, key)
        .verify(message, signature)
        .is_ok()
}

/// A delegated responder: issued by `issuer_der` for OCSP signing, valid at `now`.
fn delegated(candidate: &Certificate, issuer_der: &CertificateDer<'_>, now: UnixTime) -> bool {
    let Ok(der) = candidate.to_der() else {
        return false;
    };
    let der = CertificateDer::from(der);
    let (Ok(anchor), Ok(cert)) = (
        webpki::anchor_from_trusted_cert(issuer_der),
        webpki::EndEntityCert::try_from(&der),
    ) else {
        return false;
    };
    cert.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &[],
        now,
        webpki::KeyUsage::required(OCSP_SIGNING),
        None,
        None,
    )
    .is_ok()
}

/// Read a responder's answer about `id`: its status if the answer is authentic and current.
pub(crate) fn status(
    response: &[u8],
    id: &CertId,
    issuer: &Certificate,
    issuer_der: &CertificateDer<'_>,
    now: UnixTime,
) -> Result<OcspStatus, CertError> {
    let response = OcspResponse::from_der(response).map_err(malformed("response"))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Ok(OcspStatus::Unknown);
    }
    let Some(bytes) = response.response_bytes else {
        return Err(CertError::Malformed("OCSP response without a body".into()));
    };
    if bytes.response_type != ID_PKIX_OCSP_BASIC {
        return Err(CertError::Malformed("OCSP response is not basic".into()));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(malformed("basic response"))?;
    let tbs = basic
        .tbs_response_data
        .to_der()
        .map_err(malformed("response data"))?;
    let signature = basic.signature.raw_bytes();
    let algorithm = &basic.signature_algorithm.oid;
    // RFC 6960 §4.2.2.2: the issuer itself, or a responder it delegated.
    let authentic = signed_by(issuer, algorithm, &tbs, signature)
        || basic
            .certs
            .iter()
            .flatten()
            .any(|c| delegated(c, issuer_der, now) && signed_by(c, algorithm, &tbs, signature));
    if !authentic {
        return Err(CertError::BadSignature);
    }
    let Some(single) = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| r.cert_id == *id)
    else {
        return Ok(OcspStatus::Unknown);
    };
    let now_s = now.as_secs();
    let this_update = single.this_update.0.to_unix_duration().as_secs();
    let fresh_until = match &single.next_update {
        Some(next) => next.0.to_unix_duration().as_secs(),
        None => this_update + NO_NEXT_UPDATE_S,
    };
    if this_update > now_s + SKEW_S || fresh_until + SKEW_S < now_s {
        return Ok(OcspStatus::Unknown);
    }
    Ok(match single.cert_status {
        CertStatus::Good(_) => OcspStatus::Good,
        CertStatus::Revoked(_) => OcspStatus::Revoked,
        CertStatus::Unknown(_) => OcspStatus::Unknown,
    })
}
