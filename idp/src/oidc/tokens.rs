//! Token assembly: ID tokens (OIDC Core §2), JWT access tokens (RFC 9068), opaque refresh
//! tokens, and the token response (RFC 6749 §5.1).

use crate::audit::event::{AccessRecord, Kind};
use serde::{Deserialize, Serialize};

use super::subject::{sid_for, subject_for};
use crate::clock::UnixTime;
use crate::crypto;
use crate::error::OAuthError;
use crate::keys::Alg;
use crate::oidc::Provider;
use crate::store::{ClientRecord, GrantRecord};

#[derive(Debug, Serialize)]
pub struct IdTokenClaims<'a> {
    pub iss: &'a str,
    pub sub: &'a str,
    pub aud: &'a str,
    pub azp: &'a str,
    pub exp: UnixTime,
    pub iat: UnixTime,
    pub auth_time: UnixTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<&'a str>,
    pub acr: &'a str,
    pub amr: &'a [String],
    pub sid: &'a str,
}

/// RFC 9068 §2.2 claims, plus `gid` (the grant, so revocation reaches the token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: UnixTime,
    pub iat: UnixTime,
    pub jti: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<UnixTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
}

#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

crate::redact::debug_without_secrets!(TokenResponse {
    token_type,
    expires_in,
    scope
});

/// RFC 9068 §2.1: access tokens carry `typ: at+jwt`.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The audience of access tokens: this provider's own resources (userinfo).
pub fn access_token_audience<'a>(op: &Provider<'a>) -> &'a str {
    op.issuer
}

/// What an ID token tells a relying party about the citizen, besides its own identifiers.
const ID_TOKEN_CLAIMS: [&str; 4] = ["sub", "auth_time", "acr", "amr"];

/// Tokens for a grant on behalf of a citizen (code and refresh grants). An ID token is a
/// release of claims to the client, recorded in the access record before it leaves.
pub async fn for_grant(
    op: &Provider<'_>,
    client: &ClientRecord,
    grant: &GrantRecord,
    nonce: Option<&str>,
    refresh_token: Option<String>,
) -> Result<TokenResponse, OAuthError> {
    let now = op.now();
    let lifetimes = op.lifetimes;
    let sub = subject_for(op.secrets, client, &grant.citizen_id);
    let ring = op.keys.current();
    let access = AccessTokenClaims {
        iss: op.issuer.to_owned(),
        sub: sub.clone(),
        aud: access_token_audience(op).to_owned(),
        exp: now + lifetimes.access_token,
        iat: now,
        jti: crypto::random_token()?,
        client_id: client.id.clone(),
        scope: grant.scope.clone(),
        auth_time: Some(grant.auth_time),
        acr: Some(grant.acr.clone()),
        gid: Some(grant.id.clone()),
    };
    let access_token = ring.sign(Alg::Es256, ACCESS_TOKEN_TYP, &access)?;
    let id_token = if grant.scope.split(' ').any(|s| s == "openid") {
        let alg = Alg::parse(&client.id_token_alg).unwrap_or(Alg::Es256);
        let claims = IdTokenClaims {
            iss: op.issuer,
            sub: &sub,
            aud: &client.id,
            azp: &client.id,
            exp: now + lifetimes.id_token,
            iat: now,
            auth_time: grant.auth_time,
            nonce,
            acr: &grant.acr,
            amr: &grant.amr,
            sid: &sid_for(op.secrets, &client.id, &grant.session_id),
        };
        let id_token = ring.sign(alg, "JWT", &claims)?;
        op.record(vec![release(
            op,
            client,
            &grant.citizen_id,
            "id_token",
            ID_TOKEN_CLAIMS.iter().map(|c| (*c).to_owned()).collect(),
        )])
        .await?;
        Some(id_token)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: lifetimes.access_token,
        refresh_token,
        id_token,
        scope: grant.scope.clone(),
    })
}

/// The access record of claims about `citizen_id` (named by the logs' pseudonym) released
/// to `client` through `channel` (`id_token`, `userinfo`).
pub fn release(
    op: &Provider<'_>,
    client: &ClientRecord,
    citizen_id: &str,
    channel: &str,
    mut claims: Vec<String>,
) -> AccessRecord {
    claims.sort();
    AccessRecord {
        actor_id: Some(client.id.clone()),
        actor_agency: client.agency.clone(),
        subject_id: Some(crate::decisions::pseudonym(op.secrets, citizen_id)),
        data_categories: claims,
        client_id: Some(client.id.clone()),
        ..AccessRecord::own(Kind::Release, channel, "success", op.now_ms())
    }
}

/// An access token for a service client acting for itself (RFC 9068 §2.2: `sub` is the
/// client).
pub fn for_client(
    op: &Provider<'_>,
    client: &ClientRecord,
    scope: String,
) -> Result<TokenResponse, OAuthError> {
    let now = op.now();
    let ttl = op.lifetimes.access_token;
    let claims = AccessTokenClaims {
        iss: op.issuer.to_owned(),
        sub: client.id.clone(),
        aud: access_token_audience(op).to_owned(),
        exp: now + ttl,
        iat: now,
        jti: crypto::random_token()?,
        client_id: client.id.clone(),
        scope: scope.clone(),
        auth_time: None,
        acr: None,
        gid: None,
    };
    Ok(TokenResponse {
        access_token: op
            .keys
            .current()
            .sign(Alg::Es256, ACCESS_TOKEN_TYP, &claims)?,
        token_type: "Bearer",
        expires_in: ttl,
        refresh_token: None,
        id_token: None,
        scope,
    })
}

/// Verify an access token we issued and that nobody revoked.
pub async fn verify_access_token(
    op: &Provider<'_>,
    token: &str,
) -> Result<AccessTokenClaims, OAuthError> {
    use crate::store::GrantStore;
    let key: [u8; 32] = crate::crypto::sha256(token.as_bytes())
        .try_into()
        .map_err(|_| OAuthError::server_error("a SHA-256 digest is 32 bytes"))?;
    // Read before the checks: a revocation made meanwhile makes this result stale.
    let changes = op.store.changes().revocations();
    if let Some(claims) = op.recent.tokens.get(&key, changes)
        && claims.exp > op.now()
    {
        return Ok(claims);
    }
    let Some(claims) =
        op.keys
            .current()
            .verify::<AccessTokenClaims>(token, ACCESS_TOKEN_TYP, op.issuer, false)
    else {
        return Err(OAuthError::invalid_token(
            "the access token is invalid or expired",
        ));
    };
    if claims.aud != access_token_audience(op) {
        return Err(OAuthError::invalid_token(
            "the access token is not for this resource",
        ));
    }
    if op.store.access_token_revoked(&claims.jti).await? {
        return Err(OAuthError::invalid_token("the access token was revoked"));
    }
    if let Some(gid) = &claims.gid {
        let live = op
            .store
            .grant(gid)
            .await?
            .is_some_and(|g| g.revoked_at.is_none());
        if !live {
            return Err(OAuthError::invalid_token("the access token was revoked"));
        }
    }
    op.recent.tokens.put(key, claims.clone(), changes);
    Ok(claims)
}
