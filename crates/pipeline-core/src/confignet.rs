//! `confignet`: network settings shared by clients, with the Go Collector's
//! `confignet.DialerConfig` keys.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `dialer::timeout` | `0` (none of its own) | the longest a TCP connection may take to open |

use std::time::Duration;

use serde::Deserialize;

/// `dialer`: how a client opens connections (`confignet.DialerConfig`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DialerConfig {
    /// The longest opening a connection may take; zero sets none of its own (the
    /// request's deadline still bounds it).
    #[serde(with = "tributary_confmap::duration")]
    pub timeout: Duration,
}

impl DialerConfig {
    /// The connect timeout: `timeout` when set, otherwise `fallback` (the deadline of the
    /// request the connection is opened for), `None` when both are zero.
    pub fn connect_timeout(&self, fallback: Duration) -> Option<Duration> {
        [self.timeout, fallback].into_iter().find(|t| !t.is_zero())
    }
}
