//! Outbound HTTP for revocation data: CRLs by URL (RFC 5280 §5) and OCSP over HTTP (RFC 6960
//! Appendix A.1). One client (10 s for the whole exchange, body included; redirects never
//! followed), and every body read chunk by chunk up to a cap, so a distribution point or a
//! responder cannot make the server buffer an answer of any size.

use std::time::Duration;

use crate::CertError;

/// The default cap on a CRL fetched by URL (`ValidatorConfig::max_crl_bytes`).
pub const MAX_CRL_BYTES: usize = 8 << 20;
/// The cap on an OCSP response: one certificate's status, signed, with perhaps a delegated
/// responder's certificate, is a few kilobytes.
pub const MAX_OCSP_RESPONSE_BYTES: usize = 64 << 10;

const TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) fn client() -> Result<reqwest::Client, CertError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CertError::Config(format!("http client: {e}")))
}

/// Send `request` and read the body of its 2xx answer, refusing one larger than `limit`
/// bytes: by its announced length before reading, else as soon as the bytes read pass it.
/// `what` names the exchange in errors ("CRL <url>").
pub(crate) async fn read_capped(
    request: reqwest::RequestBuilder,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>, CertError> {
    let io = |e: reqwest::Error| CertError::Io(format!("{what}: {e}"));
    let too_large = || CertError::Io(format!("{what}: answer larger than {limit} bytes"));
    let mut response = request.send().await.map_err(io)?;
    if !response.status().is_success() {
        return Err(CertError::Io(format!("{what}: HTTP {}", response.status())));
    }
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(io)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
