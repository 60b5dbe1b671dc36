//! Risk (DESIGN §6, issue 9): a score from 0 to 100 per session and per actor, from signals
//! measured at a login and from alerts (the anomaly detectors raise them), decaying over
//! time. Pure: `idp` measures the signals (device cookie, network, GeoIP, failures) and
//! keeps the scores; policies read the result as `context.risk`.

use serde::{Deserialize, Serialize};

/// What a login looked like, compared with the citizen's earlier ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    /// A browser this citizen has not signed in from (no device cookie for them).
    pub new_device: bool,
    /// An address outside every network (IPv4 /24, IPv6 /48) of their recent logins.
    pub new_network: bool,
    /// Speed in km/h the citizen would have travelled since their previous login, when a
    /// GeoIP database placed both addresses.
    pub travel_kmh: Option<f64>,
    /// Failed login attempts for the account in the last hour.
    pub recent_failures: u32,
}

/// Faster than an airliner, over a distance a shared office network does not explain.
pub const IMPOSSIBLE_KMH: f64 = 1000.0;

/// What each signal adds.
pub const NEW_DEVICE: u8 = 20;
pub const NEW_NETWORK: u8 = 15;
pub const IMPOSSIBLE_TRAVEL: u8 = 60;
/// Per failure, up to [`FAILURES_MAX`].
pub const PER_FAILURE: u8 = 5;
pub const FAILURES_MAX: u8 = 30;

/// The score the default policies treat as high (`context.risk >= 70`).
pub const HIGH: u8 = 70;

/// How long a score takes to halve.
pub const HALF_LIFE_S: i64 = 3600;

impl Signals {
    /// The score of a login with these signals (0-100).
    pub fn score(&self) -> u8 {
        let mut score: u32 = 0;
        if self.new_device {
            score += u32::from(NEW_DEVICE);
        }
        if self.new_network {
            score += u32::from(NEW_NETWORK);
        }
        if self.travel_kmh.is_some_and(|v| v > IMPOSSIBLE_KMH) {
            score += u32::from(IMPOSSIBLE_TRAVEL);
        }
        score += (self.recent_failures * u32::from(PER_FAILURE)).min(u32::from(FAILURES_MAX));
        u8::try_from(score.min(100)).unwrap_or(100)
    }

    /// The signals that raised the score, by name (for the citizen's and the admin's views).
    pub fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.new_device {
            out.push("new_device");
        }
        if self.new_network {
            out.push("new_network");
        }
        if self.travel_kmh.is_some_and(|v| v > IMPOSSIBLE_KMH) {
            out.push("impossible_travel");
        }
        if self.recent_failures > 0 {
            out.push("failed_attempts");
        }
        out
    }
}

/// `score` set `elapsed_s` seconds ago, halved every [`HALF_LIFE_S`].
pub fn decayed(score: u8, elapsed_s: i64) -> u8 {
    if elapsed_s <= 0 {
        return score;
    }
    let factor = 0.5f64.powf(elapsed_s as f64 / HALF_LIFE_S as f64);
    // Rounded down: a score only ever falls with time.
    (f64::from(score) * factor).floor() as u8
}

/// Scores that add up (a session's and its actor's alerts), capped at 100.
pub fn combined(scores: impl IntoIterator<Item = u8>) -> u8 {
    let sum: u32 = scores.into_iter().map(u32::from).sum();
    u8::try_from(sum.min(100)).unwrap_or(100)
}

/// Great-circle distance in km between two (latitude, longitude) points (haversine).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_KM: f64 = 6371.0;
    let (lat1, lat2) = (a.0.to_radians(), b.0.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.1 - a.1).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_KM * h.sqrt().min(1.0).asin()
}

/// The speed of going from `a` to `b` in `elapsed_s` seconds, in km/h. Places less than
/// 100 km apart (one city, GeoIP's error) are no travel at all.
pub fn travel_kmh(a: (f64, f64), b: (f64, f64), elapsed_s: i64) -> f64 {
    let km = distance_km(a, b);
    if km < 100.0 {
        return 0.0;
    }
    km / (elapsed_s.max(60) as f64 / 3600.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEOUL: (f64, f64) = (37.5665, 126.9780);
    const BUSAN: (f64, f64) = (35.1796, 129.0756);
    const FRANKFURT: (f64, f64) = (50.1109, 8.6821);

    #[test]
    fn signals_add_up_and_impossible_travel_with_a_new_device_is_high() {
        assert_eq!(Signals::default().score(), 0);
        let travelled = Signals {
            new_device: true,
            travel_kmh: Some(8000.0),
            ..Signals::default()
        };
        assert!(travelled.score() >= HIGH, "{}", travelled.score());
        assert_eq!(travelled.names(), ["new_device", "impossible_travel"]);
        let failures = Signals {
            recent_failures: 100,
            ..Signals::default()
        };
        assert_eq!(failures.score(), FAILURES_MAX, "failures are capped");
        let everything = Signals {
            new_device: true,
            new_network: true,
            travel_kmh: Some(5000.0),
            recent_failures: 10,
        };
        assert_eq!(everything.score(), 100);
    }

    #[test]
    fn scores_halve_every_half_life_and_never_grow() {
        assert_eq!(decayed(80, 0), 80);
        assert_eq!(decayed(80, HALF_LIFE_S), 40);
        assert_eq!(decayed(80, 2 * HALF_LIFE_S), 20);
        assert_eq!(decayed(80, -5), 80);
        assert_eq!(decayed(1, 10 * HALF_LIFE_S), 0);
        assert_eq!(combined([60, 60]), 100);
        assert_eq!(combined([]), 0);
    }

    #[test]
    fn travel_between_cities_is_measured_and_one_city_is_no_travel() {
        let seoul_busan = distance_km(SEOUL, BUSAN);
        assert!((320.0..340.0).contains(&seoul_busan), "{seoul_busan}");
        let far = distance_km(SEOUL, FRANKFURT);
        assert!((8400.0..8700.0).contains(&far), "{far}");
        // Seoul to Frankfurt in an hour is impossible; in a day it is a flight.
        assert!(travel_kmh(SEOUL, FRANKFURT, 3600) > IMPOSSIBLE_KMH);
        assert!(travel_kmh(SEOUL, FRANKFURT, 24 * 3600) < IMPOSSIBLE_KMH);
        assert_eq!(travel_kmh(SEOUL, (37.56, 126.99), 1), 0.0);
    }

    proptest::proptest! {
        #[test]
        fn scores_stay_in_range(
            device: bool, network: bool, kmh in proptest::option::of(0.0f64..1e7),
            failures in 0u32..u32::MAX / 8, elapsed in -10i64..10_000_000
        ) {
            let s = Signals { new_device: device, new_network: network, travel_kmh: kmh,
                              recent_failures: failures };
            let score = s.score();
            proptest::prop_assert!(score <= 100);
            proptest::prop_assert!(decayed(score, elapsed) <= score);
        }
    }
}
