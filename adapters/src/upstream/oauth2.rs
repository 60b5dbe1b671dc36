//! Plain OAuth 2 providers with a profile API (korea-any-id.md §1.2, R-NAVER-1): the
//! authorization-code token request (RFC 6749 §4.1.3, shared with the OIDC adapter), the
//! profile call with the bearer token (RFC 6750 §2.1), and the declarative claim mapping —
//! one JSON pointer (RFC 6901) per OIDC claim. Tolerates Naver's quirks: `expires_in` as a
//! string, errors inside a 200 answer, `state` on the token request, `resultcode` envelopes.
//!
//! Subjects: Naver's `response.id` is unique per application (R-NAVER-3), so the issuer of an
//! OAuth 2 identity is synthesised as `{origin}?client_id={client_id}` — the provider's origin
//! (or the configured `issuer`) with the client id as a query. A query can never appear in a
//! real OIDC issuer identifier, so these issuers cannot collide with one, and the same person
//! seen through a different Naver application is, correctly, a different identity; changing
//! the client id needs an account migration.

use serde_json::{Map, Value};
use url::Url;

use super::Upstream;
use super::config::{ClientAuth, Preset};
use super::http::UpstreamHttp;
use crate::{AdapterError, PendingLogin, Secret, VerifiedIdentity};

/// The token endpoint's answer. Its `Debug` shows no token.
pub(crate) struct Tokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub expires_in: Option<i64>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("id_token", &self.id_token.is_some())
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

pub(crate) struct TokenRequest<'a> {
    pub endpoint: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub auth: ClientAuth,
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub pkce_verifier: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64.
fn basic_credentials(id: &str, secret: &str) -> String {
    use base64::Engine;
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(id), enc(secret));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// An error code as the provider sent it, reduced to what RFC 6749 §5.2 allows, for logs.
pub(crate) fn safe_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .take(64)
        .collect()
}

/// RFC 6749 §5.1 says a number; Naver sends a string. Anything else is ignored.
pub fn parse_expires_in(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .filter(|n| *n >= 0)
}

/// RFC 6749 §4.1.3 / §5: redeem the code. The provider's refusal (an OAuth error, or any
/// 4xx answer such as 429) is `Rejected`: the provider is up, and a made-up code causes it
/// too. An unreachable endpoint, a 5xx or a success answer that is not a token answer is
/// `Upstream`.
pub(crate) async fn exchange_code(
    http: &UpstreamHttp,
    req: &TokenRequest<'_>,
) -> Result<Tokens, AdapterError> {
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", req.code),
        ("redirect_uri", req.redirect_uri),
    ];
    if let Some(verifier) = req.pkce_verifier {
        form.push(("code_verifier", verifier));
    }
    if let Some(state) = req.state {
        form.push(("state", state));
    }
    let mut builder = http
        .client()
        .post(req.endpoint)
        .header(http::header::ACCEPT, "application/json");
    match (req.auth, req.client_secret) {
        (ClientAuth::Basic, Some(secret)) => {
            builder = builder.header(
                http::header::AUTHORIZATION,
                basic_credentials(req.client_id, secret),
            );
        }
        (ClientAuth::Post, Some(secret)) => {
            form.push(("client_id", req.client_id));
            form.push(("client_secret", secret));
        }
        // A public client identifies itself (RFC 6749 §3.2.1).
        (_, None) => form.push(("client_id", req.client_id)),
    }
    let answer = http.send(builder.form(&form)).await?;
    let body = match answer.json() {
        Some(Value::Object(body)) => Some(body),
        _ => None,
    };
    // RFC 6749 §5.2 (Naver sends these with status 200 too).
    if let Some(error) = body
        .as_ref()
        .and_then(|b| b.get("error"))
        .and_then(Value::as_str)
    {
        return Err(AdapterError::Rejected(format!(
            "the token endpoint refused the code: {}",
            safe_code(error)
        )));
    }
    if answer.client_error() {
        return Err(AdapterError::Rejected(format!(
            "the token endpoint answered HTTP {}",
            answer.status
        )));
    }
    let Some(body) = body.filter(|_| answer.success()) else {
        return Err(AdapterError::Upstream(if answer.success() {
            "the token endpoint answered something that is not JSON".into()
        } else {
            format!("the token endpoint answered HTTP {}", answer.status)
        }));
    };
    let access_token = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| AdapterError::Upstream("the token answer has no access_token".into()))?;
    Ok(Tokens {
        access_token: access_token.to_owned(),
        id_token: body
            .get("id_token")
            .and_then(Value::as_str)
            .map(str::to_owned),
        expires_in: body.get("expires_in").and_then(parse_expires_in),
    })
}

/// A GET with the access token as bearer (RFC 6750 §2.1), answered with a JSON object.
pub(crate) async fn get_json_with_token(
    http: &UpstreamHttp,
    endpoint: &str,
    access_token: &str,
    what: &str,
) -> Result<(u16, Map<String, Value>), AdapterError> {
    let answer = http
        .send(
            http.client()
                .get(endpoint)
                .bearer_auth(access_token)
                .header(http::header::ACCEPT, "application/json"),
        )
        .await?;
    match answer.json() {
        Some(Value::Object(body)) => Ok((answer.status, body)),
        _ if !answer.success() => Err(AdapterError::Invalid(format!(
            "the {what} answered HTTP {}",
            answer.status
        ))),
        _ => Err(AdapterError::Upstream(format!(
            "the {what} answer is not a JSON object"
        ))),
    }
}

/// Map the profile to OIDC claims: each claim takes the value at its JSON pointer, if there
/// is a non-empty one. Never fails and never panics, whatever the JSON.
pub fn map_claims<'a>(
    profile: &Value,
    mapping: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Map<String, Value> {
    let mut claims = Map::new();
    for (claim, pointer) in mapping {
        let value = match profile.pointer(pointer) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) if s.trim().is_empty() => continue,
            Some(v) => v.clone(),
        };
        claims.insert(claim.clone(), value);
    }
    claims
}

/// The subject at `pointer`: a non-empty string (at most 255 characters, as OIDC Core §2
/// requires of `sub`) or an integer.
pub fn subject_at(profile: &Value, pointer: &str) -> Option<String> {
    match profile.pointer(pointer)? {
        Value::String(s) if !s.is_empty() && s.len() <= 255 => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Naver's fields that need more than a pointer: `gender` (F/M/U) and `birthyear` +
/// `birthday` (MM-DD) as OIDC Core §5.1 `gender` and `birthdate`.
pub fn naver_extras(profile: &Value, claims: &mut Map<String, Value>) {
    let field = |name: &str| {
        profile
            .pointer(&format!("/response/{name}"))
            .and_then(Value::as_str)
    };
    match field("gender") {
        Some("F") => {
            claims.insert("gender".into(), "female".into());
        }
        Some("M") => {
            claims.insert("gender".into(), "male".into());
        }
        _ => {}
    }
    let year = field("birthyear").filter(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()));
    let day = field("birthday").filter(|d| {
        let b = d.as_bytes();
        b.len() == 5
            && b[2] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 2 || c.is_ascii_digit())
    });
    let birthdate = match (year, day) {
        (Some(y), Some(d)) => Some(format!("{y}-{d}")),
        (Some(y), None) => Some(y.to_owned()),
        (None, Some(d)) => Some(format!("0000-{d}")),
        (None, None) => None,
    };
    if let Some(b) = birthdate {
        claims.insert("birthdate".into(), b.into());
    }
}

/// The synthesised issuer of an OAuth 2 identity (see the module documentation).
pub fn issuer(base: Option<&str>, authorization_endpoint: &str, client_id: &str) -> String {
    let base = match base {
        Some(b) => b.trim_end_matches('/').to_owned(),
        None => Url::parse(authorization_endpoint)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| authorization_endpoint.to_owned()),
    };
    let id = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>();
    format!("{base}?client_id={id}")
}

impl Upstream {
    pub(super) async fn complete_oauth2(
        &self,
        pending: &PendingLogin,
        code: &str,
        now: i64,
    ) -> Result<VerifiedIdentity, AdapterError> {
        let s = &self.settings;
        let (Some(token_endpoint), Some(profile_endpoint), Some(subject_pointer)) = (
            s.token_endpoint.as_deref(),
            s.profile_endpoint.as_deref(),
            s.subject_pointer.as_deref(),
        ) else {
            return Err(self.config_error("endpoints are missing"));
        };
        let request = TokenRequest {
            endpoint: token_endpoint,
            client_id: &self.config.client_id,
            client_secret: self.secret.as_ref().map(Secret::expose),
            auth: s.client_auth.unwrap_or(ClientAuth::Post),
            code,
            redirect_uri: &pending.redirect_uri,
            pkce_verifier: pending.pkce_verifier.as_deref().filter(|_| s.pkce),
            state: s.state_on_token.then_some(pending.state.as_str()),
        };
        let tokens = self
            .guarded(now, exchange_code(&self.http, &request))
            .await?;
        let (status, profile) = self
            .guarded(
                now,
                get_json_with_token(
                    &self.http,
                    profile_endpoint,
                    &tokens.access_token,
                    "profile API",
                ),
            )
            .await?;
        let profile = Value::Object(profile);
        if self.config.preset == Preset::Naver {
            // R-NAVER-1: only resultcode "00" is a profile.
            match profile.get("resultcode").and_then(Value::as_str) {
                Some("00") => {}
                other => {
                    return Err(AdapterError::Invalid(format!(
                        "the profile API answered resultcode {:?}",
                        other.map(safe_code).unwrap_or_default()
                    )));
                }
            }
        }
        if !(200..300).contains(&status) {
            return Err(AdapterError::Invalid(format!(
                "the profile API answered HTTP {status}"
            )));
        }
        let subject = subject_at(&profile, subject_pointer)
            .ok_or_else(|| AdapterError::Invalid("the profile has no subject".into()))?;
        let mut claims = map_claims(&profile, &s.claims);
        if self.config.preset == Preset::Naver {
            naver_extras(&profile, &mut claims);
        }
        let issuer = issuer(
            self.config.issuer.as_deref(),
            s.authorization_endpoint.as_deref().unwrap_or_default(),
            &self.config.client_id,
        );
        let strong = self.strong_identifier(&claims, &profile);
        Ok(self.identity(issuer, subject, claims, strong))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// The envelope of korea-any-id.md §1.2, as Naver documents it.
    fn naver_golden() -> Value {
        json!({"resultcode":"00","message":"success",
            "response":{"id":"32742776","nickname":"OpenAPI","name":"오픈 API","email":"openapi@naver.com",
                "gender":"F","age":"40-49","birthday":"10-01","birthyear":"1990",
                "profile_image":"https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif",
                "mobile":"010-0000-0000","mobile_e164":"+821000000000"}})
    }

    fn naver_mapping() -> BTreeMap<String, String> {
        let c = crate::upstream::UpstreamConfig {
            id: "naver".into(),
            kind: crate::upstream::Kind::Oauth2,
            preset: Preset::Naver,
            ..Default::default()
        };
        c.settings().claims
    }

    #[test]
    fn naver_golden_profile_maps_to_oidc_claims() {
        let profile = naver_golden();
        let mut claims = map_claims(&profile, &naver_mapping());
        naver_extras(&profile, &mut claims);
        assert_eq!(
            Value::Object(claims),
            json!({"name":"오픈 API","nickname":"OpenAPI","email":"openapi@naver.com",
                "phone_number":"+821000000000","gender":"female","birthdate":"1990-10-01",
                "picture":"https://ssl.pstatic.net/static/pwe/address/nodata_33x33.gif"})
        );
        assert_eq!(
            subject_at(&profile, "/response/id").as_deref(),
            Some("32742776")
        );
    }

    #[test]
    fn absent_fields_are_simply_absent() {
        let profile = json!({"resultcode":"00","response":{"id":"1","email":"","name":null,"birthday":"12-31"}});
        let mut claims = map_claims(&profile, &naver_mapping());
        naver_extras(&profile, &mut claims);
        assert_eq!(Value::Object(claims), json!({"birthdate":"0000-12-31"}));
        let only_year = json!({"response":{"birthyear":"1988","birthday":"1231","gender":"U"}});
        let mut claims = Map::new();
        naver_extras(&only_year, &mut claims);
        assert_eq!(Value::Object(claims), json!({"birthdate":"1988"}));
    }

    #[test]
    fn pointers_follow_rfc_6901_escapes_and_subjects_may_be_numbers() {
        let profile = json!({"a/b": {"m~n": "x"}, "list": ["zero", "one"], "n": 42, "big": 1.5});
        let mapping: BTreeMap<String, String> = [
            ("one".to_owned(), "/a~1b/m~0n".to_owned()),
            ("two".to_owned(), "/list/1".to_owned()),
            ("missing".to_owned(), "/nope".to_owned()),
            ("whole".to_owned(), "".to_owned()),
        ]
        .into_iter()
        .collect();
        let claims = map_claims(&profile, &mapping);
        assert_eq!(claims["one"], "x");
        assert_eq!(claims["two"], "one");
        assert!(!claims.contains_key("missing"));
        assert_eq!(claims["whole"], profile);
        assert_eq!(subject_at(&profile, "/n").as_deref(), Some("42"));
        assert_eq!(subject_at(&profile, "/big"), None);
        assert_eq!(subject_at(&json!({"id": "x".repeat(256)}), "/id"), None);
        assert_eq!(subject_at(&json!({"id": ""}), "/id"), None);
    }

    #[test]
    fn expires_in_as_number_or_string() {
        assert_eq!(parse_expires_in(&json!(3600)), Some(3600));
        assert_eq!(parse_expires_in(&json!("3600")), Some(3600));
        assert_eq!(parse_expires_in(&json!(" 60 ")), Some(60));
        assert_eq!(parse_expires_in(&json!(3600.0)), Some(3600));
        assert_eq!(parse_expires_in(&json!("soon")), None);
        assert_eq!(parse_expires_in(&json!(-5)), None);
        assert_eq!(parse_expires_in(&json!(null)), None);
        assert_eq!(parse_expires_in(&json!(1e300)), None);
    }

    #[test]
    fn synthesised_issuers_are_namespaced_by_client_id() {
        assert_eq!(
            issuer(None, "https://nid.naver.com/oauth2.0/authorize", "my app"),
            "https://nid.naver.com?client_id=my+app"
        );
        assert_eq!(
            issuer(Some("https://portal.example/"), "https://x/authorize", "c"),
            "https://portal.example?client_id=c"
        );
        assert_ne!(
            issuer(None, "https://nid.naver.com/oauth2.0/authorize", "a"),
            issuer(None, "https://nid.naver.com/oauth2.0/authorize", "b")
        );
    }

    #[test]
    fn basic_credentials_are_form_encoded_first() {
        // RFC 6749 §2.3.1 with a ':' in the id.
        assert_eq!(basic_credentials("a:b", "s p"), "Basic YSUzQWI6cytw");
        assert_eq!(safe_code("access_denied\"<script>"), "access_deniedscript");
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z/~01]{0,4}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn claim_mapping_never_panics(
            profile in arbitrary_json(),
            pointers in prop::collection::btree_map("[a-z_]{1,8}", "(/[a-z0-9~/]{0,6}){0,3}|.{0,6}", 0..8),
        ) {
            let claims = map_claims(&profile, &pointers);
            prop_assert!(claims.keys().all(|k| pointers.contains_key(k)));
            let mut extra = claims.clone();
            naver_extras(&profile, &mut extra);
            for p in pointers.values() {
                let _ = subject_at(&profile, p);
            }
            let _ = parse_expires_in(&profile);
        }
    }
}
