//! The soft and hard limits in bytes, from the configuration and the memory available.

use std::io;

use super::Config;

/// One mebibyte.
pub(crate) const MIB: u64 = 1024 * 1024;

/// The limits one memory limiter enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// `limit_mib` (or `limit_percentage` of the memory available).
    pub hard: u64,
    /// The hard limit less the spike limit: data is refused from here on.
    pub soft: u64,
}

/// Where memory use stands against the limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pressure {
    /// Below the soft limit: data is accepted.
    Normal,
    /// At or above the soft limit: data is refused.
    Soft,
    /// At or above the hard limit: data is refused, memory is reclaimed at every check.
    Hard,
}

impl Limits {
    /// The limits `config` sets. `available` (the memory available to the process) is read
    /// only for the percentage form; `limit_mib` takes precedence, as in the Go Collector.
    /// A spike limit left at 0 is 20% of the hard limit.
    pub fn from_config(
        config: &Config,
        available: impl FnOnce() -> io::Result<u64>,
    ) -> io::Result<Limits> {
        let (hard, spike) = if config.limit_mib > 0 {
            (
                u64::from(config.limit_mib) * MIB,
                u64::from(config.spike_limit_mib) * MIB,
            )
        } else {
            let available = available()?;
            (
                percent(available, config.limit_percentage),
                percent(available, config.spike_limit_percentage),
            )
        };
        let spike = if spike == 0 { hard / 5 } else { spike };
        Ok(Limits {
            hard,
            soft: hard.saturating_sub(spike),
        })
    }

    /// How `used` bytes stand against the limits.
    pub fn pressure(&self, used: u64) -> Pressure {
        if used >= self.hard {
            Pressure::Hard
        } else if used >= self.soft {
            Pressure::Soft
        } else {
            Pressure::Normal
        }
    }
}

fn percent(total: u64, percentage: u32) -> u64 {
    u64::try_from(u128::from(total) * u128::from(percentage) / 100).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn config(limit_mib: u32, spike_limit_mib: u32, limit_pct: u32, spike_pct: u32) -> Config {
        Config {
            check_interval: Duration::from_secs(1),
            limit_mib,
            spike_limit_mib,
            limit_percentage: limit_pct,
            spike_limit_percentage: spike_pct,
            ..Config::default()
        }
    }

    fn unreadable() -> io::Result<u64> {
        panic!("the memory available is not needed for limit_mib")
    }

    #[test]
    fn fixed_limits() {
        let limits = Limits::from_config(&config(1000, 200, 0, 0), unreadable).unwrap();
        assert_eq!(
            limits,
            Limits {
                hard: 1000 * MIB,
                soft: 800 * MIB
            }
        );
    }

    #[test]
    fn the_spike_defaults_to_a_fifth_of_the_limit() {
        let limits = Limits::from_config(&config(1000, 0, 0, 0), unreadable).unwrap();
        assert_eq!(limits.soft, 800 * MIB);
    }

    #[test]
    fn percentages_are_of_the_memory_available() {
        let available = || Ok(10_000 * MIB);
        let limits = Limits::from_config(&config(0, 0, 80, 25), available).unwrap();
        assert_eq!(
            limits,
            Limits {
                hard: 8000 * MIB,
                soft: 5500 * MIB
            }
        );
        let limits = Limits::from_config(&config(0, 0, 50, 0), available).unwrap();
        assert_eq!(
            limits,
            Limits {
                hard: 5000 * MIB,
                soft: 4000 * MIB
            }
        );
    }

    #[test]
    fn limit_mib_takes_precedence_over_percentages() {
        let limits = Limits::from_config(&config(100, 0, 50, 10), unreadable).unwrap();
        assert_eq!(limits.hard, 100 * MIB);
    }

    #[test]
    fn an_unknown_total_is_an_error_for_percentages() {
        let missing = || Err(io::Error::new(io::ErrorKind::NotFound, "no /proc"));
        assert!(Limits::from_config(&config(0, 0, 50, 0), missing).is_err());
    }

    #[test]
    fn pressure_starts_at_each_limit() {
        let limits = Limits {
            hard: 100,
            soft: 80,
        };
        assert_eq!(limits.pressure(79), Pressure::Normal);
        assert_eq!(limits.pressure(80), Pressure::Soft);
        assert_eq!(limits.pressure(99), Pressure::Soft);
        assert_eq!(limits.pressure(100), Pressure::Hard);
    }
}
