//! The store conformance suite: every storage trait (`ClientStore`, `AccountStore`,
//! `SessionStore`, `FlowStore`, `GrantStore`, `KeyStore`) against the sqlx store, each test
//! once per backend (`<test>::sqlite`, `<test>::postgres`; PostgreSQL needs
//! `ANYID_TEST_DATABASE_URL`) on a fresh database. Single-use things (codes, refresh
//! rotation, flow transitions) are raced from many tasks to show they are consumed atomically
//! (DESIGN §7, STYLE 5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyid::clock::UnixTime;
use anyid::store::{
    AccountStore, Citizen, ClientRecord, ClientStore, CodeRecord, CodeRedemption, ConsentStore,
    FlowRecord, FlowStore, GrantRecord, GrantStore, IdentityLink, KeyStore, LoginEvent,
    PasskeyEvent, PasskeyRecord, PasskeyStore, PasskeyUse, PendingLoginStore, PendingRecord,
    RefreshRotation, SessionStore, SqlStore, SsoSession, StoreError, StoredKey, Unlink,
};
use anyid_tests::db::{Backend, TestDatabase};
use anyid_tests::per_backend;

const T0: UnixTime = 1_800_000_000;
const RACERS: usize = 16;
/// Races per test: the first runs while the pools still open connections, the later ones on
/// warm pools, where a check-then-write would let several racers through.
const ROUNDS: usize = 4;

/// A freshly migrated store on `backend`, and its database: keep the database for the whole
/// test; dropping it drops a PostgreSQL database (also when the test panics), and `WITH
/// (FORCE)` ends the store's sessions first.
async fn fresh_store(backend: Backend) -> (SqlStore, TestDatabase) {
    let db = TestDatabase::fresh(backend)
        .await
        .expect("a fresh database");
    let store = SqlStore::connect(&db.url, 8).await.expect("connect");
    store.migrate().await.expect("migrate");
    (store, db)
}

fn client(id: &str, created_at: UnixTime) -> ClientRecord {
    ClientRecord {
        id: id.to_owned(),
        name: format!("Bürgeramt \"{id}\""),
        secret_hash: vec![0x00, 0xff, 0x10, 0x7f, 0x80],
        redirect_uris: vec![
            format!("https://{id}.example/cb?x=\"1\"&y=ü"),
            "http://127.0.0.1:8080/callback".to_owned(),
        ],
        post_logout_redirect_uris: vec![],
        grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
        scopes: vec![
            "openid".to_owned(),
            "email".to_owned(),
            "profile".to_owned(),
        ],
        subject_type: "pairwise".to_owned(),
        sector_identifier: format!("{id}.example"),
        id_token_alg: "ES256".to_owned(),
        min_acr: None,
        sensitive: false,
        agency: None,
        sector_identifier_uri: None,
        notice: Default::default(),
        created_at,
        secret_rotated_at: created_at,
    }
}

fn identity(issuer: &str, subject: &str) -> IdentityLink {
    IdentityLink {
        method: "dev".to_owned(),
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        loa: "substantial".to_owned(),
        vouched_loa: "urn:anyid:loa:low".to_owned(),
        claims: serde_json::json!({"nickname": subject}),
        strong_id: false,
    }
}

/// A citizen with one identity; sessions and consents refer to citizens.
async fn citizen(store: &SqlStore, id: &str) {
    let record = Citizen {
        id: id.to_owned(),
        claims: serde_json::json!({"given_name": id}),
        created_at: T0,
        suspended_at: None,
    };
    store
        .create_citizen(&record, &identity("https://idp.example", id), None)
        .await
        .unwrap();
}

fn session(id: &str, citizen_id: &str, expires_at: UnixTime) -> SsoSession {
    SsoSession {
        id: id.to_owned(),
        citizen_id: citizen_id.to_owned(),
        auth_time: T0 - 5,
        acr: "urn:anyid:loa:substantial".to_owned(),
        amr: vec!["pwd".to_owned(), "otp".to_owned()],
        created_at: T0,
        expires_at,
    }
}

fn flow(id: &str, expires_at: UnixTime) -> FlowRecord {
    FlowRecord {
        id: id.to_owned(),
        browser_hash: vec![1, 2, 3, 0, 255],
        client_id: "rp".to_owned(),
        request: r#"{"scope":"openid","nonce":"n-ü"}"#.to_owned(),
        state: "requested".to_owned(),
        session_id: None,
        csrf: format!("csrf-{id}"),
        created_at: T0,
        expires_at,
    }
}

fn grant(id: &str, client_id: &str) -> GrantRecord {
    GrantRecord {
        id: id.to_owned(),
        client_id: client_id.to_owned(),
        citizen_id: "citizen-1".to_owned(),
        session_id: "session-1".to_owned(),
        scope: "openid email offline_access".to_owned(),
        auth_time: T0 - 30,
        acr: "urn:anyid:loa:high".to_owned(),
        amr: vec!["hwk".to_owned(), "pin".to_owned()],
        created_at: T0,
        revoked_at: None,
    }
}

fn code(hash: &[u8], grant_id: &str, expires_at: UnixTime) -> CodeRecord {
    CodeRecord {
        code_hash: hash.to_vec(),
        grant: grant(grant_id, "rp"),
        redirect_uri: "https://rp.example/cb".to_owned(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned(),
        nonce: Some("nonce-1".to_owned()),
        expires_at,
    }
}

fn key(kid: &str, alg: &str, created_at: UnixTime) -> StoredKey {
    StoredKey {
        kid: kid.to_owned(),
        alg: alg.to_owned(),
        sealed_private_key: vec![0, 1, 2, 254, 255, kid.len() as u8],
        public_jwk: format!(r#"{{"kid":"{kid}","kty":"EC"}}"#),
        created_at,
        retire_at: None,
    }
}

mod audit_store;
mod client_store;
mod directory_store;

mod account_store;

mod session_store;

mod flow_store;

/// Start `n` tasks together on a multi-threaded runtime and collect their results.
async fn race<T, F, Fut>(n: usize, task: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            let work = task(i);
            tokio::spawn(async move {
                barrier.wait().await;
                work.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for handle in handles {
        out.push(handle.await.expect("racer panicked"));
    }
    out
}

mod grant_store;

mod key_store;
mod passkey_store;
mod pending_store;
mod retention_store;
