//! Real upstream providers on loopback for brokered-login tests: a Kakao-like OpenID
//! provider (also Apple-like with `form_post`), a Naver-like OAuth 2 provider with a profile
//! API, and a browser step that follows their authorization pages. Each peer runs an axum
//! server on `127.0.0.1:0`, is steered at runtime through its handle (a [`Behaviour`] for each
//! failure), and builds the `UpstreamConfig` that points Any-ID at it.

pub mod keys;
pub mod naver;
pub mod oidc;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyid_adapters::Callback;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use url::Url;

pub use naver::FakeNaver;
pub use oidc::FakeOidcProvider;

/// How a peer answers, set at runtime with `set_behaviour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// As a consenting person and a healthy provider would.
    #[default]
    Normal,
    /// The authorization answer is `error=access_denied` (the person declined).
    ErrorResponse,
    /// The authorization answer echoes another `state`.
    WrongState,
    /// The ID token carries another nonce.
    WrongNonce,
    /// The ID token is signed by a stranger's key under the published `kid`.
    BadSignature,
    /// The ID token is signed with a key whose `kid` is never published.
    UnknownKid,
    /// The ID token is for another client.
    WrongAudience,
    /// The ID token expired half an hour ago.
    Expired,
    /// The token endpoint answers 500.
    TokenServerError,
    /// The token endpoint answers this status with an HTML page, as a front end in front of
    /// the provider does (429 Too Many Requests, a 400 or a 503 page), not JSON.
    TokenPage(u16),
    /// The token endpoint answers after [`SLOW`], longer than any adapter waits.
    Slow,
    /// Naver-like: the profile API answers `resultcode` "024".
    BadResultCode,
}

/// How long a [`Behaviour::Slow`] peer takes.
pub const SLOW: Duration = Duration::from_secs(8);

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub(crate) fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// An HTML error page with `status` (a front end's answer, not the provider's JSON).
pub(crate) fn page(status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        Html(format!(
            "<!doctype html><title>{status}</title><h1>{status}</h1>"
        )),
    )
        .into_response()
}

/// A 302 to `location` (what a browser follows on an authorization answer).
pub(crate) fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

pub(crate) fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// `redirect_uri` with the answer's parameters appended.
pub(crate) fn with_query(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            url.into()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

fn attr(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;")
}

/// OAuth 2.0 Form Post Response Mode §2: a page that posts the answer to the client.
pub(crate) fn form_post(action: &str, fields: &[(&str, &str)]) -> Response {
    let inputs: String = fields
        .iter()
        .map(|(n, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                attr(n),
                attr(v)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html>\n<html><head><title>Submit This Form</title></head>\n\
         <body onload=\"javascript:document.forms[0].submit()\">\n\
         <form method=\"post\" action=\"{}\">\n{inputs}<noscript><button type=\"submit\">Continue</button></noscript>\n\
         </form>\n<script>document.forms[0].submit()</script>\n</body></html>\n",
        attr(action)
    ))
    .into_response()
}

/// The client credentials of a token request: HTTP Basic (RFC 6749 §2.3.1, form-encoded
/// inside) or the request body.
pub(crate) fn client_credentials(
    headers: &HeaderMap,
    form: &std::collections::HashMap<String, String>,
) -> Option<(String, String)> {
    use base64::Engine;
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .ok()?;
        let raw = String::from_utf8(raw).ok()?;
        let (id, secret) = raw.split_once(':')?;
        let dec = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Some((dec(id), dec(secret)));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_owned)
}

/// The browser's part: open an upstream authorization URL and come back with what it sends
/// to the callback — the query of its 302, or the fields of its `form_post` page.
pub async fn follow_authorize(url: &str) -> anyhow::Result<Callback> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = http.get(url).send().await?;
    let pairs: Vec<(String, String)> = if response.status() == reqwest::StatusCode::FOUND {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| anyhow::anyhow!("a redirect without a location"))?;
        Url::parse(location)?.query_pairs().into_owned().collect()
    } else {
        let status = response.status();
        let body = response.text().await?;
        anyhow::ensure!(
            status.is_success(),
            "authorization page answered {status}: {body}"
        );
        form_fields(&body)
            .ok_or_else(|| anyhow::anyhow!("not a form_post page: {body}"))?
            .1
    };
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    Ok(Callback {
        code: get("code"),
        state: get("state"),
        error: get("error"),
        error_description: get("error_description"),
        user: get("user"),
    })
}

/// The action and hidden fields of a `form_post` page.
pub fn form_fields(html: &str) -> Option<(String, Vec<(String, String)>)> {
    const FORM: &str = "<form method=\"post\" action=\"";
    const INPUT: &str = "<input type=\"hidden\" name=\"";
    let unescape = |s: &str| s.replace("&quot;", "\"").replace("&amp;", "&");
    let start = html.find(FORM)? + FORM.len();
    let action = unescape(&html[start..start + html[start..].find('"')?]);
    let mut fields = Vec::new();
    let mut rest = &html[start..];
    while let Some(i) = rest.find(INPUT) {
        rest = &rest[i + INPUT.len()..];
        let name = unescape(&rest[..rest.find('"')?]);
        let v = rest.find("value=\"")? + "value=\"".len();
        let value = unescape(&rest[v..v + rest[v..].find('"')?]);
        fields.push((name, value));
    }
    Some((action, fields))
}
