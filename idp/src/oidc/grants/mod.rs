//! The token endpoint's grants, RFC 6749 §3.2: one file per grant, dispatched on a typed
//! [`GrantType`].

pub mod authorization_code;
mod client_credentials;
mod refresh_token;

use super::client_auth;
use super::params::Params;
use super::tokens::TokenResponse;
use anyid_policy::facts::Context as PolicyContext;
use anyid_policy::{Action, Decision, Loa, Principal, Reason, Request as PolicyRequest, Resource};

use crate::error::{ErrorCode, OAuthError};
use crate::oidc::Provider;
use crate::store::{ClientRecord, GrantRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// Handle a token request: authenticate the client, then run its grant. Returns the grant
/// type with the tokens (for the metrics).
pub async fn exchange(
    op: &Provider<'_>,
    authorization: Option<&str>,
    mut params: Params,
    source: std::net::IpAddr,
) -> Result<(GrantType, TokenResponse), OAuthError> {
    let grant_type = match params.get("grant_type") {
        None => return Err(OAuthError::invalid_request("grant_type is required")),
        Some(text) => GrantType::parse(text).ok_or_else(|| {
            OAuthError::new(ErrorCode::UnsupportedGrantType, "unsupported grant_type")
        })?,
    };
    let client = client_auth::authenticate_request(op, authorization, &mut params, source).await?;
    client_auth::require_grant_type(&client, grant_type.as_str())?;
    let response = match grant_type {
        GrantType::AuthorizationCode => {
            authorization_code::exchange(op, &client, &params, source).await
        }
        GrantType::RefreshToken => refresh_token::exchange(op, &client, &params, source).await,
        GrantType::ClientCredentials => {
            permit_issue(op, &client, None, source)?;
            client_credentials::exchange(op, &client, &params)
        }
    }?;
    Ok((grant_type, response))
}

/// Whether policy lets `client` have tokens for `grant` (a citizen's), or for itself when
/// there is none (client credentials), DESIGN §6.
pub(crate) fn permit_issue(
    op: &Provider<'_>,
    client: &ClientRecord,
    grant: Option<&GrantRecord>,
    source: std::net::IpAddr,
) -> Result<(), OAuthError> {
    let now = op.now();
    let request = PolicyRequest {
        principal: match grant {
            Some(g) => Principal::Citizen {
                id: g.citizen_id.clone(),
            },
            None => Principal::Client {
                id: client.id.clone(),
            },
        },
        action: Action::IssueToken,
        resource: Resource::Client(op.client_facts(client)),
        context: PolicyContext {
            ip: Some(source),
            acr: grant.and_then(|g| Loa::from_acr(&g.acr)),
            amr: grant.map(|g| g.amr.clone()).unwrap_or_default(),
            auth_age_s: grant.map(|g| u64::try_from(now - g.auth_time).unwrap_or(0)),
            ..PolicyContext::default()
        },
    };
    match op.decide(&request) {
        Decision::Allow => Ok(()),
        Decision::Deny(Reason::Throttled(wait)) => Err(OAuthError::throttled(wait)),
        // RFC 6749 §5.2: the grant cannot be used as it stands; a new login at the level
        // makes a new one.
        Decision::StepUp(level) => Err(OAuthError::invalid_grant(format!(
            "this relying party needs a login at level {}; authorize again",
            level.name()
        ))),
        Decision::Deny(_) if grant.is_some() => Err(OAuthError::invalid_grant(
            "the provider's policy refuses tokens for this grant",
        )),
        Decision::Deny(_) => Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the provider's policy refuses tokens to this client",
        )),
    }
}

fn required<'a>(params: &'a Params, name: &'static str) -> Result<&'a str, OAuthError> {
    params.get(name).ok_or_else(|| {
        OAuthError::invalid_request(match name {
            "code" => "code is required",
            "redirect_uri" => "redirect_uri is required",
            "code_verifier" => "code_verifier is required (PKCE)",
            "refresh_token" => "refresh_token is required",
            _ => "a required parameter is missing",
        })
    })
}
