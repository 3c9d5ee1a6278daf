//! The collector's own metrics: process gauges and the Prometheus endpoint serving them.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use hyper_util::service::TowerToHyperService;

use arc_swap::ArcSwap;

use crate::server::{RunningServer, ServerOptions};
use crate::telemetry::config::{MetricsLevel, MetricsTelemetryConfig};
use crate::telemetry::{MetricsRegistry, PrometheusNaming};

/// Registers the Go Collector's process metrics: uptime, CPU seconds, resident memory.
pub(crate) fn register_process_metrics(registry: &MetricsRegistry) {
    let started = Instant::now();
    registry.gauge_fn(
        "otelcol_process_uptime",
        "Uptime of the process in seconds.",
        &[],
        Arc::new(move || started.elapsed().as_secs_f64()),
    );
    registry.gauge_fn(
        "otelcol_process_cpu_seconds",
        "Total CPU user and system time in seconds.",
        &[],
        Arc::new(|| process_cpu_seconds().unwrap_or(f64::NAN)),
    );
    registry.gauge_fn(
        "otelcol_process_memory_rss",
        "Total physical memory (resident set size) in bytes.",
        &[],
        Arc::new(|| process_rss_bytes().unwrap_or(f64::NAN)),
    );
}

/// utime + stime of this process, from /proc/self/stat.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may contain spaces; fields after it follow the last ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant; it has no memory-safety preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| (utime + stime) / ticks as f64)
}

/// Resident set size of this process, from /proc/self/statm.
fn process_rss_bytes() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a system constant; it has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    (page > 0).then_some(pages * page as f64)
}

/// How `/metrics` renders: names and the level's families.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Exposition {
    pub naming: PrometheusNaming,
    pub level: MetricsLevel,
}

impl Exposition {
    /// The Go Collector's rendering for `config`: the default endpoint has no suffixes
    /// and no scope labels; a configured pull reader has them unless switched off.
    pub(crate) fn of(config: &MetricsTelemetryConfig, version: &str) -> Exposition {
        let naming = match config.prometheus() {
            None => PrometheusNaming::default(),
            Some(p) => PrometheusNaming {
                type_suffix: !p.without_type_suffix,
                units: !p.without_units,
                scope_version: (!p.without_scope_info).then(|| version.to_string()),
            },
        };
        Exposition {
            naming,
            level: config.level,
        }
    }
}

/// The HTTP server exposing `/metrics`.
pub(crate) struct MetricsServer {
    address: String,
    exposition: Arc<ArcSwap<Exposition>>,
    server: RunningServer,
}

impl MetricsServer {
    /// Binds `address` and serves `registry` at `/metrics` in the Prometheus text format.
    pub(crate) async fn start(
        registry: MetricsRegistry,
        address: &str,
        exposition: Exposition,
    ) -> io::Result<MetricsServer> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let exposition = Arc::new(ArcSwap::from_pointee(exposition));
        let shared = Arc::clone(&exposition);
        let router = Router::new().route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                let exposition = shared.load_full();
                async move {
                    let level = exposition.level;
                    (
                        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                        registry.render_prometheus_with(&exposition.naming, |name| {
                            // The resource is shown whatever the level.
                            name == "target_info" || level.shows(name)
                        }),
                    )
                }
            }),
        );
        let server = RunningServer::spawn(
            "internal metrics endpoint (/metrics)",
            listener.into(),
            ServerOptions::http(),
            TowerToHyperService::new(router),
            tracing::Span::current(),
            tokio::spawn,
        )?;
        Ok(MetricsServer {
            address: address.to_string(),
            exposition,
            server,
        })
    }

    /// Renders from now on as `exposition` says (a reload that keeps the address).
    pub(crate) fn set_exposition(&self, exposition: Exposition) {
        self.exposition.store(Arc::new(exposition));
    }

    /// The address as configured.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// The address bound.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Stops serving.
    pub(crate) async fn stop(self) {
        self.server.stop().await;
    }
}

/// The collector's own resource: `service.name`, `service.version` and
/// `service.instance.id` (random, the same for the whole process), overlaid with
/// `service::telemetry::resource` (where `null` removes an attribute).
pub(crate) fn resource(
    build_info: &crate::component::BuildInfo,
    configured: &std::collections::BTreeMap<String, Option<String>>,
) -> std::collections::BTreeMap<String, String> {
    let mut resource = std::collections::BTreeMap::from([
        ("service.name".to_string(), build_info.command.clone()),
        ("service.version".to_string(), build_info.version.clone()),
        ("service.instance.id".to_string(), instance_id().to_string()),
    ]);
    for (key, value) in configured {
        match value {
            Some(value) => resource.insert(key.clone(), value.clone()),
            None => resource.remove(key),
        };
    }
    resource
}

/// `target_info{...} 1`: the resource as the Prometheus exporter of the Go Collector shows
/// it, attribute names with every character Prometheus refuses turned into `_`. Keep the
/// gauge: its series goes when it is dropped (on a reload that changes the resource).
pub(crate) fn target_info(
    registry: &MetricsRegistry,
    resource: &std::collections::BTreeMap<String, String>,
) -> crate::telemetry::Gauge {
    let labels: Vec<(String, &str)> = resource
        .iter()
        .map(|(key, value)| (prometheus_name(key), value.as_str()))
        .collect();
    let labels: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let gauge = registry.gauge("target_info", "Target metadata", &labels);
    gauge.set(1);
    gauge
}

fn prometheus_name(key: &str) -> String {
    let mut name: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// This process's `service.instance.id`: a random version 4 UUID, made once. The random
/// bits come from the standard library's per-process random hash keys, which needs no
/// other dependency and is ample for telling two collector processes apart.
fn instance_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let random = || {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            hasher.finish()
        };
        let bits = (u128::from(random()) << 64) | u128::from(random());
        // Version 4, variant RFC 4122.
        let bits = (bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
        let hex = format!("{bits:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    })
}

#[cfg(test)]
mod resource_tests {
    use super::*;

    #[test]
    fn defaults_are_overlaid_and_null_removes() {
        let build = crate::component::BuildInfo::default();
        let configured = std::collections::BTreeMap::from([
            (
                "deployment.environment".to_string(),
                Some("prod".to_string()),
            ),
            ("service.name".to_string(), None),
        ]);
        let resource = resource(&build, &configured);
        assert_eq!(
            resource.get("deployment.environment").map(String::as_str),
            Some("prod")
        );
        assert!(!resource.contains_key("service.name"));
        assert_eq!(resource["service.version"], build.version);
        let id = &resource["service.instance.id"];
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4", "{id}");
        assert_eq!(id, instance_id(), "one ID per process");
    }

    #[test]
    fn target_info_shows_the_resource_with_prometheus_names() {
        let registry = MetricsRegistry::new();
        let resource = std::collections::BTreeMap::from([
            ("service.name".to_string(), "gw".to_string()),
            ("k8s.pod.name".to_string(), "a\"b".to_string()),
        ]);
        let gauge = target_info(&registry, &resource);
        let page = registry.render_prometheus();
        assert!(
            page.contains(r#"target_info{k8s_pod_name="a\"b",service_name="gw"} 1"#),
            "{page}"
        );
        drop(gauge);
        assert!(!registry.render_prometheus().contains("target_info{"));
    }
}
