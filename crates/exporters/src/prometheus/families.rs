//! The accumulated series as Prometheus families: names by the translation strategy,
//! labels by the translation rules, `target_info` per resource, `const_labels` on all.

use std::collections::{BTreeMap, BTreeSet};

use tributary_pipeline_core::pdata::proto::metrics::v1::Exemplar;
use tributary_translator_prometheus::exposition::{
    Bucket, Exemplar as PromExemplar, Family, FamilyType, Series as PromSeries, Value,
};
use tributary_translator_prometheus::labels::{
    LabelOptions, Labels, ScopeRef, TARGET_INFO, job_and_instance, series_labels,
    target_info_labels,
};
use tributary_translator_prometheus::normalize::{MetricNamer, MetricType, unit_name};

use super::accumulator::{Kind, Point, Series, exemplar_value};

/// How series become families.
pub(crate) struct FamilyBuilder {
    pub namer: MetricNamer,
    pub labels: LabelOptions,
    pub const_labels: BTreeMap<String, String>,
    pub send_timestamps: bool,
}

impl FamilyBuilder {
    /// The families of `series`, sorted by name, with `target_info` among them. A series
    /// whose name translates to nothing, whose type differs from the first series of its
    /// family, or whose labels repeat another's in the same family is left out (Go's
    /// registry refuses those too).
    pub(crate) fn families(&self, series: &[Series]) -> Vec<Family> {
        let mut families: BTreeMap<String, Family> = BTreeMap::new();
        let mut seen: BTreeSet<(String, Labels)> = BTreeSet::new();
        for s in series {
            let kind = match s.metric.kind {
                Kind::Gauge => MetricType::Gauge,
                Kind::Counter => MetricType::MonotonicCounter,
                Kind::UpDownCounter => MetricType::NonMonotonicCounter,
                Kind::Histogram => MetricType::Histogram,
                Kind::ExponentialHistogram => MetricType::ExponentialHistogram,
                Kind::Summary => MetricType::Summary,
            };
            let Ok(name) = self.namer.build(&s.metric.name, &s.metric.unit, kind) else {
                continue;
            };
            let family_type = match s.metric.kind {
                Kind::Gauge if s.metric.untyped => FamilyType::Unknown,
                Kind::Gauge | Kind::UpDownCounter => FamilyType::Gauge,
                Kind::Counter => FamilyType::Counter,
                Kind::Histogram | Kind::ExponentialHistogram => FamilyType::Histogram,
                Kind::Summary => FamilyType::Summary,
            };
            let scope = ScopeRef {
                name: &s.scope.name,
                version: &s.scope.version,
                schema_url: &s.scope.schema_url,
                attributes: &s.scope.attributes,
            };
            let labels = self.with_const_labels(series_labels(
                &s.resource,
                Some(&scope),
                &s.attributes,
                &self.labels,
            ));
            let family = families.entry(name.clone()).or_insert_with(|| Family {
                name: name.clone(),
                help: s.metric.description.clone(),
                unit: if self.namer.with_suffixes {
                    unit_name(&s.metric.unit)
                } else {
                    String::new()
                },
                kind: family_type,
                series: Vec::new(),
            });
            if family.kind != family_type || !seen.insert((name, labels.clone())) {
                continue;
            }
            family.series.push(PromSeries {
                value: value(s.metric.kind, &s.point),
                labels,
                timestamp_ms: self.send_timestamps.then_some(millis(s.time_unix_nano)),
                created_ms: (s.start_unix_nano > 0
                    && s.metric.kind != Kind::Gauge
                    && s.metric.kind != Kind::UpDownCounter)
                    .then_some(millis(s.start_unix_nano)),
            });
        }
        if let Some(info) = self.target_info(series) {
            families.insert(info.name.clone(), info);
        }
        families.into_values().collect()
    }

    /// One `target_info` series per (job, instance) with attributes to tell.
    fn target_info(&self, series: &[Series]) -> Option<Family> {
        let name = if self.namer.namespace.is_empty() {
            TARGET_INFO.to_string()
        } else {
            format!("{}_{TARGET_INFO}", self.namer.namespace)
        };
        let mut seen = BTreeSet::new();
        let mut info = Vec::new();
        for s in series {
            let identity = job_and_instance(&s.resource);
            if identity == (None, None) || !seen.insert(identity) {
                continue;
            }
            if let Some(labels) = target_info_labels(&s.resource, self.labels.utf8_allowed) {
                info.push(PromSeries {
                    labels: self.with_const_labels(labels),
                    value: Value::Gauge(1.0),
                    timestamp_ms: None,
                    created_ms: None,
                });
            }
        }
        (!info.is_empty()).then(|| Family {
            name,
            help: "Target metadata".into(),
            unit: String::new(),
            kind: FamilyType::Gauge,
            series: info,
        })
    }

    /// `labels` with the `const_labels` a series does not set itself, sorted by name.
    fn with_const_labels(&self, mut labels: Labels) -> Labels {
        if self.const_labels.is_empty() {
            return labels;
        }
        for (name, value) in &self.const_labels {
            if !labels.iter().any(|(n, _)| n == name) && !value.is_empty() {
                labels.push((name.clone(), value.clone()));
            }
        }
        labels.sort();
        labels
    }
}

fn value(kind: Kind, point: &Point) -> Value {
    match point {
        Point::Number { value, exemplars } if kind == Kind::Counter => Value::Counter {
            value: *value,
            exemplar: exemplars.last().map(exemplar),
        },
        Point::Number { value, .. } => Value::Gauge(*value),
        Point::Histogram {
            bounds,
            counts,
            count,
            sum,
            exemplars,
        } => {
            // Go sorts the bounds and ignores repeated ones.
            let mut order: Vec<usize> = (0..bounds.len()).collect();
            order.sort_by(|a, b| bounds[*a].total_cmp(&bounds[*b]));
            order.dedup_by(|a, b| bounds[*a] == bounds[*b]);
            let mut cumulative = 0u64;
            let mut buckets: Vec<Bucket> = order
                .into_iter()
                .filter(|i| !bounds[*i].is_nan())
                .map(|i| {
                    cumulative = cumulative.saturating_add(counts.get(i).copied().unwrap_or(0));
                    Bucket {
                        upper_bound: bounds[i],
                        cumulative_count: cumulative,
                        exemplar: None,
                    }
                })
                .collect();
            // Each exemplar goes to the first bucket its value fits; the last one wins.
            for e in exemplars {
                let v = exemplar_value(e);
                if let Some(bucket) = buckets.iter_mut().find(|b| v <= b.upper_bound) {
                    bucket.exemplar = Some(exemplar(e));
                } else {
                    buckets.push(Bucket {
                        upper_bound: f64::INFINITY,
                        cumulative_count: *count,
                        exemplar: Some(exemplar(e)),
                    });
                }
            }
            Value::Histogram {
                buckets,
                count: *count,
                sum: *sum,
            }
        }
        Point::ExponentialHistogram { count, sum } => Value::Histogram {
            buckets: Vec::new(),
            count: *count,
            sum: *sum,
        },
        Point::Summary {
            quantiles,
            count,
            sum,
        } => Value::Summary {
            quantiles: quantiles.clone(),
            count: *count,
            sum: *sum,
        },
    }
}

/// An exemplar with `trace_id` and `span_id` labels in hex (each when set).
fn exemplar(e: &Exemplar) -> PromExemplar {
    let mut labels = Vec::new();
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    if !e.trace_id.is_empty() && e.trace_id.iter().any(|b| *b != 0) {
        labels.push(("trace_id".to_string(), hex(&e.trace_id)));
    }
    if !e.span_id.is_empty() && e.span_id.iter().any(|b| *b != 0) {
        labels.push(("span_id".to_string(), hex(&e.span_id)));
    }
    PromExemplar {
        labels,
        value: exemplar_value(e),
        timestamp_ms: (e.time_unix_nano > 0).then_some(millis(e.time_unix_nano)),
    }
}

fn millis(unix_nano: u64) -> i64 {
    (unix_nano / 1_000_000) as i64
}
