//! A small registry of counters and gauges, rendered in the Prometheus text format.
//!
//! The collector's own metrics (`otelcol_receiver_accepted_spans`, ...) are few, labelled by
//! component, and read by a scraper every few seconds, so a mutex-guarded map of atomics is
//! plenty: recording is one atomic add on a handle the component keeps.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// A monotonically increasing count. Cheap to clone; every clone adds to the same series.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down (a queue's size). The series disappears from the registry
/// once every clone of the handle is dropped, so a removed component's gauge does not
/// linger with a stale value.
#[derive(Clone, Debug, Default)]
pub struct Gauge(Arc<AtomicI64>);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }

    /// Adds `delta` (may be negative).
    pub fn add(&self, delta: i64) {
        self.0.fetch_add(delta, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A gauge computed when the registry is rendered (process CPU time, RSS).
pub type GaugeFn = Arc<dyn Fn() -> f64 + Send + Sync>;

/// A series' label pairs, in the order given.
type Labels = Vec<(String, String)>;

enum Series {
    Counter(Counter),
    Gauge(Weak<AtomicI64>),
    GaugeFn(GaugeFn),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Counter,
    Gauge,
}

struct Family {
    help: String,
    kind: Kind,
    series: BTreeMap<Labels, Series>,
}

/// The collector's own metrics: a set of named, labelled counters and gauges.
///
/// Asking twice for the same name and labels returns the same series, so a component that
/// is rebuilt (on a configuration reload) keeps counting where its predecessor stopped.
///
/// ```
/// use tributary_pipeline_core::telemetry::MetricsRegistry;
/// let registry = MetricsRegistry::new();
/// let accepted = registry.counter(
///     "otelcol_receiver_accepted_spans",
///     "Number of spans successfully pushed into the pipeline.",
///     &[("receiver", "otlp"), ("transport", "grpc")],
/// );
/// accepted.add(5);
/// let text = registry.render_prometheus();
/// assert!(text.contains(r#"otelcol_receiver_accepted_spans{receiver="otlp",transport="grpc"} 5"#));
/// ```
#[derive(Clone, Default)]
pub struct MetricsRegistry {
    families: Arc<Mutex<BTreeMap<String, Family>>>,
    /// Travels with the registry so every component that can measure can also record
    /// spans, without a second handle in its settings.
    tracer: super::Tracer,
}

/// Whether a metric is a counter or a gauge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Monotonic, cumulative since the process started.
    Counter,
    /// A current value.
    Gauge,
}

/// One metric family as it reads now (see [`MetricsRegistry::snapshot`]).
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSnapshot {
    /// The registered name (`otelcol_receiver_accepted_spans`).
    pub name: String,
    /// Its description.
    pub help: String,
    /// Counter or gauge.
    pub kind: MetricKind,
    /// Each series' labels and value.
    pub series: Vec<(Vec<(String, String)>, f64)>,
}

/// How the Prometheus endpoint names metrics. The default (everything off) is the Go
/// Collector's default endpoint; a configured pull reader turns the suffixes and scope
/// labels on unless its `without_*` switches say otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrometheusNaming {
    /// Counters end in `_total`.
    pub type_suffix: bool,
    /// Names carry their unit (`_seconds`, `_bytes`) where the metric has one.
    pub units: bool,
    /// Each series carries `otel_scope_name` and `otel_scope_version`; this is the version.
    pub scope_version: Option<String>,
}

/// The unit suffix Go's Prometheus exporter adds to the collector's metrics that have a
/// unit (the others count `{spans}`-like annotations, which add nothing).
fn unit_suffix(name: &str) -> Option<&'static str> {
    match name {
        "otelcol_process_uptime" | "otelcol_process_cpu_seconds" => Some("_seconds"),
        "otelcol_process_memory_rss"
        | "otelcol_process_runtime_heap_alloc_bytes"
        | "otelcol_process_runtime_total_alloc_bytes"
        | "otelcol_process_runtime_total_sys_memory_bytes"
        | "otelcol_exporter_queue_batch_send_size_bytes"
        | "otelcol_processor_batch_batch_send_size_bytes" => Some("_bytes"),
        _ => None,
    }
}

/// The instrumentation scope the Go Collector records a metric under, shown as
/// `otel_scope_name` so dashboards that filter on it keep matching.
pub(crate) fn scope_name(name: &str) -> &'static str {
    if name.starts_with("otelcol_receiver_") {
        "go.opentelemetry.io/collector/receiver/receiverhelper"
    } else if name.starts_with("otelcol_exporter_") {
        "go.opentelemetry.io/collector/exporter/exporterhelper"
    } else if name.starts_with("otelcol_processor_batch_") {
        "go.opentelemetry.io/collector/processor/batchprocessor"
    } else if name.starts_with("otelcol_processor_") {
        "go.opentelemetry.io/collector/processor/processorhelper"
    } else {
        "go.opentelemetry.io/collector/service"
    }
}

impl PrometheusNaming {
    /// The exposed name of metric `name` of kind `kind`.
    pub fn name(&self, name: &str, kind: MetricKind) -> String {
        let mut out = name.to_string();
        if self.units
            && let Some(unit) = unit_suffix(name)
            && !out.ends_with(unit)
        {
            out.push_str(unit);
        }
        if self.type_suffix && kind == MetricKind::Counter && !out.ends_with("_total") {
            out.push_str("_total");
        }
        out
    }
}

impl std::fmt::Debug for MetricsRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsRegistry").finish_non_exhaustive()
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl MetricsRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn with_family<T>(
        &self,
        name: &str,
        help: &str,
        kind: Kind,
        edit: impl FnOnce(&mut Family) -> T,
    ) -> T {
        let mut families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let family = families.entry(name.to_string()).or_insert_with(|| Family {
            help: help.to_string(),
            kind,
            series: BTreeMap::new(),
        });
        debug_assert!(family.kind == kind, "metric {name} registered as two kinds");
        edit(family)
    }

    /// The counter with this name and labels, created at zero the first time.
    pub fn counter(&self, name: &str, help: &str, label_pairs: &[(&str, &str)]) -> Counter {
        self.with_family(name, help, Kind::Counter, |family| {
            match family.series.get(&labels(label_pairs)) {
                Some(Series::Counter(counter)) => counter.clone(),
                _ => {
                    let counter = Counter::default();
                    family
                        .series
                        .insert(labels(label_pairs), Series::Counter(counter.clone()));
                    counter
                }
            }
        })
    }

    /// The gauge with this name and labels. A live gauge is shared; a new one starts at zero.
    pub fn gauge(&self, name: &str, help: &str, label_pairs: &[(&str, &str)]) -> Gauge {
        self.with_family(name, help, Kind::Gauge, |family| {
            if let Some(Series::Gauge(weak)) = family.series.get(&labels(label_pairs))
                && let Some(value) = weak.upgrade()
            {
                return Gauge(value);
            }
            let gauge = Gauge::default();
            family
                .series
                .insert(labels(label_pairs), Series::Gauge(Arc::downgrade(&gauge.0)));
            gauge
        })
    }

    /// A gauge whose value `read` computes at each rendering. Replaces an earlier one with
    /// the same name and labels.
    pub fn gauge_fn(&self, name: &str, help: &str, label_pairs: &[(&str, &str)], read: GaugeFn) {
        self.with_family(name, help, Kind::Gauge, |family| {
            family
                .series
                .insert(labels(label_pairs), Series::GaugeFn(read));
        });
    }

    /// The current value of a counter or gauge, if it exists (for tests and health checks).
    pub fn value(&self, name: &str, label_pairs: &[(&str, &str)]) -> Option<f64> {
        let families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let series = families.get(name)?.series.get(&labels(label_pairs))?;
        read(series)
    }

    /// The sum of a metric over every series whose labels include `label_pairs`.
    pub fn sum(&self, name: &str, label_pairs: &[(&str, &str)]) -> f64 {
        let families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let Some(family) = families.get(name) else {
            return 0.0;
        };
        family
            .series
            .iter()
            .filter(|(labels, _)| {
                label_pairs
                    .iter()
                    .all(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .filter_map(|(_, series)| read(series))
            .sum()
    }

    /// The tracer recording the collector's own spans.
    pub fn tracer(&self) -> &super::Tracer {
        &self.tracer
    }

    /// Every metric's current values, families in name order (for pushing them).
    pub fn snapshot(&self) -> Vec<MetricSnapshot> {
        let families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        families
            .iter()
            .map(|(name, family)| MetricSnapshot {
                name: name.clone(),
                help: family.help.clone(),
                kind: match family.kind {
                    Kind::Counter => MetricKind::Counter,
                    Kind::Gauge => MetricKind::Gauge,
                },
                series: family
                    .series
                    .iter()
                    .filter_map(|(labels, series)| Some((labels.clone(), read(series)?)))
                    .collect(),
            })
            .filter(|m| !m.series.is_empty())
            .collect()
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4), families in
    /// name order. Gauges whose handles were all dropped are pruned.
    pub fn render_prometheus(&self) -> String {
        self.render_prometheus_with(&PrometheusNaming::default(), |_| true)
    }

    /// [`render_prometheus`](Self::render_prometheus) with `naming`, showing only the
    /// families `shown` accepts (by registered name).
    pub fn render_prometheus_with(
        &self,
        naming: &PrometheusNaming,
        shown: impl Fn(&str) -> bool,
    ) -> String {
        let mut families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        for (name, family) in families.iter_mut() {
            family.series.retain(
                |_, series| !matches!(series, Series::Gauge(weak) if weak.strong_count() == 0),
            );
            if family.series.is_empty() || !shown(name) {
                continue;
            }
            let (kind, metric_kind) = match family.kind {
                Kind::Counter => ("counter", MetricKind::Counter),
                Kind::Gauge => ("gauge", MetricKind::Gauge),
            };
            let exposed = naming.name(name, metric_kind);
            let name = &exposed;
            let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help));
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let scope = naming.scope_version.as_ref().map(|version| {
                [
                    ("otel_scope_name".to_string(), scope_name(name).to_string()),
                    ("otel_scope_version".to_string(), version.clone()),
                ]
            });
            for (labels, series) in &family.series {
                let Some(value) = read(series) else { continue };
                out.push_str(name);
                let mut all: Vec<&(String, String)> = labels.iter().collect();
                // target_info describes the resource, not a scope.
                if let Some(scope) = &scope
                    && name != "target_info"
                {
                    all.extend(scope.iter());
                }
                if !all.is_empty() {
                    out.push('{');
                    for (i, (k, v)) in all.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{k}=\"{}\"", escape_label(v));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {}", format_value(value));
            }
        }
        out
    }
}

fn read(series: &Series) -> Option<f64> {
    match series {
        Series::Counter(counter) => Some(counter.get() as f64),
        Series::Gauge(weak) => weak.upgrade().map(|v| v.load(Ordering::Relaxed) as f64),
        Series::GaugeFn(read) => Some(read()),
    }
}

fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{value}")
    }
}

fn escape_help(text: &str) -> String {
    text.replace('\\', r"\\").replace('\n', r"\n")
}

fn escape_label(text: &str) -> String {
    text.replace('\\', r"\\")
        .replace('\n', r"\n")
        .replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_name_and_labels_share_a_series() {
        let r = MetricsRegistry::new();
        r.counter("c", "help", &[("a", "1")]).add(2);
        r.counter("c", "help", &[("a", "1")]).add(3);
        r.counter("c", "help", &[("a", "2")]).add(1);
        assert_eq!(r.value("c", &[("a", "1")]), Some(5.0));
        assert_eq!(r.sum("c", &[]), 6.0);
    }

    #[test]
    fn dropped_gauges_disappear() {
        let r = MetricsRegistry::new();
        let g = r.gauge("queue_size", "h", &[("exporter", "otlp")]);
        g.set(7);
        assert!(
            r.render_prometheus()
                .contains("queue_size{exporter=\"otlp\"} 7")
        );
        drop(g);
        assert_eq!(r.render_prometheus(), "");
    }

    #[test]
    fn a_configured_reader_names_as_gos_prometheus_exporter() {
        let r = MetricsRegistry::new();
        r.counter(
            "otelcol_receiver_accepted_spans",
            "h",
            &[("receiver", "otlp")],
        )
        .add(3);
        r.gauge_fn("otelcol_process_uptime", "h", &[], Arc::new(|| 2.0));
        r.counter("otelcol_config_reloads_total", "h", &[]).inc();
        let naming = PrometheusNaming {
            type_suffix: true,
            units: true,
            scope_version: Some("1.2.3".into()),
        };
        let page = r.render_prometheus_with(&naming, |_| true);
        assert!(page.contains(
            "otelcol_receiver_accepted_spans_total{receiver=\"otlp\",otel_scope_name=\"go.opentelemetry.io/collector/receiver/receiverhelper\",otel_scope_version=\"1.2.3\"} 3"
        ), "{page}");
        assert!(
            page.contains("# TYPE otelcol_process_uptime_seconds gauge"),
            "{page}"
        );
        assert!(
            page.contains("otelcol_config_reloads_total{"),
            "no double suffix: {page}"
        );
        let hidden = r.render_prometheus_with(&PrometheusNaming::default(), |n| {
            !n.starts_with("otelcol_process")
        });
        assert!(!hidden.contains("uptime") && hidden.contains("otelcol_receiver_accepted_spans{"));
        let snapshot = r.snapshot();
        assert_eq!(snapshot.len(), 3);
        assert_eq!(snapshot[2].kind, MetricKind::Counter);
        assert_eq!(snapshot[2].series[0].1, 3.0);
    }

    #[test]
    fn renders_the_text_format() {
        let r = MetricsRegistry::new();
        r.counter("b_total", "Line one\nline \\two", &[("l", "quote\"d")])
            .inc();
        r.gauge_fn("a", "A gauge.", &[], Arc::new(|| 1.5));
        assert_eq!(
            r.render_prometheus(),
            "# HELP a A gauge.\n# TYPE a gauge\na 1.5\n\
             # HELP b_total Line one\\nline \\\\two\n# TYPE b_total counter\nb_total{l=\"quote\\\"d\"} 1\n"
        );
    }
}
