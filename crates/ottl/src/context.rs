//! Contexts: where a statement runs (a resource, scope, span, span event, metric, data
//! point or log record) and the paths it may read and write there.
//!
//! Paths are resolved once, when the statement is compiled: an unknown path is a config
//! error, not a per-item one. A path may start with its context's name (`span.name`,
//! `resource.attributes["x"]`), as newer Go versions write them, or leave it out for the
//! statement's own context (`name`, `attributes["x"]`).

use tributary_pipeline_core::pdata::data_point::{DataPointMut, MetricExt};
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, metric};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{Span, Status};

use crate::value::{Value, hex, kvs_from_map, map_from_kvs};

/// The contexts of OTTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContextKind {
    /// A resource.
    Resource,
    /// An instrumentation scope.
    Scope,
    /// A span.
    Span,
    /// A span event.
    SpanEvent,
    /// A metric.
    Metric,
    /// A metric data point.
    DataPoint,
    /// A log record.
    Log,
}

impl ContextKind {
    /// The context of a name as written in config (`span`, `spanevent`, `datapoint`...).
    pub fn from_name(name: &str) -> Option<ContextKind> {
        Some(match name {
            "resource" => ContextKind::Resource,
            "scope" | "instrumentation_scope" => ContextKind::Scope,
            "span" => ContextKind::Span,
            "spanevent" => ContextKind::SpanEvent,
            "metric" => ContextKind::Metric,
            "datapoint" => ContextKind::DataPoint,
            "log" => ContextKind::Log,
            _ => return None,
        })
    }

    /// The name as written in config.
    pub fn name(self) -> &'static str {
        match self {
            ContextKind::Resource => "resource",
            ContextKind::Scope => "scope",
            ContextKind::Span => "span",
            ContextKind::SpanEvent => "spanevent",
            ContextKind::Metric => "metric",
            ContextKind::DataPoint => "datapoint",
            ContextKind::Log => "log",
        }
    }

    /// Whether a statement in this context can reach paths of `other`.
    pub fn reaches(self, other: ContextKind) -> bool {
        use ContextKind::*;
        let chain: &[ContextKind] = match self {
            Resource => &[Resource],
            Scope => &[Resource, Scope],
            Span => &[Resource, Scope, Span],
            SpanEvent => &[Resource, Scope, Span, SpanEvent],
            Metric => &[Resource, Scope, Metric],
            DataPoint => &[Resource, Scope, Metric, DataPoint],
            Log => &[Resource, Scope, Log],
        };
        chain.contains(&other)
    }

    /// How deep the context is: a statement group runs in the deepest context any of
    /// its paths needs.
    pub fn depth(self) -> u8 {
        match self {
            ContextKind::Resource => 0,
            ContextKind::Scope => 1,
            ContextKind::Span | ContextKind::Metric | ContextKind::Log => 2,
            ContextKind::SpanEvent | ContextKind::DataPoint => 3,
        }
    }
}

/// A field a path names, resolved at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Field {
    Cache,
    ResourceAttributes,
    ResourceDroppedAttributesCount,
    ScopeName,
    ScopeVersion,
    ScopeAttributes,
    ScopeDroppedAttributesCount,
    SpanTraceId,
    SpanTraceIdString,
    SpanSpanId,
    SpanSpanIdString,
    SpanParentSpanId,
    SpanParentSpanIdString,
    SpanTraceState,
    SpanName,
    SpanKind,
    SpanStartTimeUnixNano,
    SpanEndTimeUnixNano,
    SpanAttributes,
    SpanDroppedAttributesCount,
    SpanDroppedEventsCount,
    SpanDroppedLinksCount,
    SpanFlags,
    SpanStatusCode,
    SpanStatusMessage,
    EventName,
    EventTimeUnixNano,
    EventAttributes,
    EventDroppedAttributesCount,
    MetricName,
    MetricDescription,
    MetricUnit,
    MetricType,
    MetricAggregationTemporality,
    MetricIsMonotonic,
    DpAttributes,
    DpStartTimeUnixNano,
    DpTimeUnixNano,
    DpValueDouble,
    DpValueInt,
    DpFlags,
    DpCount,
    DpSum,
    LogTimeUnixNano,
    LogObservedTimeUnixNano,
    LogSeverityNumber,
    LogSeverityText,
    LogBody,
    LogAttributes,
    LogDroppedAttributesCount,
    LogFlags,
    LogTraceId,
    LogTraceIdString,
    LogSpanId,
    LogSpanIdString,
    LogEventName,
    SpanStartTime,
    SpanEndTime,
    EventTime,
    DpStartTime,
    DpTime,
    LogTime,
    LogObservedTime,
}

impl Field {
    /// The context the field lives in (`None` for the cache).
    pub fn context(self) -> Option<ContextKind> {
        use Field::*;
        Some(match self {
            Cache => return None,
            ResourceAttributes | ResourceDroppedAttributesCount => ContextKind::Resource,
            ScopeName | ScopeVersion | ScopeAttributes | ScopeDroppedAttributesCount => {
                ContextKind::Scope
            }
            EventName
            | EventTimeUnixNano
            | EventAttributes
            | EventDroppedAttributesCount
            | EventTime => ContextKind::SpanEvent,
            DpStartTime | DpTime => ContextKind::DataPoint,
            LogTime | LogObservedTime => ContextKind::Log,
            MetricName
            | MetricDescription
            | MetricUnit
            | MetricType
            | MetricAggregationTemporality
            | MetricIsMonotonic => ContextKind::Metric,
            DpAttributes | DpStartTimeUnixNano | DpTimeUnixNano | DpValueDouble | DpValueInt
            | DpFlags | DpCount | DpSum => ContextKind::DataPoint,
            LogTimeUnixNano
            | LogObservedTimeUnixNano
            | LogSeverityNumber
            | LogSeverityText
            | LogBody
            | LogAttributes
            | LogDroppedAttributesCount
            | LogFlags
            | LogTraceId
            | LogTraceIdString
            | LogSpanId
            | LogSpanIdString
            | LogEventName => ContextKind::Log,
            _ => ContextKind::Span,
        })
    }

    /// For a `time.Time` path, the `*_unix_nano` path it reads and writes.
    pub fn unix_nano_twin(self) -> Option<Field> {
        use Field::*;
        Some(match self {
            SpanStartTime => SpanStartTimeUnixNano,
            SpanEndTime => SpanEndTimeUnixNano,
            EventTime => EventTimeUnixNano,
            DpStartTime => DpStartTimeUnixNano,
            DpTime => DpTimeUnixNano,
            LogTime => LogTimeUnixNano,
            LogObservedTime => LogObservedTimeUnixNano,
            _ => return None,
        })
    }

    /// Whether the field accepts keys (`attributes["x"]`, `body["k"]`, `cache["k"]`).
    pub fn keyed(self) -> bool {
        use Field::*;
        matches!(
            self,
            Cache
                | ResourceAttributes
                | ScopeAttributes
                | SpanAttributes
                | EventAttributes
                | DpAttributes
                | LogAttributes
                | LogBody
        )
    }
}

/// Resolves a path's names in a context. `Err` says why the path is unknown.
pub fn resolve(kind: ContextKind, fields: &[String]) -> Result<Field, String> {
    let names: Vec<&str> = fields.iter().map(String::as_str).collect();
    // `cache`, or `<context>.cache` as newer Go versions write it.
    let own_cache = matches!(names.as_slice(), [context, "cache"] if ContextKind::from_name(context) == Some(kind));
    if names == ["cache"] || own_cache {
        return Ok(Field::Cache);
    }
    let (ctx, rest) = match names.split_first() {
        Some((first, rest)) => match ContextKind::from_name(first) {
            Some(named) if kind.reaches(named) && !rest.is_empty() => (named, rest),
            Some(named) if !rest.is_empty() => {
                return Err(format!(
                    "path {:?} names the {} context, which the {} context cannot reach",
                    fields.join("."),
                    named.name(),
                    kind.name()
                ));
            }
            _ => (kind, &names[..]),
        },
        None => return Err("empty path".into()),
    };
    use Field::*;
    let field = match (ctx, rest) {
        (ContextKind::Resource, ["attributes"]) => ResourceAttributes,
        (ContextKind::Resource, ["dropped_attributes_count"]) => ResourceDroppedAttributesCount,
        (ContextKind::Scope, ["name"]) => ScopeName,
        (ContextKind::Scope, ["version"]) => ScopeVersion,
        (ContextKind::Scope, ["attributes"]) => ScopeAttributes,
        (ContextKind::Scope, ["dropped_attributes_count"]) => ScopeDroppedAttributesCount,
        (ContextKind::Span, ["trace_id"]) => SpanTraceId,
        (ContextKind::Span, ["trace_id", "string"]) => SpanTraceIdString,
        (ContextKind::Span, ["span_id"]) => SpanSpanId,
        (ContextKind::Span, ["span_id", "string"]) => SpanSpanIdString,
        (ContextKind::Span, ["parent_span_id"]) => SpanParentSpanId,
        (ContextKind::Span, ["parent_span_id", "string"]) => SpanParentSpanIdString,
        (ContextKind::Span, ["trace_state"]) => SpanTraceState,
        (ContextKind::Span, ["name"]) => SpanName,
        (ContextKind::Span, ["kind"]) => SpanKind,
        (ContextKind::Span, ["start_time_unix_nano"]) => SpanStartTimeUnixNano,
        (ContextKind::Span, ["end_time_unix_nano"]) => SpanEndTimeUnixNano,
        (ContextKind::Span, ["start_time"]) => SpanStartTime,
        (ContextKind::Span, ["end_time"]) => SpanEndTime,
        (ContextKind::SpanEvent, ["time"]) => EventTime,
        (ContextKind::DataPoint, ["start_time"]) => DpStartTime,
        (ContextKind::DataPoint, ["time"]) => DpTime,
        (ContextKind::Log, ["time"]) => LogTime,
        (ContextKind::Log, ["observed_time"]) => LogObservedTime,
        (ContextKind::Span, ["attributes"]) => SpanAttributes,
        (ContextKind::Span, ["dropped_attributes_count"]) => SpanDroppedAttributesCount,
        (ContextKind::Span, ["dropped_events_count"]) => SpanDroppedEventsCount,
        (ContextKind::Span, ["dropped_links_count"]) => SpanDroppedLinksCount,
        (ContextKind::Span, ["flags"]) => SpanFlags,
        (ContextKind::Span, ["status", "code"]) => SpanStatusCode,
        (ContextKind::Span, ["status", "message"]) => SpanStatusMessage,
        (ContextKind::SpanEvent, ["name"]) => EventName,
        (ContextKind::SpanEvent, ["time_unix_nano"]) => EventTimeUnixNano,
        (ContextKind::SpanEvent, ["attributes"]) => EventAttributes,
        (ContextKind::SpanEvent, ["dropped_attributes_count"]) => EventDroppedAttributesCount,
        (ContextKind::Metric, ["name"]) => MetricName,
        (ContextKind::Metric, ["description"]) => MetricDescription,
        (ContextKind::Metric, ["unit"]) => MetricUnit,
        (ContextKind::Metric, ["type"]) => MetricType,
        (ContextKind::Metric, ["aggregation_temporality"]) => MetricAggregationTemporality,
        (ContextKind::Metric, ["is_monotonic"]) => MetricIsMonotonic,
        (ContextKind::DataPoint, ["attributes"]) => DpAttributes,
        (ContextKind::DataPoint, ["start_time_unix_nano"]) => DpStartTimeUnixNano,
        (ContextKind::DataPoint, ["time_unix_nano"]) => DpTimeUnixNano,
        (ContextKind::DataPoint, ["value_double"]) => DpValueDouble,
        (ContextKind::DataPoint, ["value_int"]) => DpValueInt,
        (ContextKind::DataPoint, ["flags"]) => DpFlags,
        (ContextKind::DataPoint, ["count"]) => DpCount,
        (ContextKind::DataPoint, ["sum"]) => DpSum,
        (ContextKind::Log, ["time_unix_nano"]) => LogTimeUnixNano,
        (ContextKind::Log, ["observed_time_unix_nano"]) => LogObservedTimeUnixNano,
        (ContextKind::Log, ["severity_number"]) => LogSeverityNumber,
        (ContextKind::Log, ["severity_text"]) => LogSeverityText,
        (ContextKind::Log, ["body"]) => LogBody,
        (ContextKind::Log, ["attributes"]) => LogAttributes,
        (ContextKind::Log, ["dropped_attributes_count"]) => LogDroppedAttributesCount,
        (ContextKind::Log, ["flags"]) => LogFlags,
        (ContextKind::Log, ["trace_id"]) => LogTraceId,
        (ContextKind::Log, ["trace_id", "string"]) => LogTraceIdString,
        (ContextKind::Log, ["span_id"]) => LogSpanId,
        (ContextKind::Log, ["span_id", "string"]) => LogSpanIdString,
        (ContextKind::Log, ["event_name"]) => LogEventName,
        _ => {
            return Err(format!(
                "path {:?} is not a path of the {} context",
                fields.join("."),
                ctx.name()
            ));
        }
    };
    Ok(field)
}

/// The item a statement runs on.
pub enum Item<'a> {
    /// Resource or scope statements: no item below.
    None,
    /// A span.
    Span(&'a mut Span),
    /// A span and the index of one of its events.
    SpanEvent(&'a mut Span, usize),
    /// A log record.
    Log(&'a mut LogRecord),
    /// A metric.
    Metric(&'a mut Metric),
    /// A metric of its scope's metric list, by index: the metric functions that add
    /// metrics (`extract_sum_metric`, `copy_metric`, ...) append to the list.
    MetricIn(&'a mut Vec<Metric>, usize),
    /// A metric and the index of one of its data points.
    DataPoint(&'a mut Metric, usize),
}

/// One item with its resource and scope: what statements read and write.
pub struct TransformContext<'a> {
    /// The resource.
    pub resource: &'a mut Option<Resource>,
    /// The scope (None for resource statements).
    pub scope: Option<&'a mut Option<InstrumentationScope>>,
    /// The item.
    pub item: Item<'a>,
    /// The per-item `cache` map, cleared before each item.
    pub cache: &'a mut Vec<KeyValue>,
}

/// A key of a path, evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyVal {
    /// A map key.
    Str(String),
    /// A list index.
    Int(i64),
}

fn missing(what: &str) -> String {
    format!("the {what} is not available in this context")
}

impl TransformContext<'_> {
    fn span(&self) -> Result<&Span, String> {
        match &self.item {
            Item::Span(s) | Item::SpanEvent(s, _) => Ok(s),
            _ => Err(missing("span")),
        }
    }
    pub(crate) fn span_mut(&mut self) -> Result<&mut Span, String> {
        match &mut self.item {
            Item::Span(s) | Item::SpanEvent(s, _) => Ok(s),
            _ => Err(missing("span")),
        }
    }
    fn log(&self) -> Result<&LogRecord, String> {
        match &self.item {
            Item::Log(l) => Ok(l),
            _ => Err(missing("log record")),
        }
    }
    fn log_mut(&mut self) -> Result<&mut LogRecord, String> {
        match &mut self.item {
            Item::Log(l) => Ok(l),
            _ => Err(missing("log record")),
        }
    }
    fn metric(&self) -> Result<&Metric, String> {
        match &self.item {
            Item::Metric(m) | Item::DataPoint(m, _) => Ok(m),
            Item::MetricIn(list, i) => list.get(*i).ok_or_else(|| missing("metric")),
            _ => Err(missing("metric")),
        }
    }
    pub(crate) fn metric_mut(&mut self) -> Result<&mut Metric, String> {
        match &mut self.item {
            Item::Metric(m) | Item::DataPoint(m, _) => Ok(m),
            Item::MetricIn(list, i) => list.get_mut(*i).ok_or_else(|| missing("metric")),
            _ => Err(missing("metric")),
        }
    }
    fn scope_mut(&mut self) -> Result<&mut InstrumentationScope, String> {
        match &mut self.scope {
            Some(s) => Ok(s.get_or_insert_with(Default::default)),
            None => Err(missing("scope")),
        }
    }
    fn scope(&self) -> Option<&InstrumentationScope> {
        self.scope.as_ref().and_then(|s| s.as_ref())
    }

    /// The attribute list (or map) a map field names, for editors that change maps.
    pub fn map_mut(&mut self, field: Field) -> Result<&mut Vec<KeyValue>, String> {
        use Field::*;
        Ok(match field {
            Cache => self.cache,
            ResourceAttributes => {
                &mut self
                    .resource
                    .get_or_insert_with(Default::default)
                    .attributes
            }
            ScopeAttributes => &mut self.scope_mut()?.attributes,
            SpanAttributes => &mut self.span_mut()?.attributes,
            EventAttributes => match &mut self.item {
                Item::SpanEvent(s, i) => &mut s.events[*i].attributes,
                _ => return Err(missing("span event")),
            },
            LogAttributes => &mut self.log_mut()?.attributes,
            DpAttributes => match &mut self.item {
                Item::DataPoint(m, i) => {
                    dp_attributes_mut(m, *i).ok_or_else(|| missing("data point"))?
                }
                _ => return Err(missing("data point")),
            },
            LogBody => {
                let body = self.log_mut()?.body.get_or_insert_with(Default::default);
                if !matches!(body.value, Some(any_value::Value::KvlistValue(_))) {
                    return Err("the body is not a map".into());
                }
                match &mut body.value {
                    Some(any_value::Value::KvlistValue(kv)) => &mut kv.values,
                    _ => unreachable!("checked just above"),
                }
            }
            _ => return Err("the path is not a map".into()),
        })
    }

    fn map_ref(&self, field: Field) -> Result<Option<&Vec<KeyValue>>, String> {
        use Field::*;
        Ok(match field {
            Cache => Some(self.cache),
            ResourceAttributes => self.resource.as_ref().map(|r| &r.attributes),
            ScopeAttributes => self.scope().map(|s| &s.attributes),
            SpanAttributes => Some(&self.span()?.attributes),
            EventAttributes => match &self.item {
                Item::SpanEvent(s, i) => Some(&s.events[*i].attributes),
                _ => return Err(missing("span event")),
            },
            LogAttributes => Some(&self.log()?.attributes),
            DpAttributes => match &self.item {
                Item::DataPoint(m, i) => dp_attributes(m, *i),
                _ => return Err(missing("data point")),
            },
            _ => return Err("the path is not a map".into()),
        })
    }

    /// Reads a path.
    pub fn get(&self, field: Field, keys: &[KeyVal]) -> Result<Value, String> {
        use Field::*;
        if let Some(nanos) = field.unix_nano_twin() {
            return match self.get(nanos, keys)? {
                Value::Int(n) => Ok(Value::Time(n)),
                other => Ok(other),
            };
        }
        if field == LogBody {
            let body = self.log()?.body.as_ref();
            return Ok(match body {
                None if keys.is_empty() => Value::Nil,
                None => Value::Nil,
                Some(any) => get_keyed(any, keys)?.map_or(Value::Nil, Value::from_any),
            });
        }
        if field.keyed() {
            let map = self.map_ref(field)?;
            let Some(map) = map else {
                return Ok(Value::Nil);
            };
            return match keys.split_first() {
                None => Ok(Value::Map(map_from_kvs(map))),
                Some((KeyVal::Str(k), rest)) => Ok(map
                    .iter()
                    .find(|kv| &kv.key == k)
                    .and_then(|kv| kv.value.as_ref())
                    .map(|any| get_keyed(any, rest))
                    .transpose()?
                    .flatten()
                    .map_or(Value::Nil, Value::from_any)),
                Some((KeyVal::Int(_), _)) => Err("a map is indexed by a string key".into()),
            };
        }
        if let (SpanTraceState, [KeyVal::Str(key)]) = (field, keys) {
            return Ok(trace_state_get(&self.span()?.trace_state, key)
                .map_or(Value::Nil, |v| Value::Str(v.to_string())));
        }
        if !keys.is_empty() {
            return Err("the path takes no keys".into());
        }
        let res = || self.resource.as_ref();
        Ok(match field {
            ResourceDroppedAttributesCount => {
                Value::Int(res().map_or(0, |r| r.dropped_attributes_count) as i64)
            }
            ScopeName => Value::Str(self.scope().map_or(String::new(), |s| s.name.clone())),
            ScopeVersion => Value::Str(self.scope().map_or(String::new(), |s| s.version.clone())),
            ScopeDroppedAttributesCount => {
                Value::Int(self.scope().map_or(0, |s| s.dropped_attributes_count) as i64)
            }
            SpanTraceId => Value::Bytes(self.span()?.trace_id.clone()),
            SpanTraceIdString => Value::Str(hex(&self.span()?.trace_id)),
            SpanSpanId => Value::Bytes(self.span()?.span_id.clone()),
            SpanSpanIdString => Value::Str(hex(&self.span()?.span_id)),
            SpanParentSpanId => Value::Bytes(self.span()?.parent_span_id.clone()),
            SpanParentSpanIdString => Value::Str(hex(&self.span()?.parent_span_id)),
            SpanTraceState => Value::Str(self.span()?.trace_state.clone()),
            SpanName => Value::Str(self.span()?.name.clone()),
            SpanKind => Value::Int(self.span()?.kind as i64),
            SpanStartTimeUnixNano => Value::Int(self.span()?.start_time_unix_nano as i64),
            SpanEndTimeUnixNano => Value::Int(self.span()?.end_time_unix_nano as i64),
            SpanDroppedAttributesCount => Value::Int(self.span()?.dropped_attributes_count as i64),
            SpanDroppedEventsCount => Value::Int(self.span()?.dropped_events_count as i64),
            SpanDroppedLinksCount => Value::Int(self.span()?.dropped_links_count as i64),
            SpanFlags => Value::Int(self.span()?.flags as i64),
            SpanStatusCode => Value::Int(self.span()?.status.as_ref().map_or(0, |s| s.code) as i64),
            SpanStatusMessage => Value::Str(
                self.span()?
                    .status
                    .as_ref()
                    .map_or(String::new(), |s| s.message.clone()),
            ),
            EventName | EventTimeUnixNano | EventDroppedAttributesCount => {
                let Item::SpanEvent(s, i) = &self.item else {
                    return Err(missing("span event"));
                };
                let e = &s.events[*i];
                match field {
                    EventName => Value::Str(e.name.clone()),
                    EventTimeUnixNano => Value::Int(e.time_unix_nano as i64),
                    _ => Value::Int(e.dropped_attributes_count as i64),
                }
            }
            MetricName => Value::Str(self.metric()?.name.clone()),
            MetricDescription => Value::Str(self.metric()?.description.clone()),
            MetricUnit => Value::Str(self.metric()?.unit.clone()),
            MetricType => Value::Int(metric_type(self.metric()?)),
            MetricAggregationTemporality => Value::Int(match &self.metric()?.data {
                Some(metric::Data::Sum(s)) => s.aggregation_temporality as i64,
                Some(metric::Data::Histogram(h)) => h.aggregation_temporality as i64,
                Some(metric::Data::ExponentialHistogram(h)) => h.aggregation_temporality as i64,
                _ => 0,
            }),
            MetricIsMonotonic => Value::Bool(
                matches!(&self.metric()?.data, Some(metric::Data::Sum(s)) if s.is_monotonic),
            ),
            DpStartTimeUnixNano | DpTimeUnixNano | DpValueDouble | DpValueInt | DpFlags
            | DpCount | DpSum => {
                let Item::DataPoint(m, i) = &self.item else {
                    return Err(missing("data point"));
                };
                dp_get(m, *i, field)?
            }
            LogTimeUnixNano => Value::Int(self.log()?.time_unix_nano as i64),
            LogObservedTimeUnixNano => Value::Int(self.log()?.observed_time_unix_nano as i64),
            LogSeverityNumber => Value::Int(self.log()?.severity_number as i64),
            LogSeverityText => Value::Str(self.log()?.severity_text.clone()),
            LogDroppedAttributesCount => Value::Int(self.log()?.dropped_attributes_count as i64),
            LogFlags => Value::Int(self.log()?.flags as i64),
            LogTraceId => Value::Bytes(self.log()?.trace_id.clone()),
            LogTraceIdString => Value::Str(hex(&self.log()?.trace_id)),
            LogSpanId => Value::Bytes(self.log()?.span_id.clone()),
            LogSpanIdString => Value::Str(hex(&self.log()?.span_id)),
            LogEventName => Value::Str(self.log()?.event_name.clone()),
            _ => unreachable!("keyed fields are handled above"),
        })
    }

    /// Reads a path for a comparison without copying strings or bytes: conditions run
    /// on every item, and most compare an attribute or a name with a literal.
    pub fn get_ref(&self, field: Field, keys: &[KeyVal]) -> Result<Scalar<'_>, String> {
        use Field::*;
        if field == LogBody {
            return Ok(match self.log()?.body.as_ref() {
                None => Scalar::Nil,
                Some(any) => get_keyed(any, keys)?.map_or(Scalar::Nil, Scalar::from_any),
            });
        }
        if field.keyed() && !keys.is_empty() {
            let Some(map) = self.map_ref(field)? else {
                return Ok(Scalar::Nil);
            };
            return match keys.split_first() {
                Some((KeyVal::Str(k), rest)) => Ok(
                    match map
                        .iter()
                        .find(|kv| &kv.key == k)
                        .and_then(|kv| kv.value.as_ref())
                    {
                        None => Scalar::Nil,
                        Some(any) => get_keyed(any, rest)?.map_or(Scalar::Nil, Scalar::from_any),
                    },
                ),
                _ => Err("a map is indexed by a string key".into()),
            };
        }
        if let (SpanTraceState, [KeyVal::Str(key)]) = (field, keys) {
            return Ok(
                trace_state_get(&self.span()?.trace_state, key).map_or(Scalar::Nil, Scalar::Str)
            );
        }
        Ok(match field {
            ScopeName => Scalar::Str(self.scope().map_or("", |s| s.name.as_str())),
            ScopeVersion => Scalar::Str(self.scope().map_or("", |s| s.version.as_str())),
            SpanName => Scalar::Str(&self.span()?.name),
            SpanTraceState => Scalar::Str(&self.span()?.trace_state),
            SpanStatusMessage => Scalar::Str(
                self.span()?
                    .status
                    .as_ref()
                    .map_or("", |s| s.message.as_str()),
            ),
            SpanTraceId => Scalar::Bytes(&self.span()?.trace_id),
            SpanSpanId => Scalar::Bytes(&self.span()?.span_id),
            SpanParentSpanId => Scalar::Bytes(&self.span()?.parent_span_id),
            EventName => match &self.item {
                Item::SpanEvent(s, i) => Scalar::Str(&s.events[*i].name),
                _ => return Err(missing("span event")),
            },
            MetricName => Scalar::Str(&self.metric()?.name),
            MetricDescription => Scalar::Str(&self.metric()?.description),
            MetricUnit => Scalar::Str(&self.metric()?.unit),
            LogSeverityText => Scalar::Str(&self.log()?.severity_text),
            LogEventName => Scalar::Str(&self.log()?.event_name),
            LogTraceId => Scalar::Bytes(&self.log()?.trace_id),
            LogSpanId => Scalar::Bytes(&self.log()?.span_id),
            _ => Scalar::from_value(self.get(field, keys)?),
        })
    }

    /// Writes a path. Go's `set` never writes `nil`; callers skip it.
    pub fn set(&mut self, field: Field, keys: &[KeyVal], value: Value) -> Result<(), String> {
        use Field::*;
        if let Some(nanos) = field.unix_nano_twin() {
            return match value {
                Value::Time(t) => self.set(nanos, keys, Value::Int(t)),
                other => Err(format!("expected a time.Time, got a {}", other.type_name())),
            };
        }
        if field == LogBody {
            let body = self.log_mut()?.body.get_or_insert_with(Default::default);
            *set_keyed(body, keys)? = value.to_any();
            return Ok(());
        }
        if field.keyed() {
            let map = self.map_mut(field)?;
            return match keys.split_first() {
                None => match value {
                    Value::Map(m) => {
                        *map = kvs_from_map(&m);
                        Ok(())
                    }
                    other => Err(format!(
                        "a map path cannot be set to a {}",
                        other.type_name()
                    )),
                },
                Some((KeyVal::Str(k), rest)) => {
                    let any = match map.iter().position(|kv| &kv.key == k) {
                        Some(i) => map[i].value.get_or_insert_with(Default::default),
                        None => {
                            map.push(KeyValue {
                                key: k.clone(),
                                value: Some(AnyValue::default()),
                                ..Default::default()
                            });
                            map.last_mut()
                                .and_then(|kv| kv.value.as_mut())
                                .expect("just pushed")
                        }
                    };
                    *set_keyed(any, rest)? = value.to_any();
                    Ok(())
                }
                Some((KeyVal::Int(_), _)) => Err("a map is indexed by a string key".into()),
            };
        }
        if let (SpanTraceState, [KeyVal::Str(key)]) = (field, keys) {
            let Value::Str(value) = value else {
                return Err(format!(
                    "a trace_state member is a string, not a {}",
                    value.type_name()
                ));
            };
            let span = self.span_mut()?;
            span.trace_state = trace_state_insert(&span.trace_state, key, &value)?;
            return Ok(());
        }
        if !keys.is_empty() {
            return Err("the path takes no keys".into());
        }
        let int = |v: &Value| match v {
            Value::Int(i) => Ok(*i),
            other => Err(format!("expected an int64, got a {}", other.type_name())),
        };
        let string = |v: Value| match v {
            Value::Str(s) => Ok(s),
            other => Err(format!("expected a string, got a {}", other.type_name())),
        };
        let id = |v: Value, len: usize| match v {
            Value::Bytes(b) if b.len() == len => Ok(b),
            other => Err(format!("expected {len} bytes, got a {}", other.type_name())),
        };
        let hex_id = |v: Value, len: usize| -> Result<Vec<u8>, String> {
            let s = string(v)?;
            let b = decode_hex(&s).ok_or_else(|| format!("{s:?} is not hex"))?;
            if b.len() != len {
                return Err(format!("{s:?} is not {len} bytes"));
            }
            Ok(b)
        };
        match field {
            ResourceDroppedAttributesCount => {
                self.resource
                    .get_or_insert_with(Default::default)
                    .dropped_attributes_count = int(&value)? as u32
            }
            ScopeName => self.scope_mut()?.name = string(value)?,
            ScopeVersion => self.scope_mut()?.version = string(value)?,
            ScopeDroppedAttributesCount => {
                self.scope_mut()?.dropped_attributes_count = int(&value)? as u32
            }
            SpanTraceId => self.span_mut()?.trace_id = id(value, 16)?,
            SpanTraceIdString => self.span_mut()?.trace_id = hex_id(value, 16)?,
            SpanSpanId => self.span_mut()?.span_id = id(value, 8)?,
            SpanSpanIdString => self.span_mut()?.span_id = hex_id(value, 8)?,
            SpanParentSpanId => self.span_mut()?.parent_span_id = id(value, 8)?,
            SpanParentSpanIdString => self.span_mut()?.parent_span_id = hex_id(value, 8)?,
            SpanTraceState => self.span_mut()?.trace_state = string(value)?,
            SpanName => self.span_mut()?.name = string(value)?,
            SpanKind => self.span_mut()?.kind = int(&value)? as i32,
            SpanStartTimeUnixNano => self.span_mut()?.start_time_unix_nano = int(&value)? as u64,
            SpanEndTimeUnixNano => self.span_mut()?.end_time_unix_nano = int(&value)? as u64,
            SpanDroppedAttributesCount => {
                self.span_mut()?.dropped_attributes_count = int(&value)? as u32
            }
            SpanDroppedEventsCount => self.span_mut()?.dropped_events_count = int(&value)? as u32,
            SpanDroppedLinksCount => self.span_mut()?.dropped_links_count = int(&value)? as u32,
            SpanFlags => self.span_mut()?.flags = int(&value)? as u32,
            SpanStatusCode => {
                self.span_mut()?
                    .status
                    .get_or_insert_with(Status::default)
                    .code = int(&value)? as i32
            }
            SpanStatusMessage => {
                self.span_mut()?
                    .status
                    .get_or_insert_with(Status::default)
                    .message = string(value)?
            }
            EventName | EventTimeUnixNano | EventDroppedAttributesCount => {
                let Item::SpanEvent(s, i) = &mut self.item else {
                    return Err(missing("span event"));
                };
                let e = &mut s.events[*i];
                match field {
                    EventName => e.name = string(value)?,
                    EventTimeUnixNano => e.time_unix_nano = int(&value)? as u64,
                    _ => e.dropped_attributes_count = int(&value)? as u32,
                }
            }
            MetricName => self.metric_mut()?.name = string(value)?,
            MetricDescription => self.metric_mut()?.description = string(value)?,
            MetricUnit => self.metric_mut()?.unit = string(value)?,
            MetricType => {
                return Err("the metric type cannot be set; use convert_* functions".into());
            }
            MetricAggregationTemporality => {
                let t = int(&value)? as i32;
                match &mut self.metric_mut()?.data {
                    Some(metric::Data::Sum(s)) => s.aggregation_temporality = t,
                    Some(metric::Data::Histogram(h)) => h.aggregation_temporality = t,
                    Some(metric::Data::ExponentialHistogram(h)) => h.aggregation_temporality = t,
                    _ => {}
                }
            }
            MetricIsMonotonic => {
                let Value::Bool(b) = value else {
                    return Err("expected a bool".into());
                };
                if let Some(metric::Data::Sum(s)) = &mut self.metric_mut()?.data {
                    s.is_monotonic = b;
                }
            }
            DpStartTimeUnixNano | DpTimeUnixNano | DpValueDouble | DpValueInt | DpFlags
            | DpCount | DpSum => {
                let Item::DataPoint(m, i) = &mut self.item else {
                    return Err(missing("data point"));
                };
                dp_set(m, *i, field, value)?
            }
            LogTimeUnixNano => self.log_mut()?.time_unix_nano = int(&value)? as u64,
            LogObservedTimeUnixNano => {
                self.log_mut()?.observed_time_unix_nano = int(&value)? as u64
            }
            LogSeverityNumber => self.log_mut()?.severity_number = int(&value)? as i32,
            LogSeverityText => self.log_mut()?.severity_text = string(value)?,
            LogDroppedAttributesCount => {
                self.log_mut()?.dropped_attributes_count = int(&value)? as u32
            }
            LogFlags => self.log_mut()?.flags = int(&value)? as u32,
            LogTraceId => self.log_mut()?.trace_id = id(value, 16)?,
            LogTraceIdString => self.log_mut()?.trace_id = hex_id(value, 16)?,
            LogSpanId => self.log_mut()?.span_id = id(value, 8)?,
            LogSpanIdString => self.log_mut()?.span_id = hex_id(value, 8)?,
            LogEventName => self.log_mut()?.event_name = string(value)?,
            _ => unreachable!("keyed fields are handled above"),
        }
        Ok(())
    }

    /// Whether any data point of the metric has attribute `key` (with the string value
    /// `expected`, if given), for the filter processor's `HasAttrKeyOnDatapoint` and
    /// `HasAttrOnDatapoint`. Go answers from the first point that has the key; this
    /// looks at every point.
    pub fn any_data_point_attribute(
        &self,
        key: &str,
        expected: Option<&str>,
    ) -> Result<bool, String> {
        let m = self.metric()?;
        if m.data.is_none() {
            return Err("unknown metric type".into());
        }
        Ok((0..data_point_len(m)).any(|i| {
            dp_attributes(m, i)
                .and_then(|attrs| attrs.iter().find(|kv| kv.key == key))
                .is_some_and(|kv| match expected {
                    None => true,
                    Some(want) => matches!(
                        kv.value.as_ref().and_then(|v| v.value.as_ref()),
                        Some(any_value::Value::StringValue(s)) if s == want
                    ),
                })
        }))
    }

    /// Whether the span is a root span (no parent), for `IsRootSpan()`.
    pub fn is_root_span(&self) -> Result<bool, String> {
        Ok(self.span()?.parent_span_id.is_empty())
    }
}

/// A value read for a comparison, borrowing strings and bytes from the item.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// Absent.
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A borrowed string.
    Str(&'a str),
    /// Borrowed bytes.
    Bytes(&'a [u8]),
    /// A time, in Unix nanoseconds.
    Time(i64),
    /// A duration, in nanoseconds.
    Duration(i64),
    /// A map or list (or an owned string from a computed value).
    Owned(Value),
}

impl<'a> Scalar<'a> {
    /// A scalar view of an `AnyValue`; maps and lists are copied.
    pub fn from_any(any: &'a AnyValue) -> Scalar<'a> {
        use any_value::Value as V;
        match &any.value {
            None | Some(V::StringValueStrindex(_)) => Scalar::Nil,
            Some(V::BoolValue(b)) => Scalar::Bool(*b),
            Some(V::IntValue(i)) => Scalar::Int(*i),
            Some(V::DoubleValue(f)) => Scalar::Float(*f),
            Some(V::StringValue(s)) => Scalar::Str(s),
            Some(V::BytesValue(b)) => Scalar::Bytes(b),
            Some(_) => Scalar::Owned(Value::from_any(any)),
        }
    }

    /// A scalar view of a value.
    pub fn of(value: &'a Value) -> Scalar<'a> {
        match value {
            Value::Nil => Scalar::Nil,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Int(i) => Scalar::Int(*i),
            Value::Float(f) => Scalar::Float(*f),
            Value::Str(s) => Scalar::Str(s),
            Value::Bytes(b) => Scalar::Bytes(b),
            Value::Time(t) => Scalar::Time(*t),
            Value::Duration(d) => Scalar::Duration(*d),
            other => Scalar::Owned(other.clone()),
        }
    }

    fn from_value(value: Value) -> Scalar<'static> {
        match value {
            Value::Nil => Scalar::Nil,
            Value::Bool(b) => Scalar::Bool(b),
            Value::Int(i) => Scalar::Int(i),
            Value::Float(f) => Scalar::Float(f),
            Value::Time(t) => Scalar::Time(t),
            Value::Duration(d) => Scalar::Duration(d),
            other => Scalar::Owned(other),
        }
    }
}

fn get_keyed<'v>(any: &'v AnyValue, keys: &[KeyVal]) -> Result<Option<&'v AnyValue>, String> {
    let mut cur = any;
    for key in keys {
        let next = match (&cur.value, key) {
            (Some(any_value::Value::KvlistValue(kv)), KeyVal::Str(k)) => kv
                .values
                .iter()
                .find(|e| &e.key == k)
                .and_then(|e| e.value.as_ref()),
            (Some(any_value::Value::ArrayValue(a)), KeyVal::Int(i)) => {
                if *i < 0 || *i as usize >= a.values.len() {
                    return Err(format!("index {i} out of bounds"));
                }
                a.values.get(*i as usize)
            }
            (None, _) => None,
            _ => return Err(format!("cannot index a value with {key:?}")),
        };
        match next {
            Some(n) => cur = n,
            None => return Ok(None),
        }
    }
    Ok(Some(cur))
}

fn set_keyed<'v>(any: &'v mut AnyValue, keys: &[KeyVal]) -> Result<&'v mut AnyValue, String> {
    let mut cur = any;
    for key in keys {
        if cur.value.is_none() {
            // An absent intermediate value becomes a map, as in Go.
            cur.value = Some(any_value::Value::KvlistValue(KeyValueList::default()));
        }
        cur = match (&mut cur.value, key) {
            (Some(any_value::Value::KvlistValue(kv)), KeyVal::Str(k)) => {
                match kv.values.iter().position(|e| &e.key == k) {
                    Some(i) => kv.values[i].value.get_or_insert_with(Default::default),
                    None => {
                        kv.values.push(KeyValue {
                            key: k.clone(),
                            value: Some(AnyValue::default()),
                            ..Default::default()
                        });
                        kv.values
                            .last_mut()
                            .and_then(|e| e.value.as_mut())
                            .expect("just pushed")
                    }
                }
            }
            (Some(any_value::Value::ArrayValue(a)), KeyVal::Int(i)) => {
                let len = a.values.len();
                a.values
                    .get_mut(usize::try_from(*i).unwrap_or(usize::MAX))
                    .ok_or_else(|| format!("index {i} out of bounds (length {len})"))?
            }
            _ => return Err(format!("cannot index a value with {key:?}")),
        };
    }
    Ok(cur)
}

/// The value of `key` in a W3C `tracestate` (`k1=v1,k2=v2`).
fn trace_state_get<'s>(state: &'s str, key: &str) -> Option<&'s str> {
    state
        .split(',')
        .filter_map(|member| member.trim().split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// `state` with `key` set to `value`, first, as the W3C rules place an updated member
/// (and Go's `TraceState.Insert` does).
fn trace_state_insert(state: &str, key: &str, value: &str) -> Result<String, String> {
    let bad = |c: char| c == ',' || c == '=' || c.is_whitespace() || !c.is_ascii();
    if key.is_empty() || key.contains(bad) || value.is_empty() || value.contains([',', '=']) {
        return Err(format!(
            "{key:?}={value:?} is not a valid trace_state member"
        ));
    }
    let mut out = format!("{key}={value}");
    for member in state.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        if member.split_once('=').is_some_and(|(k, _)| k == key) {
            continue;
        }
        out.push(',');
        out.push_str(member);
    }
    Ok(out)
}

/// Bytes from hex (either case).
pub fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn metric_type(m: &Metric) -> i64 {
    match &m.data {
        None => 0,
        Some(metric::Data::Gauge(_)) => 1,
        Some(metric::Data::Sum(_)) => 2,
        Some(metric::Data::Histogram(_)) => 3,
        Some(metric::Data::ExponentialHistogram(_)) => 4,
        Some(metric::Data::Summary(_)) => 5,
    }
}

fn dp_attributes(m: &Metric, i: usize) -> Option<&Vec<KeyValue>> {
    Some(match m.data.as_ref()? {
        metric::Data::Gauge(g) => &g.data_points.get(i)?.attributes,
        metric::Data::Sum(s) => &s.data_points.get(i)?.attributes,
        metric::Data::Histogram(h) => &h.data_points.get(i)?.attributes,
        metric::Data::ExponentialHistogram(h) => &h.data_points.get(i)?.attributes,
        metric::Data::Summary(s) => &s.data_points.get(i)?.attributes,
    })
}

fn dp_attributes_mut(m: &mut Metric, i: usize) -> Option<&mut Vec<KeyValue>> {
    Some(match m.data.as_mut()? {
        metric::Data::Gauge(g) => &mut g.data_points.get_mut(i)?.attributes,
        metric::Data::Sum(s) => &mut s.data_points.get_mut(i)?.attributes,
        metric::Data::Histogram(h) => &mut h.data_points.get_mut(i)?.attributes,
        metric::Data::ExponentialHistogram(h) => &mut h.data_points.get_mut(i)?.attributes,
        metric::Data::Summary(s) => &mut s.data_points.get_mut(i)?.attributes,
    })
}

/// How many data points a metric has.
pub fn data_point_len(m: &Metric) -> usize {
    match &m.data {
        None => 0,
        Some(metric::Data::Gauge(g)) => g.data_points.len(),
        Some(metric::Data::Sum(s)) => s.data_points.len(),
        Some(metric::Data::Histogram(h)) => h.data_points.len(),
        Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
        Some(metric::Data::Summary(s)) => s.data_points.len(),
    }
}

fn dp_get(m: &Metric, i: usize, field: Field) -> Result<Value, String> {
    use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value as N;
    let gone = || missing("data point");
    let number =
        |dp: &tributary_pipeline_core::pdata::proto::metrics::v1::NumberDataPoint| match field {
            Field::DpStartTimeUnixNano => Ok(Value::Int(dp.start_time_unix_nano as i64)),
            Field::DpTimeUnixNano => Ok(Value::Int(dp.time_unix_nano as i64)),
            Field::DpFlags => Ok(Value::Int(dp.flags as i64)),
            Field::DpValueDouble => Ok(Value::Float(match dp.value {
                Some(N::AsDouble(d)) => d,
                _ => 0.0,
            })),
            Field::DpValueInt => Ok(Value::Int(match dp.value {
                Some(N::AsInt(v)) => v,
                _ => 0,
            })),
            _ => Err("a number data point has no count or sum".to_string()),
        };
    match m.data.as_ref().ok_or_else(gone)? {
        metric::Data::Gauge(g) => number(g.data_points.get(i).ok_or_else(gone)?),
        metric::Data::Sum(s) => number(s.data_points.get(i).ok_or_else(gone)?),
        metric::Data::Histogram(h) => {
            let dp = h.data_points.get(i).ok_or_else(gone)?;
            hist_field(
                field,
                dp.start_time_unix_nano,
                dp.time_unix_nano,
                dp.flags,
                dp.count,
                dp.sum,
            )
        }
        metric::Data::ExponentialHistogram(h) => {
            let dp = h.data_points.get(i).ok_or_else(gone)?;
            hist_field(
                field,
                dp.start_time_unix_nano,
                dp.time_unix_nano,
                dp.flags,
                dp.count,
                dp.sum,
            )
        }
        metric::Data::Summary(s) => {
            let dp = s.data_points.get(i).ok_or_else(gone)?;
            hist_field(
                field,
                dp.start_time_unix_nano,
                dp.time_unix_nano,
                dp.flags,
                dp.count,
                Some(dp.sum),
            )
        }
    }
}

fn hist_field(
    field: Field,
    start: u64,
    time: u64,
    flags: u32,
    count: u64,
    sum: Option<f64>,
) -> Result<Value, String> {
    Ok(match field {
        Field::DpStartTimeUnixNano => Value::Int(start as i64),
        Field::DpTimeUnixNano => Value::Int(time as i64),
        Field::DpFlags => Value::Int(flags as i64),
        Field::DpCount => Value::Int(count as i64),
        Field::DpSum => Value::Float(sum.unwrap_or(0.0)),
        _ => return Err("this data point has no value_int or value_double".into()),
    })
}

fn dp_set(m: &mut Metric, i: usize, field: Field, value: Value) -> Result<(), String> {
    use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value as N;
    let int = match value {
        Value::Int(v) => Some(v),
        _ => None,
    };
    let float = match value {
        Value::Float(v) => Some(v),
        _ => None,
    };
    let need_int = || int.ok_or_else(|| format!("expected an int64, got a {}", value.type_name()));
    let need_float =
        || float.ok_or_else(|| format!("expected a float64, got a {}", value.type_name()));
    let mut point = m
        .data_points_mut()
        .nth(i)
        .ok_or_else(|| missing("data point"))?;
    // What every kind of point has, then what its kind has.
    match field {
        Field::DpStartTimeUnixNano => point.set_start_time_unix_nano(need_int()? as u64),
        Field::DpTimeUnixNano => point.set_time_unix_nano(need_int()? as u64),
        Field::DpFlags => point.set_flags(need_int()? as u32),
        _ => match point {
            DataPointMut::Gauge(dp) | DataPointMut::Sum(dp) => match field {
                Field::DpValueDouble => dp.value = Some(N::AsDouble(need_float()?)),
                Field::DpValueInt => dp.value = Some(N::AsInt(need_int()?)),
                _ => return Err("a number data point has no count or sum".into()),
            },
            DataPointMut::Histogram(dp) => match field {
                Field::DpCount => dp.count = need_int()? as u64,
                Field::DpSum => dp.sum = Some(need_float()?),
                _ => return Err("a histogram data point has no value".into()),
            },
            DataPointMut::ExponentialHistogram(dp) => match field {
                Field::DpCount => dp.count = need_int()? as u64,
                Field::DpSum => dp.sum = Some(need_float()?),
                _ => return Err("a histogram data point has no value".into()),
            },
            DataPointMut::Summary(dp) => match field {
                Field::DpCount => dp.count = need_int()? as u64,
                Field::DpSum => dp.sum = need_float()?,
                _ => return Err("a summary data point has no value".into()),
            },
        },
    }
    Ok(())
}
