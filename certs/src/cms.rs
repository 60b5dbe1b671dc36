//! The signed challenge of joint-certificate login: a CMS SignedData (RFC 5652) whose
//! content is the server's challenge, signed with SHA-256 and RSA PKCS#1 v1.5 or ECDSA P-256,
//! carrying the signer's certificate. [`verify_signed_challenge`] checks it;
//! [`sign_challenge`] is the reference signer for development and tests.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use rustls_pki_types::CertificateDer;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::CertError;

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

fn malformed(what: &str) -> impl Fn(der::Error) -> CertError + '_ {
    move |e| CertError::Malformed(format!("{what}: {e}"))
}

fn any<T: der::Tagged + der::EncodeValue>(value: &T) -> Result<Any, CertError> {
    Any::encode_from(value).map_err(malformed("encoding"))
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// The DER of a SignedData posted as text: PEM (`PKCS7`/`CMS`) or bare base64 (standard or
/// URL-safe, padding and whitespace ignored).
pub fn decode_signed_data(text: &str) -> Result<Vec<u8>, CertError> {
    let body: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("-----"))
        .flat_map(|l| l.chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let body = body.trim_end_matches('=');
    let engines = [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    engines
        .iter()
        .find_map(|e| e.decode(body).ok())
        .filter(|der| !der.is_empty())
        .ok_or_else(|| CertError::Malformed("the signature is not base64 or PEM".into()))
}

/// The certificate a SignerInfo names, among `certs`.
fn signer_certificate<'a>(
    sid: &SignerIdentifier,
    certs: &'a [Certificate],
) -> Option<&'a Certificate> {
    certs.iter().find(|c| match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            c.tbs_certificate.issuer == isn.issuer
                && c.tbs_certificate.serial_number == isn.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => c
            .tbs_certificate
            .get::<SubjectKeyIdentifier>()
            .ok()
            .flatten()
            .is_some_and(|(_, own)| own == *ski),
    })
}

/// The certificates a SignedData carries.
fn carried_certificates(sd: &SignedData) -> Vec<Certificate> {
    sd.certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(cert) => Some(cert.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect()
}

/// The DER of the certificate a SignedData names as its single signer's, unverified: what a
/// login attempt claims to be, so that failed attempts can be counted per certificate.
pub fn claimed_signer(signed_data_der: &[u8]) -> Option<Vec<u8>> {
    let info = ContentInfo::from_der(signed_data_der).ok()?;
    let sd: SignedData = info.content.decode_as().ok()?;
    let [signer] = sd.signer_infos.0.as_slice() else {
        return None;
    };
    signer_certificate(&signer.sid, &carried_certificates(&sd))?
        .to_der()
        .ok()
}

/// The single value of signed attribute `oid`.
fn attribute(attrs: &SetOfVec<Attribute>, oid: ObjectIdentifier) -> Option<&Any> {
    let attr = attrs.iter().find(|a| a.oid == oid)?;
    (attr.values.len() == 1)
        .then(|| attr.values.get(0))
        .flatten()
}

/// Verify a signed challenge: exactly one signer, SHA-256, signed attributes present with
/// `contentType` id-data and `messageDigest` over the content (RFC 5652 §5.4, §11), the
/// signature over the DER SET OF signed attributes, and the content equal to `expected`
/// (detached content is taken to be `expected`). Returns the chain for path validation:
/// the signer's certificate first, then the other certificates it carried.
pub fn verify_signed_challenge(
    signed_data_der: &[u8],
    expected: &[u8],
) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let info = ContentInfo::from_der(signed_data_der).map_err(malformed("ContentInfo"))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(CertError::Malformed("not a SignedData".into()));
    }
    let sd: SignedData = info.content.decode_as().map_err(malformed("SignedData"))?;
    // RFC 5652 §5.1, §5.3: version 1 with issuerAndSerialNumber (3 with a key identifier),
    // and the signer's digest listed in digestAlgorithms.
    let versions_ok = sd.signer_infos.0.iter().all(|si| {
        matches!(
            (&si.sid, si.version, sd.version),
            (
                SignerIdentifier::IssuerAndSerialNumber(_),
                CmsVersion::V1,
                CmsVersion::V1
            ) | (
                SignerIdentifier::SubjectKeyIdentifier(_),
                CmsVersion::V3,
                CmsVersion::V3
            )
        )
    });
    if !versions_ok || !sd.digest_algorithms.iter().any(|a| a.oid == SHA256) {
        return Err(CertError::Malformed(
            "unexpected SignedData version or digests".into(),
        ));
    }
    if sd.encap_content_info.econtent_type != ID_DATA {
        return Err(CertError::Malformed(
            "the signed content is not data".into(),
        ));
    }
    let content = match &sd.encap_content_info.econtent {
        Some(any) => any
            .decode_as::<OctetString>()
            .map_err(malformed("content"))?
            .into_bytes(),
        None => expected.to_vec(),
    };
    let certs = carried_certificates(&sd);
    let [signer] = sd.signer_infos.0.as_slice() else {
        return Err(CertError::Malformed(
            "exactly one signer is expected".into(),
        ));
    };
    if signer.digest_alg.oid != SHA256 {
        return Err(CertError::Malformed("the digest must be SHA-256".into()));
    }
    let Some(attrs) = &signer.signed_attrs else {
        return Err(CertError::Malformed(
            "signed attributes are required".into(),
        ));
    };
    let Some(cert) = signer_certificate(&signer.sid, &certs) else {
        return Err(CertError::Malformed(
            "the signer's certificate is missing".into(),
        ));
    };
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| CertError::Malformed("public key".into()))?;
    let sig_alg = signer.signature_algorithm.oid;
    let sig_params = signer.signature_algorithm.parameters.as_ref();
    let algorithm: &dyn signature::VerificationAlgorithm = match spki.algorithm.oid {
        // RFC 3370 §3.2, RFC 5754 §3.2: NULL parameters, or (accepted) none.
        RSA_ENCRYPTION
            if (sig_alg == RSA_ENCRYPTION || sig_alg == SHA256_WITH_RSA)
                && sig_params.is_none_or(|p| *p == Any::null()) =>
        {
            &signature::RSA_PKCS1_2048_8192_SHA256
        }
        // RFC 5758 §3.2: no parameters.
        EC_PUBLIC_KEY
            if sig_alg == ECDSA_WITH_SHA256
                && sig_params.is_none()
                && spki
                    .algorithm
                    .parameters
                    .as_ref()
                    .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                    == Some(P256) =>
        {
            &signature::ECDSA_P256_SHA256_ASN1
        }
        _ => {
            return Err(CertError::Malformed(
                "the signature must be RSA PKCS#1 v1.5 or ECDSA P-256, with SHA-256".into(),
            ));
        }
    };
    // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF.
    let signed = attrs.to_der().map_err(malformed("signed attributes"))?;
    UnparsedPublicKey::new(algorithm, key)
        .verify(&signed, signer.signature.as_bytes())
        .map_err(|_| CertError::BadSignature)?;
    let content_type =
        attribute(attrs, ID_CONTENT_TYPE).and_then(|v| v.decode_as::<ObjectIdentifier>().ok());
    let digest = attribute(attrs, ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .map(OctetString::into_bytes);
    if content_type != Some(ID_DATA) || digest.as_deref() != Some(sha256(&content).as_slice()) {
        return Err(CertError::BadSignature);
    }
    if content != expected {
        return Err(CertError::NonceMismatch);
    }
    let mut chain = vec![CertificateDer::from(
        cert.to_der().map_err(malformed("certificate"))?,
    )];
    for other in certs.iter().filter(|c| *c != cert) {
        chain.push(CertificateDer::from(
            other.to_der().map_err(malformed("certificate"))?,
        ));
    }
    Ok(chain)
}

enum Signer {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// The reference signer: a SignedData over `challenge` (encapsulated) with the PKCS#8 key
/// (PEM, RSA or ECDSA P-256) and the certificate chain (PEM, signer first).
pub fn sign_challenge(
    challenge: &[u8],
    key_pkcs8_pem: &str,
    chain_pem: &str,
) -> Result<Vec<u8>, CertError> {
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use rustls_pki_types::pem::PemObject;
    let key = PrivatePkcs8KeyDer::from_pem_slice(key_pkcs8_pem.as_bytes())
        .map_err(|e| CertError::Malformed(format!("PKCS#8 key: {e}")))?;
    let signer = match EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        key.secret_pkcs8_der(),
    ) {
        Ok(k) => Signer::Ecdsa(k),
        Err(_) => Signer::Rsa(
            RsaKeyPair::from_pkcs8(key.secret_pkcs8_der())
                .map_err(|e| CertError::Malformed(format!("private key: {e}")))?,
        ),
    };
    let chain = crate::certificates_from_pem(chain_pem.as_bytes())?
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).map_err(malformed("certificate")))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(leaf) = chain.first() else {
        return Err(CertError::Malformed("no certificate".into()));
    };
    let content = OctetString::new(challenge).map_err(malformed("content"))?;
    let attrs = SetOfVec::try_from(vec![
        Attribute {
            oid: ID_CONTENT_TYPE,
            values: SetOfVec::try_from(vec![any(&ID_DATA)?]).map_err(malformed("attribute"))?,
        },
        Attribute {
            oid: ID_MESSAGE_DIGEST,
            values: SetOfVec::try_from(vec![any(
                &OctetString::new(sha256(challenge)).map_err(malformed("digest"))?
            )?])
            .map_err(malformed("attribute"))?,
        },
    ])
    .map_err(malformed("attributes"))?;
    let to_sign = attrs.to_der().map_err(malformed("attributes"))?;
    let rng = SystemRandom::new();
    let (signature, signature_algorithm) = match &signer {
        Signer::Ecdsa(k) => {
            if k.public_key().as_ref()
                != leaf
                    .tbs_certificate
                    .subject_public_key_info
                    .subject_public_key
                    .raw_bytes()
            {
                return Err(CertError::Config(
                    "the key does not match the certificate".into(),
                ));
            }
            let sig = k
                .sign(&rng, &to_sign)
                .map_err(|_| CertError::Config("ECDSA signing failed".into()))?;
            (
                sig.as_ref().to_vec(),
                AlgorithmIdentifierOwned {
                    oid: ECDSA_WITH_SHA256,
                    parameters: None,
                },
            )
        }
        Signer::Rsa(k) => {
            let mut sig = vec![0; k.public_modulus_len()];
            k.sign(&signature::RSA_PKCS1_SHA256, &rng, &to_sign, &mut sig)
                .map_err(|_| CertError::Config("RSA signing failed".into()))?;
            (
                sig,
                AlgorithmIdentifierOwned {
                    oid: RSA_ENCRYPTION,
                    parameters: Some(Any::null()),
                },
            )
        }
    };
    let sha256_id = AlgorithmIdentifierOwned {
        oid: SHA256,
        parameters: None,
    };
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.tbs_certificate.issuer.clone(),
            serial_number: leaf.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_id.clone(),
        signed_attrs: Some(attrs),
        signature_algorithm,
        signature: OctetString::new(signature).map_err(malformed("signature"))?,
        unsigned_attrs: None,
    };
    let certificates = SetOfVec::try_from(
        chain
            .iter()
            .cloned()
            .map(CertificateChoices::Certificate)
            .collect::<Vec<_>>(),
    )
    .map_err(malformed("certificates"))?;
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_id]).map_err(malformed("digests"))?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: Some(any(&content)?),
        },
        certificates: Some(CertificateSet(certificates)),
        crls: None,
        signer_infos: SignerInfos(
            SetOfVec::try_from(vec![signer_info]).map_err(malformed("signer"))?,
        ),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: any(&signed_data)?,
    }
    .to_der()
    .map_err(malformed("ContentInfo"))
}
