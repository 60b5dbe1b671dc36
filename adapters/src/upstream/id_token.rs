//! ID token validation (OIDC Core §3.1.3.7, R-KAKAO-2, R-GOOGLE-1): a compact JWS whose
//! algorithm is on an allow-list (RS256, ES256 — never `none` or a MAC), signed by a key the
//! provider publishes (found by `kid`; an unknown `kid` is reported so the caller can refetch
//! the JWKS), for this client, from an accepted issuer spelling, unexpired at the caller's
//! `now` within [`SKEW_S`], and carrying the nonce of the login.
//!
//! Checked here rather than with openidconnect's `IdTokenVerifier`, on openidconnect's JWK
//! types and signature code: its claims type holds `iss` as a URL and so cannot even parse
//! Google's legacy `accounts.google.com`, and its clock is not the caller's `now`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyUse, JwsSigningAlgorithm};
use serde_json::{Map, Value};

use super::config::IdTokenAlg;

/// Clock skew allowed on `exp`, `iat` and `nbf`.
pub const SKEW_S: i64 = 60;

/// What the ID token must say.
pub struct Expected<'a> {
    pub issuers: &'a [String],
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub algs: &'a [IdTokenAlg],
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// No published key matches the token's `kid` (and algorithm): maybe a rotation.
    UnknownKey,
    Invalid(&'static str),
}

fn core_alg(alg: IdTokenAlg) -> CoreJwsSigningAlgorithm {
    match alg {
        IdTokenAlg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        IdTokenAlg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    }
}

fn alg_named(name: &str) -> Option<IdTokenAlg> {
    match name {
        "RS256" => Some(IdTokenAlg::Rs256),
        "ES256" => Some(IdTokenAlg::Es256),
        _ => None,
    }
}

/// Can `key` verify `alg` (RFC 7517 §4.2 `use`, §4.4 `alg`, and its type)?
fn key_fits(key: &CoreJsonWebKey, alg: &CoreJwsSigningAlgorithm) -> bool {
    if key.key_use().is_some_and(|u| !u.allows_signature()) {
        return false;
    }
    if alg.key_type().as_ref() != Some(key.key_type()) {
        return false;
    }
    match key.signing_alg() {
        JsonWebKeyAlgorithm::Unspecified => true,
        JsonWebKeyAlgorithm::Algorithm(a) => a == alg,
        JsonWebKeyAlgorithm::Unsupported => false,
    }
}

fn b64_json(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn number(claims: &Map<String, Value>, name: &str) -> Option<i64> {
    let n = claims.get(name)?.as_number()?;
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.is_finite() && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

/// OIDC Core §3.1.3.7: validate a compact JWS ID token and return its claims.
pub fn verify_id_token(
    token: &str,
    keys: &CoreJsonWebKeySet,
    expected: &Expected<'_>,
) -> Result<Map<String, Value>, Rejected> {
    use Rejected::Invalid;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        // Five parts would be a JWE: we never negotiated encryption.
        return Err(Invalid("the ID token is not a signed JWT"));
    };
    let header = b64_json(h).ok_or(Invalid("the ID token header is unreadable"))?;
    // RFC 7515 §4.1.11: we understand no critical extension.
    if header.contains_key("crit") {
        return Err(Invalid("the ID token has critical header parameters"));
    }
    // §3.1.3.7 step 7 and RFC 9700 §4.14: an allow-list, so never `none` or a MAC.
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .and_then(alg_named)
        .filter(|a| expected.algs.contains(a))
        .map(core_alg)
        .ok_or(Invalid("the ID token's algorithm is not allowed"))?;
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.as_str()),
        Some(_) => return Err(Invalid("the ID token's kid is not a string")),
    };
    let candidates: Vec<&CoreJsonWebKey> = keys
        .keys()
        .iter()
        .filter(|k| kid.is_none_or(|kid| k.key_id().is_some_and(|id| id.as_str() == kid)))
        .filter(|k| key_fits(k, &alg))
        .collect();
    if candidates.is_empty() {
        return Err(Rejected::UnknownKey);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| Invalid("the ID token signature is unreadable"))?;
    let signed = &token.as_bytes()[..h.len() + 1 + p.len()];
    if !candidates
        .iter()
        .any(|k| k.verify_signature(&alg, signed, &signature).is_ok())
    {
        return Err(Invalid("the ID token signature does not verify"));
    }
    let claims = b64_json(p).ok_or(Invalid("the ID token payload is unreadable"))?;
    // Step 2.
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !expected.issuers.iter().any(|i| i == iss) {
        return Err(Invalid("the ID token's issuer is not the provider"));
    }
    // Steps 3-5.
    match claims.get("aud") {
        Some(Value::String(aud)) if aud == expected.client_id => {}
        Some(Value::Array(auds)) if auds.iter().any(|a| a.as_str() == Some(expected.client_id)) => {
            if auds.len() > 1
                && claims.get("azp").and_then(Value::as_str) != Some(expected.client_id)
            {
                return Err(Invalid(
                    "the ID token has other audiences and we are not its azp",
                ));
            }
        }
        _ => return Err(Invalid("the ID token is not for this client")),
    }
    if let Some(azp) = claims.get("azp")
        && azp.as_str() != Some(expected.client_id)
    {
        return Err(Invalid("the ID token's azp is another client"));
    }
    // Step 9.
    let exp = number(&claims, "exp").ok_or(Invalid("the ID token has no exp"))?;
    if expected.now >= exp.saturating_add(SKEW_S) {
        return Err(Invalid("the ID token has expired"));
    }
    // Step 10.
    let iat = number(&claims, "iat").ok_or(Invalid("the ID token has no iat"))?;
    if iat > expected.now.saturating_add(SKEW_S) {
        return Err(Invalid("the ID token was issued in the future"));
    }
    if let Some(nbf) = number(&claims, "nbf")
        && nbf > expected.now.saturating_add(SKEW_S)
    {
        return Err(Invalid("the ID token is not valid yet"));
    }
    // Step 11.
    if claims.get("nonce").and_then(Value::as_str) != Some(expected.nonce) {
        return Err(Invalid("the ID token's nonce is not the one we sent"));
    }
    match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() && sub.len() <= 255 => Ok(claims),
        _ => Err(Invalid("the ID token has no usable sub")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
    use jsonwebtoken::jwk::{Jwk, JwkSet, KeyAlgorithm};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    struct Key {
        kid: String,
        encoding: EncodingKey,
        jwk: Jwk,
    }

    fn rsa(kid: &str) -> Key {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some(kid.into());
        jwk.common.key_algorithm = Some(KeyAlgorithm::RS256);
        Key {
            kid: kid.into(),
            encoding,
            jwk,
        }
    }

    fn set(keys: &[&Key]) -> CoreJsonWebKeySet {
        let set = JwkSet {
            keys: keys.iter().map(|k| k.jwk.clone()).collect(),
        };
        serde_json::from_value(serde_json::to_value(set).unwrap()).unwrap()
    }

    const NOW: i64 = 1_800_000_000;

    fn claims() -> Value {
        json!({"iss": "https://kauth.kakao.com", "aud": "client", "sub": "1001", "exp": NOW + 300,
               "iat": NOW, "nonce": "n-1", "nickname": "길동"})
    }

    fn sign(key: &Key, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::RS256);
        h.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&h, claims, &key.encoding).unwrap()
    }

    fn check(token: &str, keys: &CoreJsonWebKeySet) -> Result<Map<String, Value>, Rejected> {
        let issuers = ["https://kauth.kakao.com".to_owned()];
        verify_id_token(
            token,
            keys,
            &Expected {
                issuers: &issuers,
                client_id: "client",
                nonce: "n-1",
                algs: &[IdTokenAlg::Rs256],
                now: NOW,
            },
        )
    }

    #[test]
    fn each_id_token_rule_of_r_kakao_2() {
        let k1 = rsa("k1");
        let keys = set(&[&k1]);
        assert_eq!(
            check(&sign(&k1, &claims()), &keys).unwrap()["nickname"],
            "길동"
        );

        let with = |f: &dyn Fn(&mut Value)| {
            let mut c = claims();
            f(&mut c);
            check(&sign(&k1, &c), &keys)
        };
        let invalid = |r: Result<Map<String, Value>, Rejected>, what: &str| match r {
            Err(Rejected::Invalid(m)) => assert!(m.contains(what), "{m} / {what}"),
            other => panic!("{what}: {other:?}"),
        };
        invalid(
            with(&|c| c["iss"] = json!("https://evil.example")),
            "issuer",
        );
        invalid(with(&|c| c["aud"] = json!("other")), "not for this client");
        invalid(
            with(&|c| c["aud"] = json!(["client", "other"])),
            "other audiences",
        );
        with(&|c| {
            c["aud"] = json!(["client", "other"]);
            c["azp"] = json!("client");
        })
        .unwrap();
        invalid(with(&|c| c["exp"] = json!(NOW - SKEW_S)), "expired");
        with(&|c| c["exp"] = json!(NOW - SKEW_S + 1)).unwrap();
        invalid(with(&|c| c["iat"] = json!(NOW + SKEW_S + 1)), "future");
        invalid(with(&|c| c["nonce"] = json!("n-2")), "nonce");
        invalid(
            with(&|c| {
                c.as_object_mut()
                    .unwrap()
                    .remove("nonce")
                    .map(|_| ())
                    .unwrap()
            }),
            "nonce",
        );
        invalid(with(&|c| c["sub"] = json!("")), "sub");
        invalid(
            with(&|c| {
                c.as_object_mut()
                    .unwrap()
                    .remove("exp")
                    .map(|_| ())
                    .unwrap()
            }),
            "exp",
        );
    }

    #[test]
    fn signatures_algorithms_and_keys() {
        let (k1, k2) = (rsa("k1"), rsa("k2"));
        let keys = set(&[&k1]);
        assert_eq!(
            check(&sign(&k2, &claims()), &keys),
            Err(Rejected::UnknownKey)
        );
        // A forgery: another key claiming k1's kid.
        let forged = {
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some("k1".into());
            jsonwebtoken::encode(&h, &claims(), &k2.encoding).unwrap()
        };
        assert!(
            matches!(check(&forged, &keys), Err(Rejected::Invalid(m)) if m.contains("signature"))
        );
        // alg none and HS256 (keyed with the public modulus, the classic confusion) are refused.
        let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
        for header in [
            json!({"alg":"none"}),
            json!({"alg":"HS256","kid":"k1"}),
            json!({"alg":"RS512","kid":"k1"}),
        ] {
            let t = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(header.to_string()));
            assert!(
                matches!(check(&t, &keys), Err(Rejected::Invalid(m)) if m.contains("algorithm")),
                "{header}"
            );
        }
        let crit = format!(
            "{}.{payload}.c2ln",
            URL_SAFE_NO_PAD.encode(json!({"alg":"RS256","kid":"k1","crit":["x"]}).to_string())
        );
        assert!(matches!(check(&crit, &keys), Err(Rejected::Invalid(_))));
        // Two keys, no kid: either may sign.
        let no_kid =
            jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims(), &k2.encoding).unwrap();
        assert!(check(&no_kid, &set(&[&k1, &k2])).is_ok());
        for junk in ["", "a.b", "a.b.c.d.e", "...", "eyJhbGciOiJSUzI1NiJ9.e30.!!"] {
            assert!(check(junk, &keys).is_err(), "{junk}");
        }
    }

    #[test]
    fn google_legacy_issuer_is_accepted_when_listed() {
        let k1 = rsa("k1");
        let mut c = claims();
        c["iss"] = json!("accounts.google.com");
        let issuers = [
            "https://accounts.google.com".to_owned(),
            "accounts.google.com".to_owned(),
        ];
        let expected = Expected {
            issuers: &issuers,
            client_id: "client",
            nonce: "n-1",
            algs: &[IdTokenAlg::Rs256],
            now: NOW,
        };
        assert!(verify_id_token(&sign(&k1, &c), &set(&[&k1]), &expected).is_ok());
    }
}
