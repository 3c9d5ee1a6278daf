//! Metrics to OpenTSDB data points: names and tags cut to the characters a TSD takes,
//! gauges and sums as they are, histograms and summaries as count, sum and buckets or
//! quantiles.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    DataPointFlags, metric::Data, number_data_point,
};
use tributary_pipeline_core::pdata::value_text::{as_string, format_float};

/// The tag a point gets when it has none (a TSD refuses points without tags): the
/// resource's `service.name`, else this.
pub const FALLBACK_TAG: (&str, &str) = ("source", "tributary");

/// One data point as the TSD takes it.
#[derive(Clone, Debug, PartialEq)]
pub struct TsdbPoint {
    /// The metric name, sanitised.
    pub metric: String,
    /// Seconds, or milliseconds when the time has a fraction of a second.
    pub timestamp: i64,
    /// The value.
    pub value: TsdbValue,
    /// The tags, sanitised, at least one.
    pub tags: BTreeMap<String, String>,
}

/// A point's value: integers stay integers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TsdbValue {
    /// An integer.
    Int(i64),
    /// A finite float.
    Float(f64),
}

impl TsdbPoint {
    /// The `/api/put` object.
    pub fn to_json(&self) -> Value {
        let value = match self.value {
            TsdbValue::Int(v) => json!(v),
            TsdbValue::Float(v) => json!(v),
        };
        json!({"metric": self.metric, "timestamp": self.timestamp, "value": value, "tags": self.tags})
    }

    /// The telnet `put` line, with its newline.
    pub fn to_telnet_line(&self) -> String {
        let value = match self.value {
            TsdbValue::Int(v) => v.to_string(),
            TsdbValue::Float(v) => format_float(v),
        };
        let mut line = format!("put {} {} {value}", self.metric, self.timestamp);
        for (key, value) in &self.tags {
            line.push(' ');
            line.push_str(key);
            line.push('=');
            line.push_str(value);
        }
        line.push('\n');
        line
    }

    /// What names the point in a TSD's answer: metric, timestamp and tags.
    pub fn key(&self) -> String {
        key_of(&self.metric, self.timestamp, self.tags.iter())
    }
}

/// The key of a point echoed in a `details` answer (`{"metric","timestamp","tags"}`), if
/// it has those fields.
pub fn echoed_key(datapoint: &Value) -> Option<String> {
    let metric = datapoint.get("metric")?.as_str()?;
    let timestamp = datapoint.get("timestamp")?.as_i64()?;
    let tags: BTreeMap<String, String> = datapoint
        .get("tags")?
        .as_object()?
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect();
    Some(key_of(metric, timestamp, tags.iter()))
}

fn key_of<'a>(
    metric: &str,
    timestamp: i64,
    tags: impl Iterator<Item = (&'a String, &'a String)>,
) -> String {
    let mut key = format!("{metric}\u{0}{timestamp}");
    for (k, v) in tags {
        key.push('\u{0}');
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    key
}

/// `text` with every character a TSD refuses in a name (anything but ASCII letters and
/// digits, `-_./` and Unicode letters) replaced by `_`.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/') || c.is_alphabetic()
            {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What a batch became: the points, and the data points that could not be sent (no
/// time, no value, NaN or infinite).
#[derive(Debug, Default)]
pub struct Converted {
    /// The points, in the batch's order.
    pub points: Vec<TsdbPoint>,
    /// Data points left out.
    pub dropped: usize,
}

/// The points of a metrics request; `resource_tags` adds every resource attribute.
pub fn to_points(request: &ExportMetricsServiceRequest, resource_tags: bool) -> Converted {
    let mut out = Converted::default();
    for rm in &request.resource_metrics {
        let resource: &[KeyValue] = rm.resource.as_ref().map_or(&[], |r| &r.attributes);
        let base = Tags::new(resource, resource_tags);
        for sm in &rm.scope_metrics {
            for metric in &sm.metrics {
                let name = sanitize(&metric.name);
                if name.is_empty() {
                    continue;
                }
                match &metric.data {
                    Some(Data::Gauge(g)) => number_points(&mut out, &name, &base, &g.data_points),
                    Some(Data::Sum(s)) => number_points(&mut out, &name, &base, &s.data_points),
                    Some(Data::Histogram(h)) => {
                        for p in &h.data_points {
                            let Some(emit) = Emitter::new(
                                &mut out,
                                &name,
                                &base,
                                &p.attributes,
                                p.time_unix_nano,
                                p.flags,
                            ) else {
                                continue;
                            };
                            emit.push(&mut out, ".count", None, TsdbValue::Int(p.count as i64));
                            if let Some(sum) = p.sum {
                                emit.push(&mut out, ".sum", None, TsdbValue::Float(sum));
                            }
                            let mut cumulative = 0u64;
                            for (i, count) in p.bucket_counts.iter().enumerate() {
                                cumulative = cumulative.saturating_add(*count);
                                let le = p
                                    .explicit_bounds
                                    .get(i)
                                    .map_or_else(|| "inf".to_string(), |b| format_float(*b));
                                emit.push(
                                    &mut out,
                                    ".bucket",
                                    Some(("le", &le)),
                                    TsdbValue::Int(cumulative as i64),
                                );
                            }
                        }
                    }
                    Some(Data::ExponentialHistogram(h)) => {
                        for p in &h.data_points {
                            let Some(emit) = Emitter::new(
                                &mut out,
                                &name,
                                &base,
                                &p.attributes,
                                p.time_unix_nano,
                                p.flags,
                            ) else {
                                continue;
                            };
                            emit.push(&mut out, ".count", None, TsdbValue::Int(p.count as i64));
                            if let Some(sum) = p.sum {
                                emit.push(&mut out, ".sum", None, TsdbValue::Float(sum));
                            }
                        }
                    }
                    Some(Data::Summary(s)) => {
                        for p in &s.data_points {
                            let Some(emit) = Emitter::new(
                                &mut out,
                                &name,
                                &base,
                                &p.attributes,
                                p.time_unix_nano,
                                p.flags,
                            ) else {
                                continue;
                            };
                            emit.push(&mut out, ".count", None, TsdbValue::Int(p.count as i64));
                            emit.push(&mut out, ".sum", None, TsdbValue::Float(p.sum));
                            for q in &p.quantile_values {
                                let quantile = format_float(q.quantile);
                                emit.push(
                                    &mut out,
                                    "",
                                    Some(("quantile", &quantile)),
                                    TsdbValue::Float(q.value),
                                );
                            }
                        }
                    }
                    None => {}
                }
            }
        }
    }
    out
}

/// The tags every point of a resource starts with.
struct Tags {
    resource: BTreeMap<String, String>,
    fallback: (String, String),
}

impl Tags {
    fn new(resource: &[KeyValue], all: bool) -> Self {
        let service = resource
            .iter()
            .find(|kv| kv.key == "service.name")
            .map(|kv| as_string(kv.value.as_ref()));
        let fallback = match service.map(|s| sanitize(&s)).filter(|s| !s.is_empty()) {
            Some(service) => ("service.name".to_string(), service),
            None => (FALLBACK_TAG.0.to_string(), FALLBACK_TAG.1.to_string()),
        };
        let resource = if all {
            tag_map(resource)
        } else {
            BTreeMap::new()
        };
        Tags { resource, fallback }
    }

    /// A data point's tags: its attributes, the resource's over them, the fallback when
    /// there are none.
    fn for_point(&self, attributes: &[KeyValue]) -> BTreeMap<String, String> {
        let mut tags = tag_map(attributes);
        tags.extend(self.resource.iter().map(|(k, v)| (k.clone(), v.clone())));
        if tags.is_empty() {
            tags.insert(self.fallback.0.clone(), self.fallback.1.clone());
        }
        tags
    }
}

fn tag_map(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .filter_map(|kv| {
            let key = sanitize(&kv.key);
            let value = sanitize(&as_string(kv.value.as_ref()));
            // A TSD refuses empty names and values: such a tag is left out.
            (!key.is_empty() && !value.is_empty()).then_some((key, value))
        })
        .collect()
}

/// The time of a point as the TSD takes it: seconds, or milliseconds when there is a
/// fraction of a second; `None` for no time.
fn timestamp(time_unix_nano: u64) -> Option<i64> {
    let ms = i64::try_from(time_unix_nano / 1_000_000).ok()?;
    match ms {
        0 => None,
        ms if ms % 1000 == 0 => Some(ms / 1000),
        ms => Some(ms),
    }
}

fn number_points(
    out: &mut Converted,
    name: &str,
    base: &Tags,
    points: &[tributary_pipeline_core::pdata::proto::metrics::v1::NumberDataPoint],
) {
    for p in points {
        let value = match p.value {
            Some(number_data_point::Value::AsInt(v)) => TsdbValue::Int(v),
            Some(number_data_point::Value::AsDouble(v)) => TsdbValue::Float(v),
            None => {
                out.dropped += 1;
                continue;
            }
        };
        let Some(emit) = Emitter::new(out, name, base, &p.attributes, p.time_unix_nano, p.flags)
        else {
            continue;
        };
        emit.push(out, "", None, value);
    }
}

/// The points of one data point: its name, time and tags, checked once.
struct Emitter<'a> {
    name: &'a str,
    timestamp: i64,
    tags: BTreeMap<String, String>,
}

impl<'a> Emitter<'a> {
    /// `None` (and counted as dropped) when the point has no time or no recorded value.
    fn new(
        out: &mut Converted,
        name: &'a str,
        base: &Tags,
        attributes: &[KeyValue],
        time_unix_nano: u64,
        flags: u32,
    ) -> Option<Self> {
        let no_value = flags & DataPointFlags::NoRecordedValueMask as u32 != 0;
        match timestamp(time_unix_nano) {
            Some(timestamp) if !no_value => Some(Emitter {
                name,
                timestamp,
                tags: base.for_point(attributes),
            }),
            _ => {
                out.dropped += 1;
                None
            }
        }
    }

    fn push(
        &self,
        out: &mut Converted,
        suffix: &str,
        extra: Option<(&str, &str)>,
        value: TsdbValue,
    ) {
        if let TsdbValue::Float(v) = value
            && !v.is_finite()
        {
            // A TSD refuses NaN and infinities.
            out.dropped += 1;
            return;
        }
        let mut tags = self.tags.clone();
        if let Some((key, value)) = extra {
            tags.insert(key.to_string(), sanitize(value));
        }
        out.points.push(TsdbPoint {
            metric: format!("{}{suffix}", self.name),
            timestamp: self.timestamp,
            value,
            tags,
        });
    }
}
