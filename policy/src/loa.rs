//! Assurance levels (DESIGN §4): what a login proves, ordered low < substantial < high, and
//! their `acr` values. The policy crate owns them because every decision compares them.

use serde::{Deserialize, Serialize};

/// An assurance level. In configuration it is written `"low"`, `"substantial"` or `"high"`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Loa {
    #[default]
    Low,
    Substantial,
    High,
}

impl Loa {
    pub const ALL: [Loa; 3] = [Loa::Low, Loa::Substantial, Loa::High];

    /// The `acr` value for this level.
    pub fn acr(self) -> &'static str {
        match self {
            Loa::Low => "urn:anyid:loa:low",
            Loa::Substantial => "urn:anyid:loa:substantial",
            Loa::High => "urn:anyid:loa:high",
        }
    }

    /// The name used in configuration and policies.
    pub fn name(self) -> &'static str {
        match self {
            Loa::Low => "low",
            Loa::Substantial => "substantial",
            Loa::High => "high",
        }
    }

    pub fn from_acr(acr: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.acr() == acr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_round_trip_through_acr() {
        assert!(Loa::Low < Loa::Substantial && Loa::Substantial < Loa::High);
        for level in Loa::ALL {
            assert_eq!(Loa::from_acr(level.acr()), Some(level));
        }
        assert_eq!(Loa::from_acr("urn:example:gold"), None);
    }
}
