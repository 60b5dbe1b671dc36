//! The `[[upstream]]` configuration tables: what an operator writes, the presets that fill in
//! the well-known providers (korea-any-id.md §1: Kakao, Naver, Google, Apple), validation with
//! messages that name the provider, and the effective [`Settings`] a provider runs with.
//! Explicit settings always win over a preset, so a preset can point at a test peer.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

use crate::{AdapterError, Loa, Secret};

/// One upstream identity provider, deserialised from a `[[upstream]]` table.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// `[a-z0-9_-]{1,32}`: used in URLs and as the login method id (`data-method`).
    pub id: String,
    pub kind: Kind,
    #[serde(default)]
    pub preset: Preset,
    /// OIDC: discovery at `{issuer}/.well-known/openid-configuration`. OAuth 2: the base of the
    /// synthesised issuer (default: the authorization endpoint's origin).
    pub issuer: Option<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    /// OAuth 2: the profile API called with the access token.
    pub profile_endpoint: Option<String>,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub client_secret_file: Option<PathBuf>,
    /// The name of an environment variable holding the client secret.
    pub client_secret_env: Option<String>,
    /// Requested scopes; empty means the preset's. OIDC always includes `openid`.
    #[serde(default)]
    pub scopes: Vec<String>,
    pub display_name: DisplayName,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// OIDC claim name -> JSON pointer (RFC 6901) into the profile response (OAuth 2) or into
    /// the verified ID token merged with userinfo (OIDC). Added to the preset's mapping.
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// OAuth 2: JSON pointer of the subject in the profile response.
    pub subject_pointer: Option<String>,
    /// Sign in with Apple: the key that signs the client secret (preset `apple` only).
    pub apple: Option<AppleConfig>,
    #[serde(default)]
    pub loa: Loa,
    /// Only for providers trusted for identity linking: the claim whose verified value becomes
    /// the strong identifier (and is removed from the claims).
    pub strong_identifier_claim: Option<String>,
    /// OIDC: also call userinfo and merge its claims (ID token claims win).
    #[serde(default)]
    pub userinfo: bool,
    /// RFC 7636 PKCE (S256) towards this provider. Unset: the preset's choice, on for every
    /// preset but Naver's (see `settings`).
    pub pkce: Option<bool>,
}

fn yes() -> bool {
    true
}

impl Default for UpstreamConfig {
    /// An enabled, empty generic OIDC provider: a base for `..Default::default()`.
    fn default() -> Self {
        Self {
            id: String::new(),
            kind: Kind::Oidc,
            preset: Preset::Generic,
            issuer: None,
            authorization_endpoint: None,
            token_endpoint: None,
            profile_endpoint: None,
            client_id: String::new(),
            client_secret: None,
            client_secret_file: None,
            client_secret_env: None,
            scopes: Vec::new(),
            display_name: DisplayName::default(),
            enabled: true,
            claims: BTreeMap::new(),
            subject_pointer: None,
            apple: None,
            loa: Loa::Low,
            strong_identifier_claim: None,
            userinfo: false,
            pkce: None,
        }
    }
}

impl fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("preset", &self.preset)
            .field("issuer", &self.issuer)
            .field("authorization_endpoint", &self.authorization_endpoint)
            .field("token_endpoint", &self.token_endpoint)
            .field("profile_endpoint", &self.profile_endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("client_secret_file", &self.client_secret_file)
            .field("client_secret_env", &self.client_secret_env)
            .field("scopes", &self.scopes)
            .field("enabled", &self.enabled)
            .field("apple", &self.apple)
            .field("loa", &self.loa)
            .field("strong_identifier_claim", &self.strong_identifier_claim)
            .field("userinfo", &self.userinfo)
            .field("pkce", &self.pkce)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Oidc,
    Oauth2,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    #[default]
    Generic,
    Kakao,
    Google,
    Apple,
    Naver,
}

/// The button label in each language of the login page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisplayName {
    pub ko: String,
    pub en: String,
}

/// The Sign in with Apple key (a `.p8` file: PKCS#8 P-256, PEM) that signs the client secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppleConfig {
    pub team_id: String,
    pub key_id: String,
    pub private_key_file: Option<PathBuf>,
    pub private_key_pem: Option<String>,
}

impl fmt::Debug for AppleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppleConfig")
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .field("private_key_file", &self.private_key_file)
            .field(
                "private_key_pem",
                &self.private_key_pem.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

pub const KAKAO_ISSUER: &str = "https://kauth.kakao.com";
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";
/// R-GOOGLE-1: older Google ID tokens carry the issuer without its scheme.
pub const GOOGLE_LEGACY_ISSUER: &str = "accounts.google.com";
pub const APPLE_ISSUER: &str = "https://appleid.apple.com";
pub const NAVER_AUTHORIZATION: &str = "https://nid.naver.com/oauth2.0/authorize";
pub const NAVER_TOKEN: &str = "https://nid.naver.com/oauth2.0/token";
pub const NAVER_PROFILE: &str = "https://openapi.naver.com/v1/nid/me";

/// How the client authenticates at the token endpoint (OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// RFC 6749 §2.3.1 HTTP Basic.
    Basic,
    /// RFC 6749 §2.3.1 request body (`client_secret_post`).
    Post,
}

/// ID token signature algorithms we accept: never `none`, never a shared-secret MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdTokenAlg {
    Rs256,
    Es256,
}

/// The settings a provider runs with: the configuration over its preset's defaults.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// OIDC: the discovery base. OAuth 2: the base of the synthesised issuer.
    pub issuer: Option<String>,
    /// OIDC: further spellings of the issuer accepted in `iss` (Google's legacy one).
    pub issuer_aliases: Vec<String>,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub profile_endpoint: Option<String>,
    pub scopes: Vec<String>,
    pub claims: BTreeMap<String, String>,
    pub subject_pointer: Option<String>,
    /// `None`: decide from the discovery document.
    pub client_auth: Option<ClientAuth>,
    pub algs: Vec<IdTokenAlg>,
    pub form_post: bool,
    /// RFC 7636 PKCE S256: the preset's choice unless the configuration says.
    pub pkce: bool,
    /// Naver's token endpoint wants the `state` again.
    pub state_on_token: bool,
    /// R-KAKAO-3: an email in Kakao's ID token is a verified one.
    pub id_token_email_is_verified: bool,
}

fn naver_claims() -> BTreeMap<String, String> {
    [
        ("name", "/response/name"),
        ("nickname", "/response/nickname"),
        ("email", "/response/email"),
        ("phone_number", "/response/mobile_e164"),
        ("picture", "/response/profile_image"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl UpstreamConfig {
    fn err(&self, message: impl fmt::Display) -> AdapterError {
        AdapterError::Config(format!("upstream {:?}: {message}", self.id))
    }

    /// The effective settings: the preset's defaults under the explicit configuration.
    ///
    /// PKCE (RFC 7636, S256) goes to every provider that takes it: Kakao (its discovery lists
    /// S256), Google, Apple (which then requires the verifier), and generic OIDC and OAuth 2
    /// providers, since RFC 6749 §3.1 has a server ignore parameters it does not know and RFC
    /// 9700 §2.1.1 recommends PKCE for every client. Not to Naver's legacy API
    /// (`/oauth2.0/`), which documents none; its code is protected instead by the `state`
    /// bound to the browser that began the login (single use, kept server-side, and sent
    /// again on Naver's token request) and by the client secret Naver requires to redeem it.
    /// `pkce = true` turns it on for Naver's newer `/oauth2/` endpoints, which list S256;
    /// `pkce = false` turns it off for a provider that refuses the parameters, only with a
    /// client secret.
    pub(crate) fn settings(&self) -> Settings {
        let mut s = Settings {
            issuer: None,
            issuer_aliases: Vec::new(),
            authorization_endpoint: None,
            token_endpoint: None,
            profile_endpoint: None,
            scopes: Vec::new(),
            claims: BTreeMap::new(),
            subject_pointer: None,
            client_auth: None,
            algs: vec![IdTokenAlg::Rs256, IdTokenAlg::Es256],
            form_post: false,
            pkce: true,
            state_on_token: false,
            id_token_email_is_verified: false,
        };
        match self.preset {
            Preset::Generic => {
                if self.kind == Kind::Oidc {
                    s.scopes = strings(&["openid"]);
                } else {
                    // Most non-OIDC portals only take the secret in the body.
                    s.client_auth = Some(ClientAuth::Post);
                }
            }
            Preset::Kakao => {
                // korea-any-id.md §1.1, R-KAKAO-1..3; PKCE S256 per its discovery.
                s.issuer = Some(KAKAO_ISSUER.into());
                s.scopes = strings(&[
                    "openid",
                    "profile_nickname",
                    "profile_image",
                    "account_email",
                ]);
                s.client_auth = Some(ClientAuth::Post);
                s.algs = vec![IdTokenAlg::Rs256];
                s.id_token_email_is_verified = true;
            }
            Preset::Google => {
                // korea-any-id.md §1.3, R-GOOGLE-1; takes PKCE S256.
                s.issuer = Some(GOOGLE_ISSUER.into());
                s.issuer_aliases = vec![GOOGLE_LEGACY_ISSUER.into()];
                s.scopes = strings(&["openid", "email", "profile"]);
                s.algs = vec![IdTokenAlg::Rs256];
            }
            Preset::Apple => {
                // korea-any-id.md §1.4, R-APPLE-1..3; takes PKCE S256 (and then requires the
                // verifier).
                s.issuer = Some(APPLE_ISSUER.into());
                s.scopes = strings(&["openid", "name", "email"]);
                s.client_auth = Some(ClientAuth::Post);
                s.algs = vec![IdTokenAlg::Rs256];
                s.form_post = true;
            }
            Preset::Naver => {
                // korea-any-id.md §1.2, R-NAVER-1.
                s.authorization_endpoint = Some(NAVER_AUTHORIZATION.into());
                s.token_endpoint = Some(NAVER_TOKEN.into());
                s.profile_endpoint = Some(NAVER_PROFILE.into());
                s.subject_pointer = Some("/response/id".into());
                s.claims = naver_claims();
                s.client_auth = Some(ClientAuth::Post);
                // No PKCE on the legacy API: the browser-bound state (sent again on the token
                // request) and the required client secret protect the code.
                s.pkce = false;
                s.state_on_token = true;
            }
        }
        if let Some(pkce) = self.pkce {
            s.pkce = pkce;
        }
        if let Some(issuer) = &self.issuer {
            s.issuer = Some(issuer.trim_end_matches('/').to_owned());
        }
        if self.authorization_endpoint.is_some() {
            s.authorization_endpoint
                .clone_from(&self.authorization_endpoint);
        }
        if self.token_endpoint.is_some() {
            s.token_endpoint.clone_from(&self.token_endpoint);
        }
        if self.profile_endpoint.is_some() {
            s.profile_endpoint.clone_from(&self.profile_endpoint);
        }
        if self.subject_pointer.is_some() {
            s.subject_pointer.clone_from(&self.subject_pointer);
        }
        if !self.scopes.is_empty() {
            s.scopes.clone_from(&self.scopes);
        }
        if self.kind == Kind::Oidc && !s.scopes.iter().any(|x| x == "openid") {
            s.scopes.insert(0, "openid".into());
        }
        s.claims.extend(self.claims.clone());
        s
    }

    /// Check the table without touching the network or the file system.
    pub fn validate(&self) -> Result<(), AdapterError> {
        let id_ok = (1..=32).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !id_ok {
            return Err(self.err("id must be 1 to 32 characters of a-z, 0-9, '_' or '-'"));
        }
        match (self.preset, self.kind) {
            (Preset::Kakao | Preset::Google | Preset::Apple, Kind::Oauth2) => {
                return Err(self.err(format!("preset {:?} needs kind = \"oidc\"", self.preset)));
            }
            (Preset::Naver, Kind::Oidc) => {
                return Err(self.err("preset \"naver\" needs kind = \"oauth2\""));
            }
            _ => {}
        }
        if self.client_id.trim().is_empty() {
            return Err(self.err("client_id is required"));
        }
        if self.display_name.ko.trim().is_empty() || self.display_name.en.trim().is_empty() {
            return Err(self.err("display_name needs both ko and en"));
        }
        let secrets = [
            self.client_secret.is_some(),
            self.client_secret_file.is_some(),
            self.client_secret_env.is_some(),
        ]
        .into_iter()
        .filter(|x| *x)
        .count();
        if secrets > 1 {
            return Err(
                self.err("set at most one of client_secret, client_secret_file, client_secret_env")
            );
        }
        match (&self.apple, self.preset) {
            (Some(apple), Preset::Apple) => {
                if secrets > 0 {
                    return Err(self.err(
                        "Apple's client secret is generated from the [apple] key; remove client_secret*",
                    ));
                }
                if apple.team_id.trim().is_empty() || apple.key_id.trim().is_empty() {
                    return Err(self.err("apple.team_id and apple.key_id are required"));
                }
                if apple.private_key_file.is_some() == apple.private_key_pem.is_some() {
                    return Err(self
                        .err("set exactly one of apple.private_key_file, apple.private_key_pem"));
                }
            }
            (None, Preset::Apple) => {
                return Err(self
                    .err("preset \"apple\" needs an [apple] key (team_id, key_id, private key)"));
            }
            (Some(_), _) => return Err(self.err("[apple] only applies to preset \"apple\"")),
            (None, _) => {}
        }
        if self.preset == Preset::Naver && secrets == 0 {
            return Err(self.err("Naver needs a client secret"));
        }
        let s = self.settings();
        // RFC 9700 §2.1.1: a public client always uses PKCE.
        if !s.pkce && secrets == 0 && self.apple.is_none() {
            return Err(self.err("pkce = false needs a client secret (a public client uses PKCE)"));
        }
        match self.kind {
            Kind::Oidc => {
                let issuer = s
                    .issuer
                    .as_deref()
                    .ok_or_else(|| self.err("issuer is required"))?;
                self.check_url("issuer", issuer)?;
                if Url::parse(issuer).is_ok_and(|u| u.query().is_some() || u.fragment().is_some()) {
                    return Err(self.err("issuer must not have a query or fragment"));
                }
                if self.profile_endpoint.is_some() || self.subject_pointer.is_some() {
                    return Err(self.err(
                        "profile_endpoint and subject_pointer only apply to kind = \"oauth2\"",
                    ));
                }
            }
            Kind::Oauth2 => {
                for (name, value) in [
                    ("authorization_endpoint", &s.authorization_endpoint),
                    ("token_endpoint", &s.token_endpoint),
                    ("profile_endpoint", &s.profile_endpoint),
                ] {
                    let value = value
                        .as_deref()
                        .ok_or_else(|| self.err(format!("{name} is required")))?;
                    self.check_url(name, value)?;
                }
                if let Some(issuer) = &self.issuer {
                    self.check_url("issuer", issuer)?;
                }
                let pointer = s
                    .subject_pointer
                    .as_deref()
                    .ok_or_else(|| self.err("subject_pointer is required"))?;
                self.check_pointer("subject_pointer", pointer)?;
                if self.userinfo {
                    return Err(self.err("userinfo only applies to kind = \"oidc\""));
                }
            }
        }
        for (name, value) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
        ] {
            if let Some(value) = value {
                self.check_url(name, value)?;
            }
        }
        for scope in &s.scopes {
            if scope.is_empty()
                || !scope
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
            {
                return Err(self.err(format!("scope {scope:?} is not a valid scope token")));
            }
        }
        for (claim, pointer) in &self.claims {
            // Only what a relying party can be given is kept (OIDC Core §5.1 names).
            if !super::oidc::STANDARD_CLAIMS.contains(&claim.as_str()) {
                return Err(self.err(format!(
                    "claims: {claim:?} is not a standard claim ({})",
                    super::oidc::STANDARD_CLAIMS.join(", ")
                )));
            }
            self.check_pointer(&format!("claims.{claim}"), pointer)?;
        }
        if let Some(claim) = &self.strong_identifier_claim
            && claim.trim().is_empty()
        {
            return Err(self.err("strong_identifier_claim must not be empty"));
        }
        Ok(())
    }

    /// https everywhere, except plain http on loopback (test peers, local development).
    fn check_url(&self, name: &str, value: &str) -> Result<(), AdapterError> {
        let url = Url::parse(value).map_err(|e| self.err(format!("{name} {value:?}: {e}")))?;
        let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
            || matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
            || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback());
        match url.scheme() {
            "https" => Ok(()),
            "http" if loopback => Ok(()),
            _ => Err(self.err(format!(
                "{name} must be an https URL (http only on loopback)"
            ))),
        }
    }

    fn check_pointer(&self, name: &str, pointer: &str) -> Result<(), AdapterError> {
        // RFC 6901 §3: a JSON pointer is empty or starts with "/".
        if pointer.is_empty() || pointer.starts_with('/') {
            Ok(())
        } else {
            Err(self.err(format!(
                "{name}: {pointer:?} is not a JSON pointer (RFC 6901); it starts with '/'"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_like: serde_json::Value) -> Result<UpstreamConfig, serde_json::Error> {
        serde_json::from_value(toml_like)
    }

    fn naver() -> UpstreamConfig {
        parse(serde_json::json!({
            "id": "naver", "kind": "oauth2", "preset": "naver", "client_id": "c",
            "client_secret": "s", "display_name": {"ko": "네이버", "en": "Naver"}
        }))
        .unwrap()
    }

    #[test]
    fn presets_fill_endpoints_and_explicit_settings_win() {
        let n = naver();
        n.validate().unwrap();
        let s = n.settings();
        assert_eq!(s.token_endpoint.as_deref(), Some(NAVER_TOKEN));
        assert_eq!(s.subject_pointer.as_deref(), Some("/response/id"));
        assert_eq!(s.claims["email"], "/response/email");
        assert!(s.state_on_token && !s.pkce);
        // The operator's word wins over the preset's, both ways.
        let mut new_path = n.clone();
        new_path.pkce = Some(true);
        assert!(new_path.settings().pkce);
        let mut kakao = n.clone();
        kakao.kind = Kind::Oidc;
        kakao.preset = Preset::Kakao;
        assert!(kakao.settings().pkce);
        kakao.pkce = Some(false);
        assert!(!kakao.settings().pkce);
        kakao.validate().unwrap();
        let mut local = n.clone();
        local.token_endpoint = Some("http://127.0.0.1:9/token".into());
        local.claims.insert("email".into(), "/response/mail".into());
        let s = local.settings();
        assert_eq!(
            s.token_endpoint.as_deref(),
            Some("http://127.0.0.1:9/token")
        );
        assert_eq!(s.claims["email"], "/response/mail");
        assert_eq!(
            s.authorization_endpoint.as_deref(),
            Some(NAVER_AUTHORIZATION)
        );
    }

    #[test]
    fn oidc_scopes_always_include_openid_and_google_accepts_both_issuers() {
        let mut c = UpstreamConfig {
            id: "google".into(),
            preset: Preset::Google,
            client_id: "g".into(),
            scopes: vec!["email".into()],
            display_name: DisplayName {
                ko: "구글".into(),
                en: "Google".into(),
            },
            ..UpstreamConfig::default()
        };
        c.validate().unwrap();
        let s = c.settings();
        assert_eq!(s.scopes, ["openid", "email"]);
        assert_eq!(s.issuer.as_deref(), Some(GOOGLE_ISSUER));
        assert_eq!(s.issuer_aliases, [GOOGLE_LEGACY_ISSUER]);
        c.preset = Preset::Kakao;
        c.scopes.clear();
        let s = c.settings();
        assert_eq!(s.scopes[0], "openid");
        assert!(s.scopes.contains(&"account_email".to_owned()));
        assert_eq!(s.client_auth, Some(ClientAuth::Post));
        assert_eq!(s.algs, [IdTokenAlg::Rs256]);
    }

    #[test]
    fn validation_names_the_provider_and_the_problem() {
        type Tweak = Box<dyn Fn(&mut UpstreamConfig)>;
        let cases: Vec<(&str, Tweak)> = vec![
            ("id must be", Box::new(|c| c.id = "Naver!".into())),
            ("id must be", Box::new(|c| c.id = "x".repeat(33))),
            ("needs kind = \"oauth2\"", Box::new(|c| c.kind = Kind::Oidc)),
            (
                "client_id is required",
                Box::new(|c| c.client_id = " ".into()),
            ),
            ("display_name", Box::new(|c| c.display_name.en.clear())),
            (
                "at most one",
                Box::new(|c| c.client_secret_env = Some("X".into())),
            ),
            (
                "needs a client secret",
                Box::new(|c| c.client_secret = None),
            ),
            (
                "https",
                Box::new(|c| c.token_endpoint = Some("http://example.com/t".into())),
            ),
            (
                "token_endpoint",
                Box::new(|c| c.token_endpoint = Some("not a url".into())),
            ),
            (
                "JSON pointer",
                Box::new(|c| {
                    c.claims.insert("email".into(), "response.email".into());
                }),
            ),
            (
                "JSON pointer",
                Box::new(|c| c.subject_pointer = Some("id".into())),
            ),
            (
                "not a standard claim",
                Box::new(|c| {
                    c.claims
                        .insert("resident_number".into(), "/response/rrn".into());
                }),
            ),
            ("userinfo", Box::new(|c| c.userinfo = true)),
            (
                "[apple]",
                Box::new(|c| {
                    c.apple = Some(AppleConfig {
                        team_id: "t".into(),
                        key_id: "k".into(),
                        private_key_file: None,
                        private_key_pem: Some("pem".into()),
                    })
                }),
            ),
            (
                "strong_identifier_claim",
                Box::new(|c| c.strong_identifier_claim = Some(String::new())),
            ),
            (
                "pkce = false needs a client secret",
                Box::new(|c| {
                    c.preset = Preset::Generic;
                    c.client_secret = None;
                    c.pkce = Some(false);
                }),
            ),
        ];
        for (expected, tweak) in cases {
            let mut c = naver();
            tweak(&mut c);
            let e = c.validate().unwrap_err().to_string();
            assert!(e.contains(expected), "{expected:?} not in {e:?}");
            assert!(e.contains("upstream \""), "{e}");
        }
    }

    #[test]
    fn oidc_and_apple_rules() {
        let mut c = UpstreamConfig {
            id: "gov".into(),
            client_id: "c".into(),
            display_name: DisplayName {
                ko: "정부".into(),
                en: "Gov".into(),
            },
            ..UpstreamConfig::default()
        };
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("issuer is required")
        );
        c.issuer = Some("http://127.0.0.1:8080/".into());
        c.validate().unwrap();
        assert_eq!(
            c.settings().issuer.as_deref(),
            Some("http://127.0.0.1:8080")
        );
        c.issuer = Some("https://id.example/?x=1".into());
        assert!(c.validate().unwrap_err().to_string().contains("query"));
        c.issuer = Some("https://id.example".into());
        c.subject_pointer = Some("/id".into());
        assert!(c.validate().unwrap_err().to_string().contains("oauth2"));
        c.subject_pointer = None;

        c.preset = Preset::Apple;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("needs an [apple] key")
        );
        c.apple = Some(AppleConfig {
            team_id: "TEAM".into(),
            key_id: "KEY".into(),
            private_key_file: Some("/k.p8".into()),
            private_key_pem: Some("pem".into()),
        });
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("exactly one")
        );
        if let Some(a) = c.apple.as_mut() {
            a.private_key_pem = None;
        }
        c.validate().unwrap();
        assert!(c.settings().form_post);
        c.client_secret = Some("s".into());
        assert!(c.validate().unwrap_err().to_string().contains("generated"));
    }

    #[test]
    fn unknown_fields_are_refused_and_loa_reads_lowercase() {
        let bad = parse(serde_json::json!({
            "id": "x", "kind": "oidc", "client_id": "c", "issuer": "https://a",
            "display_name": {"ko": "a", "en": "a"}, "client_secret_typo": "s"
        }));
        assert!(bad.is_err());
        let ok = parse(serde_json::json!({
            "id": "x", "kind": "oidc", "client_id": "c", "issuer": "https://a",
            "display_name": {"ko": "a", "en": "a"}, "loa": "substantial"
        }))
        .unwrap();
        assert_eq!(ok.loa, Loa::Substantial);
        assert!(ok.enabled);
        assert_eq!(ok.preset, Preset::Generic);
    }

    #[test]
    fn debug_never_shows_secrets() {
        let mut c = naver();
        c.client_secret = Some("top-secret-value".into());
        c.apple = Some(AppleConfig {
            team_id: "t".into(),
            key_id: "k".into(),
            private_key_file: None,
            private_key_pem: Some("-----BEGIN PRIVATE KEY-----secret".into()),
        });
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("top-secret-value") && !shown.contains("BEGIN"),
            "{shown}"
        );
    }
}
