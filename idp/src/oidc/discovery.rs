//! OpenID Provider metadata, OIDC Discovery 1.0 §3, with RFC 8414 / RFC 7009 / RFC 7662 /
//! RFC 9207 fields. Built once at start.

use anyid_policy::Loa;
use serde_json::{Value, json};

use super::SUPPORTED_SCOPES;
use super::claims::supported_claims;

pub fn document(issuer: &str) -> Value {
    let at = |path: &str| format!("{issuer}{path}");
    json!({
        "issuer": issuer,
        "authorization_endpoint": at("/authorize"),
        "token_endpoint": at("/token"),
        "userinfo_endpoint": at("/userinfo"),
        "jwks_uri": at("/jwks"),
        "end_session_endpoint": at("/logout"),
        "revocation_endpoint": at("/revoke"),
        "introspection_endpoint": at("/introspect"),
        "scopes_supported": SUPPORTED_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": Loa::ALL.iter().map(|l| l.acr()).collect::<Vec<_>>(),
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": supported_claims(),
        "claims_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ["ko", "en"],
        "claim_types_supported": ["normal"],
    })
}
