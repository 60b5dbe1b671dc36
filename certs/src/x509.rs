//! What webpki does not expose, read with the RustCrypto X.509 types: certificate policies
//! (RFC 5280 §4.2.1.4), key usage (§4.2.1.3), subject alternative names (§4.2.1.6) and
//! subject attributes.

use der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
use der::{Any, Decode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{CertificatePolicies, KeyUsage, SubjectAltName};

use crate::CertError;

const SUBJECT_SERIAL_NUMBER: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.5.4.5");
const COMMON_NAME: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.4.3");

pub(crate) struct Parsed(pub Certificate);

fn malformed(e: der::Error) -> CertError {
    CertError::Malformed(format!("certificate: {e}"))
}

/// A directory-string or IA5 value as text.
pub(crate) fn text(value: &Any) -> Option<String> {
    if let Ok(s) = Utf8StringRef::try_from(value) {
        return Some(s.as_str().to_owned());
    }
    if let Ok(s) = PrintableStringRef::try_from(value) {
        return Some(s.as_str().to_owned());
    }
    Ia5StringRef::try_from(value)
        .ok()
        .map(|s| s.as_str().to_owned())
}

impl Parsed {
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        Certificate::from_der(der).map(Self).map_err(malformed)
    }

    /// The certificate-policy OIDs, dotted; `None` when there is no certificatePolicies
    /// extension at all.
    pub fn policy_extension(&self) -> Result<Option<Vec<String>>, CertError> {
        Ok(self
            .0
            .tbs_certificate
            .get::<CertificatePolicies>()
            .map_err(malformed)?
            .map(|(_, p)| {
                p.0.iter()
                    .map(|i| i.policy_identifier.to_string())
                    .collect()
            }))
    }

    /// The certificate-policy OIDs, dotted.
    pub fn policies(&self) -> Result<Vec<String>, CertError> {
        Ok(self.policy_extension()?.unwrap_or_default())
    }

    /// The subject name, DER (the whole SEQUENCE).
    pub fn subject_der(&self) -> Result<Vec<u8>, CertError> {
        der::Encode::to_der(&self.0.tbs_certificate.subject).map_err(malformed)
    }

    /// The issuer name, DER (the whole SEQUENCE).
    pub fn issuer_der(&self) -> Result<Vec<u8>, CertError> {
        der::Encode::to_der(&self.0.tbs_certificate.issuer).map_err(malformed)
    }

    /// Whether the key may make digital signatures: true when the certificate has no key
    /// usage extension (RFC 5280 §4.2.1.3 leaves it unrestricted).
    pub fn signs(&self) -> Result<bool, CertError> {
        Ok(self
            .0
            .tbs_certificate
            .get::<KeyUsage>()
            .map_err(malformed)?
            .is_none_or(|(_, ku)| ku.digital_signature()))
    }

    fn subject_attribute(&self, oid: der::oid::ObjectIdentifier) -> Option<String> {
        self.0
            .tbs_certificate
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|atv| atv.oid == oid)
            .and_then(|atv| text(&atv.value))
    }

    pub fn subject_serial_number(&self) -> Option<String> {
        self.subject_attribute(SUBJECT_SERIAL_NUMBER)
    }

    /// The subject's common name, else the whole subject DN.
    pub fn display_name(&self) -> String {
        self.subject_attribute(COMMON_NAME)
            .unwrap_or_else(|| self.0.tbs_certificate.subject.to_string())
    }

    pub fn serial_hex(&self) -> String {
        hex(self.0.tbs_certificate.serial_number.as_bytes())
    }

    fn alt_names(&self) -> Vec<GeneralName> {
        self.0
            .tbs_certificate
            .get::<SubjectAltName>()
            .ok()
            .flatten()
            .map(|(_, san)| san.0)
            .unwrap_or_default()
    }

    pub fn san_uri(&self) -> Option<String> {
        self.alt_names().into_iter().find_map(|n| match n {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            _ => None,
        })
    }

    /// The value of the otherName SAN with type `oid`: its text, else hex of its DER.
    pub fn san_other_name(&self, oid: &str) -> Option<String> {
        self.alt_names().into_iter().find_map(|n| match n {
            GeneralName::OtherName(other) if other.type_id.to_string() == oid => Some(
                text(&other.value)
                    .unwrap_or_else(|| hex(&der::Encode::to_der(&other.value).unwrap_or_default())),
            ),
            _ => None,
        })
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
