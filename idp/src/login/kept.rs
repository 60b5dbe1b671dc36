//! Protocol state a login method keeps between two requests, used once. Two forms:
//!
//! - **Carried** in the page (passkey ceremonies, certificate challenges): sealed
//!   (AES-256-GCM) or tagged (HMAC) with a key derived from the key-encryption key, so
//!   showing a page writes nothing; spending it records its hash until it would have
//!   expired anyway, which makes it single-use on every replica.
//! - **Stored** under the hash of a random secret the browser carries, for state too large
//!   for a URL (the mutual-TLS listener's certificate chain hand-off).

use anyid_certs::challenge::{Challenge, Purpose};
use serde::{Deserialize, Serialize};

use super::Broker;
use crate::crypto;
use crate::error::OAuthError;
use crate::store::{PendingLoginStore, PendingRecord};

/// A key for one purpose, derived from the key-encryption key.
fn derived_key(ctx: &Broker<'_>, label: &[u8]) -> [u8; 32] {
    let tag = crypto::hmac_sha256(ctx.key_encryption_key, &[b"anyid kept v1", label]);
    let mut key = [0u8; 32];
    key.copy_from_slice(&tag[..32]);
    key
}

/// State a page carries until a method uses it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Carried {
    pub flow_id: Option<String>,
    pub citizen_id: Option<String>,
    pub data: String,
    pub expires_at: i64,
}

crate::redact::debug_without_secrets!(Carried {
    flow_id,
    citizen_id,
    expires_at
});

/// Seal `carried` as `kind` for the page.
pub(crate) fn carry(ctx: &Broker<'_>, kind: &str, carried: &Carried) -> Result<String, OAuthError> {
    let json = serde_json::to_vec(carried).map_err(OAuthError::server_error)?;
    let sealed = crypto::seal(&derived_key(ctx, b"carried"), kind.as_bytes(), &json)?;
    Ok(crypto::b64(&sealed))
}

/// Open what a page carried as `kind` and spend it: `None` if it was not sealed here as
/// `kind`, has expired, or was spent before.
pub(crate) async fn spend_carried(
    ctx: &Broker<'_>,
    kind: &str,
    token: &str,
) -> Result<Option<Carried>, OAuthError> {
    let Some(sealed) = crypto::b64_decode(token) else {
        return Ok(None);
    };
    let Ok(json) = crypto::open(&derived_key(ctx, b"carried"), kind.as_bytes(), &sealed) else {
        return Ok(None);
    };
    let Ok(carried) = serde_json::from_slice::<Carried>(&json) else {
        return Ok(None);
    };
    if carried.expires_at <= ctx.op.now() || !spend(ctx, token, carried.expires_at).await? {
        return Ok(None);
    }
    Ok(Some(carried))
}

async fn spend(ctx: &Broker<'_>, token: &str, expires_at: i64) -> Result<bool, OAuthError> {
    Ok(ctx
        .op
        .store
        .spend_once(&crypto::secret_hash(token), expires_at)
        .await?)
}

/// The origin of this server, as a challenge names it.
fn origin(ctx: &Broker<'_>) -> String {
    ctx.origin.to_owned()
}

/// A certificate challenge for `purpose`, bound to a login flow or an account, valid for
/// `ttl_s` (see `anyid_certs::challenge`).
pub(crate) fn challenge(
    ctx: &Broker<'_>,
    purpose: Purpose,
    bound_to: &str,
    ttl_s: i64,
) -> Result<String, OAuthError> {
    let challenge = Challenge {
        origin: origin(ctx),
        purpose,
        bound_to: bound_to.to_owned(),
        expires_at: ctx.op.now() + ttl_s,
        nonce: crypto::random_token()?,
    };
    let key = derived_key(ctx, b"certificate challenge");
    challenge
        .encode(|payload| crypto::hmac_sha256(&key, &[payload]))
        .map_err(OAuthError::server_error)
}

/// Spend a certificate challenge this server issued for `purpose` and `bound_to`: false if
/// it was not issued here, is for another origin, purpose, flow or account, has expired, or
/// was spent before.
pub(crate) async fn spend_challenge(
    ctx: &Broker<'_>,
    text: &str,
    purpose: Purpose,
    bound_to: &str,
) -> Result<bool, OAuthError> {
    let Ok(decoded) = Challenge::decode(text) else {
        return Ok(false);
    };
    let key = derived_key(ctx, b"certificate challenge");
    let tag = crypto::hmac_sha256(&key, &[decoded.payload.as_bytes()]);
    let c = &decoded.challenge;
    let valid = crypto::constant_time_eq(&tag, &decoded.tag)
        && c.origin == origin(ctx)
        && c.purpose == purpose
        && crypto::constant_time_eq(c.bound_to.as_bytes(), bound_to.as_bytes())
        && c.expires_at > ctx.op.now();
    Ok(valid && spend(ctx, text.trim(), c.expires_at).await?)
}

/// State stored under the hash of a random `secret` the browser carries, for `ttl_s`.
pub(crate) struct Kept<'a> {
    pub kind: &'a str,
    pub flow_id: Option<String>,
    pub citizen_id: Option<String>,
    pub data: String,
    pub ttl_s: i64,
}

/// Keep `kept`; returns the secret that finds it again.
pub(crate) async fn keep(ctx: &Broker<'_>, kept: Kept<'_>) -> Result<String, OAuthError> {
    let secret = crypto::random_token()?;
    let now = ctx.op.now();
    ctx.op
        .store
        .insert_pending(&PendingRecord {
            state_hash: crypto::secret_hash(&secret),
            flow_id: kept.flow_id,
            link_citizen_id: kept.citizen_id,
            provider: kept.kind.to_owned(),
            data: kept.data,
            callback: None,
            created_at: now,
            expires_at: now + kept.ttl_s,
        })
        .await?;
    Ok(secret)
}

/// Take what was kept under `secret` as `kind`, once, if it has not expired.
pub(crate) async fn take(
    ctx: &Broker<'_>,
    kind: &str,
    secret: &str,
) -> Result<Option<PendingRecord>, OAuthError> {
    Ok(ctx
        .op
        .store
        .take_pending(&crypto::secret_hash(secret), ctx.op.now())
        .await?
        .filter(|r| r.provider == kind))
}
