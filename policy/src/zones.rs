//! Network zones: named address ranges from configuration ("internal", "government", ...).
//! An address outside every range is in the zone `internet`; the first matching zone in
//! configuration order wins.

use std::net::IpAddr;

use ipnet::IpNet;

pub const INTERNET: &str = "internet";

#[derive(Debug, Clone, Default)]
pub struct Zones {
    ranges: Vec<(String, Vec<IpNet>)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZoneError {
    #[error("zone {zone:?}: {range:?} is not an address range such as \"10.0.0.0/8\"")]
    Range { zone: String, range: String },
    #[error("zone name {0:?}: use lowercase letters, digits, '-' and '_'")]
    Name(String),
}

impl Zones {
    /// Zones in order, each with its ranges in CIDR notation.
    pub fn new<'a>(
        zones: impl IntoIterator<Item = (&'a str, &'a [String])>,
    ) -> Result<Self, ZoneError> {
        let mut ranges = Vec::new();
        for (name, cidrs) in zones {
            let valid = !name.is_empty()
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !valid {
                return Err(ZoneError::Name(name.into()));
            }
            let nets = cidrs
                .iter()
                .map(|c| {
                    c.parse::<IpNet>().map_err(|_| ZoneError::Range {
                        zone: name.into(),
                        range: c.clone(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            ranges.push((name.to_owned(), nets));
        }
        Ok(Self { ranges })
    }

    /// The zone of `ip`; without an address (a local command), `internet` too: nothing is
    /// trusted for being inside.
    pub fn classify(&self, ip: Option<IpAddr>) -> &str {
        let Some(ip) = ip.map(canonical) else {
            return INTERNET;
        };
        self.ranges
            .iter()
            .find(|(_, nets)| nets.iter().any(|n| n.contains(&ip)))
            .map_or(INTERNET, |(name, _)| name.as_str())
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_zone_wins_and_the_rest_is_internet() {
        let internal = vec!["10.0.0.0/8".to_string(), "fd00::/8".to_string()];
        let government = vec!["10.20.0.0/16".to_string(), "203.0.113.0/24".to_string()];
        let zones = Zones::new([
            ("internal", internal.as_slice()),
            ("government", government.as_slice()),
        ]);
        let zones = zones.unwrap_or_default();
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        assert_eq!(zones.classify(ip("10.20.1.1")), "internal");
        assert_eq!(zones.classify(ip("::ffff:10.1.2.3")), "internal");
        assert_eq!(zones.classify(ip("fd12::1")), "internal");
        assert_eq!(zones.classify(ip("203.0.113.9")), "government");
        assert_eq!(zones.classify(ip("198.51.100.1")), INTERNET);
        assert_eq!(zones.classify(None), INTERNET);
    }

    #[test]
    fn bad_ranges_and_names_are_refused() {
        let bad = vec!["10.0.0.0/33".to_string()];
        assert!(matches!(
            Zones::new([("internal", bad.as_slice())]),
            Err(ZoneError::Range { .. })
        ));
        assert_eq!(
            Zones::new([("Inside Net", &[][..])]).err(),
            Some(ZoneError::Name("Inside Net".into()))
        );
    }
}
