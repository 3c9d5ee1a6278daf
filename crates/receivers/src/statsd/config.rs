//! The `statsd` receiver's configuration: the Go `statsdreceiver`'s keys and defaults.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, check_endpoint};
use tributary_pipeline_core::confignet::DialerConfig;

/// Where UDP and TCP listen when `endpoint` is not set.
pub const DEFAULT_ENDPOINT: &str = "localhost:8125";
/// Where `unixgram` listens when `endpoint` is not set.
pub const DEFAULT_UNIX_ENDPOINT: &str = "/var/run/statsd-receiver.sock";
/// The smallest `histogram::max_size` (go-expohisto's `MinSize`).
pub const MIN_HISTOGRAM_SIZE: u32 = 2;
/// The largest `histogram::max_size` (go-expohisto's `MaximumMaxSize`).
pub const MAX_HISTOGRAM_SIZE: u32 = 16_384;
/// `histogram::max_size` when it is 0 or not set (go-expohisto's `DefaultMaxSize`).
pub const DEFAULT_HISTOGRAM_SIZE: u32 = 160;

/// The `statsd` receiver's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `endpoint`, `transport` and `dialer` (Go's squashed `confignet.AddrConfig`).
    #[serde(rename = "net,squash")]
    pub net: AddrConfig,
    /// `aggregation_interval`: how long lines are aggregated before the result is sent.
    #[serde(with = "tributary_confmap::duration")]
    pub aggregation_interval: Duration,
    /// `enable_metric_type`: adds a `metric_type` attribute (`counter`, `gauge`, ...).
    pub enable_metric_type: bool,
    /// `enable_simple_tags`: accepts DogStatsD tags without a value (`#mykey`).
    pub enable_simple_tags: bool,
    /// `enable_ip_only_aggregation`: aggregates by the client's IP, not IP and port.
    pub enable_ip_only_aggregation: bool,
    /// `is_monotonic_counter`: marks counter sums monotonic.
    pub is_monotonic_counter: bool,
    /// `timer_histogram_mapping`: what timers, histograms and distributions become.
    pub timer_histogram_mapping: Vec<TimerHistogramMapping>,
    /// `socket_permissions`: the mode of the `unixgram` socket file (default `0622`).
    pub socket_permissions: u32,
}

impl Default for Config {
    fn default() -> Self {
        let gauge = |statsd_type: &str| TimerHistogramMapping {
            statsd_type: statsd_type.into(),
            observer_type: "gauge".into(),
            ..Default::default()
        };
        Config {
            net: AddrConfig::default(),
            aggregation_interval: Duration::from_secs(60),
            enable_metric_type: false,
            enable_simple_tags: false,
            enable_ip_only_aggregation: false,
            is_monotonic_counter: false,
            timer_histogram_mapping: vec![
                gauge("timer"),
                gauge("histogram"),
                gauge("distribution"),
            ],
            socket_permissions: 0o622,
        }
    }
}

/// The network address block (Go's `confignet.AddrConfig`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddrConfig {
    /// `endpoint`: `host:port` for UDP and TCP, a socket path for `unixgram`; `None` for
    /// the transport's default.
    pub endpoint: Option<String>,
    /// `transport`: `udp` (default), `udp4`, `udp6`, `tcp`, `tcp4`, `tcp6` or `unixgram`.
    pub transport: String,
    /// `dialer`: accepted because Go's block has it; a listening receiver dials nothing.
    pub dialer: DialerConfig,
}

impl Default for AddrConfig {
    fn default() -> Self {
        AddrConfig {
            endpoint: None,
            transport: "udp".into(),
            dialer: DialerConfig::default(),
        }
    }
}

/// How the receiver listens, from `transport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Datagrams over UDP; `Some(4)`/`Some(6)` for `udp4`/`udp6`.
    Udp(Option<u8>),
    /// Newline-delimited lines over TCP; `Some(4)`/`Some(6)` for `tcp4`/`tcp6`.
    Tcp(Option<u8>),
    /// Datagrams on a Unix datagram socket.
    Unixgram,
}

impl Transport {
    /// The transport `name` means, as Go's `transport` key spells it.
    pub fn parse(name: &str) -> Option<Transport> {
        Some(match name {
            "udp" => Transport::Udp(None),
            "udp4" => Transport::Udp(Some(4)),
            "udp6" => Transport::Udp(Some(6)),
            "tcp" => Transport::Tcp(None),
            "tcp4" => Transport::Tcp(Some(4)),
            "tcp6" => Transport::Tcp(Some(6)),
            "unixgram" => Transport::Unixgram,
            _ => return None,
        })
    }
}

impl Config {
    /// The configured transport (valid once `validate` passed; UDP otherwise).
    pub fn transport(&self) -> Transport {
        Transport::parse(&self.net.transport).unwrap_or(Transport::Udp(None))
    }

    /// The endpoint to listen on: `endpoint`, or the transport's default.
    pub fn endpoint(&self) -> &str {
        match (&self.net.endpoint, self.transport()) {
            (Some(endpoint), _) => endpoint,
            (None, Transport::Unixgram) => DEFAULT_UNIX_ENDPOINT,
            (None, _) => DEFAULT_ENDPOINT,
        }
    }
}

/// One entry of `timer_histogram_mapping`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimerHistogramMapping {
    /// `statsd_type`: `timing` (or `timer`), `histogram` or `distribution`.
    pub statsd_type: String,
    /// `observer_type`: `gauge`, `summary`, `histogram` or `disabled`.
    pub observer_type: String,
    /// `histogram`: the exponential histogram's settings (`observer_type: histogram`).
    pub histogram: HistogramConfig,
    /// `summary`: the summary's settings (`observer_type: summary`).
    pub summary: SummaryConfig,
}

/// `timer_histogram_mapping[].histogram`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistogramConfig {
    /// `max_size`: the most buckets per sign (0: 160).
    pub max_size: u32,
    /// `explicit_buckets`: refused at validation (see [`Config::validate`]).
    pub explicit_buckets: Option<serde::de::IgnoredAny>,
}

/// `timer_histogram_mapping[].summary`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SummaryConfig {
    /// `percentiles`: the quantiles to report, in percent (empty: 0, 10, 50, 90, 95, 100).
    pub percentiles: Vec<f64>,
}

/// The StatsD types `statsd_type` can name; `counter` and `gauge` are accepted and, as in
/// Go, change nothing.
const STATSD_TYPES: [&str; 6] = [
    "timing",
    "timer",
    "histogram",
    "distribution",
    "counter",
    "gauge",
];
const OBSERVER_TYPES: [&str; 4] = ["gauge", "summary", "histogram", "disabled"];

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let Some(transport) = Transport::parse(&self.net.transport) else {
            return Err(ConfigError::at(
                "transport",
                format!(
                    "unsupported transport {:?}: use udp, udp4, udp6, tcp, tcp4, tcp6 or unixgram",
                    self.net.transport
                ),
            ));
        };
        match (transport, &self.net.endpoint) {
            (Transport::Unixgram, Some(path)) if path.is_empty() => {
                return Err(ConfigError::at("endpoint", "name the socket's path"));
            }
            (Transport::Udp(_) | Transport::Tcp(_), Some(endpoint)) => {
                check_endpoint(endpoint).map_err(|e| ConfigError::at("endpoint", e))?;
            }
            _ => {}
        }
        if self.aggregation_interval.is_zero() {
            return Err(ConfigError::at(
                "aggregation_interval",
                "must be a positive duration",
            ));
        }
        if self.socket_permissions > 0o777 {
            return Err(ConfigError::at(
                "socket_permissions",
                format!(
                    "{:#o} is not a file mode: use permission bits such as 0622",
                    self.socket_permissions
                ),
            ));
        }
        for (i, mapping) in self.timer_histogram_mapping.iter().enumerate() {
            mapping
                .validate()
                .map_err(|e| e.within(&format!("timer_histogram_mapping::{i}")))?;
        }
        Ok(())
    }
}

impl TimerHistogramMapping {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.statsd_type.is_empty() || self.observer_type.is_empty() {
            return Err(ConfigError::new(
                "must specify statsd_type and observer_type for every mapping",
            ));
        }
        if !STATSD_TYPES.contains(&self.statsd_type.as_str()) {
            return Err(ConfigError::at(
                "statsd_type",
                format!(
                    "{:?} is not a supported mapping: use timing, timer, histogram or distribution",
                    self.statsd_type
                ),
            ));
        }
        if !OBSERVER_TYPES.contains(&self.observer_type.as_str()) {
            return Err(ConfigError::at(
                "observer_type",
                format!(
                    "{:?} is not supported: use gauge, summary, histogram or disabled",
                    self.observer_type
                ),
            ));
        }
        if self.histogram.explicit_buckets.is_some() {
            return Err(ConfigError::at(
                "histogram::explicit_buckets",
                "not supported by this receiver (it needs Go's regular expressions to match \
                 metric names); use max_size for an exponential histogram",
            ));
        }
        let max_size = self.histogram.max_size;
        if self.observer_type == "histogram" {
            if max_size != 0 && !(MIN_HISTOGRAM_SIZE..=MAX_HISTOGRAM_SIZE).contains(&max_size) {
                return Err(ConfigError::at(
                    "histogram::max_size",
                    format!(
                        "{max_size} is out of range: use {MIN_HISTOGRAM_SIZE} to {MAX_HISTOGRAM_SIZE} (0 for 160)"
                    ),
                ));
            }
        } else if max_size != 0 {
            return Err(ConfigError::at(
                "histogram",
                "histogram configuration requires observer_type: histogram",
            ));
        }
        if let Some(p) = self
            .summary
            .percentiles
            .iter()
            .find(|p| !(0.0..=100.0).contains(*p))
        {
            return Err(ConfigError::at(
                "summary::percentiles",
                format!("{p} is not a percentile: use values from 0 to 100"),
            ));
        }
        Ok(())
    }
}
