//! Unit-test fixtures: the protocol domain and login orchestration on a store in a
//! temporary SQLite file, with generated keys and a clock tests can move. No server, no
//! sockets, no HTTP.

use anyid_policy::Engine;
use anyid_policy::limits::AuthFailureLimits;

use crate::clock::{Clock, ShiftedClock};
use crate::config::TokenLifetimes;
use crate::crypto::PurposeKeys;
use crate::keys::Keys;
use crate::login::Broker;
use crate::oidc::Provider;
use crate::oidc::client_cache::ClientCache;
use crate::store::{
    AccountStore, Citizen, ClientRecord, ClientStore, ConsentStore, DecisionStore, IdentityLink,
    SessionStore, SqlStore, SsoSession,
};

pub const ISSUER: &str = "https://id.example.test";
const KEK: [u8; 32] = [7; 32];
const SUBJECT_SECRET: [u8; 32] = [9; 32];

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub store: SqlStore,
    pub clock: ShiftedClock,
    keys: Keys,
    clients: ClientCache,
    failures: AuthFailureLimits,
    policy: Engine,
    secrets: PurposeKeys,
    decisions: crate::decisions::DecisionLog,
    budgets: crate::budgets::Budgets,
    recents: crate::cache::Recents,
    audit: crate::audit::intake::LogWriter,
}

impl Fixture {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = SqlStore::connect(&url, 2).await.expect("store");
        store.migrate().await.expect("migrations");
        let clock = ShiftedClock::default();
        let decisions_store = store.clone();
        let audit = crate::audit::intake::spawn_writer(
            store.clone(),
            std::sync::Arc::new(crate::clock::SystemClock),
        );
        let keys = Keys::load_or_create(&store, KEK, clock.now())
            .await
            .expect("keys");
        Self {
            _dir: dir,
            store,
            clock,
            keys,
            clients: ClientCache::default(),
            failures: AuthFailureLimits::new(5, std::time::Duration::from_secs(60), 100),
            policy: Engine::with_defaults().expect("the built-in policies"),
            secrets: PurposeKeys::derive(&SUBJECT_SECRET, None),
            budgets: crate::budgets::Budgets::new(&Default::default(), None),
            recents: crate::cache::Recents::default(),
            audit,
            decisions: {
                let store = decisions_store;
                let writer = crate::batch::GroupWriter::spawn(1000, 100, move |rows| {
                    let store = store.clone();
                    async move { store.record_decisions(&rows).await }
                });
                crate::decisions::DecisionLog::new(writer, crate::telemetry::Metrics::new())
            },
        }
    }

    pub fn op(&self) -> Provider<'_> {
        Provider {
            store: &self.store,
            clock: &self.clock,
            keys: &self.keys,
            issuer: ISSUER,
            lifetimes: TokenLifetimes::default(),
            secrets: &self.secrets,
            clients: &self.clients,
            client_auth_failures: &self.failures,
            policy: &self.policy,
            decisions: &self.decisions,
            budgets: &self.budgets,
            recent: &self.recents,
            audit: &self.audit,
            secure_cookies: true,
        }
    }

    /// Login orchestration with no login method configured but those a test brings.
    pub fn broker(&self) -> Broker<'_> {
        Broker {
            op: self.op(),
            upstreams: &[],
            passkeys: None,
            certificates: None,
            dev_login: true,
            mtls_url: None,
            key_encryption_key: &KEK,
            origin: ISSUER,
            geoip: None,
        }
    }

    /// A relying party `id` with the code flow and refresh tokens.
    pub async fn client(&self, id: &str) -> ClientRecord {
        let now = self.clock.now();
        let record = ClientRecord {
            id: id.into(),
            name: id.into(),
            secret_hash: crate::crypto::secret_hash("secret"),
            redirect_uris: vec!["https://rp.example/cb".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: vec!["openid".into(), "profile".into(), "offline_access".into()],
            subject_type: "pairwise".into(),
            sector_identifier: "rp.example".into(),
            id_token_alg: "ES256".into(),
            min_acr: None,
            sensitive: false,
            agency: None,
            sector_identifier_uri: None,
            notice: Default::default(),
            created_at: now,
            secret_rotated_at: now,
        };
        self.store.insert_client(&record).await.expect("client");
        record
    }

    /// A citizen signed in (a live session) who consented to `client` for `scopes`.
    pub async fn signed_in(&self, client: &str, scopes: &str) -> SsoSession {
        let now = self.clock.now();
        let id = uuid::Uuid::now_v7().to_string();
        let citizen = Citizen {
            id: id.clone(),
            claims: serde_json::json!({"name": "Hong"}),
            created_at: now,
            suspended_at: None,
        };
        let identity = IdentityLink {
            method: "dev".into(),
            issuer: "urn:anyid:dev".into(),
            subject: id.clone(),
            loa: "urn:anyid:loa:low".into(),
            vouched_loa: "urn:anyid:loa:high".into(),
            claims: serde_json::json!({}),
            strong_id: false,
        };
        self.store
            .create_citizen(&citizen, &identity, None)
            .await
            .expect("citizen");
        let session = SsoSession {
            id: uuid::Uuid::now_v7().to_string(),
            citizen_id: id.clone(),
            auth_time: now,
            acr: "urn:anyid:loa:low".into(),
            amr: vec!["fed".into()],
            created_at: now,
            expires_at: now + 3600,
        };
        self.store
            .insert_session(&session, &crate::crypto::secret_hash(&session.id))
            .await
            .expect("session");
        self.store
            .put_consent(&id, client, scopes, now)
            .await
            .expect("consent");
        session
    }
}
