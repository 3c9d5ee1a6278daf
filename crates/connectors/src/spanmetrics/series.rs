//! The bounded maps the spanmetrics state lives in: series keyed by their dimension
//! values with a cardinality limit, and a least-recently-used map of resources.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::Exemplar;
use tributary_pipeline_core::prelude::key_value;

use super::aggregator::OVERFLOW_KEY;

/// The key of the overflow series: no series key starts with a 0 byte followed by this.
const OVERFLOW_SERIES: &[u8] = b"\0otel.metric.overflow";

/// One series: its attributes, when it started, when a span last updated it, its value
/// and this flush interval's exemplars.
#[derive(Clone, Debug)]
pub(crate) struct Point<V> {
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) start: u64,
    pub(crate) last_seen: u64,
    pub(crate) value: V,
    pub(crate) exemplars: Vec<Exemplar>,
    /// Whether a flush has sent the series.
    pub(crate) sent: bool,
}

impl<V> Point<V> {
    /// Keeps `exemplar` if the point holds fewer than `max`.
    pub(crate) fn add_exemplar(&mut self, exemplar: Option<Exemplar>, max: usize) {
        if let Some(exemplar) = exemplar
            && self.exemplars.len() < max
        {
            self.exemplars.push(exemplar);
        }
    }
}

/// The series of one metric of one resource.
#[derive(Clone, Debug)]
pub(crate) struct SeriesMap<V> {
    points: HashMap<Vec<u8>, Point<V>>,
}

impl<V> Default for SeriesMap<V> {
    fn default() -> Self {
        SeriesMap {
            points: HashMap::new(),
        }
    }
}

impl<V> SeriesMap<V> {
    /// The series `key`, created at `now` with `attributes()` and `init()` if new. With a
    /// `limit` (> 0) reached, a new key goes to the overflow series instead, whose only
    /// attribute is `otel.metric.overflow=true` (as Go: the limit counts the series held,
    /// so at most `limit` series plus the overflow one).
    pub(crate) fn get_or_insert(
        &mut self,
        key: Vec<u8>,
        limit: usize,
        now: u64,
        attributes: impl FnOnce() -> Vec<KeyValue>,
        init: impl FnOnce() -> V,
    ) -> &mut Point<V> {
        let overflow = limit > 0 && self.points.len() >= limit && !self.points.contains_key(&key);
        let (key, attributes): (Vec<u8>, Box<dyn FnOnce() -> Vec<KeyValue>>) = if overflow {
            (
                OVERFLOW_SERIES.to_vec(),
                Box::new(|| vec![key_value(OVERFLOW_KEY, true)]),
            )
        } else {
            (key, Box::new(attributes))
        };
        let point = self.points.entry(key).or_insert_with(|| Point {
            attributes: attributes(),
            start: now,
            last_seen: now,
            value: init(),
            exemplars: Vec::new(),
            sent: false,
        });
        point.last_seen = now;
        point
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &Point<V>)> {
        self.points
            .iter()
            .map(|(key, point)| (key.as_slice(), point))
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&[u8], &mut Point<V>)> {
        self.points
            .iter_mut()
            .map(|(key, point)| (key.as_slice(), point))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub(crate) fn clear_exemplars(&mut self) {
        for point in self.points.values_mut() {
            point.exemplars.clear();
        }
    }

    /// Drops the series no span updated in the last `expiration` nanoseconds.
    pub(crate) fn expire(&mut self, now: u64, expiration: u64) {
        self.points
            .retain(|_, point| now.saturating_sub(point.last_seen) < expiration);
    }
}

/// A map holding at most `capacity` entries: inserting one more drops the least recently
/// used.
pub(crate) struct LruMap<K, V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<K, (V, u64)>,
    /// Entries by last use.
    order: BTreeMap<u64, K>,
}

impl<K: Clone + Eq + Hash, V> LruMap<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        LruMap {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
        }
    }

    fn touch(&mut self, key: &K) {
        self.tick += 1;
        if let Some((_, used)) = self.entries.get_mut(key) {
            self.order.remove(used);
            *used = self.tick;
            self.order.insert(self.tick, key.clone());
        }
    }

    fn make_room(&mut self) {
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }

    /// The entry of `key`, inserting `make()` if absent; marks it used.
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.entries.contains_key(&key) {
            self.make_room();
        }
        self.tick += 1;
        let entry = self
            .entries
            .entry(key.clone())
            .or_insert_with(|| (make(), 0));
        self.order.remove(&entry.1);
        entry.1 = self.tick;
        self.order.insert(self.tick, key);
        &mut entry.0
    }

    /// The entry of `key`, marked used.
    pub(crate) fn get(&mut self, key: &K) -> Option<&V> {
        self.touch(key);
        self.entries.get(key).map(|(value, _)| value)
    }

    /// Sets the entry of `key`, marked used.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        if let Some((old, _)) = self.entries.get_mut(&key) {
            *old = value;
        } else {
            self.make_room();
            self.entries.insert(key.clone(), (value, 0));
        }
        self.touch(&key);
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries
            .iter_mut()
            .map(|(key, (value, _))| (key, value))
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let order = &mut self.order;
        self.entries.retain(|key, (value, used)| {
            let kept = keep(key, value);
            if !kept {
                order.remove(used);
            }
            kept
        });
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let mut map = LruMap::new(2);
        map.insert("a", 1);
        map.insert("b", 2);
        assert_eq!(map.get(&"a"), Some(&1));
        map.insert("c", 3);
        assert_eq!(map.get(&"a"), Some(&1));
        assert_eq!(map.get(&"b"), None);
        assert_eq!(map.get(&"c"), Some(&3));
        *map.get_or_insert_with("d", || 4) += 10;
        assert_eq!(map.len(), 2);
        assert_eq!(map.get(&"d"), Some(&14));
        map.retain(|_, v| *v > 10);
        assert_eq!(map.len(), 1);
        map.insert("e", 5);
        map.insert("f", 6);
        assert_eq!(map.get(&"d"), None);
    }

    #[test]
    fn series_past_the_limit_share_one_overflow_series() {
        let mut series = SeriesMap::default();
        for key in ["a", "b", "c", "d", "a"] {
            let point = series.get_or_insert(
                key.as_bytes().to_vec(),
                2,
                7,
                || vec![key_value("k", key)],
                || 0,
            );
            point.value += 1;
        }
        let values: Vec<_> = series
            .iter()
            .map(|(_, p)| (p.attributes.clone(), p.value))
            .collect();
        assert_eq!(values.len(), 3);
        for expected in [
            (vec![key_value("k", "a")], 2),
            (vec![key_value("k", "b")], 1),
            (vec![key_value(OVERFLOW_KEY, true)], 2),
        ] {
            assert!(values.contains(&expected), "{expected:?} in {values:?}");
        }
    }
}
