//! Upstream OpenID Connect (OIDC Core 1.0 code flow, Discovery 1.0) for Kakao, Google, Apple
//! and generic providers: discovery and JWKS cached (openidconnect types and fetchers over our
//! HTTP client), the JWKS refetched on an unknown `kid` at most once a minute (R-KAKAO-2), the
//! token request, the optional userinfo merge (§5.3) and the mapping of the verified claims to
//! OIDC Core §5.1 names. The ID token itself is validated in `id_token`.

use std::sync::Arc;

use openidconnect::core::{CoreClientAuthMethod, CoreJsonWebKeySet, CoreProviderMetadata};
use openidconnect::{DiscoveryError, IssuerUrl};
use serde_json::{Map, Value};

use super::Upstream;
use super::config::{ClientAuth, Settings};
use super::http::HttpError;
use super::id_token::{Expected, Rejected, verify_id_token};
use super::oauth2::{TokenRequest, exchange_code, get_json_with_token};
use crate::{AdapterError, Callback, PendingLogin, VerifiedIdentity};

/// R-KAKAO-2: an unknown `kid` refetches the JWKS at most this often.
pub const JWKS_REFETCH_S: i64 = 60;
/// Discovery documents are refreshed after a day.
pub const DISCOVERY_TTL_S: i64 = 86_400;

/// OIDC Core §5.1 standard claims (without `sub`).
pub const STANDARD_CLAIMS: [&str; 19] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

pub(crate) struct Discovered {
    pub metadata: CoreProviderMetadata,
    pub fetched_at: i64,
}

/// Discovery and keys, cached per provider.
#[derive(Default)]
pub(crate) struct OidcCache {
    pub discovered: Option<Arc<Discovered>>,
    pub keys: Arc<CoreJsonWebKeySet>,
    /// When an unknown `kid` last refetched the JWKS.
    pub last_refetch: Option<i64>,
}

/// `true`/`false` or Apple's `"true"`/`"false"` (R-APPLE-3).
pub fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn standard_claims(source: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for name in STANDARD_CLAIMS {
        let value = match source.get(name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) if s.trim().is_empty() => continue,
            Some(v) => v.clone(),
        };
        let value = if name.ends_with("_verified") {
            match as_bool(&value) {
                Some(b) => Value::Bool(b),
                None => continue,
            }
        } else {
            value
        };
        out.insert(name.to_owned(), value);
    }
    out
}

/// The claims of a login: the ID token's standard claims over userinfo's, keeping each
/// `*_verified` flag with the address it belongs to. With `email_verified_only_from_id_token`
/// (Kakao, R-KAKAO-3) an email in the ID token is a verified one and any other is not.
pub fn merge_claims(
    id_token: &Map<String, Value>,
    userinfo: Option<&Map<String, Value>>,
    settings: &Settings,
) -> Map<String, Value> {
    let from_token = standard_claims(id_token);
    let from_userinfo = userinfo.map(standard_claims).unwrap_or_default();
    let mut claims = from_userinfo.clone();
    claims.extend(from_token.clone());
    for (address, flag) in [
        ("email", "email_verified"),
        ("phone_number", "phone_number_verified"),
    ] {
        claims.remove(flag);
        let verified = if from_token.contains_key(address) {
            match from_token.get(flag) {
                Some(v) => Some(v.clone()),
                None if address == "email" && settings.id_token_email_is_verified => {
                    Some(true.into())
                }
                None => None,
            }
        } else if from_userinfo.contains_key(address) && !settings.id_token_email_is_verified {
            from_userinfo.get(flag).cloned()
        } else {
            None
        };
        if let Some(v) = verified {
            claims.insert(flag.into(), v);
        }
    }
    claims
}

fn discovery_error(e: DiscoveryError<HttpError>) -> AdapterError {
    match e {
        DiscoveryError::Request(e) => AdapterError::Upstream(format!("discovery: {e}")),
        // A 4xx (429 included) is the provider refusing, not failing (see `breaker`).
        DiscoveryError::Response(status, _, _) if status.is_client_error() => {
            AdapterError::Rejected(format!("discovery answered HTTP {}", status.as_u16()))
        }
        DiscoveryError::Response(status, _, _) => {
            AdapterError::Upstream(format!("discovery answered HTTP {}", status.as_u16()))
        }
        DiscoveryError::Parse(_) => {
            AdapterError::Upstream("the discovery document or JWKS is unreadable".into())
        }
        DiscoveryError::Validation(_) => {
            AdapterError::Upstream("the discovery document names another issuer".into())
        }
        _ => AdapterError::Upstream("discovery failed".into()),
    }
}

impl Upstream {
    fn oidc_cache(&self) -> std::sync::MutexGuard<'_, OidcCache> {
        self.oidc.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Fetch the discovery document and JWKS (not cached).
    pub(super) async fn discover(&self) -> Result<CoreProviderMetadata, AdapterError> {
        let issuer = self
            .settings
            .issuer
            .clone()
            .ok_or_else(|| self.config_error("issuer is missing"))?;
        let issuer =
            IssuerUrl::new(issuer).map_err(|_| self.config_error("issuer is not a URL"))?;
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(discovery_error)
    }

    /// The cached discovery document, fetched when absent or older than a day. A failed
    /// refresh keeps the stale one.
    pub(super) async fn discovered(&self, now: i64) -> Result<Arc<Discovered>, AdapterError> {
        let cached = self.oidc_cache().discovered.clone();
        if let Some(d) = &cached
            && (d.fetched_at..d.fetched_at.saturating_add(DISCOVERY_TTL_S)).contains(&now)
        {
            return Ok(d.clone());
        }
        match self.guarded(now, self.discover()).await {
            Ok(metadata) => {
                let keys = Arc::new(metadata.jwks().clone());
                let fresh = Arc::new(Discovered {
                    metadata,
                    fetched_at: now,
                });
                let mut cache = self.oidc_cache();
                cache.discovered = Some(fresh.clone());
                cache.keys = keys;
                Ok(fresh)
            }
            Err(e) => match cached {
                Some(stale) if !matches!(e, AdapterError::Unavailable(_)) => {
                    tracing::warn!(provider = %self.config.id, error = %e, "discovery refresh failed; keeping the cached document");
                    Ok(stale)
                }
                _ => Err(e),
            },
        }
    }

    pub(super) fn authorization_endpoint(&self, d: &Discovered) -> String {
        self.settings
            .authorization_endpoint
            .clone()
            .unwrap_or_else(|| d.metadata.authorization_endpoint().to_string())
    }

    /// Verify with the cached keys; on an unknown `kid`, refetch them once (rate-limited).
    async fn verify_with_refetch(
        &self,
        d: &Discovered,
        token: &str,
        expected: &Expected<'_>,
    ) -> Result<Map<String, Value>, AdapterError> {
        let keys = self.oidc_cache().keys.clone();
        match verify_id_token(token, &keys, expected) {
            Ok(claims) => return Ok(claims),
            Err(Rejected::Invalid(why)) => return Err(AdapterError::Invalid(why.into())),
            Err(Rejected::UnknownKey) => {}
        }
        let now = expected.now;
        {
            let mut cache = self.oidc_cache();
            if cache
                .last_refetch
                .is_some_and(|t| (t..t.saturating_add(JWKS_REFETCH_S)).contains(&now))
            {
                tracing::warn!(provider = %self.config.id, "ID token signed with an unknown key; JWKS refetch rate-limited");
                return Err(AdapterError::Invalid(
                    "the ID token is signed with an unknown key".into(),
                ));
            }
            cache.last_refetch = Some(now);
        }
        tracing::info!(provider = %self.config.id, "ID token signed with an unknown key; refetching the JWKS");
        let fetched = self
            .guarded(now, async {
                CoreJsonWebKeySet::fetch_async(d.metadata.jwks_uri(), &self.http)
                    .await
                    .map_err(discovery_error)
            })
            .await?;
        let fetched = Arc::new(fetched);
        self.oidc_cache().keys = fetched.clone();
        match verify_id_token(token, &fetched, expected) {
            Ok(claims) => Ok(claims),
            Err(Rejected::Invalid(why)) => Err(AdapterError::Invalid(why.into())),
            Err(Rejected::UnknownKey) => Err(AdapterError::Invalid(
                "the ID token is signed with an unknown key".into(),
            )),
        }
    }

    pub(super) async fn complete_oidc(
        &self,
        pending: &PendingLogin,
        callback: &Callback,
        code: &str,
        now: i64,
    ) -> Result<VerifiedIdentity, AdapterError> {
        let nonce = pending
            .nonce
            .as_deref()
            .ok_or(AdapterError::Mismatch("the pending login has no nonce"))?;
        let d = self.discovered(now).await?;
        let s = &self.settings;
        let token_endpoint = match (&s.token_endpoint, d.metadata.token_endpoint()) {
            (Some(t), _) => t.clone(),
            (None, Some(t)) => t.to_string(),
            (None, None) => {
                return Err(AdapterError::Upstream(
                    "the provider has no token endpoint".into(),
                ));
            }
        };
        let auth = s.client_auth.unwrap_or_else(|| {
            // Discovery §3: absent means client_secret_basic.
            match d.metadata.token_endpoint_auth_methods_supported() {
                Some(methods)
                    if !methods.contains(&CoreClientAuthMethod::ClientSecretBasic)
                        && methods.contains(&CoreClientAuthMethod::ClientSecretPost) =>
                {
                    ClientAuth::Post
                }
                _ => ClientAuth::Basic,
            }
        });
        let secret = match &self.apple {
            Some(apple) => Some(apple.get(now)?),
            None => self.secret.as_ref().map(|x| x.expose().to_owned()),
        };
        let request = TokenRequest {
            endpoint: &token_endpoint,
            client_id: &self.config.client_id,
            client_secret: secret.as_deref(),
            auth,
            code,
            redirect_uri: &pending.redirect_uri,
            pkce_verifier: pending.pkce_verifier.as_deref(),
            state: None,
        };
        let tokens = self
            .guarded(now, exchange_code(&self.http, &request))
            .await?;
        let id_token = tokens
            .id_token
            .as_deref()
            .ok_or_else(|| AdapterError::Invalid("the token answer has no ID token".into()))?;
        let mut issuers = vec![d.metadata.issuer().to_string()];
        issuers.extend(s.issuer_aliases.iter().cloned());
        let expected = Expected {
            issuers: &issuers,
            client_id: &self.config.client_id,
            nonce,
            algs: &s.algs,
            now,
        };
        let token_claims = self.verify_with_refetch(&d, id_token, &expected).await?;
        let subject = token_claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let userinfo = if self.config.userinfo {
            let endpoint = d
                .metadata
                .userinfo_endpoint()
                .map(|u| u.to_string())
                .ok_or_else(|| {
                    AdapterError::Upstream("the provider has no userinfo endpoint".into())
                })?;
            let (status, info) = self
                .guarded(
                    now,
                    get_json_with_token(
                        &self.http,
                        &endpoint,
                        &tokens.access_token,
                        "userinfo endpoint",
                    ),
                )
                .await?;
            if !(200..300).contains(&status) {
                return Err(AdapterError::Invalid(format!(
                    "the userinfo endpoint answered HTTP {status}"
                )));
            }
            // OIDC Core §5.3.4: the userinfo sub must be the ID token's.
            if info.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
                return Err(AdapterError::Invalid(
                    "userinfo is about someone else".into(),
                ));
            }
            Some(info)
        } else {
            None
        };
        let mut claims = merge_claims(&token_claims, userinfo.as_ref(), s);
        if !s.claims.is_empty() {
            let mut source = userinfo.clone().unwrap_or_default();
            source.extend(token_claims.clone());
            claims.extend(super::oauth2::map_claims(&Value::Object(source), &s.claims));
        }
        if let Some(user) = callback.user.as_deref().filter(|_| self.uses_form_post()) {
            // R-APPLE-1: the name comes once, beside the code; it never overrides the token.
            for (k, v) in super::apple::user_claims(user) {
                claims.entry(k).or_insert(v);
            }
        }
        // The stable issuer identifier (Google's legacy spelling is the same provider).
        let issuer = d.metadata.issuer().to_string();
        let strong = self.strong_identifier(&token_claims, &Value::Object(token_claims.clone()));
        Ok(self.identity(issuer, subject, claims, strong))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(kakao: bool) -> Settings {
        let c = crate::upstream::UpstreamConfig {
            preset: if kakao {
                crate::upstream::Preset::Kakao
            } else {
                crate::upstream::Preset::Generic
            },
            ..Default::default()
        };
        c.settings()
    }

    #[test]
    fn kakao_email_is_verified_only_from_the_id_token() {
        let token = json!({"sub":"1","nickname":"길동","picture":"https://k/p.jpg","email":"a@kakao.example","ci":"x"});
        let m = merge_claims(token.as_object().unwrap(), None, &settings(true));
        assert_eq!(
            Value::Object(m),
            json!({"nickname":"길동","picture":"https://k/p.jpg","email":"a@kakao.example","email_verified":true})
        );
        // From userinfo only: no verified flag for Kakao, the provider's own for others.
        let info = json!({"sub":"1","email":"b@kakao.example","email_verified":true});
        let m = merge_claims(&Map::new(), info.as_object(), &settings(true));
        assert_eq!(Value::Object(m), json!({"email":"b@kakao.example"}));
        let m = merge_claims(&Map::new(), info.as_object(), &settings(false));
        assert_eq!(
            Value::Object(m),
            json!({"email":"b@kakao.example","email_verified":true})
        );
        // No email at all never fails.
        assert!(merge_claims(&Map::new(), None, &settings(true)).is_empty());
    }

    #[test]
    fn id_token_claims_win_and_flags_stay_with_their_address() {
        let token = json!({"email":"t@x","name":"Token Name","email_verified":"true","phone_number_verified":"maybe"});
        let info = json!({"email":"u@x","email_verified":false,"name":"Info","locale":"ko-KR","phone_number":"+82","phone_number_verified":true});
        let m = merge_claims(
            token.as_object().unwrap(),
            info.as_object(),
            &settings(false),
        );
        assert_eq!(
            Value::Object(m),
            json!({"email":"t@x","email_verified":true,"name":"Token Name","locale":"ko-KR","phone_number":"+82","phone_number_verified":true})
        );
    }
}
