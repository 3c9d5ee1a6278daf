//! zap's sampler: per tick, of the entries with the same level and message, the first
//! `initial` pass, then every `thereafter`-th.
//!
//! As in zap, messages are hashed into a fixed table of counters per level, so memory
//! stays the same however many distinct messages arrive (two messages sharing a slot are
//! sampled together, which zap accepts as well).

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::telemetry::config::LogsSamplingConfig;

/// Counter slots per level (zap's `_countersPerLevel`).
const SLOTS: usize = 4096;
/// debug, info, warn, error.
const LEVELS: usize = 4;

#[derive(Default)]
struct Slot {
    /// When the current window ends, in nanoseconds of the sampler's clock.
    resets_at: AtomicU64,
    count: AtomicU64,
}

impl Slot {
    /// The entry's number within its window (zap's `IncCheckReset`).
    fn count(&self, now: u64, tick: u64) -> u64 {
        let resets_at = self.resets_at.load(Ordering::Acquire);
        if resets_at > now {
            return self.count.fetch_add(1, Ordering::AcqRel) + 1;
        }
        self.count.store(1, Ordering::Release);
        if self
            .resets_at
            .compare_exchange(resets_at, now + tick, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            // Another thread opened the window; count within it.
            return self.count.fetch_add(1, Ordering::AcqRel) + 1;
        }
        1
    }
}

/// Decides which entries are written.
pub(crate) struct Sampler {
    tick: u64,
    initial: u64,
    thereafter: u64,
    slots: Box<[Slot]>,
}

impl Sampler {
    /// The sampler `config` describes; `None` when sampling is off.
    pub(crate) fn new(config: Option<&LogsSamplingConfig>) -> Option<Sampler> {
        let config = config.filter(|c| c.enabled)?;
        Some(Sampler {
            tick: u64::try_from(config.tick.max(Duration::from_nanos(1)).as_nanos())
                .unwrap_or(u64::MAX),
            initial: config.initial,
            thereafter: config.thereafter,
            slots: (0..SLOTS * LEVELS).map(|_| Slot::default()).collect(),
        })
    }

    /// Whether the entry of `level` (0 debug … 3 error) with `message`, at `now`
    /// nanoseconds of a monotonic clock, is written.
    pub(crate) fn allows(&self, level: usize, message: &str, now: u64) -> bool {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        message.hash(&mut hasher);
        let slot = level.min(LEVELS - 1) * SLOTS + (hasher.finish() as usize % SLOTS);
        let n = self.slots[slot].count(now, self.tick);
        n <= self.initial
            || (self.thereafter > 0 && (n - self.initial).is_multiple_of(self.thereafter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampler(initial: u64, thereafter: u64) -> Sampler {
        Sampler::new(Some(&LogsSamplingConfig {
            enabled: true,
            tick: Duration::from_secs(1),
            initial,
            thereafter,
        }))
        .unwrap()
    }

    fn passed(s: &Sampler, level: usize, message: &str, n: usize, now: u64) -> Vec<usize> {
        let mut out = Vec::new();
        for i in 1..=n {
            if s.allows(level, message, now) {
                out.push(i);
            }
        }
        out
    }

    #[test]
    fn first_n_then_every_mth_per_message_and_level_per_tick() {
        let s = sampler(3, 5);
        assert_eq!(passed(&s, 1, "hot", 20, 0), [1, 2, 3, 8, 13, 18]);
        // Another message and another level have their own counts.
        assert_eq!(passed(&s, 1, "other", 4, 10), [1, 2, 3]);
        assert_eq!(passed(&s, 2, "hot", 4, 10), [1, 2, 3]);
        // A new tick starts over.
        assert_eq!(passed(&s, 1, "hot", 4, 1_000_000_001), [1, 2, 3]);
    }

    #[test]
    fn thereafter_zero_drops_everything_after_the_first() {
        let s = sampler(2, 0);
        assert_eq!(passed(&s, 3, "x", 10, 5), [1, 2]);
    }

    #[test]
    fn disabled_means_no_sampler() {
        let off = LogsSamplingConfig {
            enabled: false,
            ..LogsSamplingConfig::default()
        };
        assert!(Sampler::new(Some(&off)).is_none());
        assert!(Sampler::new(None).is_none());
    }
}
