//! The `filter` processor: drops spans, span events, metrics, data points and log
//! records, as the Go Collector's `filterprocessor` does.
//!
//! Two forms, as in Go. The OTTL form lists conditions per context; an item that
//! matches any condition of its list is dropped (the conditions are ORed). The legacy
//! form gives `include` / `exclude` match properties (see
//! [`filterconfig`](crate::filterconfig)): an item is kept when it matches `include`
//! (if given) and does not match `exclude` (if given). A signal uses one form or the
//! other, never both.
//!
//! ```yaml
//! processors:
//!   filter/ottl:
//!     error_mode: ignore
//!     traces:
//!       span:
//!         - 'attributes["container.name"] == "app_container_1"'
//!         - 'resource.attributes["host.name"] == "localhost"'
//!       spanevent:
//!         - 'IsMatch(name, ".*grpc.*")'
//!     metrics:
//!       metric:
//!         - 'name == "my.metric" and resource.attributes["my_label"] == "abc123"'
//!       datapoint:
//!         - 'metric.type == METRIC_DATA_TYPE_SUMMARY'
//!     logs:
//!       log_record:
//!         - 'severity_number < SEVERITY_NUMBER_WARN'
//!   filter/legacy:
//!     metrics:
//!       exclude:
//!         match_type: regexp
//!         metric_names: ["^go_.*"]
//!     logs:
//!       include:
//!         match_type: strict
//!         resource_attributes:
//!           - {key: host.name, value: just_this_one_hostname}
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `error_mode` | `propagate` | a condition that fails to evaluate: `propagate` refuses the request with a permanent error; `ignore` logs it and goes on with the next condition; `silent` goes on without logging |
//! | `traces.resource` | `[]` | conditions in the `resource` context: the resource and all its spans are dropped |
//! | `traces.span` | `[]` | conditions in the `span` context |
//! | `traces.spanevent` | `[]` | conditions in the `spanevent` context: events are dropped, the span stays |
//! | `spans.include` / `spans.exclude` | none | legacy match properties for spans (`services`, `span_names`, `span_kinds`, `attributes`, `resources`, `libraries`) |
//! | `metrics.resource` | `[]` | conditions in the `resource` context |
//! | `metrics.metric` | `[]` | conditions in the `metric` context |
//! | `metrics.datapoint` | `[]` | conditions in the `datapoint` context; a metric left without data points is dropped |
//! | `metrics.include` / `metrics.exclude` | none | legacy: `match_type` (`strict`, `regexp`), `metric_names`, `resource_attributes`; `match_type: expr` and `expressions` are refused (Go's `expr` language is not embedded) |
//! | `metrics.regexp` | none | Go's regexp cache settings, accepted without effect |
//! | `logs.resource` | `[]` | conditions in the `resource` context |
//! | `logs.log_record` | `[]` | conditions in the `log` context |
//! | `logs.include` / `logs.exclude` | none | legacy: `match_type`, `resource_attributes`, `record_attributes`, `severity_texts`, `severity_number: {min, match_undefined}`, `bodies`; a block with none of these is ignored, as in Go |
//! | `trace_conditions`, `metric_conditions`, `log_conditions` | `[]` | the newer Go form: bare condition strings (one group, its context the deepest its paths name: `span.name` → `span`) or groups `{context, conditions, error_mode}`; contexts `resource`, `scope` (drops the whole scope) and the signal's own; not together with the signal's older keys |
//! | `profiles`, `profile_conditions` | none | refused: there is no profiles signal |
//!
//! As in Go, a span (metric) that is dropped is not looked at by the span event (data
//! point) conditions; a span whose events are all dropped stays; scopes and resources
//! left empty are removed, and a request left empty goes no further.
//!
//! Go's filter-only metric functions `HasAttrKeyOnDatapoint(key)` and
//! `HasAttrOnDatapoint(key, value)` are available in `metrics.metric` conditions (true
//! when a data point of the metric has the attribute, with that string value); Go
//! answers from the first data point that has the key, this looks at every point.
//!
//! Every condition is compiled at config validation by `tributary-ottl`: an unknown
//! path, function or enum, or an invalid regex, is a config error naming its key
//! (`processors::filter::traces::span::1`) and the byte position.
//!
//! The processor counts what it drops, with Go's names:
//! `otelcol_processor_filter_spans_filtered`, `otelcol_processor_filter_datapoints_filtered`
//! and `otelcol_processor_filter_logs_filtered` (label `filter="<id>"`).
//!
//! A request as a receiver hands it over (still its protobuf bytes) is filtered on those
//! bytes, unless span event or data point conditions are configured (they edit records):
//! each record is decoded with only the fields the conditions read — for
//! `log.attributes["http.server.duration_ms"] < 776`, that attribute and the scalar
//! fields — and what is kept is copied as bytes, not decoded and encoded again; a
//! request nothing is dropped from goes on as it came. Other requests are edited
//! decoded, on the processor's own copy (copy-on-write: a copy only when another
//! pipeline shares the request). Both give the same result; the tests run every case
//! both ways.

mod config;
mod encoded;
mod factory;
mod processor;
#[cfg(test)]
mod tests;

pub use config::{
    ConditionGroups, Config, ContextConditions, ErrorMode, LogFilters, LogMatchProperties,
    MetricFilters, MetricMatchProperties, MetricMatchType, SpanFilters, TraceFilters,
};
pub use factory::factory;
