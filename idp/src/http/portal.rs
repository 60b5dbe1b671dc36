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
const REFUSALS: [(&str, Notice); 22] = [
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
    ("sign_in_again", Notice::SignInAgain),
    ("delete_needs_high", Notice::DeleteNeedsHigh),
];

fn refusal_code(notice: Notice) -> &'static str {
    REFUSALS
        .iter()
        .find(|(_, n)| *n == notice)
        .map_or("passkey_failed", |(code, _)| code)
}

/// One released detail on the portal: what it is, its value, which methods verified it.
pub struct DetailRow {
    label: &'static str,
    value: String,
    sources: String,
}

/// A unit whose value the citizen may take from one of several linked methods.
pub struct SourceChoice {
    unit: &'static str,
    label: &'static str,
    /// (identity id, method name and its value, chosen now)
    options: Vec<(String, String, bool)>,
}

/// What a consent to `scopes` releases, in one line.
fn released(f: &Frame, scopes: &[String]) -> String {
    let items: Vec<String> =
        f.t.released_items(scopes)
            .into_iter()
            .map(|(heading, claims)| format!("{heading} ({claims})"))
            .collect();
    items.join("; ")
}

/// A sign-in history row: when, how, to which service (by name where known), from where.
fn history_row(
    state: &AppState,
    f: &Frame,
    h: &crate::store::LoginEvent,
    names: &std::collections::HashMap<&str, &str>,
) -> (String, String, String, String) {
    let service = h.client_id.as_deref().map_or_else(
        || "Any-ID".to_owned(),
        |c| {
            names
                .get(c)
                .map_or_else(|| c.to_owned(), |n| (*n).to_owned())
        },
    );
    (
        state.local_times().format(h.at),
        method_name(state, &h.method, f.language),
        service,
        h.address.clone().unwrap_or_else(|| f.t.portal_none.into()),
    )
}

/// The signed-in citizen's live session, if the browser holds one.
pub(super) async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<crate::store::SsoSession>, crate::error::OAuthError> {
    let token = cookie(headers, cookie_name(state.secure_cookies()));
    session::current(&state.provider(), token).await
}

/// A claim value in plain text: strings as they are, a postal address by its parts.
fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(parts) => parts
            .get("formatted")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let parts: Vec<&str> = parts.values().filter_map(|v| v.as_str()).collect();
                parts.join(", ")
            }),
        other => other.to_string(),
    }
}

/// The released details with their sources, in the order of the claim table, and the
/// choices the citizen has (a unit verified by two or more methods).
fn details(state: &AppState, f: &Frame, v: &PortalView) -> (Vec<DetailRow>, Vec<SourceChoice>) {
    let name_of = |i: &crate::store::LinkedIdentity| method_name(state, &i.method, f.language);
    let mut rows = Vec::new();
    for (claim, label) in f.t.claim_labels {
        let Some(value) = v.profile.get(*claim) else {
            continue;
        };
        if claim.ends_with("_verified") {
            continue;
        }
        let mut value = shown(value);
        let flag = format!("{claim}_verified");
        if v.profile.get(&flag) == Some(&serde_json::Value::Bool(true)) {
            value.push_str(&format!(" ({})", f.t.claim(&flag).unwrap_or_default()));
        }
        let sources: Vec<String> = v
            .identities
            .iter()
            .filter(|i| i.claims.get(*claim) == v.profile.get(*claim))
            .map(name_of)
            .collect();
        rows.push(DetailRow {
            label,
            value,
            sources: sources.join(", "),
        });
    }
    let choices = login::profile::UNITS
        .iter()
        .filter_map(|(unit, claims)| {
            let main = claims[0];
            let options: Vec<(String, String, bool)> = v
                .identities
                .iter()
                .filter_map(|i| {
                    let value = i.claims.get(main)?;
                    let chosen = v.sources.get(*unit).and_then(|s| s.as_str()) == Some(&i.id)
                        || (v.sources.get(*unit).is_none() && v.profile.get(main) == Some(value));
                    Some((
                        i.id.clone(),
                        format!("{}: {}", name_of(i), shown(value)),
                        chosen,
                    ))
                })
                .collect();
            (options.len() > 1).then(|| SourceChoice {
                unit,
                label: f.t.claim(main).unwrap_or(main),
                options,
            })
        })
        .collect();
    (rows, choices)
}

pub struct SessionRow {
    id: String,
    started: String,
    level: &'static str,
    risk: String,
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
    details: Vec<DetailRow>,
    choices: Vec<SourceChoice>,
    suspended_since: Option<String>,
    /// The time zone times are shown in.
    zone: String,
}

#[derive(Template)]
#[template(path = "export.html")]
struct ExportPage<'a> {
    lang: &'a str,
    t: &'a Text,
    generated: String,
    details: Vec<DetailRow>,
    methods: Vec<(String, String, String, String, String)>,
    consents: Vec<(String, String, String)>,
    sessions: Vec<(String, String, String)>,
    passkeys: Vec<(String, String, String, String)>,
    history: Vec<(String, String, String, String)>,
    json: String,
    zone: String,
}

/// The download a person reads: the same facts as the JSON, as a page of tables, with the
/// JSON itself at the end.
fn readable_export(state: &AppState, f: &Frame, export: &login::rights::Export) -> Option<String> {
    let names: std::collections::HashMap<&str, &str> = export
        .consents
        .iter()
        .map(|c| (c.client_id.as_str(), c.service.as_str()))
        .collect();
    let identities: Vec<crate::store::LinkedIdentity> = export
        .sign_in_methods
        .iter()
        .map(|m| crate::store::LinkedIdentity {
            id: m.id.clone(),
            method: m.method.clone(),
            issuer: m.issuer.clone(),
            loa: m.level.clone(),
            vouched_loa: m.vouched_level.clone(),
            claims: m.verified_claims.clone(),
            created_at: m.linked_at,
            last_used_at: m.last_used_at,
        })
        .collect();
    let view = PortalView {
        profile: export.profile.clone(),
        sources: export.profile_sources.clone(),
        identities,
        ..PortalView::empty()
    };
    let (details, _) = details(state, f, &view);
    let page = ExportPage {
        lang: f.lang,
        t: f.t,
        generated: state.local_times().format(export.generated_at),
        details,
        methods: export
            .sign_in_methods
            .iter()
            .map(|m| {
                let claims: Vec<String> = m
                    .verified_claims
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| format!("{}: {}", f.t.claim(k).unwrap_or(k), shown(v)))
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    method_name(state, &m.method, f.language),
                    f.t.level(&m.vouched_level).to_owned(),
                    state.local_times().format(m.linked_at),
                    state.local_times().format(m.last_used_at),
                    claims.join("; "),
                )
            })
            .collect(),
        consents: export
            .consents
            .iter()
            .map(|c| {
                (
                    c.service.clone(),
                    released(f, &c.scopes),
                    state.local_times().format(c.granted_at),
                )
            })
            .collect(),
        sessions: export
            .sessions
            .iter()
            .map(|s| {
                (
                    state.local_times().format(s.signed_in_at),
                    state.local_times().format(s.expires_at),
                    f.t.level(&s.level).to_owned(),
                )
            })
            .collect(),
        passkeys: export
            .passkeys
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    f.t.level(&p.level).to_owned(),
                    state.local_times().format(p.registered_at),
                    p.last_used_at.map_or_else(
                        || f.t.portal_never.to_owned(),
                        |t| state.local_times().format(t),
                    ),
                )
            })
            .collect(),
        history: export
            .sign_in_history
            .iter()
            .map(|h| history_row(state, f, h, &names))
            .collect(),
        json: serde_json::to_string_pretty(export).ok()?,
        zone: state.local_times().zone(),
    };
    page.render().ok()
}

fn method_name(state: &AppState, method: &str, language: Lang) -> String {
    state.broker().method_name(method, language)
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
        return remember_lang(
            sign_in(&state, &headers, &prefs).await,
            switch.as_deref(),
            state.secure_cookies(),
        );
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
        Some("chosen") => Some(f.t.portal_chosen),
        Some("suspended") => Some(f.t.portal_suspended_done),
        Some("resumed") => Some(f.t.portal_resumed),
        _ => None,
    };
    let refused = params.get("refused").and_then(|r| {
        REFUSALS
            .iter()
            .find(|(code, _)| *code == r)
            .map(|(_, notice)| notice.text(f.language))
    });
    if !portal::permitted(&state.broker(), &current) {
        return pages::error(StatusCode::FORBIDDEN, Notice::PolicyRefused, &prefs);
    }
    let view = match portal::view(&state.broker(), &current).await {
        Ok(v) => v,
        Err(e) => return failure(e, &prefs),
    };
    remember_lang(
        render(&state, &f, &view, done, refused),
        switch.as_deref(),
        state.secure_cookies(),
    )
}

fn render(
    state: &AppState,
    f: &Frame,
    v: &PortalView,
    done: Option<&'static str>,
    refused: Option<&'static str>,
) -> Response {
    let korean = f.language == Lang::Ko;
    let (details, choices) = details(state, f, v);
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
        details,
        choices,
        suspended_since: v.suspended_at.map(|t| state.local_times().format(t)),
        zone: state.local_times().zone(),
        identities: v
            .identities
            .iter()
            .map(|i| IdentityRow {
                id: i.id.clone(),
                name: method_name(state, &i.method, f.language),
                level: f.t.level(i.proves().acr()),
                last_used: state.local_times().format(i.last_used_at),
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
                started: state.local_times().format(s.auth_time),
                level: f.t.level(&s.acr),
                risk: v
                    .session_risks
                    .get(&s.id)
                    .map_or_else(|| f.t.risk(0, &[]), |(score, why)| f.t.risk(*score, why)),
                current: s.id == v.current_session,
            })
            .collect(),
        consents: v
            .consents
            .iter()
            .map(|c| {
                let items = released(f, &c.scopes);
                (c.client_name.clone(), items, c.client_id.clone())
            })
            .collect(),
        history: v
            .history
            .iter()
            .map(|h| history_row(state, f, h, &clients))
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
                last_used: p.last_used_at.map_or_else(
                    || f.t.portal_never.to_owned(),
                    |t| state.local_times().format(t),
                ),
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
        Ok(Err(NotSignedIn::NotAllowed)) => Err(pages::error(
            StatusCode::FORBIDDEN,
            Notice::PolicyRefused,
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
    } else if let Some((unit, identity)) = login::profile::UNITS
        .iter()
        .find_map(|(unit, _)| Some((*unit, params.get(&format!("source_{unit}"))?)))
    {
        let (unit, identity) = (unit.to_owned(), identity.to_owned());
        (Action::ChooseSource { unit, identity }, "chosen")
    } else if params.get("suspend").is_some() {
        (Action::Suspend, "suspended")
    } else if params.get("resume").is_some() {
        (Action::Resume, "resumed")
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

/// Delete the account (`login::rights::delete`): the form must say the citizen understood
/// that it cannot be undone; the session must be a recent high-assurance one.
pub async fn post_account_delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let (params, current) = match signed_in_form(&state, &headers, &body, &prefs).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    if params.get("understood") != Some("yes") {
        return incomplete(&prefs);
    }
    match login::rights::delete(&state.broker(), current.session()).await {
        Ok(Ok(())) => {
            let mut response = pages::message(&prefs, |t| t.deleted_title, |t| t.deleted_body);
            extract::sign_out_browser(&mut response, state.secure_cookies());
            response
        }
        Ok(Err(_)) => see_other(
            Redirect::to(&format!(
                "/account?refused={}",
                refusal_code(Notice::DeleteNeedsHigh)
            ))
            .into_response(),
        ),
        Err(e) => failure(e, &prefs),
    }
}

/// `GET /account/confirm?for=delete|resume`: sign in again for a right that needs it.
pub async fn get_account_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let params = extract::query(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let need = match params.get("for") {
        Some("delete") => anyid_policy::Loa::High,
        Some("resume") => anyid_policy::Loa::Low,
        _ => return incomplete(&prefs),
    };
    let current = match current_session(&state, &headers).await {
        Ok(Some(current)) => current,
        Ok(None) => return see_other(Redirect::to("/account").into_response()),
        Err(e) => return failure(e, &prefs),
    };
    let Some(browser) = BrowserBinding::read(&state, &headers) else {
        return pages::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            Notice::ServerError,
            &prefs,
        );
    };
    let step = login::portal_confirm(
        &state.broker(),
        &browser.token,
        &current,
        need,
        prefs.switch.clone(),
    )
    .await;
    let mut response = match step {
        Ok(step) => pages::step(step, &prefs),
        Err(e) => failure(e, &prefs),
    };
    browser.keep(&state, &mut response);
    response
}

/// `GET /account/export.json` and `/account/export.html`: everything held about the
/// signed-in citizen, to keep (`login::rights::export`).
pub async fn get_account_export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let prefs = Prefs::from_request(&headers, None, None);
    let current = match current_session(&state, &headers).await {
        Ok(Some(current)) => current,
        Ok(None) => return see_other(Redirect::to("/account").into_response()),
        Err(e) => return failure(e, &prefs),
    };
    let export = match login::rights::export(&state.broker(), &current.citizen_id).await {
        Ok(Some(export)) => export,
        Ok(None) => return see_other(Redirect::to("/account").into_response()),
        Err(e) => return failure(e, &prefs),
    };
    let (body, content_type) = match file.as_str() {
        "export.json" => match serde_json::to_vec_pretty(&export) {
            Ok(body) => (body, "application/json"),
            Err(_) => {
                return pages::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Notice::ServerError,
                    &prefs,
                );
            }
        },
        "export.html" => {
            let f = Frame::new(&prefs, None);
            match readable_export(&state, &f, &export) {
                Some(html) => (html.into_bytes(), "text/html; charset=utf-8"),
                None => {
                    return pages::error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Notice::ServerError,
                        &prefs,
                    );
                }
            }
        }
        _ => return pages::error(StatusCode::NOT_FOUND, Notice::NotFound, &prefs),
    };
    let disposition = format!("attachment; filename=\"anyid-my-data.{}\"", &file[7..]);
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            (axum::http::header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
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
