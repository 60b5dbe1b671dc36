//! Validation: [`Config::resolve`] checks a [`ConfigFile`] once and turns it into the
//! immutable [`Config`] the server runs on. Resolving only reads: in dev mode it takes the
//! generated secrets and the dev CA from the data dir, which `dev::prepare` writes first.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

use anyid_adapters::certificate::CertificateConfig;
use anyid_adapters::upstream::UpstreamConfig;

use super::schema::{
    LimitsConfig, LogConfig, PasskeyConfig, PolicyFileConfig, RetentionConfig, TokenLifetimes,
};
use super::{ConfigError, ConfigFile, Mode, Secret, dev};
use crate::crypto;
use anyid_policy::calendar::Calendar;
use anyid_policy::facts::Agency;
use anyid_policy::zones::Zones;

/// The shortest retention of access records production accepts: two years.
pub const MIN_ACCESS_RECORD_DAYS: u32 = 730;

/// Validated, immutable configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub issuer: Url,
    pub listen: SocketAddr,
    pub admin_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub database_url: Secret,
    pub database_max_connections: u32,
    pub key_encryption_key: KeyBytes,
    /// Keyed-hash and MAC keys per purpose, from the subject (and form) secret.
    pub purpose_keys: crate::crypto::PurposeKeys,
    pub admin_token: Option<Secret>,
    pub dev_login: bool,
    pub tokens: TokenLifetimes,
    pub log: LogConfig,
    pub upstreams: Vec<UpstreamConfig>,
    /// The WebAuthn relying-party id, when passkeys are on.
    pub passkey_rp_id: Option<String>,
    /// Certificate login, when on.
    pub certificates: Option<CertificateConfig>,
    pub mtls: Option<Mtls>,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub limits: LimitsConfig,
    pub retention: RetentionConfig,
    /// A GeoIP database for the travel signal of login risk.
    pub geoip_database: Option<PathBuf>,
    pub policy: PolicyConfig,
    pub audit: super::schema::AuditConfig,
}

/// The policy decision point's settings, checked.
#[derive(Debug, Clone)]
pub struct PolicyConfig {
    /// Where the deployment's policies are; `None`: the built-in set.
    pub dir: Option<PathBuf>,
    pub calendar: Calendar,
    pub zones: Zones,
    pub agencies: Vec<Agency>,
}

/// Raw key bytes, never printed.
#[derive(Clone)]
pub struct KeyBytes(pub Vec<u8>);

impl fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyBytes([redacted])")
    }
}

impl KeyBytes {
    pub fn as_aes_key(&self) -> Option<&[u8; 32]> {
        self.0.as_slice().try_into().ok()
    }
}

/// The resolved mutual-TLS listener.
#[derive(Debug, Clone)]
pub struct Mtls {
    pub listen: SocketAddr,
    pub url: String,
    pub certificate: PathBuf,
    pub private_key: PathBuf,
}

impl Config {
    /// Validate `file` for `mode`. Writes nothing: in dev mode, secrets not configured come
    /// from the dev secrets file that [`dev::prepare`] wrote; production refuses to start
    /// without them.
    pub fn resolve(file: ConfigFile, mode: Mode) -> Result<Self, ConfigError> {
        let issuer = match &file.issuer {
            Some(text) => parse_issuer(text)?,
            // Browsers treat `localhost` as a secure context and accept it as a WebAuthn
            // relying-party id; a bare loopback IP address works for neither.
            None if file.listen.ip() == std::net::Ipv4Addr::LOCALHOST => {
                parse_issuer(&format!("http://localhost:{}", file.listen.port()))?
            }
            None => parse_issuer(&format!("http://{}", file.listen))?,
        };
        let dev_login = file.dev_login || mode == Mode::Dev;
        if mode == Mode::Production {
            if file.dev_login {
                return Err(ConfigError::Invalid(
                    "dev_login is a development convenience and is refused in production".into(),
                ));
            }
            if issuer.scheme() != "https" && !is_loopback(&issuer) {
                return Err(ConfigError::Invalid(format!(
                    "issuer {issuer} must use https (plain http is allowed only on loopback)"
                )));
            }
            // Records of access to personal data are kept for at least two years
            // (../shared/reference/korea-any-id.md §6).
            let days = file.retention.access_record_days;
            if (1..MIN_ACCESS_RECORD_DAYS).contains(&days) {
                return Err(ConfigError::Invalid(format!(
                    "retention.access_record_days = {days}: access records must be kept at \
                     least {MIN_ACCESS_RECORD_DAYS} days (two years) in production"
                )));
            }
        }
        let dev = match mode {
            Mode::Dev => dev::read_secrets(&file.data_dir)?,
            Mode::Production => None,
        };
        let missing = |name: &str, production: &str| match mode {
            Mode::Dev => dev::unprepared(format!(
                "{name} is not configured and {} does not exist",
                file.data_dir.join(dev::DEV_SECRETS_FILE).display()
            )),
            Mode::Production => ConfigError::Invalid(production.into()),
        };
        let kek = secret_value(
            "key_encryption_key",
            &file.key_encryption_key,
            &file.key_encryption_key_file,
        )?
        .or_else(|| {
            dev.as_ref()
                .map(|d| Secret::new(d.key_encryption_key.clone()))
        });
        let Some(kek) = kek else {
            return Err(missing(
                "key_encryption_key",
                "key_encryption_key (or key_encryption_key_file) is required in production; \
                 generate one with `anyid keys gen-kek`",
            ));
        };
        let key_encryption_key = decode_key("key_encryption_key", &kek, 32, Some(32))?;
        let subject = secret_value(
            "subject_secret",
            &file.subject_secret,
            &file.subject_secret_file,
        )?
        .or_else(|| dev.as_ref().map(|d| Secret::new(d.subject_secret.clone())));
        let Some(subject) = subject else {
            return Err(missing(
                "subject_secret",
                "subject_secret (or subject_secret_file) is required in production",
            ));
        };
        let subject_secret = decode_key("subject_secret", &subject, 32, None)?;
        let form_secret = secret_value("form_secret", &file.form_secret, &file.form_secret_file)?
            .map(|s| decode_key("form_secret", &s, 32, None))
            .transpose()?;
        let purpose_keys = crate::crypto::PurposeKeys::derive(
            &subject_secret.0,
            form_secret.as_ref().map(|k| k.0.as_slice()),
        );
        let admin_token = secret_value("admin_token", &file.admin_token, &file.admin_token_file)?
            .or_else(|| dev.as_ref().map(|d| Secret::new(d.admin_token.clone())));
        if file.admin_listen.is_some() && admin_token.is_none() {
            return Err(missing(
                "admin_token",
                "admin_listen is set but admin_token (or admin_token_file) is not",
            ));
        }
        if let Some(token) = &admin_token
            && token.expose().len() < 32
        {
            return Err(ConfigError::Invalid(
                "admin_token must be at least 32 characters".into(),
            ));
        }
        let database_url = Self::database_only(&file);
        let t = file.tokens;
        if t.access_token <= 0 || t.id_token <= 0 || t.refresh_token <= 0 || t.session <= 0 {
            return Err(ConfigError::Invalid(
                "token lifetimes must be positive".into(),
            ));
        }
        if !matches!(file.log.format.as_str(), "json" | "pretty") {
            return Err(ConfigError::Invalid(
                "log.format must be \"json\" or \"pretty\"".into(),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for upstream in &file.upstreams {
            upstream
                .validate()
                .map_err(|e| ConfigError::Invalid(format!("upstream {:?}: {e}", upstream.id)))?;
            if upstream.id == anyid_adapters::dev::METHOD || !ids.insert(upstream.id.clone()) {
                return Err(ConfigError::Invalid(format!(
                    "upstream id {:?} is used twice (or is reserved)",
                    upstream.id
                )));
            }
        }
        let passkey_rp_id = passkey_rp_id(&file.passkeys, &issuer)?;
        let trusted_proxies = file
            .trusted_proxies
            .iter()
            .map(|p| {
                p.parse::<ipnet::IpNet>()
                    .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "trusted_proxies: {p:?} is not an address or a CIDR block"
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let l = &file.limits;
        if l.login_per_source_per_minute == 0
            || l.login_per_second == 0
            || l.client_auth_failures_per_minute == 0
            || l.login_per_account_per_minute == 0
            || l.login_per_method_per_second == 0
            || (l.login_failures_before_lockout > 0 && l.lockout_minutes == 0)
        {
            return Err(ConfigError::Invalid("limits must be positive".into()));
        }
        let policy = PolicyConfig::from_file(&file.policy)?;
        let (certificates, mtls) = certificates(&file, mode)?;
        Ok(Self {
            mode,
            issuer,
            listen: file.listen,
            admin_listen: file.admin_listen,
            data_dir: file.data_dir,
            database_url,
            database_max_connections: file.database_max_connections.max(1),
            key_encryption_key,
            purpose_keys,
            admin_token,
            dev_login,
            tokens: t,
            log: file.log,
            upstreams: file.upstreams,
            passkey_rp_id,
            certificates,
            mtls,
            trusted_proxies,
            limits: file.limits.clone(),
            retention: file.retention,
            geoip_database: file.risk.geoip_database.clone(),
            policy,
            audit: file.audit,
        })
    }

    /// The configuration for commands that only need the database (client management,
    /// migrations): no secrets required.
    pub fn database_only(file: &ConfigFile) -> Secret {
        file.database_url.clone().unwrap_or_else(|| {
            Secret::new(format!(
                "sqlite://{}?mode=rwc",
                file.data_dir.join("anyid.db").display()
            ))
        })
    }
}

/// Certificate login and its mutual-TLS listener. Dev mode, unless told otherwise, uses the
/// dev CA in `<data_dir>/certs` for both transports.
fn certificates(
    file: &ConfigFile,
    mode: Mode,
) -> Result<(Option<CertificateConfig>, Option<Mtls>), ConfigError> {
    let mut config = file.certificates.clone();
    let mut mtls = file.mtls.clone();
    if mode == Mode::Dev && dev::uses_dev_ca(&config) {
        dev::use_dev_ca(&file.data_dir, file.listen, &mut config, &mut mtls)?;
    }
    if config.enabled != Some(true) {
        return Ok((None, None));
    }
    let mtls = match mtls.listen {
        None => None,
        Some(listen) => {
            let (Some(certificate), Some(private_key)) = (mtls.certificate, mtls.private_key)
            else {
                return Err(ConfigError::Invalid(
                    "mtls.listen needs mtls.certificate and mtls.private_key".into(),
                ));
            };
            let url = match mtls.url {
                Some(url) => url.trim_end_matches('/').to_owned(),
                None if listen.ip().is_loopback() => format!("https://localhost:{}", listen.port()),
                None => {
                    return Err(ConfigError::Invalid(
                        "mtls.url is required for a listener that is not on loopback".into(),
                    ));
                }
            };
            Some(Mtls {
                listen,
                url,
                certificate,
                private_key,
            })
        }
    };
    Ok((Some(config), mtls))
}

/// The WebAuthn relying-party id for `issuer`: the configured one (which must be the issuer's
/// host or a parent domain, WebAuthn §5.1.3) or the issuer's host when it is a domain.
fn passkey_rp_id(config: &PasskeyConfig, issuer: &Url) -> Result<Option<String>, ConfigError> {
    if !config.enabled {
        return Ok(None);
    }
    let host = match issuer.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        _ if config.rp_id.is_some() => {
            return Err(ConfigError::Invalid(
                "passkeys.rp_id needs an issuer whose host is a domain".into(),
            ));
        }
        // An IP-address issuer: passkeys stay off (the server logs why at start).
        _ => return Ok(None),
    };
    match &config.rp_id {
        None => Ok(Some(host)),
        Some(id) if host == *id || host.ends_with(&format!(".{id}")) => Ok(Some(id.clone())),
        Some(id) => Err(ConfigError::Invalid(format!(
            "passkeys.rp_id {id:?} is neither the issuer's host nor a parent domain of it"
        ))),
    }
}

fn parse_issuer(text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim_end_matches('/'))
        .map_err(|e| ConfigError::Invalid(format!("issuer {text:?}: {e}")))?;
    // OIDC Discovery §3: the issuer has no query or fragment.
    if url.query().is_some() || url.fragment().is_some() || url.cannot_be_a_base() {
        return Err(ConfigError::Invalid(format!(
            "issuer {text:?} must be an https URL without query or fragment"
        )));
    }
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ConfigError::Invalid(format!(
            "issuer {text:?} must be http(s)"
        )));
    }
    Ok(url)
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn secret_value(
    name: &str,
    inline: &Option<Secret>,
    file: &Option<PathBuf>,
) -> Result<Option<Secret>, ConfigError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid(format!(
            "set either {name} or {name}_file, not both"
        ))),
        (Some(value), None) => Ok(Some(value.clone())),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map(|text| Some(Secret::new(text.trim())))
            .map_err(|source| ConfigError::Io {
                path: path.clone(),
                source,
            }),
        (None, None) => Ok(None),
    }
}

fn decode_key(
    name: &str,
    secret: &Secret,
    min: usize,
    exact: Option<usize>,
) -> Result<KeyBytes, ConfigError> {
    let bytes = crypto::b64_decode(secret.expose().trim())
        .ok_or_else(|| ConfigError::Invalid(format!("{name} must be base64url")))?;
    if bytes.len() < min || exact.is_some_and(|n| n != bytes.len()) {
        return Err(ConfigError::Invalid(format!(
            "{name} must decode to {} bytes",
            exact.unwrap_or(min)
        )));
    }
    Ok(KeyBytes(bytes))
}

impl PolicyConfig {
    /// The `[policy]` table, checked (commands that only evaluate policy need no more).
    pub fn from_file(file: &PolicyFileConfig) -> Result<Self, ConfigError> {
        let invalid = |e: &dyn std::fmt::Display| ConfigError::Invalid(format!("policy: {e}"));
        let calendar = Calendar::new(
            &file.time_zone,
            &file.working_hours,
            file.holidays,
            &file.extra_holidays,
        )
        .map_err(|e| invalid(&e))?;
        let zones = Zones::new(
            file.zones
                .iter()
                .map(|z| (z.name.as_str(), z.ranges.as_slice())),
        )
        .map_err(|e| invalid(&e))?;
        for (i, a) in file.agencies.iter().enumerate() {
            if a.id.trim().is_empty() || file.agencies[..i].iter().any(|b| b.id == a.id) {
                return Err(invalid(&format!(
                    "agency ids must be present and unique ({:?})",
                    a.id
                )));
            }
        }
        Ok(PolicyConfig {
            dir: file.dir.clone(),
            calendar,
            zones,
            agencies: file.agencies.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production_file() -> ConfigFile {
        ConfigFile {
            issuer: Some("https://id.example.gov".into()),
            key_encryption_key: Some(Secret::new(crypto::b64(&[1u8; 32]))),
            subject_secret: Some(Secret::new(crypto::b64(&[2u8; 32]))),
            ..ConfigFile::default()
        }
    }

    /// A dev configuration on `dir`, prepared as `anyid serve --dev` prepares it.
    fn prepared_dev_file(dir: &std::path::Path) -> ConfigFile {
        let file = ConfigFile {
            data_dir: dir.to_path_buf(),
            ..ConfigFile::default()
        };
        dev::prepare(&file).unwrap();
        file
    }

    fn refusal(file: ConfigFile) -> String {
        Config::resolve(file, Mode::Production)
            .expect_err("production must refuse")
            .to_string()
    }

    #[test]
    fn production_accepts_a_complete_https_config() {
        let config = Config::resolve(production_file(), Mode::Production).unwrap();
        assert_eq!(config.issuer.as_str(), "https://id.example.gov/");
        assert!(!config.dev_login);
        // Certificate login is opt-in in production; passkeys follow the issuer's host.
        assert!(config.certificates.is_none() && config.mtls.is_none());
        assert_eq!(config.passkey_rp_id.as_deref(), Some("id.example.gov"));
    }

    #[test]
    fn dev_mode_turns_certificate_login_on_with_the_dev_ca_unless_told_not_to() {
        let dir = tempfile::tempdir().unwrap();
        let file = prepared_dev_file(dir.path());
        let config = Config::resolve(file.clone(), Mode::Dev).unwrap();
        let certificates = config.certificates.expect("on in dev");
        assert_eq!(
            certificates.trust_anchors,
            [dir.path().join("certs").join("root.pem")]
        );
        assert!(certificates.trust_anchors[0].exists());
        // Every dev policy is bound to the citizen CA alone.
        let citizen_ca = dir.path().join("certs").join("intermediate.pem");
        assert!(!certificates.policies.is_empty());
        for policy in &certificates.policies {
            assert_eq!(
                policy.issuers,
                std::slice::from_ref(&citizen_ca),
                "{}",
                policy.oid
            );
        }
        let mtls = config.mtls.expect("the listener");
        assert_eq!(mtls.url, "https://localhost:8443");
        // Another dev server's listener goes beside its own main port.
        let elsewhere = ConfigFile {
            listen: "127.0.0.1:9000".parse().unwrap(),
            ..file.clone()
        };
        let moved = Config::resolve(elsewhere, Mode::Dev).unwrap().mtls.unwrap();
        assert_eq!(moved.url, "https://localhost:9363");
        let mut off = file;
        off.certificates.enabled = Some(false);
        let config = Config::resolve(off, Mode::Dev).unwrap();
        assert!(config.certificates.is_none() && config.mtls.is_none());
    }

    #[test]
    fn a_passkey_rp_id_must_be_the_issuers_host_or_a_parent() {
        let mut file = production_file();
        file.passkeys.rp_id = Some("example.gov".into());
        let config = Config::resolve(file.clone(), Mode::Production).unwrap();
        assert_eq!(config.passkey_rp_id.as_deref(), Some("example.gov"));
        file.passkeys.rp_id = Some("evil.example".into());
        assert!(refusal(file).contains("passkeys.rp_id"));
    }

    #[test]
    fn production_refuses_the_dev_login_method() {
        let file = ConfigFile {
            dev_login: true,
            ..production_file()
        };
        assert!(refusal(file).contains("dev_login"));
    }

    #[test]
    fn production_keeps_access_records_at_least_two_years() {
        let short = |days| ConfigFile {
            retention: crate::config::RetentionConfig {
                access_record_days: days,
                ..Default::default()
            },
            ..production_file()
        };
        assert!(refusal(short(729)).contains("two years"));
        assert!(Config::resolve(short(730), Mode::Production).is_ok());
        assert!(
            Config::resolve(short(0), Mode::Production).is_ok(),
            "0 keeps them all"
        );
    }

    #[test]
    fn production_refuses_a_plain_http_issuer_off_loopback() {
        let file = ConfigFile {
            issuer: Some("http://id.example.gov".into()),
            ..production_file()
        };
        assert!(refusal(file).contains("https"));
        let loopback = ConfigFile {
            issuer: Some("http://127.0.0.1:8080".into()),
            ..production_file()
        };
        assert!(Config::resolve(loopback, Mode::Production).is_ok());
    }

    #[test]
    fn production_refuses_to_run_without_a_key_encryption_key() {
        let dir = tempfile::tempdir().unwrap();
        // Even with a dev secrets file lying around, production does not use it.
        dev::load_or_create_secrets(dir.path()).unwrap();
        let file = ConfigFile {
            key_encryption_key: None,
            data_dir: dir.path().to_path_buf(),
            ..production_file()
        };
        assert!(refusal(file).contains("key_encryption_key"));
    }

    #[test]
    fn production_refuses_a_short_key_encryption_key() {
        let file = ConfigFile {
            key_encryption_key: Some(Secret::new(crypto::b64(&[1u8; 16]))),
            ..production_file()
        };
        assert!(refusal(file).contains("32 bytes"));
    }

    #[test]
    fn dev_mode_generates_secrets_once_and_reuses_them() {
        let dir = tempfile::tempdir().unwrap();
        let file = prepared_dev_file(dir.path());
        let first = Config::resolve(file.clone(), Mode::Dev).unwrap();
        dev::prepare(&file).unwrap();
        let second = Config::resolve(file, Mode::Dev).unwrap();
        assert_eq!(first.key_encryption_key.0, second.key_encryption_key.0);
        assert!(first.dev_login);
        // Browsers accept `localhost` (not an IP) as a WebAuthn relying-party id.
        assert_eq!(first.issuer.as_str(), "http://localhost:8080/");
        assert_eq!(first.passkey_rp_id.as_deref(), Some("localhost"));
    }

    #[test]
    fn secrets_never_print() {
        let config = Config::resolve(production_file(), Mode::Production).unwrap();
        let text = format!("{config:?}");
        assert!(!text.contains(&crypto::b64(&[1u8; 32])));
        assert!(text.contains("redacted"));
    }
}
