//! Authorization request validation, RFC 6749 §4.1.1 with OIDC Core §3.1.2.1 and RFC 7636.
//!
//! Errors before the client and its redirect URI are established are shown to the person
//! (never redirected: RFC 6749 §4.1.2.1, RFC 9700 §4.11 open redirectors); errors after that
//! go back to the registered redirect URI.

use serde::{Deserialize, Serialize};
use url::Url;

use super::params::Params;
use super::{SUPPORTED_SCOPES, parse_scope, pkce};
use anyid_policy::Loa;

use crate::error::{ErrorCode, OAuthError};
use crate::i18n::Notice;
use crate::store::ClientRecord;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub acr_values: Vec<String>,
    /// The lowest assurance this login must reach: the least of the requested acr values
    /// (`acr_values`, or the `claims` parameter's `acr`), raised to the client's minimum.
    #[serde(default)]
    pub required_acr: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
}

/// OIDC Core §3.1.2.1 `prompt`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// Why an authorization request was refused, and on which channel.
#[derive(Debug)]
pub enum Rejection {
    /// Shown to the person: the redirect URI cannot be trusted.
    Page { notice: Notice },
    /// Sent to the registered redirect URI (boxed: the rare path carries the big value).
    Redirect(Box<ErrorRedirect>),
}

#[derive(Debug)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub state: Option<String>,
    pub error: OAuthError,
}

impl ErrorRedirect {
    /// The error response URL, RFC 6749 §4.1.2.1, with `iss` (RFC 9207).
    pub fn location(&self, issuer: &str) -> String {
        let mut pairs = vec![
            ("error", self.error.code.as_str()),
            ("error_description", self.error.description.as_ref()),
        ];
        if let Some(state) = &self.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        append_query(&self.redirect_uri, &pairs)
    }
}

/// Append parameters to a URL, keeping its own query (RFC 6749 §3.1.2).
pub fn append_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match Url::parse(base) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}

/// Validate `params` against `client` (looked up by the caller from `client_id`).
pub fn validate(
    params: &Params,
    client: Option<&ClientRecord>,
) -> Result<AuthorizationRequest, Rejection> {
    if params.get("client_id").is_none() {
        return Err(Rejection::Page {
            notice: Notice::MissingClient,
        });
    }
    let Some(client) = client else {
        return Err(Rejection::Page {
            notice: Notice::UnknownClient,
        });
    };
    // OIDC Core §3.1.2.1: redirect_uri is required; RFC 9700 §4.1.3: exact string match.
    let Some(redirect_uri) = params.get("redirect_uri") else {
        return Err(Rejection::Page {
            notice: Notice::MissingRedirect,
        });
    };
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(Rejection::Page {
            notice: Notice::UnregisteredRedirect,
        });
    }
    let state = params.get("state").map(str::to_owned);
    let fail = |code: ErrorCode, description: &'static str| {
        Rejection::Redirect(Box::new(ErrorRedirect {
            redirect_uri: redirect_uri.to_owned(),
            state: state.clone(),
            error: OAuthError::new(code, description),
        }))
    };

    match params.get("response_type") {
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is required")),
        Some("code") => {}
        // Code flow only (DESIGN §3, RFC 9700 §2.1.2: no implicit grant).
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    // OIDC Core §6: request objects are not supported (discovery says so).
    if params.get("request").is_some() {
        return Err(fail(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(fail(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "only response_mode=query is supported",
        ));
    }
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "the client is not registered for the authorization code grant",
        ));
    }

    let requested = parse_scope(params.get("scope").unwrap_or_default());
    if !requested.iter().any(|s| s == "openid") {
        return Err(fail(
            ErrorCode::InvalidScope,
            "the openid scope is required",
        ));
    }
    // OIDC Core §3.1.2.1: unknown scopes are ignored; so are scopes the client may not use.
    let scopes: Vec<String> = requested
        .into_iter()
        .filter(|s| SUPPORTED_SCOPES.contains(&s.as_str()) && client.scopes.contains(s))
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(fail(
            ErrorCode::InvalidScope,
            "the client may not use the openid scope",
        ));
    }

    // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE with S256 for every client.
    let Some(code_challenge) = params.get("code_challenge") else {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "code_challenge is required (PKCE with S256)",
        ));
    };
    if params.get("code_challenge_method") != Some("S256") {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "code_challenge_method must be S256",
        ));
    }
    if !pkce::valid_challenge(code_challenge) {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "code_challenge is malformed",
        ));
    }

    let mut prompt = Prompt::default();
    for value in params
        .get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => prompt.login = true,
            _ => return Err(fail(ErrorCode::InvalidRequest, "unsupported prompt value")),
        }
    }
    // OIDC Core §3.1.2.1: none with any other value is an error.
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "prompt=none cannot be combined with other values",
        ));
    }
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "max_age must be a non-negative integer",
                ));
            }
        },
    };

    let acr_values = params
        .get("acr_values")
        .map(parse_scope)
        .unwrap_or_default();
    let claimed = match params.get("claims") {
        None => Vec::new(),
        Some(claims) => match requested_acr_claim(claims) {
            Some(values) => values,
            None => {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "the claims parameter is not valid JSON",
                ));
            }
        },
    };
    let requested: Vec<&String> = acr_values.iter().chain(&claimed).collect();
    let known: Vec<Loa> = requested.iter().filter_map(|a| Loa::from_acr(a)).collect();
    // OpenID Connect EAP ACR Values §5: an assurance this provider cannot reach is refused.
    if !requested.is_empty() && known.is_empty() {
        return Err(fail(
            ErrorCode::UnmetAuthenticationRequirements,
            "none of the requested acr values is supported",
        ));
    }
    let client_min = client.min_acr.as_deref().and_then(Loa::from_acr);
    let required_acr = (!known.is_empty() || client_min.is_some()).then(|| {
        anyid_policy::pdp::required_level(&known, client_min)
            .acr()
            .to_owned()
    });

    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        scopes,
        state,
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
        prompt,
        max_age,
        acr_values,
        required_acr,
        login_hint: params.get("login_hint").map(str::to_owned),
        ui_locales: params.get("ui_locales").map(str::to_owned),
    })
}

/// The acr values asked for in an OIDC Core §5.5 `claims` request (`id_token` or `userinfo`
/// member, `value` or `values`); `None` if the parameter is not a JSON object.
fn requested_acr_claim(claims: &str) -> Option<Vec<String>> {
    let parsed: serde_json::Value = serde_json::from_str(claims).ok()?;
    parsed.as_object()?;
    let mut out = Vec::new();
    for member in ["id_token", "userinfo"] {
        let acr = &parsed[member]["acr"];
        if let Some(v) = acr["value"].as_str() {
            out.push(v.to_owned());
        }
        if let Some(values) = acr["values"].as_array() {
            out.extend(values.iter().filter_map(|v| v.as_str().map(str::to_owned)));
        }
    }
    Some(out)
}

impl AuthorizationRequest {
    pub fn required_loa(&self) -> Loa {
        self.required_acr
            .as_deref()
            .and_then(Loa::from_acr)
            .unwrap_or(Loa::Low)
    }

    pub fn error_redirect(&self, code: ErrorCode, description: &'static str) -> ErrorRedirect {
        ErrorRedirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            error: OAuthError::new(code, description),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> ClientRecord {
        ClientRecord {
            id: "rp".into(),
            name: "RP".into(),
            secret_hash: vec![],
            redirect_uris: vec!["https://rp.example/cb".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into()],
            scopes: SUPPORTED_SCOPES.iter().map(|s| s.to_string()).collect(),
            subject_type: "pairwise".into(),
            sector_identifier: "rp.example".into(),
            id_token_alg: "ES256".into(),
            min_acr: None,
            sensitive: false,
            agency: None,
            sector_identifier_uri: None,
            notice: Default::default(),
            created_at: 0,
            secret_rotated_at: 0,
        }
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("client_id", "rp"),
            ("redirect_uri", "https://rp.example/cb"),
            ("response_type", "code"),
            ("scope", "openid email unknown"),
            ("state", "s1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
    }

    fn run(pairs: &[(&str, &str)]) -> Result<AuthorizationRequest, Rejection> {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        validate(&Params::parse(&encoded).unwrap(), Some(&client()))
    }

    fn without(key: &str) -> Vec<(&'static str, &'static str)> {
        good().into_iter().filter(|(k, _)| *k != key).collect()
    }

    fn with<'a>(key: &'static str, value: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut p = without(key);
        p.push((key, value));
        p
    }

    fn redirect_code(r: Result<AuthorizationRequest, Rejection>) -> &'static str {
        match r {
            Err(Rejection::Redirect(e)) => e.error.code.as_str(),
            other => panic!("expected a redirect error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_validates_and_drops_unknown_scopes() {
        let req = run(&good()).unwrap();
        assert_eq!(req.scopes, vec!["openid", "email"]);
        assert_eq!(req.state.as_deref(), Some("s1"));
    }

    #[test]
    fn unregistered_or_missing_redirect_uri_never_redirects() {
        assert!(matches!(
            run(&with("redirect_uri", "https://evil.example/cb")),
            Err(Rejection::Page { .. })
        ));
        assert!(matches!(
            run(&with("redirect_uri", "https://rp.example/cb/")),
            Err(Rejection::Page { .. })
        ));
        assert!(matches!(
            run(&without("redirect_uri")),
            Err(Rejection::Page { .. })
        ));
        let encoded = "client_id=other&redirect_uri=https%3A%2F%2Frp.example%2Fcb";
        assert!(matches!(
            validate(&Params::parse(encoded).unwrap(), None),
            Err(Rejection::Page { .. })
        ));
    }

    #[test]
    fn pkce_s256_is_required() {
        assert_eq!(
            redirect_code(run(&without("code_challenge"))),
            "invalid_request"
        );
        assert_eq!(
            redirect_code(run(&with("code_challenge_method", "plain"))),
            "invalid_request"
        );
        assert_eq!(
            redirect_code(run(&without("code_challenge_method"))),
            "invalid_request"
        );
    }

    #[test]
    fn only_the_code_flow_is_offered() {
        assert_eq!(
            redirect_code(run(&with("response_type", "token"))),
            "unsupported_response_type"
        );
        assert_eq!(
            redirect_code(run(&with("response_type", "code id_token"))),
            "unsupported_response_type"
        );
        assert_eq!(
            redirect_code(run(&with("request", "eyJ"))),
            "request_not_supported"
        );
    }

    #[test]
    fn prompt_none_cannot_be_combined() {
        assert_eq!(
            redirect_code(run(&with("prompt", "none login"))),
            "invalid_request"
        );
        assert!(run(&with("prompt", "login consent")).is_ok());
    }

    #[test]
    fn the_required_assurance_is_the_least_requested_raised_to_the_clients_minimum() {
        let req = run(&with(
            "acr_values",
            "urn:anyid:loa:high urn:anyid:loa:substantial",
        ))
        .unwrap();
        assert_eq!(req.required_loa(), Loa::Substantial);
        let claims = r#"{"id_token":{"acr":{"essential":true,"values":["urn:anyid:loa:high"]}}}"#;
        assert_eq!(
            run(&with("claims", claims)).unwrap().required_loa(),
            Loa::High
        );
        assert_eq!(run(&good()).unwrap().required_acr, None);
        assert_eq!(
            redirect_code(run(&with("acr_values", "urn:other:gold"))),
            "unmet_authentication_requirements"
        );
        assert_eq!(
            redirect_code(run(&with("claims", "not json"))),
            "invalid_request"
        );
        let mut strict = client();
        strict.min_acr = Some("urn:anyid:loa:substantial".into());
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(good())
            .finish();
        let req = validate(&Params::parse(&encoded).unwrap(), Some(&strict)).unwrap();
        assert_eq!(req.required_loa(), Loa::Substantial);
    }

    #[test]
    fn max_age_must_be_a_non_negative_integer() {
        assert_eq!(
            redirect_code(run(&with("max_age", "-1"))),
            "invalid_request"
        );
        assert_eq!(run(&with("max_age", "0")).unwrap().max_age, Some(0));
    }

    proptest::proptest! {
        #[test]
        fn validation_never_panics(pairs in proptest::collection::vec(("[a-z_]{1,16}", "\\PC{0,60}"), 0..12)) {
            let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
            if let Ok(params) = Params::parse(&encoded) {
                let _ = validate(&params, Some(&client()));
                let _ = validate(&params, None);
            }
        }

        #[test]
        fn any_redirect_other_than_the_registered_one_is_a_page(uri in "\\PC{1,80}") {
            proptest::prop_assume!(uri != "https://rp.example/cb");
            let mut pairs = without("redirect_uri");
            pairs.push(("redirect_uri", uri.as_str()));
            let is_page = matches!(run(&pairs), Err(Rejection::Page { .. }));
            proptest::prop_assert!(is_page, "redirect_uri {:?} was not refused with a page", uri);
        }
    }

    #[test]
    fn error_location_keeps_the_registered_query_and_adds_iss() {
        let e = ErrorRedirect {
            redirect_uri: "https://rp.example/cb?x=1".into(),
            state: Some("st".into()),
            error: OAuthError::new(ErrorCode::AccessDenied, "no"),
        };
        let loc = e.location("https://op.example");
        assert!(loc.starts_with("https://rp.example/cb?x=1&error=access_denied"));
        assert!(loc.contains("state=st"));
        assert!(loc.contains("iss=https%3A%2F%2Fop.example"));
    }
}
