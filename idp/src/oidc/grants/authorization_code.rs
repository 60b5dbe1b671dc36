//! The authorization code grant, RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5).

use super::required;
use crate::crypto;
use crate::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::pkce;
use crate::oidc::tokens::{self, TokenResponse};
use crate::state::Core;
use crate::store::{ClientRecord, CodeRedemption, GrantRecord, GrantStore};

pub async fn exchange(
    core: &Core,
    client: &ClientRecord,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = required(params, "code")?;
    let redirect_uri = required(params, "redirect_uri")?;
    let verifier = required(params, "code_verifier")?;
    let now = core.now();
    let record = match core
        .store
        .redeem_code(&crypto::secret_hash(code), now)
        .await?
    {
        CodeRedemption::Consumed(record) => record,
        CodeRedemption::Replayed { grant_id } => {
            // RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it.
            core.store.revoke_grant(&grant_id, now).await?;
            tracing::warn!(grant = %grant_id, client = %client.id, "authorization code replayed; grant revoked");
            return Err(OAuthError::invalid_grant(
                "the authorization code was already used",
            ));
        }
        CodeRedemption::Unknown => {
            return Err(OAuthError::invalid_grant(
                "the authorization code is invalid",
            ));
        }
    };
    // RFC 6749 §4.1.3: the code belongs to the authenticated client and its redirect URI.
    if record.grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    if record.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if record.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !pkce::verify(verifier, &record.code_challenge) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    let grant = GrantRecord {
        created_at: now,
        ..record.grant.clone()
    };
    let refresh_token = if client.grant_types.iter().any(|g| g == "refresh_token") {
        Some(crypto::random_token()?)
    } else {
        None
    };
    let refresh_expiry = now + core.config.tokens.refresh_token;
    let refresh_hash = refresh_token.as_deref().map(crypto::secret_hash);
    core.store
        .insert_grant(&grant, refresh_hash.as_deref().map(|h| (h, refresh_expiry)))
        .await?;
    tokens::for_grant(core, client, &grant, record.nonce.as_deref(), refresh_token)
}
