//! A browser stand-in: a cookie jar that follows Any-ID's pages by submitting their forms the
//! way a person would (picking a demo citizen, allowing consent), and stops when a redirect
//! leaves for the relying party.

use reqwest::StatusCode;
use url::Url;

/// Relying parties in tests register redirect URIs on this port; nothing listens there.
pub const RELYING_PARTY_PORT: u16 = 1;

pub struct Browser {
    pub http: reqwest::Client,
    jar: std::sync::Arc<reqwest::cookie::Jar>,
}

/// Where a navigation ended.
#[derive(Debug)]
pub enum Landing {
    /// A redirect to the relying party (its callback with a code or an error).
    RelyingParty(Url),
    /// A page from Any-ID.
    Page {
        status: StatusCode,
        url: Url,
        body: String,
    },
}

impl Landing {
    pub fn callback(self) -> Url {
        match self {
            Landing::RelyingParty(url) => url,
            Landing::Page { status, body, .. } => {
                panic!("expected a redirect to the relying party, got page {status}: {body}")
            }
        }
    }

    pub fn page(self) -> (StatusCode, String) {
        match self {
            Landing::Page { status, body, .. } => (status, body),
            Landing::RelyingParty(url) => {
                panic!("expected an Any-ID page, got a redirect to {url}")
            }
        }
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self::from_builder(reqwest::Client::builder())
    }

    /// A browser whose requests come through a proxy saying they are from `address`
    /// (`X-Forwarded-For`; the server must trust loopback as a proxy).
    pub fn behind_proxy_for(address: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            address.parse().expect("an address header"),
        );
        Self::from_builder(reqwest::Client::builder().default_headers(headers))
    }

    /// A browser on `builder` (TLS roots, a client certificate), with a cookie jar of its
    /// own and redirects left to [`open`](Self::open).
    pub fn from_builder(builder: reqwest::ClientBuilder) -> Self {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        Self {
            http: builder
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("http client"),
            jar,
        }
    }

    /// The `Cookie` header this browser would send to `url`.
    pub fn cookies(&self, url: &str) -> String {
        use reqwest::cookie::CookieStore;
        self.jar
            .cookies(&url.parse().expect("a URL"))
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .unwrap_or_default()
    }

    /// Navigate to `url`, following Any-ID's redirects, until a page or a redirect to a
    /// host other than `op_origin`.
    pub async fn open(&self, url: &str, op_origin: &str) -> Landing {
        self.follow(self.http.get(url).send().await.expect("request"), op_origin)
            .await
    }

    /// One `GET` with this browser's cookies, not following redirects: the raw answer.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.expect("request")
    }

    /// One form `POST` with this browser's cookies, not following redirects: the raw answer.
    pub async fn post(&self, url: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(url)
            .form(fields)
            .send()
            .await
            .expect("request")
    }

    /// Submit a form on Any-ID at `action` with `fields`.
    pub async fn submit(&self, op_origin: &str, action: &str, fields: &[(&str, &str)]) -> Landing {
        let url = format!("{op_origin}{action}");
        let response = self
            .http
            .post(url)
            .form(fields)
            .send()
            .await
            .expect("request");
        self.follow(response, op_origin).await
    }

    /// Follow redirects the way a browser does, through Any-ID and upstream providers on
    /// loopback, submitting an upstream's auto-posting `form_post` page as its script would.
    /// Stops at a redirect to a relying party (test relying parties live on port 1, never
    /// contacted) or at a page of Any-ID.
    async fn follow(&self, mut response: reqwest::Response, op_origin: &str) -> Landing {
        for _ in 0..12 {
            let url = response.url().clone();
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .expect("redirect has a location");
                let next = url.join(location).expect("valid location");
                if next.port() == Some(RELYING_PARTY_PORT) {
                    return Landing::RelyingParty(next);
                }
                response = self.http.get(next).send().await.expect("request");
                continue;
            }
            let status = response.status();
            let body = response.text().await.expect("body");
            if !url.as_str().starts_with(op_origin)
                && let Some((action, fields)) = auto_post_form(&body)
            {
                let target = url.join(&action).expect("form action");
                response = self
                    .http
                    .post(target)
                    .form(&fields)
                    .send()
                    .await
                    .expect("request");
                continue;
            }
            return Landing::Page { status, url, body };
        }
        panic!("too many redirects");
    }

    /// On Any-ID's chooser `page`, press the button of upstream method `provider`.
    pub async fn choose(&self, op_origin: &str, page: &str, provider: &str) -> Landing {
        let (flow, csrf) = (hidden(page, "flow"), hidden(page, "csrf"));
        self.submit(
            op_origin,
            &format!("/login/upstream/{provider}"),
            &[("flow", &flow), ("csrf", &csrf)],
        )
        .await
    }

    /// If `landing` is the consent page, allow.
    pub async fn finish_consent(&self, op_origin: &str, landing: Landing) -> Landing {
        match &landing {
            Landing::Page { body, .. } if body.contains("action=\"/consent\"") => {
                let (flow, csrf) = (hidden(body, "flow"), hidden(body, "csrf"));
                self.submit(
                    op_origin,
                    "/consent",
                    &[("flow", &flow), ("csrf", &csrf), ("decision", "allow")],
                )
                .await
            }
            _ => landing,
        }
    }

    /// From an authorization URL, sign in as demo citizen `citizen` and allow consent if
    /// asked; returns where the browser was sent.
    pub async fn sign_in(&self, authorize_url: &str, op_origin: &str, citizen: &str) -> Landing {
        let mut landing = self.open(authorize_url, op_origin).await;
        for _ in 0..3 {
            let Landing::Page { body, .. } = &landing else {
                return landing;
            };
            if body.contains("action=\"/login/dev\"") {
                let (flow, csrf) = (hidden(body, "flow"), hidden(body, "csrf"));
                landing = self
                    .submit(
                        op_origin,
                        "/login/dev",
                        &[("flow", &flow), ("csrf", &csrf), ("citizen", citizen)],
                    )
                    .await;
            } else if body.contains("action=\"/consent\"") {
                let (flow, csrf) = (hidden(body, "flow"), hidden(body, "csrf"));
                landing = self
                    .submit(
                        op_origin,
                        "/consent",
                        &[("flow", &flow), ("csrf", &csrf), ("decision", "allow")],
                    )
                    .await;
            } else {
                return landing;
            }
        }
        landing
    }
}

/// The value of hidden input `name` in a page.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden field {name} in page"))
        + marker.len();
    let end = body[start..].find('"').expect("closing quote") + start;
    body[start..end].to_owned()
}

/// A page with its flow ids and `state` values blanked, to compare two answers that must
/// be the same but for the flow they belong to.
pub fn without_flow_ids(body: &str) -> String {
    let mut out = body.to_owned();
    for marker in [
        "flow=",
        "state=",
        "name=\"flow\" value=\"",
        "name=\"csrf\" value=\"",
    ] {
        let mut from = 0;
        while let Some(at) = out[from..].find(marker) {
            let start = from + at + marker.len();
            let end = out[start..]
                .find(['"', '&', '<'])
                .map_or(out.len(), |n| start + n);
            out.replace_range(start..end, "…");
            from = start;
        }
    }
    out
}

/// Query parameter `name` of `url`.
pub fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A page that posts itself (`form_post`): its form action and hidden fields.
fn auto_post_form(body: &str) -> Option<(String, Vec<(String, String)>)> {
    let start =
        body.find("<form method=\"post\" action=\"")? + "<form method=\"post\" action=\"".len();
    let action = body[start..start + body[start..].find('"')?].replace("&amp;", "&");
    let mut fields = Vec::new();
    let mut rest = &body[start..];
    while let Some(i) = rest.find("<input type=\"hidden\" name=\"") {
        rest = &rest[i + "<input type=\"hidden\" name=\"".len()..];
        let name = rest[..rest.find('"')?].to_owned();
        let v = rest.find("value=\"")? + "value=\"".len();
        let value = rest[v..v + rest[v..].find('"')?]
            .replace("&quot;", "\"")
            .replace("&amp;", "&");
        fields.push((name, value));
    }
    Some((action, fields))
}
