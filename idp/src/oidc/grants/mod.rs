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
    let spent = op
        .budgets
        .token_per_client
        .take(&client.id, op.clock.since_epoch())
        .await;
    if let Some(wait) = spent {
        return Err(over_budget(op, &client, source, wait));
    }
    let response = match grant_type {
        GrantType::AuthorizationCode => {
            authorization_code::exchange(op, &client, &params, source).await
        }
        GrantType::RefreshToken => refresh_token::exchange(op, &client, &params, source).await,
        GrantType::ClientCredentials => {
            permit_issue(op, &client, None, source, 0)?;
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
    risk: u8,
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
            risk,
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

/// A client over its token budget: decided as such (so the decision log has it) and
/// answered 429 with `Retry-After` (RFC 6585 §4).
fn over_budget(
    op: &Provider<'_>,
    client: &ClientRecord,
    source: std::net::IpAddr,
    wait: std::time::Duration,
) -> OAuthError {
    let request = PolicyRequest {
        principal: Principal::Client {
            id: client.id.clone(),
        },
        action: Action::IssueToken,
        resource: Resource::Client(op.client_facts(client)),
        context: PolicyContext {
            ip: Some(source),
            throttled: Some(wait),
            ..PolicyContext::default()
        },
    };
    let wait = match op.decide(&request) {
        Decision::Deny(Reason::Throttled(wait)) => wait,
        _ => wait,
    };
    OAuthError {
        retry_after: Some(wait),
        ..OAuthError::new(
            ErrorCode::InvalidRequest,
            "too many token requests from this client; try again later",
        )
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

#[cfg(test)]
mod tests {
    use super::authorization_code::tests::{redeem_params, request};
    use super::*;
    use crate::testing::Fixture;

    const LOOPBACK: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    /// A code for `session` at `client`, issued as the authorization endpoint would.
    async fn code_params(
        op: &Provider<'_>,
        client: &str,
        session: &crate::store::SsoSession,
    ) -> Params {
        let request = request(client, &["openid", "profile"]);
        let location = authorization_code::issue(op, &request, session)
            .await
            .unwrap();
        redeem_params(&location)
    }

    #[tokio::test]
    async fn a_sensitive_relying_party_gets_no_tokens_from_a_low_login_and_the_code_is_spent() {
        let f = Fixture::new().await;
        let op = f.op();
        let mut client = f.client("rp").await;
        let session = f.signed_in("rp", "openid profile").await;
        // The relying party became sensitive after its code was issued at low.
        let params = code_params(&op, "rp", &session).await;
        client.sensitive = true;
        let refused = authorization_code::exchange(&op, &client, &params, LOOPBACK)
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidGrant);
        assert!(
            refused.description.contains("high"),
            "{}",
            refused.description
        );
        // Single use: the refused code does not work once the refusal is lifted either.
        client.sensitive = false;
        assert!(
            authorization_code::exchange(&op, &client, &params, LOOPBACK)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn a_refused_refresh_token_is_not_rotated_and_works_once_the_refusal_ends() {
        let f = Fixture::new().await;
        let op = f.op();
        let mut client = f.client("rp").await;
        let session = f.signed_in("rp", "openid profile").await;
        let params = code_params(&op, "rp", &session).await;
        let tokens = authorization_code::exchange(&op, &client, &params, LOOPBACK)
            .await
            .unwrap();
        let refresh = tokens.refresh_token.clone().unwrap();
        let refresh_params = Params::from_pairs([("refresh_token", refresh.as_str())]);

        client.sensitive = true;
        let refused = refresh_token::exchange(&op, &client, &refresh_params, LOOPBACK)
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::InvalidGrant);

        client.sensitive = false;
        let renewed = refresh_token::exchange(&op, &client, &refresh_params, LOOPBACK).await;
        assert!(renewed.is_ok(), "the refused token was left as it was");
    }

    #[tokio::test]
    async fn client_credentials_are_refused_when_policy_forbids_the_client() {
        use crate::store::ClientStore;
        use base64::Engine as _;
        let f = Fixture::new().await;
        let op = f.op();
        let mut client = f.client("svc").await;
        client.grant_types = vec!["client_credentials".into()];
        f.store.upsert_client(&client).await.unwrap();
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("svc:secret")
        );
        let ask = || {
            exchange(
                &op,
                Some(&basic),
                Params::from_pairs([("grant_type", "client_credentials")]),
                LOOPBACK,
            )
        };
        assert!(ask().await.is_ok());

        let mut set: Vec<(String, String)> = anyid_policy::cedar::DEFAULT_POLICIES
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        set.push((
            "svc.cedar".into(),
            r#"@id("svc-suspended") forbid (principal == AnyId::Client::"svc",
               action == AnyId::Action::"issue_token", resource);"#
                .into(),
        ));
        op.policy.reload(&set).unwrap();
        let refused = ask().await.unwrap_err();
        assert_eq!(refused.code, ErrorCode::UnauthorizedClient);
    }
}
