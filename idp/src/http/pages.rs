//! Server-rendered pages (askama, auto-escaped). JavaScript is not used on these pages.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use anyid_adapters::dev::{CITIZENS, DemoCitizen};

use crate::login::consent::ConsentView;
use crate::login::{LoginView, Step};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    lang: &'a str,
    flow_id: &'a str,
    csrf: &'a str,
    client_name: &'a str,
    dev_login: bool,
    citizens: &'a [DemoCitizen],
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    lang: &'a str,
    flow_id: &'a str,
    csrf: &'a str,
    client_name: &'a str,
    items: &'a [&'static str],
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    lang: &'a str,
    title: &'a str,
    detail: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    lang: &'a str,
    title: &'a str,
    detail: &'a str,
}

#[derive(Template)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage<'a> {
    pub lang: &'a str,
    pub csrf: &'a str,
    pub params: &'a [(String, String)],
}

const LANG: &str = "en";

pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(cause = %e, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn step(step: Step) -> Response {
    match step {
        Step::Redirect(location) => Redirect::to(&location).into_response(),
        Step::LoginPage(view) => login(&view),
        Step::ConsentPage(view) => consent(&view),
        Step::ErrorPage { detail } => error(
            StatusCode::BAD_REQUEST,
            "Sign-in could not continue",
            detail,
        ),
    }
}

fn login(v: &LoginView) -> Response {
    render(&LoginPage {
        lang: LANG,
        flow_id: &v.flow_id,
        csrf: &v.csrf,
        client_name: &v.client_name,
        dev_login: v.dev_login,
        citizens: &CITIZENS,
    })
}

fn consent(v: &ConsentView) -> Response {
    render(&ConsentPage {
        lang: LANG,
        flow_id: &v.flow_id,
        csrf: &v.csrf,
        client_name: &v.client_name,
        items: &v.items,
    })
}

pub fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    let mut response = render(&ErrorPage {
        lang: LANG,
        title,
        detail,
    });
    *response.status_mut() = status;
    response
}

pub fn message(title: &str, detail: &str) -> Response {
    render(&MessagePage {
        lang: LANG,
        title,
        detail,
    })
}

pub fn lang() -> &'static str {
    LANG
}

pub async fn get_home() -> Response {
    message(
        "Any-ID",
        "Any-ID signs citizens in to public services with the credentials they already have. \
         Services send you here when you sign in.",
    )
}

pub async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address.",
    )
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
