//! Request parameter parsing shared by every endpoint: `application/x-www-form-urlencoded`
//! query or body into a map that rejects repeated parameters (RFC 6749 §3.1, §3.2) and
//! oversized input.

use std::collections::HashMap;

/// Longest parameter value accepted. Request objects are not supported, so nothing
/// legitimate comes close.
pub const MAX_VALUE_LEN: usize = 4096;
pub const MAX_PARAMS: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("parameter {0} is repeated")]
    Repeated(String),
    #[error("parameter {0} is too long")]
    TooLong(String),
    #[error("too many parameters")]
    TooMany,
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Params(HashMap<String, String>);

/// Parameter values can be secrets (codes, verifiers, client secrets): only names print.
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.0.keys().collect();
        names.sort();
        f.debug_tuple("Params").field(&names).finish()
    }
}

impl Params {
    pub fn parse(encoded: &str) -> Result<Self, ParamError> {
        let mut map = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(encoded.as_bytes()) {
            if map.len() >= MAX_PARAMS {
                return Err(ParamError::TooMany);
            }
            if value.len() > MAX_VALUE_LEN || key.len() > 128 {
                return Err(ParamError::TooLong(truncate(&key)));
            }
            // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
            if value.is_empty() {
                continue;
            }
            if map.insert(key.to_string(), value.into_owned()).is_some() {
                return Err(ParamError::Repeated(truncate(&key)));
            }
        }
        Ok(Self(map))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// All of `keys`, or `None` if any is missing.
    pub fn all<const N: usize>(&self, keys: [&str; N]) -> Option<[&str; N]> {
        let mut out = [""; N];
        for (slot, key) in out.iter_mut().zip(keys) {
            *slot = self.get(key)?;
        }
        Some(out)
    }

    pub fn take(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    pub fn from_pairs<const N: usize>(pairs: [(&str, &str); N]) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }
}

fn truncate(key: &str) -> String {
    key.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repeated_parameters_are_rejected() {
        assert_eq!(
            Params::parse("a=1&a=2"),
            Err(ParamError::Repeated("a".into()))
        );
    }

    #[test]
    fn empty_values_count_as_absent() {
        let p = Params::parse("state=&client_id=x").unwrap();
        assert_eq!(p.get("state"), None);
        assert_eq!(p.get("client_id"), Some("x"));
    }

    #[test]
    fn oversized_values_are_rejected() {
        let long = "x".repeat(MAX_VALUE_LEN + 1);
        assert!(matches!(
            Params::parse(&format!("state={long}")),
            Err(ParamError::TooLong(_))
        ));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in ".{0,600}") {
            let _ = Params::parse(&input);
        }

        #[test]
        fn encoded_pairs_round_trip(key in "[a-z_]{1,20}", value in "\\PC{1,100}") {
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .append_pair(&key, &value)
                .finish();
            let p = Params::parse(&encoded).unwrap();
            prop_assert_eq!(p.get(&key), Some(value.as_str()));
        }
    }
}
