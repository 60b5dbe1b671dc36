//! Sign in with Apple's differences (korea-any-id.md §1.4, R-APPLE-1..3): the client secret
//! is an ES256 JWT we sign with the team's key and renew well before Apple's 15,777,000 s
//! bound, and the person's name arrives once, on the first authorization, in the `user` form
//! field next to the code (unsigned, so it is only a display name, never used for linking).

use std::path::Path;
use std::sync::Mutex;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Map, Value};

use super::config::AppleConfig;
use crate::AdapterError;

/// The `aud` of the client secret: always Apple, whatever issuer a test points at.
pub const AUDIENCE: &str = "https://appleid.apple.com";
/// R-APPLE-2: Apple refuses client secrets living longer than this.
pub const MAX_LIFETIME_S: i64 = 15_777_000;
/// Ours live a day ...
pub const LIFETIME_S: i64 = 86_400;
/// ... and are renewed when less than an hour is left.
pub const RENEW_BEFORE_S: i64 = 3_600;
/// A `user` field larger than this is not a name.
const MAX_USER_FIELD: usize = 4096;

const _: () = assert!(LIFETIME_S <= MAX_LIFETIME_S && RENEW_BEFORE_S < LIFETIME_S);

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ClientSecretClaims {
    pub iss: String,
    pub sub: String,
    pub aud: &'static str,
    pub iat: i64,
    pub exp: i64,
}

pub fn client_secret_claims(team_id: &str, client_id: &str, now: i64) -> ClientSecretClaims {
    ClientSecretClaims {
        iss: team_id.to_owned(),
        sub: client_id.to_owned(),
        aud: AUDIENCE,
        iat: now,
        exp: now.saturating_add(LIFETIME_S),
    }
}

struct Cached {
    jwt: String,
    iat: i64,
    exp: i64,
}

/// Makes and caches the client secret JWT.
pub struct AppleClientSecret {
    team_id: String,
    key_id: String,
    client_id: String,
    key: EncodingKey,
    cached: Mutex<Option<Cached>>,
}

impl AppleClientSecret {
    /// Read the key and prove it signs, so a bad key stops the server at start.
    pub fn new(config: &AppleConfig, client_id: &str, id: &str) -> Result<Self, AdapterError> {
        let err = |m: String| AdapterError::Config(format!("upstream {id:?}: {m}"));
        let pem = match (&config.private_key_pem, &config.private_key_file) {
            (Some(pem), _) => pem.clone(),
            (None, Some(path)) => read_key(path).map_err(err)?,
            (None, None) => return Err(err("apple needs a private key".into())),
        };
        let key = EncodingKey::from_ec_pem(pem.as_bytes())
            .map_err(|_| err("apple private key is not a PKCS#8 P-256 PEM key".into()))?;
        let maker = Self {
            team_id: config.team_id.clone(),
            key_id: config.key_id.clone(),
            client_id: client_id.to_owned(),
            key,
            cached: Mutex::new(None),
        };
        maker
            .sign(0)
            .map_err(|_| err("apple private key cannot sign ES256".into()))?;
        Ok(maker)
    }

    fn sign(&self, now: i64) -> Result<Cached, AdapterError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key_id.clone());
        let claims = client_secret_claims(&self.team_id, &self.client_id, now);
        let jwt = jsonwebtoken::encode(&header, &claims, &self.key).map_err(|_| {
            AdapterError::Config("the Apple client secret could not be signed".into())
        })?;
        Ok(Cached {
            jwt,
            iat: claims.iat,
            exp: claims.exp,
        })
    }

    /// The current client secret, renewed when less than [`RENEW_BEFORE_S`] is left (or when
    /// the clock went back before it was issued).
    pub fn get(&self, now: i64) -> Result<String, AdapterError> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cached.as_ref()
            && now >= c.iat
            && c.exp.saturating_sub(now) > RENEW_BEFORE_S
        {
            return Ok(c.jwt.clone());
        }
        let fresh = self.sign(now)?;
        let jwt = fresh.jwt.clone();
        *cached = Some(fresh);
        Ok(jwt)
    }
}

fn read_key(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("apple private_key_file {}: {e}", path.display()))
}

/// Claims from Apple's first-login `user` field: `{"name":{"firstName","lastName"},"email"}`.
/// Gives `given_name`, `family_name` and `name`; anything malformed gives nothing (the field
/// is unsigned browser input). The email in it is ignored: the ID token's is the verified one.
pub fn user_claims(user: &str) -> Map<String, Value> {
    let mut claims = Map::new();
    if user.len() > MAX_USER_FIELD {
        return claims;
    }
    let Ok(Value::Object(user)) = serde_json::from_str::<Value>(user) else {
        return claims;
    };
    let part = |name: &str| {
        user.get("name")
            .and_then(|n| n.get(name))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.chars().count() <= 100)
    };
    let (given, family) = (part("firstName"), part("lastName"));
    if let Some(g) = given {
        claims.insert("given_name".into(), g.into());
    }
    if let Some(f) = family {
        claims.insert("family_name".into(), f.into());
    }
    let name = match (given, family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
        (None, None) => None,
    };
    if let Some(n) = name {
        claims.insert("name".into(), n.into());
    }
    claims
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use base64::Engine;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::json;

    fn test_key() -> (String, DecodingKey) {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = pair.to_pkcs8v1().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
        let public = pair.public_key().as_ref().to_vec();
        (pem, DecodingKey::from_ec_der(&public))
    }

    fn config(pem: String) -> AppleConfig {
        AppleConfig {
            team_id: "TEAM123456".into(),
            key_id: "KEY1234567".into(),
            private_key_file: None,
            private_key_pem: Some(pem),
        }
    }

    #[test]
    fn client_secret_is_an_es256_jwt_apple_accepts() {
        let (pem, public) = test_key();
        let maker = AppleClientSecret::new(&config(pem), "kr.go.anyid.services", "apple").unwrap();
        let now = 1_800_000_000;
        let jwt = maker.get(now).unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("KEY1234567"));
        let mut v = Validation::new(Algorithm::ES256);
        v.set_audience(&[AUDIENCE]);
        v.set_issuer(&["TEAM123456"]);
        v.validate_exp = false;
        let data = jsonwebtoken::decode::<Value>(&jwt, &public, &v).unwrap();
        assert_eq!(data.claims["sub"], "kr.go.anyid.services");
        assert_eq!(data.claims["iat"], now);
        let lifetime = data.claims["exp"].as_i64().unwrap() - now;
        assert!(
            lifetime > 0 && lifetime <= MAX_LIFETIME_S,
            "R-APPLE-2: {lifetime}"
        );
    }

    #[test]
    fn client_secret_is_reused_then_renewed_before_expiry() {
        let (pem, _) = test_key();
        let maker = AppleClientSecret::new(&config(pem), "svc", "apple").unwrap();
        let t0 = 1_800_000_000;
        let first = maker.get(t0).unwrap();
        assert_eq!(maker.get(t0 + 60).unwrap(), first);
        assert_eq!(
            maker.get(t0 + LIFETIME_S - RENEW_BEFORE_S - 1).unwrap(),
            first
        );
        let renewed = maker.get(t0 + LIFETIME_S - RENEW_BEFORE_S).unwrap();
        assert_ne!(renewed, first);
        let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(&renewed)
            .unwrap()
            .claims;
        assert_eq!(claims["iat"], t0 + LIFETIME_S - RENEW_BEFORE_S);
        // The clock went back: a secret "issued in the future" is not used.
        let back = maker.get(t0 - 10).unwrap();
        assert_ne!(back, renewed);
    }

    #[test]
    fn lifetime_is_within_apples_bound_for_every_now() {
        for now in [0, 1, 1_700_000_000, i64::MAX - 10] {
            let c = client_secret_claims("t", "s", now);
            assert!(c.exp - c.iat <= MAX_LIFETIME_S);
            assert_eq!(c.aud, "https://appleid.apple.com");
        }
    }

    #[test]
    fn bad_keys_are_a_configuration_error() {
        let e = AppleClientSecret::new(&config("not a key".into()), "svc", "apple")
            .err()
            .unwrap();
        assert!(e.to_string().contains("upstream \"apple\""), "{e}");
        let mut missing = config(String::new());
        missing.private_key_pem = None;
        missing.private_key_file = Some("/nonexistent/AuthKey.p8".into());
        let e = AppleClientSecret::new(&missing, "svc", "apple")
            .err()
            .unwrap();
        assert!(e.to_string().contains("private_key_file"), "{e}");
    }

    #[test]
    fn the_user_field_gives_names_only() {
        let c = user_claims(
            r#"{"name":{"firstName":"Gildong","lastName":"Hong"},"email":"x@privaterelay.appleid.com"}"#,
        );
        assert_eq!(
            Value::Object(c),
            json!({"given_name":"Gildong","family_name":"Hong","name":"Gildong Hong"})
        );
        assert_eq!(
            Value::Object(user_claims(r#"{"name":{"firstName":" 민지 "}}"#)),
            json!({"given_name":"민지","name":"민지"})
        );
        for junk in ["", "null", "[]", "{\"name\":5}", "{", &"x".repeat(5000)] {
            assert!(user_claims(junk).is_empty(), "{junk}");
        }
    }
}
