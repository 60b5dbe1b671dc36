//! Relying-party registration: the one place that validates and creates clients, used by the
//! CLI and the admin API alike. Secrets are 256-bit random values shown once, stored hashed.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::clock::UnixTime;
use crate::config::{Mode, is_loopback};
use crate::crypto;
use crate::oidc::SUPPORTED_SCOPES;
use crate::oidc::grants::GrantType;
use crate::oidc::subject::sector_of;
use crate::store::{ClientRecord, ClientStore, RecipientNotice, SqlStore, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Invalid(String),
    #[error("client {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("random generator failed")]
    Random,
}

/// A registration request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewClient {
    /// Chosen id (dev's demo client); otherwise generated.
    pub client_id: Option<String>,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// Defaults to `authorization_code` and `refresh_token`.
    pub grant_types: Vec<String>,
    /// Extra scopes (for service clients); code clients get the OIDC scopes.
    pub scopes: Vec<String>,
    /// `pairwise` (default) or `public`.
    pub subject_type: Option<String>,
    /// An https URL of a JSON array of redirect URIs (OIDC Core §8.1): every redirect URI
    /// must be in it, and its host becomes the sector of pairwise subjects.
    pub sector_identifier_uri: Option<String>,
    /// `ES256` (default) or `RS256`.
    pub id_token_signed_response_alg: Option<String>,
    /// The lowest assurance this relying party accepts, as an acr value
    /// (`urn:anyid:loa:low|substantial|high`).
    pub min_acr: Option<String>,
    /// Handles sensitive data: the default policies require a high-assurance login.
    pub sensitive: bool,
    /// The agency the relying party belongs to.
    pub agency: Option<String>,
    /// What the relying party uses citizens' data for (shown on the consent page).
    pub purpose: Option<String>,
    /// How long it keeps what it receives (shown on the consent page).
    pub retention: Option<String>,
    /// Its privacy policy (https).
    pub policy_uri: Option<String>,
}

/// What a relying party's registration looks like from outside: no secret material.
#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub subject_type: String,
    pub sector_identifier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sector_identifier_uri: Option<String>,
    pub id_token_signed_response_alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_acr: Option<String>,
    pub sensitive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<String>,
    pub token_endpoint_auth_methods: [&'static str; 2],
    pub created_at: UnixTime,
    pub secret_rotated_at: UnixTime,
}

impl From<&ClientRecord> for ClientView {
    fn from(c: &ClientRecord) -> Self {
        Self {
            client_id: c.id.clone(),
            name: c.name.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            grant_types: c.grant_types.clone(),
            scopes: c.scopes.clone(),
            subject_type: c.subject_type.clone(),
            sector_identifier: c.sector_identifier.clone(),
            sector_identifier_uri: c.sector_identifier_uri.clone(),
            id_token_signed_response_alg: c.id_token_alg.clone(),
            min_acr: c.min_acr.clone(),
            sensitive: c.sensitive,
            agency: c.agency.clone(),
            purpose: c.notice.purpose.clone(),
            retention: c.notice.retention.clone(),
            policy_uri: c.notice.policy_uri.clone(),
            token_endpoint_auth_methods: ["client_secret_basic", "client_secret_post"],
            created_at: c.created_at,
            secret_rotated_at: c.secret_rotated_at,
        }
    }
}

/// A new client and its secret, which is shown this once.
#[derive(Serialize)]
pub struct Registered {
    #[serde(flatten)]
    pub client: ClientView,
    pub client_secret: String,
}

crate::redact::debug_without_secrets!(Registered { client });

/// Validate a registration into a record (with `secret_hash` still empty). `sector` is the
/// host of a sector identifier URI whose document was fetched and listed every redirect URI
/// ([`verify_sector`]).
pub fn validate(
    new: &NewClient,
    mode: Mode,
    sector: Option<&str>,
    now: UnixTime,
) -> Result<ClientRecord, ClientError> {
    let invalid = |m: String| Err(ClientError::Invalid(m));
    let name = new.name.trim();
    if name.is_empty() || name.len() > 200 {
        return invalid("a client needs a name of 1-200 characters".into());
    }
    let grant_types: Vec<String> = if new.grant_types.is_empty() {
        vec!["authorization_code".into(), "refresh_token".into()]
    } else {
        new.grant_types.clone()
    };
    for g in &grant_types {
        if GrantType::parse(g).is_none() {
            return invalid(format!(
                "unknown grant type {g:?} (authorization_code, refresh_token, client_credentials)"
            ));
        }
    }
    let code_flow = grant_types.iter().any(|g| g == "authorization_code");
    if code_flow && new.redirect_uris.is_empty() {
        return invalid("an authorization_code client needs at least one --redirect-uri".into());
    }
    for uri in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        check_redirect_uri(uri)?;
    }
    let subject_type = new
        .subject_type
        .clone()
        .unwrap_or_else(|| "pairwise".into());
    if !matches!(subject_type.as_str(), "pairwise" | "public") {
        return invalid("subject type must be pairwise or public".into());
    }
    // OIDC Core §8.1: without a sector identifier URI, every redirect URI must share one host.
    let sector_identifier = match sector {
        Some(host) => host.to_owned(),
        None => {
            let hosts: Vec<String> = new
                .redirect_uris
                .iter()
                .filter_map(|u| sector_of(u))
                .collect();
            match hosts.first() {
                Some(first) if hosts.iter().all(|h| h == first) => first.clone(),
                Some(_) => {
                    return invalid(
                        "redirect URIs span several hosts; give a sector_identifier_uri".into(),
                    );
                }
                None => String::new(),
            }
        }
    };
    // Every native app on every device shares the loopback host: as a sector it would give
    // all of them the same pairwise subject for a citizen.
    let loopback = new
        .redirect_uris
        .iter()
        .any(|u| Url::parse(u).is_ok_and(|u| is_loopback(&u)));
    if mode == Mode::Production && subject_type == "pairwise" && loopback && sector.is_none() {
        return invalid(
            "loopback redirect URIs are shared by every native app: give a sector_identifier_uri \
             so this client's pairwise subjects are its own"
                .into(),
        );
    }
    let notice = RecipientNotice {
        purpose: statement("purpose", new.purpose.as_deref())?,
        retention: statement("retention", new.retention.as_deref())?,
        policy_uri: match new.policy_uri.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(uri) => {
                check_web_uri("policy_uri", uri, mode)?;
                Some(uri.to_owned())
            }
        },
    };
    // A consent notice must name the purpose and the retention (PIPA art. 17(2)); dev mode
    // lets a quick registration leave them out, and its consent page says they are missing.
    if mode == Mode::Production
        && code_flow
        && (notice.purpose.is_none() || notice.retention.is_none())
    {
        return invalid(
            "a client that receives citizens' data needs a purpose and a retention period \
             (they are shown on the consent page)"
                .into(),
        );
    }
    let id_token_alg = new
        .id_token_signed_response_alg
        .clone()
        .unwrap_or_else(|| "ES256".into());
    if !matches!(id_token_alg.as_str(), "ES256" | "RS256") {
        return invalid("id_token_signed_response_alg must be ES256 or RS256".into());
    }
    if let Some(acr) = &new.min_acr
        && anyid_policy::Loa::from_acr(acr).is_none()
    {
        return invalid(format!(
            "min_acr {acr:?} is not one of urn:anyid:loa:low, urn:anyid:loa:substantial, urn:anyid:loa:high"
        ));
    }
    let mut scopes: Vec<String> = if code_flow {
        SUPPORTED_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    for s in &new.scopes {
        let valid = !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if !valid {
            return invalid(format!(
                "scope {s:?} is not a valid scope token (RFC 6749 §3.3)"
            ));
        }
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    let id = match &new.client_id {
        Some(id) => {
            if id.is_empty()
                || id.len() > 100
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return invalid("client ids use letters, digits, - and _ (1-100)".into());
            }
            // Any-ID's own names: the portal's login requests, and the reporter of its own
            // events in the access record (a client named so would report as Any-ID).
            if [
                crate::login::PORTAL_CLIENT,
                crate::audit::event::OWN_REPORTER,
            ]
            .contains(&id.to_ascii_lowercase().as_str())
            {
                return invalid(format!("the client id {id} is reserved for Any-ID itself"));
            }
            id.clone()
        }
        None => crypto::b64(&crypto::random_bytes::<16>().map_err(|_| ClientError::Random)?),
    };
    let agency = match new.agency.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(a) if a.len() <= 100 && !a.chars().any(char::is_control) => Some(a.to_owned()),
        Some(_) => {
            return invalid("an agency is 1-100 characters without control characters".into());
        }
    };
    Ok(ClientRecord {
        id,
        name: name.to_owned(),
        secret_hash: Vec::new(),
        redirect_uris: new.redirect_uris.clone(),
        post_logout_redirect_uris: new.post_logout_redirect_uris.clone(),
        grant_types,
        scopes,
        subject_type,
        sector_identifier,
        id_token_alg,
        min_acr: new.min_acr.clone(),
        sensitive: new.sensitive,
        agency,
        sector_identifier_uri: sector.and(new.sector_identifier_uri.clone()),
        notice,
        created_at: now,
        secret_rotated_at: now,
    })
}

/// A statement for the consent page: trimmed, 1-500 characters, no control characters.
fn statement(field: &str, value: Option<&str>) -> Result<Option<String>, ClientError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.chars().count() <= 500 && !v.chars().any(char::is_control) => {
            Ok(Some(v.to_owned()))
        }
        Some(_) => Err(ClientError::Invalid(format!(
            "{field} is 1-500 characters without control characters"
        ))),
    }
}

/// An https URL (http on loopback in dev mode, for tests and local trials).
fn check_web_uri(field: &str, uri: &str, mode: Mode) -> Result<Url, ClientError> {
    let url = Url::parse(uri)
        .map_err(|e| ClientError::Invalid(format!("{field} {uri:?} is not a URL: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if mode == Mode::Dev && is_loopback(&url) => Ok(url),
        _ => Err(ClientError::Invalid(format!(
            "{field} {uri:?} must use https"
        ))),
    }
}

/// The largest sector identifier document read.
const MAX_SECTOR_DOCUMENT: usize = 64 << 10;

/// OIDC Core §8.1: fetch the sector identifier URI's JSON array of redirect URIs and check
/// that it lists every redirect URI of the registration; the URI's host is the sector.
/// `None` when the registration names no sector identifier URI.
pub async fn verify_sector(new: &NewClient, mode: Mode) -> Result<Option<String>, ClientError> {
    let Some(uri) = new.sector_identifier_uri.as_deref().map(str::trim) else {
        return Ok(None);
    };
    let url = check_web_uri("sector_identifier_uri", uri, mode)?;
    let Some(host) = url.host_str().map(str::to_owned) else {
        return Err(ClientError::Invalid(format!(
            "sector_identifier_uri {uri:?} has no host"
        )));
    };
    let unreachable = |e: &dyn std::fmt::Display| {
        ClientError::Invalid(format!("sector_identifier_uri {uri:?}: {e}"))
    };
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| unreachable(&e))?;
    let mut response = http.get(url).send().await.map_err(|e| unreachable(&e))?;
    if !response.status().is_success() {
        return Err(unreachable(&format!("HTTP {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&e))? {
        if body.len() + chunk.len() > MAX_SECTOR_DOCUMENT {
            return Err(unreachable(&format!(
                "larger than {MAX_SECTOR_DOCUMENT} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let listed: Vec<String> = serde_json::from_slice(&body)
        .map_err(|_| unreachable(&"not a JSON array of redirect URIs"))?;
    if let Some(missing) = new.redirect_uris.iter().find(|r| !listed.contains(r)) {
        return Err(unreachable(&format!(
            "does not list the redirect URI {missing:?}"
        )));
    }
    Ok(Some(host))
}

/// RFC 6749 §3.1.2: absolute, no fragment; https except on loopback (RFC 8252 §7.3).
fn check_redirect_uri(uri: &str) -> Result<(), ClientError> {
    let url = Url::parse(uri)
        .map_err(|e| ClientError::Invalid(format!("{uri:?} is not an absolute URL: {e}")))?;
    if url.fragment().is_some() {
        return Err(ClientError::Invalid(format!(
            "{uri:?} must not have a fragment"
        )));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        _ => Err(ClientError::Invalid(format!(
            "{uri:?} must use https (http only on loopback)"
        ))),
    }
}

/// Permission to manage relying parties: every function here that changes or reveals a
/// registration takes one, so a handler that forgets the check does not compile. The admin
/// API makes one only for an authenticated administrator ([`Admin::authenticated`]); the
/// operator's command line and the dev server's own demo registration, which run with the
/// database's credentials and so hold every registration already, say so
/// ([`Admin::operator`]).
pub struct Admin(());

impl Admin {
    /// The admin API: a caller the admin plane authenticated (`admins::authenticate`) and
    /// policy allowed.
    pub fn authenticated(_: &crate::admins::Caller) -> Self {
        Self(())
    }

    /// The process itself, holding the database: the CLI, or dev mode's demo client.
    pub fn operator() -> Self {
        Self(())
    }
}

fn new_secret() -> Result<(String, Vec<u8>), ClientError> {
    let secret = crypto::random_token().map_err(|_| ClientError::Random)?;
    let hash = crypto::secret_hash(&secret);
    Ok((secret, hash))
}

pub async fn add(
    _: &Admin,
    store: &SqlStore,
    new: &NewClient,
    mode: Mode,
    now: UnixTime,
) -> Result<Registered, ClientError> {
    let sector = verify_sector(new, mode).await?;
    let mut record = validate(new, mode, sector.as_deref(), now)?;
    let (secret, hash) = new_secret()?;
    record.secret_hash = hash;
    match store.insert_client(&record).await {
        Err(StoreError::Conflict(_)) => {
            return Err(ClientError::Invalid(format!(
                "client {} already exists",
                record.id
            )));
        }
        other => other?,
    }
    Ok(Registered {
        client: ClientView::from(&record),
        client_secret: secret,
    })
}

/// Register or replace a client with a given secret (dev mode's demo relying party).
pub async fn put_with_secret(
    _: &Admin,
    store: &SqlStore,
    new: &NewClient,
    secret: &str,
    mode: Mode,
    now: UnixTime,
) -> Result<ClientRecord, ClientError> {
    let sector = verify_sector(new, mode).await?;
    let mut record = validate(new, mode, sector.as_deref(), now)?;
    record.secret_hash = crypto::secret_hash(secret);
    store.upsert_client(&record).await?;
    Ok(record)
}

pub async fn list(_: &Admin, store: &SqlStore) -> Result<Vec<ClientView>, ClientError> {
    Ok(store
        .clients()
        .await?
        .iter()
        .map(ClientView::from)
        .collect())
}

pub async fn show(_: &Admin, store: &SqlStore, id: &str) -> Result<ClientView, ClientError> {
    store
        .client(id)
        .await?
        .as_ref()
        .map(ClientView::from)
        .ok_or_else(|| ClientError::NotFound(id.to_owned()))
}

/// Replace a client's secret; the old one stops working at once.
pub async fn rotate_secret(
    admin: &Admin,
    store: &SqlStore,
    id: &str,
    now: UnixTime,
) -> Result<Registered, ClientError> {
    let (secret, hash) = new_secret()?;
    if !store.replace_client_secret(id, &hash, now).await? {
        return Err(ClientError::NotFound(id.to_owned()));
    }
    Ok(Registered {
        client: show(admin, store, id).await?,
        client_secret: secret,
    })
}

/// Remove a client; every grant issued to it is revoked.
pub async fn remove(
    _: &Admin,
    store: &SqlStore,
    id: &str,
    now: UnixTime,
) -> Result<(), ClientError> {
    if store.remove_client(id, now).await? {
        Ok(())
    } else {
        Err(ClientError::NotFound(id.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(uris: &[&str]) -> NewClient {
        NewClient {
            name: "RP".into(),
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            ..NewClient::default()
        }
    }

    #[test]
    fn any_id_s_own_names_are_not_client_ids() {
        for id in ["anyid", "AnyID", "anyid-account"] {
            let named = NewClient {
                client_id: Some(id.into()),
                ..new(&["https://rp.example/cb"])
            };
            assert!(validate(&named, Mode::Dev, None, 0).is_err(), "{id}");
        }
        let fine = NewClient {
            client_id: Some("anyid-welfare".into()),
            ..new(&["https://rp.example/cb"])
        };
        assert!(validate(&fine, Mode::Dev, None, 0).is_ok());
    }

    #[test]
    fn redirect_uris_must_be_https_or_loopback_without_fragment() {
        assert!(validate(&new(&["https://rp.example/cb"]), Mode::Dev, None, 0).is_ok());
        assert!(validate(&new(&["http://127.0.0.1:9000/cb"]), Mode::Dev, None, 0).is_ok());
        assert!(validate(&new(&["http://rp.example/cb"]), Mode::Dev, None, 0).is_err());
        assert!(validate(&new(&["https://rp.example/cb#x"]), Mode::Dev, None, 0).is_err());
        assert!(validate(&new(&["/relative"]), Mode::Dev, None, 0).is_err());
        assert!(validate(&new(&[]), Mode::Dev, None, 0).is_err());
    }

    #[test]
    fn sector_defaults_to_the_redirect_host_and_needs_one_host() {
        let c = validate(
            &new(&["https://rp.example/a", "https://rp.example/b"]),
            Mode::Dev,
            None,
            0,
        )
        .unwrap();
        assert_eq!(c.sector_identifier, "rp.example");
        assert!(
            validate(
                &new(&["https://a.example/cb", "https://b.example/cb"]),
                Mode::Dev,
                None,
                0
            )
            .is_err()
        );
    }

    /// Production: a pairwise loopback client needs a verified sector (native apps share the
    /// loopback host), and a code-flow client a purpose and retention for its consent page.
    #[test]
    fn production_registrations_need_a_sector_for_loopback_and_a_consent_notice() {
        let mut n = new(&["http://127.0.0.1:9000/cb"]);
        n.purpose = Some("Filing tax returns".into());
        n.retention = Some("5 years".into());
        let err = validate(&n, Mode::Production, None, 0).unwrap_err();
        assert!(err.to_string().contains("sector_identifier_uri"), "{err}");
        let c = validate(&n, Mode::Production, Some("apps.tax.example"), 0).unwrap();
        assert_eq!(c.sector_identifier, "apps.tax.example");
        n.subject_type = Some("public".into());
        assert!(validate(&n, Mode::Production, None, 0).is_ok());

        let mut n = new(&["https://rp.example/cb"]);
        assert!(
            validate(&n, Mode::Dev, None, 0).is_ok(),
            "dev: may be left out"
        );
        let err = validate(&n, Mode::Production, None, 0).unwrap_err();
        assert!(err.to_string().contains("purpose"), "{err}");
        n.purpose = Some("  Filing tax returns ".into());
        n.retention = Some("5 years after the last filing".into());
        let c = validate(&n, Mode::Production, None, 0).unwrap();
        assert_eq!(c.notice.purpose.as_deref(), Some("Filing tax returns"));
        n.retention = Some("x\u{7}".into());
        assert!(
            validate(&n, Mode::Production, None, 0).is_err(),
            "control characters"
        );
        n.retention = Some("y".repeat(501));
        assert!(validate(&n, Mode::Production, None, 0).is_err(), "too long");
        n.retention = Some("5 years".into());
        n.policy_uri = Some("http://rp.example/privacy".into());
        assert!(
            validate(&n, Mode::Production, None, 0).is_err(),
            "https only"
        );
    }

    #[test]
    fn grant_types_and_algorithms_are_checked() {
        let mut n = new(&["https://rp.example/cb"]);
        n.grant_types = vec!["implicit".into()];
        assert!(validate(&n, Mode::Dev, None, 0).is_err());
        let mut n = new(&["https://rp.example/cb"]);
        n.id_token_signed_response_alg = Some("HS256".into());
        assert!(validate(&n, Mode::Dev, None, 0).is_err());
        let service = NewClient {
            name: "svc".into(),
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["records.read".into()],
            ..NewClient::default()
        };
        let c = validate(&service, Mode::Dev, None, 0).unwrap();
        assert_eq!(c.scopes, vec!["records.read"]);
    }
}
