//! The configuration an operator writes: [`ConfigFile`] and its tables, their defaults, and
//! [`Secret`], the redacting string every secret value is read into. Nothing here checks
//! values; `resolve` does, once.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use anyid_adapters::certificate::CertificateConfig;
use anyid_adapters::upstream::UpstreamConfig;
use anyid_policy::calendar::Holidays;
use anyid_policy::facts::Agency;

/// The one secret type of the workspace: redacted in `Debug`, read through `expose`.
pub use anyid_adapters::Secret;

/// The configuration as written by an operator, before validation.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    /// Public issuer URL; defaults to `http://<listen>`.
    pub issuer: Option<String>,
    pub listen: SocketAddr,
    /// The admin plane (client API, metrics). Absent: no admin listener.
    pub admin_listen: Option<SocketAddr>,
    /// Folder for the embedded SQLite database and dev-generated secrets.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; defaults to SQLite in `data_dir`.
    pub database_url: Option<Secret>,
    pub database_max_connections: u32,
    /// 32 random bytes, base64url: encrypts signing keys at rest.
    pub key_encryption_key: Option<Secret>,
    pub key_encryption_key_file: Option<PathBuf>,
    /// 32 or more random bytes, base64url: the keys of pairwise subject identifiers, of
    /// linking-value hashes and of session ids derive from it. Never change it.
    pub subject_secret: Option<Secret>,
    pub subject_secret_file: Option<PathBuf>,
    /// 32 or more random bytes, base64url: when set, the CSRF keys of forms derive from it
    /// instead of the subject secret, so they can be rotated on their own.
    pub form_secret: Option<Secret>,
    pub form_secret_file: Option<PathBuf>,
    /// Bearer token for the admin API.
    pub admin_token: Option<Secret>,
    pub admin_token_file: Option<PathBuf>,
    /// The demo-citizen login method. Refused in production.
    pub dev_login: bool,
    pub tokens: TokenLifetimes,
    pub log: LogConfig,
    /// Upstream identity providers (`[[upstream]]` tables), in the order the login page lists
    /// them.
    #[serde(rename = "upstream")]
    pub upstreams: Vec<UpstreamConfig>,
    pub passkeys: PasskeyConfig,
    /// Certificate login (signed challenge and mutual TLS). Dev mode turns it on with the
    /// dev CA unless `enabled = false`.
    pub certificates: CertificateConfig,
    /// The mutual-TLS listener for certificate login.
    pub mtls: MtlsConfig,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed: the
    /// client's address is then the right-most entry that is not one of them. Empty: the
    /// peer's address is the client's.
    pub trusted_proxies: Vec<String>,
    pub limits: LimitsConfig,
    pub policy: PolicyFileConfig,
    pub retention: RetentionConfig,
    pub risk: RiskFileConfig,
    pub audit: AuditConfig,
}

/// `[audit]`: the access record.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// How often a signed checkpoint of the record is made, when it grew.
    pub checkpoint_seconds: u64,
    /// Citizens' history names the officials who looked at their record (otherwise their
    /// agency and role only).
    pub history_names_officials: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            checkpoint_seconds: 60,
            history_names_officials: false,
        }
    }
}

/// The policy decision point (DESIGN §6).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyFileConfig {
    /// A folder of Cedar policies (`*.cedar`), validated against the built-in schema and
    /// reloaded on SIGHUP or `POST /admin/policies/reload`. Absent: the built-in set.
    pub dir: Option<PathBuf>,
    /// The UTC offset that local time is read in (`"+09:00"`: Korea has no daylight
    /// saving).
    pub time_zone: String,
    /// Working hours on working days, `"09:00-18:00"`.
    pub working_hours: String,
    /// Public holidays that are not working days: `"kr"` (Korean, the default) or `"none"`.
    pub holidays: Holidays,
    /// More days off, `"2026-06-03"`: temporary holidays and election days the calendar
    /// does not know yet.
    pub extra_holidays: Vec<String>,
    /// Named network zones, first match wins; other addresses are in `internet`.
    pub zones: Vec<ZoneConfig>,
    /// Agencies relying parties belong to (`anyid client add --agency`), and where they
    /// serve.
    /// `[[policy.agencies]]` with `id`, `national` (serves the whole country) and
    /// `jurisdiction` (region codes, for example administrative district codes).
    pub agencies: Vec<Agency>,
}

impl Default for PolicyFileConfig {
    fn default() -> Self {
        Self {
            dir: None,
            time_zone: "+09:00".into(),
            working_hours: "09:00-18:00".into(),
            holidays: Holidays::Kr,
            extra_holidays: Vec::new(),
            zones: Vec::new(),
            agencies: Vec::new(),
        }
    }
}

/// `[[policy.zones]]`: a network zone policies can name (`context.zone`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    pub name: String,
    /// CIDR blocks, `"10.0.0.0/8"`.
    pub ranges: Vec<String>,
}

/// `[risk]`: what login risk is measured with.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskFileConfig {
    /// A GeoIP database in MaxMind DB format (GeoLite2/GeoIP2 City or the operator's own
    /// network table): with it, travel between logins faster than an airliner raises risk.
    pub geoip_database: Option<PathBuf>,
}

/// How long Any-ID keeps each kind of record about citizens, in days (`0`: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// A citizen's sign-in history.
    pub login_history_days: u32,
    /// After this many days a sign-in's address is cut to its network (IPv4 /24, IPv6 /48).
    pub login_address_days: u32,
    /// Grants that ended (revoked, or with no refresh token left), after they ended.
    pub ended_grant_days: u32,
    /// A consent lasts this long; the service then asks again.
    pub consent_days: u32,
    /// The history of a passkey after it was removed.
    pub removed_passkey_days: u32,
    /// An account nobody signed in to for this long is deleted like a citizen would delete
    /// it.
    pub dormant_account_days: u32,
    /// The policy decision log.
    pub decision_log_days: u32,
    /// A device a citizen has not signed in from for this long is forgotten (its next
    /// login counts as a new device).
    pub known_device_days: u32,
    /// Alerts against citizens and officials (their scores have long decayed by then).
    pub risk_alert_days: u32,
    /// The access record (officials' accesses, logins, releases, admin calls): at least two
    /// years in production. Pruned from its start in whole blocks of 256 events.
    pub access_record_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            login_history_days: 365,
            login_address_days: 90,
            ended_grant_days: 30,
            consent_days: 730,
            removed_passkey_days: 90,
            dormant_account_days: 3 * 365,
            decision_log_days: 90,
            known_device_days: 400,
            risk_alert_days: 30,
            access_record_days: 730,
        }
    }
}

/// Rate limits: per replica, except those a shared limiter (Redis) holds for all.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Requests that start or continue a login before anyone is signed in (authorize,
    /// login forms, upstream starts and callbacks, the certificate listener), per client
    /// address (an IPv6 /64) and minute. Generous: whole offices share one address.
    pub login_per_source_per_minute: u32,
    /// The same requests from everyone together, per second.
    pub login_per_second: u32,
    /// Failed client authentications per client and address, per minute (ten times that
    /// per address across clients). A correct credential always succeeds.
    pub client_auth_failures_per_minute: u32,
    /// Token requests per authenticated client and minute (0: none). With `redis_url` the
    /// budget is shared by every replica; without, each replica has its own.
    pub token_per_client_per_minute: u32,
    /// Login attempts that name one credential (a certificate, a passkey), successful or
    /// not, per minute; from every source together.
    pub login_per_account_per_minute: u32,
    /// Login attempts with one method (`certificate`, `passkey`, each upstream provider),
    /// from everyone together, per second: keeps a flood off upstream providers and OCSP
    /// responders.
    pub login_per_method_per_second: u32,
    /// Failed attempts with one credential before it is locked (0: never locked). The lock
    /// lifts as failures drain, one every `lockout_minutes / login_failures_before_lockout`.
    pub login_failures_before_lockout: u32,
    pub lockout_minutes: u32,
    /// A failed attempt is answered no sooner than this after it arrived; from the third
    /// recent failure of one credential on, the wait doubles with each (up to 32 times).
    pub login_failure_delay_ms: u32,
    /// A Redis (`redis://host:6379`) holding the shared budgets: token budgets, login
    /// attempts and lockouts.
    pub redis_url: Option<Secret>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            login_per_source_per_minute: 300,
            login_per_second: 500,
            client_auth_failures_per_minute: 20,
            token_per_client_per_minute: 0,
            login_per_account_per_minute: 30,
            login_per_method_per_second: 200,
            login_failures_before_lockout: 5,
            lockout_minutes: 15,
            login_failure_delay_ms: 250,
            redis_url: None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MtlsConfig {
    /// Where the mutual-TLS listener binds (dev default: the main listener's port + 363,
    /// `127.0.0.1:8443` beside `8080`).
    pub listen: Option<SocketAddr>,
    /// Its public URL; defaults to `https://localhost:<port>` for a loopback listener. In
    /// production give it its own host name, so certificate prompts never appear on the
    /// main origin.
    pub url: Option<String>,
    /// The listener's certificate chain (PEM) and PKCS#8 private key.
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
}

/// Passkeys (WebAuthn). They need the issuer's host to be a domain (`localhost` for loopback
/// development): browsers refuse IP addresses as WebAuthn relying-party ids.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasskeyConfig {
    pub enabled: bool,
    /// The WebAuthn relying-party id: the issuer's host (default) or a parent domain of it.
    pub rp_id: Option<String>,
}

impl Default for PasskeyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            rp_id: None,
        }
    }
}

impl Default for ConfigFile {
    fn default() -> Self {
        Self {
            issuer: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_listen: None,
            data_dir: PathBuf::from(".anyid-dev"),
            database_url: None,
            database_max_connections: 8,
            key_encryption_key: None,
            key_encryption_key_file: None,
            subject_secret: None,
            subject_secret_file: None,
            form_secret: None,
            form_secret_file: None,
            admin_token: None,
            admin_token_file: None,
            dev_login: false,
            tokens: TokenLifetimes::default(),
            log: LogConfig::default(),
            upstreams: Vec::new(),
            passkeys: PasskeyConfig::default(),
            certificates: CertificateConfig::default(),
            mtls: MtlsConfig::default(),
            trusted_proxies: Vec::new(),
            limits: LimitsConfig::default(),
            retention: RetentionConfig::default(),
            risk: RiskFileConfig::default(),
            audit: AuditConfig::default(),
            policy: PolicyFileConfig::default(),
        }
    }
}

/// Lifetimes in seconds.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenLifetimes {
    pub access_token: i64,
    pub id_token: i64,
    pub refresh_token: i64,
    pub session: i64,
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access_token: 300,
            id_token: 300,
            refresh_token: 30 * 24 * 3600,
            session: 10 * 3600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `json` (default) or `pretty`.
    pub format: String,
    /// An `EnvFilter` directive, e.g. `info` or `anyid=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "json".into(),
            level: "info".into(),
        }
    }
}
