//! Brokered login through upstream providers (adapters::upstream): start a method for a
//! login flow or for linking from the portal, keep its protocol state server-side under the
//! hash of the `state` sent upstream, and finish it exactly once when the callback arrives.
//! A failure ends on an error page with nothing created: the account and session come only
//! after the adapter has verified the answer.

use anyid_adapters::upstream::Upstream;
use anyid_adapters::{AdapterError, Begin, Callback, PendingLogin};
use anyid_policy::Loa;
use serde_json::{Value, json};

use super::Broker;
use super::account;
use super::portal::SignedIn;
use super::{Step, Visitor, error, finish_login, flow_error, flow_for_form, throttled};
use crate::audit::event::{AccessRecord, Kind};
use crate::crypto;
use crate::error::OAuthError;
use crate::i18n::Notice;
use crate::oidc::authorize::append_query;
use crate::oidc::flow;
use crate::oidc::session;
use crate::store::{PendingLoginStore, PendingRecord};

/// An upstream login must come back within 10 minutes.
pub const PENDING_TTL_S: i64 = 600;

pub fn callback_uri(ctx: &Broker<'_>, provider: &str) -> String {
    ctx.op.endpoint(&format!("/login/callback/{provider}"))
}

fn notice_of(e: &AdapterError) -> Notice {
    match e {
        AdapterError::Unavailable(_) => Notice::UpstreamUnavailable,
        AdapterError::Refused(_) => Notice::UpstreamRefused,
        AdapterError::Mismatch(_) => Notice::LoginMismatch,
        AdapterError::UnknownChoice => Notice::BadRequest,
        _ => Notice::UpstreamFailed,
    }
}

/// What the browser gets after a callback, and what to remember.
pub struct Finished {
    pub step: Step,
    /// A new SSO session's cookie token.
    pub session_token: Option<String>,
    /// The method that just succeeded (remembered on the device).
    pub method: Option<String>,
}

impl From<Step> for Finished {
    fn from(step: Step) -> Self {
        Self {
            step,
            session_token: None,
            method: None,
        }
    }
}

/// Start `provider` for the login flow `flow_id` (the chooser's form).
pub async fn begin_login(
    ctx: &Broker<'_>,
    provider: &str,
    flow_id: &str,
    csrf: &str,
    browser_token: Option<&str>,
) -> Result<Step, OAuthError> {
    let flow = match flow_for_form(ctx, flow_id, csrf, browser_token).await? {
        Ok(flow) => flow,
        Err(step) => return Ok(step),
    };
    let Some(upstream) = ctx.upstream(provider) else {
        return Ok(error(Notice::NotFound));
    };
    // Keeps a flood of logins off the provider (and its quotas).
    if let Err(wait) = super::attempts::admit_method(ctx, upstream.id()).await {
        return Ok(throttled(ctx, &flow, wait));
    }
    match start(ctx, upstream, Some(flow.id.clone()), None).await? {
        Ok(url) => Ok(Step::Redirect(url)),
        Err(e) => Ok(flow_error(ctx, &flow, notice_of(&e))),
    }
}

/// Start `provider` to link it to the signed-in citizen (the portal).
pub async fn begin_link(
    ctx: &Broker<'_>,
    provider: &str,
    signed_in: &SignedIn,
) -> Result<Step, OAuthError> {
    let citizen_id = signed_in.citizen_id();
    let Some(upstream) = ctx.upstream(provider) else {
        return Ok(error(Notice::NotFound));
    };
    match start(ctx, upstream, None, Some(citizen_id.to_owned())).await? {
        Ok(url) => Ok(Step::Redirect(url)),
        Err(e) => Ok(error(notice_of(&e))),
    }
}

async fn start(
    ctx: &Broker<'_>,
    upstream: &Upstream,
    flow_id: Option<String>,
    link_citizen_id: Option<String>,
) -> Result<Result<String, AdapterError>, OAuthError> {
    let now = ctx.op.now();
    let Begin::Redirect { url, pending } = match upstream
        .begin(&callback_uri(ctx, upstream.id()), now)
        .await
    {
        Ok(begin) => begin,
        Err(e) => {
            tracing::warn!(provider = upstream.id(), error = %e, "upstream login could not start");
            return Ok(Err(e));
        }
    };
    let data = serde_json::to_string(&pending).map_err(OAuthError::server_error)?;
    ctx.op
        .store
        .insert_pending(&PendingRecord {
            state_hash: crypto::secret_hash(&pending.state),
            flow_id,
            link_citizen_id,
            provider: upstream.id().to_owned(),
            data,
            callback: None,
            created_at: now,
            expires_at: now + PENDING_TTL_S,
        })
        .await?;
    Ok(Ok(url))
}

/// A `form_post` callback (Apple): keep its parameters and send the browser back with GET,
/// because a cross-site POST carries none of our SameSite=Lax cookies.
pub async fn keep_form_post(
    ctx: &Broker<'_>,
    provider: &str,
    callback: &Callback,
) -> Result<Step, OAuthError> {
    let Some(state) = callback.state.as_deref() else {
        return Ok(error(Notice::LoginMismatch));
    };
    if !ctx
        .op
        .store
        .attach_callback(
            &crypto::secret_hash(state),
            &callback_json(callback).to_string(),
            ctx.op.now(),
        )
        .await?
    {
        return Ok(error(Notice::Stale));
    }
    Ok(Step::Redirect(append_query(
        &callback_uri(ctx, provider),
        &[("state", state)],
    )))
}

/// The callback arrived in the browser: finish the login (or the link) exactly once.
pub async fn finish(
    ctx: &Broker<'_>,
    provider: &str,
    callback: Callback,
    visitor: &Visitor<'_>,
) -> Result<Finished, OAuthError> {
    let Some(state) = callback.state.as_deref() else {
        return Ok(error(Notice::LoginMismatch).into());
    };
    let now = ctx.op.now();
    let Some(record) = ctx
        .op
        .store
        .take_pending(&crypto::secret_hash(state), now)
        .await?
    else {
        return Ok(error(Notice::Stale).into());
    };
    let (Some(upstream), true) = (ctx.upstream(provider), record.provider == provider) else {
        return Ok(error(Notice::LoginMismatch).into());
    };
    let callback = match &record.callback {
        Some(kept) => callback_from_json(kept),
        None => callback,
    };
    let pending: PendingLogin =
        serde_json::from_str(&record.data).map_err(OAuthError::server_error)?;
    let flow = match &record.flow_id {
        Some(id) => match flow::load(&ctx.op, id).await? {
            Some(flow) if flow.started_by(visitor.browser) => Some(flow),
            Some(_) => return Ok(error(Notice::WrongBrowser).into()),
            None => return Ok(error(Notice::Stale).into()),
        },
        None => None,
    };
    let identity = match upstream.complete(&pending, &callback, now).await {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!(provider, error = %e, "upstream login refused");
            // A failed login in the access record: who tried is unknown.
            ctx.op
                .record(vec![AccessRecord {
                    source_ip: visitor.address.as_deref().and_then(|a| a.parse().ok()),
                    method: Some(provider.to_owned()),
                    ..AccessRecord::own(Kind::Login, "login", "failure", ctx.op.now_ms())
                }])
                .await?;
            let notice = notice_of(&e);
            return Ok(match &flow {
                Some(flow) => flow_error(ctx, flow, notice),
                None => error(notice),
            }
            .into());
        }
    };
    let method = Some(identity.method.clone());
    if let Some(flow) = flow {
        let (step, session_token) = finish_login(ctx, &flow, identity, visitor, 0).await?;
        return Ok(Finished {
            step,
            session_token,
            method,
        });
    }
    // Linking from the portal: only for the citizen still signed in here.
    let Some(citizen_id) = record.link_citizen_id else {
        return Ok(error(Notice::Stale).into());
    };
    // The link is vouched at the level of the session that asked for it (DESIGN §4).
    let Some(signed_in) = session::current(&ctx.op, visitor.session)
        .await?
        .filter(|s| s.citizen_id == citizen_id)
    else {
        return Ok(error(Notice::WrongBrowser).into());
    };
    let level = Loa::from_acr(&signed_in.acr).unwrap_or_default();
    let outcome = account::link(ctx, &citizen_id, &identity, level, Loa::Low).await?;
    let step = match outcome.refusal() {
        None => Step::Redirect(append_query(
            &ctx.op.endpoint("/account"),
            &[("done", "linked")],
        )),
        Some(notice) => error(notice),
    };
    Ok(Finished {
        step,
        session_token: None,
        method,
    })
}

fn callback_json(c: &Callback) -> Value {
    json!({
        "code": c.code, "state": c.state, "error": c.error,
        "error_description": c.error_description, "user": c.user,
    })
}

fn callback_from_json(text: &str) -> Callback {
    let v: Value = serde_json::from_str(text).unwrap_or_default();
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Callback {
        code: field("code"),
        state: field("state"),
        error: field("error"),
        error_description: field("error_description"),
        user: field("user"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_callbacks_round_trip() {
        let c = Callback {
            code: Some("c".into()),
            state: Some("s".into()),
            error: None,
            error_description: None,
            user: Some("{\"name\":{}}".into()),
        };
        assert_eq!(callback_from_json(&callback_json(&c).to_string()), c);
        assert_eq!(callback_from_json("garbage"), Callback::default());
    }
}
