//! Subject identifiers, OIDC Core §8: pairwise per sector by default, public on request; and
//! the session id each relying party sees.

use crate::crypto::{PurposeKeys, b64, hmac_sha256};
use crate::store::ClientRecord;

/// The `sub` a client sees for a citizen. Pairwise (§8.1): a keyed hash of the client's
/// sector identifier and the citizen id, so two sectors cannot correlate a citizen, and one
/// sector always sees the same value. Public: one keyed hash of the citizen id for every
/// client, a value of its own rather than the internal id (a UUIDv7, which would tell when
/// the account was made).
pub fn subject_for(keys: &PurposeKeys, client: &ClientRecord, citizen_id: &str) -> String {
    let citizen = citizen_id.as_bytes();
    b64(&if client.subject_type == "public" {
        hmac_sha256(&keys.pairwise, &[b"public", citizen])
    } else {
        let sector = client.sector_identifier.as_bytes();
        hmac_sha256(&keys.pairwise, &[b"pairwise", sector, citizen])
    })
}

/// The `sid` a client sees for a single sign-on session (OIDC Front-/Back-Channel Logout
/// §2/§3 and RP-Initiated Logout use it): per client, so relying parties cannot join their
/// records on it the way pairwise subjects keep them from joining on `sub`.
pub fn sid_for(keys: &PurposeKeys, client_id: &str, session_id: &str) -> String {
    b64(&hmac_sha256(
        &keys.session_ids,
        &[client_id.as_bytes(), session_id.as_bytes()],
    ))
}

/// The default sector identifier (§8.1): the host of the redirect URI.
pub fn sector_of(redirect_uri: &str) -> Option<String> {
    url::Url::parse(redirect_uri)
        .ok()?
        .host_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(sector: &str, subject_type: &str) -> ClientRecord {
        ClientRecord {
            id: "c".into(),
            name: "c".into(),
            secret_hash: vec![],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            scopes: vec![],
            subject_type: subject_type.into(),
            sector_identifier: sector.into(),
            id_token_alg: "ES256".into(),
            min_acr: None,
            sensitive: false,
            agency: None,
            sector_identifier_uri: None,
            notice: Default::default(),
            created_at: 0,
            secret_rotated_at: 0,
        }
    }

    fn keys() -> PurposeKeys {
        PurposeKeys::derive(b"k", None)
    }

    #[test]
    fn pairwise_differs_across_sectors_and_is_stable_within_one() {
        let a = subject_for(&keys(), &client("a.example", "pairwise"), "citizen-1");
        let b = subject_for(&keys(), &client("b.example", "pairwise"), "citizen-1");
        assert_ne!(a, b);
        assert_eq!(
            a,
            subject_for(&keys(), &client("a.example", "pairwise"), "citizen-1")
        );
        assert_ne!(a, "citizen-1");
    }

    #[test]
    fn public_subject_is_shared_but_not_the_citizen_id() {
        let a = subject_for(&keys(), &client("a", "public"), "citizen-1");
        assert_eq!(a, subject_for(&keys(), &client("b", "public"), "citizen-1"));
        assert_ne!(a, "citizen-1");
        assert_ne!(
            a,
            subject_for(&keys(), &client("public", "pairwise"), "citizen-1")
        );
        assert_ne!(a, subject_for(&keys(), &client("a", "public"), "citizen-2"));
    }

    #[test]
    fn session_ids_differ_per_client() {
        let a = sid_for(&keys(), "client-a", "session-1");
        assert_ne!(a, sid_for(&keys(), "client-b", "session-1"));
        assert_eq!(a, sid_for(&keys(), "client-a", "session-1"));
        assert_ne!(a, "session-1");
    }
}
