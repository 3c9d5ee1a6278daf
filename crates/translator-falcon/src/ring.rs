//! Falcon's consistent-hash ring (`toolkits/consistent`, a fork of `stathat/consistent`),
//! bit-exact, so that a series goes to the same graph or judge node as a Falcon transfer
//! would send it.

use std::collections::BTreeMap;

/// How many points each node gets on the ring by default (the transfer's `replicas`).
pub const DEFAULT_REPLICAS: usize = 500;

/// A consistent-hash ring over node names.
///
/// Each node `name` gets the points `crc32_ieee(itoa(i) + name)` for `i in 0..replicas`;
/// a key goes to the node of the first point strictly greater than `crc32_ieee(key)`,
/// wrapping to the first point. Two points with the same hash keep one node: the
/// greatest name (Go keeps whichever its random map order added last, so a live cluster
/// cannot rely on either).
///
/// ```
/// use tributary_translator_falcon::HashRing;
///
/// let ring = HashRing::new(["graph-00", "graph-01"], 500);
/// let node = ring.node("host-01/qps/idc=lg").unwrap();
/// assert!(node == "graph-00" || node == "graph-01");
/// assert!(HashRing::new(Vec::<String>::new(), 500).node("x").is_none());
/// ```
#[derive(Clone, Debug)]
pub struct HashRing {
    /// Sorted hashes and the node each belongs to.
    points: Vec<(u32, usize)>,
    nodes: Vec<String>,
}

impl HashRing {
    /// A ring over `nodes` with `replicas` points each.
    pub fn new<I, S>(nodes: I, replicas: usize) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut nodes: Vec<String> = nodes.into_iter().map(Into::into).collect();
        nodes.sort();
        nodes.dedup();
        let mut circle: BTreeMap<u32, usize> = BTreeMap::new();
        for (index, name) in nodes.iter().enumerate() {
            for i in 0..replicas {
                circle.insert(crc32_ieee(format!("{i}{name}").as_bytes()), index);
            }
        }
        HashRing {
            points: circle.into_iter().collect(),
            nodes,
        }
    }

    /// The node `key` belongs to; `None` when the ring is empty.
    pub fn node(&self, key: &str) -> Option<&str> {
        if self.points.is_empty() {
            return None;
        }
        let hash = crc32_ieee(key.as_bytes());
        let index = self.points.partition_point(|(point, _)| *point <= hash);
        let (_, node) = self.points[if index == self.points.len() { 0 } else { index }];
        Some(&self.nodes[node])
    }

    /// The node names, sorted.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }
}

/// CRC32 with the IEEE polynomial, as Go's `crc32.ChecksumIEEE`.
pub fn crc32_ieee(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_checksum() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32_ieee(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_key_goes_to_the_first_point_strictly_above_its_hash() {
        let ring = HashRing::new(["a", "b", "c"], 3);
        for key in (0..2000).map(|i| format!("key-{i}")) {
            let hash = crc32_ieee(key.as_bytes());
            let expected = ring
                .points
                .iter()
                .find(|(point, _)| *point > hash)
                .unwrap_or(&ring.points[0]);
            assert_eq!(ring.node(&key), Some(ring.nodes[expected.1].as_str()));
        }
        assert_eq!(HashRing::new(["only"], 1).node("anything"), Some("only"));
    }
}
