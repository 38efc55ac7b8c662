//! A map with a hard size bound that forgets its least recently used keys first.
//!
//! Every piece of per-key state in the login detectors (per source address, per user
//! name, per connection) lives in one of these, because the keys are written by
//! whoever connects: a scan of millions of addresses or user names must not grow
//! memory. Recency order also gives time-based expiry for free: events arrive in
//! time order, so the least recently touched entry is the one idle the longest.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// A bounded least-recently-used map.
pub(crate) struct Lru<K, V> {
    map: HashMap<K, Slot<V>>,
    /// Touch stamp -> key, oldest first.
    order: BTreeMap<u64, K>,
    tick: u64,
    cap: usize,
}

struct Slot<V> {
    value: V,
    tick: u64,
}

impl<K: Hash + Eq + Clone, V> Lru<K, V> {
    /// A map holding at most `cap` entries (at least one).
    pub(crate) fn new(cap: usize) -> Self {
        Lru {
            map: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            cap: cap.max(1),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// The value for `key`, marked as just used.
    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        let slot = self.map.get_mut(key)?;
        self.order.remove(&slot.tick);
        self.tick += 1;
        slot.tick = self.tick;
        self.order.insert(self.tick, key.clone());
        Some(&mut slot.value)
    }

    /// Makes sure `key` has a value (from `make` when new) and marks it as just used.
    /// When that needs room, the least recently used entry is removed and returned,
    /// so the caller can conclude what it held.
    pub(crate) fn touch(&mut self, key: &K, make: impl FnOnce() -> V) -> Option<(K, V)> {
        if self.get_mut(key).is_some() {
            return None;
        }
        let evicted = if self.map.len() >= self.cap {
            self.pop_oldest()
        } else {
            None
        };
        self.tick += 1;
        self.map.insert(
            key.clone(),
            Slot {
                value: make(),
                tick: self.tick,
            },
        );
        self.order.insert(self.tick, key.clone());
        evicted
    }

    /// The least recently used entry.
    pub(crate) fn oldest(&self) -> Option<(&K, &V)> {
        let (_, key) = self.order.first_key_value()?;
        self.map.get(key).map(|s| (key, &s.value))
    }

    /// Removes and returns the least recently used entry.
    pub(crate) fn pop_oldest(&mut self) -> Option<(K, V)> {
        let (_, key) = self.order.pop_first()?;
        let slot = self.map.remove(&key)?;
        Some((key, slot.value))
    }

    /// Removes every entry, least recently used first.
    pub(crate) fn drain(&mut self) -> Vec<(K, V)> {
        let mut out = Vec::with_capacity(self.map.len());
        while let Some(kv) = self.pop_oldest() {
            out.push(kv);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_cap_and_forgets_the_least_recently_used() {
        let mut m: Lru<u32, u32> = Lru::new(3);
        for k in 0..3 {
            assert!(m.touch(&k, || k * 10).is_none());
        }
        // Using 0 makes 1 the oldest.
        *m.get_mut(&0).unwrap() += 1;
        let evicted = m.touch(&3, || 30);
        assert_eq!(evicted, Some((1, 10)));
        assert_eq!(m.len(), 3);
        assert_eq!(m.oldest(), Some((&2, &20)));
        // Touching an existing key neither evicts nor replaces its value.
        assert!(m.touch(&0, || 999).is_none());
        assert_eq!(m.get_mut(&0).copied(), Some(1));
        let order: Vec<u32> = m.drain().into_iter().map(|(k, _)| k).collect();
        assert_eq!(order, vec![2, 3, 0]);
        assert_eq!(m.len(), 0);
        assert!(m.pop_oldest().is_none());
    }

    #[test]
    fn a_million_keys_stay_within_the_bound() {
        let mut m: Lru<u64, u64> = Lru::new(1000);
        let mut evicted = 0;
        for k in 0..1_000_000u64 {
            evicted += usize::from(m.touch(&k, || k).is_some());
        }
        assert_eq!(m.len(), 1000);
        assert_eq!(evicted, 999_000);
        assert_eq!(m.oldest(), Some((&999_000, &999_000)));
    }
}
