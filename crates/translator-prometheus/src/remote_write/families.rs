//! Remote-write series → metric [`Family`]s, so the remote-write receiver translates them
//! with the same [`to_metrics`](crate::to_otlp::to_metrics) as a scrape.
//!
//! A series' family and type come from the request's metadata when it has an entry for
//! the family, else from the names: `_bucket` with `le` → histogram, a `quantile` label →
//! summary, `_sum`/`_count` join a histogram or summary of the metadata, `_total` →
//! counter, the rest gauges. Prometheus sends metadata in requests of their own and shards
//! a histogram's series across requests, so a histogram's `_count` often travels apart
//! from its buckets: a point whose `_count` is missing takes it from its `+Inf` bucket
//! (the same number by definition), rather than being dropped; summary quantiles whose
//! `_count` is not in the request stay gauges of the family's name (a count cannot be
//! derived from quantiles). Native histogram samples
//! are not families: [`natives_to_otlp`](super::natives_to_otlp) carries them.

use std::collections::HashMap;

use crate::prompb::{self, MetricType as PromType, WriteRequest};
use crate::text::{Exemplar, Family, MetricType, Sample};

/// What [`families`] made of a request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Families {
    /// The float series as families, in first-seen order.
    pub families: Vec<Family>,
    /// The request's series that carry native histogram samples, for
    /// [`natives_to_otlp`](super::natives_to_otlp).
    pub natives: WriteRequest,
    /// Samples of series that could not be placed (no `__name__`, an `le` or `quantile`
    /// that is not a number).
    pub dropped_samples: usize,
}

/// Groups a request's float series into families (see the module docs).
pub fn families(request: &WriteRequest) -> Families {
    let metadata: HashMap<&str, &prompb::MetricMetadata> = request
        .metadata
        .iter()
        .map(|m| (m.metric_family_name.as_str(), m))
        .collect();
    let mut out = Families::default();
    let mut index: HashMap<(String, Kind), usize> = HashMap::new();
    for series in &request.timeseries {
        if !series.histograms.is_empty() {
            out.natives.timeseries.push(series.clone());
            continue;
        }
        let name = series.name();
        let le = series.label("le");
        let quantile = series.label("quantile");
        let placed = (!name.is_empty())
            .then(|| classify(name, le, quantile, &metadata))
            .flatten();
        let Some((family_name, _, kind)) = placed else {
            out.dropped_samples += series.samples.len();
            continue;
        };
        let at = *index
            .entry((family_name.to_string(), kind))
            .or_insert_with(|| {
                let meta = metadata.get(family_name);
                let metric_type = match (kind, meta.and_then(|m| PromType::try_from(m.r#type).ok()))
                {
                    (Kind::Counter, _) => MetricType::Counter,
                    (Kind::Histogram, _) => MetricType::Histogram,
                    (Kind::Summary, _) => MetricType::Summary,
                    (_, Some(PromType::Info)) => MetricType::Info,
                    (_, Some(PromType::Stateset)) => MetricType::StateSet,
                    (_, Some(PromType::Unknown)) => MetricType::Unknown,
                    _ => MetricType::Gauge,
                };
                let mut family = Family::new(family_name, metric_type);
                if let Some(meta) = meta {
                    family.help = Some(meta.help.clone()).filter(|h| !h.is_empty());
                    family.unit = Some(meta.unit.clone()).filter(|u| !u.is_empty());
                }
                out.families.push(family);
                out.families.len() - 1
            });
        let labels: Vec<(String, String)> = series
            .labels
            .iter()
            .filter(|l| l.name != "__name__")
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        let family = &mut out.families[at];
        for sample in &series.samples {
            let exemplar = series
                .exemplars
                .iter()
                .find(|e| e.timestamp == sample.timestamp)
                .map(|e| Exemplar {
                    labels: e
                        .labels
                        .iter()
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect(),
                    value: e.value,
                    timestamp_ms: Some(e.timestamp),
                });
            family.samples.push(Sample {
                name: name.to_string(),
                labels: labels.clone(),
                value: sample.value,
                timestamp_ms: Some(sample.timestamp),
                exemplar,
            });
        }
    }
    let mut uncounted = Vec::new();
    for family in &mut out.families {
        match family.metric_type {
            MetricType::Histogram => complete_counts(family),
            MetricType::Summary => uncounted.extend(uncounted_quantiles(family)),
            _ => {}
        }
    }
    out.families.extend(uncounted);
    out
}

/// The grouping key of a histogram's or summary's point: labels less `skip`, and time.
fn point_key(s: &Sample, skip: &str) -> (Vec<(String, String)>, Option<i64>) {
    let mut labels: Vec<(String, String)> = s
        .labels
        .iter()
        .filter(|(n, _)| n != skip)
        .cloned()
        .collect();
    labels.sort();
    (labels, s.timestamp_ms)
}

/// Takes out of a summary the quantile samples of points whose `_count` is not in this
/// request (it came, or comes, in another one): a summary point needs its count, which
/// quantiles cannot give, so they are kept as a gauge family of the same name, `quantile`
/// label and all, rather than dropped.
fn uncounted_quantiles(family: &mut Family) -> Option<Family> {
    let count_name = format!("{}_count", family.name);
    let counted: std::collections::HashSet<_> = family
        .samples
        .iter()
        .filter(|s| s.name == count_name)
        .map(|s| point_key(s, "quantile"))
        .collect();
    let (kept, alone): (Vec<Sample>, Vec<Sample>) = std::mem::take(&mut family.samples)
        .into_iter()
        .partition(|s| {
            s.label("quantile").is_none() || counted.contains(&point_key(s, "quantile"))
        });
    family.samples = kept;
    (!alone.is_empty()).then(|| {
        let mut gauge = Family::new(family.name.clone(), MetricType::Gauge);
        gauge.help = family.help.clone();
        gauge.unit = family.unit.clone();
        gauge.samples = alone;
        gauge
    })
}

/// Adds `<family>_count` from the `+Inf` bucket to each point (labels less `le`, time)
/// that has buckets but no count.
fn complete_counts(family: &mut Family) {
    let count_name = format!("{}_count", family.name);
    let bucket_name = format!("{}_bucket", family.name);
    let key = |s: &Sample| {
        let mut labels: Vec<(String, String)> = s
            .labels
            .iter()
            .filter(|(n, _)| n != "le")
            .cloned()
            .collect();
        labels.sort();
        (labels, s.timestamp_ms)
    };
    let counted: std::collections::HashSet<_> = family
        .samples
        .iter()
        .filter(|s| s.name == count_name)
        .map(key)
        .collect();
    let missing: Vec<Sample> = family
        .samples
        .iter()
        .filter(|s| s.name == bucket_name && s.label("le").is_some_and(|le| le == "+Inf"))
        .filter(|s| !counted.contains(&key(s)))
        .map(|s| Sample {
            name: count_name.clone(),
            labels: s
                .labels
                .iter()
                .filter(|(n, _)| n != "le")
                .cloned()
                .collect(),
            value: s.value,
            timestamp_ms: s.timestamp_ms,
            exemplar: None,
        })
        .collect();
    family.samples.extend(missing);
}

/// How a family is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Gauge,
    Counter,
    Histogram,
    Summary,
}

/// What part of a family a series is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Value,
    Bound(f64),
    Sum,
    Count,
}

/// The family, the series' role in it and the family's kind; `None` for a series that
/// cannot be placed (a bucket whose `le` is not a number).
fn classify<'a>(
    name: &'a str,
    le: Option<&str>,
    quantile: Option<&str>,
    metadata: &HashMap<&str, &prompb::MetricMetadata>,
) -> Option<(&'a str, Role, Kind)> {
    let typed = |family: &str| metadata.get(family).map(|m| m.r#type);
    let is = |family: &str, t: PromType| typed(family) == Some(t as i32);
    // A family of this exact name in the metadata decides alone.
    match typed(name).and_then(|t| PromType::try_from(t).ok()) {
        Some(PromType::Counter) => return Some((name, Role::Value, Kind::Counter)),
        Some(PromType::Gauge | PromType::Unknown | PromType::Info | PromType::Stateset) => {
            return Some((name, Role::Value, Kind::Gauge));
        }
        Some(PromType::Summary) if quantile.is_some() => {
            let q = parse_float(quantile?)?;
            return Some((name, Role::Bound(q), Kind::Summary));
        }
        _ => {}
    }
    if let Some(family) = name.strip_suffix("_bucket")
        && let Some(le) = le
        && (typed(family).is_none() || is(family, PromType::Histogram))
    {
        return Some((family, Role::Bound(parse_float(le)?), Kind::Histogram));
    }
    if let Some(quantile) = quantile
        && (typed(name).is_none() || is(name, PromType::Summary))
    {
        return Some((name, Role::Bound(parse_float(quantile)?), Kind::Summary));
    }
    for (suffix, role) in [("_sum", Role::Sum), ("_count", Role::Count)] {
        if let Some(family) = name.strip_suffix(suffix) {
            if is(family, PromType::Histogram) {
                return Some((family, role, Kind::Histogram));
            }
            if is(family, PromType::Summary) {
                return Some((family, role, Kind::Summary));
            }
        }
    }
    if name.ends_with("_total") {
        return Some((name, Role::Value, Kind::Counter));
    }
    Some((name, Role::Value, Kind::Gauge))
}

/// Go's `strconv.ParseFloat` spellings Prometheus writes: numbers, `+Inf`, `-Inf`, `NaN`.
fn parse_float(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok(),
    }
}
