//! The running exporter: batches fold into the accumulator; the `/metrics` server answers
//! scrapes from it.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use axum::Router;
use axum::http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use flate2::Compression;
use flate2::write::GzEncoder;
use tributary_pipeline_core::component::{ComponentError, CreateSettings, Host};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::server::{LogThrottle, RunningServer};
use tributary_pipeline_core::telemetry::Counter;
use tributary_translator_prometheus::exposition::{Format, encode};
use tributary_translator_prometheus::labels::LabelOptions;
use tributary_translator_prometheus::normalize::MetricNamer;

use super::accumulator::{Accumulator, MAX_SERIES};
use super::config::Config;
use super::families::FamilyBuilder;

/// What a scrape reads: the series and how to write them.
pub(crate) struct Registry {
    accumulator: Accumulator,
    builder: FamilyBuilder,
    open_metrics: bool,
}

impl Registry {
    pub(crate) fn new(config: &Config) -> Result<Self, String> {
        let strategy = config.strategy().map_err(|e| e.to_string())?;
        let namer = MetricNamer::new(config.namespace.clone(), strategy);
        Ok(Registry {
            accumulator: Accumulator::new(config.metric_expiration, MAX_SERIES),
            builder: FamilyBuilder {
                labels: LabelOptions {
                    resource_to_telemetry: config.resource_to_telemetry_conversion.enabled,
                    scope_labels: true,
                    utf8_allowed: namer.utf8_allowed,
                },
                namer,
                const_labels: config.const_labels.clone(),
                send_timestamps: config.send_timestamps,
            },
            open_metrics: config.enable_open_metrics,
        })
    }

    pub(crate) fn accumulator(&self) -> &Accumulator {
        &self.accumulator
    }

    /// The exposition for a scrape with these request headers: the body, its content
    /// type, and whether it is gzipped.
    pub(crate) fn scrape(&self, headers: &HeaderMap) -> (Vec<u8>, Format, bool) {
        let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
        let format = Format::negotiate(accept, self.open_metrics);
        let series = self.accumulator.snapshot(Instant::now());
        let text = encode(&self.builder.families(&series), format);
        if accepts_gzip(headers) {
            let mut gz = GzEncoder::new(Vec::with_capacity(text.len() / 4), Compression::fast());
            // Writing to a Vec cannot fail.
            if gz.write_all(text.as_bytes()).is_ok()
                && let Ok(body) = gz.finish()
            {
                return (body, format, true);
            }
        }
        (text.into_bytes(), format, false)
    }
}

/// Whether `Accept-Encoding` allows gzip (present with `q` above 0).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let q = parts
                .find_map(|p| p.strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f64>().ok())
                .unwrap_or(1.0);
            (name.eq_ignore_ascii_case("gzip") || name == "*") && q > 0.0
        })
}

/// The `prometheus` exporter.
pub(crate) struct PrometheusExporter {
    config: Config,
    settings: CreateSettings,
    registry: Arc<Registry>,
    serving: Mutex<Option<(RunningServer, SocketAddr)>>,
    skipped: Counter,
    over_limit: Counter,
    /// One warning a minute at most about refused series.
    over_limit_log: LogThrottle,
}

impl PrometheusExporter {
    pub(crate) fn new(settings: &CreateSettings, config: &Config) -> Result<Self, String> {
        let id = settings.id().to_string();
        let labels = [("exporter", id.as_str())];
        Ok(PrometheusExporter {
            registry: Arc::new(Registry::new(config)?),
            config: config.clone(),
            settings: settings.clone(),
            serving: Mutex::new(None),
            over_limit_log: LogThrottle::new(std::time::Duration::from_secs(60)),
            skipped: settings.metrics().counter(
                "otelcol_exporter_prometheus_skipped_data_points",
                "Data points Prometheus cannot represent (delta up-down sums, unspecified temporality, malformed histograms) or older than the stored point.",
                &labels,
            ),
            over_limit: settings.metrics().counter(
                "otelcol_exporter_prometheus_refused_series_data_points",
                "Data points of new series refused because the exporter holds its most series.",
                &labels,
            ),
        })
    }

    fn serving(&self) -> std::sync::MutexGuard<'_, Option<(RunningServer, SocketAddr)>> {
        self.serving.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Export<Metrics> for PrometheusExporter {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let registry = Arc::clone(&self.registry);
        let router = Router::new().route(
            "/metrics",
            get(move |headers: HeaderMap| {
                let registry = Arc::clone(&registry);
                async move {
                    // Building and encoding a large exposition is CPU work: off the runtime.
                    let scraped =
                        tokio::task::spawn_blocking(move || registry.scrape(&headers)).await;
                    match scraped {
                        Ok((body, format, gzipped)) => {
                            let mut response =
                                ([(CONTENT_TYPE, format.content_type())], body).into_response();
                            response
                                .headers_mut()
                                .insert(VARY, "Accept, Accept-Encoding".parse().expect("static"));
                            if gzipped {
                                response
                                    .headers_mut()
                                    .insert(CONTENT_ENCODING, "gzip".parse().expect("static"));
                            }
                            response
                        }
                        Err(_) => (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "collecting metrics failed",
                        )
                            .into_response(),
                    }
                }
            }),
        );
        let (server, local) = self
            .config
            .server
            .serve(&self.settings, host, "prometheus", router)
            .await?;
        let lost_race = {
            let mut serving = self.serving();
            if serving.is_some() {
                Some(server)
            } else {
                self.settings.span().in_scope(|| {
                    tracing::info!(endpoint = %local, "serving Prometheus metrics at http://{local}/metrics");
                });
                *serving = Some((server, local));
                None
            }
        };
        if let Some(server) = lost_race {
            server.stop().await;
            return Err(ComponentError::new(
                "the prometheus exporter is already started",
            ));
        }
        Ok(())
    }

    async fn export(&self, data: Metrics) -> Result<(), ConsumeError> {
        let done = self
            .registry
            .accumulator()
            .accumulate(data.request(), Instant::now());
        if done.skipped > 0 {
            self.skipped.add(done.skipped as u64);
        }
        if done.over_limit > 0 {
            self.over_limit.add(done.over_limit as u64);
            if self.over_limit_log.hit().is_some() {
                self.settings.span().in_scope(|| {
                    tracing::warn!(
                    refused = done.over_limit,
                    series = self.registry.accumulator().len(),
                    "the prometheus exporter holds its most series ({MAX_SERIES}); data points of new series were dropped until others expire"
                );
                });
            }
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let serving = self.serving().take();
        if let Some((server, _)) = serving {
            server.stop().await;
        }
        Ok(())
    }
}
