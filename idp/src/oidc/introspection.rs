//! Token introspection, RFC 7662. Only the client a token was issued to learns that it is
//! active; every other answer is `{"active": false}` (§2.2, and §4 on token scanning).

use serde_json::{Value, json};

use super::tokens::{ACCESS_TOKEN_TYP, AccessTokenClaims, verify_access_token};
use crate::crypto;
use crate::oidc::Provider;
use crate::store::{ClientRecord, GrantStore};

pub async fn introspect(
    op: &Provider<'_>,
    client: &ClientRecord,
    token: &str,
    hint: Option<&str>,
) -> Result<Value, crate::error::OAuthError> {
    let inactive = json!({ "active": false });
    // RFC 7662 §2.1: the hint is an optimisation; search the other kind too.
    let looks_like_jwt = token.split('.').count() == 3;
    if hint != Some("refresh_token") || looks_like_jwt {
        if let Ok(claims) = verify_access_token(op, token).await {
            return Ok(if claims.client_id == client.id {
                access_token_answer(&claims)
            } else {
                inactive
            });
        }
        if op
            .keys
            .current()
            .verify::<AccessTokenClaims>(token, ACCESS_TOKEN_TYP, op.issuer, true)
            .is_some()
        {
            return Ok(inactive);
        }
    }
    let Some(info) = op
        .store
        .refresh_token(&crypto::secret_hash(token), op.now())
        .await?
    else {
        return Ok(inactive);
    };
    if info.grant.client_id != client.id || !info.usable(op.now()) {
        return Ok(inactive);
    }
    Ok(json!({
        "active": true,
        "token_type": "refresh_token",
        "client_id": info.grant.client_id,
        "scope": info.grant.scope,
        "exp": info.expires_at,
        "iat": info.grant.created_at,
        "iss": op.issuer,
    }))
}

fn access_token_answer(c: &AccessTokenClaims) -> Value {
    let mut out = json!({
        "active": true,
        "token_type": "Bearer",
        "client_id": c.client_id,
        "sub": c.sub,
        "aud": c.aud,
        "iss": c.iss,
        "exp": c.exp,
        "iat": c.iat,
        "jti": c.jti,
    });
    if !c.scope.is_empty() {
        out["scope"] = json!(c.scope);
    }
    if let Some(acr) = &c.acr {
        out["acr"] = json!(acr);
    }
    if let Some(auth_time) = c.auth_time {
        out["auth_time"] = json!(auth_time);
    }
    out
}
