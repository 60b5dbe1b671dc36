//! The authorization code grant, RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5).
//!
//! The code is consumed and its grant recorded in one transaction, so a replay always
//! finds the grant to revoke. A code is good only while the session it was issued under is
//! live and the citizen's consent still covers its scopes: signing out or withdrawing
//! consent between the redirect and the redemption ends it too.

use super::required;
use crate::crypto;
use crate::error::OAuthError;
use crate::oidc::params::Params;
use crate::oidc::parse_scope;
use crate::oidc::pkce;
use crate::oidc::tokens::{self, TokenResponse};
use crate::state::Core;
use crate::store::{ClientRecord, CodeRedemption, GrantRecord, GrantStore, Redemption};

pub async fn exchange(
    core: &Core,
    client: &ClientRecord,
    params: &Params,
) -> Result<TokenResponse, OAuthError> {
    let code = required(params, "code")?;
    let redirect_uri = required(params, "redirect_uri")?;
    let verifier = required(params, "code_verifier")?;
    let now = core.now();
    let redemption = match core
        .store
        .redeem_code(&crypto::secret_hash(code), now)
        .await?
    {
        CodeRedemption::Consumed(redemption) => redemption,
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
    if let Err(e) = check(&redemption, client, redirect_uri, verifier, now) {
        redemption.refuse().await?;
        return Err(e);
    }
    let record = &redemption.code;
    let grant = GrantRecord {
        created_at: now,
        ..record.grant.clone()
    };
    let nonce = record.nonce.clone();
    let refresh_token = if client.grant_types.iter().any(|g| g == "refresh_token") {
        Some(crypto::random_token()?)
    } else {
        None
    };
    let refresh_expiry = now + core.config.tokens.refresh_token;
    let refresh_hash = refresh_token.as_deref().map(crypto::secret_hash);
    redemption
        .grant(&grant, refresh_hash.as_deref().map(|h| (h, refresh_expiry)))
        .await?;
    tokens::for_grant(core, client, &grant, nonce.as_deref(), refresh_token)
}

/// Whether the consumed code may be exchanged by `client` with these parameters.
fn check(
    redemption: &Redemption,
    client: &ClientRecord,
    redirect_uri: &str,
    verifier: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let record = &redemption.code;
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
    if !redemption.session_live {
        return Err(OAuthError::invalid_grant(
            "the login session behind the authorization code has ended",
        ));
    }
    let consented = parse_scope(redemption.consented.as_deref().unwrap_or_default());
    if !parse_scope(&record.grant.scope)
        .iter()
        .all(|s| consented.contains(s))
    {
        return Err(OAuthError::invalid_grant(
            "the consent behind the authorization code was withdrawn",
        ));
    }
    Ok(())
}
