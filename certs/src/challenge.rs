//! The text a certificate signs to log in or to be registered to an account:
//! `anyid-challenge.<payload>.<tag>`. The payload (base64url JSON) names the origin that
//! asked, the purpose, what the challenge is bound to (a login flow or an account), when it
//! expires and a nonce; the tag is the issuing server's MAC over the payload text.
//!
//! Why the content is more than a random nonce: a signature over a bare nonce can be relayed
//! by a phishing page into the attacker's own login (or, in the portal, attach the victim's
//! certificate to the attacker's account). With the origin and purpose in the signed text, a
//! signer shows what is being signed and refuses a challenge whose origin is not the page it
//! came from ([`Challenge::check_origin`]); the server refuses one issued for another
//! purpose, flow or account. Nothing is stored until a challenge is spent.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::CertError;

const PREFIX: &str = "anyid-challenge";

/// What a signature over the challenge will be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// Log in (the challenge is bound to a login flow).
    Login,
    /// Register the certificate to an account (bound to that account).
    Register,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// The origin of the server that issued it (scheme, host, port).
    pub origin: String,
    pub purpose: Purpose,
    /// The login flow (login) or the account (register) it belongs to.
    pub bound_to: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub nonce: String,
}

/// A challenge text taken apart: its fields, the payload text the tag covers, and the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub challenge: Challenge,
    pub payload: String,
    pub tag: Vec<u8>,
}

impl Challenge {
    /// The challenge text, with `tag` computed by the issuer over the payload text.
    pub fn encode(&self, tag: impl FnOnce(&[u8]) -> Vec<u8>) -> Result<String, CertError> {
        let json = serde_json::to_vec(self).map_err(|e| CertError::Malformed(e.to_string()))?;
        let payload = URL_SAFE_NO_PAD.encode(json);
        let tag = URL_SAFE_NO_PAD.encode(tag(payload.as_bytes()));
        Ok(format!("{PREFIX}.{payload}.{tag}"))
    }

    /// Take a challenge text apart; the caller checks the tag.
    pub fn decode(text: &str) -> Result<Decoded, CertError> {
        let malformed = || CertError::Malformed("not an Any-ID challenge".into());
        let mut parts = text.trim().split('.');
        let (Some(PREFIX), Some(payload), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed())?;
        let challenge: Challenge = serde_json::from_slice(&json).map_err(|_| malformed())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| malformed())?;
        Ok(Decoded {
            challenge,
            payload: payload.to_owned(),
            tag,
        })
    }

    /// A signer's check: the challenge was issued by the origin of the page it came from.
    pub fn check_origin(&self, page_origin: &str) -> Result<(), CertError> {
        let same = self.origin.trim_end_matches('/') == page_origin.trim_end_matches('/');
        if same {
            Ok(())
        } else {
            Err(CertError::Malformed(format!(
                "the challenge was issued by {}, not by {page_origin}",
                self.origin
            )))
        }
    }

    /// What a signer shows before signing.
    pub fn describe(&self) -> String {
        let purpose = match self.purpose {
            Purpose::Login => "log in with this certificate",
            Purpose::Register => "register this certificate to an Any-ID account",
        };
        let expires = time::OffsetDateTime::from_unix_timestamp(self.expires_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| self.expires_at.to_string());
        format!(
            "Signing for: {}\nPurpose:     {purpose}\nExpires:     {expires}",
            self.origin
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Challenge {
        Challenge {
            origin: "https://id.example.gov".into(),
            purpose: Purpose::Login,
            bound_to: "flow-1".into(),
            expires_at: 1_800_000_000,
            nonce: "n".into(),
        }
    }

    #[test]
    fn a_challenge_round_trips_with_its_tag() {
        let text = sample().encode(|p| p[..4].to_vec()).unwrap();
        assert!(text.starts_with("anyid-challenge."));
        let decoded = Challenge::decode(&text).unwrap();
        assert_eq!(decoded.challenge, sample());
        assert_eq!(decoded.tag, decoded.payload.as_bytes()[..4].to_vec());
        assert!(sample().describe().contains("https://id.example.gov"));
        assert!(sample().describe().contains("log in"));
    }

    #[test]
    fn a_signer_refuses_a_challenge_from_another_origin() {
        assert!(sample().check_origin("https://id.example.gov/").is_ok());
        assert!(
            sample()
                .check_origin("https://id-example.gov.evil.test")
                .is_err()
        );
    }

    #[test]
    fn anything_else_is_malformed() {
        for text in [
            "",
            "random-token",
            "anyid-challenge.e30.AA",
            "anyid-challenge.!!.AA",
            "anyid-challenge.a.b.c",
        ] {
            assert!(Challenge::decode(text).is_err(), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decoding_never_panics(text in "\\PC{0,300}") {
            let _ = Challenge::decode(&text);
        }
    }
}
