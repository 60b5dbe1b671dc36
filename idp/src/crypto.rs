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

/// A 256-bit key for one purpose, derived from `secret` with HKDF-SHA256 (RFC 5869): the
/// label is the `info`, so keys of different labels are independent and one purpose's output
/// tells nothing about another's.
pub fn derive_key(secret: &[u8], label: &str) -> [u8; 32] {
    // HKDF-Extract (§2.2) then HKDF-Expand (§2.3) of one block: T(1) = HMAC(PRK, info | 0x01).
    let prk = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, b"anyid derived keys v1"),
        secret,
    );
    let prk = hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref());
    let mut ctx = hmac::Context::with_key(&prk);
    ctx.update(label.as_bytes());
    ctx.update(&[1]);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.sign().as_ref());
    out
}

/// The keys of Any-ID's keyed hashes and MACs, one per purpose, derived with [`derive_key`]
/// so that each can be reasoned about (and, where possible, changed) on its own.
#[derive(Clone)]
pub struct PurposeKeys {
    /// Pairwise subjects (OIDC Core §8.1). Can never rotate: every relying party's `sub` for
    /// every citizen is computed with it.
    pub pairwise: [u8; 32],
    /// Keyed hashes of national identity-linking values, and of identity subjects that are
    /// such a value. Can never rotate: the values are not kept, so no hash could be
    /// recomputed, and every account would lose its link.
    pub linking: [u8; 32],
    /// Per-client session ids (`sid`). A new key only makes earlier ID tokens' `sid` stop
    /// matching, so sign-out with an old hint asks for confirmation once.
    pub session_ids: [u8; 32],
    /// CSRF tokens of the portal's forms, and of the sign-out confirmation. Derived from the
    /// form secret when one is configured, so they rotate alone: forms open at the time fail
    /// once.
    pub portal_csrf: [u8; 32],
    pub logout_csrf: [u8; 32],
    /// Pseudonyms of citizens in the decision log. A new key only starts new pseudonyms.
    pub log_pseudonyms: [u8; 32],
    /// Known devices (a device cookie with a citizen id). A new key makes every device new
    /// once.
    pub devices: [u8; 32],
    /// Keys of login attempts at a credential (limits and lockout, `login::attempts`). A
    /// new key only starts every count afresh.
    pub attempts: [u8; 32],
}

impl PurposeKeys {
    /// From the subject secret, and the form secret when set.
    pub fn derive(subject_secret: &[u8], form_secret: Option<&[u8]>) -> Self {
        let forms = form_secret.unwrap_or(subject_secret);
        Self {
            pairwise: derive_key(subject_secret, "pairwise subject"),
            linking: derive_key(subject_secret, "linking value hash"),
            session_ids: derive_key(subject_secret, "session id"),
            portal_csrf: derive_key(forms, "portal csrf"),
            logout_csrf: derive_key(forms, "logout csrf"),
            log_pseudonyms: derive_key(subject_secret, "decision log pseudonym"),
            devices: derive_key(subject_secret, "known device"),
            attempts: derive_key(subject_secret, "login attempt"),
        }
    }
}

impl std::fmt::Debug for PurposeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PurposeKeys([redacted])")
    }
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
    fn derived_keys_are_hkdf_sha256_and_differ_by_label_and_by_secret() {
        struct Len32;
        impl aws_lc_rs::hkdf::KeyType for Len32 {
            fn len(&self) -> usize {
                32
            }
        }
        let salt =
            aws_lc_rs::hkdf::Salt::new(aws_lc_rs::hkdf::HKDF_SHA256, b"anyid derived keys v1");
        let mut expected = [0u8; 32];
        salt.extract(b"secret")
            .expand(&[b"a"], Len32)
            .unwrap()
            .fill(&mut expected)
            .unwrap();
        assert_eq!(derive_key(b"secret", "a"), expected);
        let a = derive_key(b"secret", "a");
        assert_eq!(a, derive_key(b"secret", "a"));
        assert_ne!(a, derive_key(b"secret", "b"));
        assert_ne!(a, derive_key(b"other", "a"));
        assert_ne!(a, [0u8; 32]);
    }

    /// One key per purpose: no two alike, and a form secret changes only the CSRF keys.
    #[test]
    fn each_purpose_has_its_own_key_and_only_form_keys_follow_the_form_secret() {
        let keys = PurposeKeys::derive(b"subject secret", None);
        let all = [
            keys.pairwise,
            keys.linking,
            keys.session_ids,
            keys.portal_csrf,
            keys.logout_csrf,
            keys.log_pseudonyms,
            keys.devices,
            keys.attempts,
        ];
        for (i, a) in all.iter().enumerate() {
            assert!(!a.iter().all(|b| *b == 0));
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let rotated = PurposeKeys::derive(b"subject secret", Some(b"form secret"));
        assert_eq!(rotated.pairwise, keys.pairwise);
        assert_eq!(rotated.linking, keys.linking);
        assert_eq!(rotated.session_ids, keys.session_ids);
        assert_ne!(rotated.portal_csrf, keys.portal_csrf);
        assert_ne!(rotated.logout_csrf, keys.logout_csrf);
        assert_eq!(format!("{keys:?}"), "PurposeKeys([redacted])");
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
