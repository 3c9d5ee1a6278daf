//! The `interval` processor: cumulative streams (and gauges and summaries unless passed
//! through) are held, each at its latest point, and sent on together once per interval.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;
use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings, Host};
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::common::v1::InstrumentationScope;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, ExponentialHistogramDataPoint, HistogramDataPoint, Metric,
    NumberDataPoint, ResourceMetrics, ScopeMetrics, SummaryDataPoint,
};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::telemetry::Counter;

use super::config::{Config, PassThrough};
use super::state::{Pending, Point};

/// Most streams held at once; points of further streams pass straight through (and are
/// counted), so what peers send cannot grow the state without bound.
pub(crate) const MAX_STREAMS: usize = 500_000;

/// The `interval` processor of one pipeline.
pub(crate) struct IntervalProcessor {
    inner: Arc<Inner>,
    started: AtomicBool,
    stop: CancellationToken,
    tasks: TaskTracker,
}

struct Inner {
    next: Next<Metrics>,
    interval: Duration,
    pass_through: PassThrough,
    max_streams: usize,
    pending: Mutex<Pending>,
    /// Set at shutdown: everything passes through from then on.
    closed: AtomicBool,
    overflow: Counter,
    settings: CreateSettings,
}

impl IntervalProcessor {
    pub fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        Self::with_max_streams(settings, config, next, MAX_STREAMS)
    }

    pub fn with_max_streams(
        settings: &CreateSettings,
        config: &Config,
        next: Next<Metrics>,
        max_streams: usize,
    ) -> Self {
        let id = settings.id().to_string();
        let overflow = settings.metrics().counter(
            "otelcol_processor_interval_streams_overflow",
            "Data points passed through unaggregated because the processor held too many streams.",
            &[("processor", id.as_str())],
        );
        IntervalProcessor {
            inner: Arc::new(Inner {
                next,
                interval: config.interval,
                pass_through: config.pass_through,
                max_streams,
                pending: Mutex::new(Pending::default()),
                closed: AtomicBool::new(false),
                overflow,
                settings: settings.clone(),
            }),
            started: AtomicBool::new(false),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }
}

#[async_trait]
impl Component for IntervalProcessor {
    /// Starts the timer that sends the held points every `interval`.
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        if self.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let inner = self.inner.clone();
        let stop = self.stop.clone();
        let ticker = self.tasks.track_future(async move {
            let mut ticks =
                tokio::time::interval_at(Instant::now() + inner.interval, inner.interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    _ = ticks.tick() => inner.flush().await,
                }
            }
        });
        let span = self.inner.settings.span().clone();
        self.inner.settings.spawn(ticker.instrument(span));
        Ok(())
    }

    /// Stops the timer and sends what is held; data arriving later passes through.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.inner.closed.store(true, Ordering::SeqCst);
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        self.inner.flush().await;
        Ok(())
    }
}

#[async_trait]
impl Consumer<Metrics> for IntervalProcessor {
    async fn consume(&self, data: Metrics) -> Result<(), ConsumeError> {
        self.inner.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}

/// Whether the metric's points are held rather than passed through: cumulative monotonic
/// sums, cumulative histograms and exponential histograms, and gauges and summaries
/// unless `pass_through` says otherwise. Deltas and non-monotonic sums pass, as in Go.
fn is_held(metric: &Metric, pass_through: PassThrough) -> bool {
    let cumulative = AggregationTemporality::Cumulative as i32;
    match &metric.data {
        Some(Data::Gauge(_)) => !pass_through.gauge,
        Some(Data::Summary(_)) => !pass_through.summary,
        Some(Data::Sum(s)) => s.is_monotonic && s.aggregation_temporality == cumulative,
        Some(Data::Histogram(h)) => h.aggregation_temporality == cumulative,
        Some(Data::ExponentialHistogram(e)) => e.aggregation_temporality == cumulative,
        None => false,
    }
}

/// Where a metric came from: its resource and scope, with their schemas.
struct Origin<'a> {
    resource: Option<&'a Resource>,
    resource_schema: &'a str,
    scope: Option<&'a InstrumentationScope>,
    scope_schema: &'a str,
}

impl Inner {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        // A panic elsewhere while holding the lock leaves the state usable.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn consume(&self, mut data: Metrics) -> Result<(), ConsumeError> {
        let holds_some = !self.closed.load(Ordering::SeqCst)
            && data
                .request()
                .resource_metrics
                .iter()
                .flat_map(|rm| &rm.scope_metrics)
                .flat_map(|sm| &sm.metrics)
                .any(|m| is_held(m, self.pass_through));
        if !holds_some {
            return self.next.consume(data).await;
        }
        let mut overflow = 0;
        {
            let mut pending = self.pending();
            let request = data.make_mut();
            for rm in &mut request.resource_metrics {
                let ResourceMetrics {
                    resource,
                    scope_metrics,
                    schema_url,
                } = rm;
                for sm in scope_metrics.iter_mut() {
                    let ScopeMetrics {
                        scope,
                        metrics,
                        schema_url: scope_schema,
                    } = sm;
                    let origin = Origin {
                        resource: resource.as_ref(),
                        resource_schema: schema_url,
                        scope: scope.as_ref(),
                        scope_schema,
                    };
                    metrics.retain_mut(|metric| {
                        if !is_held(metric, self.pass_through) {
                            return true;
                        }
                        let refused = match metric.data {
                            Some(Data::Gauge(_) | Data::Sum(_)) => {
                                self.hold::<NumberDataPoint>(&mut pending, &origin, metric)
                            }
                            Some(Data::Histogram(_)) => {
                                self.hold::<HistogramDataPoint>(&mut pending, &origin, metric)
                            }
                            Some(Data::ExponentialHistogram(_)) => self
                                .hold::<ExponentialHistogramDataPoint>(
                                &mut pending,
                                &origin,
                                metric,
                            ),
                            Some(Data::Summary(_)) => {
                                self.hold::<SummaryDataPoint>(&mut pending, &origin, metric)
                            }
                            None => 0,
                        };
                        overflow += refused;
                        refused > 0
                    });
                }
                scope_metrics.retain(|sm| !sm.metrics.is_empty());
            }
            request
                .resource_metrics
                .retain(|rm| !rm.scope_metrics.is_empty());
        }
        if overflow > 0 {
            self.overflow.add(overflow as u64);
            tracing::warn!(
                max_streams = self.max_streams,
                points = overflow,
                "interval processor holds too many streams: points passed through unaggregated"
            );
        }
        if data.item_count() == 0 {
            return Ok(());
        }
        self.next.consume(data).await
    }

    /// Holds the metric's points; those refused (too many streams) stay in the metric.
    /// Returns how many were refused.
    fn hold<P: Point>(
        &self,
        pending: &mut Pending,
        origin: &Origin<'_>,
        metric: &mut Metric,
    ) -> usize {
        let points = P::points_mut(&mut metric.data)
            .map(std::mem::take)
            .unwrap_or_default();
        let refused = pending.keep(
            origin.resource,
            origin.resource_schema,
            origin.scope,
            origin.scope_schema,
            metric,
            points,
            self.max_streams,
        );
        let count = refused.len();
        if let Some(slot) = P::points_mut(&mut metric.data) {
            *slot = refused;
        }
        count
    }

    /// Sends everything held, and forgets it.
    async fn flush(&self) {
        let request = self.pending().take();
        if request.resource_metrics.is_empty() {
            return;
        }
        if let Err(error) = self.next.consume(Metrics::new(request)).await {
            tracing::warn!(%error, "interval processor: sending the aggregated metrics failed");
        }
    }
}
