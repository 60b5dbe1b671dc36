//! Token revocation, RFC 7009. Revoking a refresh token revokes its grant, and with it every
//! access token issued from that grant (§2.1). Unknown tokens and tokens of other clients are
//! answered with success (§2.2) and left alone.

use super::tokens::{ACCESS_TOKEN_TYP, AccessTokenClaims};
use crate::crypto;
use crate::error::{ErrorCode, OAuthError};
use crate::oidc::Provider;
use crate::store::{ClientRecord, GrantStore};

pub async fn revoke(
    op: &Provider<'_>,
    client: &ClientRecord,
    token: &str,
    hint: Option<&str>,
) -> Result<(), OAuthError> {
    if let Some(hint) = hint
        && !matches!(hint, "access_token" | "refresh_token")
    {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedTokenType,
            "token_type_hint must be access_token or refresh_token",
        ));
    }
    let now = op.now();
    if let Some(claims) =
        op.keys
            .current()
            .verify::<AccessTokenClaims>(token, ACCESS_TOKEN_TYP, op.issuer, true)
    {
        if claims.client_id == client.id && claims.exp > now {
            op.store
                .revoke_access_token(&claims.jti, claims.exp)
                .await?;
        }
        return Ok(());
    }
    if let Some(info) = op
        .store
        .refresh_token(&crypto::secret_hash(token), op.now())
        .await?
        && info.grant.client_id == client.id
    {
        op.store.revoke_grant(&info.grant.id, now).await?;
    }
    Ok(())
}
