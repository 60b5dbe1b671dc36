//! RP-Initiated Logout 1.0. A relying party that presents the ID token it received (its
//! `id_token_hint`) logs the citizen out directly; without one, the citizen confirms on a
//! page (CSRF-protected). `post_logout_redirect_uri` is used only when registered for the
//! client named by the hint or `client_id` (§3), so logout is never an open redirect.

use serde::Deserialize;
use serde_json::Value;

use super::authorize::append_query;
use super::params::Params;
use super::session;
use crate::crypto;
use crate::error::OAuthError;
use crate::i18n::Notice;
use crate::oidc::Provider;
use crate::store::{ClientStore, SessionStore, SsoSession};

#[derive(Debug)]
pub enum LogoutOutcome {
    /// The session (if any) is over; go to `redirect` or show the signed-out page.
    Done { redirect: Option<String> },
    /// Ask the citizen; the form posts these parameters back with `csrf`.
    Confirm {
        csrf: String,
        params: Vec<(String, String)>,
    },
    /// The request cannot be honoured; explain without redirecting.
    Refused { notice: Notice },
}

#[derive(Deserialize)]
struct HintClaims {
    aud: Value,
    #[serde(default)]
    sid: Option<String>,
}

/// Handle a logout request. `confirmed_csrf` is set when the citizen submitted the
/// confirmation form.
pub async fn end_session(
    op: &Provider<'_>,
    params: &Params,
    session_token: Option<&str>,
    confirmed_csrf: Option<&str>,
) -> Result<LogoutOutcome, OAuthError> {
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(token) => {
            match op
                .keys
                .current()
                .verify::<HintClaims>(token, "JWT", op.issuer, true)
            {
                Some(claims) => Some(claims),
                None => {
                    return Ok(LogoutOutcome::Refused {
                        notice: Notice::LogoutUnknownToken,
                    });
                }
            }
        }
    };
    let hinted_client = hint.as_ref().and_then(|h| match &h.aud {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    });
    let client_id = match (params.get("client_id"), hinted_client) {
        (Some(given), Some(hinted)) if given != hinted => {
            return Ok(LogoutOutcome::Refused {
                notice: Notice::LogoutTwoClients,
            });
        }
        (Some(given), _) => Some(given.to_owned()),
        (None, hinted) => hinted,
    };
    let redirect = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let client = match &client_id {
                Some(id) => op.store.client(id).await?,
                None => None,
            };
            match client {
                Some(c) if c.post_logout_redirect_uris.iter().any(|r| r == uri) => {
                    let mut pairs = Vec::new();
                    if let Some(state) = params.get("state") {
                        pairs.push(("state", state));
                    }
                    Some(append_query(uri, &pairs))
                }
                _ => {
                    return Ok(LogoutOutcome::Refused {
                        notice: Notice::LogoutUnregistered,
                    });
                }
            }
        }
    };
    let Some(current) = session::current(op, session_token).await? else {
        return Ok(LogoutOutcome::Done { redirect });
    };
    // The hint's `sid` is the one its client saw for this session (`subject::sid_for`).
    let hint_matches = hint.as_ref().is_some_and(|h| {
        client_id
            .as_deref()
            .zip(h.sid.as_deref())
            .is_some_and(|(client, sid)| {
                let expected = super::subject::sid_for(op.secrets, client, &current.id);
                crypto::constant_time_eq(sid.as_bytes(), expected.as_bytes())
            })
    });
    let confirmed = confirmed_csrf.is_some_and(|c| {
        crypto::constant_time_eq(c.as_bytes(), logout_csrf(op, &current).as_bytes())
    });
    if hint_matches || confirmed {
        op.store.revoke_session(&current.id, op.now()).await?;
        return Ok(LogoutOutcome::Done { redirect });
    }
    let mut echoed = Vec::new();
    for key in [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
        "ui_locales",
    ] {
        if let Some(value) = params.get(key) {
            echoed.push((key.to_owned(), value.to_owned()));
        }
    }
    Ok(LogoutOutcome::Confirm {
        csrf: logout_csrf(op, &current),
        params: echoed,
    })
}

/// A CSRF token bound to the session being ended.
fn logout_csrf(op: &Provider<'_>, session: &SsoSession) -> String {
    crypto::b64(&crypto::hmac_sha256(
        &op.secrets.logout_csrf,
        &[session.id.as_bytes()],
    ))
}
