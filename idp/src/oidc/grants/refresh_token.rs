//! The refresh token grant, RFC 6749 §6, with rotation and replay detection (RFC 9700
//! §4.14.2): each use returns a new token; using a rotated token revokes the whole family.

use super::{permit_issue, required};
use crate::crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::oidc::Provider;
use crate::oidc::params::Params;
use crate::oidc::parse_scope;
use crate::oidc::tokens::{self, TokenResponse};
use crate::store::{ClientRecord, GrantRecord, GrantStore, RefreshRotation};

pub async fn exchange(
    op: &Provider<'_>,
    client: &ClientRecord,
    params: &Params,
    source: std::net::IpAddr,
) -> Result<TokenResponse, OAuthError> {
    let presented = required(params, "refresh_token")?;
    let now = op.now();
    let old_hash = crypto::secret_hash(presented);
    // Check ownership before rotating, so another client cannot burn this client's token.
    match op.store.refresh_token(&old_hash, now).await? {
        // Policy is asked before rotating: a refused token stays as it was, for when the
        // refusal no longer holds (a risk that decays, working hours).
        Some(info) if info.grant.client_id == client.id => {
            permit_issue(
                op,
                client,
                Some(&info.grant),
                source,
                crate::risk::session_risk(info.session_risk, op.now()),
            )?;
        }
        _ => return Err(OAuthError::invalid_grant("the refresh token is invalid")),
    }
    let next = crypto::random_token()?;
    let expires_at = now + op.lifetimes.refresh_token;
    let grant = match op
        .store
        .rotate_refresh_token(&old_hash, &crypto::secret_hash(&next), expires_at, now)
        .await?
    {
        RefreshRotation::Rotated { grant, .. } => grant,
        RefreshRotation::Replayed { grant_id } => {
            op.store.revoke_grant(&grant_id, now).await?;
            tracing::warn!(grant = %grant_id, client = %client.id, "rotated refresh token replayed; family revoked");
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used",
            ));
        }
        RefreshRotation::Invalid => {
            return Err(OAuthError::invalid_grant(
                "the refresh token is invalid or expired",
            ));
        }
    };
    // RFC 6749 §6: a narrower scope may be requested, never a wider one.
    let grant = match params.get("scope") {
        None => grant,
        Some(scope) => {
            let requested = parse_scope(scope);
            let granted = parse_scope(&grant.scope);
            if !requested.iter().all(|s| granted.contains(s)) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "the requested scope exceeds the original grant",
                ));
            }
            GrantRecord {
                scope: requested.join(" "),
                ..grant
            }
        }
    };
    // OIDC Core §12.2: a refreshed ID token keeps auth_time and carries no nonce.
    tokens::for_grant(op, client, &grant, None, Some(next)).await
}
