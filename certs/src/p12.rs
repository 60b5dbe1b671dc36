//! A PKCS#12 (RFC 7292) bundle of a key and its certificate chain, for importing a dev
//! citizen certificate into a browser: the key in a PKCS#8 shrouded key bag encrypted with
//! PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC; RFC 8018), the certificates in cert bags, and an
//! HMAC-SHA256 integrity MAC keyed by the PKCS#12 KDF (RFC 7292 Appendix B). Written by hand
//! on aws-lc-rs rather than pulling a second crypto stack.

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{AES_256, DecryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::digest::{Context, SHA256};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{hmac, pbkdf2};
use der::Encode;
use der::asn1::ObjectIdentifier;
use rustls_pki_types::CertificateDer;

use crate::CertError;

const ITERATIONS: u32 = 10_000;

fn oid(dotted: &str) -> Result<Vec<u8>, CertError> {
    ObjectIdentifier::new(dotted)
        .ok()
        .and_then(|o| o.to_der().ok())
        .ok_or_else(|| CertError::Config(format!("OID {dotted}")))
}

/// One DER TLV.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}
fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}
fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(0x04, bytes)
}
fn explicit0(inner: &[u8]) -> Vec<u8> {
    tlv(0xa0, inner)
}
fn integer(value: u32) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let mut trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        trimmed.insert(0, 0);
    }
    tlv(0x02, &trimmed)
}

fn random<const N: usize>() -> Result<[u8; N], CertError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| CertError::Config("random".into()))?;
    Ok(out)
}

/// The password as a BMPString with its terminating zero (RFC 7292 Appendix B.1).
fn bmp_password(password: &str) -> Vec<u8> {
    let mut out: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    out.extend([0, 0]);
    out
}

/// RFC 7292 Appendix B.2 with SHA-256 (u = 32, v = 64) for a 32-byte key: one block, so
/// only A_1 = H^r(D || I) is needed.
pub(crate) fn pkcs12_kdf(id: u8, password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    const V: usize = 64;
    let fill = |src: &[u8]| -> Vec<u8> {
        if src.is_empty() {
            return Vec::new();
        }
        let len = V * src.len().div_ceil(V);
        src.iter().copied().cycle().take(len).collect()
    };
    let mut input = vec![id; V];
    input.extend(fill(salt));
    input.extend(fill(&bmp_password(password)));
    let mut a = {
        let mut ctx = Context::new(&SHA256);
        ctx.update(&input);
        ctx.finish()
    };
    for _ in 1..iterations {
        a = aws_lc_rs::digest::digest(&SHA256, a.as_ref());
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(a.as_ref());
    out
}

/// A PKCS#12 file with `key_pkcs8` (DER) and `chain` (leaf first), protected by `password`.
pub fn bundle(
    key_pkcs8: &[u8],
    chain: &[CertificateDer<'_>],
    friendly_name: &str,
    password: &str,
) -> Result<Vec<u8>, CertError> {
    let fail = |what: &str| CertError::Config(format!("PKCS#12: {what}"));
    let id_data = oid("1.2.840.113549.1.7.1")?;
    let local_key_id = random::<8>()?;
    let name: Vec<u8> = friendly_name
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    let attributes = set(&[
        &seq(&[&oid("1.2.840.113549.1.9.20")?, &set(&[&tlv(0x1e, &name)])]),
        &seq(&[
            &oid("1.2.840.113549.1.9.21")?,
            &set(&[&octets(&local_key_id)]),
        ]),
    ]);

    // The key: PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC (RFC 8018 §6.2, §A.4).
    let salt = random::<16>()?;
    let mut aes_key = [0u8; 32];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(ITERATIONS).ok_or_else(|| fail("iterations"))?,
        &salt,
        password.as_bytes(),
        &mut aes_key,
    );
    let cipher = PaddedBlockEncryptingKey::cbc_pkcs7(
        UnboundCipherKey::new(&AES_256, &aes_key).map_err(|_| fail("AES key"))?,
    )
    .map_err(|_| fail("AES-CBC"))?;
    let mut encrypted = key_pkcs8.to_vec();
    let context = cipher
        .encrypt(&mut encrypted)
        .map_err(|_| fail("encrypt"))?;
    let iv: &[u8] = match &context {
        DecryptionContext::Iv128(iv) => iv.as_ref(),
        _ => return Err(fail("IV")),
    };
    let pbes2 = seq(&[
        &oid("1.2.840.113549.1.5.13")?,
        &seq(&[
            &seq(&[
                &oid("1.2.840.113549.1.5.12")?,
                &seq(&[
                    &octets(&salt),
                    &integer(ITERATIONS),
                    &seq(&[&oid("1.2.840.113549.2.9")?, &[0x05, 0x00]]),
                ]),
            ]),
            &seq(&[&oid("2.16.840.1.101.3.4.1.42")?, &octets(iv)]),
        ]),
    ]);
    let shrouded = seq(&[&pbes2, &octets(&encrypted)]);
    let key_bag = seq(&[
        &oid("1.2.840.113549.1.12.10.1.2")?,
        &explicit0(&shrouded),
        &attributes,
    ]);

    // The certificates; only the leaf carries the key's local id.
    let mut cert_bags = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        let value = seq(&[
            &oid("1.2.840.113549.1.9.22.1")?,
            &explicit0(&octets(cert.as_ref())),
        ]);
        let bag_id = oid("1.2.840.113549.1.12.10.1.3")?;
        let bag = if i == 0 {
            seq(&[&bag_id, &explicit0(&value), &attributes])
        } else {
            seq(&[&bag_id, &explicit0(&value)])
        };
        cert_bags.push(bag);
    }
    let cert_refs: Vec<&[u8]> = cert_bags.iter().map(Vec::as_slice).collect();
    let data = |safe_contents: &[u8]| seq(&[&id_data, &explicit0(&octets(safe_contents))]);
    let auth_safe = seq(&[&data(&seq(&cert_refs)), &data(&seq(&[&key_bag]))]);

    // RFC 7292 §4: HMAC over the AuthenticatedSafe with a key from the PKCS#12 KDF (ID 3).
    let mac_salt = random::<16>()?;
    let mac_key = pkcs12_kdf(3, password, &mac_salt, ITERATIONS);
    let mac = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &mac_key), &auth_safe);
    let mac_data = seq(&[
        &seq(&[
            &seq(&[&oid("2.16.840.1.101.3.4.2.1")?, &[0x05, 0x00]]),
            &octets(mac.as_ref()),
        ]),
        &octets(&mac_salt),
        &integer(ITERATIONS),
    ]);
    Ok(seq(&[&integer(3), &data(&auth_safe), &mac_data]))
}
