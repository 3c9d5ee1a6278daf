//! Dropping spans, span events, metrics, data points and log records that match.

use tributary_ottl::context::data_point_len;
use tributary_ottl::{CompiledCondition, Item, TransformContext, compile_condition};
use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, metric::Data};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

use super::config::{Config, ErrorMode, condition_lists, legacy_matchers};
use crate::filterconfig::{self, Matcher, Subject};

/// A list of OTTL conditions, ORed: an item matching any is dropped.
pub(crate) struct Conditions {
    list: Vec<CompiledCondition>,
    error_mode: ErrorMode,
}

impl Conditions {
    /// Whether any condition matches. A failing condition is skipped (`ignore`,
    /// `silent`) or refuses the request (`propagate`), as Go's condition sequence.
    fn any(&self, ctx: &mut TransformContext<'_>) -> Result<bool, ConsumeError> {
        ctx.cache.clear();
        for c in &self.list {
            match c.matches(ctx) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                Err(e) => match self.error_mode {
                    ErrorMode::Propagate => return Err(ConsumeError::permanent(e.to_string())),
                    ErrorMode::Ignore => {
                        tracing::warn!(error = %e, "failed to evaluate condition")
                    }
                    ErrorMode::Silent => {}
                },
            }
        }
        Ok(false)
    }
}

/// Everything a filter processor drops by, compiled once.
pub(crate) struct Filters {
    trace_resource: Option<Conditions>,
    span: Option<Conditions>,
    spanevent: Option<Conditions>,
    metric_resource: Option<Conditions>,
    metric: Option<Conditions>,
    datapoint: Option<Conditions>,
    log_resource: Option<Conditions>,
    log: Option<Conditions>,
    spans_legacy: Option<Matcher>,
    metrics_legacy: Option<Matcher>,
    logs_legacy: Option<Matcher>,
}

impl Filters {
    /// Compiles every condition and match block; errors name their config path.
    pub(crate) fn compile(config: &Config) -> Result<Filters, ConfigError> {
        let mut compiled = Vec::new();
        for (key, texts, context) in condition_lists(config) {
            if texts.is_empty() {
                compiled.push(None);
                continue;
            }
            let list = texts
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    compile_condition(text, context)
                        .map_err(|e| ConfigError::at(format!("{key}::{i}"), e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            compiled.push(Some(Conditions {
                list,
                error_mode: config.error_mode,
            }));
        }
        let mut c = compiled.into_iter();
        let mut next = || c.next().flatten();
        let legacy = legacy_matchers(config)?;
        Ok(Filters {
            trace_resource: next(),
            span: next(),
            spanevent: next(),
            metric_resource: next(),
            metric: next(),
            datapoint: next(),
            log_resource: next(),
            log: next(),
            spans_legacy: legacy.spans,
            metrics_legacy: legacy.metrics,
            logs_legacy: legacy.logs,
        })
    }

    pub(crate) fn filters_traces(&self) -> bool {
        self.trace_resource.is_some()
            || self.span.is_some()
            || self.spanevent.is_some()
            || self.spans_legacy.is_some()
    }

    pub(crate) fn filters_metrics(&self) -> bool {
        self.metric_resource.is_some()
            || self.metric.is_some()
            || self.datapoint.is_some()
            || self.metrics_legacy.is_some()
    }

    pub(crate) fn filters_logs(&self) -> bool {
        self.log_resource.is_some() || self.log.is_some() || self.logs_legacy.is_some()
    }

    /// Drops spans and span events; returns how many spans were dropped.
    pub(crate) fn traces(&self, traces: &mut Traces) -> Result<usize, ConsumeError> {
        let before = traces.item_count();
        let mut cache = Vec::new();
        let request = traces.make_mut();
        try_retain(&mut request.resource_spans, |rs| {
            if drops_resource(&self.trace_resource, &mut rs.resource, &mut cache)? {
                return Ok(false);
            }
            try_retain(&mut rs.scope_spans, |ss| {
                try_retain(&mut ss.spans, |span| {
                    if let Some(m) = &self.spans_legacy {
                        let subject = Subject {
                            resource: attributes(&rs.resource),
                            scope: ss.scope.as_ref(),
                            attributes: &span.attributes,
                            item: filterconfig::Item::Span {
                                name: &span.name,
                                kind: span.kind,
                            },
                        };
                        if !m.selects(&subject) {
                            return Ok(false);
                        }
                    }
                    if let Some(c) = &self.span {
                        let mut ctx = TransformContext {
                            resource: &mut rs.resource,
                            scope: Some(&mut ss.scope),
                            item: Item::Span(span),
                            cache: &mut cache,
                        };
                        if c.any(&mut ctx)? {
                            return Ok(false);
                        }
                    }
                    if let Some(c) = &self.spanevent {
                        let mut keep = Vec::with_capacity(span.events.len());
                        for i in 0..span.events.len() {
                            let mut ctx = TransformContext {
                                resource: &mut rs.resource,
                                scope: Some(&mut ss.scope),
                                item: Item::SpanEvent(span, i),
                                cache: &mut cache,
                            };
                            keep.push(!c.any(&mut ctx)?);
                        }
                        let mut keep = keep.into_iter();
                        span.events.retain(|_| keep.next().unwrap_or(true));
                    }
                    Ok(true)
                })?;
                Ok(!ss.spans.is_empty())
            })?;
            Ok(!rs.scope_spans.is_empty())
        })?;
        Ok(before.saturating_sub(traces.item_count()))
    }

    /// Drops metrics and data points; returns how many data points were dropped.
    pub(crate) fn metrics(&self, metrics: &mut Metrics) -> Result<usize, ConsumeError> {
        let before = metrics.item_count();
        let mut cache = Vec::new();
        let request = metrics.make_mut();
        try_retain(&mut request.resource_metrics, |rm| {
            if drops_resource(&self.metric_resource, &mut rm.resource, &mut cache)? {
                return Ok(false);
            }
            try_retain(&mut rm.scope_metrics, |sm| {
                try_retain(&mut sm.metrics, |metric| {
                    if let Some(m) = &self.metrics_legacy {
                        // Go's legacy metric match reads the name and the resource only.
                        let subject = Subject {
                            resource: attributes(&rm.resource),
                            scope: sm.scope.as_ref(),
                            attributes: &[],
                            item: filterconfig::Item::DataPoint {
                                metric_name: &metric.name,
                            },
                        };
                        if !m.selects(&subject) {
                            return Ok(false);
                        }
                    }
                    if let Some(c) = &self.metric {
                        let mut ctx = TransformContext {
                            resource: &mut rm.resource,
                            scope: Some(&mut sm.scope),
                            item: Item::Metric(metric),
                            cache: &mut cache,
                        };
                        if c.any(&mut ctx)? {
                            return Ok(false);
                        }
                    }
                    if let Some(c) = &self.datapoint {
                        if metric.data.is_none() {
                            return Ok(true);
                        }
                        let mut keep = Vec::with_capacity(data_point_len(metric));
                        for i in 0..data_point_len(metric) {
                            let mut ctx = TransformContext {
                                resource: &mut rm.resource,
                                scope: Some(&mut sm.scope),
                                item: Item::DataPoint(metric, i),
                                cache: &mut cache,
                            };
                            keep.push(!c.any(&mut ctx)?);
                        }
                        retain_points(metric, &keep);
                        // A metric left without data points is dropped, as Go does.
                        return Ok(data_point_len(metric) > 0);
                    }
                    Ok(true)
                })?;
                Ok(!sm.metrics.is_empty())
            })?;
            Ok(!rm.scope_metrics.is_empty())
        })?;
        Ok(before.saturating_sub(metrics.item_count()))
    }

    /// Drops log records; returns how many were dropped.
    pub(crate) fn logs(&self, logs: &mut Logs) -> Result<usize, ConsumeError> {
        let before = logs.item_count();
        let mut cache = Vec::new();
        let request = logs.make_mut();
        try_retain(&mut request.resource_logs, |rl| {
            if drops_resource(&self.log_resource, &mut rl.resource, &mut cache)? {
                return Ok(false);
            }
            try_retain(&mut rl.scope_logs, |sl| {
                try_retain(&mut sl.log_records, |record| {
                    if let Some(m) = &self.logs_legacy {
                        let subject = Subject {
                            resource: attributes(&rl.resource),
                            scope: sl.scope.as_ref(),
                            attributes: &record.attributes,
                            item: filterconfig::Item::Log {
                                body: record.body.as_ref(),
                                severity_text: &record.severity_text,
                                severity_number: record.severity_number,
                            },
                        };
                        if !m.selects(&subject) {
                            return Ok(false);
                        }
                    }
                    if let Some(c) = &self.log {
                        let mut ctx = TransformContext {
                            resource: &mut rl.resource,
                            scope: Some(&mut sl.scope),
                            item: Item::Log(record),
                            cache: &mut cache,
                        };
                        if c.any(&mut ctx)? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })?;
                Ok(!sl.log_records.is_empty())
            })?;
            Ok(!rl.scope_logs.is_empty())
        })?;
        Ok(before.saturating_sub(logs.item_count()))
    }
}

fn attributes(resource: &Option<Resource>) -> &[KeyValue] {
    resource.as_ref().map_or(&[], |r| &r.attributes)
}

fn drops_resource(
    conditions: &Option<Conditions>,
    resource: &mut Option<Resource>,
    cache: &mut Vec<KeyValue>,
) -> Result<bool, ConsumeError> {
    let Some(c) = conditions else {
        return Ok(false);
    };
    let mut ctx = TransformContext {
        resource,
        scope: None,
        item: Item::None,
        cache,
    };
    c.any(&mut ctx)
}

/// `Vec::retain_mut` with a fallible predicate: the first error stops the filtering
/// (the items not yet looked at are kept) and is returned.
fn try_retain<T, E>(
    items: &mut Vec<T>,
    mut keep: impl FnMut(&mut T) -> Result<bool, E>,
) -> Result<(), E> {
    let mut result = Ok(());
    items.retain_mut(|item| {
        if result.is_err() {
            return true;
        }
        keep(item).unwrap_or_else(|e| {
            result = Err(e);
            true
        })
    });
    result
}

/// Keeps the data points whose flag in `keep` is true.
fn retain_points(metric: &mut Metric, keep: &[bool]) {
    fn retain<P>(points: &mut Vec<P>, keep: &[bool]) {
        let mut flags = keep.iter();
        points.retain(|_| flags.next().copied().unwrap_or(true));
    }
    match &mut metric.data {
        Some(Data::Gauge(g)) => retain(&mut g.data_points, keep),
        Some(Data::Sum(s)) => retain(&mut s.data_points, keep),
        Some(Data::Histogram(h)) => retain(&mut h.data_points, keep),
        Some(Data::ExponentialHistogram(h)) => retain(&mut h.data_points, keep),
        Some(Data::Summary(s)) => retain(&mut s.data_points, keep),
        None => {}
    }
}
