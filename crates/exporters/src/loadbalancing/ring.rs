//! The consistent-hash ring, built exactly as the Go exporter builds it, so a tier mixing
//! Go and Tributary balancers routes every key alike (the tests check the positions and
//! owners Go's own `consistent_hashing_test.go` expects).
//!
//! The circle has 36 000 positions (360 degrees, two decimals). Each backend takes 100
//! of them: position `i` (0..100) is `crc32(endpoint ++ [i]) % 36000`, CRC-32 being the
//! IEEE polynomial (Go's `crc32.NewIEEE`) and `endpoint` the backend as the resolver
//! names it (`host:port` or `host`). Backends are placed in the order given (the resolvers
//! sort them); a position already taken stays with its first owner. A key (a trace ID's 16
//! bytes, a service name) sits at `crc32(key) % 36000` and belongs to the first backend
//! at or after that position, wrapping past the top.
//!
//! Adding a backend moves only the keys whose position falls in the arcs it takes: about
//! 1/n of them. Failover walks on clockwise from the owner to the next *healthy* backend
//! ([`HashRing::owner_where`]), so a failed backend's share spreads over its successors
//! instead of being dropped, and returns to it when it is healthy again.

/// Positions on the circle.
pub const MAX_POSITIONS: u32 = 36_000;
/// Positions each backend takes.
pub const POINTS_PER_BACKEND: usize = 100;

/// A consistent-hash ring over a list of backends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashRing {
    /// The backends, in the order given; ring items refer to them by index.
    backends: Vec<String>,
    /// `(position, backend index)`, sorted by position, positions unique.
    items: Vec<(u32, usize)>,
}

/// Where `key` sits on the circle.
pub fn position(key: &[u8]) -> u32 {
    crc32fast::hash(key) % MAX_POSITIONS
}

impl HashRing {
    /// Builds the ring of `backends` (duplicates are ignored).
    pub fn new(backends: &[String]) -> HashRing {
        Self::with_points(backends, POINTS_PER_BACKEND)
    }

    /// The ring with `points` positions per backend (Go's tests use 5).
    fn with_points(backends: &[String], points: usize) -> HashRing {
        let mut unique: Vec<String> = Vec::with_capacity(backends.len());
        for b in backends {
            if !unique.contains(b) {
                unique.push(b.clone());
            }
        }
        let mut taken = std::collections::HashSet::new();
        let mut items = Vec::with_capacity(unique.len() * POINTS_PER_BACKEND);
        for (index, backend) in unique.iter().enumerate() {
            for i in 0..points {
                let mut hasher = crc32fast::Hasher::new();
                hasher.update(backend.as_bytes());
                // Go writes `byte(i)`: the low byte.
                hasher.update(&[i as u8]);
                let pos = hasher.finalize() % MAX_POSITIONS;
                if taken.insert(pos) {
                    items.push((pos, index));
                }
            }
        }
        items.sort_unstable();
        HashRing {
            backends: unique,
            items,
        }
    }

    /// The backends, in ring-building order.
    pub fn backends(&self) -> &[String] {
        &self.backends
    }

    /// Whether the ring has no backend.
    pub fn is_empty(&self) -> bool {
        self.backends.is_empty()
    }

    /// The index of the first item at or after `pos`, wrapping.
    fn first_at(&self, pos: u32) -> usize {
        let i = self.items.partition_point(|(p, _)| *p < pos);
        if i == self.items.len() { 0 } else { i }
    }

    /// The backend (index into [`backends`](Self::backends)) owning `key`, as Go's
    /// `endpointFor`; `None` for an empty ring.
    pub fn owner(&self, key: &[u8]) -> Option<usize> {
        if self.items.is_empty() {
            return None;
        }
        Some(self.items[self.first_at(position(key))].1)
    }

    /// The first backend clockwise from `key`'s position for which `usable` holds: the
    /// owner when usable, else its successors in ring order. `None` when none is usable.
    pub fn owner_where(&self, key: &[u8], usable: impl Fn(usize) -> bool) -> Option<usize> {
        if self.items.is_empty() {
            return None;
        }
        let start = self.first_at(position(key));
        if usable(self.items[start].1) {
            // The common case, without allocating.
            return Some(self.items[start].1);
        }
        let n = self.items.len();
        let mut tried = vec![false; self.backends.len()];
        let mut left = self.backends.len();
        for step in 0..n {
            let backend = self.items[(start + step) % n].1;
            if tried[backend] {
                continue;
            }
            if usable(backend) {
                return Some(backend);
            }
            tried[backend] = true;
            left -= 1;
            if left == 0 {
                break;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(names: &[&str]) -> HashRing {
        HashRing::new(&names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn trace_id(n: u64) -> [u8; 16] {
        // Spread like random IDs: the counter's bytes through a mixing multiply.
        let a = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let b = a.rotate_left(29).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&a.to_be_bytes());
        id[8..].copy_from_slice(&b.to_be_bytes());
        id
    }

    #[test]
    fn positions_are_gos() {
        // The IEEE CRC-32's published values: crc32("") = 0, crc32("a") = 0xE8B7BE43.
        assert_eq!(position(b""), 0);
        assert_eq!(position(b"a"), 0xE8B7_BE43 % MAX_POSITIONS);
        let r = ring(&["endpoint-1"]);
        let first = crc32fast::hash(b"endpoint-1\x00") % MAX_POSITIONS;
        assert!(r.items.iter().any(|(p, _)| *p == first));
        assert!(r.items.len() <= POINTS_PER_BACKEND);
        assert!(
            r.items.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, unique"
        );
    }

    /// The expectations of Go's `consistent_hashing_test.go` (`TestPositionsForEndpoints`,
    /// `TestNewHashRing`, `TestEndpointFor`): the same positions, the same owners.
    #[test]
    fn gos_own_test_vectors_hold() {
        let five = HashRing::with_points(&["endpoint-1".into(), "endpoint-2".into()], 5);
        let expected = [
            (1401, 0),
            (4175, 0),
            (10240, 1),
            (14133, 0),
            (15002, 1),
            (17836, 0),
            (21263, 1),
            (21667, 0),
            (26806, 1),
            (27020, 1),
        ];
        assert_eq!(five.items, expected);
        let dup = HashRing::with_points(&["endpoint-1".into(), "endpoint-1".into()], 5);
        assert_eq!(
            dup.items,
            [(1401, 0), (4175, 0), (14133, 0), (17836, 0), (21667, 0)]
        );

        let r = ring(&["endpoint-1", "endpoint-2"]);
        assert_eq!(r.items.len(), 2 * POINTS_PER_BACKEND);
        let owner = |key: &[u8]| r.backends()[r.owner(key).unwrap()].clone();
        assert_eq!(owner(&[1, 2, 0, 0]), "endpoint-1");
        assert_eq!(owner(&[128, 128, 0, 0]), "endpoint-2");
        assert_eq!(owner(b"ad-service-7"), "endpoint-1");
        assert_eq!(owner(b"get-recommendations-1"), "endpoint-2");
    }

    #[test]
    fn a_key_belongs_to_the_first_position_at_or_after_it() {
        let r = ring(&["a:4317", "b:4317", "c:4317"]);
        for n in 0..1000 {
            let key = trace_id(n);
            let pos = position(&key);
            let expected = r
                .items
                .iter()
                .find(|(p, _)| *p >= pos)
                .unwrap_or(&r.items[0])
                .1;
            assert_eq!(r.owner(&key), Some(expected));
        }
    }

    #[test]
    fn an_empty_ring_owns_nothing() {
        assert_eq!(ring(&[]).owner(b"x"), None);
        assert_eq!(ring(&[]).owner_where(b"x", |_| true), None);
    }

    #[test]
    fn keys_spread_evenly() {
        let names: Vec<String> = (1..=4).map(|i| format!("10.0.0.{i}:4317")).collect();
        let r = HashRing::new(&names);
        let mut counts = [0usize; 4];
        let keys = 40_000;
        for n in 0..keys {
            counts[r.owner(&trace_id(n)).unwrap()] += 1;
        }
        for c in counts {
            // A fair share is 25%; 100 points per backend keep each within 15–35%.
            assert!(
                (keys * 15 / 100..keys * 35 / 100).contains(&(c as u64)),
                "{counts:?}"
            );
        }
    }

    #[test]
    fn adding_a_backend_moves_about_one_in_n_keys_and_only_to_it() {
        let three: Vec<String> = (1..=3).map(|i| format!("gw-{i}:4317")).collect();
        let mut four = three.clone();
        four.push("gw-4:4317".into());
        let before = HashRing::new(&three);
        let after = HashRing::new(&four);
        let keys = 20_000u64;
        let mut moved = 0;
        for n in 0..keys {
            let key = trace_id(n);
            let (a, b) = (before.owner(&key).unwrap(), after.owner(&key).unwrap());
            if a != b {
                moved += 1;
                assert_eq!(b, 3, "a key only ever moves to the new backend");
            }
        }
        // Ideal: 1/4 of the keys. Allow the spread of 100 points per backend.
        assert!(
            (keys * 12 / 100..keys * 38 / 100).contains(&moved),
            "moved {moved} of {keys}"
        );
    }

    #[test]
    fn removing_a_backend_moves_only_its_keys() {
        let four: Vec<String> = (1..=4).map(|i| format!("gw-{i}:4317")).collect();
        let three = four[..3].to_vec();
        let (before, after) = (HashRing::new(&four), HashRing::new(&three));
        for n in 0..5000 {
            let key = trace_id(n);
            let a = before.owner(&key).unwrap();
            if a != 3 {
                assert_eq!(after.owner(&key), Some(a));
            }
        }
    }

    #[test]
    fn failover_goes_to_the_next_healthy_backend_and_back() {
        let names: Vec<String> = (1..=3).map(|i| format!("gw-{i}:4317")).collect();
        let r = HashRing::new(&names);
        for n in 0..3000 {
            let key = trace_id(n);
            let owner = r.owner(&key).unwrap();
            assert_eq!(r.owner_where(&key, |_| true), Some(owner));
            let fallback = r.owner_where(&key, |b| b != owner).unwrap();
            assert_ne!(fallback, owner);
            // The fallback is the owner of the ring walked clockwise: the same backend
            // the ring without the failed one gives in nearly every case (positions
            // taken first by the failed backend may hide another's at the same spot).
            let start = r.first_at(position(&key));
            let next = (0..r.items.len())
                .map(|s| r.items[(start + s) % r.items.len()].1)
                .find(|b| *b != owner)
                .unwrap();
            assert_eq!(fallback, next);
        }
        assert_eq!(r.owner_where(b"k", |_| false), None);
    }

    #[test]
    fn the_same_backends_in_the_same_order_build_the_same_ring() {
        assert_eq!(ring(&["a", "b"]), ring(&["a", "b"]));
        assert_eq!(ring(&["a", "b", "a"]), ring(&["a", "b"]));
    }
}
