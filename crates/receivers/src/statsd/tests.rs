//! The `statsd` receiver's tests: parser, aggregation, exponential histogram, config, and
//! the receiver on real sockets.

mod aggregation;
mod config;
mod expohisto;
mod parser;
mod receiver;

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, ResourceMetrics};

/// Every resource of a batch.
fn resources(metrics: &Metrics) -> Vec<ResourceMetrics> {
    metrics.request().resource_metrics.clone()
}

/// Every metric of a batch, over resources and scopes.
fn all_metrics(metrics: &Metrics) -> Vec<Metric> {
    metrics
        .request()
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| s.metrics.clone())
        .collect()
}

/// The metric named `name` (exactly one).
fn metric(metrics: &[Metric], name: &str) -> Metric {
    let found: Vec<_> = metrics.iter().filter(|m| m.name == name).collect();
    assert_eq!(found.len(), 1, "one metric {name} in {metrics:#?}");
    found[0].clone()
}

/// `(key, string value)` pairs of attributes, in order.
fn string_attributes(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v: &AnyValue| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
