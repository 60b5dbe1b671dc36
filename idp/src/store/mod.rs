//! Storage owned by the domain: records, one trait per concern, and [`SqlStore`], the one
//! sqlx implementation that runs on SQLite (embedded default) and PostgreSQL (production).
//!
//! Single-use things (authorization codes, refresh-token rotation, flow transitions) are
//! consumed in one conditional statement, never read and then written.

mod accounts;
mod admins;
mod audit;
mod clients;
mod decisions;
mod directory;
mod flows;
mod grants;
mod keys;
mod passkeys;
mod pending;
mod retention;
mod risk;
mod sessions;
mod sql;

pub use audit::{Appended, STORED_LEVEL, StoredRecord};
pub use grants::Redemption;
pub use sql::{Backend, Changes, SqlStore};

use crate::clock::UnixTime;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database busy: {0}")]
    Busy(String),
    #[error("database: {0}")]
    Database(String),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    #[error("migration: {0}")]
    Migrate(String),
    #[error("{0} already exists")]
    Conflict(&'static str),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6) and their extended codes.
            let code = db.code().unwrap_or_default();
            if matches!(code.as_ref(), "5" | "6" | "261" | "517") {
                return Self::Busy(db.message().to_string());
            }
            if db.is_unique_violation() {
                return Self::Conflict("record");
            }
        }
        if matches!(e, sqlx::Error::PoolTimedOut) {
            return Self::Busy(e.to_string());
        }
        Self::Database(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

// ---- records ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: Vec<u8>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    /// `pairwise` or `public` (OIDC Core §8).
    pub subject_type: String,
    pub sector_identifier: String,
    /// `ES256` or `RS256`.
    pub id_token_alg: String,
    /// The lowest assurance (acr) this relying party accepts.
    pub min_acr: Option<String>,
    /// Handles sensitive data: the default policies require a high-assurance login.
    pub sensitive: bool,
    /// The agency the relying party belongs to (policy's `resource.agency`).
    pub agency: Option<String>,
    /// The document the sector identifier was verified with (OIDC Core §8.1), if any.
    pub sector_identifier_uri: Option<String>,
    /// What the consent page tells citizens about this recipient.
    pub notice: RecipientNotice,
    pub created_at: UnixTime,
    pub secret_rotated_at: UnixTime,
}

/// What a relying party states about the personal data it receives, shown on the consent
/// page (Personal Information Protection Act art. 17(2)). `None`: not stated, and the page
/// says so.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecipientNotice {
    /// What the relying party uses the data for.
    pub purpose: Option<String>,
    /// How long it keeps what it receives.
    pub retention: Option<String>,
    /// Its privacy policy.
    pub policy_uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citizen {
    pub id: String,
    /// Verified profile claims (OIDC Core §5.1 names), JSON object.
    pub claims: serde_json::Value,
    pub created_at: UnixTime,
    /// The citizen suspended all processing then (no logins to services, no releases).
    pub suspended_at: Option<UnixTime>,
}

/// A login method's identity linked to a citizen: unique on (issuer, subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityLink {
    pub method: String,
    pub issuer: String,
    pub subject: String,
    pub loa: String,
    /// The level of the binding that tied it to its citizen (an acr value): the most it
    /// proves for that citizen (DESIGN §4, binding rule).
    pub vouched_loa: String,
    /// The claims this method verified (merged over its logins).
    pub claims: serde_json::Value,
    /// It carried the citizen's linking value (its keyed hash is the citizen's).
    pub strong_id: bool,
}

/// Whose an identity is, the level its binding was vouched at, and what it verified so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityBinding {
    pub citizen_id: String,
    pub vouched_loa: String,
    pub claims: serde_json::Value,
}

/// A linked identity as the citizen's portal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    pub id: String,
    pub method: String,
    pub issuer: String,
    pub loa: String,
    pub vouched_loa: String,
    /// What the method verified (standard claims only).
    pub claims: serde_json::Value,
    pub created_at: UnixTime,
    pub last_used_at: UnixTime,
}

impl LinkedIdentity {
    /// The level a login with it proves for its citizen: its own, capped by its binding's.
    pub fn proves(&self) -> anyid_policy::Loa {
        let level = |acr: &str| anyid_policy::Loa::from_acr(acr).unwrap_or_default();
        level(&self.loa).min(level(&self.vouched_loa))
    }
}

/// One entry of a citizen's own login history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoginEvent {
    pub id: String,
    pub citizen_id: String,
    pub at: UnixTime,
    pub method: String,
    pub acr: String,
    pub client_id: Option<String>,
    pub address: Option<String>,
}

/// A consent as the citizen's portal lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub client_id: String,
    pub scopes: String,
    pub granted_at: UnixTime,
}

/// An upstream login between its start and its callback.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingRecord {
    pub state_hash: Vec<u8>,
    /// The login flow it belongs to (a login), or none (linking from the portal).
    pub flow_id: Option<String>,
    /// The citizen who is linking another method, for a link.
    pub link_citizen_id: Option<String>,
    pub provider: String,
    /// The adapter's pending state, JSON.
    pub data: String,
    /// The callback parameters, when they arrived by `form_post` and wait for the browser.
    pub callback: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

crate::redact::debug_without_secrets!(PendingRecord {
    flow_id,
    link_citizen_id,
    provider,
    expires_at
});

/// The outcome of unlinking an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlink {
    Done,
    /// It is the citizen's only way to log in.
    LastMethod,
    NotFound,
}

/// A citizen's passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRecord {
    pub id: String,
    pub citizen_id: String,
    pub credential_id: Vec<u8>,
    pub name: String,
    /// The acr a login with it reaches.
    pub loa: String,
    /// The webauthn-rs credential, JSON.
    pub data: String,
    pub sign_count: i64,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub created_at: UnixTime,
    pub last_used_at: Option<UnixTime>,
}

/// Something that happened to a passkey (registered, used, counter or backup-state change,
/// renamed, removed, refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyEvent {
    pub passkey_id: String,
    pub citizen_id: String,
    pub at: UnixTime,
    pub kind: String,
    pub detail: String,
}

/// A passkey's state after a verified login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyUse {
    /// The updated credential, when its counter or backup state changed.
    pub data: Option<String>,
    pub sign_count: i64,
    pub backed_up: bool,
    pub at: UnixTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSession {
    pub id: String,
    pub citizen_id: String,
    pub auth_time: UnixTime,
    pub acr: String,
    pub amr: Vec<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

#[derive(Clone, PartialEq, Eq)]
pub struct FlowRecord {
    pub id: String,
    pub browser_hash: Vec<u8>,
    pub client_id: String,
    /// The validated authorization request, JSON.
    pub request: String,
    pub state: String,
    pub session_id: Option<String>,
    pub csrf: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

crate::redact::debug_without_secrets!(FlowRecord {
    id,
    client_id,
    state,
    session_id,
    expires_at
});

/// What an authorization code or a grant carries about the authentication behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: String,
    pub client_id: String,
    pub citizen_id: String,
    pub session_id: String,
    pub scope: String,
    pub auth_time: UnixTime,
    pub acr: String,
    pub amr: Vec<String>,
    pub created_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
}

impl GrantRecord {
    /// OIDC Core §11: a grant with `offline_access` outlives the session it was made in;
    /// any other ends with it.
    pub fn offline(&self) -> bool {
        self.scope.split(' ').any(|s| s == "offline_access")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub code_hash: Vec<u8>,
    pub grant: GrantRecord,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub expires_at: UnixTime,
}

#[derive(Debug)]
pub enum CodeRedemption {
    /// First use: the code, consumed in a transaction still open (see [`Redemption`]).
    Consumed(Box<Redemption>),
    /// Already consumed once: the grant issued from its first use (committed with that use,
    /// so it can be revoked now).
    Replayed {
        grant_id: String,
    },
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshRotation {
    /// The presented token was current; it is now rotated and `new_hash` replaces it.
    Rotated {
        grant: GrantRecord,
        expires_at: UnixTime,
    },
    /// The token was already rotated: a replay. Its family (grant) must be revoked.
    Replayed { grant_id: String },
    /// Unknown or expired.
    Invalid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenInfo {
    pub grant: GrantRecord,
    pub expires_at: UnixTime,
    pub rotated_at: Option<UnixTime>,
    /// The grant's session is neither signed out nor expired (as of the `now` asked about).
    pub session_live: bool,
    /// The grant's session's risk and when it was set, if the session is there.
    pub session_risk: Option<(i64, i64)>,
}

impl RefreshTokenInfo {
    /// Whether the token can still be used at `now` (OIDC Core §11: without offline
    /// access, only while its session lives).
    pub fn usable(&self, now: UnixTime) -> bool {
        self.rotated_at.is_none()
            && self.grant.revoked_at.is_none()
            && self.expires_at > now
            && (self.grant.offline() || self.session_live)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub kid: String,
    pub alg: String,
    pub sealed_private_key: Vec<u8>,
    pub public_jwk: String,
    pub created_at: UnixTime,
    pub retire_at: Option<UnixTime>,
}

// ---- traits ----------------------------------------------------------------------------
// `async fn` in traits: callers use the concrete store, so futures stay `Send`.

#[allow(async_fn_in_trait)]
pub trait ClientStore {
    async fn insert_client(&self, client: &ClientRecord) -> StoreResult<()>;
    async fn client(&self, id: &str) -> StoreResult<Option<ClientRecord>>;
    async fn clients(&self) -> StoreResult<Vec<ClientRecord>>;
    async fn replace_client_secret(
        &self,
        id: &str,
        hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<bool>;
    async fn remove_client(&self, id: &str, now: UnixTime) -> StoreResult<bool>;
    /// Insert or update (dev mode's demo relying party).
    async fn upsert_client(&self, client: &ClientRecord) -> StoreResult<()>;
    /// How many pairwise-subject clients share `sector` (and so see the same `sub`).
    async fn pairwise_clients_in_sector(&self, sector: &str) -> StoreResult<i64>;
}

#[allow(async_fn_in_trait)]
pub trait AccountStore {
    async fn citizen_by_identity(&self, issuer: &str, subject: &str)
    -> StoreResult<Option<String>>;
    /// The citizen an identity is linked to, with the level the link was vouched at.
    async fn identity_binding(
        &self,
        issuer: &str,
        subject: &str,
    ) -> StoreResult<Option<IdentityBinding>>;
    /// The keyed hash of a citizen's strong identifier, if they have one.
    async fn strong_id_of(&self, citizen_id: &str) -> StoreResult<Option<Vec<u8>>>;
    /// The citizen whose verified strong identifier has this keyed hash.
    async fn citizen_by_strong_id(&self, hash: &[u8]) -> StoreResult<Option<String>>;
    /// Create a citizen and its first identity together.
    async fn create_citizen(
        &self,
        citizen: &Citizen,
        identity: &IdentityLink,
        strong_id_hash: Option<&[u8]>,
    ) -> StoreResult<()>;
    /// Link another identity to an existing citizen, in one transaction with adopting
    /// `strong_id_hash` as the citizen's strong identifier when given. `Conflict` if the
    /// identity is linked already, the strong identifier is another citizen's, or the
    /// citizen has a different one.
    async fn link_identity(
        &self,
        citizen_id: &str,
        identity: &IdentityLink,
        strong_id_hash: Option<&[u8]>,
        now: UnixTime,
    ) -> StoreResult<()>;
    /// Record a strong identifier for a citizen that has none yet; false if it had one.
    /// `Conflict` if another citizen has it.
    async fn set_strong_id(&self, citizen_id: &str, hash: &[u8]) -> StoreResult<bool>;
    async fn citizen(&self, id: &str) -> StoreResult<Option<Citizen>>;
    /// Store a citizen's derived profile and the version of the rule that derived it.
    async fn save_profile(
        &self,
        id: &str,
        claims: &serde_json::Value,
        version: i64,
    ) -> StoreResult<()>;
    /// Up to `limit` citizens whose profile was derived by a rule older than `version`.
    async fn stale_profiles(&self, version: i64, limit: i64) -> StoreResult<Vec<String>>;
    /// Which linked identity the citizen chose for each choosable unit (`name`, `email`,
    /// `phone`), a JSON object.
    async fn claim_sources(&self, id: &str) -> StoreResult<serde_json::Value>;
    async fn set_claim_sources(&self, id: &str, sources: &serde_json::Value) -> StoreResult<()>;
    /// Mark an identity used now, keep the claims it verified, and whether it carried the
    /// citizen's linking value.
    async fn touch_identity(
        &self,
        issuer: &str,
        subject: &str,
        claims: &serde_json::Value,
        strong_id: bool,
        now: UnixTime,
    ) -> StoreResult<()>;
    async fn identities(&self, citizen_id: &str) -> StoreResult<Vec<LinkedIdentity>>;
    /// Suspend processing (`Some(now)`) or resume it (`None`); false if no such citizen.
    async fn set_suspended(&self, id: &str, at: Option<UnixTime>) -> StoreResult<bool>;
    /// Revoke every grant of the citizen (their refresh and access tokens stop working) and
    /// drop the codes not redeemed yet.
    async fn revoke_grants_of(&self, citizen_id: &str, now: UnixTime) -> StoreResult<u64>;
    /// Delete the citizen and everything kept about them (identities, sessions, consents,
    /// grants with their codes and refresh tokens, passkeys and their events, login history,
    /// known devices, alerts against them, flows and pending logins of their sessions), in
    /// one transaction. False if unknown.
    async fn delete_citizen(&self, id: &str) -> StoreResult<bool>;
    /// Every identity of login method `method`: (id, issuer, subject).
    async fn identity_subjects(&self, method: &str) -> StoreResult<Vec<(String, String, String)>>;
    /// Replace an identity's subject with its protected form (a keyed hash), dropping the
    /// claims stored with it.
    async fn protect_identity_subject(&self, id: &str, subject: &str) -> StoreResult<()>;
    /// Remove one identity unless it is the citizen's last, serialised per citizen; when no
    /// remaining identity carried the citizen's linking value, its hash goes too.
    async fn unlink_identity(&self, citizen_id: &str, identity_id: &str) -> StoreResult<Unlink>;
    async fn record_login(&self, event: &LoginEvent) -> StoreResult<()>;
    /// The newest `limit` logins of a citizen, newest first.
    async fn login_events(&self, citizen_id: &str, limit: i64) -> StoreResult<Vec<LoginEvent>>;
}

/// The decision log (`crate::decisions`).
#[allow(async_fn_in_trait)]
pub trait DecisionStore {
    async fn record_decisions(
        &self,
        records: &[crate::decisions::DecisionRecord],
    ) -> StoreResult<()>;
    /// Remove decisions made before `cutoff`.
    async fn delete_decisions_before(&self, cutoff: crate::clock::UnixTime) -> StoreResult<u64>;
    /// Decisions matching `query`, newest first.
    async fn decisions(
        &self,
        query: &crate::decisions::DecisionQuery,
    ) -> StoreResult<Vec<crate::decisions::DecisionRecord>>;
}

/// A live session's risk (`crate::risk`): the score when it was set, when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRisk {
    pub session_id: String,
    pub risk: u8,
    pub at: UnixTime,
    pub signals: Vec<String>,
}

/// Risk scores, known devices and alerts (`crate::risk`).
#[allow(async_fn_in_trait)]
pub trait RiskStore {
    async fn set_session_risk(
        &self,
        session_id: &str,
        risk: u8,
        at: UnixTime,
        signals: &[String],
    ) -> StoreResult<()>;
    /// A session's risk and when it was set, if the session is there.
    async fn risk_of_session(&self, session_id: &str) -> StoreResult<Option<(i64, i64)>>;
    /// The citizen's live sessions' risk.
    async fn session_risks(&self, citizen_id: &str, now: UnixTime)
    -> StoreResult<Vec<SessionRisk>>;
    /// Note that the citizen signed in from this device (a keyed hash); whether it was
    /// known before.
    async fn see_device(
        &self,
        citizen_id: &str,
        device_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<bool>;
    async fn record_alert(
        &self,
        id: &str,
        actor: &str,
        score: u8,
        reason: &str,
        at: UnixTime,
    ) -> StoreResult<()>;
    /// Alerts against `actor` raised at or after `since`, newest first: (score, reason, at).
    async fn alerts_of(
        &self,
        actor: &str,
        since: UnixTime,
    ) -> StoreResult<Vec<(u8, String, UnixTime)>>;
}

/// What retention removes (`crate::retention` sets the cutoffs).
#[allow(async_fn_in_trait)]
pub trait RetentionStore {
    async fn delete_login_events_before(&self, cutoff: UnixTime) -> StoreResult<u64>;
    /// Up to `limit` login events older than `cutoff` whose address is still whole:
    /// (id, address).
    async fn untruncated_addresses_before(
        &self,
        cutoff: UnixTime,
        limit: i64,
    ) -> StoreResult<Vec<(String, String)>>;
    async fn set_login_address(&self, id: &str, address: &str) -> StoreResult<()>;
    /// Grants revoked before `cutoff`, or made before it and without a refresh token left.
    async fn delete_ended_grants_before(&self, cutoff: UnixTime) -> StoreResult<u64>;
    /// Consents given before `cutoff` end like withdrawn ones (their grants revoked now).
    async fn expire_consents_before(&self, cutoff: UnixTime, now: UnixTime) -> StoreResult<u64>;
    /// Events of passkeys that were removed, older than `cutoff`.
    async fn delete_removed_passkey_events_before(&self, cutoff: UnixTime) -> StoreResult<u64>;
    /// Devices last seen before `cutoff`, and alerts raised before `alerts_cutoff`.
    async fn forget_risk_before(
        &self,
        devices_cutoff: Option<UnixTime>,
        alerts_cutoff: Option<UnixTime>,
    ) -> StoreResult<u64>;
    /// Up to `limit` citizens with no sign-in since `cutoff`.
    async fn dormant_citizens(&self, cutoff: UnixTime, limit: i64) -> StoreResult<Vec<String>>;
}

#[allow(async_fn_in_trait)]
pub trait PendingLoginStore {
    async fn insert_pending(&self, pending: &PendingRecord) -> StoreResult<()>;
    /// Keep callback parameters that arrived by `form_post` until the browser comes back.
    async fn attach_callback(
        &self,
        state_hash: &[u8],
        callback: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;
    /// Take a live pending login, consuming it (one statement).
    async fn take_pending(
        &self,
        state_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<PendingRecord>>;
    /// Record that the state (a ceremony, a challenge) with this hash is used, until
    /// `expires_at`; false if it was used already (one statement).
    async fn spend_once(&self, token_hash: &[u8], expires_at: UnixTime) -> StoreResult<bool>;
}

#[allow(async_fn_in_trait)]
pub trait PasskeyStore {
    /// Store a new passkey; `Conflict` when its credential id is registered already (to
    /// anyone).
    async fn insert_passkey(&self, passkey: &PasskeyRecord) -> StoreResult<()>;
    async fn passkeys_of(&self, citizen_id: &str) -> StoreResult<Vec<PasskeyRecord>>;
    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<PasskeyRecord>>;
    /// Record a verified login; false if the passkey is gone.
    async fn use_passkey(&self, id: &str, usage: &PasskeyUse) -> StoreResult<bool>;
    /// Rename one of the citizen's passkeys; false if it is not theirs.
    async fn rename_passkey(&self, citizen_id: &str, id: &str, name: &str) -> StoreResult<bool>;
    /// Remove one of the citizen's passkeys; false if it is not theirs.
    async fn remove_passkey(&self, citizen_id: &str, id: &str) -> StoreResult<bool>;
    async fn record_passkey_event(&self, event: &PasskeyEvent) -> StoreResult<()>;
    /// The newest `limit` events of a passkey, newest first.
    async fn passkey_events(&self, passkey_id: &str, limit: i64) -> StoreResult<Vec<PasskeyEvent>>;
}

#[allow(async_fn_in_trait)]
pub trait SessionStore {
    async fn insert_session(&self, session: &SsoSession, token_hash: &[u8]) -> StoreResult<()>;
    /// A live session (not revoked, not expired) by its cookie token hash.
    async fn live_session(
        &self,
        token_hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<SsoSession>>;
    /// Revoke a session and every grant issued under it.
    async fn revoke_session(&self, id: &str, now: UnixTime) -> StoreResult<bool>;
    /// A citizen's live sessions, newest first.
    async fn sessions_of(&self, citizen_id: &str, now: UnixTime) -> StoreResult<Vec<SsoSession>>;
}

#[allow(async_fn_in_trait)]
pub trait FlowStore {
    async fn insert_flow(&self, flow: &FlowRecord) -> StoreResult<()>;
    async fn flow(&self, id: &str, now: UnixTime) -> StoreResult<Option<FlowRecord>>;
    /// Move a flow from `from` to `to` in one statement; false if it was not in `from`.
    async fn transition_flow(
        &self,
        id: &str,
        from: &str,
        to: &str,
        session_id: Option<&str>,
        now: UnixTime,
    ) -> StoreResult<bool>;
}

/// Consent remembered per citizen and client: the scopes granted, space-separated.
#[allow(async_fn_in_trait)]
pub trait ConsentStore {
    async fn consent(&self, citizen_id: &str, client_id: &str) -> StoreResult<Option<String>>;
    async fn put_consent(
        &self,
        citizen_id: &str,
        client_id: &str,
        scopes: &str,
        now: UnixTime,
    ) -> StoreResult<()>;
    async fn consents_of(&self, citizen_id: &str) -> StoreResult<Vec<ConsentRecord>>;
    /// Withdraw a consent and revoke every grant the client holds for the citizen.
    async fn revoke_consent(
        &self,
        citizen_id: &str,
        client_id: &str,
        now: UnixTime,
    ) -> StoreResult<bool>;
}

#[allow(async_fn_in_trait)]
pub trait GrantStore {
    async fn insert_code(&self, code: &CodeRecord, now: UnixTime) -> StoreResult<()>;
    /// Consume a code (one conditional statement) in a transaction that stays open until
    /// the caller records the grant made from it or refuses it ([`Redemption`]); a second
    /// use reports the grant of the first. The consumption and the grant commit together,
    /// so a replay always finds the grant to revoke (RFC 6749 §4.1.2).
    async fn redeem_code(&self, code_hash: &[u8], now: UnixTime) -> StoreResult<CodeRedemption>;
    /// Record the grant of a redeemed code with its first refresh token (if any).
    async fn insert_grant(
        &self,
        grant: &GrantRecord,
        refresh: Option<(&[u8], UnixTime)>,
    ) -> StoreResult<()>;
    async fn grant(&self, id: &str) -> StoreResult<Option<GrantRecord>>;
    /// Rotate a refresh token in one conditional update, inserting its successor.
    async fn rotate_refresh_token(
        &self,
        old_hash: &[u8],
        new_hash: &[u8],
        new_expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<RefreshRotation>;
    async fn refresh_token(
        &self,
        hash: &[u8],
        now: UnixTime,
    ) -> StoreResult<Option<RefreshTokenInfo>>;
    /// Revoke a grant: every token issued from it stops working.
    async fn revoke_grant(&self, id: &str, now: UnixTime) -> StoreResult<()>;
    async fn revoke_access_token(&self, jti: &str, expires_at: UnixTime) -> StoreResult<()>;
    async fn access_token_revoked(&self, jti: &str) -> StoreResult<bool>;
    /// Delete expired codes, flows, sessions and revocation entries.
    async fn purge_expired(&self, now: UnixTime) -> StoreResult<u64>;
}

/// An administrator (`crate::admins`): the hash of their token, their role, and when they
/// were added and removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Administrator {
    pub name: String,
    pub token_hash: Vec<u8>,
    /// `admin` or `auditor`.
    pub role: String,
    pub created_at: UnixTime,
    pub removed_at: Option<UnixTime>,
}

#[allow(async_fn_in_trait)]
pub trait AdminStore {
    /// Add `admin`; `Conflict` if the name was ever used.
    async fn add_administrator(&self, admin: &Administrator) -> StoreResult<()>;
    async fn administrator(&self, name: &str) -> StoreResult<Option<Administrator>>;
    async fn administrators(&self) -> StoreResult<Vec<Administrator>>;
    /// Mark `name` removed; false if there is no such administrator still in office.
    async fn remove_administrator(&self, name: &str, at: UnixTime) -> StoreResult<bool>;
}

/// The access record: append-only, in the order of its Merkle tree (`audit`).
#[allow(async_fn_in_trait)]
pub trait AuditStore {
    /// Append `records` in one transaction, in order, each once per (reporter, event id):
    /// where each one is, and whether it was new.
    async fn append_audit(
        &self,
        records: &[crate::audit::event::AccessRecord],
        received_at: UnixTime,
    ) -> StoreResult<Vec<Appended>>;
    /// The tree as last appended.
    async fn audit_frontier(&self) -> StoreResult<crate::audit::merkle::Frontier>;
    /// Up to `limit` records from position `from` on.
    async fn audit_records(&self, from: u64, limit: u32) -> StoreResult<Vec<StoredRecord>>;
    /// On PostgreSQL, make the month partitions of `now` and of the next month (ahead of
    /// their events); how many were made. Nothing to do on SQLite.
    async fn ensure_audit_partitions(&self, now: UnixTime) -> StoreResult<u32>;
    /// Where the stored events start: events before it were pruned (a multiple of 256).
    async fn audit_pruned(&self) -> StoreResult<u64>;
    /// Remove the events older than `before_ms` from the start of the log, in whole blocks
    /// of 256, keeping the stored nodes; how many were removed.
    async fn prune_audit(&self, before_ms: i64) -> StoreResult<u64>;
    /// Up to `limit` records about one citizen in `period` (Unix milliseconds), of `kinds`
    /// (all when empty), newest first: `subjects` names the citizen as each reporter does,
    /// (reporter, subject id).
    async fn audit_records_about(
        &self,
        subjects: &[(String, String)],
        period: std::ops::Range<i64>,
        kinds: &[crate::audit::event::Kind],
        limit: u32,
    ) -> StoreResult<Vec<StoredRecord>>;
    /// The stored leaf hashes of positions `from..to`; an error if one is missing.
    async fn audit_leaves(
        &self,
        from: u64,
        to: u64,
    ) -> StoreResult<Vec<crate::audit::merkle::Hash>>;
    /// A stored perfect subtree (height `audit::STORED_LEVEL` or more).
    async fn audit_node(
        &self,
        level: u32,
        index: u64,
    ) -> StoreResult<Option<crate::audit::merkle::Hash>>;
}

/// Signed checkpoints of the access record and the key that signs them.
#[allow(async_fn_in_trait)]
pub trait CheckpointStore {
    /// Every log key's name and public key.
    async fn audit_log_public_keys(&self) -> StoreResult<Vec<(String, Vec<u8>)>>;
    /// The log key `name`: its sealed PKCS#8 and its public key.
    async fn audit_log_key(&self, name: &str) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>>;
    /// Store the log key `name` unless one is stored already.
    async fn put_audit_log_key(
        &self,
        name: &str,
        sealed: &[u8],
        public: &[u8],
        at: UnixTime,
    ) -> StoreResult<()>;
    /// Keep a checkpoint (one per size).
    async fn record_checkpoint(
        &self,
        size: u64,
        root: &crate::audit::merkle::Hash,
        note: &str,
        at: UnixTime,
    ) -> StoreResult<()>;
    /// The latest checkpoint: its size and note.
    async fn latest_checkpoint(&self) -> StoreResult<Option<(u64, String)>>;
    /// Every checkpoint's note, oldest first.
    async fn checkpoints(&self) -> StoreResult<Vec<String>>;
}

/// What became of one entry given to [`DirectoryStore::put_directory`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryPut {
    /// Its key was new.
    Added,
    /// It replaced the entry stored under its key (or one earlier in the same batch).
    Replaced,
}

/// Reference data the access record's detectors read (`anyid audit import-directory`):
/// each entry under its kind's key (`Record::key`), replaced when imported again.
#[allow(async_fn_in_trait)]
pub trait DirectoryStore {
    /// Insert or replace `records` (of any kinds) in one transaction, in order.
    async fn put_directory(
        &self,
        records: &[anyid_policy::directory::Record],
        at: UnixTime,
    ) -> StoreResult<Vec<DirectoryPut>>;
    async fn officials(&self) -> StoreResult<Vec<anyid_policy::directory::Official>>;
    async fn official(&self, id: &str) -> StoreResult<Option<anyid_policy::directory::Official>>;
    async fn agencies(&self) -> StoreResult<Vec<anyid_policy::directory::Agency>>;
    async fn agency(&self, id: &str) -> StoreResult<Option<anyid_policy::directory::Agency>>;
    async fn networks(&self) -> StoreResult<Vec<anyid_policy::directory::Network>>;
    async fn calendar(&self) -> StoreResult<Vec<anyid_policy::directory::CalendarDay>>;
    async fn flagged_citizens(&self) -> StoreResult<Vec<anyid_policy::directory::FlaggedCitizen>>;
    async fn cases(&self) -> StoreResult<Vec<anyid_policy::directory::Case>>;
    async fn case(
        &self,
        agency: &str,
        case_id: &str,
    ) -> StoreResult<Option<anyid_policy::directory::Case>>;
    /// The cases the official is assigned to.
    async fn cases_of_official(
        &self,
        official_id: &str,
    ) -> StoreResult<Vec<anyid_policy::directory::Case>>;
}

#[allow(async_fn_in_trait)]
pub trait KeyStore {
    async fn insert_key(&self, key: &StoredKey) -> StoreResult<()>;
    async fn keys(&self) -> StoreResult<Vec<StoredKey>>;
    /// Schedule every key of `alg` except `keep` for retirement at `retire_at`.
    async fn retire_keys(&self, alg: &str, keep: &str, retire_at: UnixTime) -> StoreResult<()>;
}

pub(crate) fn json_list(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn to_json_list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

/// Rows per multi-row insert: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 100;

/// The `VALUES` list of a multi-row insert of `rows` rows of `per_row` parameters each:
/// `($1, $2), ($3, $4)` on PostgreSQL; `(?, ?), (?, ?)` on SQLite, where looking up a
/// numbered parameter walks every parameter of the statement, so binding a thousand of them
/// costs a million steps.
pub(crate) fn values_list(backend: Backend, rows: usize, per_row: usize) -> std::sync::Arc<str> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    // Built once per shape: a full batch asks for the same list every time.
    type Lists = HashMap<(Backend, usize, usize), Arc<str>>;
    static MADE: OnceLock<Mutex<Lists>> = OnceLock::new();
    let made = MADE.get_or_init(Mutex::default);
    if let Some(list) = made
        .lock()
        .ok()
        .and_then(|m| m.get(&(backend, rows, per_row)).cloned())
    {
        return list;
    }
    let list: Arc<str> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=per_row)
                .map(|c| match backend {
                    Backend::Sqlite => "?".to_owned(),
                    Backend::Postgres => format!("${}", r * per_row + c),
                })
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
        .into();
    if let Ok(mut m) = made.lock() {
        m.insert((backend, rows, per_row), list.clone());
    }
    list
}
