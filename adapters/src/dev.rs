//! The `dev` login method: pick one of a few demo citizens. Only `anyid serve --dev` offers
//! it; production refuses to start with it.

use serde_json::json;

use crate::{AdapterError, Loa, VerifiedIdentity};

pub const METHOD: &str = "dev";
pub const ISSUER: &str = "urn:anyid:dev";
/// The demo proves nothing: the lowest assurance.
pub const LOA: Loa = Loa::Low;

pub struct DemoCitizen {
    pub key: &'static str,
    pub name: &'static str,
    pub name_en: &'static str,
}

pub const CITIZENS: [DemoCitizen; 3] = [
    DemoCitizen {
        key: "hong",
        name: "홍길동",
        name_en: "Hong Gildong",
    },
    DemoCitizen {
        key: "kim",
        name: "김민지",
        name_en: "Kim Minji",
    },
    DemoCitizen {
        key: "lee",
        name: "이서준",
        name_en: "Lee Seojun",
    },
];

/// Complete a dev login for the demo citizen `key`.
pub fn complete(key: &str) -> Result<VerifiedIdentity, AdapterError> {
    let (index, citizen) = CITIZENS
        .iter()
        .enumerate()
        .find(|(_, c)| c.key == key)
        .ok_or(AdapterError::UnknownChoice)?;
    let n = index + 1;
    Ok(VerifiedIdentity {
        method: METHOD.into(),
        issuer: ISSUER.into(),
        subject: citizen.key.into(),
        claims: json!({
            "name": citizen.name,
            "given_name": citizen.name_en.split(' ').nth(1).unwrap_or_default(),
            "family_name": citizen.name_en.split(' ').next().unwrap_or_default(),
            "locale": "ko-KR",
            "birthdate": format!("199{n}-0{n}-1{n}"),
            "email": format!("{}@demo.anyid.invalid", citizen.key),
            "email_verified": true,
            "phone_number": format!("+82 10-0000-000{n}"),
            "phone_number_verified": true,
            "address": {
                "country": "KR",
                "locality": "Sejong",
                "formatted": format!("Sejong, Republic of Korea ({n})")
            }
        }),
        loa: LOA,
        // RFC 8176 §2: "user" — a user-presence test; the demo proves nothing stronger.
        amr: vec!["user".into()],
        strong_identifier: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_citizen_completes_and_unknown_keys_fail() {
        for c in CITIZENS {
            let id = complete(c.key).unwrap();
            assert_eq!(id.subject, c.key);
            assert_eq!(id.loa, Loa::Low);
        }
        assert!(complete("mallory").is_err());
    }

    #[test]
    fn acr_round_trips() {
        for l in Loa::ALL {
            assert_eq!(Loa::from_acr(l.acr()), Some(l));
        }
        assert!(Loa::Low < Loa::High);
    }
}
