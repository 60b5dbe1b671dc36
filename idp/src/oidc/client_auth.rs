//! Client authentication at the token, introspection and revocation endpoints: RFC 6749
//! §2.3.1 `client_secret_basic` and `client_secret_post`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

use super::params::Params;
use crate::crypto;
use crate::error::{ErrorCode, OAuthError};
use std::net::IpAddr;
use std::sync::Arc;

use anyid_policy::facts::{ClientFacts, Context};
use anyid_policy::limits::Verdict;
use anyid_policy::{Action, Decision, Principal, Reason, Request as PolicyRequest, Resource};

use crate::oidc::Provider;

use crate::store::ClientRecord;

pub struct PresentedCredentials {
    pub client_id: String,
    secret: String,
}

crate::redact::debug_without_secrets!(PresentedCredentials { client_id });

/// Read the client's credentials from the `Authorization` header or the body (removing them
/// from `params`). RFC 6749 §2.3: a client uses one method per request.
pub fn presented(
    authorization: Option<&str>,
    params: &mut Params,
) -> Result<PresentedCredentials, OAuthError> {
    let body_id = params.take("client_id");
    let body_secret = params.take("client_secret");
    match authorization {
        Some(header) => {
            if body_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "use one client authentication method, not two",
                ));
            }
            let creds = parse_basic(header).ok_or_else(OAuthError::invalid_client)?;
            if body_id.as_deref().is_some_and(|id| id != creds.client_id) {
                return Err(OAuthError::invalid_request("client_id does not match"));
            }
            Ok(creds)
        }
        None => match (body_id, body_secret) {
            (Some(client_id), Some(secret)) => Ok(PresentedCredentials { client_id, secret }),
            _ => Err(OAuthError::invalid_client()),
        },
    }
}

/// RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64 (RFC 7617).
fn parse_basic(header: &str) -> Option<PresentedCredentials> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(value.trim()).ok()?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let form_decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|c| c.into_owned())
    };
    Some(PresentedCredentials {
        client_id: form_decode(id)?,
        secret: form_decode(secret)?,
    })
}

/// Whether policy lets an authenticated `client` introspect or revoke from `source`
/// (DESIGN §6); a refusal is `unauthorized_client`, a throttle 429.
pub fn permit(
    op: &Provider<'_>,
    client: &ClientRecord,
    action: Action,
    source: IpAddr,
) -> Result<(), OAuthError> {
    let request = PolicyRequest {
        principal: Principal::Client {
            id: client.id.clone(),
        },
        action,
        resource: Resource::Client(op.client_facts(client)),
        context: Context {
            ip: Some(source),
            ..Context::default()
        },
    };
    match op.decide(&request) {
        Decision::Allow => Ok(()),
        Decision::Deny(Reason::Throttled(wait)) => Err(OAuthError {
            retry_after: Some(wait),
            ..OAuthError::new(ErrorCode::UnauthorizedClient, "too many requests")
        }),
        Decision::Deny(_) | Decision::StepUp(_) => Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the provider's policy does not allow this client to do that",
        )),
    }
}

/// Authenticate the client making a request at the token, introspection or revocation
/// endpoint from `source`, taking its credentials out of `params`.
pub async fn authenticate_request(
    op: &Provider<'_>,
    authorization: Option<&str>,
    params: &mut Params,
    source: IpAddr,
) -> Result<Arc<ClientRecord>, OAuthError> {
    let creds = presented(authorization, params)?;
    authenticate(op, &creds, source).await
}

/// Authenticate the presented credentials against the registered client. A correct
/// credential always succeeds: the failure budget is checked only for a wrong one, so
/// someone who knows a public `client_id` cannot lock its owner out. Client secrets are
/// 256-bit random values, so throttling is not what stops guessing; it makes a flood of
/// failures visible and answers it with 429.
pub async fn authenticate(
    op: &Provider<'_>,
    creds: &PresentedCredentials,
    source: IpAddr,
) -> Result<Arc<ClientRecord>, OAuthError> {
    let client = op.clients.get(op.store, &creds.client_id, op.now()).await?;
    let ok = client.as_ref().is_some_and(|c| {
        crypto::constant_time_eq(&crypto::secret_hash(&creds.secret), &c.secret_hash)
    });
    if let Some(client) = client.filter(|_| ok) {
        return Ok(client);
    }
    let now = op.clock.since_epoch();
    let throttled = match op
        .client_auth_failures
        .record(&creds.client_id, source, now)
    {
        Verdict::Throttled { retry_after } => Some(retry_after),
        Verdict::Open => None,
    };
    let request = PolicyRequest {
        principal: Principal::Client {
            id: creds.client_id.clone(),
        },
        action: Action::IssueToken,
        resource: Resource::Client(ClientFacts {
            id: creds.client_id.clone(),
            ..ClientFacts::default()
        }),
        context: Context {
            ip: Some(source),
            throttled,
            ..Context::default()
        },
    };
    match op.decide(&request) {
        Decision::Deny(Reason::Throttled(wait)) => {
            tracing::warn!(client = %creds.client_id, "client authentication failures throttled");
            Err(OAuthError::throttled(wait))
        }
        _ => Err(OAuthError::invalid_client()),
    }
}

pub fn require_grant_type(client: &ClientRecord, grant_type: &str) -> Result<(), OAuthError> {
    if client.grant_types.iter().any(|g| g == grant_type) {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the client is not registered for this grant type",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    #[test]
    fn basic_credentials_are_form_url_decoded() {
        let creds = parse_basic(&basic("my%20client", "s%3Acret+x")).unwrap();
        assert_eq!(creds.client_id, "my client");
        assert_eq!(creds.secret, "s:cret x");
    }

    proptest::proptest! {
        #[test]
        fn basic_parsing_never_panics(header in "\\PC{0,200}") {
            let _ = parse_basic(&header);
        }

        #[test]
        fn basic_round_trips_any_form_encoded_pair(id in "\\PC{1,40}", secret in "\\PC{1,40}") {
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let header = basic(&enc(&id), &enc(&secret));
            let creds = parse_basic(&header).unwrap();
            proptest::prop_assert_eq!(creds.client_id, id);
            proptest::prop_assert_eq!(creds.secret, secret);
        }
    }

    #[test]
    fn two_methods_at_once_are_refused() {
        let mut params = Params::from_pairs([("client_secret", "x")]);
        let err = presented(Some(&basic("a", "b")), &mut params).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn missing_credentials_are_invalid_client() {
        let mut params = Params::from_pairs([("client_id", "a")]);
        assert_eq!(
            presented(None, &mut params).unwrap_err().code,
            ErrorCode::InvalidClient
        );
        assert!(parse_basic("Bearer abc").is_none());
        assert!(parse_basic("Basic !!!").is_none());
    }
}
