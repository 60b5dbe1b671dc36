//! Server-rendered pages (askama, auto-escaped) in Korean and English. JavaScript is not used
//! on these pages. The language is negotiated per request (see `i18n`).

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use anyid_adapters::dev::CITIZENS;

use super::extract::cookie;
use crate::i18n::{Lang, Notice, Text};
use crate::login::certificate::CertificateOffer;
use crate::login::consent::{ConsentView, SharedIdentifier};
use crate::login::passkey::PasskeyOffer;
use crate::login::{LoginView, Step, WaysBack};
use crate::oidc::authorize::append_query;

/// Cookie remembering the citizen's language choice.
pub const LANG_COOKIE: &str = "anyid_lang";
/// Cookie remembering the last login method used on this device.
pub const LAST_METHOD_COOKIE: &str = "anyid_last_method";

/// What the request says about language, and where the language switch should point.
#[derive(Debug, Clone, Default)]
pub struct Prefs {
    pub switch: Option<String>,
    pub remembered: Option<String>,
    pub accept: Option<String>,
    pub last_method: Option<String>,
    /// The current page (GET) for the switch link; without it the switch goes home.
    pub here: Option<String>,
}

impl Prefs {
    pub fn from_request(headers: &HeaderMap, switch: Option<&str>, here: Option<String>) -> Self {
        Self {
            switch: switch.map(str::to_owned),
            remembered: cookie(headers, LANG_COOKIE).map(str::to_owned),
            accept: headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            last_method: cookie(headers, LAST_METHOD_COOKIE).map(str::to_owned),
            here,
        }
    }

    pub fn lang(&self, ui_locales: Option<&str>) -> Lang {
        Lang::negotiate(
            self.switch.as_deref(),
            ui_locales,
            self.remembered.as_deref(),
            self.accept.as_deref(),
        )
    }

    fn switch_url(&self, lang: Lang) -> String {
        let base = self.here.clone().unwrap_or_else(|| "/".into());
        let other = lang.other().code();
        match url::Url::parse(&format!("http://x{base}")) {
            Ok(mut url) => {
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != "lang")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                url.query_pairs_mut()
                    .clear()
                    .extend_pairs(kept)
                    .append_pair("lang", other);
                format!("{}?{}", url.path(), url.query().unwrap_or_default())
            }
            Err(_) => append_query("/", &[("lang", other)]),
        }
    }
}

/// The frame every page shares.
pub struct Frame {
    pub language: Lang,
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub switch_url: String,
    pub t: &'static Text,
}

impl Frame {
    pub fn new(prefs: &Prefs, ui_locales: Option<&str>) -> Self {
        let lang = prefs.lang(ui_locales);
        Self {
            language: lang,
            lang: lang.code(),
            other_lang: lang.other().code(),
            switch_url: prefs.switch_url(lang),
            t: lang.text(),
        }
    }
}

pub struct MethodRow {
    pub id: String,
    pub name: String,
    pub available: bool,
    pub last: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a Text,
    flow_id: &'a str,
    csrf: &'a str,
    client_name: &'a str,
    dev_login: bool,
    methods: Vec<MethodRow>,
    citizens: Vec<(&'static str, &'static str)>,
    /// The required assurance level's name, on a step-up.
    step_up_level: Option<&'static str>,
    stepping_up_as: Option<&'a str>,
    passkey: Option<&'a PasskeyOffer>,
    certificate: Option<&'a CertificateOffer>,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a Text,
    flow_id: &'a str,
    csrf: &'a str,
    client_name: &'a str,
    agency: Option<&'a str>,
    purpose: Option<&'a str>,
    retention: Option<&'a str>,
    policy_uri: Option<&'a str>,
    /// The identifier and sign-in facts every ID token carries (`openid`).
    identity_lines: Vec<String>,
    items: Vec<(&'static str, String)>,
    offline: bool,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a Text,
    title: &'a str,
    detail: &'a str,
    ways: Option<WaysBack>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    lang: &'a str,
    other_lang: &'a str,
    switch_url: &'a str,
    t: &'a Text,
    title: &'a str,
    detail: &'a str,
}

pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(cause = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn step(step: Step, prefs: &Prefs) -> Response {
    match step {
        Step::Redirect(location) => Redirect::to(&location).into_response(),
        Step::LoginPage(view) => login(&view, prefs),
        Step::ConsentPage(view) => consent(&view, prefs),
        Step::ErrorPage { notice, ways } => {
            error_with(StatusCode::BAD_REQUEST, notice, ways, prefs)
        }
        Step::Throttled { wait, ways } => super::respond::too_many_requests(
            wait,
            error_with(
                StatusCode::TOO_MANY_REQUESTS,
                Notice::TooManyAttempts,
                ways,
                prefs,
            ),
        ),
    }
}

fn login(v: &LoginView, prefs: &Prefs) -> Response {
    let f = Frame::new(prefs, v.ui_locales.as_deref());
    let korean = f.language == Lang::Ko;
    let mut methods: Vec<MethodRow> = v
        .methods
        .iter()
        .map(|m| MethodRow {
            id: m.id.clone(),
            name: if korean {
                m.name_ko.clone()
            } else {
                m.name_en.clone()
            },
            available: m.available,
            last: prefs.last_method.as_deref() == Some(m.id.as_str()),
        })
        .collect();
    // The method used last on this device comes first.
    methods.sort_by_key(|m| !m.last);
    let citizens = CITIZENS
        .iter()
        .map(|c| (c.key, if korean { c.name } else { c.name_en }))
        .collect();
    render(&LoginPage {
        lang: f.lang,
        other_lang: f.other_lang,
        switch_url: &f.switch_url,
        t: f.t,
        flow_id: &v.flow_id,
        csrf: &v.csrf,
        client_name: &v.client_name,
        dev_login: v.dev_login,
        methods,
        citizens,
        step_up_level: v.required_acr.as_deref().map(|acr| f.t.level(acr)),
        stepping_up_as: v.stepping_up_as.as_deref(),
        passkey: v.passkey.as_ref(),
        certificate: v.certificate.as_ref(),
    })
}

fn consent(v: &ConsentView, prefs: &Prefs) -> Response {
    let f = Frame::new(prefs, v.ui_locales.as_deref());
    render(&ConsentPage {
        lang: f.lang,
        other_lang: f.other_lang,
        switch_url: &f.switch_url,
        t: f.t,
        flow_id: &v.flow_id,
        csrf: &v.csrf,
        client_name: &v.client_name,
        agency: v.agency.as_deref(),
        purpose: v.notice.purpose.as_deref(),
        retention: v.notice.retention.as_deref(),
        policy_uri: v.notice.policy_uri.as_deref(),
        identity_lines: vec![
            match &v.identifier {
                SharedIdentifier::Own => f.t.subject_own.to_owned(),
                SharedIdentifier::Sector(sector) => format!("{} {sector}", f.t.subject_sector),
                SharedIdentifier::Public => f.t.subject_public.to_owned(),
            },
            f.t.sign_in_facts.to_owned(),
        ],
        items: f.t.released_items(&v.scopes),
        offline: v.scopes.iter().any(|s| s == "offline_access"),
    })
}

pub fn error_with(
    status: StatusCode,
    notice: Notice,
    ways: Option<WaysBack>,
    prefs: &Prefs,
) -> Response {
    let f = Frame::new(prefs, None);
    let mut response = render(&ErrorPage {
        lang: f.lang,
        other_lang: f.other_lang,
        switch_url: &f.switch_url,
        t: f.t,
        title: f.t.error_title,
        detail: notice.text(f.language),
        ways,
    });
    *response.status_mut() = status;
    response
}

pub fn error(status: StatusCode, notice: Notice, prefs: &Prefs) -> Response {
    error_with(status, notice, None, prefs)
}

pub fn message(
    prefs: &Prefs,
    title: impl Fn(&Text) -> &'static str,
    detail: impl Fn(&Text) -> &'static str,
) -> Response {
    let f = Frame::new(prefs, None);
    render(&MessagePage {
        lang: f.lang,
        other_lang: f.other_lang,
        switch_url: &f.switch_url,
        t: f.t,
        title: title(f.t),
        detail: detail(f.t),
    })
}

pub async fn get_home(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let switch = lang_param(query.as_deref());
    let prefs = Prefs::from_request(&headers, switch.as_deref(), Some("/".into()));
    remember_lang(
        message(&prefs, |t| t.home_title, |t| t.home_body),
        switch.as_deref(),
        state.secure_cookies(),
    )
}

pub async fn not_found(headers: HeaderMap) -> Response {
    error(
        StatusCode::NOT_FOUND,
        Notice::NotFound,
        &Prefs::from_request(&headers, None, None),
    )
}

/// The `lang` switch parameter of a query string.
pub fn lang_param(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "lang")
        .map(|(_, v)| v.into_owned())
        .filter(|v| Lang::parse(v).is_some())
}

/// How long an explicit language choice is remembered on the device: a year.
const LANG_MAX_AGE_S: i64 = 365 * 24 * 3600;

/// Remember an explicit language choice on the device (`Secure` over https, like every
/// cookie of Any-ID; no script reads it).
pub fn remember_lang(mut response: Response, switch: Option<&str>, secure: bool) -> Response {
    if let Some(lang) = switch.and_then(Lang::parse)
        && let Ok(value) =
            super::extract::set_cookie(LANG_COOKIE, lang.code(), secure, Some(LANG_MAX_AGE_S))
                .parse()
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn get_passkey_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/passkey.js"),
    )
        .into_response()
}

pub async fn get_stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/anyid.css"),
    )
        .into_response()
}
