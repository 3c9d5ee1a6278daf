//! The delays between export attempts: exponential growth, a cap, and random jitter.
//!
//! The schedule is the Go Collector's (cenkalti's `ExponentialBackOff`): the *interval*
//! starts at `initial_interval` and is multiplied by `multiplier` after each retry, up to
//! `max_interval`; each delay is drawn uniformly from `interval × (1 ± randomization_factor)`,
//! so workers that failed together do not retry together.
//!
//! The arithmetic saturates: a configuration built in code may hold any [`Duration`], and
//! an interval too large for one is `Duration::MAX`, never a panic.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

use super::RetryConfig;

/// The delay schedule of one request's retries (also used by receivers that deliver a
/// refused item again, such as `kafka`).
#[derive(Debug)]
pub struct Backoff {
    interval: Duration,
    multiplier: f64,
    max_interval: Duration,
    randomization_factor: f64,
    rng: SplitMix64,
}

impl Backoff {
    /// A fresh schedule with random jitter.
    pub fn new(config: &RetryConfig) -> Self {
        Self::with_seed(config, RandomState::new().hash_one(0u64))
    }

    /// A fresh schedule whose jitter comes from `seed` (reproducible, for tests).
    pub fn with_seed(config: &RetryConfig, seed: u64) -> Self {
        Backoff {
            interval: config.initial_interval,
            multiplier: config.multiplier,
            max_interval: config.max_interval,
            randomization_factor: config.randomization_factor,
            rng: SplitMix64(seed),
        }
    }

    /// The delay before the next retry; moves the schedule on.
    pub fn next_delay(&mut self) -> Duration {
        let interval = self.interval.as_secs_f64();
        let delta = self.randomization_factor * interval;
        let delay = interval - delta + self.rng.next_unit() * 2.0 * delta;
        self.interval = seconds(interval * self.multiplier).min(self.max_interval);
        seconds(delay)
    }
}

/// `secs` as a [`Duration`], saturating: negative or NaN is zero, too large is
/// `Duration::MAX` (`Duration::from_secs_f64` and `mul_f64` panic on both).
fn seconds(secs: f64) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

/// A small, fast pseudo-random generator (SplitMix64); jitter needs no more.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn config(initial_ms: u64, multiplier: f64, max_ms: u64, jitter: f64) -> RetryConfig {
        RetryConfig {
            initial_interval: Duration::from_millis(initial_ms),
            multiplier,
            max_interval: Duration::from_millis(max_ms),
            randomization_factor: jitter,
            ..RetryConfig::default()
        }
    }

    #[test]
    fn without_jitter_the_defaults_grow_by_half_up_to_thirty_seconds() {
        let mut backoff = Backoff::with_seed(&config(5000, 1.5, 30_000, 0.0), 1);
        let delays: Vec<u64> = (0..7)
            .map(|_| (backoff.next_delay().as_secs_f64() * 1000.0).round() as u64)
            .collect();
        assert_eq!(delays, [5000, 7500, 11250, 16875, 25313, 30000, 30000]);
    }

    proptest! {
        /// Every delay lies within ±factor of an interval that grows by `multiplier` and
        /// stops at `max_interval`.
        #[test]
        fn delays_stay_within_the_jitter_bounds(
            initial in 1u64..10_000,
            multiplier in 1.0f64..4.0,
            max_factor in 1u64..20,
            jitter in 0.0f64..=1.0,
            seed in any::<u64>(),
        ) {
            let max = initial * max_factor;
            let mut backoff = Backoff::with_seed(&config(initial, multiplier, max, jitter), seed);
            let mut interval = Duration::from_millis(initial);
            for _ in 0..30 {
                let delay = backoff.next_delay().as_secs_f64();
                let i = interval.as_secs_f64();
                prop_assert!(delay >= i * (1.0 - jitter) - 1e-9, "{delay} below {i}");
                prop_assert!(delay <= i * (1.0 + jitter) + 1e-9, "{delay} above {i}");
                interval = interval.mul_f64(multiplier).min(Duration::from_millis(max));
            }
        }

        /// Whatever the configuration (built in code, so unchecked), a delay is a
        /// duration, never a panic.
        #[test]
        fn extreme_configurations_saturate_instead_of_panicking(
            initial in prop_oneof![Just(Duration::MAX), Just(Duration::from_secs(u64::MAX / 2)), any::<u64>().prop_map(Duration::from_nanos)],
            multiplier in prop_oneof![Just(f64::MAX), Just(f64::INFINITY), Just(f64::NAN), 1.0f64..1e300],
            jitter in prop_oneof![Just(1.0f64), Just(f64::NAN), 0.0f64..=1.0],
            seed in any::<u64>(),
        ) {
            let config = RetryConfig {
                initial_interval: initial,
                multiplier,
                max_interval: Duration::MAX,
                randomization_factor: jitter,
                ..RetryConfig::default()
            };
            let mut backoff = Backoff::with_seed(&config, seed);
            for _ in 0..10 {
                let _ = backoff.next_delay();
            }
        }

        #[test]
        fn jitter_spreads_delays(seed in any::<u64>()) {
            let mut backoff = Backoff::with_seed(&config(1000, 1.0, 1000, 0.5), seed);
            let delays: Vec<Duration> = (0..20).map(|_| backoff.next_delay()).collect();
            prop_assert!(delays.iter().any(|d| *d != delays[0]));
        }
    }
}
