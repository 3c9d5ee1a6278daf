//! The delimited protobuf exposition format (`application/vnd.google.protobuf;
//! proto=io.prometheus.client.MetricFamily; encoding=delimited`), which Go's
//! `client_golang` `push` package sends by default: each `MetricFamily` message prefixed
//! with its length as a varint, read into the same [`Family`]s as the text format.
//!
//! The messages are declared here with prost's derive (the schema is small and stable,
//! `io/prometheus/client/metrics.proto`). A family's `metric` entries are decoded one at a
//! time, each at most [`MAX_METRIC_BYTES`], and counted against the sample limit before
//! decoding, so a body of many tiny messages cannot expand into much more memory than
//! the text format allows. Native histogram buckets are not read (the classic buckets,
//! sum and count are).

use tributary_translator_prometheus::text::{
    Family, Limits, MetricType, Sample, is_label_name, is_metric_name,
};

/// The largest single `Metric` message: a text line's worth and more.
pub(crate) const MAX_METRIC_BYTES: usize = 1 << 20;

#[derive(Clone, PartialEq, prost::Message)]
struct LabelPair {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Value {
    #[prost(double, tag = "1")]
    value: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Timestamp {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Counter {
    #[prost(double, tag = "1")]
    value: f64,
    #[prost(message, optional, tag = "3")]
    created_timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Quantile {
    #[prost(double, tag = "1")]
    quantile: f64,
    #[prost(double, tag = "2")]
    value: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Summary {
    #[prost(uint64, tag = "1")]
    sample_count: u64,
    #[prost(double, tag = "2")]
    sample_sum: f64,
    #[prost(message, repeated, tag = "3")]
    quantile: Vec<Quantile>,
    #[prost(message, optional, tag = "4")]
    created_timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Bucket {
    #[prost(uint64, tag = "1")]
    cumulative_count: u64,
    #[prost(double, tag = "2")]
    upper_bound: f64,
    #[prost(double, tag = "4")]
    cumulative_count_float: f64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Histogram {
    #[prost(uint64, tag = "1")]
    sample_count: u64,
    #[prost(double, tag = "2")]
    sample_sum: f64,
    #[prost(message, repeated, tag = "3")]
    bucket: Vec<Bucket>,
    #[prost(double, tag = "4")]
    sample_count_float: f64,
    #[prost(message, optional, tag = "15")]
    created_timestamp: Option<Timestamp>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Metric {
    #[prost(message, repeated, tag = "1")]
    label: Vec<LabelPair>,
    #[prost(message, optional, tag = "2")]
    gauge: Option<Value>,
    #[prost(message, optional, tag = "3")]
    counter: Option<Counter>,
    #[prost(message, optional, tag = "4")]
    summary: Option<Summary>,
    #[prost(message, optional, tag = "5")]
    untyped: Option<Value>,
    #[prost(int64, tag = "6")]
    timestamp_ms: i64,
    #[prost(message, optional, tag = "7")]
    histogram: Option<Histogram>,
}

/// What a body may still produce: samples (the parser's limit) and label pairs (a few
/// per input byte, as the text format's own amplification: a histogram's labels are
/// repeated on every bucket, so a small message could otherwise expand a lot).
struct Allowance {
    metrics: usize,
    samples: usize,
    max_samples: usize,
    label_pairs: usize,
}

impl Allowance {
    fn take(&mut self, samples: usize, labels: usize) -> Result<(), String> {
        self.samples += samples;
        if self.max_samples != 0 && self.samples > self.max_samples {
            return Err(format!("more than {} samples", self.max_samples));
        }
        let pairs = samples.saturating_mul(labels + 1);
        self.label_pairs = self
            .label_pairs
            .checked_sub(pairs)
            .ok_or("the body's histograms or summaries expand to too many labels")?;
        Ok(())
    }
}

/// Reads a delimited protobuf body into families, within `limits`.
pub(crate) fn parse_delimited(body: &[u8], limits: &Limits) -> Result<Vec<Family>, String> {
    let mut families = Vec::new();
    let mut samples = Allowance {
        metrics: 0,
        samples: 0,
        max_samples: limits.max_samples,
        label_pairs: body.len() / 4 + 4096,
    };
    let mut rest = body;
    while !rest.is_empty() {
        let length = usize::try_from(varint(&mut rest)?).map_err(|_| "message too long")?;
        if length > rest.len() {
            return Err(format!(
                "a MetricFamily of {length} bytes, but {} remain",
                rest.len()
            ));
        }
        let (message, tail) = rest.split_at(length);
        rest = tail;
        families.push(family(message, limits, &mut samples)?);
    }
    Ok(families)
}

/// One `MetricFamily` message, in two passes: its name, type and metadata first (the
/// fields may come in any order), then its `metric` entries, each decoded and turned into
/// samples before the next, so no more than one decoded message is held at a time.
fn family(message: &[u8], limits: &Limits, allowance: &mut Allowance) -> Result<Family, String> {
    let (mut name, mut help, mut unit, mut metric_type) = (String::new(), None, None, 0u64);
    for_each_field(message, |field, value| {
        match (field, value) {
            (1 | 2 | 5, Field::Bytes(bytes)) => {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| "a MetricFamily string is not UTF-8")?
                    .to_owned();
                match field {
                    1 => name = text,
                    2 => help = Some(text),
                    _ => unit = Some(text).filter(|u| !u.is_empty()),
                }
            }
            (3, Field::Varint(value)) => metric_type = value,
            _ => {}
        }
        Ok(())
    })?;
    if !is_metric_name(&name) || name.len() > limits.max_label_bytes {
        return Err(format!("invalid metric name {name:?}"));
    }
    let metric_type = match metric_type {
        0 => MetricType::Counter,
        1 => MetricType::Gauge,
        2 => MetricType::Summary,
        3 => MetricType::Unknown,
        4 => MetricType::Histogram,
        5 => MetricType::GaugeHistogram,
        other => return Err(format!("unknown metric type {other} for {name}")),
    };
    let mut family = Family::new(name, metric_type);
    family.help = help;
    family.unit = unit;
    for_each_field(message, |field, value| {
        let (4, Field::Bytes(bytes)) = (field, value) else {
            return Ok(());
        };
        if bytes.len() > MAX_METRIC_BYTES {
            return Err(format!(
                "a Metric of {} bytes, over {MAX_METRIC_BYTES}",
                bytes.len()
            ));
        }
        allowance.metrics += 1;
        if limits.max_samples != 0 && allowance.metrics > limits.max_samples {
            return Err(format!("more than {} samples", limits.max_samples));
        }
        let metric =
            <Metric as prost::Message>::decode(bytes).map_err(|e| format!("a Metric: {e}"))?;
        if metric.label.len() > limits.max_labels {
            return Err(format!("more than {} labels", limits.max_labels));
        }
        samples_of(&mut family, metric, limits, allowance)
    })?;
    Ok(family)
}

/// A field's value, by wire type (fixed-width values are skipped).
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Calls `visit` with each field of `message` (its number and value).
fn for_each_field<'a>(
    mut message: &'a [u8],
    mut visit: impl FnMut(u64, Field<'a>) -> Result<(), String>,
) -> Result<(), String> {
    while !message.is_empty() {
        let key = varint(&mut message)?;
        let (field, wire) = (key >> 3, key & 7);
        let value = match wire {
            0 => Field::Varint(varint(&mut message)?),
            1 => {
                skip(&mut message, 8)?;
                Field::Fixed
            }
            2 => Field::Bytes(delimited(&mut message)?),
            5 => {
                skip(&mut message, 4)?;
                Field::Fixed
            }
            _ => return Err(format!("unsupported wire type {wire} in a MetricFamily")),
        };
        visit(field, value)?;
    }
    Ok(())
}

/// A metric's samples, as the text format would write them.
fn samples_of(
    family: &mut Family,
    metric: Metric,
    limits: &Limits,
    allowance: &mut Allowance,
) -> Result<(), String> {
    let mut labels = Vec::with_capacity(metric.label.len());
    for pair in metric.label {
        if !is_label_name(&pair.name)
            || pair.name.len() > limits.max_label_bytes
            || pair.value.len() > limits.max_label_bytes
        {
            return Err(format!("invalid label {:?}", pair.name));
        }
        labels.push((pair.name, pair.value));
    }
    let produced = match family.metric_type {
        MetricType::Counter => 2,
        MetricType::Summary => metric.summary.as_ref().map_or(0, |s| s.quantile.len()) + 3,
        MetricType::Histogram | MetricType::GaugeHistogram => {
            metric.histogram.as_ref().map_or(0, |h| h.bucket.len()) + 4
        }
        _ => 1,
    };
    allowance.take(produced, labels.len())?;
    let timestamp_ms = (metric.timestamp_ms != 0).then_some(metric.timestamp_ms);
    let name = family.name.clone();
    let mut push = |suffix: &str, extra: Option<(&str, String)>, value: f64| {
        let mut labels = labels.clone();
        if let Some((n, v)) = extra {
            labels.push((n.to_owned(), v));
        }
        family.samples.push(Sample {
            name: format!("{name}{suffix}"),
            labels,
            value,
            timestamp_ms,
            exemplar: None,
        });
    };
    let created = |t: &Option<Timestamp>| {
        t.as_ref()
            .map(|t| t.seconds as f64 + f64::from(t.nanos) / 1e9)
    };
    match family.metric_type {
        MetricType::Counter => {
            let counter = metric.counter.unwrap_or_default();
            push("", None, counter.value);
            if let Some(created) = created(&counter.created_timestamp) {
                // `x_total` was created at `x_created`, as OpenMetrics writes it.
                let base = name.strip_suffix("_total").unwrap_or(&name);
                family.samples.push(Sample {
                    name: format!("{base}_created"),
                    labels: labels.clone(),
                    value: created,
                    timestamp_ms,
                    exemplar: None,
                });
            }
        }
        MetricType::Gauge => push("", None, metric.gauge.unwrap_or_default().value),
        MetricType::Summary => {
            let summary = metric.summary.unwrap_or_default();
            for q in &summary.quantile {
                push("", Some(("quantile", format_float(q.quantile))), q.value);
            }
            push("_sum", None, summary.sample_sum);
            push("_count", None, summary.sample_count as f64);
            if let Some(created) = created(&summary.created_timestamp) {
                push("_created", None, created);
            }
        }
        MetricType::Histogram | MetricType::GaugeHistogram => {
            let histogram = metric.histogram.unwrap_or_default();
            let count = if histogram.sample_count == 0 {
                histogram.sample_count_float
            } else {
                histogram.sample_count as f64
            };
            let mut saw_inf = false;
            for b in &histogram.bucket {
                let cumulative = if b.cumulative_count == 0 {
                    b.cumulative_count_float
                } else {
                    b.cumulative_count as f64
                };
                saw_inf |= b.upper_bound == f64::INFINITY;
                push(
                    "_bucket",
                    Some(("le", format_float(b.upper_bound))),
                    cumulative,
                );
            }
            if !saw_inf {
                push("_bucket", Some(("le", "+Inf".into())), count);
            }
            push("_sum", None, histogram.sample_sum);
            push("_count", None, count);
            if let Some(created) = created(&histogram.created_timestamp) {
                push("_created", None, created);
            }
        }
        _ => push("", None, metric.untyped.unwrap_or_default().value),
    }
    Ok(())
}

/// A float as Prometheus writes label values (`+Inf`, `0.5`, `1`).
fn format_float(value: f64) -> String {
    if value == f64::INFINITY {
        "+Inf".into()
    } else if value == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        value.to_string()
    }
}

fn varint(buf: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&byte, rest) = buf.split_first().ok_or("a truncated varint")?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err("a varint longer than 10 bytes".into())
}

fn delimited<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let length = usize::try_from(varint(buf)?).map_err(|_| "a field too long")?;
    if length > buf.len() {
        return Err("a truncated field".into());
    }
    let (field, rest) = buf.split_at(length);
    *buf = rest;
    Ok(field)
}

fn skip(buf: &mut &[u8], n: usize) -> Result<(), String> {
    if n > buf.len() {
        return Err("a truncated field".into());
    }
    *buf = &buf[n..];
    Ok(())
}

#[cfg(test)]
mod tests {
    use prost::Message as _;
    use tributary_translator_prometheus::text::{Limits, MetricType};

    use super::*;

    /// `MetricFamily`, to write test bodies as a Prometheus client does.
    #[derive(Clone, PartialEq, prost::Message)]
    struct MetricFamily {
        #[prost(string, tag = "1")]
        name: String,
        #[prost(string, tag = "2")]
        help: String,
        #[prost(int32, tag = "3")]
        metric_type: i32,
        #[prost(message, repeated, tag = "4")]
        metric: Vec<Metric>,
    }

    fn label(name: &str, value: &str) -> LabelPair {
        LabelPair {
            name: name.into(),
            value: value.into(),
        }
    }

    fn delimited(families: &[MetricFamily]) -> Vec<u8> {
        let mut body = Vec::new();
        for family in families {
            family.encode_length_delimited(&mut body).unwrap();
        }
        body
    }

    #[test]
    fn families_read_as_the_text_format_writes_them() {
        let body = delimited(&[
            MetricFamily {
                name: "jobs_total".into(),
                help: "Jobs.".into(),
                metric_type: 0,
                metric: vec![Metric {
                    label: vec![label("queue", "a")],
                    counter: Some(Counter {
                        value: 7.0,
                        created_timestamp: Some(Timestamp {
                            seconds: 1_700_000_000,
                            nanos: 500_000_000,
                        }),
                    }),
                    timestamp_ms: 1_700_000_001_000,
                    ..Default::default()
                }],
            },
            MetricFamily {
                name: "latency_seconds".into(),
                help: String::new(),
                metric_type: 4,
                metric: vec![Metric {
                    histogram: Some(Histogram {
                        sample_count: 3,
                        sample_sum: 1.5,
                        bucket: vec![Bucket {
                            cumulative_count: 2,
                            upper_bound: 0.5,
                            cumulative_count_float: 0.0,
                        }],
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
            },
            MetricFamily {
                name: "rpc".into(),
                help: String::new(),
                metric_type: 2,
                metric: vec![Metric {
                    summary: Some(Summary {
                        sample_count: 4,
                        sample_sum: 2.0,
                        quantile: vec![Quantile {
                            quantile: 0.5,
                            value: 0.25,
                        }],
                        created_timestamp: None,
                    }),
                    ..Default::default()
                }],
            },
            MetricFamily {
                name: "up".into(),
                help: String::new(),
                metric_type: 1,
                metric: vec![Metric {
                    gauge: Some(Value { value: 1.0 }),
                    ..Default::default()
                }],
            },
        ]);
        let families = parse_delimited(&body, &Limits::default()).unwrap();
        let written: Vec<String> = families
            .iter()
            .flat_map(|f| &f.samples)
            .map(|s| {
                let labels: Vec<String> =
                    s.labels.iter().map(|(n, v)| format!("{n}={v}")).collect();
                format!(
                    "{}{{{}}} {} {:?}",
                    s.name,
                    labels.join(","),
                    s.value,
                    s.timestamp_ms
                )
            })
            .collect();
        assert_eq!(
            written,
            [
                "jobs_total{queue=a} 7 Some(1700000001000)",
                "jobs_created{queue=a} 1700000000.5 Some(1700000001000)",
                "latency_seconds_bucket{le=0.5} 2 None",
                "latency_seconds_bucket{le=+Inf} 3 None",
                "latency_seconds_sum{} 1.5 None",
                "latency_seconds_count{} 3 None",
                "rpc{quantile=0.5} 0.25 None",
                "rpc_sum{} 2 None",
                "rpc_count{} 4 None",
                "up{} 1 None",
            ]
        );
        assert_eq!(families[0].metric_type, MetricType::Counter);
        assert_eq!(families[0].help.as_deref(), Some("Jobs."));
        assert_eq!(families[1].metric_type, MetricType::Histogram);
    }

    #[test]
    fn bad_messages_and_expansions_are_refused() {
        let limits = Limits::default();
        assert!(
            parse_delimited(b"\x05ab", &limits)
                .unwrap_err()
                .contains("remain")
        );
        assert!(parse_delimited(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", &limits).is_err());
        let bad_name = delimited(&[MetricFamily {
            name: "1bad".into(),
            ..Default::default()
        }]);
        assert!(
            parse_delimited(&bad_name, &limits)
                .unwrap_err()
                .contains("metric name")
        );
        let bad_label = delimited(&[MetricFamily {
            name: "ok".into(),
            metric_type: 1,
            metric: vec![Metric {
                label: vec![label("bad-label", "x")],
                ..Default::default()
            }],
            ..Default::default()
        }]);
        assert!(
            parse_delimited(&bad_label, &limits)
                .unwrap_err()
                .contains("label")
        );
        // Many empty metrics: counted before decoding.
        let many = delimited(&[MetricFamily {
            name: "ok".into(),
            metric_type: 1,
            metric: vec![Metric::default(); 50],
            ..Default::default()
        }]);
        let few = Limits {
            max_samples: 10,
            ..Limits::default()
        };
        assert!(
            parse_delimited(&many, &few)
                .unwrap_err()
                .contains("10 samples")
        );
        // A histogram whose labels repeat on every bucket beyond the body's allowance.
        let labels: Vec<LabelPair> = (0..100).map(|i| label(&format!("l{i}"), "")).collect();
        let wide = delimited(&[MetricFamily {
            name: "h".into(),
            metric_type: 4,
            metric: vec![Metric {
                label: labels,
                histogram: Some(Histogram {
                    bucket: vec![Bucket::default(); 2000],
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }]);
        assert!(
            parse_delimited(&wide, &limits)
                .unwrap_err()
                .contains("too many labels")
        );
    }
}
