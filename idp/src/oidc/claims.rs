//! Claims released per scope, OIDC Core §5.4.

use serde_json::{Map, Value};

const PROFILE: &[&str] = &[
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];
const EMAIL: &[&str] = &["email", "email_verified"];
const PHONE: &[&str] = &["phone_number", "phone_number_verified"];
const ADDRESS: &[&str] = &["address"];

/// The claim names a scope releases.
pub fn claims_of_scope(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => PROFILE,
        "email" => EMAIL,
        "phone" => PHONE,
        "address" => ADDRESS,
        _ => &[],
    }
}

/// Every claim this provider can release, for discovery's `claims_supported`.
pub fn supported_claims() -> Vec<&'static str> {
    let mut all = vec![
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "amr",
        "sid",
        "azp",
    ];
    for group in [PROFILE, EMAIL, PHONE, ADDRESS] {
        all.extend_from_slice(group);
    }
    all
}

/// The subset of a citizen's stored claims that `scopes` release.
pub fn released(scopes: &[String], stored: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for scope in scopes {
        for name in claims_of_scope(scope) {
            if let Some(value) = stored.get(*name) {
                out.insert((*name).to_owned(), value.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_claims_of_granted_scopes_are_released() {
        let stored =
            json!({"name": "Hong", "email": "h@x", "email_verified": true, "phone_number": "1"});
        let out = released(&["openid".into(), "email".into()], &stored);
        assert_eq!(out.get("email"), Some(&json!("h@x")));
        assert_eq!(out.get("email_verified"), Some(&json!(true)));
        assert!(out.get("name").is_none());
        assert!(out.get("phone_number").is_none());
    }
}
