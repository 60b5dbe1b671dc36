//! Small cryptographic helpers shared by the domain: random secrets, hashing for storage,
//! constant-time comparison, HMAC and AES-256-GCM for data at rest. One backend: aws-lc-rs.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{digest, hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the system random generator failed")]
    Random,
    #[error("key material is malformed")]
    BadKey,
    #[error("ciphertext failed authentication")]
    Decrypt,
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    rand::fill(&mut out).map_err(|_| CryptoError::Random)?;
    Ok(out)
}

/// A 256-bit random value in base64url: codes, tokens, secrets, CSRF tokens, flow ids.
pub fn random_token() -> Result<String, CryptoError> {
    Ok(b64(&random_bytes::<32>()?))
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

/// Storage form of a high-entropy secret (code, token, client secret): SHA-256. A slow hash
/// adds nothing for 256-bit random values and would cap token-endpoint throughput.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    sha256(secret.as_bytes())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    for part in parts {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.sign().as_ref().to_vec()
}

/// AES-256-GCM with a random 96-bit nonce; output is `nonce || ciphertext || tag`.
/// `context` is bound as associated data so a ciphertext cannot be moved to another row.
pub fn seal(key: &[u8; 32], context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let key = aead_key(key)?;
    let nonce_bytes = random_bytes::<12>()?;
    let mut in_out = plaintext.to_vec();
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce_bytes),
        Aad::from(context),
        &mut in_out,
    )
    .map_err(|_| CryptoError::BadKey)?;
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&in_out);
    Ok(out)
}

pub fn open(key: &[u8; 32], context: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < 12 + 16 {
        return Err(CryptoError::Decrypt);
    }
    let key = aead_key(key)?;
    let (nonce, body) = sealed.split_at(12);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Decrypt)?;
    let mut in_out = body.to_vec();
    let plain = key
        .open_in_place(nonce, Aad::from(context), &mut in_out)
        .map_err(|_| CryptoError::Decrypt)?;
    Ok(plain.to_vec())
}

fn aead_key(key: &[u8; 32]) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&aead::AES_256_GCM, key)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_its_key_and_context() {
        let key = [7u8; 32];
        let sealed = seal(&key, b"kid-1", b"private key").unwrap();
        assert_eq!(open(&key, b"kid-1", &sealed).unwrap(), b"private key");
        assert!(open(&key, b"kid-2", &sealed).is_err());
        assert!(open(&[8u8; 32], b"kid-1", &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(open(&key, b"kid-1", &tampered).is_err());
    }

    #[test]
    fn random_tokens_are_distinct_and_256_bit() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(b64_decode(&a).unwrap().len(), 32);
    }

    #[test]
    fn hmac_parts_are_length_prefixed() {
        assert_ne!(
            hmac_sha256(b"k", &[b"ab", b"c"]),
            hmac_sha256(b"k", &[b"a", b"bc"])
        );
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
