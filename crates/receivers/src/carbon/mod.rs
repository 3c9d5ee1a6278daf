//! The `carbon` receiver: Graphite's plaintext protocol over TCP or UDP, as the Go
//! Collector's `carbonreceiver` takes it.
//!
//! Each line is `<path> <value> <timestamp>` (seconds since the epoch), one data point.
//! With the default `plaintext` parser the path up to its first `;` is the metric name and
//! Graphite 1.1 tags after it (`cpu.load;host=a;dc=eu`) are the point's attributes. The
//! `regex` parser matches the path against rules instead: named groups `key_<attr>` become
//! attributes, `name_<part>` groups (in the order of their names) join the rule's
//! `name_prefix` with `name_separator` into the metric name, and `labels` are added; a
//! path no rule matches is parsed as plaintext. Points are gauges unless a rule says
//! `type: cumulative` (then monotonic cumulative sums); values that parse as integers are
//! integers.
//!
//! Over TCP, the complete lines each read brings go to the pipeline as one batch; over
//! UDP, each datagram (one or more lines) is one batch. A malformed line is skipped and
//! counted in `otelcol_receiver_failed_metric_points`, never fatal. The protocol has no
//! answer: when the pipeline refuses a TCP connection's batch, the connection is closed
//! (as in Go), which a client sees and can retry.
//!
//! # Example
//!
//! ```yaml
//! receivers:
//!   carbon:
//!     endpoint: 0.0.0.0:2003
//!     transport: tcp
//!     tcp_idle_timeout: 1m
//!   carbon/regex:
//!     endpoint: 127.0.0.1:2013
//!     transport: udp
//!     parser:
//!       type: regex
//!       config:
//!         name_separator: "_"
//!         rules:
//!           - regexp: "(?P<key_svc>[^.]+)\\.(?P<key_host>[^.]+)\\.(?P<name_0>[^.]+)\\.(?P<name_1>[^.]+)"
//!             name_prefix: svc
//!             labels: { source: graphite }
//!             type: cumulative
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_pipeline_core::component::ComponentConfig;
//! use tributary_receivers::carbon::{CarbonValue, Config};
//!
//! let yaml = r#"
//! parser:
//!   type: regex
//!   config:
//!     name_separator: "_"
//!     rules:
//!       - regexp: "(?P<key_svc>[^.]+)\\.(?P<key_host>[^.]+)\\.(?P<name_0>[^.]+)\\.(?P<name_1>[^.]+)"
//!         name_prefix: svc
//!         type: cumulative
//! "#;
//! let config: Config = Conf::from_yaml(yaml)?.decode()?;
//! config.validate()?;
//! let point = config.parser.build()?.parse_line("shop.web01.req.count 42 1700000000")?;
//! assert_eq!(point.name, "svc_req_count");
//! assert!(point.cumulative);
//! assert_eq!(point.value, CarbonValue::Int(42));
//! assert_eq!(point.attributes[1], ("host".to_string(), "web01".to_string()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:2003` | `host:port` to listen on; a host name is looked up at start |
//! | `transport` | `tcp` | `tcp` or `udp` |
//! | `tcp_idle_timeout` | `30s` | a TCP connection that sends nothing this long is closed (`0`: the default); ignored for UDP |
//! | `parser::type` | `plaintext` | `plaintext` or `regex` |
//! | `parser::config::rules` | none | the `regex` parser's rules, tried in order (at least one) |
//! | `parser::config::rules::N::regexp` | required | RE2 syntax, as Go's; groups named `key_*` or `name_*` only |
//! | `parser::config::rules::N::name_prefix` | `""` | start of the metric name; the path itself when the name comes out empty |
//! | `parser::config::rules::N::labels` | none | attributes added to every matched point |
//! | `parser::config::rules::N::type` | `gauge` | `gauge` or `cumulative` |
//! | `parser::config::name_separator` | `""` | joins the prefix and the `name_*` parts |
//! | `max_connections` | `4096` | TCP connections served at once; more are closed at once (Tributary's own key) |
//!
//! A line longer than 64 KiB closes its TCP connection (counted as one failed point); a
//! datagram holds at most 64 KiB. Parsing never holds more than one read or one datagram.
//!
//! # Where Tributary differs
//!
//! - A `cumulative` rule makes sums with cumulative temporality; Go leaves the temporality
//!   unspecified, which OTLP backends reject.
//! - A timestamp before the epoch (or too large for nanoseconds) makes the line malformed;
//!   Go wraps it around.
//!
//! # Dependencies
//!
//! The `regex` crate for the rules: its syntax is RE2's, the syntax of Go's `regexp`
//! (named groups `(?P<name>...)`), and it matches in linear time, as Go's does.

mod config;
mod factory;
mod parser;
mod receiver;
#[cfg(test)]
mod tests;

pub use config::{
    Config, DEFAULT_ENDPOINT, DEFAULT_TCP_IDLE_TIMEOUT, ParserConfig, ParserType,
    RegexParserConfig, RegexRule, Transport,
};
pub use factory::factory;
pub use parser::{CarbonParser, CarbonPoint, CarbonValue, LineError, parse_plaintext};
