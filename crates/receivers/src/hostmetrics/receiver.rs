//! The `hostmetrics` receiver: runs every configured scraper each `collection_interval`
//! (the first after `initial_delay`) on a blocking thread, and sends one batch per scrape.

use std::sync::Arc;

use tributary_pipeline_core::component::{
    Component, ComponentError, CreateError, CreateSettings, Host,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, now_unix_nano};
use tributary_pipeline_core::pdata::{Metrics, Signal};
use tributary_pipeline_core::receiverhelper::{self, ReceiverTasks};
use tributary_pipeline_core::telemetry::{Counter, ReceiverMetrics};

use super::config::Config;
use super::metadata::{self, Enabled};
use super::scrapers::{
    CpuScraper, DiskScraper, FilesystemScraper, HostFs, LoadScraper, MemoryScraper, NetworkScraper,
    PagingScraper, ProcessErrors, ProcessScraper, ProcessesScraper, Scrape, ScrapeContext,
    SystemScraper,
};

/// A running (or ready) `hostmetrics` receiver.
pub(crate) struct HostMetricsReceiver {
    config: Config,
    next: Next<Metrics>,
    collector: Arc<Collector>,
    tasks: ReceiverTasks,
}

/// The scrapers and what they report to.
pub(crate) struct Collector {
    fs: HostFs,
    scrapers: Vec<(Box<dyn Scrape>, ScraperCounters)>,
    version: String,
    metrics: ReceiverMetrics,
    span: tracing::Span,
}

/// Go's `otelcol_scraper_scraped_metric_points` / `..._errored_metric_points` per scraper.
struct ScraperCounters {
    scraped: Counter,
    errored: Counter,
}

impl Collector {
    /// The scrapers `config` names, in Go's order.
    pub(crate) fn new(
        settings: &CreateSettings,
        config: &Config,
    ) -> Result<Collector, CreateError> {
        let fs = HostFs::new(&config.root_path);
        let s = &config.scrapers;
        let invalid =
            |e: tributary_pipeline_core::component::ConfigError| CreateError::new(e.to_string());
        let mut scrapers: Vec<Box<dyn Scrape>> = Vec::new();
        if let Some(c) = &s.cpu {
            scrapers.push(Box::new(CpuScraper::new(Enabled::new(
                metadata::CPU,
                &c.metrics,
            ))));
        }
        if let Some(c) = &s.disk {
            scrapers.push(Box::new(DiskScraper {
                enabled: Enabled::new(metadata::DISK, &c.metrics),
                devices: c.filters().map_err(invalid)?,
            }));
        }
        if let Some(c) = &s.filesystem {
            scrapers.push(Box::new(FilesystemScraper {
                enabled: Enabled::new(metadata::FILESYSTEM, &c.metrics),
                filters: c.filters().map_err(invalid)?,
                include_virtual_filesystems: c.include_virtual_filesystems,
            }));
        }
        if let Some(c) = &s.load {
            scrapers.push(Box::new(LoadScraper {
                enabled: Enabled::new(metadata::LOAD, &c.metrics),
                cpu_average: c.cpu_average,
            }));
        }
        if let Some(c) = &s.memory {
            scrapers.push(Box::new(MemoryScraper {
                enabled: Enabled::new(metadata::MEMORY, &c.metrics),
            }));
        }
        if let Some(c) = &s.network {
            scrapers.push(Box::new(NetworkScraper {
                enabled: Enabled::new(metadata::NETWORK, &c.metrics),
                interfaces: c.filters().map_err(invalid)?,
            }));
        }
        if let Some(c) = &s.paging {
            scrapers.push(Box::new(PagingScraper {
                enabled: Enabled::new(metadata::PAGING, &c.metrics),
            }));
        }
        if let Some(c) = &s.processes {
            scrapers.push(Box::new(ProcessesScraper {
                enabled: Enabled::new(metadata::PROCESSES, &c.metrics),
            }));
        }
        if let Some(c) = &s.process {
            let id = settings.id().to_string();
            let errors = ProcessErrors::new(settings.metrics(), &id, c, settings.span().clone());
            let scraper =
                ProcessScraper::new(c, &fs, errors).map_err(|e| CreateError::new(e.to_string()))?;
            scrapers.push(Box::new(scraper));
        }
        if let Some(c) = &s.system {
            scrapers.push(Box::new(SystemScraper {
                enabled: Enabled::new(metadata::SYSTEM, &c.metrics),
            }));
        }
        let id = settings.id().to_string();
        let scrapers = scrapers
            .into_iter()
            .map(|scraper| {
                let labels = [("receiver", id.as_str()), ("scraper", scraper.name())];
                let counters = ScraperCounters {
                    scraped: settings.metrics().counter(
                        "otelcol_scraper_scraped_metric_points",
                        "Number of metric points successfully scraped.",
                        &labels,
                    ),
                    errored: settings.metrics().counter(
                        "otelcol_scraper_errored_metric_points",
                        "Number of metric points that were unable to be scraped.",
                        &labels,
                    ),
                };
                (scraper, counters)
            })
            .collect();
        Ok(Collector {
            fs,
            scrapers,
            version: settings.build_info().version.clone(),
            metrics: ReceiverMetrics::new(settings.metrics(), settings.id(), "", Signal::Metrics),
            span: settings.span().clone(),
        })
    }

    /// Runs every scraper once. A failing scraper is logged and counted; the others'
    /// metrics are still in the batch (Go's partial scrape error).
    pub(crate) fn scrape(&self, started: u64) -> Metrics {
        let cx = ScrapeContext {
            fs: &self.fs,
            now: now_unix_nano(),
            started,
            version: &self.version,
        };
        let mut out = MetricsBuilder::new();
        for (scraper, counters) in &self.scrapers {
            let before = out.data_point_count();
            let outcome = scraper.scrape(&cx, &mut out);
            let points = out.data_point_count() - before;
            counters.scraped.add(points as u64);
            if let Err(error) = outcome {
                counters.errored.inc();
                self.span.in_scope(|| {
                    tracing::warn!(scraper = scraper.name(), %error, "partial scrape error: this scraper's metrics are missing or incomplete")
                });
            }
        }
        out.build()
    }
}

impl HostMetricsReceiver {
    pub(crate) fn create(
        settings: &CreateSettings,
        config: &Config,
        next: Next<Metrics>,
    ) -> Result<Arc<HostMetricsReceiver>, CreateError> {
        Ok(Arc::new(HostMetricsReceiver {
            config: config.clone(),
            next,
            collector: Arc::new(Collector::new(settings, config)?),
            tasks: ReceiverTasks::new(settings),
        }))
    }
}

#[tributary_pipeline_core::prelude::async_trait]
impl Component for HostMetricsReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        // As Go: a root_path that does not exist is an error, not an empty scrape.
        let root = &self.config.root_path;
        if !root.is_empty() && !std::path::Path::new(root).is_dir() {
            return Err(ComponentError::new(format!(
                "invalid root_path {root:?}: not a directory"
            )));
        }
        let (collector, next) = (Arc::clone(&self.collector), Arc::clone(&self.next));
        let (interval, stop) = (self.config.collection_interval, self.tasks.stop_token());
        let timeout = self.config.timeout;
        let first = tokio::time::Instant::now() + self.config.initial_delay;
        let started = now_unix_nano();
        self.tasks.spawn(async move {
            let mut ticker = tokio::time::interval_at(first, interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticker.tick() => {}
                    () = stop.cancelled() => return,
                }
                // Reading /proc is blocking file I/O: off the runtime's threads.
                let scraping = Arc::clone(&collector);
                let scrape = tokio::task::spawn_blocking(move || scraping.scrape(started));
                let metrics = if timeout.is_zero() {
                    scrape.await.ok()
                } else {
                    match tokio::time::timeout(timeout, scrape).await {
                        Ok(done) => done.ok(),
                        Err(_) => {
                            // The blocking read finishes on its own; its batch is dropped
                            // so that a hung mount cannot pile up late scrapes.
                            collector.span.in_scope(|| {
                                tracing::warn!(
                                    ?timeout,
                                    "the scrape exceeded timeout; this cycle's metrics are dropped"
                                )
                            });
                            None
                        }
                    }
                };
                let Some(metrics) = metrics else { continue };
                let points = metrics.item_count();
                if let Err(error) =
                    receiverhelper::deliver(&next, &collector.metrics, metrics).await
                {
                    collector.span.in_scope(
                        || tracing::warn!(%error, points, "the pipeline refused the host metrics"),
                    );
                }
            }
        });
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}
