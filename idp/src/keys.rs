//! Signing keys: generated on first start (ES256 default, RS256 for relying parties that need
//! it), sealed at rest with the key-encryption key, rotated with `anyid keys rotate`, and
//! published in the JWKS until every token they signed has expired.
//!
//! Tokens are produced as JWS compact serialisation (RFC 7515 §7.1) with key pairs parsed
//! once, not per token; verification goes through jsonwebtoken.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RSA_PKCS1_SHA256,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::clock::UnixTime;
use crate::crypto::{self, b64};
use crate::store::{KeyStore, SqlStore, StoreError, StoredKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    Es256,
    Rs256,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::Es256, Alg::Rs256];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Rs256 => "RS256",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ES256" => Some(Alg::Es256),
            "RS256" => Some(Alg::Rs256),
            _ => None,
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Alg::Es256 => Algorithm::ES256,
            Alg::Rs256 => Algorithm::RS256,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key storage: {0}")]
    Store(#[from] StoreError),
    #[error("key material: {0}")]
    Material(String),
    #[error("no active {0} signing key")]
    NoActiveKey(&'static str),
}

impl From<crypto::CryptoError> for KeyError {
    fn from(e: crypto::CryptoError) -> Self {
        KeyError::Material(e.to_string())
    }
}

enum Signer {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

pub struct SigningKey {
    pub kid: String,
    pub alg: Alg,
    pub public_jwk: Value,
    pub retire_at: Option<UnixTime>,
    signer: Signer,
    decoding: DecodingKey,
}

/// A snapshot of the keys: the active key per algorithm, every published key, the JWKS.
pub struct KeyRing {
    active: HashMap<Alg, Arc<SigningKey>>,
    by_kid: HashMap<String, Arc<SigningKey>>,
    jwks: Arc<[u8]>,
}

impl KeyRing {
    pub fn jwks_json(&self) -> Arc<[u8]> {
        self.jwks.clone()
    }

    pub fn kids(&self) -> Vec<String> {
        let mut kids: Vec<String> = self.by_kid.keys().cloned().collect();
        kids.sort();
        kids
    }

    /// Sign `claims` as a JWS with the active key for `alg` and header `typ`.
    pub fn sign<T: Serialize>(&self, alg: Alg, typ: &str, claims: &T) -> Result<String, KeyError> {
        let key = self
            .active
            .get(&alg)
            .ok_or(KeyError::NoActiveKey(alg.as_str()))?;
        let header = json!({ "alg": alg.as_str(), "typ": typ, "kid": key.kid });
        let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Material(e.to_string()))?;
        let mut jws = String::with_capacity(512);
        jws.push_str(&b64(header.to_string().as_bytes()));
        jws.push('.');
        jws.push_str(&b64(&payload));
        let rng = SystemRandom::new();
        let signature = match &key.signer {
            Signer::Ec(pair) => pair
                .sign(&rng, jws.as_bytes())
                .map_err(|_| KeyError::Material("ECDSA signing failed".into()))?
                .as_ref()
                .to_vec(),
            Signer::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, jws.as_bytes(), &mut sig)
                    .map_err(|_| KeyError::Material("RSA signing failed".into()))?;
                sig
            }
        };
        jws.push('.');
        jws.push_str(&b64(&signature));
        Ok(jws)
    }

    /// Verify a JWS issued by us: known `kid`, its algorithm, header `typ`, `iss`; `exp` unless
    /// `allow_expired` (an expired `id_token_hint` still identifies a session).
    pub fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        issuer: &str,
        allow_expired: bool,
    ) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(typ))
        {
            return None;
        }
        let key = self.by_kid.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(key.alg.jwt());
        validation.set_issuer(&[issuer]);
        validation.validate_aud = false;
        validation.leeway = 0;
        validation.validate_exp = !allow_expired;
        validation.required_spec_claims = ["exp", "iss"].iter().map(|s| s.to_string()).collect();
        jsonwebtoken::decode::<T>(token, &key.decoding, &validation)
            .ok()
            .map(|data| data.claims)
    }
}

/// The live key ring, reloaded from storage when keys are rotated by another process.
pub struct Keys {
    ring: RwLock<Arc<KeyRing>>,
    kek: [u8; 32],
}

impl Keys {
    /// Load keys, generating the first ES256 and RS256 keys if there are none.
    pub async fn load_or_create(
        store: &SqlStore,
        kek: [u8; 32],
        now: UnixTime,
    ) -> Result<Self, KeyError> {
        let stored = store.keys().await?;
        for alg in Alg::ALL {
            if !stored
                .iter()
                .any(|k| k.alg == alg.as_str() && k.retire_at.is_none())
            {
                store.insert_key(&generate(alg, &kek, now)?).await?;
            }
        }
        let ring = build_ring(&store.keys().await?, &kek, now)?;
        Ok(Self {
            ring: RwLock::new(Arc::new(ring)),
            kek,
        })
    }

    pub fn current(&self) -> Arc<KeyRing> {
        match self.ring.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub async fn reload(&self, store: &SqlStore, now: UnixTime) -> Result<(), KeyError> {
        let ring = Arc::new(build_ring(&store.keys().await?, &self.kek, now)?);
        match self.ring.write() {
            Ok(mut guard) => *guard = ring,
            Err(poisoned) => *poisoned.into_inner() = ring,
        }
        Ok(())
    }
}

/// Add a new key per algorithm and schedule the old ones to leave the JWKS once every token
/// they signed has expired (`keep_published_s` after now).
pub async fn rotate(
    store: &SqlStore,
    kek: &[u8; 32],
    now: UnixTime,
    keep_published_s: i64,
) -> Result<Vec<String>, KeyError> {
    let mut kids = Vec::new();
    for alg in Alg::ALL {
        let key = generate(alg, kek, now)?;
        store.insert_key(&key).await?;
        store
            .retire_keys(alg.as_str(), &key.kid, now + keep_published_s)
            .await?;
        kids.push(key.kid);
    }
    Ok(kids)
}

fn generate(alg: Alg, kek: &[u8; 32], now: UnixTime) -> Result<StoredKey, KeyError> {
    let (pkcs8, jwk) = match alg {
        Alg::Es256 => {
            let rng = SystemRandom::new();
            let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| KeyError::Material("P-256 generation failed".into()))?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
                .map_err(|e| KeyError::Material(e.to_string()))?;
            (doc.as_ref().to_vec(), ec_jwk(&pair)?)
        }
        Alg::Rs256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048)
                .map_err(|_| KeyError::Material("RSA generation failed".into()))?;
            let der = pair
                .as_der()
                .map_err(|_| KeyError::Material("RSA export failed".into()))?;
            (der.as_ref().to_vec(), rsa_jwk(&pair))
        }
    };
    let kid = thumbprint(&jwk);
    let mut public = jwk;
    public["kid"] = json!(kid);
    public["alg"] = json!(alg.as_str());
    public["use"] = json!("sig");
    Ok(StoredKey {
        sealed_private_key: crypto::seal(kek, kid.as_bytes(), &pkcs8)?,
        kid,
        alg: alg.as_str().into(),
        public_jwk: public.to_string(),
        created_at: now,
        retire_at: None,
    })
}

fn ec_jwk(pair: &EcdsaKeyPair) -> Result<Value, KeyError> {
    let point = pair.public_key().as_ref();
    if point.len() != 65 || point[0] != 4 {
        return Err(KeyError::Material(
            "unexpected P-256 public key form".into(),
        ));
    }
    Ok(json!({ "kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..]) }))
}

fn rsa_jwk(pair: &RsaKeyPair) -> Value {
    let public = pair.public_key();
    json!({
        "kty": "RSA",
        "n": b64(public.modulus().big_endian_without_leading_zero()),
        "e": b64(public.exponent().big_endian_without_leading_zero()),
    })
}

/// RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order.
fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = if jwk["kty"] == "EC" {
        &["crv", "kty", "x", "y"]
    } else {
        &["e", "kty", "n"]
    };
    let body: Vec<String> = members
        .iter()
        .map(|m| format!("\"{m}\":{}", jwk[*m]))
        .collect();
    b64(&crypto::sha256(
        format!("{{{}}}", body.join(",")).as_bytes(),
    ))
}

fn build_ring(stored: &[StoredKey], kek: &[u8; 32], now: UnixTime) -> Result<KeyRing, KeyError> {
    let mut by_kid = HashMap::new();
    let mut active: HashMap<Alg, Arc<SigningKey>> = HashMap::new();
    for k in stored {
        if k.retire_at.is_some_and(|t| t <= now) {
            continue;
        }
        let alg = Alg::parse(&k.alg)
            .ok_or_else(|| KeyError::Material(format!("unknown algorithm {}", k.alg)))?;
        let pkcs8 = crypto::open(kek, k.kid.as_bytes(), &k.sealed_private_key).map_err(|_| {
            KeyError::Material(
                "a signing key cannot be decrypted: wrong key_encryption_key?".into(),
            )
        })?;
        let public_jwk: Value =
            serde_json::from_str(&k.public_jwk).map_err(|e| KeyError::Material(e.to_string()))?;
        let (signer, decoding) = match alg {
            Alg::Es256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                    .map_err(|e| KeyError::Material(e.to_string()))?;
                let decoding = DecodingKey::from_ec_components(
                    public_jwk["x"].as_str().unwrap_or_default(),
                    public_jwk["y"].as_str().unwrap_or_default(),
                )
                .map_err(|e| KeyError::Material(e.to_string()))?;
                (Signer::Ec(pair), decoding)
            }
            Alg::Rs256 => {
                let pair = RsaKeyPair::from_pkcs8(&pkcs8)
                    .map_err(|e| KeyError::Material(e.to_string()))?;
                let decoding = DecodingKey::from_rsa_components(
                    public_jwk["n"].as_str().unwrap_or_default(),
                    public_jwk["e"].as_str().unwrap_or_default(),
                )
                .map_err(|e| KeyError::Material(e.to_string()))?;
                (Signer::Rsa(pair), decoding)
            }
        };
        let key = Arc::new(SigningKey {
            kid: k.kid.clone(),
            alg,
            public_jwk,
            retire_at: k.retire_at,
            signer,
            decoding,
        });
        // Stored oldest first: the newest unretired key of an algorithm signs.
        if k.retire_at.is_none() {
            active.insert(alg, key.clone());
        }
        by_kid.insert(k.kid.clone(), key);
    }
    let mut published: Vec<&Arc<SigningKey>> = by_kid.values().collect();
    published.sort_by(|a, b| a.kid.cmp(&b.kid));
    let jwks =
        json!({ "keys": published.iter().map(|k| k.public_jwk.clone()).collect::<Vec<_>>() });
    Ok(KeyRing {
        active,
        by_kid,
        jwks: Arc::from(jwks.to_string().into_bytes()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(now: UnixTime) -> (KeyRing, Vec<StoredKey>) {
        let kek = [9u8; 32];
        let stored = vec![
            generate(Alg::Es256, &kek, now).unwrap(),
            generate(Alg::Rs256, &kek, now).unwrap(),
        ];
        (build_ring(&stored, &kek, now).unwrap(), stored)
    }

    #[test]
    fn signed_tokens_verify_with_jsonwebtoken_for_both_algorithms() {
        let now = 1_700_000_000;
        let (ring, _) = ring(now);
        for alg in Alg::ALL {
            let claims = json!({ "iss": "https://op", "exp": i64::MAX / 2, "sub": "s" });
            let token = ring.sign(alg, "JWT", &claims).unwrap();
            let back: Value = ring.verify(&token, "JWT", "https://op", false).unwrap();
            assert_eq!(back["sub"], "s");
            assert!(
                ring.verify::<Value>(&token, "at+jwt", "https://op", false)
                    .is_none()
            );
            assert!(
                ring.verify::<Value>(&token, "JWT", "https://other", false)
                    .is_none()
            );
            let mut tampered = token.clone();
            tampered.insert(token.find('.').unwrap() + 3, 'A');
            assert!(
                ring.verify::<Value>(&tampered, "JWT", "https://op", false)
                    .is_none()
            );
        }
    }

    #[test]
    fn private_keys_are_sealed_and_need_the_right_kek() {
        let (_, stored) = ring(1);
        for k in &stored {
            assert!(!k.public_jwk.contains("\"d\""));
        }
        assert!(build_ring(&stored, &[8u8; 32], 1).is_err());
    }

    #[test]
    fn retired_keys_leave_the_jwks_after_their_time() {
        let kek = [9u8; 32];
        let mut old = generate(Alg::Es256, &kek, 1).unwrap();
        let new = generate(Alg::Es256, &kek, 2).unwrap();
        old.retire_at = Some(100);
        let keys = vec![old.clone(), new.clone()];
        let before = build_ring(&keys, &kek, 50).unwrap();
        assert_eq!(before.kids().len(), 2);
        assert_eq!(before.active[&Alg::Es256].kid, new.kid);
        let after = build_ring(&keys, &kek, 100).unwrap();
        assert_eq!(after.kids(), vec![new.kid]);
    }

    #[test]
    fn kid_is_the_rfc7638_thumbprint() {
        // RFC 7638 §3.1 example key.
        let jwk = json!({"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
