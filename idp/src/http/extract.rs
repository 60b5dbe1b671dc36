//! Small request readers: cookies, bearer tokens and form parameters. Parsing of parameters
//! themselves lives in `oidc::params`.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use cookie::Cookie;

use crate::error::OAuthError;
use crate::oidc::params::Params;
use crate::state::AppState;

/// The address a request came from: the peer's, or, when the peer is a trusted proxy, the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy (entries to its left could
/// be written by anyone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Self(client_address(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    // In-process router tests have no peer.
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // RFC 7239 `Forwarded` when a proxy sends it, else the de facto `X-Forwarded-For`.
    let standard: Vec<&str> = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let hops: Vec<Option<IpAddr>> = if standard.is_empty() {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|entry| entry.trim().parse::<IpAddr>().ok().map(Some))
            .collect::<Option<Vec<_>>>()
            .unwrap_or_default()
    } else {
        standard
            .iter()
            .map(|v| forwarded_for(v))
            .collect::<Option<Vec<_>>>()
            .map(|lists| lists.into_iter().flatten().collect())
            .unwrap_or_default()
    };
    // The right-most hop that is not a trusted proxy is the client; when that hop is hidden
    // (`unknown`, an obfuscated name), the client cannot be told: the peer stands for it.
    match hops
        .into_iter()
        .rev()
        .find(|ip| !ip.is_some_and(|ip| is_trusted(&ip)))
    {
        Some(Some(ip)) => ip,
        _ => peer,
    }
}

/// The `for` node of each element of an RFC 7239 `Forwarded` value, in order: an address,
/// or `None` for `unknown`, an obfuscated identifier or an element without `for`. `None`
/// overall when the value does not parse (then it is not believed at all).
pub fn forwarded_for(value: &str) -> Option<Vec<Option<IpAddr>>> {
    let mut out = Vec::new();
    for element in split_outside_quotes(value, ',') {
        let mut node = None;
        for pair in split_outside_quotes(element, ';') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let (name, raw) = pair.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("for") {
                continue;
            }
            node = Some(node_address(&unquote(raw.trim())?));
        }
        out.push(node.flatten());
    }
    Some(out)
}

/// RFC 7239 §6: `IPv4[:port]`, `"[IPv6]:port"`, `unknown`, `_obfuscated`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let host = node.split_once(':').map_or(node, |(host, _)| host);
    host.parse().ok()
}

/// A token or a quoted-string (RFC 9110 §5.6.4), unquoted.
fn unquote(raw: &str) -> Option<String> {
    let Some(inner) = raw.strip_prefix('"') else {
        return (!raw.is_empty() && !raw.contains('"')).then(|| raw.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// `value` split at `sep` where it is not inside a quoted-string.
fn split_outside_quotes(value: &str, sep: char) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&value[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// The value of cookie `name`, if the browser sent it (RFC 6265 §5.4 `Cookie` header). An
/// empty value counts as absent; pairs that do not parse are skipped.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for an HttpOnly, SameSite=Lax cookie; `Secure` when served over https.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

pub fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(name, "", secure, Some(0))
}

/// What ending a citizen's session in this browser clears: the session, and which method
/// was used last (a shared device should not tell the next person how the last one signed
/// in).
pub fn sign_out_browser(response: &mut axum::response::Response, secure: bool) {
    let session = crate::oidc::session::cookie_name(secure);
    for name in [session, super::pages::LAST_METHOD_COOKIE] {
        if let Ok(value) = axum::http::HeaderValue::from_str(&clear_cookie(name, secure)) {
            response
                .headers_mut()
                .append(axum::http::header::SET_COOKIE, value);
        }
    }
}

pub fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

/// RFC 6750 §2.1: `Authorization: Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let (scheme, token) = authorization(headers)?.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|t| !t.is_empty())
}

/// The user name and password of HTTP Basic credentials (RFC 7617).
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let (scheme, value) = authorization(headers)?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    (!password.is_empty()).then(|| (user.to_owned(), password.to_owned()))
}

/// A form body: `application/x-www-form-urlencoded` (RFC 6749 §3.2), UTF-8, no repeats.
pub fn form(headers: &HeaderMap, body: &[u8]) -> Result<Params, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            t.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| OAuthError::invalid_request("the body is not UTF-8"))?;
    query(text)
}

pub fn query(text: &str) -> Result<Params, OAuthError> {
    Params::parse(text).map_err(|e| OAuthError::invalid_request(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; anyid_session=xyz; b=".parse().unwrap(),
        );
        assert_eq!(cookie(&h, "anyid_session"), Some("xyz"));
        assert_eq!(cookie(&h, "session"), None);
        assert_eq!(cookie(&h, "b"), None);
        h.append(header::COOKIE, "c=2".parse().unwrap());
        assert_eq!(cookie(&h, "c"), Some("2"));
    }

    #[test]
    fn set_cookies_carry_their_attributes() {
        assert_eq!(
            set_cookie("s", "v", true, Some(60)),
            "s=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60"
        );
        assert_eq!(
            set_cookie("s", "v", false, None),
            "s=v; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            clear_cookie("s", false),
            "s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }

    proptest::proptest! {
        #[test]
        fn the_cookie_parser_never_panics(
            sent in proptest::collection::vec("[ab=; \\t\"%]{0,40}|[\\t -~]{0,120}", 0..3),
            name in "a|b|[ -~]{0,12}",
        ) {
            let mut h = HeaderMap::new();
            for value in &sent {
                if let Ok(value) = axum::http::HeaderValue::from_str(value) {
                    h.append(header::COOKIE, value);
                }
            }
            if let Some(value) = cookie(&h, &name) {
                proptest::prop_assert!(!value.is_empty());
                proptest::prop_assert!(sent.iter().any(|s| s.contains(value)));
            }
        }
    }

    #[test]
    fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.9".parse().unwrap(),
        );
        // The right-most untrusted entry: the one the trusted proxy saw.
        assert_eq!(
            client_address(Some(proxy), &h, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // A peer that is not a trusted proxy cannot choose its address.
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client_address(Some(stranger), &h, &trusted), stranger);
        assert_eq!(client_address(Some(proxy), &h, &[]), proxy);
        // A garbled header is ignored.
        h.insert("x-forwarded-for", "nonsense".parse().unwrap());
        assert_eq!(client_address(Some(proxy), &h, &trusted), proxy);
    }

    #[test]
    fn the_standard_forwarded_header_is_read_like_x_forwarded_for() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::FORWARDED, value.parse().unwrap());
            // Ignored when `Forwarded` is there.
            h.insert("x-forwarded-for", "192.0.2.99".parse().unwrap());
            client_address(Some(proxy), &h, &trusted)
        };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            with("for=203.0.113.9, for=198.51.100.7;proto=https, for=10.0.0.9"),
            ip("198.51.100.7")
        );
        assert_eq!(
            with(r#"for="[2001:db8:cafe::17]:4711";by=10.0.0.5"#),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(with(r#"For="192.0.2.43:47011""#), ip("192.0.2.43"));
        // A hidden client, a garbled value: the proxy stands for the client.
        assert_eq!(with("for=unknown"), proxy);
        assert_eq!(with("for=_hidden, for=10.0.0.9"), proxy);
        assert_eq!(with(r#"for="unterminated"#), proxy);
        assert_eq!(with("nonsense"), proxy);
        assert_eq!(
            forwarded_for(r#"for="a\"b,c";proto=http, for=192.0.2.1"#),
            Some(vec![None, Some(ip("192.0.2.1"))])
        );
    }

    proptest::proptest! {
        #[test]
        fn any_forwarded_value_is_read_without_panicking(value in "\\PC{0,80}") {
            let _ = forwarded_for(&value);
        }
    }

    #[test]
    fn bearer_needs_the_scheme() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&h), None);
    }
}
