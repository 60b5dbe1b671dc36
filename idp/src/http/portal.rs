//! The citizen portal at `/account`: thin handlers over `login::portal`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::authorize::{BrowserBinding, failure, incomplete, see_other};
use super::extract::{self, cookie};
use super::pages::{self, Frame, MethodRow, Prefs, lang_param, remember_lang};
use crate::i18n::{Lang, Notice, Text};
use crate::login::portal::{self, Action, NotSignedIn, PortalView, SignedIn};
use crate::login::{self, certificate, passkey, upstream};
use crate::oidc::params::Params;
use crate::oidc::session::{self, cookie_name};
use crate::state::AppState;

pub struct IdentityRow {
    id: String,
    name: String,
    level: &'static str,
    last_used: String,
}

pub struct PasskeyRow {
    id: String,
    name: String,
    level: &'static str,
    storage: &'static str,
    last_used: String,
}

/// Refusals the portal explains after its redirect, by a short code in the query.
const REFUSALS: [(&str, Notice); 20] = [
    ("last", Notice::LastMethod),
    ("passkey_failed", Notice::PasskeyFailed),
    ("passkey_exists", Notice::PasskeyExists),
    ("passkey_name", Notice::PasskeyName),
    ("stale", Notice::Stale),
    ("wrong_browser", Notice::WrongBrowser),
    ("linked_elsewhere", Notice::LinkedElsewhere),
    ("another_person", Notice::AnotherPerson),
    ("cert_expired", Notice::CertExpired),
    ("cert_not_yet_valid", Notice::CertNotYetValid),
    ("cert_revoked", Notice::CertRevoked),
    ("cert_unknown_issuer", Notice::CertUnknownIssuer),
    ("cert_policy", Notice::CertPolicy),
    ("cert_key_usage", Notice::CertKeyUsage),
    ("cert_revocation_unknown", Notice::CertRevocationUnknown),
    ("cert_signature", Notice::CertSignature),
    ("cert_challenge", Notice::CertChallenge),
    ("cert_malformed", Notice::CertMalformed),
    ("cert_no_identity", Notice::CertNoIdentity),
    ("not_found", Notice::NotFound),
];

fn refusal_code(notice: Notice) -> &'static str {
    REFUSALS
        .iter()
        .find(|(_, n)| *n == notice)
        .map_or("passkey_failed", |(code, _)| code)
}

pub struct SessionRow {
    id: String,
    started: String,
    level: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a Text,
    v: &'a PortalView,
    done: Option<&'static str>,
    refused: Option<&'static str>,
    identities: Vec<IdentityRow>,
    linkable: Vec<MethodRow>,
    sessions: Vec<SessionRow>,
    consents: Vec<(String, String, String)>,
    history: Vec<(String, String, String, String)>,
    passkeys: Vec<PasskeyRow>,
}

/// UTC time, `YYYY-MM-DD HH:MM`.
fn when(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| {
            d.format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

fn method_name(state: &AppState, method: &str, language: Lang) -> String {
    let korean = language == Lang::Ko;
    let t = language.text();
    match state.upstream(method) {
        Some(u) => u.display_name(if korean { "ko" } else { "en" }).to_owned(),
        None => match method {
            anyid_adapters::dev::METHOD if korean => "데모 시민",
            anyid_adapters::dev::METHOD => "Demo citizen",
            anyid_adapters::passkey::METHOD => t.passkey_heading,
            anyid_adapters::certificate::METHOD => t.cert_heading,
            other => other,
        }
        .to_owned(),
    }
}

pub async fn get_account(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    let switch = lang_param(query.as_deref());
    let prefs = Prefs::from_request(&headers, switch.as_deref(), Some(uri.path().to_owned()));
    let Ok(current) = session::current(
        &state.provider(),
        cookie(&headers, cookie_name(state.secure_cookies())),
    )
    .await
    else {
        return pages::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Notice::ServerError,
            &prefs,
        );
    };
    let Some(current) = current else {
        return remember_lang(sign_in(&state, &headers, &prefs).await, switch.as_deref());
    };
    let params = extract::query(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let f = Frame::new(&prefs, None);
    let done = match params.get("done") {
        Some("linked") => Some(f.t.portal_linked),
        Some("unlinked") => Some(f.t.portal_unlinked),
        Some("revoked") => Some(f.t.portal_revoked),
        Some("passkey_added") => Some(f.t.portal_passkey_added),
        Some("passkey_renamed") => Some(f.t.portal_passkey_renamed),
        Some("passkey_removed") => Some(f.t.portal_passkey_removed),
        _ => None,
    };
    let refused = params.get("refused").and_then(|r| {
        REFUSALS
            .iter()
            .find(|(code, _)| *code == r)
            .map(|(_, notice)| notice.text(f.language))
    });
    let view = match portal::view(&state.broker(), &current).await {
        Ok(v) => v,
        Err(e) => return failure(e, &prefs),
    };
    remember_lang(render(&state, &f, &view, done, refused), switch.as_deref())
}

fn render(
    state: &AppState,
    f: &Frame,
    v: &PortalView,
    done: Option<&'static str>,
    refused: Option<&'static str>,
) -> Response {
    let korean = f.language == Lang::Ko;
    let clients: std::collections::HashMap<&str, &str> = v
        .consents
        .iter()
        .map(|c| (c.client_id.as_str(), c.client_name.as_str()))
        .collect();
    pages::render(&AccountPage {
        lang: f.lang,
        other_lang: f.other_lang,
        switch_url: &f.switch_url,
        t: f.t,
        v,
        done,
        refused,
        identities: v
            .identities
            .iter()
            .map(|i| IdentityRow {
                id: i.id.clone(),
                name: method_name(state, &i.method, f.language),
                level: f.t.level(i.proves().acr()),
                last_used: when(i.last_used_at),
            })
            .collect(),
        linkable: v
            .linkable
            .iter()
            .map(|m| MethodRow {
                id: m.id.clone(),
                name: if korean {
                    m.name_ko.clone()
                } else {
                    m.name_en.clone()
                },
                available: m.available,
                last: false,
            })
            .collect(),
        sessions: v
            .sessions
            .iter()
            .map(|s| SessionRow {
                id: s.id.clone(),
                started: when(s.auth_time),
                level: f.t.level(&s.acr),
                current: s.id == v.current_session,
            })
            .collect(),
        consents: v
            .consents
            .iter()
            .map(|c| {
                let items: Vec<String> =
                    f.t.released_items(&c.scopes)
                        .into_iter()
                        .map(|(heading, claims)| format!("{heading} ({claims})"))
                        .collect();
                (c.client_name.clone(), items.join("; "), c.client_id.clone())
            })
            .collect(),
        history: v
            .history
            .iter()
            .map(|h| {
                let service = h.client_id.as_deref().map(|c| {
                    clients
                        .get(c)
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| c.to_owned())
                });
                (
                    when(h.at),
                    method_name(state, &h.method, f.language),
                    service.unwrap_or_else(|| "Any-ID".into()),
                    h.address.clone().unwrap_or_else(|| f.t.portal_none.into()),
                )
            })
            .collect(),
        passkeys: v
            .passkeys
            .iter()
            .map(|p| PasskeyRow {
                id: p.id.clone(),
                name: p.name.clone(),
                level: f.t.level(&p.loa),
                storage: if p.backup_eligible {
                    f.t.portal_synced
                } else {
                    f.t.portal_device_bound
                },
                last_used: p
                    .last_used_at
                    .map_or_else(|| f.t.portal_never.to_owned(), when),
            })
            .collect(),
    })
}

/// No session: sign in to the portal through a login flow.
async fn sign_in(state: &AppState, headers: &HeaderMap, prefs: &Prefs) -> Response {
    let Some(browser) = BrowserBinding::read(state, headers) else {
        return pages::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Notice::ServerError,
            prefs,
        );
    };
    let mut response =
        match login::portal_sign_in(&state.broker(), &browser.token, prefs.switch.clone()).await {
            Ok(step) => pages::step(step, prefs),
            Err(e) => failure(e, prefs),
        };
    browser.keep(state, &mut response);
    response
}

/// A portal form from the signed-in citizen with the right CSRF token; otherwise the
/// response to send instead.
async fn signed_in_form(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    prefs: &Prefs,
) -> Result<(Params, SignedIn), Response> {
    let Ok(params) = extract::form(headers, body) else {
        return Err(incomplete(prefs));
    };
    let session = cookie(headers, cookie_name(state.secure_cookies()));
    match portal::signed_in(&state.broker(), session, params.get("csrf")).await {
        Ok(Ok(signed_in)) => Ok((params, signed_in)),
        Ok(Err(NotSignedIn::NoSession)) => Err(see_other(Redirect::to("/account").into_response())),
        Ok(Err(NotSignedIn::WrongForm)) => Err(pages::error(
            StatusCode::BAD_REQUEST,
            Notice::WrongBrowser,
            prefs,
        )),
        Err(e) => Err(failure(e, prefs)),
    }
}

/// A portal form: unlink, revoke a session or all, withdraw a consent.
pub async fn post_account_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let (params, current) = match signed_in_form(&state, &headers, &body, &prefs).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let (action, done) = if let Some(id) = params.get("unlink") {
        (Action::Unlink(id.to_owned()), "unlinked")
    } else if let Some(id) = params.get("rename_passkey") {
        let name = params.get("name").unwrap_or_default().to_owned();
        let id = id.to_owned();
        (Action::RenamePasskey { id, name }, "passkey_renamed")
    } else if let Some(id) = params.get("remove_passkey") {
        (Action::RemovePasskey(id.to_owned()), "passkey_removed")
    } else if let Some(id) = params.get("revoke_session") {
        (Action::RevokeSession(id.to_owned()), "revoked")
    } else if params.get("revoke_all").is_some() {
        (Action::RevokeAllSessions, "revoked")
    } else if let Some(client) = params.get("withdraw") {
        (Action::WithdrawConsent(client.to_owned()), "revoked")
    } else {
        return incomplete(&prefs);
    };
    let location = match portal::act(&state.broker(), &current, action).await {
        Ok(Ok(())) => format!("/account?done={done}"),
        Ok(Err(notice)) => format!("/account?refused={}", refusal_code(notice)),
        Err(e) => return failure(e, &prefs),
    };
    see_other(Redirect::to(&location).into_response())
}

/// A new passkey's answer (the page's script posts it with the form).
pub async fn post_account_passkey(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let (params, current) = match signed_in_form(&state, &headers, &body, &prefs).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some([ceremony, credential, name]) = params.all(["ceremony", "credential", "name"]) else {
        return incomplete(&prefs);
    };
    let location =
        match passkey::register(&state.broker(), &current, ceremony, credential, name).await {
            Ok(Ok(())) => "/account?done=passkey_added".to_owned(),
            Ok(Err(notice)) => format!("/account?refused={}", refusal_code(notice)),
            Err(e) => return failure(e, &prefs),
        };
    see_other(Redirect::to(&location).into_response())
}

/// Register a certificate: its signature over the portal's challenge.
pub async fn post_account_certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let (params, current) = match signed_in_form(&state, &headers, &body, &prefs).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    let Some([challenge, signature]) = params.all(["challenge", "signature"]) else {
        return incomplete(&prefs);
    };
    let linked = certificate::link_signed(&state.broker(), &current, challenge, signature).await;
    let location = match linked {
        Ok(Ok(())) => "/account?done=linked".to_owned(),
        Ok(Err(notice)) => format!("/account?refused={}", refusal_code(notice)),
        Err(e) => return failure(e, &prefs),
    };
    see_other(Redirect::to(&location).into_response())
}

/// Link another method: start it for the signed-in citizen.
pub async fn post_account_link(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let (_, current) = match signed_in_form(&state, &headers, &body, &prefs).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    match upstream::begin_link(&state.broker(), &provider, &current).await {
        Ok(step) => see_other(pages::step(step, &prefs)),
        Err(e) => failure(e, &prefs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_code_names_one_notice() {
        for (code, notice) in REFUSALS {
            assert_eq!(refusal_code(notice), code);
        }
    }
}
