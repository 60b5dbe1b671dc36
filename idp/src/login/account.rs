//! Account resolution and linking (DESIGN §4 binding rule, §5). A verified identity maps to
//! one citizen:
//! - an identity seen before (unique on issuer + subject) is its citizen's;
//! - a new identity carrying a verified strong identifier (a national identity-linking value
//!   such as CI) joins the citizen with the same strong identifier, compared as a keyed hash;
//! - otherwise the first login creates a citizen. Accounts never merge on email.
//!
//! **What a linked identity proves.** Every link stores the level it was vouched at: high for
//! the identity that created the account and for one joined by an equal strong identifier,
//! the signed-in session's level for one linked from a session. A login proves the least of
//! the method's own level and its link's, so a relying party never receives an `acr` for a
//! `sub` that the binding itself did not reach.
//!
//! *Attacker's best move:* holding a citizen's low session (a stolen social account), link a
//! credential of their own (a certificate, a high-level provider account) and log in with it
//! at high as the victim. The link is vouched at low, so that credential proves low for the
//! victim's account (`tests/tests/assurance.rs` runs the attack through the step-up page and
//! both portal paths). Adopting their own strong identifier onto the victim's account would
//! let every later method of theirs join at full level, so an account adopts a strong
//! identifier only from a binding vouched at high, and a link whose strong identifier
//! differs from the account's is refused.
//!
//! A citizen's profile is derived from what their linked methods verified (`profile`).

use anyid_adapters::VerifiedIdentity;
use anyid_policy::Loa;
use serde_json::Value;

use super::{Broker, profile};
use crate::crypto::{self, PurposeKeys};
use crate::error::OAuthError;
use crate::i18n::Notice;
use crate::store::{
    AccountStore, Citizen, IdentityBinding, IdentityLink, SqlStore, StoreError, Unlink,
};

/// Prefix of an identity subject stored as a keyed hash (see [`stored_subject`]).
const HASHED_SUBJECT: &str = "hmac:";

/// The subject under which an identity is stored and looked up. A subject that is itself the
/// identity's national linking value (a certificate whose identity attribute is one) is kept
/// only as a keyed hash, like the linking value itself; any other subject as it is.
pub fn stored_subject(keys: &PurposeKeys, identity: &VerifiedIdentity) -> String {
    match &identity.strong_identifier {
        Some(strong) if strong.0 == identity.subject => {
            hashed_subject(keys, &identity.issuer, &identity.subject)
        }
        _ => identity.subject.clone(),
    }
}

/// The keyed hash of a subject at `issuer`, in its stored form.
pub fn hashed_subject(keys: &PurposeKeys, issuer: &str, subject: &str) -> String {
    let mac = crypto::hmac_sha256(
        &keys.linking,
        &[b"subject", issuer.as_bytes(), subject.as_bytes()],
    );
    format!("{HASHED_SUBJECT}{}", crypto::b64(&mac))
}

/// Whether a stored subject is a keyed hash already (a data migration must not hash twice).
pub fn is_hashed_subject(subject: &str) -> bool {
    subject.starts_with(HASHED_SUBJECT)
}

/// Data migration for deployments whose certificate identities are national linking values
/// (`[certificates] strong_identifier = true`): subjects stored in clear before that rule
/// existed become their keyed hash, and the claims stored with them (the certificate's
/// name) go. Idempotent; run at start. Returns how many identities changed.
pub async fn protect_certificate_subjects(
    store: &SqlStore,
    keys: &PurposeKeys,
) -> Result<usize, StoreError> {
    let mut changed = 0;
    for (id, issuer, subject) in store
        .identity_subjects(anyid_adapters::certificate::METHOD)
        .await?
    {
        if !is_hashed_subject(&subject) {
            store
                .protect_identity_subject(&id, &hashed_subject(keys, &issuer, &subject))
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// The identity as the store sees it: with its [`stored_subject`].
fn as_stored(ctx: &Broker<'_>, identity: &VerifiedIdentity) -> VerifiedIdentity {
    VerifiedIdentity {
        subject: stored_subject(ctx.op.secrets, identity),
        ..identity.clone()
    }
}

/// The keyed hash under which a strong identifier is stored and compared; the value itself
/// is never stored or logged.
fn strong_id_hash(ctx: &Broker<'_>, identity: &VerifiedIdentity) -> Option<Vec<u8>> {
    identity
        .strong_identifier
        .as_ref()
        .map(|s| crypto::hmac_sha256(&ctx.op.secrets.linking, &[b"strong id", s.0.as_bytes()]))
}

fn link_of(identity: &VerifiedIdentity, vouched: Loa, strong_id: bool) -> IdentityLink {
    IdentityLink {
        method: identity.method.clone(),
        issuer: identity.issuer.clone(),
        subject: identity.subject.clone(),
        loa: identity.loa.acr().to_owned(),
        vouched_loa: vouched.acr().to_owned(),
        claims: identity.claims.clone(),
        strong_id,
    }
}

/// The level a new link is vouched at, or why it is refused, from the identity's strong
/// identifier, the citizen's, and the level of the session making the link. Also says
/// whether the citizen adopts the identity's strong identifier.
fn vouch_new_link(
    identity_strong: Option<&[u8]>,
    citizen_strong: Option<&[u8]>,
    session: Loa,
) -> Result<(Loa, bool), LinkOutcome> {
    match (identity_strong, citizen_strong) {
        // A matching strong identifier is a binding of its own (the same person).
        (Some(i), Some(c)) if crypto::constant_time_eq(i, c) => Ok((Loa::High, false)),
        (Some(_), Some(_)) => Err(LinkOutcome::AnotherPerson),
        // Adopting a strong identifier lets every later method carrying it join at full
        // level, so only a binding vouched at high may do it.
        (Some(_), None) if session == Loa::High => Ok((Loa::High, true)),
        _ => Ok((session, false)),
    }
}

/// Who a login proved: the citizen and the level the identity proves for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    Citizen {
        id: String,
        loa: Loa,
    },
    /// The identity cannot sign anyone in: its strong identifier contradicts its account's.
    Refused(Notice),
}

/// The citizen for a completed login, creating or joining an account as described above.
pub async fn resolve(
    ctx: &Broker<'_>,
    identity: &VerifiedIdentity,
) -> Result<Resolution, OAuthError> {
    let identity = &as_stored(ctx, identity);
    let now = ctx.op.now();
    let strong = strong_id_hash(ctx, identity);
    if let Some(binding) = ctx
        .op
        .store
        .identity_binding(&identity.issuer, &identity.subject)
        .await?
    {
        return Ok(
            match known(ctx, &binding, identity, strong.as_deref()).await? {
                Ok(loa) => Resolution::Citizen {
                    id: binding.citizen_id,
                    loa,
                },
                Err(notice) => Resolution::Refused(notice),
            },
        );
    }
    if let Some(hash) = &strong
        && let Some(id) = ctx.op.store.citizen_by_strong_id(hash).await?
    {
        // Same verified strong identifier: the same person, another method.
        let link = link_of(identity, Loa::High, true);
        return match ctx.op.store.link_identity(&id, &link, None, now).await {
            Ok(()) => {
                profile::refresh(ctx.op.store, &id).await?;
                Ok(Resolution::Citizen {
                    id,
                    loa: identity.loa,
                })
            }
            // A concurrent login linked it first: resolve again through its binding.
            Err(StoreError::Conflict(_)) => Box::pin(resolve(ctx, identity)).await,
            Err(e) => Err(e.into()),
        };
    }
    let citizen = Citizen {
        id: uuid::Uuid::now_v7().to_string(),
        claims: Value::Object(Default::default()),
        created_at: now,
        suspended_at: None,
    };
    // The identity that creates the account is the account's own: vouched at high.
    let link = link_of(identity, Loa::High, strong.is_some());
    match ctx
        .op
        .store
        .create_citizen(&citizen, &link, strong.as_deref())
        .await
    {
        Ok(()) => {
            profile::refresh(ctx.op.store, &citizen.id).await?;
            Ok(Resolution::Citizen {
                id: citizen.id,
                loa: identity.loa,
            })
        }
        // A concurrent first login created it (or took the strong identifier): use theirs.
        Err(StoreError::Conflict(_)) => Box::pin(resolve(ctx, identity)).await,
        Err(e) => Err(e.into()),
    }
}

/// A login with an identity already linked to `binding.citizen_id`: check its strong
/// identifier against the account's, adopt it when the binding is vouched at high, keep
/// what it verified, and return the level it proves for the citizen.
async fn known(
    ctx: &Broker<'_>,
    binding: &IdentityBinding,
    identity: &VerifiedIdentity,
    strong: Option<&[u8]>,
) -> Result<Result<Loa, Notice>, OAuthError> {
    let vouched = Loa::from_acr(&binding.vouched_loa).unwrap_or_default();
    let citizen = &binding.citizen_id;
    // Whether the identity carries the citizen's linking value (see `IdentityLink`), or
    // contradicts it.
    let carries = match strong {
        None => Some(false),
        Some(hash) => match ctx.op.store.strong_id_of(citizen).await? {
            Some(held) => crypto::constant_time_eq(&held, hash).then_some(true),
            None if vouched == Loa::High => match ctx.op.store.set_strong_id(citizen, hash).await {
                Ok(true) => Some(true),
                // Set concurrently: it must be this one.
                Ok(false) => ctx
                    .op
                    .store
                    .strong_id_of(citizen)
                    .await?
                    .is_some_and(|held| crypto::constant_time_eq(&held, hash))
                    .then_some(true),
                Err(StoreError::Conflict(_)) => None,
                Err(e) => return Err(e.into()),
            },
            // Not adopted from a binding below high: the account holds no linking value.
            None => Some(false),
        },
    };
    let Some(carries) = carries else {
        tracing::warn!(
            method = %identity.method,
            "a linked identity's strong identifier contradicts its account; login refused"
        );
        return Ok(Err(Notice::AnotherPerson));
    };
    ctx.op
        .store
        .touch_identity(
            &identity.issuer,
            &identity.subject,
            &profile::merge_claims(&binding.claims, &identity.claims),
            carries,
            ctx.op.now(),
        )
        .await?;
    profile::refresh(ctx.op.store, citizen).await?;
    Ok(Ok(identity.loa.min(vouched)))
}

/// What the citizen is called on our pages: their name, else nickname, else nothing.
pub async fn display_name(ctx: &Broker<'_>, citizen_id: &str) -> Result<String, OAuthError> {
    let citizen = ctx.op.store.citizen(citizen_id).await?;
    Ok(citizen
        .as_ref()
        .and_then(|c| c.claims.get("name").or_else(|| c.claims.get("nickname")))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned())
}

/// What became of a method the signed-in citizen completed to link it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Linked now; it proves this level for the citizen.
    Linked(Loa),
    /// It was the citizen's already; it proves this level for them.
    AlreadyYours(Loa),
    /// The identity, or its strong identifier, belongs to another citizen.
    BelongsToAnother,
    /// Its strong identifier is not the citizen's: another person's credential.
    AnotherPerson,
    /// It could be bound only below the level asked for: nothing was linked.
    Unproven,
}

impl LinkOutcome {
    /// The citizen-facing reason a link did not happen, if it did not.
    pub fn refusal(self) -> Option<Notice> {
        match self {
            Self::Linked(_) | Self::AlreadyYours(_) => None,
            Self::BelongsToAnother => Some(Notice::LinkedElsewhere),
            Self::AnotherPerson => Some(Notice::AnotherPerson),
            Self::Unproven => Some(Notice::StepUpNotBound),
        }
    }
}

/// Link a method the signed-in citizen just completed from a session at level `session`.
/// The link is vouched at that level (or at high, through a matching strong identifier);
/// when that would leave it proving less than `need`, nothing is linked.
pub async fn link(
    ctx: &Broker<'_>,
    citizen_id: &str,
    identity: &VerifiedIdentity,
    session: Loa,
    need: Loa,
) -> Result<LinkOutcome, OAuthError> {
    let identity = &as_stored(ctx, identity);
    let strong = strong_id_hash(ctx, identity);
    if let Some(binding) = ctx
        .op
        .store
        .identity_binding(&identity.issuer, &identity.subject)
        .await?
    {
        if binding.citizen_id != citizen_id {
            return Ok(LinkOutcome::BelongsToAnother);
        }
        return Ok(
            match known(ctx, &binding, identity, strong.as_deref()).await? {
                Ok(loa) => LinkOutcome::AlreadyYours(loa),
                Err(_) => LinkOutcome::AnotherPerson,
            },
        );
    }
    if let Some(hash) = &strong
        && ctx
            .op
            .store
            .citizen_by_strong_id(hash)
            .await?
            .is_some_and(|owner| owner != citizen_id)
    {
        return Ok(LinkOutcome::BelongsToAnother);
    }
    let held = ctx.op.store.strong_id_of(citizen_id).await?;
    let (vouched, adopt) = match vouch_new_link(strong.as_deref(), held.as_deref(), session) {
        Ok(v) => v,
        Err(refused) => return Ok(refused),
    };
    let loa = identity.loa.min(vouched);
    if loa < need {
        return Ok(LinkOutcome::Unproven);
    }
    // It carries the citizen's linking value when it brings the one the citizen holds or is
    // about to adopt (a different one was refused above).
    let carries = strong.is_some() && (adopt || held.is_some());
    let adopt = if adopt { strong.as_deref() } else { None };
    let link = link_of(identity, vouched, carries);
    match ctx
        .op
        .store
        .link_identity(citizen_id, &link, adopt, ctx.op.now())
        .await
    {
        Ok(()) => {}
        // Linked, or the strong identifier taken, concurrently.
        Err(StoreError::Conflict(_)) => return Ok(LinkOutcome::BelongsToAnother),
        Err(e) => return Err(e.into()),
    }
    profile::refresh(ctx.op.store, citizen_id).await?;
    Ok(LinkOutcome::Linked(loa))
}

pub async fn unlink(
    ctx: &Broker<'_>,
    citizen_id: &str,
    identity_id: &str,
) -> Result<Unlink, OAuthError> {
    let outcome = ctx
        .op
        .store
        .unlink_identity(citizen_id, identity_id)
        .await?;
    if outcome == Unlink::Done {
        // What only the unlinked method verified goes with it.
        profile::refresh(ctx.op.store, citizen_id).await?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Fixture;
    use anyid_adapters::StrongIdentifier;
    use serde_json::json;

    fn identity(issuer: &str, subject: &str, loa: Loa, strong: Option<&str>) -> VerifiedIdentity {
        VerifiedIdentity {
            method: "test".into(),
            issuer: issuer.into(),
            subject: subject.into(),
            claims: json!({}),
            loa,
            amr: vec![],
            strong_identifier: strong.map(|s| StrongIdentifier(s.into())),
        }
    }

    /// The binding rule as a login step, without a server: a credential linked from a low
    /// session proves low for the account; one carrying the account's strong identifier
    /// proves its own level; another person's strong identifier is refused.
    #[tokio::test]
    async fn what_a_link_proves_depends_on_the_binding_that_made_it() {
        let f = Fixture::new().await;
        let ctx = f.broker();
        let social = identity("https://kakao.test", "k1", Loa::Low, Some("CI-A"));
        let Resolution::Citizen { id, loa } = resolve(&ctx, &social).await.unwrap() else {
            panic!("a new account")
        };
        assert_eq!(loa, Loa::Low);

        let stranger_cert = identity("urn:x509:ca", "someone", Loa::High, None);
        assert_eq!(
            link(&ctx, &id, &stranger_cert, Loa::Low, Loa::High)
                .await
                .unwrap(),
            LinkOutcome::Unproven,
            "a step-up to high cannot bind it"
        );
        assert_eq!(
            link(&ctx, &id, &stranger_cert, Loa::Low, Loa::Low)
                .await
                .unwrap(),
            LinkOutcome::Linked(Loa::Low),
            "the portal links it at the session's level"
        );
        assert_eq!(
            resolve(&ctx, &stranger_cert).await.unwrap(),
            Resolution::Citizen {
                id: id.clone(),
                loa: Loa::Low
            }
        );

        let own_mobile_id = identity("https://wallet.test", "w1", Loa::High, Some("CI-A"));
        assert_eq!(
            link(&ctx, &id, &own_mobile_id, Loa::Low, Loa::High)
                .await
                .unwrap(),
            LinkOutcome::Linked(Loa::High),
            "the same strong identifier is a binding of its own"
        );
        let another_person = identity("https://wallet.test", "w2", Loa::High, Some("CI-B"));
        assert_eq!(
            link(&ctx, &id, &another_person, Loa::High, Loa::Low)
                .await
                .unwrap(),
            LinkOutcome::AnotherPerson
        );
    }

    #[test]
    fn a_new_link_is_vouched_at_the_session_level_unless_the_same_person_is_proven() {
        let (a, b) = (b"a".as_slice(), b"b".as_slice());
        assert_eq!(vouch_new_link(None, None, Loa::Low), Ok((Loa::Low, false)));
        assert_eq!(
            vouch_new_link(None, Some(a), Loa::Substantial),
            Ok((Loa::Substantial, false))
        );
        assert_eq!(
            vouch_new_link(Some(a), Some(a), Loa::Low),
            Ok((Loa::High, false))
        );
        assert_eq!(
            vouch_new_link(Some(a), Some(b), Loa::High),
            Err(LinkOutcome::AnotherPerson)
        );
        // A strong identifier is adopted only from a high binding.
        assert_eq!(
            vouch_new_link(Some(a), None, Loa::Low),
            Ok((Loa::Low, false))
        );
        assert_eq!(
            vouch_new_link(Some(a), None, Loa::High),
            Ok((Loa::High, true))
        );
    }
}
