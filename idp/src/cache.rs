//! What this process looked up a moment ago (a verified access token, an official's risk),
//! trusted again for at most [`TRUSTED_FOR`], and not at all once this process changed what
//! it depends on (`store::Changes`): a revocation or an alert made here counts at once,
//! one made by another replica within a second. The alternative, a database round trip per
//! request, costs more than the decision it serves (BENCHMARKS.md, AuthZEN).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a looked-up value is trusted.
pub const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// The most entries kept; past that the table starts over (memory stays bounded).
const MAX_ENTRIES: usize = 50_000;

/// Values by key, each with when and at which change count it was read.
pub struct Recent<K, V> {
    entries: Mutex<HashMap<K, (V, Instant, u64)>>,
}

impl<K: Eq + Hash, V: Clone> Default for Recent<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Recent<K, V> {
    /// The value of `key`, if it was read less than [`TRUSTED_FOR`] ago at change count
    /// `changes`.
    pub fn get(&self, key: &K, changes: u64) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (value, at, seen) = entries.get(key)?;
        (*seen == changes && at.elapsed() < TRUSTED_FOR).then(|| value.clone())
    }

    /// Remember `value` for `key`, read at change count `changes` (taken before reading).
    pub fn put(&self, key: K, value: V, changes: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, (_, at, _)| at.elapsed() < TRUSTED_FOR);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, (value, Instant::now(), changes));
        }
    }
}

/// The caches of the request path.
#[derive(Default)]
pub struct Recents {
    /// Access tokens by SHA-256 of the token: their verified claims.
    pub tokens: Recent<[u8; 32], crate::oidc::tokens::AccessTokenClaims>,
    /// Actors' risk from alerts.
    pub risks: Recent<String, u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_trusted_briefly_and_never_across_a_change() {
        let recent: Recent<&str, u8> = Recent::default();
        recent.put("kim", 10, 7);
        assert_eq!(recent.get(&"kim", 7), Some(10));
        assert_eq!(recent.get(&"kim", 8), None, "a change made here");
        assert_eq!(recent.get(&"lee", 7), None);
        std::thread::sleep(TRUSTED_FOR + Duration::from_millis(50));
        assert_eq!(recent.get(&"kim", 7), None, "too old");
    }

    #[test]
    fn the_table_stays_bounded() {
        let recent: Recent<usize, ()> = Recent::default();
        for i in 0..MAX_ENTRIES + 10 {
            recent.put(i, (), 0);
        }
        assert!(recent.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
