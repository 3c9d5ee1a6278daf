//! The collector's own metrics: process gauges and the Prometheus endpoint serving them.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use hyper_util::service::TowerToHyperService;

use crate::server::{RunningServer, ServerOptions};
use crate::telemetry::MetricsRegistry;

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

/// The HTTP server exposing `/metrics`.
pub(crate) struct MetricsServer {
    address: String,
    server: RunningServer,
}

impl MetricsServer {
    /// Binds `address` and serves `registry` at `/metrics` in the Prometheus text format.
    pub(crate) async fn start(
        registry: MetricsRegistry,
        address: &str,
    ) -> io::Result<MetricsServer> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let router = Router::new().route(
            "/metrics",
            get(move || {
                let registry = registry.clone();
                async move {
                    (
                        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                        registry.render_prometheus(),
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
            server,
        })
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
