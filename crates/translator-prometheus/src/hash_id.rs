//! [`HashId`]: a key kept as two 64-bit hashes of independent random seeds.

use std::hash::{BuildHasher, Hash, Hasher};

/// A key (a series text, a series' identity) kept as two 64-bit hashes of independent
/// random seeds instead of a copy: a map keyed by it holds the 16 bytes inline, and a
/// lookup compares them rather than a key on the heap. Two 64-bit halves rather than a
/// `u128`: with 8-byte alignment a map's `(HashId, u32)` bucket takes 24 bytes, not 32,
/// which over a scraper's hundred thousand series is megabytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashId(u64, u64);

impl Hash for HashId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a hash of a random seed: its first half places it; equality still
        // compares both halves.
        state.write_u64(self.0);
    }
}

/// The two random seeds [`HashId`]s are made with; each set of ids (a map's keys) uses
/// one, so that ids compare within it.
#[derive(Clone, Default)]
pub struct HashIdSeeds(foldhash::fast::RandomState, foldhash::fast::RandomState);

impl HashIdSeeds {
    /// The id of `key`.
    #[inline]
    pub fn id(&self, key: impl Hash + Copy) -> HashId {
        HashId(self.0.hash_one(key), self.1.hash_one(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_tell_keys_apart_and_pack_into_24_byte_buckets() {
        let seeds = HashIdSeeds::default();
        assert_eq!(seeds.id("a{x=\"1\"}"), seeds.id("a{x=\"1\"}"));
        assert_ne!(seeds.id("a{x=\"1\"}"), seeds.id("a{x=\"2\"}"));
        assert_ne!(
            HashIdSeeds::default().id("a"),
            seeds.id("a"),
            "seeds are random"
        );
        assert_eq!(size_of::<(HashId, u32)>(), 24);
        assert_eq!(size_of::<Option<HashId>>(), 24);
    }
}
