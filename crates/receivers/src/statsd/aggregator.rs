//! Aggregation over one interval: lines in, one OTLP batch out per interval, per client.
//!
//! Series are keyed by client (address, or IP only), then by name, type and attributes,
//! as the Go receiver keys them. Everything the interval holds is bounded by one budget
//! of entries (see [`MAX_ENTRIES`]); a value that would exceed it is dropped and counted.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, SummaryValue, Temporality};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

use super::config::{Config, DEFAULT_HISTOGRAM_SIZE};
use super::expohisto::ExpoHistogram;
use super::parser::{Line, MetricType, Values};

/// The most entries one interval holds, over all clients: each series is one, and so is
/// each set member, each value kept for a summary and each sample of a timer reported as
/// gauges. About 100 bytes each with short names, so tens of MiB at most.
pub const MAX_ENTRIES: usize = 100_000;

/// The instrumentation scope of everything the receiver emits (the Go receiver's).
pub const SCOPE_NAME: &str =
    "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/statsdreceiver";

/// Go's default summary percentiles.
const DEFAULT_PERCENTILES: [f64; 6] = [0.0, 10.0, 50.0, 90.0, 95.0, 100.0];

/// What a timer, histogram or distribution becomes (`observer_type`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Observer {
    /// Dropped (Go's `disabled`, and the default of a type no mapping names).
    Disabled,
    /// Every value as a gauge point.
    Gauge,
    /// A summary with these percentiles.
    Summary(Vec<f64>),
    /// An exponential histogram of at most this many buckets per sign.
    Histogram(u32),
}

impl Observer {
    fn from_mapping(config: &Config, statsd_types: &[&str]) -> Observer {
        let Some(mapping) = config
            .timer_histogram_mapping
            .iter()
            .rfind(|m| statsd_types.contains(&m.statsd_type.as_str()))
        else {
            return Observer::Disabled;
        };
        match mapping.observer_type.as_str() {
            "gauge" => Observer::Gauge,
            "summary" if mapping.summary.percentiles.is_empty() => {
                Observer::Summary(DEFAULT_PERCENTILES.to_vec())
            }
            "summary" => Observer::Summary(mapping.summary.percentiles.clone()),
            "histogram" if mapping.histogram.max_size == 0 => {
                Observer::Histogram(DEFAULT_HISTOGRAM_SIZE)
            }
            "histogram" => Observer::Histogram(mapping.histogram.max_size),
            _ => Observer::Disabled,
        }
    }
}

/// How lines aggregate: from the receiver's configuration.
#[derive(Debug, Clone)]
pub(crate) struct AggregationSettings {
    pub is_monotonic_counter: bool,
    pub timing: Observer,
    pub histogram: Observer,
    pub distribution: Observer,
    /// The scope version (the collector's version, as Go's `BuildInfo.Version`).
    pub version: String,
    pub max_entries: usize,
}

impl AggregationSettings {
    pub(crate) fn new(config: &Config, version: &str) -> Self {
        AggregationSettings {
            is_monotonic_counter: config.is_monotonic_counter,
            timing: Observer::from_mapping(config, &["timing", "timer"]),
            histogram: Observer::from_mapping(config, &["histogram"]),
            distribution: Observer::from_mapping(config, &["distribution"]),
            version: version.to_string(),
            max_entries: MAX_ENTRIES,
        }
    }

    fn observer(&self, metric_type: MetricType) -> &Observer {
        match metric_type {
            MetricType::Timing => &self.timing,
            MetricType::Histogram => &self.histogram,
            _ => &self.distribution,
        }
    }
}

/// Whom a series belongs to: the client's address, which becomes the resource's
/// `source.address` (and `source.port`, unless aggregating by IP only).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Client {
    pub address: Option<IpAddr>,
    pub port: Option<u16>,
}

impl Client {
    /// No address (a Unix socket peer).
    pub(crate) const LOCAL: Client = Client {
        address: None,
        port: None,
    };
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SeriesKey {
    name: String,
    metric_type: MetricType,
    attributes: Vec<(String, String)>,
}

#[derive(Debug)]
enum Series {
    Counter {
        value: i64,
        timestamp: Option<u64>,
    },
    Gauge {
        value: f64,
        time: u64,
    },
    /// Timer values reported as gauge points: (value, time received).
    Samples(Vec<(f64, u64)>),
    /// Values and their weights (1 / sample rate).
    Summary(Vec<(f64, f64)>),
    Histogram(ExpoHistogram),
    Set(HashSet<String>),
}

/// One interval's state.
#[derive(Debug)]
pub(crate) struct Aggregator {
    settings: AggregationSettings,
    interval_start: u64,
    clients: BTreeMap<Client, BTreeMap<SeriesKey, Series>>,
    entries: usize,
    dropped: usize,
}

impl Aggregator {
    /// An empty interval starting at `now` (Unix nanoseconds).
    pub(crate) fn new(settings: AggregationSettings, now: u64) -> Self {
        Aggregator {
            settings,
            interval_start: now,
            clients: BTreeMap::new(),
            entries: 0,
            dropped: 0,
        }
    }

    /// Adds a line from `client`, received at `now`; returns how many of its values were
    /// dropped because the interval's budget is spent.
    pub(crate) fn add(&mut self, client: &Client, line: Line, now: u64) -> usize {
        let observer = match line.metric_type {
            MetricType::Timing | MetricType::Histogram | MetricType::Distribution => {
                let observer = self.settings.observer(line.metric_type).clone();
                if observer == Observer::Disabled {
                    return 0;
                }
                Some(observer)
            }
            _ => None,
        };
        let key = SeriesKey {
            name: line.name,
            metric_type: line.metric_type,
            attributes: line.attributes,
        };
        let budget = self.settings.max_entries;
        let known = self
            .clients
            .get(client)
            .is_some_and(|series| series.contains_key(&key));
        if !known && self.entries >= budget {
            // Neither the series nor its client is stored: clients never outnumber
            // series, so they are bounded too.
            let values = value_count(&line.values);
            self.dropped += values;
            return values;
        }
        let series_map = self.clients.entry(client.clone()).or_default();
        // A new series costs one entry, which also pays for its first value.
        let mut new_series = false;
        let series = match series_map.get_mut(&key) {
            Some(series) => series,
            None => {
                self.entries += 1;
                new_series = true;
                let fresh = match (line.metric_type, &observer) {
                    (MetricType::Counter, _) => Series::Counter {
                        value: 0,
                        timestamp: None,
                    },
                    (MetricType::Gauge, _) => Series::Gauge {
                        value: 0.0,
                        time: now,
                    },
                    (MetricType::Set, _) => Series::Set(HashSet::new()),
                    (_, Some(Observer::Summary(_))) => Series::Summary(Vec::new()),
                    (_, Some(Observer::Histogram(max_size))) => {
                        Series::Histogram(ExpoHistogram::new(*max_size))
                    }
                    _ => Series::Samples(Vec::new()),
                };
                series_map.entry(key).or_insert(fresh)
            }
        };
        let weight = line.sample_rate.map_or(1.0, |rate| 1.0 / rate);
        let (entries, mut dropped) = (&mut self.entries, 0);
        // Whether one more stored value fits the budget (and takes its entry).
        let mut paid_first = new_series;
        let mut admit = || {
            if std::mem::take(&mut paid_first) {
                return true;
            }
            if *entries >= budget {
                dropped += 1;
                return false;
            }
            *entries += 1;
            true
        };
        match (series, line.values) {
            (Series::Counter { value, timestamp }, Values::Numbers(numbers)) => {
                for number in numbers {
                    // As Go: each value over its rate, truncated to an integer.
                    *value = value.saturating_add((number.value * weight) as i64);
                }
                if line.timestamp_unix_nano.is_some() {
                    *timestamp = line.timestamp_unix_nano;
                }
            }
            (Series::Gauge { value, time }, Values::Numbers(numbers)) => {
                for (i, number) in numbers.into_iter().enumerate() {
                    // As Go: a signed value changes the gauge, unless it is the first
                    // value of the interval, which sets it.
                    if number.signed && !(new_series && i == 0) {
                        *value += number.value;
                    } else {
                        *value = number.value;
                        *time = now;
                    }
                }
                if let Some(t) = line.timestamp_unix_nano {
                    *time = t;
                }
            }
            (Series::Samples(samples), Values::Numbers(numbers)) => {
                for number in numbers {
                    if admit() {
                        samples.push((number.value, now));
                    }
                }
            }
            (Series::Summary(points), Values::Numbers(numbers)) => {
                for number in numbers {
                    if admit() {
                        points.push((number.value, weight));
                    }
                }
            }
            (Series::Histogram(histogram), Values::Numbers(numbers)) => {
                for number in numbers {
                    // As Go: the weight rounds down to a whole count.
                    histogram.update(number.value, weight as u64);
                }
            }
            (Series::Set(members), Values::Members(values)) => {
                for member in values {
                    if !members.contains(&member) && admit() {
                        members.insert(member);
                    }
                }
            }
            // A series' type is part of its key, so its values always match it.
            _ => {}
        }
        self.dropped += dropped;
        dropped
    }

    /// How many series the interval holds.
    #[cfg(test)]
    pub(crate) fn series_count(&self) -> usize {
        self.clients.values().map(BTreeMap::len).sum()
    }

    /// Ends the interval at `now`: the batch (one resource per client) and how many values
    /// the budget dropped; the next interval starts empty at `now`.
    pub(crate) fn flush(&mut self, now: u64) -> (Metrics, usize) {
        let clients = std::mem::take(&mut self.clients);
        let (start, dropped) = (self.interval_start, self.dropped);
        self.interval_start = now;
        self.entries = 0;
        self.dropped = 0;
        let mut batch = MetricsBuilder::new();
        for (client, series) in clients {
            let mut resource = Vec::new();
            if let Some(address) = client.address {
                resource.push(key_value("source.address", address.to_string()));
            }
            if let Some(port) = client.port {
                resource.push(key_value("source.port", i64::from(port)));
            }
            batch
                .resource(resource)
                .scope(SCOPE_NAME, &self.settings.version);
            for (key, series) in series {
                self.emit(&mut batch, key, series, start, now);
            }
        }
        (batch.build(), dropped)
    }

    fn emit(
        &self,
        batch: &mut MetricsBuilder,
        key: SeriesKey,
        series: Series,
        start: u64,
        now: u64,
    ) {
        let attributes: Vec<KeyValue> = key
            .attributes
            .into_iter()
            .map(|(k, v)| key_value(k, v))
            .collect();
        let name = &key.name;
        // The builder refuses only malformed points, which these never are.
        let _ = match series {
            Series::Counter { value, timestamp } => {
                batch
                    .sum(
                        name,
                        "",
                        Temporality::Delta,
                        self.settings.is_monotonic_counter,
                    )
                    .int(attributes, start, timestamp.unwrap_or(now), value);
                Ok(())
            }
            Series::Gauge { value, time } => {
                batch.gauge(name, "").double(attributes, time, value);
                Ok(())
            }
            Series::Samples(samples) => {
                let mut gauge = batch.gauge(name, "");
                for (value, time) in samples {
                    gauge.double(attributes.clone(), time, value);
                }
                Ok(())
            }
            Series::Set(members) => {
                batch
                    .gauge(name, "")
                    .int(attributes, now, members.len() as i64);
                Ok(())
            }
            Series::Summary(points) => {
                let percentiles = match self.settings.observer(key.metric_type) {
                    Observer::Summary(p) => p.as_slice(),
                    _ => &DEFAULT_PERCENTILES,
                };
                batch
                    .summary(name, "")
                    .point(attributes, start, now, summary(points, percentiles))
                    .map(|_| ())
            }
            Series::Histogram(histogram) => batch
                .exponential_histogram(name, "", Temporality::Delta)
                .point(attributes, start, now, histogram.to_value())
                .map(|_| ()),
        };
    }
}

fn value_count(values: &Values) -> usize {
    match values {
        Values::Numbers(numbers) => numbers.len(),
        Values::Members(members) => members.len(),
    }
}

/// A summary of weighted values: count (rounded down, as Go), sum, and each percentile
/// as gonum's empirical quantile (the smallest value whose cumulative weight reaches
/// `p` of the total).
fn summary(mut points: Vec<(f64, f64)>, percentiles: &[f64]) -> SummaryValue {
    let total: f64 = points.iter().map(|(_, w)| w).sum();
    let sum: f64 = points.iter().map(|(v, w)| v * w).sum();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut value = SummaryValue::new(total as u64, sum);
    for p in percentiles {
        let target = p / 100.0 * total;
        let mut cumulative = 0.0;
        let quantile = points
            .iter()
            .find(|(_, w)| {
                cumulative += w;
                cumulative >= target
            })
            .or(points.last())
            .map_or(0.0, |(v, _)| *v);
        value = value.quantile(p / 100.0, quantile);
    }
    value
}
