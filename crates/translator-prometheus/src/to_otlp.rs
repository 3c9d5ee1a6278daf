//! Prometheus metric families → OTLP metrics, the way the Go Collector's `prometheus`
//! receiver translates a scrape; usable by any receiver that has [`Family`]s (a scrape, a
//! remote-write request, a pushgateway body).
//!
//! | Prometheus | OTLP |
//! |---|---|
//! | counter | cumulative monotonic sum (`_created` → start time) |
//! | gauge, unknown / untyped | gauge |
//! | info, stateset | cumulative non-monotonic sum |
//! | histogram | cumulative histogram (per-bucket counts; dropped without `_count`; no sum without `_sum`) |
//! | summary | summary (sum 0 without `_sum`) |
//! | gaugehistogram | dropped, as in Go |
//! | `job`, `instance` labels | resource `service.name`, `service.instance.id`, `server.address`, `server.port` (and the legacy `net.host.name`, `net.host.port`); [`Options::scheme`] gives `url.scheme` and `http.scheme` |
//! | `target_info{job,instance,...}` | its other labels join the resource's attributes; the metric is dropped |
//! | `otel_scope_name`, `otel_scope_version` labels | the scope; `otel_scope_info` labels are its attributes |
//! | staleness NaN | the point's `FLAG_NO_RECORDED_VALUE`, no value |
//! | `# HELP`, `# UNIT`, `# TYPE` | description, unit (`seconds` → `s`, `ratio` → `1`, `a_per_b` → `a/b`), `metadata["prometheus.type"]` |
//! | exemplar `trace_id`, `span_id` | the exemplar's span context; its other labels are its filtered attributes |
//!
//! Start times of cumulative points come from, in order: the series' `_created` sample;
//! with [`Options::start_time_metric`], the value of the first sample whose name matches
//! (`process_start_time_seconds`), which must then be present; else the
//! [`StartTimeAdjuster`], which remembers each series' first point and takes its time as
//! the start until the value drops (a reset), whose point starts a new run.

use std::collections::HashMap;
use std::hash::Hash;

use regex::Regex;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value,
};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, DataPointFlags, Exemplar as OtlpExemplar, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, metric::Data, number_data_point, summary_data_point,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use crate::text::{Exemplar, Family, MetricType, Sample, is_stale_nan};

/// How families are translated.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Strip `_total`, the unit and `_ratio` suffixes from names (Go's `trim_metric_suffixes`).
    pub trim_metric_suffixes: bool,
    /// Take cumulative start times from the first sample whose name matches (Go's
    /// `use_start_time_metric` with `start_time_metric_regex`); it must be present.
    pub start_time_metric: Option<Regex>,
    /// The target's scheme (`http`, `https`), for the resource's `url.scheme`.
    pub scheme: Option<String>,
    /// The scope of metrics without `otel_scope_name`: the receiver's name.
    pub scope_name: String,
    /// The version of that scope.
    pub scope_version: String,
}

/// Why a batch of families could not be translated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// `use_start_time_metric` is on and no sample matches `start_time_metric_regex`.
    #[error("use_start_time_metric is set but no metric matches start_time_metric_regex {0:?}")]
    NoStartTimeMetric(String),
}

/// Start times for cumulative series without `_created`: a series' first point starts it,
/// and a drop in value (a counter reset) starts it again. One per target, or per source
/// whose series should not mix; [`forget_older_than`](Self::forget_older_than) bounds it.
///
/// Series are keyed by `K`: the label set here, another identity where the adjuster is
/// used outside this crate (the `metricstarttime` processor keys it by OTLP stream).
#[derive(Debug)]
pub struct StartTimeAdjuster<K = String> {
    series: HashMap<K, SeriesStart, foldhash::fast::RandomState>,
}

#[derive(Debug, Clone, Copy)]
struct SeriesStart {
    start_ns: u64,
    /// The value (count for histograms and summaries) last seen, to detect a reset.
    last: f64,
    /// The sum last seen (histograms and summaries), a second reset signal.
    last_sum: f64,
    seen_ms: i64,
}

impl<K> Default for StartTimeAdjuster<K> {
    fn default() -> Self {
        StartTimeAdjuster {
            series: HashMap::default(),
        }
    }
}

impl StartTimeAdjuster {
    /// An adjuster that knows no series.
    pub fn new() -> Self {
        StartTimeAdjuster::default()
    }
}

impl<K: Hash + Eq> StartTimeAdjuster<K> {
    /// How many series it remembers.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether it remembers none.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Whether it remembers the series `key`.
    pub fn contains(&self, key: &K) -> bool {
        self.series.contains_key(key)
    }

    /// Forgets series last seen before `ms` (Unix milliseconds): a series that comes back
    /// later starts anew.
    pub fn forget_older_than(&mut self, ms: i64) {
        self.series.retain(|_, s| s.seen_ms >= ms);
    }

    /// The start time of a point of series `key` at `time_ns` with `value` (the count, for
    /// histograms and summaries) and `sum` (0 for counters): the time of the series' first
    /// point, or of the point where `value` (or `sum`, at an unchanged count) last went down.
    pub fn start(&mut self, key: K, time_ns: u64, value: f64, sum: f64) -> u64 {
        self.series
            .entry(key)
            .or_insert(SeriesStart::new(time_ns, value, sum))
            .next(time_ns, value, sum)
    }

    /// Takes over a series that someone else followed until now: its run started at
    /// `start_ns`, and its last point was `last` at `time_ns`.
    pub fn remember(&mut self, key: K, start_ns: u64, last: f64, time_ns: u64) {
        self.series.insert(
            key,
            SeriesStart {
                start_ns,
                last,
                last_sum: 0.0,
                seen_ms: (time_ns / 1_000_000) as i64,
            },
        );
    }
}

impl StartTimeAdjuster<String> {
    /// [`start`](Self::start) with a borrowed key, copied only for a series not seen
    /// before: a scrape's counters are nearly all known.
    pub fn start_str(&mut self, key: &str, time_ns: u64, value: f64, sum: f64) -> u64 {
        if let Some(entry) = self.series.get_mut(key) {
            return entry.next(time_ns, value, sum);
        }
        self.start(key.to_owned(), time_ns, value, sum)
    }
}

impl SeriesStart {
    fn new(time_ns: u64, value: f64, sum: f64) -> Self {
        SeriesStart {
            start_ns: time_ns,
            last: value,
            last_sum: sum,
            seen_ms: (time_ns / 1_000_000) as i64,
        }
    }

    /// Records a point; returns its start time.
    fn next(&mut self, time_ns: u64, value: f64, sum: f64) -> u64 {
        if value < self.last || (sum < self.last_sum && value <= self.last) {
            self.start_ns = time_ns; // a reset: this point starts a new run
        }
        self.last = value;
        self.last_sum = sum;
        self.seen_ms = (time_ns / 1_000_000) as i64;
        self.start_ns
    }
}

/// Translates `families` into one OTLP metrics request: one resource per (`job`,
/// `instance`), one scope per `otel_scope_*` pair. Samples without a timestamp get
/// `default_time_ms`.
///
/// ```
/// use tributary_translator_prometheus::text::{parse, Format, Limits};
/// use tributary_translator_prometheus::to_otlp::{to_metrics, Options, StartTimeAdjuster};
///
/// let exposition = "# TYPE up gauge\nup{job=\"node\",instance=\"a:9100\"} 1\n";
/// let families = parse(exposition.as_bytes(), Format::Text, &Limits::default()).unwrap();
/// let mut adjuster = StartTimeAdjuster::new();
/// let request = to_metrics(&families, &Options::default(), &mut adjuster, 1_700_000_000_000).unwrap();
/// let resource = request.resource_metrics[0].resource.as_ref().unwrap();
/// assert_eq!(resource.attributes[0].key, "service.name");
/// ```
pub fn to_metrics(
    families: &[Family],
    options: &Options,
    adjuster: &mut StartTimeAdjuster,
    default_time_ms: i64,
) -> Result<ExportMetricsServiceRequest, TranslateError> {
    let mut out = Output::default();
    // Resource and scope attributes first: they may come after the metrics they describe.
    for family in families {
        for sample in &family.samples {
            if sample.name == "target_info" {
                let attrs = out.resource(options, sample).1;
                for (name, value) in &sample.labels {
                    if name != "job" && name != "instance" {
                        set_attr(attrs, name, value);
                    }
                }
            } else if sample.name == "otel_scope_info" {
                let scope = out.scope(options, sample);
                for (name, value) in &sample.labels {
                    if !is_identity_label(name) {
                        set_attr(
                            &mut scope.scope.get_or_insert_default().attributes,
                            name,
                            value,
                        );
                    }
                }
            }
        }
    }
    let start_metric = match &options.start_time_metric {
        None => None,
        Some(regex) => Some(
            families
                .iter()
                .flat_map(|f| &f.samples)
                .find(|s| regex.is_match(&s.name) && s.value.is_finite())
                .map(|s| seconds_to_ns(s.value))
                .ok_or_else(|| TranslateError::NoStartTimeMetric(regex.as_str().to_owned()))?,
        ),
    };
    let ctx = Context {
        options,
        default_time_ms,
        start_metric,
    };
    for family in families {
        match family.metric_type {
            MetricType::GaugeHistogram => {}
            MetricType::Histogram => ctx.histogram(family, &mut out, adjuster),
            MetricType::Summary => ctx.summary(family, &mut out, adjuster),
            _ => ctx.numbers(family, &mut out, adjuster),
        }
    }
    Ok(out.finish())
}

/// The metric, without points, that [`to_metrics`] puts a sample of `family` named
/// `sample_name` into when the family is a counter, gauge or unknown (a cumulative
/// monotonic sum, or a gauge): its name, description, unit and `prometheus.type`, and its
/// data with no points. `None` for other types. For a receiver that writes the points of
/// such series itself.
pub fn number_metric(family: &Family, sample_name: &str, options: &Options) -> Option<Metric> {
    let data = match family.metric_type {
        MetricType::Counter => Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
        MetricType::Gauge | MetricType::Unknown => Data::Gauge(Gauge::default()),
        _ => return None,
    };
    let ctx = Context::naming(options);
    let name = ctx.metric_name(family, sample_name).to_owned();
    Some(ctx.new_metric(family, name, data))
}

/// The attributes [`to_metrics`] gives the point of a sample with `labels`: all but those
/// naming its resource and scope (`job`, `instance`, `otel_scope_*`), sorted by name.
pub fn point_key_values(labels: &[(String, String)]) -> Vec<KeyValue> {
    to_key_values(&label_attributes(labels, ""))
}

/// The name [`to_metrics`] gives the metric of a sample of `family` named `sample_name`
/// (a counter or an info keeps its suffix; `trim_metric_suffixes` trims).
pub fn number_metric_name<'n>(family: &Family, sample_name: &'n str, options: &Options) -> &'n str {
    Context::naming(options).metric_name(family, sample_name)
}

/// The key under which [`to_metrics`] asks the [`StartTimeAdjuster`] for the start of a
/// number point of `metric` (its OTLP name) from a sample with `labels`.
pub fn start_key(metric: &str, labels: &[(String, String)]) -> String {
    let mut key = String::new();
    series_key(&mut key, metric, labels, &label_attributes(labels, ""));
    key
}

/// Whether a sample with `labels` belongs to the default scope (no `otel_scope_name`
/// or `otel_scope_version`) of the resource of `job` and `instance`.
pub fn in_resource_and_default_scope(
    labels: &[(String, String)],
    job: Option<&str>,
    instance: Option<&str>,
) -> bool {
    let label = |name| label_value(labels, name);
    label("job") == job
        && label("instance") == instance
        && label("otel_scope_name").is_none()
        && label("otel_scope_version").is_none()
}

/// The value of label `name` in `labels`.
fn label_value<'l>(labels: &'l [(String, String)], name: &str) -> Option<&'l str> {
    labels
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Labels that say where a sample belongs rather than what it measures.
fn is_identity_label(name: &str) -> bool {
    matches!(
        name,
        "job" | "instance" | "otel_scope_name" | "otel_scope_version" | "__name__"
    )
}

fn set_attr(attrs: &mut Vec<KeyValue>, key: &str, value: &str) {
    let value = Some(AnyValue {
        value: Some(any_value::Value::StringValue(value.to_owned())),
    });
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => attrs.push(KeyValue {
            key: key.to_owned(),
            value,
            ..Default::default()
        }),
    }
}

fn string_attr(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_owned())),
        }),
        ..Default::default()
    }
}

/// The resource attributes Go's receiver gives a target's metrics.
pub fn resource_attributes(
    job: Option<&str>,
    instance: Option<&str>,
    scheme: Option<&str>,
) -> Vec<KeyValue> {
    let mut attrs = Vec::new();
    if let Some(job) = job {
        attrs.push(string_attr("service.name", job));
    }
    if let Some(instance) = instance {
        attrs.push(string_attr("service.instance.id", instance));
        let (host, port) = match instance.rsplit_once(':') {
            Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                (host.trim_start_matches('[').trim_end_matches(']'), port)
            }
            _ => (instance, ""),
        };
        attrs.push(string_attr("server.address", host));
        attrs.push(string_attr("net.host.name", host));
        if !port.is_empty() {
            attrs.push(string_attr("server.port", port));
            attrs.push(string_attr("net.host.port", port));
        }
    }
    if let Some(scheme) = scheme {
        attrs.push(string_attr("url.scheme", scheme));
        attrs.push(string_attr("http.scheme", scheme));
    }
    attrs
}

fn seconds_to_ns(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1e9).min(u64::MAX as f64) as u64
    } else {
        0
    }
}

fn ms_to_ns(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

/// The request being built: resources by (job, instance), scopes by (name, version).
///
/// The samples of a scrape share one resource and scope, and a family's samples one
/// metric: the last of each found is remembered, so most samples are placed without
/// building an owned key.
#[derive(Default)]
struct Output {
    resources: Vec<ResourceMetrics>,
    resource_index: HashMap<(Option<String>, Option<String>), usize>,
    scope_index: HashMap<(usize, String, String), usize>,
    metric_index: HashMap<(usize, usize, String), usize>,
    last_resource: Option<(Option<String>, Option<String>, usize)>,
    last_scope: Option<(usize, String, String, usize)>,
    last_metric: Option<(usize, usize, String, usize)>,
}

impl Output {
    fn resource(&mut self, options: &Options, sample: &Sample) -> (usize, &mut Vec<KeyValue>) {
        let index = self.resource_index_of(options, sample);
        let resource = self.resources[index].resource.get_or_insert_default();
        (index, &mut resource.attributes)
    }

    fn resource_index_of(&mut self, options: &Options, sample: &Sample) -> usize {
        let (job, instance) = (sample.label("job"), sample.label("instance"));
        if let Some((last_job, last_instance, index)) = &self.last_resource
            && last_job.as_deref() == job
            && last_instance.as_deref() == instance
        {
            return *index;
        }
        let key = (job.map(str::to_owned), instance.map(str::to_owned));
        let index = match self.resource_index.get(&key) {
            Some(&index) => index,
            None => {
                let index = self.resources.len();
                self.resources.push(ResourceMetrics {
                    resource: Some(Resource {
                        attributes: resource_attributes(
                            key.0.as_deref(),
                            key.1.as_deref(),
                            options.scheme.as_deref(),
                        ),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                self.resource_index.insert(key.clone(), index);
                index
            }
        };
        self.last_resource = Some((key.0, key.1, index));
        index
    }

    fn scope(&mut self, options: &Options, sample: &Sample) -> &mut ScopeMetrics {
        let (resource, scope) = self.scope_index_of(options, sample);
        &mut self.resources[resource].scope_metrics[scope]
    }

    /// The indexes of `sample`'s resource and of its scope within it.
    fn scope_index_of(&mut self, options: &Options, sample: &Sample) -> (usize, usize) {
        let resource = self.resource_index_of(options, sample);
        let (name, version) = match sample.label("otel_scope_name") {
            Some(name) => (name, sample.label("otel_scope_version").unwrap_or("")),
            None => (options.scope_name.as_str(), options.scope_version.as_str()),
        };
        if let Some((last_resource, last_name, last_version, index)) = &self.last_scope
            && *last_resource == resource
            && last_name == name
            && last_version == version
        {
            return (resource, *index);
        }
        let key = (resource, name.to_owned(), version.to_owned());
        let scopes = &mut self.resources[resource].scope_metrics;
        let index = *self.scope_index.entry(key).or_insert_with(|| {
            scopes.push(ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: name.to_owned(),
                    version: version.to_owned(),
                    ..Default::default()
                }),
                ..Default::default()
            });
            scopes.len() - 1
        });
        self.last_scope = Some((resource, name.to_owned(), version.to_owned(), index));
        (resource, index)
    }

    /// The metric `name` of `sample`'s resource and scope, made by `make` the first time.
    fn metric(
        &mut self,
        options: &Options,
        sample: &Sample,
        name: &str,
        make: impl FnOnce() -> Metric,
    ) -> &mut Metric {
        let (resource, scope) = self.scope_index_of(options, sample);
        let metrics = &mut self.resources[resource].scope_metrics[scope].metrics;
        if let Some((last_resource, last_scope, last_name, index)) = &self.last_metric
            && (*last_resource, *last_scope) == (resource, scope)
            && last_name == name
        {
            return &mut metrics[*index];
        }
        let index = *self
            .metric_index
            .entry((resource, scope, name.to_owned()))
            .or_insert_with(|| {
                metrics.push(make());
                metrics.len() - 1
            });
        self.last_metric = Some((resource, scope, name.to_owned(), index));
        &mut metrics[index]
    }

    fn finish(self) -> ExportMetricsServiceRequest {
        let mut resource_metrics = self.resources;
        for resource in &mut resource_metrics {
            resource.scope_metrics.retain(|s| !s.metrics.is_empty());
        }
        resource_metrics.retain(|r| !r.scope_metrics.is_empty());
        ExportMetricsServiceRequest { resource_metrics }
    }
}

struct Context<'a> {
    options: &'a Options,
    default_time_ms: i64,
    start_metric: Option<u64>,
}

/// A point's attributes, borrowed from its sample: the labels but those naming its resource
/// and scope and `skip` (`le`, `quantile`), sorted by name.
type Attrs<'f> = Vec<(&'f str, &'f str)>;

/// The attributes of `sample`'s point (see [`Attrs`]).
fn point_attributes<'f>(sample: &'f Sample, skip: &str) -> Attrs<'f> {
    label_attributes(&sample.labels, skip)
}

/// [`point_attributes`] of a label list.
fn label_attributes<'f>(labels: &'f [(String, String)], skip: &str) -> Attrs<'f> {
    let mut labels: Attrs<'f> = labels
        .iter()
        .filter(|(name, _)| !is_identity_label(name) && name != skip)
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    labels.sort_unstable();
    labels
}

fn to_key_values(labels: &[(&str, &str)]) -> Vec<KeyValue> {
    labels.iter().map(|(k, v)| string_attr(k, v)).collect()
}

/// The identity of one series for the start-time adjuster, written into `key` (cleared
/// first; a buffer kept across samples, so a known series costs no allocation).
fn series_key(key: &mut String, metric: &str, labels: &[(String, String)], attrs: &[(&str, &str)]) {
    let label = |name| label_value(labels, name).unwrap_or("");
    key.clear();
    for part in [label("job"), label("instance"), metric] {
        key.push_str(part);
        key.push('\u{0}');
    }
    for (name, value) in attrs {
        key.push_str(name);
        key.push('\u{1}');
        key.push_str(value);
        key.push('\u{0}');
    }
}

/// An OTel unit from an OpenMetrics unit word: `seconds` → `s`, `ratio` → `1`, `a_per_b` → `a/b`.
pub fn unit_from_prometheus(unit: &str) -> String {
    fn word(w: &str) -> &str {
        match w {
            "seconds" => "s",
            "milliseconds" => "ms",
            "microseconds" => "us",
            "nanoseconds" => "ns",
            "minutes" => "min",
            "hours" => "h",
            "days" => "d",
            "bytes" => "By",
            "kilobytes" => "kBy",
            "megabytes" => "MBy",
            "gigabytes" => "GBy",
            "kibibytes" => "KiBy",
            "mebibytes" => "MiBy",
            "gibibytes" => "GiBy",
            "percent" => "%",
            "celsius" => "Cel",
            "hertz" => "Hz",
            "volts" => "V",
            "amperes" => "A",
            "joules" => "J",
            "watts" => "W",
            "grams" => "g",
            "meters" => "m",
            "ratio" => "1",
            "second" => "s",
            "minute" => "min",
            "hour" => "h",
            "day" => "d",
            other => other,
        }
    }
    match unit.split_once("_per_") {
        Some((a, b)) => format!("{}/{}", word(a), word(b)),
        None => word(unit).to_owned(),
    }
}

impl<'a> Context<'a> {
    /// A context for naming metrics alone (no points, so no times).
    fn naming(options: &'a Options) -> Self {
        Context {
            options,
            default_time_ms: 0,
            start_metric: None,
        }
    }

    fn time_ns(&self, sample: &Sample) -> u64 {
        ms_to_ns(sample.timestamp_ms.unwrap_or(self.default_time_ms))
    }

    /// The OTLP name of a family's metric, `sample_name` for counters and infos (which
    /// keep `_total` / `_info`), the family's name otherwise.
    fn metric_name<'n>(&self, family: &Family, name: &'n str) -> &'n str {
        if !self.options.trim_metric_suffixes {
            return name;
        }
        let mut name = name;
        if family.metric_type == MetricType::Counter {
            name = name.strip_suffix("_total").unwrap_or(name);
        }
        if let Some(unit) = family.unit.as_deref().filter(|u| !u.is_empty()) {
            name = name.strip_suffix(&format!("_{unit}")).unwrap_or(name);
        }
        if family.metric_type == MetricType::Gauge {
            name = name.strip_suffix("_ratio").unwrap_or(name);
        }
        name
    }

    fn new_metric(&self, family: &Family, name: String, data: Data) -> Metric {
        Metric {
            name,
            description: family.help.clone().unwrap_or_default(),
            unit: family
                .unit
                .as_deref()
                .map(unit_from_prometheus)
                .unwrap_or_default(),
            metadata: vec![string_attr("prometheus.type", family.metric_type.as_str())],
            data: Some(data),
        }
    }

    /// Counters, gauges, unknowns, infos and statesets: one number point per sample.
    fn numbers(&self, family: &Family, out: &mut Output, adjuster: &mut StartTimeAdjuster) {
        let cumulative = matches!(
            family.metric_type,
            MetricType::Counter | MetricType::Info | MetricType::StateSet
        );
        // `_created` samples of counters, by point attributes.
        let mut created: HashMap<Attrs<'_>, u64> = HashMap::new();
        // The adjuster's key of each sample, written into one buffer.
        let mut key = String::new();
        if family.metric_type == MetricType::Counter {
            for sample in &family.samples {
                if sample.name.ends_with("_created") && sample.name != family.name {
                    created.insert(point_attributes(sample, ""), seconds_to_ns(sample.value));
                }
            }
        }
        for sample in &family.samples {
            if sample.name == "target_info" || sample.name == "otel_scope_info" {
                continue;
            }
            if family.metric_type == MetricType::Counter
                && sample.name.ends_with("_created")
                && sample.name != family.name
            {
                continue;
            }
            let name = self.metric_name(family, &sample.name);
            let attrs = point_attributes(sample, "");
            let time = self.time_ns(sample);
            let stale = is_stale_nan(sample.value);
            let start = if !cumulative {
                0
            } else if let Some(&created) = created.get(&attrs) {
                created
            } else if let Some(start) = self.start_metric {
                start
            } else if stale {
                0
            } else {
                series_key(&mut key, name, &sample.labels, &attrs);
                adjuster.start_str(&key, time, sample.value, 0.0)
            };
            let point = NumberDataPoint {
                attributes: to_key_values(&attrs),
                start_time_unix_nano: start,
                time_unix_nano: time,
                exemplars: sample.exemplar.iter().map(|e| exemplar(e, time)).collect(),
                flags: if stale {
                    DataPointFlags::NoRecordedValueMask as u32
                } else {
                    0
                },
                value: (!stale).then_some(number_data_point::Value::AsDouble(sample.value)),
            };
            let monotonic = family.metric_type == MetricType::Counter;
            let metric = out.metric(self.options, sample, name, || {
                let data = if cumulative {
                    Data::Sum(Sum {
                        data_points: Vec::new(),
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        is_monotonic: monotonic,
                    })
                } else {
                    Data::Gauge(Gauge::default())
                };
                self.new_metric(family, name.to_owned(), data)
            });
            match &mut metric.data {
                Some(Data::Sum(sum)) => sum.data_points.push(point),
                Some(Data::Gauge(gauge)) => gauge.data_points.push(point),
                _ => {}
            }
        }
    }

    /// Groups a histogram's or summary's samples into points by their attributes (less
    /// `le` / `quantile`) and time.
    fn group<'f>(&self, family: &'f Family, skip: &str) -> Vec<Group<'f>> {
        let mut groups: Vec<Group<'f>> = Vec::new();
        let mut index: HashMap<PointKey<'f>, usize> = HashMap::new();
        for sample in &family.samples {
            let attrs = point_attributes(sample, skip);
            // `_created` carries no timestamp of the point's own.
            let time = if sample.name.ends_with("_created") {
                None
            } else {
                sample.timestamp_ms
            };
            let at = *index.entry((attrs.clone(), time)).or_insert_with(|| {
                groups.push(Group {
                    attrs,
                    first: sample,
                    samples: Vec::new(),
                });
                groups.len() - 1
            });
            groups[at].samples.push(sample);
        }
        // Attach `_created` samples (time None) to the points of the same attributes.
        let (created, mut points): (Vec<_>, Vec<_>) = groups
            .into_iter()
            .partition(|g| g.samples.iter().all(|s| s.name.ends_with("_created")));
        for c in created {
            for point in points.iter_mut().filter(|p| p.attrs == c.attrs) {
                point.samples.extend(c.samples.iter().copied());
            }
        }
        points
    }

    fn histogram(&self, family: &Family, out: &mut Output, adjuster: &mut StartTimeAdjuster) {
        let name = self.metric_name(family, &family.name);
        // The adjuster's key of each point, written into one buffer.
        let mut key = String::new();
        for group in self.group(family, "le") {
            let (mut buckets, mut count, mut sum, mut created) = (Vec::new(), None, None, None);
            let mut exemplars = Vec::new();
            let mut stale = false;
            let mut time_sample = group.first;
            for &sample in &group.samples {
                let suffix = &sample.name[family.name.len().min(sample.name.len())..];
                stale |= is_stale_nan(sample.value);
                match suffix {
                    "_bucket" => {
                        if let Some(le) = sample.label("le").and_then(crate::text::parse_float) {
                            buckets.push((le, sample.value));
                        }
                        time_sample = sample;
                        if let Some(e) = &sample.exemplar {
                            exemplars.push(e);
                        }
                    }
                    "_count" => {
                        count = Some(sample.value);
                        time_sample = sample;
                    }
                    "_sum" => sum = Some(sample.value),
                    "_created" => created = Some(seconds_to_ns(sample.value)),
                    _ => {}
                }
            }
            let time = self.time_ns(time_sample);
            let mut point = HistogramDataPoint {
                attributes: to_key_values(&group.attrs),
                time_unix_nano: time,
                ..Default::default()
            };
            if stale {
                point.flags = DataPointFlags::NoRecordedValueMask as u32;
            } else {
                let Some(count) = count else { continue }; // Go drops it too
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut previous = 0.0;
                for &(le, cumulative) in &buckets {
                    if le.is_infinite() && le > 0.0 {
                        continue;
                    }
                    point.explicit_bounds.push(le);
                    point.bucket_counts.push(to_count(cumulative - previous));
                    previous = cumulative.max(previous);
                }
                if !buckets.is_empty() {
                    point.bucket_counts.push(to_count(count - previous));
                }
                point.count = to_count(count);
                point.sum = sum;
                point.start_time_unix_nano = created.or(self.start_metric).unwrap_or_else(|| {
                    series_key(&mut key, name, &group.first.labels, &group.attrs);
                    adjuster.start_str(&key, time, count, sum.unwrap_or(0.0))
                });
                point.exemplars = exemplars.into_iter().map(|e| exemplar(e, time)).collect();
            }
            let metric = out.metric(self.options, group.first, name, || {
                self.new_metric(
                    family,
                    name.to_owned(),
                    Data::Histogram(Histogram {
                        data_points: Vec::new(),
                        aggregation_temporality: AggregationTemporality::Cumulative as i32,
                    }),
                )
            });
            if let Some(Data::Histogram(h)) = &mut metric.data {
                h.data_points.push(point);
            }
        }
    }

    fn summary(&self, family: &Family, out: &mut Output, adjuster: &mut StartTimeAdjuster) {
        let name = self.metric_name(family, &family.name);
        // The adjuster's key of each point, written into one buffer.
        let mut key = String::new();
        for group in self.group(family, "quantile") {
            let (mut quantiles, mut count, mut sum, mut created) = (Vec::new(), None, 0.0, None);
            let mut stale = false;
            let mut time_sample = group.first;
            for &sample in &group.samples {
                let suffix = &sample.name[family.name.len().min(sample.name.len())..];
                stale |= is_stale_nan(sample.value);
                match suffix {
                    "" => {
                        if let Some(q) = sample.label("quantile").and_then(crate::text::parse_float)
                        {
                            quantiles.push(summary_data_point::ValueAtQuantile {
                                quantile: q,
                                value: sample.value,
                            });
                        }
                        time_sample = sample;
                    }
                    "_count" => {
                        count = Some(sample.value);
                        time_sample = sample;
                    }
                    "_sum" => sum = sample.value,
                    "_created" => created = Some(seconds_to_ns(sample.value)),
                    _ => {}
                }
            }
            let time = self.time_ns(time_sample);
            let mut point = SummaryDataPoint {
                attributes: to_key_values(&group.attrs),
                time_unix_nano: time,
                ..Default::default()
            };
            if stale {
                point.flags = DataPointFlags::NoRecordedValueMask as u32;
            } else {
                let Some(count) = count else { continue };
                quantiles.sort_by(|a, b| a.quantile.total_cmp(&b.quantile));
                point.quantile_values = quantiles;
                point.count = to_count(count);
                point.sum = sum;
                point.start_time_unix_nano = created.or(self.start_metric).unwrap_or_else(|| {
                    series_key(&mut key, name, &group.first.labels, &group.attrs);
                    adjuster.start_str(&key, time, count, sum)
                });
            }
            let metric = out.metric(self.options, group.first, name, || {
                self.new_metric(family, name.to_owned(), Data::Summary(Summary::default()))
            });
            if let Some(Data::Summary(s)) = &mut metric.data {
                s.data_points.push(point);
            }
        }
    }
}

/// A point's identity: its attributes and time.
type PointKey<'f> = (Attrs<'f>, Option<i64>);

struct Group<'f> {
    attrs: Attrs<'f>,
    first: &'f Sample,
    samples: Vec<&'f Sample>,
}

fn to_count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.min(u64::MAX as f64) as u64
    } else {
        0
    }
}

fn hex_id<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn exemplar(e: &Exemplar, point_time_ns: u64) -> OtlpExemplar {
    let mut out = OtlpExemplar {
        time_unix_nano: e.timestamp_ms.map_or(point_time_ns, ms_to_ns),
        value: Some(exemplar::Value::AsDouble(e.value)),
        ..Default::default()
    };
    for (name, value) in &e.labels {
        match name.as_str() {
            "trace_id" if hex_id::<16>(value).is_some() => {
                out.trace_id = hex_id::<16>(value).map(Vec::from).unwrap_or_default();
            }
            "span_id" if hex_id::<8>(value).is_some() => {
                out.span_id = hex_id::<8>(value).map(Vec::from).unwrap_or_default();
            }
            _ => out.filtered_attributes.push(string_attr(name, value)),
        }
    }
    out
}

#[cfg(test)]
mod tests;
