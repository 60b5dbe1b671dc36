//! A citizen's released profile: derived from what their linked methods verified, never
//! kept apart from them. Each linked identity keeps the standard claims its method verified
//! (merged over its logins: Apple sends the name only once); the profile is those merged, the
//! least recently used first so the freshest value wins, then the citizen's own choices: for
//! a name, an email or a phone number the citizen may pick the linked method whose value is
//! released. Unlinking a method derives the profile again, so what only it verified goes.
//!
//! The profile is stored (`citizens.claims`, so issuing tokens reads one row) with the
//! version of this rule; profiles of an older rule are derived again at start.

use serde_json::{Map, Value};

use crate::error::OAuthError;
use crate::oidc::Provider;
use crate::store::{AccountStore, LinkedIdentity, SqlStore, StoreError};

/// The version of the derivation rule; raise it when the rule changes.
pub const PROFILE_VERSION: i64 = 1;

/// Claims chosen together, by unit: a citizen picks which linked method's are released.
pub const UNITS: [(&str, &[&str]); 3] = [
    (
        "name",
        &["name", "family_name", "given_name", "middle_name"],
    ),
    ("email", &["email", "email_verified"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// Claims that are true only together: an address and the flag saying it was verified.
const ADDRESS_UNITS: [(&str, &str); 2] = [
    ("email", "email_verified"),
    ("phone_number", "phone_number_verified"),
];

/// Merge freshly verified claims over stored ones: present values replace, absent ones stay.
/// An address and its `*_verified` flag are one unit: a fresh address replaces the stored
/// flag with its own (or none), and a flag that arrives without its address is ignored.
pub fn merge_claims(stored: &Value, fresh: &Value) -> Value {
    let mut out = stored.as_object().cloned().unwrap_or_default();
    let Some(fresh) = fresh.as_object() else {
        return Value::Object(out);
    };
    let present = |k: &str| fresh.get(k).is_some_and(|v| !v.is_null());
    for (address, flag) in ADDRESS_UNITS {
        if present(address) {
            out.remove(flag);
        }
    }
    for (k, v) in fresh {
        if v.is_null() {
            continue;
        }
        let orphan_flag = ADDRESS_UNITS.iter().any(|(a, f)| k == f && !present(a));
        if !orphan_flag {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// The profile of a citizen with these linked identities and these choices (`unit` ->
/// identity id). A choice naming an identity no longer linked lapses.
pub fn derive(identities: &[LinkedIdentity], sources: &Value) -> Value {
    let mut order: Vec<&LinkedIdentity> = identities.iter().collect();
    order.sort_by_key(|i| (i.last_used_at, i.created_at));
    let mut profile = Value::Object(Map::new());
    for identity in &order {
        profile = merge_claims(&profile, &identity.claims);
    }
    let Value::Object(mut out) = profile else {
        return Value::Object(Map::new());
    };
    for (unit, claims) in UNITS {
        let chosen = sources
            .get(unit)
            .and_then(Value::as_str)
            .and_then(|id| identities.iter().find(|i| i.id == id));
        if let Some(identity) = chosen {
            for claim in claims {
                out.remove(*claim);
                if let Some(v) = identity.claims.get(*claim) {
                    out.insert((*claim).to_owned(), v.clone());
                }
            }
        }
    }
    Value::Object(out)
}

/// Derive a citizen's profile again from their identities and choices, and store it.
pub async fn refresh(store: &SqlStore, citizen_id: &str) -> Result<(), StoreError> {
    let identities = store.identities(citizen_id).await?;
    let sources = store.claim_sources(citizen_id).await?;
    let derived = derive(&identities, &sources);
    store
        .save_profile(citizen_id, &derived, PROFILE_VERSION)
        .await
}

/// Data migration: derive again every profile an older rule derived (or that predates
/// derivation). Idempotent; run at start. Returns how many were derived.
pub async fn refresh_stale(store: &SqlStore) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let batch = store.stale_profiles(PROFILE_VERSION, 500).await?;
        if batch.is_empty() {
            return Ok(done);
        }
        for id in &batch {
            refresh(store, id).await?;
        }
        done += batch.len();
    }
}

/// What became of a citizen's choice of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Chosen,
    /// No such unit, the identity is not the citizen's, or it verified nothing for the unit.
    Refused,
}

/// The citizen chooses the linked identity whose `unit` (`name`, `email`, `phone`) is
/// released; the profile is derived again at once.
pub async fn choose(
    op: &Provider<'_>,
    citizen_id: &str,
    unit: &str,
    identity_id: &str,
) -> Result<Choice, OAuthError> {
    let Some((_, claims)) = UNITS.iter().find(|(u, _)| *u == unit) else {
        return Ok(Choice::Refused);
    };
    let identities = op.store.identities(citizen_id).await?;
    let has_value = identities
        .iter()
        .find(|i| i.id == identity_id)
        .is_some_and(|i| i.claims.get(claims[0]).is_some());
    if !has_value {
        return Ok(Choice::Refused);
    }
    let mut sources = op.store.claim_sources(citizen_id).await?;
    if let Value::Object(map) = &mut sources {
        map.insert(unit.to_owned(), Value::String(identity_id.to_owned()));
    } else {
        sources = serde_json::json!({ unit: identity_id });
    }
    op.store.set_claim_sources(citizen_id, &sources).await?;
    refresh(op.store, citizen_id).await?;
    Ok(Choice::Chosen)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity(id: &str, last_used_at: i64, claims: Value) -> LinkedIdentity {
        LinkedIdentity {
            id: id.into(),
            method: id.into(),
            issuer: "https://idp.example".into(),
            loa: "urn:anyid:loa:low".into(),
            vouched_loa: "urn:anyid:loa:low".into(),
            claims,
            created_at: 0,
            last_used_at,
        }
    }

    #[test]
    fn the_freshest_method_wins_unless_the_citizen_chose_one() {
        let kakao = identity(
            "kakao",
            10,
            json!({"name": "홍길동", "email": "hong@kakao.example", "email_verified": true}),
        );
        let naver = identity(
            "naver",
            20,
            json!({"name": "Hong Gildong", "phone_number": "+82 10-1234-5678"}),
        );
        let both = [kakao.clone(), naver.clone()];
        let derived = derive(&both, &json!({}));
        assert_eq!(derived["name"], "Hong Gildong", "used last");
        assert_eq!(derived["email"], "hong@kakao.example", "only Kakao has one");
        assert_eq!(derived["phone_number"], "+82 10-1234-5678");

        let chosen = derive(&both, &json!({"name": "kakao"}));
        assert_eq!(chosen["name"], "홍길동");

        // Unlinked: what only Naver verified is gone, and a choice of it lapses.
        let derived = derive(&[kakao], &json!({"phone": "naver"}));
        assert_eq!(
            derived,
            json!({"name": "홍길동", "email": "hong@kakao.example", "email_verified": true})
        );
    }

    #[test]
    fn a_chosen_unit_is_taken_whole() {
        let a = identity("a", 10, json!({"email": "a@x", "email_verified": true}));
        let b = identity("b", 20, json!({"email": "b@x"}));
        let derived = derive(&[a.clone(), b.clone()], &json!({}));
        assert_eq!(
            derived,
            json!({"email": "b@x"}),
            "b's address is not verified"
        );
        let derived = derive(&[a, b], &json!({"email": "a"}));
        assert_eq!(derived, json!({"email": "a@x", "email_verified": true}));
    }

    #[test]
    fn fresh_claims_win_and_missing_ones_are_kept() {
        let stored = json!({"name": "Hong", "email": "old@x"});
        let fresh = json!({"email": "new@x", "picture": null});
        assert_eq!(
            merge_claims(&stored, &fresh),
            json!({"name": "Hong", "email": "new@x"})
        );
    }

    #[test]
    fn a_verified_flag_never_outlives_its_address() {
        let stored = json!({"email": "me@x", "email_verified": true,
                            "phone_number": "+82 10", "phone_number_verified": true});
        // A new address without a flag is not verified.
        let merged = merge_claims(&stored, &json!({"email": "attacker@x"}));
        assert_eq!(merged["email"], "attacker@x");
        assert!(merged.get("email_verified").is_none(), "{merged}");
        assert_eq!(
            merged["phone_number_verified"], true,
            "the other unit stays"
        );
        // A new address with its own flag carries that flag.
        let merged = merge_claims(
            &stored,
            &json!({"phone_number": "+82 11", "phone_number_verified": false}),
        );
        assert_eq!(merged["phone_number_verified"], false);
        // A flag without its address says nothing about the stored address.
        let merged = merge_claims(
            &json!({"email": "me@x", "email_verified": false}),
            &json!({"email_verified": true}),
        );
        assert_eq!(merged["email_verified"], false, "{merged}");
        // On a first login, an orphan flag is dropped too.
        assert_eq!(
            merge_claims(&Value::Null, &json!({"email_verified": true})),
            json!({})
        );
    }
}
