//! The dev CA: a root, an intermediate (the citizen CA, which dev mode binds to the dev
//! policies), a second intermediate no dev policy binds, a TLS server certificate for
//! `localhost`, citizen certificates for every case certificate login must handle, and CRLs,
//! written as PEM into one folder (the data dir's `certs/`, never committed). Generated with
//! rcgen on aws-lc-rs.
//!
//! Policy OIDs are under IANA's documentation enterprise number 32473 (RFC 5612), so they
//! can never be mistaken for a real certificate policy.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CustomExtension,
    DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod,
    KeyPair, KeyUsagePurpose, OtherNameValue, RevocationReason, RevokedCertParams, SanType,
    SerialNumber, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};

use crate::CertError;

/// A personal signing certificate good for high assurance.
pub const DEV_POLICY_HIGH: &str = "1.3.6.1.4.1.32473.1.1";
/// A certificate good for substantial assurance.
pub const DEV_POLICY_SUBSTANTIAL: &str = "1.3.6.1.4.1.32473.1.2";
/// A purpose-restricted certificate no login accepts.
pub const DEV_POLICY_UNACCEPTED: &str = "1.3.6.1.4.1.32473.1.9";
/// The password of the dev citizens' PKCS#12 files.
pub const P12_PASSWORD: &str = "anyid-dev";
/// KISA `identifyData` (the VID of Korean joint certificates), as an otherName SAN.
pub const IDENTIFY_DATA_OID: &str = "1.2.410.200004.10.1.1";

/// The dev CRLs' lifetime, in days; the dev PKI regenerates well before they go stale.
pub const CRL_DAYS: i64 = 180;
const REGENERATE_AFTER: i64 = 150 * 24 * 3600;
const STAMP: &str = "generated-at";
const UNTRUSTED_ROOT: &str = "untrusted-root.pem";

#[derive(Debug, Clone)]
pub struct DevPki {
    pub dir: PathBuf,
    /// The trust anchor.
    pub root: PathBuf,
    /// The citizen CA: issues the citizens' and the server's certificates.
    pub intermediate: PathBuf,
    /// A second CA under the root, asserting anyPolicy, that dev mode binds to no policy.
    pub other_intermediate: PathBuf,
    /// The TLS listeners' certificate chain (server, intermediate) and PKCS#8 key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// The root's CRL (for the intermediates), the citizen CA's (revoking `revoked`) and the
    /// other CA's.
    pub crl_paths: Vec<PathBuf>,
    pub citizens: Vec<DevCitizen>,
}

#[derive(Debug, Clone)]
pub struct DevCitizen {
    pub name: String,
    /// The citizen's certificate and the intermediate, PEM.
    pub cert: PathBuf,
    /// PKCS#8 private key, PEM.
    pub key: PathBuf,
    /// Key and chain as PKCS#12 for browser import ([`P12_PASSWORD`]).
    pub p12: PathBuf,
    /// The certificate of the CA that issued it (PEM).
    pub ca: PathBuf,
    /// Its URI subject alternative name (its dev identity).
    pub uri: String,
    pub description: String,
}

/// Which CA issues a dev citizen's certificate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ca {
    Citizen,
    Other,
    /// The untrusted root.
    Stranger,
}

/// What a dev citizen certificate looks like.
struct Spec {
    name: &'static str,
    description: &'static str,
    rsa: bool,
    policy: &'static str,
    /// Validity relative to now, in days.
    valid: (i64, i64),
    signs: bool,
    revoked: bool,
    ca: Ca,
    /// Carry the identity values (serial number, URI and identifyData) of this citizen.
    identity_of: Option<&'static str>,
}

const SPECS: [Spec; 10] = [
    spec("hong", "ECDSA P-256, high assurance; the usual dev login"),
    Spec {
        rsa: true,
        ..spec("kim", "RSA-2048, high assurance, like a joint certificate")
    },
    Spec {
        policy: DEV_POLICY_SUBSTANTIAL,
        ..spec("lee", "substantial assurance")
    },
    Spec {
        revoked: true,
        ..spec("revoked", "listed in the intermediate's CRL")
    },
    Spec {
        valid: (-400, -30),
        ..spec("expired", "expired 30 days ago")
    },
    Spec {
        valid: (30, 400),
        ..spec("future", "valid from 30 days from now")
    },
    Spec {
        policy: DEV_POLICY_UNACCEPTED,
        ..spec("wrong-policy", "only a policy no login accepts")
    },
    Spec {
        signs: false,
        ..spec("wrong-usage", "key usage keyEncipherment only")
    },
    Spec {
        ca: Ca::Stranger,
        ..spec("stranger", "issued by a root nobody trusts")
    },
    Spec {
        ca: Ca::Other,
        identity_of: Some("hong"),
        ..spec(
            "other-ca",
            "hong's identity values from a second CA, which no dev policy binds",
        )
    },
];

const fn spec(name: &'static str, description: &'static str) -> Spec {
    Spec {
        name,
        description,
        rsa: false,
        policy: DEV_POLICY_HIGH,
        valid: (-1, 365),
        signs: true,
        revoked: false,
        ca: Ca::Citizen,
        identity_of: None,
    }
}

fn rcgen_error(e: rcgen::Error) -> CertError {
    CertError::Config(format!("dev CA: {e}"))
}

fn write(path: &Path, text: &str) -> Result<(), CertError> {
    std::fs::write(path, text).map_err(|e| CertError::Io(format!("{}: {e}", path.display())))
}

fn oid_arcs(dotted: &str) -> Vec<u64> {
    dotted.split('.').filter_map(|a| a.parse().ok()).collect()
}

/// DER of a certificatePolicies extension with these policies (RFC 5280 §4.2.1.4).
fn policies_extension(oids: &[&str]) -> Result<CustomExtension, CertError> {
    use der::Encode;
    let policies = oids
        .iter()
        .map(|oid| {
            der::oid::ObjectIdentifier::new(oid)
                .map(|id| x509_cert::ext::pkix::certpolicy::PolicyInformation {
                    policy_identifier: id,
                    policy_qualifiers: None,
                })
                .map_err(|e| CertError::Config(format!("policy OID {oid}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let der = x509_cert::ext::pkix::CertificatePolicies(policies)
        .to_der()
        .map_err(|e| CertError::Config(format!("policy extension: {e}")))?;
    Ok(CustomExtension::from_oid_content(&[2, 5, 29, 32], der))
}

fn at(now: OffsetDateTime, days: i64) -> OffsetDateTime {
    now + Duration::days(days)
}

fn ca_params(name: &str, now: OffsetDateTime, years: i64) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Any-ID development");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = at(now, -1);
    params.not_after = at(now, 365 * years);
    params
}

fn key(alg: &'static SignatureAlgorithm) -> Result<KeyPair, CertError> {
    KeyPair::generate_for(alg).map_err(rcgen_error)
}

/// Generate a fresh dev PKI into `dir` (replacing what is there).
pub fn generate(dir: &Path, now: SystemTime) -> Result<DevPki, CertError> {
    let now = OffsetDateTime::from(now);
    let citizens_dir = dir.join("citizens");
    std::fs::create_dir_all(&citizens_dir)
        .map_err(|e| CertError::Io(format!("{}: {e}", citizens_dir.display())))?;
    let ec = &rcgen::PKCS_ECDSA_P256_SHA256;

    let root_key = key(ec)?;
    let root_params = ca_params("Any-ID Dev Root CA", now, 10);
    let root = root_params.self_signed(&root_key).map_err(rcgen_error)?;
    let root_issuer = Issuer::new(root_params, root_key);

    let inter_key = key(ec)?;
    let mut inter_params = ca_params("Any-ID Dev Citizen CA", now, 5);
    inter_params.serial_number = Some(SerialNumber::from(vec![0x10, 0x01]));
    inter_params.custom_extensions = vec![policies_extension(&[
        DEV_POLICY_HIGH,
        DEV_POLICY_SUBSTANTIAL,
        DEV_POLICY_UNACCEPTED,
    ])?];
    let inter = inter_params
        .signed_by(&inter_key, &root_issuer)
        .map_err(rcgen_error)?;
    let inter_issuer = Issuer::new(inter_params, inter_key);

    let other_key = key(ec)?;
    let mut other_params = ca_params("Any-ID Dev Other CA", now, 5);
    other_params.serial_number = Some(SerialNumber::from(vec![0x10, 0x02]));
    other_params.custom_extensions = vec![policies_extension(&[crate::ANY_POLICY])?];
    let other = other_params
        .signed_by(&other_key, &root_issuer)
        .map_err(rcgen_error)?;
    let other_issuer = Issuer::new(other_params, other_key);

    let stranger_key = key(ec)?;
    let stranger_params = ca_params("Untrusted Root CA", now, 10);
    let stranger_root = stranger_params
        .self_signed(&stranger_key)
        .map_err(rcgen_error)?;
    let stranger_issuer = Issuer::new(stranger_params, stranger_key);

    // The TLS listeners' certificate.
    let server_key = key(ec)?;
    let mut server_params =
        CertificateParams::new(vec!["localhost".to_owned()]).map_err(rcgen_error)?;
    server_params
        .subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.not_before = at(now, -1);
    server_params.not_after = at(now, 365);
    let server = server_params
        .signed_by(&server_key, &inter_issuer)
        .map_err(rcgen_error)?;

    let pki = layout(dir);
    write(&pki.root, &root.pem())?;
    write(&pki.intermediate, &inter.pem())?;
    write(&pki.other_intermediate, &other.pem())?;
    write(&dir.join(UNTRUSTED_ROOT), &stranger_root.pem())?;
    write(
        &pki.server_cert,
        &format!("{}{}", server.pem(), inter.pem()),
    )?;
    write(&pki.server_key, &server_key.serialize_pem())?;

    let mut revoked = Vec::new();
    for (i, (s, citizen)) in SPECS.iter().zip(&pki.citizens).enumerate() {
        let key = key(if s.rsa { &rcgen::PKCS_RSA_SHA256 } else { ec })?;
        let mut params = CertificateParams::default();
        let serial = vec![0x20, u8::try_from(i).unwrap_or(0xff) + 1];
        params.serial_number = Some(SerialNumber::from(serial.clone()));
        let identity = s.identity_of.unwrap_or(s.name);
        let number = SPECS.iter().position(|x| x.name == identity).unwrap_or(i) + 1;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CountryName, "KR");
        params
            .distinguished_name
            .push(DnType::CommonName, format!("Dev citizen {}", s.name));
        params.distinguished_name.push(
            DnType::CustomDnType(vec![2, 5, 4, 5]),
            DnValue::PrintableString(format!("DEV{number:04}").try_into().map_err(rcgen_error)?),
        );
        params.subject_alt_names = vec![
            SanType::URI(citizen.uri.clone().try_into().map_err(rcgen_error)?),
            SanType::OtherName((
                oid_arcs(IDENTIFY_DATA_OID),
                OtherNameValue::Utf8String(format!("dev-vid-{identity}")),
            )),
        ];
        params.key_usages = if s.signs {
            vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ]
        } else {
            vec![KeyUsagePurpose::KeyEncipherment]
        };
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.custom_extensions = vec![policies_extension(&[s.policy])?];
        params.not_before = at(now, s.valid.0);
        params.not_after = at(now, s.valid.1);
        let (issuer, issuer_cert) = match s.ca {
            Ca::Citizen => (&inter_issuer, &inter),
            Ca::Other => (&other_issuer, &other),
            Ca::Stranger => (&stranger_issuer, &stranger_root),
        };
        let cert = params.signed_by(&key, issuer).map_err(rcgen_error)?;
        write(
            &citizen.cert,
            &format!("{}{}", cert.pem(), issuer_cert.pem()),
        )?;
        write(&citizen.key, &key.serialize_pem())?;
        let p12 = crate::p12::bundle(
            &key.serialize_der(),
            &[cert.der().clone(), issuer_cert.der().clone()],
            &format!("Any-ID dev citizen {}", s.name),
            P12_PASSWORD,
        )?;
        std::fs::write(&citizen.p12, p12)
            .map_err(|e| CertError::Io(format!("{}: {e}", citizen.p12.display())))?;
        if s.revoked {
            revoked.push(RevokedCertParams {
                serial_number: SerialNumber::from(serial),
                revocation_time: at(now, -1),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            });
        }
    }

    let crl = |revoked_certs: Vec<RevokedCertParams>| CertificateRevocationListParams {
        this_update: at(now, -1),
        next_update: at(now, CRL_DAYS),
        crl_number: SerialNumber::from(vec![1]),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let root_crl = crl(Vec::new())
        .signed_by(&root_issuer)
        .map_err(rcgen_error)?;
    let inter_crl = crl(revoked).signed_by(&inter_issuer).map_err(rcgen_error)?;
    let other_crl = crl(Vec::new())
        .signed_by(&other_issuer)
        .map_err(rcgen_error)?;
    for (path, crl) in pki.crl_paths.iter().zip([root_crl, inter_crl, other_crl]) {
        write(path, &crl.pem().map_err(rcgen_error)?)?;
    }
    let stamp = now.unix_timestamp().to_string();
    write(&dir.join(STAMP), &stamp)?;
    Ok(pki)
}

/// The dev PKI in `dir`: reused when complete and younger than 150 days, else generated.
pub fn load_or_generate(dir: &Path, now: SystemTime) -> Result<DevPki, CertError> {
    let generated_at = std::fs::read_to_string(dir.join(STAMP))
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    let now_s = OffsetDateTime::from(now).unix_timestamp();
    match (generated_at, existing(dir)) {
        (Some(t), Some(pki)) if now_s - t < REGENERATE_AFTER => Ok(pki),
        _ => generate(dir, now),
    }
}

/// The dev PKI in `dir` when every file of it is there, whatever its age; writes nothing.
pub fn existing(dir: &Path) -> Option<DevPki> {
    let pki = layout(dir);
    let complete = [
        &pki.root,
        &pki.intermediate,
        &pki.other_intermediate,
        &pki.server_cert,
        &pki.server_key,
    ]
    .into_iter()
    .chain(pki.crl_paths.iter())
    .chain(pki.citizens.iter().flat_map(|c| [&c.cert, &c.key]))
    .all(|p| p.exists());
    complete.then_some(pki)
}

/// Where [`generate`] puts its files.
fn layout(dir: &Path) -> DevPki {
    let citizens_dir = dir.join("citizens");
    let intermediate = dir.join("intermediate.pem");
    let other_intermediate = dir.join("other-ca.pem");
    DevPki {
        dir: dir.to_path_buf(),
        root: dir.join("root.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        crl_paths: vec![
            dir.join("root.crl.pem"),
            dir.join("intermediate.crl.pem"),
            dir.join("other-ca.crl.pem"),
        ],
        citizens: SPECS
            .iter()
            .map(|s| DevCitizen {
                name: s.name.to_owned(),
                cert: citizens_dir.join(format!("{}.pem", s.name)),
                key: citizens_dir.join(format!("{}.key", s.name)),
                p12: citizens_dir.join(format!("{}.p12", s.name)),
                ca: match s.ca {
                    Ca::Citizen => intermediate.clone(),
                    Ca::Other => other_intermediate.clone(),
                    Ca::Stranger => dir.join(UNTRUSTED_ROOT),
                },
                uri: format!("urn:anyid:dev:citizen:{}", s.identity_of.unwrap_or(s.name)),
                description: s.description.to_owned(),
            })
            .collect(),
        intermediate,
        other_intermediate,
    }
}
