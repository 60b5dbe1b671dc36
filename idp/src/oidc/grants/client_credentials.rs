//! The client credentials grant, RFC 6749 §4.4: a service client acting for itself.

use crate::error::{ErrorCode, OAuthError};
use crate::oidc::Provider;
use crate::oidc::claims::claims_of_scope;
use crate::oidc::params::Params;
use crate::oidc::parse_scope;
use crate::oidc::tokens::{self, TokenResponse};
use crate::store::ClientRecord;

pub fn exchange(
    op: &Provider<'_>,
    client: &ClientRecord,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let requested = parse_scope(params.get("scope").unwrap_or_default());
    // Scopes that release a citizen's claims mean nothing without a citizen.
    let citizen_scope =
        |s: &str| s == "openid" || s == "offline_access" || !claims_of_scope(s).is_empty();
    if requested
        .iter()
        .any(|s| citizen_scope(s) || !client.scopes.contains(s))
    {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the requested scope is not available to this client",
        ));
    }
    tokens::for_client(op, client, requested.join(" "))
}
