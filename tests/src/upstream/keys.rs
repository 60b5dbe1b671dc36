//! Keys for the loopback providers: RSA signing keys published as JWKs (aws-lc-rs generation,
//! jsonwebtoken signing), and the P-256 key of an Apple-like team.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};

/// PEM armour for a PKCS#8 DER key.
pub fn pkcs8_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ascii"));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

/// An RS256 signing key and its public JWK.
#[derive(Clone)]
pub struct RsaKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub jwk: Jwk,
}

impl RsaKey {
    pub fn generate(kid: &str) -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let der: Pkcs8V1Der<'static> = pair.as_der().expect("PKCS#8");
        let encoding =
            EncodingKey::from_rsa_pem(pkcs8_pem(der.as_ref()).as_bytes()).expect("RSA key");
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).expect("JWK");
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Self {
            kid: kid.to_owned(),
            encoding,
            jwk,
        }
    }

    /// Sign `claims` as an RS256 JWT with `kid` in the header.
    pub fn sign(&self, kid: &str, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }
}

/// A Sign in with Apple key (`.p8`): the PEM for the adapter's configuration and the public
/// key the Apple-like peer checks client secrets with.
pub struct EcKey {
    pub pem: String,
    pub decoding: DecodingKey,
}

impl EcKey {
    pub fn generate() -> Self {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key");
        let der = pair.to_pkcs8v1().expect("PKCS#8");
        let pem = pkcs8_pem(der.as_ref());
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).expect("EC key");
        let jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).expect("JWK");
        let decoding = DecodingKey::from_jwk(&jwk).expect("public key");
        Self { pem, decoding }
    }
}
