//! The `metricstransform` processor's logic: each transform, in order, on every scope's
//! metrics, as Go's `processMetrics`.

use std::collections::HashSet;

use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::AttributesMut;
use tributary_pipeline_core::pdata::data_point::MetricExt;
use tributary_pipeline_core::pdata::data_point_count;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogram, Gauge, Histogram, Metric, ResourceMetrics, ScopeMetrics, Sum, Summary,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use super::Config;
use super::aggregate::aggregate;
use super::config::{AggregationType, Transform as TransformConfig};
use super::filter::Filter;
use super::operations::Operation;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Update,
    Insert,
    Combine,
    Group,
}

/// One compiled transform.
struct Transform {
    filter: Filter,
    action: Action,
    new_name: String,
    group_resource_labels: Vec<(String, String)>,
    aggregation: Option<AggregationType>,
    /// `Some(true)`: upper case; `Some(false)`: lower case.
    upper_case: Option<bool>,
    operations: Vec<Operation>,
}

/// The compiled configuration of one pipeline's `metricstransform` processor.
pub(crate) struct Transforms {
    transforms: Vec<Transform>,
}

impl Transforms {
    /// `version` replaces `{{version}}` in label values.
    pub fn compile(config: &Config, version: &str) -> Result<Self, ConfigError> {
        let transforms = config
            .transforms
            .iter()
            .enumerate()
            .map(|(index, t)| {
                Transform::compile(t, version)
                    .map_err(|e| e.within(&format!("transforms::{index}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Transforms { transforms })
    }

    /// Applies every transform; the request is copied only if some metric's name is
    /// selected by a transform.
    pub fn process(&self, metrics: &mut Metrics) {
        let selected = metrics
            .request()
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .any(|m| {
                self.transforms
                    .iter()
                    .any(|t| t.filter.matches_name(&m.name))
            });
        if !selected {
            return;
        }
        let request = metrics.make_mut();
        let mut grouped = Vec::new();
        for rm in &mut request.resource_metrics {
            let ResourceMetrics {
                resource,
                scope_metrics,
                schema_url,
            } = rm;
            for sm in scope_metrics.iter_mut() {
                for transform in &self.transforms {
                    transform.apply(sm, resource.as_ref(), schema_url, &mut grouped);
                }
            }
            scope_metrics.retain(|sm| !sm.metrics.is_empty());
        }
        request
            .resource_metrics
            .retain(|rm| !rm.scope_metrics.is_empty());
        request.resource_metrics.extend(grouped);
    }
}

impl Transform {
    fn compile(config: &TransformConfig, version: &str) -> Result<Self, ConfigError> {
        let action = match config.action.as_str() {
            "update" => Action::Update,
            "insert" => Action::Insert,
            "combine" => Action::Combine,
            "group" => Action::Group,
            other => {
                return Err(ConfigError::at(
                    "action",
                    format!("unknown action {other:?}"),
                ));
            }
        };
        let operations = config
            .operations
            .iter()
            .enumerate()
            .map(|(index, op)| {
                Operation::compile(op, version)
                    .map_err(|e| e.within(&format!("operations::{index}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Transform {
            filter: Filter::compile(config)?,
            action,
            new_name: config.new_name.clone(),
            group_resource_labels: config
                .group_resource_labels
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            aggregation: AggregationType::parse(&config.aggregation_type, "aggregation_type")?,
            upper_case: match config.submatch_case.as_str() {
                "upper" => Some(true),
                "lower" => Some(false),
                _ => None,
            },
            operations,
        })
    }

    fn apply(
        &self,
        sm: &mut ScopeMetrics,
        resource: Option<&Resource>,
        schema_url: &str,
        grouped: &mut Vec<ResourceMetrics>,
    ) {
        let metrics = &mut sm.metrics;
        match self.action {
            Action::Update => {
                metrics.retain_mut(|m| !self.filter.matches_metric(m) || self.transform_metric(m));
            }
            Action::Insert => {
                // Only the metrics present before: not the copies appended meanwhile.
                for index in 0..metrics.len() {
                    if let Some(mut copy) = self.filter.copy_selected(&metrics[index])
                        && self.transform_metric(&mut copy)
                    {
                        metrics.push(copy);
                    }
                }
            }
            Action::Combine => {
                let selected: Vec<&Metric> = metrics
                    .iter()
                    .filter(|m| self.filter.matches_metric(m))
                    .collect();
                if selected.is_empty() {
                    return;
                }
                if let Err(reason) = can_be_combined(&selected) {
                    tracing::warn!("metricstransform: {reason}");
                    return;
                }
                let extracted = self.filter.extract(metrics);
                let mut combined = self.combine(extracted);
                if self.transform_metric(&mut combined) {
                    metrics.push(combined);
                }
            }
            Action::Group => {
                let extracted = self.filter.extract(metrics);
                if extracted.is_empty() {
                    return;
                }
                let mut resource = resource.cloned().unwrap_or_default();
                for (key, value) in &self.group_resource_labels {
                    resource.attributes.upsert_attribute(key, value.as_str());
                }
                grouped.push(ResourceMetrics {
                    resource: Some(resource),
                    scope_metrics: vec![ScopeMetrics {
                        scope: sm.scope.clone(),
                        metrics: extracted,
                        schema_url: sm.schema_url.clone(),
                    }],
                    schema_url: schema_url.to_string(),
                });
            }
        }
    }

    /// Go's `combine`: one metric named `new_name` with every extracted point, labelled
    /// with the regexp captures of its metric's name, then merged.
    fn combine(&self, extracted: Vec<Metric>) -> Metric {
        let mut combined = Metric {
            name: self.new_name.clone(),
            ..Metric::default()
        };
        for mut metric in extracted {
            let labels: Vec<(String, String)> = self
                .filter
                .capture_labels(&metric.name)
                .into_iter()
                .map(|(key, value)| match self.upper_case {
                    Some(true) => (key, value.to_uppercase()),
                    Some(false) => (key, value.to_lowercase()),
                    None => (key, value),
                })
                .filter(|(_, value)| !value.is_empty())
                .collect();
            for mut point in metric.data_points_mut() {
                for (key, value) in &labels {
                    point.attributes_mut().upsert_attribute(key, value.as_str());
                }
            }
            if combined.data.is_none() {
                combined.unit = metric.unit.clone();
                combined.description = metric.description.clone();
            }
            append_points(&mut combined.data, metric.data);
        }
        aggregate(&mut combined, self.aggregation);
        combined
    }

    /// Go's `transformMetric`: renames and applies the operations; false when the
    /// metric lost all its points (and should go).
    fn transform_metric(&self, metric: &mut Metric) -> bool {
        let was_empty = data_point_count(metric) == 0;
        let may_reshape = self.action != Action::Update || self.filter.matches_all_points(metric);
        if !self.new_name.is_empty() && may_reshape {
            metric.name = self
                .filter
                .expand(&self.new_name, &metric.name)
                .unwrap_or_else(|| self.new_name.clone());
        }
        for operation in &self.operations {
            operation.apply(metric, &self.filter, may_reshape);
        }
        was_empty || data_point_count(metric) > 0
    }
}

/// Appends `from`'s points to `into` (of the same kind, checked by [`can_be_combined`]);
/// the first data sets the kind, temporality and monotonicity.
fn append_points(into: &mut Option<Data>, from: Option<Data>) {
    let Some(from) = from else { return };
    let Some(existing) = into else {
        *into = Some(from);
        return;
    };
    match (existing, from) {
        (Data::Gauge(a), Data::Gauge(b)) => a.data_points.extend(b.data_points),
        (Data::Sum(a), Data::Sum(b)) => a.data_points.extend(b.data_points),
        (Data::Histogram(a), Data::Histogram(b)) => a.data_points.extend(b.data_points),
        (Data::ExponentialHistogram(a), Data::ExponentialHistogram(b)) => {
            a.data_points.extend(b.data_points)
        }
        (Data::Summary(a), Data::Summary(b)) => a.data_points.extend(b.data_points),
        _ => {}
    }
}

fn kind(metric: &Metric) -> &'static str {
    match metric.data {
        Some(Data::Gauge(Gauge { .. })) => "Gauge",
        Some(Data::Sum(Sum { .. })) => "Sum",
        Some(Data::Histogram(Histogram { .. })) => "Histogram",
        Some(Data::ExponentialHistogram(ExponentialHistogram { .. })) => "ExponentialHistogram",
        Some(Data::Summary(Summary { .. })) => "Summary",
        None => "Empty",
    }
}

fn label_keys(metric: &Metric) -> HashSet<&str> {
    metric
        .data_points()
        .flat_map(|p| p.attributes().iter().map(|kv| kv.key.as_str()))
        .collect()
}

/// Go's `canBeCombined`: same kind (not summaries), unit, label keys, temporality and
/// monotonicity.
fn can_be_combined(metrics: &[&Metric]) -> Result<(), String> {
    let Some(first) = metrics.first() else {
        return Ok(());
    };
    for metric in metrics {
        if let Some(Data::Summary(_)) = metric.data {
            return Err(format!(
                "Summary metrics cannot be combined: {}",
                metric.name
            ));
        }
    }
    for metric in &metrics[1..] {
        let differ = |what: &str, a: String, b: String| {
            Err(format!(
                "metrics cannot be combined as they have different {what}: {} ({a}) and {} ({b})",
                first.name, metric.name
            ))
        };
        if kind(first) != kind(metric) {
            return differ("types", kind(first).into(), kind(metric).into());
        }
        if first.unit != metric.unit {
            return differ("units", first.unit.clone(), metric.unit.clone());
        }
        let (a, b) = (label_keys(first), label_keys(metric));
        if a != b {
            return differ("attributes", format!("{a:?}"), format!("{b:?}"));
        }
        match (&first.data, &metric.data) {
            (Some(Data::Sum(a)), Some(Data::Sum(b))) => {
                if a.aggregation_temporality != b.aggregation_temporality {
                    return differ(
                        "aggregation temporalities",
                        a.aggregation_temporality.to_string(),
                        b.aggregation_temporality.to_string(),
                    );
                }
                if a.is_monotonic != b.is_monotonic {
                    return differ(
                        "monotonicity",
                        a.is_monotonic.to_string(),
                        b.is_monotonic.to_string(),
                    );
                }
            }
            (Some(Data::Histogram(a)), Some(Data::Histogram(b)))
                if a.aggregation_temporality != b.aggregation_temporality =>
            {
                return differ(
                    "aggregation temporalities",
                    a.aggregation_temporality.to_string(),
                    b.aggregation_temporality.to_string(),
                );
            }
            (Some(Data::ExponentialHistogram(a)), Some(Data::ExponentialHistogram(b)))
                if a.aggregation_temporality != b.aggregation_temporality =>
            {
                return differ(
                    "aggregation temporalities",
                    a.aggregation_temporality.to_string(),
                    b.aggregation_temporality.to_string(),
                );
            }
            _ => {}
        }
    }
    Ok(())
}
