//! `sampling_initial` / `sampling_thereafter`: zap's per-second sampling, per batch.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// In each one-second window: the first `initial` batches pass, then every
/// `thereafter`-th (none when `thereafter` is 0).
pub(crate) struct Sampler {
    initial: u64,
    thereafter: u64,
    /// The current window's start and the batches seen in it.
    window: Mutex<(Instant, u64)>,
}

impl Sampler {
    pub(crate) fn new(initial: u64, thereafter: u64) -> Self {
        Sampler {
            initial,
            thereafter,
            window: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Whether the batch arriving now is printed.
    pub(crate) fn allow(&self) -> bool {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> bool {
        if self.thereafter == 1 {
            // Every batch after the initial ones passes: nothing to count (the default).
            return true;
        }
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if now.saturating_duration_since(window.0) >= Duration::from_secs(1) {
            *window = (now, 0);
        }
        window.1 += 1;
        let n = window.1;
        n <= self.initial
            || (self.thereafter > 0 && (n - self.initial).is_multiple_of(self.thereafter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_then_every_nth_per_second() {
        let sampler = Sampler::new(2, 3);
        let start = Instant::now();
        let passed: Vec<bool> = (0..8).map(|_| sampler.allow_at(start)).collect();
        assert_eq!(passed, [true, true, false, false, true, false, false, true]);
        // A new second starts over.
        let later = start + Duration::from_millis(1001);
        assert!(sampler.allow_at(later));
        assert!(sampler.allow_at(later));
        assert!(!sampler.allow_at(later));
    }

    #[test]
    fn defaults_print_everything_and_zero_thereafter_stops_after_initial() {
        let everything = Sampler::new(2, 1);
        let now = Instant::now();
        assert!((0..100).all(|_| everything.allow_at(now)));
        let capped = Sampler::new(1, 0);
        let passed: Vec<bool> = (0..4).map(|_| capped.allow_at(now)).collect();
        assert_eq!(passed, [true, false, false, false]);
    }
}
