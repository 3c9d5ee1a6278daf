//! Remote-write series → metric [`Family`]s, so the remote-write receiver translates them
//! with the same [`to_metrics`](crate::to_otlp::to_metrics) as a scrape.
//!
//! A series' family and type come from the request's metadata when it has an entry for
//! the family, else from the names: `_bucket` with `le` → histogram, a `quantile` label →
//! summary, `_sum`/`_count` join a histogram or summary of the metadata, `_total` →
//! counter, the rest gauges. Prometheus sends metadata in requests of their own and shards
//! a histogram's series across requests, so a histogram's `_count` often travels apart
//! from its buckets: a point whose `_count` is missing takes it from its `+Inf` bucket
//! (the same number by definition), rather than being dropped. Native histogram samples
//! are not families: [`to_otlp`](super::to_otlp) carries them.

use std::collections::HashMap;

use super::to_otlp::{Kind, classify};
use crate::prompb::{self, MetricType as PromType, WriteRequest};
use crate::text::{Exemplar, Family, MetricType, Sample};

/// What [`families`] made of a request.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Families {
    /// The float series as families, in first-seen order.
    pub families: Vec<Family>,
    /// The request's series that carry native histogram samples, for
    /// [`to_otlp`](super::to_otlp).
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
            .then(|| classify(name, le, quantile, &metadata, series))
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
    for family in &mut out.families {
        if family.metric_type == MetricType::Histogram {
            complete_counts(family);
        }
    }
    out
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
