//! The OpenID Connect / OAuth 2 protocol domain, without HTTP types: authorization-request
//! validation, the login flow state machine, PKCE, client authentication, grants, token and
//! claims assembly, SSO sessions, userinfo, introspection, revocation and logout.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod flow;
pub mod grants;
pub mod introspection;
pub mod logout;
pub mod params;
pub mod pkce;
pub mod revocation;
pub mod session;
pub mod subject;
pub mod tokens;
pub mod userinfo;

/// Scopes this provider understands (OIDC Core §5.4 plus `offline_access`, §11).
pub const SUPPORTED_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
];

/// Authorization codes live 60 seconds (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_TTL_S: i64 = 60;
/// A login flow (the citizen choosing a method, consenting) must finish within 15 minutes.
pub const FLOW_TTL_S: i64 = 15 * 60;

pub fn parse_scope(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}
