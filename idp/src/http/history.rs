//! `/account/history` and `/account/history.csv`: who used the signed-in citizen's data
//! (`login::history`), for a period and a kind of entry, as a page or a download.

use askama::Template;
use axum::extract::{OriginalUri, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::authorize::{failure, see_other};
use super::extract;
use super::pages::{self, Frame, Prefs, lang_param, remember_lang};
use crate::i18n::{Lang, Notice, Text};
use crate::login::history::{self, Entry, MAX_ENTRIES, Show};
use crate::login::portal;
use crate::state::AppState;

/// The period shown when none is asked for: the last year.
const DEFAULT_DAYS: i64 = 365;
const DAY_S: i64 = 86_400;

#[derive(Template)]
#[template(path = "history.html")]
struct HistoryPage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a Text,
    from: String,
    to: String,
    /// (code, label, selected)
    shows: Vec<(&'static str, &'static str, bool)>,
    csv_url: String,
    bad_period: bool,
    limited: bool,
    zone: String,
    /// (when, who, what, explanation)
    rows: Vec<(String, String, String, String)>,
}

/// What the query asks for, read leniently: unreadable dates fall back to the last year
/// (and the page says so).
struct Asked {
    from: String,
    to: String,
    period: std::ops::Range<i64>,
    show: Show,
    bad_period: bool,
}

fn asked(state: &AppState, query: Option<&str>) -> Asked {
    let params = extract::query(query.unwrap_or_default()).unwrap_or_default();
    let zone = state.local_times();
    let today = zone.day(state.clock.now());
    let default_from = zone.day(state.clock.now() - DEFAULT_DAYS * DAY_S);
    let from = params.get("from").filter(|d| !d.is_empty());
    let to = params.get("to").filter(|d| !d.is_empty());
    let from = from.unwrap_or(&default_from).to_owned();
    let to = to.unwrap_or(&today).to_owned();
    let show = params.get("show").and_then(Show::parse).unwrap_or_default();
    match (zone.day_start(&from), zone.day_start(&to)) {
        (Some(start), Some(end)) if start <= end => Asked {
            // Written back as read, whatever spacing came in.
            from: zone.day(start),
            to: zone.day(end),
            // The last day counts whole.
            period: start * 1000..(end + DAY_S) * 1000,
            show,
            bad_period: false,
        },
        _ => {
            let start = zone.day_start(&default_from).unwrap_or_default();
            let end = zone.day_start(&today).unwrap_or_default() + DAY_S;
            Asked {
                from: default_from,
                to: today,
                period: start * 1000..end * 1000,
                show,
                bad_period: true,
            }
        }
    }
}

/// The entries asked for, or the response to give instead (sign in first, refused).
async fn entries(
    state: &AppState,
    headers: &HeaderMap,
    prefs: &Prefs,
    asked: &Asked,
    lang: Lang,
) -> Result<Vec<Entry>, Response> {
    let current = super::portal::current_session(state, headers)
        .await
        .map_err(|e| failure(e, prefs))?;
    let Some(current) = current else {
        return Err(see_other(Redirect::to("/account").into_response()));
    };
    if !portal::permitted(&state.broker(), &current) {
        return Err(pages::error(
            StatusCode::FORBIDDEN,
            Notice::PolicyRefused,
            prefs,
        ));
    }
    history::entries(
        &state.broker(),
        &current.citizen_id,
        asked.period.clone(),
        asked.show,
        state.config.audit.history_names_officials,
        lang,
    )
    .await
    .map_err(|e| failure(e, prefs))
}

fn when(state: &AppState, e: &Entry) -> String {
    state.local_times().format(e.at_ms.div_euclid(1000))
}

fn who(e: &Entry) -> String {
    match &e.agency {
        Some(agency) => format!("{} ({agency})", e.who),
        None => e.who.clone(),
    }
}

pub async fn get_history(
    State(state): State<AppState>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    let switch = lang_param(query.as_deref());
    let prefs = Prefs::from_request(&headers, switch.as_deref(), Some(uri.path().to_owned()));
    let f = Frame::new(&prefs, None);
    let asked = asked(&state, query.as_deref());
    let entries = match entries(&state, &headers, &prefs, &asked, f.language).await {
        Ok(entries) => entries,
        Err(response) => return response,
    };
    let csv_query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("from", &asked.from)
        .append_pair("to", &asked.to)
        .append_pair("show", asked.show.code())
        .append_pair("lang", f.lang)
        .finish();
    let page = HistoryPage {
        lang: f.lang,
        other_lang: f.other_lang,
        switch_url: &f.switch_url,
        t: f.t,
        shows: Show::ALL
            .into_iter()
            .map(|s| (s.code(), show_label(f.t, s), s == asked.show))
            .collect(),
        csv_url: format!("/account/history.csv?{csv_query}"),
        bad_period: asked.bad_period,
        limited: entries.len() >= MAX_ENTRIES as usize,
        zone: state.local_times().zone(),
        rows: entries
            .iter()
            .map(|e| {
                let what = if e.details.is_empty() {
                    e.action.clone()
                } else {
                    format!("{}: {}", e.action, e.details)
                };
                (when(&state, e), who(e), what, e.explanation.clone())
            })
            .collect(),
        from: asked.from,
        to: asked.to,
    };
    remember_lang(
        pages::render(&page),
        switch.as_deref(),
        state.secure_cookies(),
    )
}

fn show_label(t: &Text, show: Show) -> &'static str {
    match show {
        Show::All => t.history_show_all,
        Show::Logins => t.history_show_logins,
        Show::Releases => t.history_show_releases,
        Show::Officials => t.history_show_officials,
    }
}

/// The same entries as CSV (RFC 4180), headed in the page's language.
pub async fn get_history_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let switch = lang_param(query.as_deref());
    let prefs = Prefs::from_request(&headers, switch.as_deref(), None);
    let f = Frame::new(&prefs, None);
    let asked = asked(&state, query.as_deref());
    let entries = match entries(&state, &headers, &prefs, &asked, f.language).await {
        Ok(entries) => entries,
        Err(response) => return response,
    };
    let t = f.t;
    let mut out = csv::Writer::from_writer(Vec::new());
    let zone = state.local_times().zone();
    let when_heading = format!("{} ({zone})", t.portal_when);
    let heading = [
        when_heading.as_str(),
        t.history_who,
        t.history_agency,
        t.portal_service,
        t.history_what,
        t.history_details,
        t.history_purpose,
        t.history_explanation,
    ];
    let mut written = out.write_record(heading);
    for e in &entries {
        if written.is_err() {
            break;
        }
        written = out.write_record([
            when(&state, e).as_str(),
            &e.who,
            e.agency.as_deref().unwrap_or_default(),
            e.service.as_deref().unwrap_or_default(),
            &e.action,
            &e.details,
            e.purpose.as_deref().unwrap_or_default(),
            &e.explanation,
        ]);
    }
    let body = match (written, out.into_inner()) {
        (Ok(()), Ok(body)) => body,
        _ => {
            return pages::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                Notice::ServerError,
                &prefs,
            );
        }
    };
    let disposition = format!(
        "attachment; filename=\"anyid-history-{}-{}.csv\"",
        asked.from, asked.to
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response()
}
