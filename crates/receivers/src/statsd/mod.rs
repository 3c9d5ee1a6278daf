//! The `statsd` receiver: StatsD and DogStatsD lines over UDP, TCP or a Unix datagram
//! socket, aggregated per interval into OTLP metrics.
//!
//! It takes the Go Collector contrib `statsdreceiver`'s keys and defaults, so its
//! configurations run unchanged. Lines are `<name>:<value>|<type>` with DogStatsD's
//! optional sections: `|@<rate>` (sample rate), `|#k:v,k2:v2` (tags), `|c:<id>`
//! (container ID, as the `container.id` attribute) and `|T<unix seconds>` (timestamp, for
//! counters and gauges); several values may be packed (`name:1:2:3|h`), and a datagram may
//! hold several lines. Over TCP, lines end with a newline.
//!
//! Every `aggregation_interval` (and at shutdown) the receiver sends what it aggregated,
//! one resource per client, all under the scope
//! `github.com/open-telemetry/opentelemetry-collector-contrib/receiver/statsdreceiver`
//! with the collector's version:
//!
//! | StatsD type | becomes |
//! |---|---|
//! | `c` counter | an integer delta sum of `value / rate` per line (start: the interval's start; end: now, or the line's `T`), monotonic with `is_monotonic_counter` |
//! | `g` gauge | a double gauge: the last value; `+n` / `-n` change it, except as the interval's first value, which sets it (as Go) |
//! | `ms` timer, `h` histogram, `d` distribution | per `timer_histogram_mapping`: `gauge` (every value a point), `summary` (count, sum and percentiles, each value weighted by `1 / rate`), `histogram` (an exponential histogram of at most `max_size` buckets per sign, as Go's go-expohisto), `disabled` (dropped) |
//! | `s` set | an integer gauge: how many distinct members the interval saw (Go refuses sets) |
//!
//! Series are keyed by client, name, type and attributes. The client is the sender's
//! address: its resource has `source.address` and, unless `enable_ip_only_aggregation`,
//! `source.port` (Go passes the address in its client context instead, which Tributary's
//! pipeline does not carry); Unix socket clients have no address.
//!
//! A malformed line is skipped and counted in `otelcol_receiver_failed_metric_points`;
//! the other lines of its datagram are kept. DogStatsD events (`_e{`) and service checks
//! (`_sc|`) are counted the same way. Unknown `|` sections are ignored, as the DogStatsD
//! protocol asks (Go refuses the line). NaN and infinite values are refused.
//!
//! Memory is bounded: an interval holds at most [`MAX_ENTRIES`] entries over all clients
//! (a series is one, and so is each set member, each value kept for a summary and each
//! timer value reported as a gauge point); a value beyond that is dropped, counted as
//! failed, and the flush logs a warning. Exponential histograms are bounded by their
//! `max_size`. A TCP line longer than 64 KiB closes its connection; at most 4096 TCP
//! connections are served at once.
//!
//! # Example
//!
//! ```yaml
//! receivers:
//!   statsd:
//!   statsd/2:
//!     endpoint: "localhost:8127"
//!     aggregation_interval: 70s
//!     enable_metric_type: true
//!     is_monotonic_counter: false
//!     timer_histogram_mapping:
//!       - statsd_type: "histogram"
//!         observer_type: "gauge"
//!       - statsd_type: "timing"
//!         observer_type: "histogram"
//!         histogram:
//!           max_size: 100
//!       - statsd_type: "distribution"
//!         observer_type: "summary"
//!         summary:
//!           percentiles: [0, 10, 50, 90, 95, 100]
//! ```
//!
//! The same, decoded and checked as the collector does it:
//!
//! ```
//! use tributary_pipeline_core::component::{ComponentConfig, load_config};
//! use tributary_receivers::statsd::Config;
//!
//! let config: Config = load_config(
//!     r#"
//! endpoint: "localhost:8127"
//! aggregation_interval: 70s
//! timer_histogram_mapping:
//!   - statsd_type: "timing"
//!     observer_type: "histogram"
//!     histogram: { max_size: 100 }
//! "#,
//! )?;
//! assert_eq!(config.aggregation_interval.as_secs(), 70);
//! assert!(load_config::<Config>("transport: sctp").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:8125`; `/var/run/statsd-receiver.sock` for `unixgram` | where to listen |
//! | `transport` | `udp` | `udp`, `udp4`, `udp6`, `tcp`, `tcp4`, `tcp6` or `unixgram` |
//! | `socket_permissions` | `0622` | the `unixgram` socket file's mode |
//! | `aggregation_interval` | `60s` | how often the aggregate is sent |
//! | `enable_metric_type` | `false` | add a `metric_type` attribute (`counter`, `gauge`, `timing`, `histogram`, `distribution`, `set`) |
//! | `enable_simple_tags` | `false` | accept tags without a value (`#mykey`) |
//! | `enable_ip_only_aggregation` | `false` | aggregate by client IP, not IP and port |
//! | `is_monotonic_counter` | `false` | mark counter sums monotonic (still delta, as Go) |
//! | `timer_histogram_mapping` | `timer`, `histogram` and `distribution` as `gauge` | `[{statsd_type, observer_type, histogram: {max_size}, summary: {percentiles}}]` |
//! | `dialer` | | accepted (Go's address block has it); unused by a listener |
//!
//! `statsd_type` is `timing` (or `timer`), `histogram` or `distribution` (`counter` and
//! `gauge` are accepted and change nothing, as in Go); a type no mapping names is dropped,
//! as Go's `disabled`. `histogram::max_size` is 2 to 16384 (0: 160). Unlike Go, each
//! mapping keeps its own settings (Go shares one histogram size between all types, and
//! one observer between histograms and distributions). `histogram::explicit_buckets`
//! (newer Go releases) is refused: it matches metric names with Go regular expressions.
//!
//! No extra crate: the line format is a few `split`s, and the exponential histogram is
//! small enough to own (its scale arithmetic is tested against OTLP's bucket definition).

mod aggregator;
mod config;
mod expohisto;
mod factory;
mod parser;
mod receiver;

#[cfg(test)]
mod tests;

pub use aggregator::{MAX_ENTRIES, SCOPE_NAME};
pub use config::{
    AddrConfig, Config, DEFAULT_ENDPOINT, DEFAULT_HISTOGRAM_SIZE, DEFAULT_UNIX_ENDPOINT,
    HistogramConfig, MAX_HISTOGRAM_SIZE, MIN_HISTOGRAM_SIZE, SummaryConfig, TimerHistogramMapping,
    Transport,
};
pub use factory::factory;
pub use parser::{
    Line, MetricType, Number, ParseError, ParseOptions, Values, parse_line, parse_packet,
};
