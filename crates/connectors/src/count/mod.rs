//! The `count` connector: counts spans, span events, metrics, data points and log records
//! and emits the counts as metrics, as the Go Collector's `countconnector` does.
//!
//! Listed as an exporter of a traces, metrics or logs pipeline and as a receiver of a
//! metrics pipeline. Each request it consumes becomes one metrics request holding, per
//! resource of the input (its attributes copied), one scope
//! (`github.com/open-telemetry/opentelemetry-collector-contrib/connector/countconnector`)
//! with a monotonic **delta** sum per count metric, one data point per distinct
//! combination of the metric's `attributes`. The connector answers with what the metrics
//! pipeline answered, so an error there reaches the sender.
//!
//! ```yaml
//! connectors:
//!   count:                      # counts everything under the default names
//!   count/by_env:
//!     spans:
//!       my.span.count:
//!         description: Spans per environment.
//!         attributes:
//!           - key: env
//!             default_value: unspecified_environment
//!       my.prod.checkout.count:
//!         conditions:
//!           - 'attributes["env"] == "prod" and resource.attributes["service.name"] == "checkout"'
//!     logs: {}                  # counts no logs
//! service:
//!   pipelines:
//!     traces:
//!       receivers: [otlp]
//!       exporters: [count]
//!     metrics/counts:
//!       receivers: [count]
//!       exporters: [debug]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `spans` | `trace.span.count` | metrics counting spans |
//! | `spanevents` | `trace.span.event.count` | metrics counting span events |
//! | `metrics` | `metric.count` | metrics counting metrics (no `attributes`: a metric has none) |
//! | `datapoints` | `metric.datapoint.count` | metrics counting data points of every type |
//! | `logs` | `log.record.count` | metrics counting log records |
//! | `<section>::<name>::description` | Go's (`The number of spans observed.`, ...) for the defaults, else `""` | the metric's description |
//! | `<section>::<name>::conditions` | `[]` | conditions, ORed; an item meeting none is not counted by the metric (see below for the language) |
//! | `<section>::<name>::attributes` | `[]` | `{key, default_value}` list: count per combination of values |
//!
//! A section left out counts everything under its default name; a section given replaces
//! that default (`logs: {}` counts no logs), as in Go. An attribute is looked up on the
//! item, then on its instrumentation scope, then on its resource; integers and doubles
//! keep their type, anything else is written as a string, as in Go. `default_value` may
//! be a string or a number (as in Go, `""`, `0` and booleans are no default); an item
//! lacking an attribute without a default is not counted by that metric. A data point's time span runs from the earliest to the latest
//! timestamp of the items counted (spans' start and end, events', data points' and log
//! records' times), or is the instant of counting if they carry none.
//!
//! **Conditions** are OTTL in Go. Until Tributary has OTTL they are written in the subset
//! the [`routing`](crate::routing) connector evaluates ([`BuiltinLanguage`](crate::routing::BuiltinLanguage)):
//! `attributes["k"]` (the span's, span event's, data point's or log record's),
//! `resource.attributes["k"]`, `name` (spans, span events and metrics), literals,
//! `==`, `!=`, `and`, `or`, `not` and parentheses. A condition outside it (a comparison
//! such as `severity_number >= SEVERITY_NUMBER_ERROR`, functions) is refused at
//! validation, naming the condition and the column, rather than counted wrongly.
//!
//! **Differences from Go.** A request with nothing to count sends nothing on (Go sends
//! an empty request). A boolean, bytes, array or map attribute is counted by its text
//! (`true`, base64, JSON), where Go writes an empty string and so counts them all as one. A metric without data (no type) counts as a metric with no data
//! points, where Go fails the whole request.

mod config;
mod connector;
mod counter;
mod factory;
#[cfg(test)]
mod tests;

pub use config::{AttributeConfig, Config, DefaultValue, MetricInfo};
pub use connector::{CountConnector, SCOPE_NAME};
pub use factory::factory;
