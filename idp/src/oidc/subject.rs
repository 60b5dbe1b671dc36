//! Subject identifiers, OIDC Core §8: pairwise per sector by default, public on request.

use crate::crypto::{b64, hmac_sha256};
use crate::store::ClientRecord;

/// The `sub` a client sees for a citizen. Pairwise (§8.1): HMAC over the client's sector
/// identifier and the citizen id, so two sectors cannot correlate a citizen, and one sector
/// always sees the same value.
pub fn subject_for(secret: &[u8], client: &ClientRecord, citizen_id: &str) -> String {
    if client.subject_type == "public" {
        return citizen_id.to_owned();
    }
    b64(&hmac_sha256(
        secret,
        &[
            b"anyid pairwise v1",
            client.sector_identifier.as_bytes(),
            citizen_id.as_bytes(),
        ],
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
            created_at: 0,
            secret_rotated_at: 0,
        }
    }

    #[test]
    fn pairwise_differs_across_sectors_and_is_stable_within_one() {
        let a = subject_for(b"k", &client("a.example", "pairwise"), "citizen-1");
        let b = subject_for(b"k", &client("b.example", "pairwise"), "citizen-1");
        assert_ne!(a, b);
        assert_eq!(
            a,
            subject_for(b"k", &client("a.example", "pairwise"), "citizen-1")
        );
        assert_ne!(a, "citizen-1");
    }

    #[test]
    fn public_subject_is_the_citizen_id() {
        assert_eq!(
            subject_for(b"k", &client("a", "public"), "citizen-1"),
            "citizen-1"
        );
    }
}
