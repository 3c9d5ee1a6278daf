//! The count connector: counts what it consumes and sends the counts on at once.

use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::prelude::*;

use crate::routing::{EvalError, Item};

use super::config::{Config, SECTIONS};
use super::counter::{Counter, MetricDef};

/// The instrumentation scope of the count metrics, Go's.
pub const SCOPE_NAME: &str =
    "github.com/open-telemetry/opentelemetry-collector-contrib/connector/countconnector";

/// Counts spans, span events, metrics, data points or log records into metrics, which it
/// sends to the next consumer before answering: the caller gets that consumer's answer.
pub struct CountConnector {
    spans: Vec<MetricDef>,
    span_events: Vec<MetricDef>,
    metrics: Vec<MetricDef>,
    data_points: Vec<MetricDef>,
    logs: Vec<MetricDef>,
    next: Next<Metrics>,
}

impl CountConnector {
    /// A connector counting as `config` says into `next`; fails as `validate` does.
    pub fn new(config: &Config, next: Next<Metrics>) -> Result<Self, ConfigError> {
        let defs = |index: usize| {
            let (section, context) = SECTIONS[index];
            MetricDef::from_section(section, config.section(section), context)
        };
        Ok(CountConnector {
            spans: defs(0)?,
            span_events: defs(1)?,
            metrics: defs(2)?,
            data_points: defs(3)?,
            logs: defs(4)?,
            next,
        })
    }

    /// The span and span event counts of `request`, per resource; `None` if nothing was
    /// counted.
    pub fn count_traces(
        &self,
        request: &ExportTraceServiceRequest,
        now: u64,
    ) -> Result<Option<Metrics>, EvalError> {
        let mut resources = Vec::new();
        for rs in &request.resource_spans {
            let resource = resource_attributes(&rs.resource);
            let mut spans = Counter::new(&self.spans);
            let mut events = Counter::new(&self.span_events);
            for ss in &rs.scope_spans {
                let scope = scope_attributes(&ss.scope);
                for span in &ss.spans {
                    spans.saw_time(span.start_time_unix_nano);
                    spans.saw_time(span.end_time_unix_nano);
                    spans.count(&item(&span.attributes, resource, Some(&span.name)), scope)?;
                    for event in &span.events {
                        events.saw_time(event.time_unix_nano);
                        events
                            .count(&item(&event.attributes, resource, Some(&event.name)), scope)?;
                    }
                }
            }
            resources.extend(resource_metrics(&rs.resource, now, [&spans, &events]));
        }
        Ok(collect(resources))
    }

    /// The metric and data point counts of `request`, per resource; `None` if nothing was
    /// counted.
    pub fn count_metrics(
        &self,
        request: &ExportMetricsServiceRequest,
        now: u64,
    ) -> Result<Option<Metrics>, EvalError> {
        let mut resources = Vec::new();
        for rm in &request.resource_metrics {
            let resource = resource_attributes(&rm.resource);
            let mut metrics = Counter::new(&self.metrics);
            let mut points = Counter::new(&self.data_points);
            for sm in &rm.scope_metrics {
                let scope = scope_attributes(&sm.scope);
                for metric in &sm.metrics {
                    metrics.count(&item(&[], resource, Some(&metric.name)), scope)?;
                    let mut result = Ok(());
                    for_each_point(metric, |attributes, time| {
                        points.saw_time(time);
                        if result.is_ok() {
                            result = points.count(&item(attributes, resource, None), scope);
                        }
                    });
                    result?;
                }
            }
            resources.extend(resource_metrics(&rm.resource, now, [&metrics, &points]));
        }
        Ok(collect(resources))
    }

    /// The log record counts of `request`, per resource; `None` if nothing was counted.
    pub fn count_logs(
        &self,
        request: &ExportLogsServiceRequest,
        now: u64,
    ) -> Result<Option<Metrics>, EvalError> {
        let mut resources = Vec::new();
        for rl in &request.resource_logs {
            let resource = resource_attributes(&rl.resource);
            let mut records = Counter::new(&self.logs);
            for sl in &rl.scope_logs {
                let scope = scope_attributes(&sl.scope);
                for record in &sl.log_records {
                    records.saw_time(record.time_unix_nano);
                    records.count(&item(&record.attributes, resource, None), scope)?;
                }
            }
            resources.extend(resource_metrics(&rl.resource, now, [&records]));
        }
        Ok(collect(resources))
    }

    /// Sends the counts on; a condition that could not be evaluated fails the request,
    /// as in Go.
    async fn send(&self, counts: Result<Option<Metrics>, EvalError>) -> Result<(), ConsumeError> {
        match counts {
            Ok(Some(counts)) => self.next.consume(counts).await,
            Ok(None) => Ok(()),
            Err(error) => Err(ConsumeError::permanent(format!("count condition: {error}"))),
        }
    }
}

fn item<'a>(
    attributes: &'a [KeyValue],
    resource: &'a [KeyValue],
    name: Option<&'a str>,
) -> Item<'a> {
    Item {
        attributes,
        resource_attributes: resource,
        name,
        metadata: None,
    }
}

fn resource_attributes(resource: &Option<Resource>) -> &[KeyValue] {
    resource.as_ref().map_or(&[], |r| r.attributes.as_slice())
}

fn scope_attributes(scope: &Option<InstrumentationScope>) -> &[KeyValue] {
    scope.as_ref().map_or(&[], |s| s.attributes.as_slice())
}

/// Every data point of `metric`, as its attributes and time.
fn for_each_point(metric: &Metric, mut point: impl FnMut(&[KeyValue], u64)) {
    match &metric.data {
        Some(Data::Gauge(g)) => g
            .data_points
            .iter()
            .for_each(|p| point(&p.attributes, p.time_unix_nano)),
        Some(Data::Sum(s)) => s
            .data_points
            .iter()
            .for_each(|p| point(&p.attributes, p.time_unix_nano)),
        Some(Data::Histogram(h)) => h
            .data_points
            .iter()
            .for_each(|p| point(&p.attributes, p.time_unix_nano)),
        Some(Data::ExponentialHistogram(e)) => e
            .data_points
            .iter()
            .for_each(|p| point(&p.attributes, p.time_unix_nano)),
        Some(Data::Summary(s)) => s
            .data_points
            .iter()
            .for_each(|p| point(&p.attributes, p.time_unix_nano)),
        // A metric without data has no points; it still counts as a metric.
        None => {}
    }
}

/// The counts of one resource under a copy of its resource, or `None` if there are none
/// (Go adds no empty resource).
fn resource_metrics<const N: usize>(
    resource: &Option<Resource>,
    now: u64,
    counters: [&Counter<'_>; N],
) -> Option<ResourceMetrics> {
    if counters.iter().all(|c| c.is_empty()) {
        return None;
    }
    let mut metrics = Vec::new();
    for counter in counters {
        counter.append_metrics(now, &mut metrics);
    }
    Some(ResourceMetrics {
        resource: Some(Resource {
            attributes: resource_attributes(resource).to_vec(),
            ..Resource::default()
        }),
        scope_metrics: vec![ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: SCOPE_NAME.to_owned(),
                ..InstrumentationScope::default()
            }),
            metrics,
            ..ScopeMetrics::default()
        }],
        ..ResourceMetrics::default()
    })
}

fn collect(resource_metrics: Vec<ResourceMetrics>) -> Option<Metrics> {
    (!resource_metrics.is_empty())
        .then(|| Metrics::new(ExportMetricsServiceRequest { resource_metrics }))
}

impl Component for CountConnector {}

#[async_trait]
impl Consumer<Traces> for CountConnector {
    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        let counts = self.count_traces(data.request(), now_unix_nano());
        self.send(counts).await
    }
}

#[async_trait]
impl Consumer<Metrics> for CountConnector {
    async fn consume(&self, data: Metrics) -> Result<(), ConsumeError> {
        let counts = self.count_metrics(data.request(), now_unix_nano());
        self.send(counts).await
    }
}

#[async_trait]
impl Consumer<Logs> for CountConnector {
    async fn consume(&self, data: Logs) -> Result<(), ConsumeError> {
        let counts = self.count_logs(data.request(), now_unix_nano());
        self.send(counts).await
    }
}
