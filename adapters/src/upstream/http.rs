//! Outbound HTTP for one provider: its own reqwest client (timeouts of at most 5 s, redirects
//! never followed — RFC 9700 §4.11 and the openidconnect crate's SSRF advice — no cookies), a
//! body size cap, and the `openidconnect` [`AsyncHttpClient`] adapter over it so discovery and
//! JWKS fetching share the same stack (crates-and-protocols.md §3.4). A 5xx answer is an error
//! here, so every caller counts it as an upstream failure for the circuit breaker; a 4xx is an
//! answer, which callers turn into a refusal that never counts.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::AdapterError;

/// The whole exchange, body included.
pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// No provider answer we read is anywhere near this.
pub const MAX_BODY: usize = 1 << 20;

/// Why a back-channel call failed. Messages carry no URL, token or body.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("timed out")]
    Timeout,
    #[error("connection failed")]
    Connect,
    #[error("answered HTTP {0}")]
    Status(u16),
    #[error("answer larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("transport error")]
    Transport,
    #[error("request could not be built")]
    Request,
}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            Self::Timeout
        } else if e.is_connect() {
            Self::Connect
        } else if e.is_builder() {
            Self::Request
        } else {
            Self::Transport
        }
    }
}

/// A non-5xx answer.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A 4xx (429 included): the provider is up and refused this request.
    pub fn client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }

    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

#[derive(Clone)]
pub struct UpstreamHttp {
    client: reqwest::Client,
}

impl UpstreamHttp {
    pub fn new() -> Result<Self, AdapterError> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Any-ID/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AdapterError::Config(format!("HTTP client: {e}")))?;
        Ok(Self { client })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Send, read at most [`MAX_BODY`], and turn 5xx into an error.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, HttpError> {
        let (status, body, _) = self.exchange(request).await?;
        Ok(Answer { status, body })
    }

    async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Vec<u8>, http::HeaderMap), HttpError> {
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        if status >= 500 {
            return Err(HttpError::Status(status));
        }
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY as u64)
        {
            return Err(HttpError::TooLarge);
        }
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, body, headers))
    }
}

impl<'c> AsyncHttpClient<'c> for UpstreamHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let builder = self
                .client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body);
            let (status, body, headers) = self.exchange(builder).await?;
            let mut out = http::Response::new(body);
            *out.status_mut() =
                http::StatusCode::from_u16(status).map_err(|_| HttpError::Transport)?;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

impl From<HttpError> for AdapterError {
    fn from(e: HttpError) -> Self {
        AdapterError::Upstream(e.to_string())
    }
}
