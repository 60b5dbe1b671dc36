//! Upstream identity providers (DESIGN §1 `adapters`, korea-any-id.md §8 "Upstream provider
//! adapters"): OpenID Connect (Kakao, Google, Apple, generic) and OAuth 2 with a profile API
//! (Naver, generic). An [`Upstream`] begins a login (authorization request with `state`, PKCE
//! S256 unless the preset or the operator says the provider takes none, and, for OIDC, a
//! `nonce`; RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2.1) and completes
//! it from the callback into a [`VerifiedIdentity`]. It owns its HTTP client and its circuit
//! breaker; every time decision uses the caller's `now` (Unix seconds).
//!
//! Files: `config` (the `[[upstream]]` table and presets), `oidc` (discovery, JWKS, claims),
//! `id_token` (ID token validation), `oauth2` (token request, profile API, claim mapping),
//! `apple` (client secret, `user` field), `breaker` (the circuit breaker), `http` (the
//! outbound client).

mod apple;
mod breaker;
mod config;
mod http;
mod id_token;
mod oauth2;
mod oidc;

use std::fmt;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge};
use serde_json::{Map, Value};
use url::Url;

pub use apple::{
    AUDIENCE as APPLE_CLIENT_SECRET_AUDIENCE, LIFETIME_S as APPLE_CLIENT_SECRET_LIFETIME_S,
    MAX_LIFETIME_S as APPLE_CLIENT_SECRET_MAX_LIFETIME_S,
};
pub use breaker::{OPEN_S as BREAKER_OPEN_S, THRESHOLD as BREAKER_THRESHOLD};
pub use config::{
    APPLE_ISSUER, AppleConfig, DisplayName, GOOGLE_ISSUER, GOOGLE_LEGACY_ISSUER, KAKAO_ISSUER,
    Kind, NAVER_AUTHORIZATION, NAVER_PROFILE, NAVER_TOKEN, Preset, UpstreamConfig,
};
pub use http::TIMEOUT as HTTP_TIMEOUT;
pub use id_token::SKEW_S as ID_TOKEN_SKEW_S;
pub use oidc::JWKS_REFETCH_S;

use apple::AppleClientSecret;
use breaker::Breaker;
use config::Settings;
use http::UpstreamHttp;
use oidc::OidcCache;

use crate::{
    AdapterError, Begin, Callback, PendingLogin, Secret, StrongIdentifier, VerifiedIdentity,
};

/// RFC 8176 §2 `fed`: federated authentication (DESIGN §4).
pub const AMR_FED: &str = "fed";

/// One configured upstream provider, ready to begin and complete logins. `Send + Sync`; share
/// it behind the application state.
pub struct Upstream {
    config: UpstreamConfig,
    settings: Settings,
    secret: Option<Secret>,
    apple: Option<AppleClientSecret>,
    http: UpstreamHttp,
    breaker: Mutex<Breaker>,
    oidc: Mutex<OidcCache>,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("id", &self.config.id)
            .field("kind", &self.config.kind)
            .field("preset", &self.config.preset)
            .finish_non_exhaustive()
    }
}

/// Equal without an early exit on the first differing byte.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn resolve_secret(config: &UpstreamConfig) -> Result<Option<Secret>, AdapterError> {
    let err = |m: String| AdapterError::Config(format!("upstream {:?}: {m}", config.id));
    let value = if let Some(inline) = &config.client_secret {
        inline.expose().to_owned()
    } else if let Some(path) = &config.client_secret_file {
        std::fs::read_to_string(path)
            .map_err(|e| err(format!("client_secret_file {}: {e}", path.display())))?
            .trim_end_matches(['\r', '\n'])
            .to_owned()
    } else if let Some(name) = &config.client_secret_env {
        std::env::var(name).map_err(|_| err(format!("client_secret_env: {name} is not set")))?
    } else {
        return Ok(None);
    };
    if value.is_empty() {
        return Err(err("the client secret is empty".into()));
    }
    Ok(Some(Secret::new(value)))
}

impl Upstream {
    /// Validate, resolve the client secret (inline, file or environment) and the Apple key,
    /// and build the provider's HTTP client. Touches no network.
    pub fn new(config: UpstreamConfig) -> Result<Self, AdapterError> {
        config.validate()?;
        let settings = config.settings();
        let secret = resolve_secret(&config)?;
        let apple = match (&config.apple, config.preset) {
            (Some(apple), Preset::Apple) => Some(AppleClientSecret::new(
                apple,
                &config.client_id,
                &config.id,
            )?),
            _ => None,
        };
        Ok(Self {
            settings,
            secret,
            apple,
            http: UpstreamHttp::new()?,
            breaker: Mutex::new(Breaker::default()),
            oidc: Mutex::new(OidcCache::default()),
            config,
        })
    }

    pub fn id(&self) -> &str {
        &self.config.id
    }

    /// The button label: Korean for `ko` (and `ko-*`), English for anything else.
    pub fn display_name(&self, lang: &str) -> &str {
        if lang == "ko" || lang.starts_with("ko-") {
            &self.config.display_name.ko
        } else {
            &self.config.display_name.en
        }
    }

    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// False while the circuit breaker is open (the login page may hide or grey the button).
    pub fn available(&self, now: i64) -> bool {
        self.breaker().available(now)
    }

    /// Apple answers with `response_mode=form_post`: the callback arrives as a POST.
    pub fn uses_form_post(&self) -> bool {
        self.settings.form_post
    }

    /// Start a login: where to send the browser, and what to keep until the callback.
    pub async fn begin(&self, redirect_uri: &str, now: i64) -> Result<Begin, AdapterError> {
        if !self.available(now) {
            return Err(self.unavailable());
        }
        Url::parse(redirect_uri).map_err(|_| self.config_error("the callback URL is not a URL"))?;
        let (endpoint, nonce) = match self.config.kind {
            Kind::Oidc => {
                let d = self.discovered(now).await?;
                // OIDC Core §3.1.2.1 / §15.5.2: a fresh nonce binds the ID token to this login.
                (
                    self.authorization_endpoint(&d),
                    Some(Nonce::new_random().secret().clone()),
                )
            }
            Kind::Oauth2 => (
                self.settings
                    .authorization_endpoint
                    .clone()
                    .unwrap_or_default(),
                None,
            ),
        };
        let mut url = Url::parse(&endpoint).map_err(|_| {
            AdapterError::Upstream("the authorization endpoint is not a URL".into())
        })?;
        // RFC 6749 §10.12: `state` binds the callback to this browser's login.
        let state = CsrfToken::new_random().secret().clone();
        let pkce = self
            .settings
            .pkce
            .then(PkceCodeChallenge::new_random_sha256);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", redirect_uri);
            if !self.settings.scopes.is_empty() {
                q.append_pair("scope", &self.settings.scopes.join(" "));
            }
            q.append_pair("state", &state);
            if let Some(nonce) = &nonce {
                q.append_pair("nonce", nonce);
            }
            if let Some((challenge, _)) = &pkce {
                // RFC 7636 §4.3, S256 only.
                q.append_pair("code_challenge", challenge.as_str())
                    .append_pair("code_challenge_method", "S256");
            }
            if self.settings.form_post {
                q.append_pair("response_mode", "form_post");
            }
        }
        Ok(Begin::Redirect {
            url: url.into(),
            pending: PendingLogin {
                provider: self.config.id.clone(),
                state,
                nonce,
                pkce_verifier: pkce.map(|(_, verifier)| verifier.secret().clone()),
                redirect_uri: redirect_uri.to_owned(),
            },
        })
    }

    /// Finish a login from its callback: check it belongs to `pending`, redeem the code, verify
    /// the answer and map it to a [`VerifiedIdentity`].
    pub async fn complete(
        &self,
        pending: &PendingLogin,
        callback: &Callback,
        now: i64,
    ) -> Result<VerifiedIdentity, AdapterError> {
        if pending.provider != self.config.id {
            return Err(AdapterError::Mismatch(
                "the login was started with another provider",
            ));
        }
        let Some(state) = callback.state.as_deref() else {
            return Err(AdapterError::Mismatch("the answer carries no state"));
        };
        // RFC 6749 §10.12 / RFC 9700 §4.7: the callback must echo our state.
        if !same(state, &pending.state) {
            return Err(AdapterError::Mismatch(
                "the answer's state is not the login's",
            ));
        }
        // RFC 6749 §4.1.2.1: the provider (or the person) refused.
        if let Some(error) = callback.error.as_deref() {
            let code = oauth2::safe_code(error);
            tracing::info!(provider = %self.config.id, error = %code, "the provider answered the login with an error");
            return Err(AdapterError::Refused(code));
        }
        let code = callback
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 4096)
            .ok_or(AdapterError::Mismatch("the answer carries no code"))?;
        if !self.available(now) {
            return Err(self.unavailable());
        }
        match self.config.kind {
            Kind::Oidc => self.complete_oidc(pending, callback, code, now).await,
            Kind::Oauth2 => self.complete_oauth2(pending, code, now).await,
        }
    }

    /// For `anyid config check`: can the provider be reached (OIDC: discovery and JWKS;
    /// OAuth 2: its endpoints answer)? A warning for the operator, nothing is cached.
    pub async fn check(&self) -> Result<(), AdapterError> {
        match self.config.kind {
            Kind::Oidc => {
                let metadata = self.discover().await?;
                if self.config.userinfo && metadata.userinfo_endpoint().is_none() {
                    return Err(self.config_error(
                        "userinfo = true, but the provider has no userinfo endpoint",
                    ));
                }
                if self.settings.token_endpoint.is_none() && metadata.token_endpoint().is_none() {
                    return Err(AdapterError::Upstream(
                        "the provider publishes no token endpoint".into(),
                    ));
                }
                Ok(())
            }
            Kind::Oauth2 => {
                let s = &self.settings;
                for endpoint in [
                    &s.authorization_endpoint,
                    &s.token_endpoint,
                    &s.profile_endpoint,
                ]
                .into_iter()
                .flatten()
                {
                    // Any answer below 500 (even 401 without a token) means it is there.
                    self.http.send(self.http.client().get(endpoint)).await?;
                }
                Ok(())
            }
        }
    }

    fn breaker(&self) -> MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn config_error(&self, message: &str) -> AdapterError {
        AdapterError::Config(format!("upstream {:?}: {message}", self.config.id))
    }

    fn unavailable(&self) -> AdapterError {
        AdapterError::Unavailable(self.config.display_name.en.clone())
    }

    /// One back-channel call through the circuit breaker: refused while it is open; an
    /// `Upstream` error counts as a failure, anything else (even a refusal) as an answer.
    async fn guarded<T>(
        &self,
        now: i64,
        call: impl Future<Output = Result<T, AdapterError>>,
    ) -> Result<T, AdapterError> {
        let pass = self.breaker().try_pass(now);
        if !pass {
            return Err(self.unavailable());
        }
        let result = call.await;
        match &result {
            Err(AdapterError::Upstream(why)) => {
                tracing::warn!(provider = %self.config.id, error = %why, "upstream call failed");
                let opened = self.breaker().failure(now);
                if opened {
                    tracing::warn!(
                        provider = %self.config.id,
                        seconds = breaker::OPEN_S,
                        "circuit breaker opened after repeated upstream failures"
                    );
                }
            }
            _ => self.breaker().success(),
        }
        result
    }

    /// The strong identifier, only when configured, read from the verified source: a claim
    /// name (`ci`) or a JSON pointer (`/response/ci`).
    fn strong_identifier(
        &self,
        by_name: &Map<String, Value>,
        source: &Value,
    ) -> Option<StrongIdentifier> {
        let claim = self.config.strong_identifier_claim.as_deref()?;
        let value = if claim.starts_with('/') {
            source.pointer(claim)
        } else {
            by_name.get(claim)
        };
        value
            .and_then(Value::as_str)
            .filter(|v| !v.trim().is_empty())
            .map(|v| StrongIdentifier(v.to_owned()))
    }

    fn identity(
        &self,
        issuer: String,
        subject: String,
        mut claims: Map<String, Value>,
        strong_identifier: Option<StrongIdentifier>,
    ) -> VerifiedIdentity {
        if let Some(claim) = &self.config.strong_identifier_claim {
            // Never kept in plain form (R-ID-3): the idp stores only its keyed hash. Also
            // under any other name a claim mapping may have given it.
            claims.remove(claim);
            if let Some(StrongIdentifier(value)) = &strong_identifier {
                claims.retain(|_, v| v.as_str() != Some(value.as_str()));
            }
        }
        // Keep only what a relying party can be given (data minimisation).
        claims.retain(|name, _| oidc::STANDARD_CLAIMS.contains(&name.as_str()));
        VerifiedIdentity {
            method: self.config.id.clone(),
            issuer,
            subject,
            claims: Value::Object(claims),
            loa: self.config.loa,
            amr: vec![AMR_FED.to_owned()],
            strong_identifier,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naver() -> UpstreamConfig {
        UpstreamConfig {
            id: "naver".into(),
            kind: Kind::Oauth2,
            preset: Preset::Naver,
            client_id: "naver-client".into(),
            client_secret: Some("s".into()),
            display_name: DisplayName {
                ko: "네이버".into(),
                en: "Naver".into(),
            },
            ..UpstreamConfig::default()
        }
    }

    #[tokio::test]
    async fn begin_sends_state_and_no_pkce_to_naver() {
        let up = Upstream::new(naver()).unwrap();
        let Begin::Redirect { url, pending } = up
            .begin("https://id.example/login/callback/naver", 0)
            .await
            .unwrap();
        let url = Url::parse(&url).unwrap();
        assert_eq!(url.origin().ascii_serialization(), "https://nid.naver.com");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "naver-client");
        assert_eq!(q["state"], pending.state);
        assert!(pending.state.len() >= 16);
        assert!(
            !q.contains_key("code_challenge")
                && !q.contains_key("nonce")
                && !q.contains_key("scope")
        );
        assert_eq!(pending.provider, "naver");
        assert_eq!((pending.nonce, pending.pkce_verifier), (None, None));

        // pkce = true (Naver's newer endpoints): the S256 challenge of the kept verifier.
        let up = Upstream::new(UpstreamConfig {
            pkce: Some(true),
            ..naver()
        })
        .unwrap();
        let Begin::Redirect { url, pending } = up.begin("https://id.example/cb", 0).await.unwrap();
        let q: std::collections::HashMap<_, _> = Url::parse(&url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let verifier = pending.pkce_verifier.expect("a verifier is kept");
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
        use base64::Engine;
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref());
        assert_eq!(q["code_challenge"], challenge);
        assert_eq!(q["code_challenge_method"], "S256");
    }

    #[tokio::test]
    async fn callbacks_that_do_not_belong_are_refused_before_any_network() {
        let up = Upstream::new(naver()).unwrap();
        let Begin::Redirect { pending, .. } = up.begin("https://id.example/cb", 0).await.unwrap();
        let cb = |state: Option<&str>, code: Option<&str>, error: Option<&str>| Callback {
            state: state.map(str::to_owned),
            code: code.map(str::to_owned),
            error: error.map(str::to_owned),
            ..Callback::default()
        };
        let s = pending.state.as_str();
        assert!(matches!(
            up.complete(&pending, &cb(None, Some("c"), None), 0).await,
            Err(AdapterError::Mismatch(_))
        ));
        assert!(matches!(
            up.complete(&pending, &cb(Some("other"), Some("c"), None), 0)
                .await,
            Err(AdapterError::Mismatch(_))
        ));
        assert!(matches!(
            up.complete(&pending, &cb(Some(s), None, None), 0).await,
            Err(AdapterError::Mismatch(_))
        ));
        match up
            .complete(&pending, &cb(Some(s), None, Some("access_denied")), 0)
            .await
        {
            Err(AdapterError::Refused(code)) => assert_eq!(code, "access_denied"),
            other => panic!("{other:?}"),
        }
        let mut elsewhere = pending.clone();
        elsewhere.provider = "kakao".into();
        assert!(matches!(
            up.complete(&elsewhere, &cb(Some(s), Some("c"), None), 0)
                .await,
            Err(AdapterError::Mismatch(_))
        ));
        assert!(up.available(0), "none of these is an upstream failure");
    }

    #[test]
    fn secrets_resolve_from_file_or_environment_and_names_are_per_language() {
        let dir = std::env::temp_dir().join(format!("anyid-secret-{}", std::process::id()));
        std::fs::write(&dir, "from-file\n").unwrap();
        let mut c = naver();
        c.client_secret = None;
        c.client_secret_file = Some(dir.clone());
        assert_eq!(resolve_secret(&c).unwrap().unwrap().0, "from-file");
        std::fs::remove_file(&dir).unwrap();
        let e = Upstream::new(c.clone()).unwrap_err().to_string();
        assert!(e.contains("client_secret_file"), "{e}");
        c.client_secret_file = None;
        c.client_secret_env = Some("ANYID_TEST_SURELY_UNSET_VARIABLE".into());
        assert!(
            Upstream::new(c)
                .unwrap_err()
                .to_string()
                .contains("is not set")
        );
        let up = Upstream::new(naver()).unwrap();
        assert_eq!(up.display_name("ko"), "네이버");
        assert_eq!(up.display_name("ko-KR"), "네이버");
        assert_eq!(up.display_name("en"), "Naver");
        assert_eq!(up.display_name("fr"), "Naver");
        assert!(!up.uses_form_post());
        assert!(!format!("{up:?}").contains("\"s\""));
    }

    #[test]
    fn same_compares_whole_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(same("", ""));
    }
}
