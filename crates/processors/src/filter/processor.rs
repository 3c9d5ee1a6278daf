//! Dropping spans, span events, metrics, data points and log records that match.

use tributary_ottl::context::data_point_len;
use tributary_ottl::infer::infer_context;
use tributary_ottl::{CompiledCondition, ContextKind, Item, TransformContext, compile_condition};
use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, metric::Data};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

use super::config::{Config, ErrorMode, condition_lists, legacy_matchers};
use super::encoded::{EncodedFilter, Projection, Records};
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

/// Whether any list has a matching condition.
fn any_of(lists: &[Conditions], ctx: &mut TransformContext<'_>) -> Result<bool, ConsumeError> {
    for list in lists {
        if list.any(ctx)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Everything a filter processor drops by, compiled once: per signal and context, the
/// condition lists (one per config list or group, each with its error mode).
#[derive(Default)]
pub(crate) struct Filters {
    trace_resource: Vec<Conditions>,
    trace_scope: Vec<Conditions>,
    span: Vec<Conditions>,
    spanevent: Vec<Conditions>,
    metric_resource: Vec<Conditions>,
    metric_scope: Vec<Conditions>,
    metric: Vec<Conditions>,
    datapoint: Vec<Conditions>,
    log_resource: Vec<Conditions>,
    log_scope: Vec<Conditions>,
    log: Vec<Conditions>,
    spans_legacy: Option<Matcher>,
    metrics_legacy: Option<Matcher>,
    logs_legacy: Option<Matcher>,
    /// What deciding on an encoded span or log record decodes of it.
    pub(super) span_projection: Projection,
    pub(super) log_projection: Projection,
}

/// The signals' context-inferred condition lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Filters {
    fn lists(&mut self, signal: Signal, context: ContextKind) -> &mut Vec<Conditions> {
        use ContextKind::*;
        match (signal, context) {
            (Signal::Traces, Resource) => &mut self.trace_resource,
            (Signal::Traces, Scope) => &mut self.trace_scope,
            (Signal::Traces, SpanEvent) => &mut self.spanevent,
            (Signal::Traces, _) => &mut self.span,
            (Signal::Metrics, Resource) => &mut self.metric_resource,
            (Signal::Metrics, Scope) => &mut self.metric_scope,
            (Signal::Metrics, DataPoint) => &mut self.datapoint,
            (Signal::Metrics, _) => &mut self.metric,
            (Signal::Logs, Resource) => &mut self.log_resource,
            (Signal::Logs, Scope) => &mut self.log_scope,
            (Signal::Logs, _) => &mut self.log,
        }
    }

    /// Compiles every condition and match block; errors name their config path.
    pub(crate) fn compile(config: &Config) -> Result<Filters, ConfigError> {
        let mut filters = Filters::default();
        let compile = |key: &str, texts: &[String], context, error_mode| {
            let list = texts
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    compile_condition(text, context)
                        .map_err(|e| ConfigError::at(format!("{key}::{i}"), e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            Ok::<_, ConfigError>(Conditions { list, error_mode })
        };
        for (key, texts, context) in condition_lists(config) {
            if texts.is_empty() {
                continue;
            }
            let signal = match key.split("::").next() {
                Some("traces") => Signal::Traces,
                Some("metrics") => Signal::Metrics,
                _ => Signal::Logs,
            };
            let conditions = compile(key, texts, context, config.error_mode)?;
            filters.lists(signal, context).push(conditions);
        }
        use ContextKind::*;
        for (key, groups, signal, allowed) in [
            (
                "trace_conditions",
                &config.trace_conditions,
                Signal::Traces,
                &[Resource, Scope, Span, SpanEvent][..],
            ),
            (
                "metric_conditions",
                &config.metric_conditions,
                Signal::Metrics,
                &[Resource, Scope, Metric, DataPoint][..],
            ),
            (
                "log_conditions",
                &config.log_conditions,
                Signal::Logs,
                &[Resource, Scope, Log][..],
            ),
        ] {
            for (index, group) in groups.0.iter().enumerate() {
                let path = format!("{key}::{index}");
                let context = if group.context.is_empty() {
                    let texts: Vec<&str> = group.conditions.iter().map(String::as_str).collect();
                    infer_context(&[], &texts, allowed)
                        .map_err(|e| ConfigError::at(path.clone(), e))?
                } else {
                    // Go reads the context case-insensitively.
                    let name = group.context.to_ascii_lowercase();
                    ContextKind::from_name(&name)
                        .filter(|k| allowed.contains(k))
                        .ok_or_else(|| {
                            ConfigError::at(
                                format!("{path}::context"),
                                format!(
                                    "unknown context {name:?} for {key}; expected one of: {}",
                                    allowed
                                        .iter()
                                        .map(|k| k.name())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            )
                        })?
                };
                let conditions = compile(
                    &format!("{path}::conditions"),
                    &group.conditions,
                    context,
                    group.error_mode.unwrap_or(config.error_mode),
                )?;
                filters.lists(signal, context).push(conditions);
            }
        }
        let legacy = legacy_matchers(config)?;
        filters.spans_legacy = legacy.spans;
        filters.metrics_legacy = legacy.metrics;
        filters.logs_legacy = legacy.logs;
        filters.span_projection = match filters.spans_legacy {
            Some(_) => Projection::whole(),
            None => Projection::spans(filters.span.iter().flat_map(|c| &c.list)),
        };
        filters.log_projection = match filters.logs_legacy {
            Some(_) => Projection::whole(),
            None => Projection::logs(filters.log.iter().flat_map(|c| &c.list)),
        };
        Ok(filters)
    }

    /// The resource condition lists of a signal.
    pub(super) fn resource_lists(&self, records: Records) -> &[Conditions] {
        match records {
            Records::Spans => &self.trace_resource,
            Records::Metrics => &self.metric_resource,
            Records::Logs => &self.log_resource,
        }
    }

    /// The scope condition lists of a signal.
    pub(super) fn scope_lists(&self, records: Records) -> &[Conditions] {
        match records {
            Records::Spans => &self.trace_scope,
            Records::Metrics => &self.metric_scope,
            Records::Logs => &self.log_scope,
        }
    }

    pub(crate) fn filters_traces(&self) -> bool {
        !(self.trace_resource.is_empty()
            && self.trace_scope.is_empty()
            && self.span.is_empty()
            && self.spanevent.is_empty())
            || self.spans_legacy.is_some()
    }

    pub(crate) fn filters_metrics(&self) -> bool {
        !(self.metric_resource.is_empty()
            && self.metric_scope.is_empty()
            && self.metric.is_empty()
            && self.datapoint.is_empty())
            || self.metrics_legacy.is_some()
    }

    pub(crate) fn filters_logs(&self) -> bool {
        !(self.log_resource.is_empty() && self.log_scope.is_empty() && self.log.is_empty())
            || self.logs_legacy.is_some()
    }

    /// Whether a span stays, by the legacy match and the span conditions (not its
    /// events).
    pub(super) fn keep_span(
        &self,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
        span: &mut Span,
        cache: &mut Vec<KeyValue>,
    ) -> Result<bool, ConsumeError> {
        if let Some(m) = &self.spans_legacy {
            let subject = Subject {
                resource: attributes(resource),
                scope: scope.as_ref(),
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
        if !self.span.is_empty() {
            let mut ctx = TransformContext {
                resource,
                scope: Some(scope),
                item: Item::Span(span),
                cache,
            };
            if any_of(&self.span, &mut ctx)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether a metric stays, by the legacy match and the metric conditions (not its
    /// data points).
    pub(super) fn keep_metric(
        &self,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
        metric: &mut Metric,
        cache: &mut Vec<KeyValue>,
    ) -> Result<bool, ConsumeError> {
        if let Some(m) = &self.metrics_legacy {
            // Go's legacy metric match reads the name and the resource only.
            let subject = Subject {
                resource: attributes(resource),
                scope: scope.as_ref(),
                attributes: &[],
                item: filterconfig::Item::DataPoint {
                    metric_name: &metric.name,
                },
            };
            if !m.selects(&subject) {
                return Ok(false);
            }
        }
        if !self.metric.is_empty() {
            let mut ctx = TransformContext {
                resource,
                scope: Some(scope),
                item: Item::Metric(metric),
                cache,
            };
            if any_of(&self.metric, &mut ctx)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether a log record stays.
    pub(super) fn keep_log(
        &self,
        resource: &mut Option<Resource>,
        scope: &mut Option<InstrumentationScope>,
        record: &mut LogRecord,
        cache: &mut Vec<KeyValue>,
    ) -> Result<bool, ConsumeError> {
        if let Some(m) = &self.logs_legacy {
            let subject = Subject {
                resource: attributes(resource),
                scope: scope.as_ref(),
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
        if !self.log.is_empty() {
            let mut ctx = TransformContext {
                resource,
                scope: Some(scope),
                item: Item::Log(record),
                cache,
            };
            if any_of(&self.log, &mut ctx)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Drops spans and span events; returns how many spans were dropped.
    pub(crate) fn traces(&self, traces: &mut Traces) -> Result<usize, ConsumeError> {
        // Span event conditions edit spans: those need the decoded request.
        if self.spanevent.is_empty()
            && let Some(dropped) =
                traces.retain_encoded(&mut EncodedFilter::new(self, Records::Spans))?
        {
            return Ok(dropped);
        }
        let before = traces.item_count();
        let mut cache = Vec::new();
        let request = traces.make_mut();
        try_retain(&mut request.resource_spans, |rs| {
            if drops_upper(&self.trace_resource, &mut rs.resource, None, &mut cache)? {
                return Ok(false);
            }
            try_retain(&mut rs.scope_spans, |ss| {
                if drops_upper(
                    &self.trace_scope,
                    &mut rs.resource,
                    Some(&mut ss.scope),
                    &mut cache,
                )? {
                    return Ok(false);
                }
                try_retain(&mut ss.spans, |span| {
                    if !self.keep_span(&mut rs.resource, &mut ss.scope, span, &mut cache)? {
                        return Ok(false);
                    }
                    if !self.spanevent.is_empty() {
                        let mut keep = Vec::with_capacity(span.events.len());
                        for i in 0..span.events.len() {
                            let mut ctx = TransformContext {
                                resource: &mut rs.resource,
                                scope: Some(&mut ss.scope),
                                item: Item::SpanEvent(span, i),
                                cache: &mut cache,
                            };
                            keep.push(!any_of(&self.spanevent, &mut ctx)?);
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
        // Data point conditions edit metrics: those need the decoded request.
        if self.datapoint.is_empty()
            && let Some(dropped) =
                metrics.retain_encoded(&mut EncodedFilter::new(self, Records::Metrics))?
        {
            return Ok(dropped);
        }
        let before = metrics.item_count();
        let mut cache = Vec::new();
        let request = metrics.make_mut();
        try_retain(&mut request.resource_metrics, |rm| {
            if drops_upper(&self.metric_resource, &mut rm.resource, None, &mut cache)? {
                return Ok(false);
            }
            try_retain(&mut rm.scope_metrics, |sm| {
                if drops_upper(
                    &self.metric_scope,
                    &mut rm.resource,
                    Some(&mut sm.scope),
                    &mut cache,
                )? {
                    return Ok(false);
                }
                try_retain(&mut sm.metrics, |metric| {
                    if !self.keep_metric(&mut rm.resource, &mut sm.scope, metric, &mut cache)? {
                        return Ok(false);
                    }
                    if !self.datapoint.is_empty() {
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
                            keep.push(!any_of(&self.datapoint, &mut ctx)?);
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
        if let Some(dropped) = logs.retain_encoded(&mut EncodedFilter::new(self, Records::Logs))? {
            return Ok(dropped);
        }
        let before = logs.item_count();
        let mut cache = Vec::new();
        let request = logs.make_mut();
        try_retain(&mut request.resource_logs, |rl| {
            if drops_upper(&self.log_resource, &mut rl.resource, None, &mut cache)? {
                return Ok(false);
            }
            try_retain(&mut rl.scope_logs, |sl| {
                if drops_upper(
                    &self.log_scope,
                    &mut rl.resource,
                    Some(&mut sl.scope),
                    &mut cache,
                )? {
                    return Ok(false);
                }
                try_retain(&mut sl.log_records, |record| {
                    self.keep_log(&mut rl.resource, &mut sl.scope, record, &mut cache)
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

/// Whether a resource (no scope) or a scope matches one of `lists`.
pub(super) fn drops_upper(
    lists: &[Conditions],
    resource: &mut Option<Resource>,
    scope: Option<&mut Option<InstrumentationScope>>,
    cache: &mut Vec<KeyValue>,
) -> Result<bool, ConsumeError> {
    if lists.is_empty() {
        return Ok(false);
    }
    let mut ctx = TransformContext {
        resource,
        scope,
        item: Item::None,
        cache,
    };
    any_of(lists, &mut ctx)
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
