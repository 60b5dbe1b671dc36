//! SSO sessions: one login reaches many relying parties. The browser holds a random token in
//! a cookie; storage holds its hash. A new login always starts a new session (no fixation).

use super::authorize::AuthorizationRequest;
use crate::clock::UnixTime;
use crate::crypto;
use crate::error::OAuthError;
use crate::oidc::Provider;
use crate::store::{SessionStore, SsoSession};

/// The session cookie's name. `__Host-` needs `Secure`, which browsers refuse on plain-http
/// origins, so a plain-http loopback (dev) issuer uses the bare name.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-anyid_session"
    } else {
        "anyid_session"
    }
}

/// The browser-binding cookie: ties a login flow to the browser that started it.
pub fn browser_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-anyid_browser"
    } else {
        "anyid_browser"
    }
}

pub async fn current(
    op: &Provider<'_>,
    token: Option<&str>,
) -> Result<Option<SsoSession>, OAuthError> {
    let Some(token) = token else { return Ok(None) };
    Ok(op
        .store
        .live_session(&crypto::secret_hash(token), op.now())
        .await?)
}

/// Start a session; returns it and the cookie token.
pub async fn start(
    op: &Provider<'_>,
    citizen_id: &str,
    acr: &str,
    amr: Vec<String>,
) -> Result<(SsoSession, String), OAuthError> {
    let now = op.now();
    let token = crypto::random_token()?;
    let session = SsoSession {
        id: uuid::Uuid::now_v7().to_string(),
        citizen_id: citizen_id.to_owned(),
        auth_time: now,
        acr: acr.to_owned(),
        amr,
        created_at: now,
        expires_at: now + op.lifetimes.session,
    };
    op.store
        .insert_session(&session, &crypto::secret_hash(&token))
        .await?;
    Ok((session, token))
}

/// Can `session` serve `request` without a new login, as far as the protocol goes (its
/// level is policy's to judge)? OIDC Core §3.1.2.1: `prompt=login` forces
/// re-authentication, and `max_age` bounds the time since `auth_time`.
pub fn satisfies(session: &SsoSession, request: &AuthorizationRequest, now: UnixTime) -> bool {
    if request.prompt.login {
        return false;
    }
    match request.max_age {
        // OIDC Core §3.1.2.1 (errata): max_age=0 is equivalent to prompt=login.
        Some(0) => false,
        Some(max_age) => now - session.auth_time <= max_age,
        None => true,
    }
}
