//! The receiver: one discovery task per job, which runs one scrape loop per target.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderValue;
use tributary_pipeline_core::prelude::*;
use tributary_translator_prometheus::to_otlp::Options;

use super::client::build_client;
use super::config::{Config, Job};
use super::discovery::{
    Fingerprint, TargetGroup, build_targets, fetch_http_groups, fingerprint, matching_files,
    read_files, static_groups,
};
use super::scrape::{JobRuntime, ScrapeLoop, accept_header};

/// The scope of the metrics the receiver scrapes, as the Go receiver names it.
pub const SCOPE_NAME: &str =
    "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver";

/// How often `file_sd_configs` files are checked for changes.
const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The `prometheus` receiver.
pub(crate) struct PrometheusReceiver {
    settings: CreateSettings,
    config: Config,
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
    tasks: ReceiverTasks,
    runtimes: std::sync::Mutex<Vec<Arc<JobRuntime>>>,
}

impl PrometheusReceiver {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Metrics>) -> Self {
        PrometheusReceiver {
            settings: settings.clone(),
            config: config.clone(),
            next,
            metrics: ReceiverMetrics::new(
                settings.metrics(),
                settings.id(),
                "http",
                Signal::Metrics,
            ),
            tasks: ReceiverTasks::new(settings),
            runtimes: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Scrapes that failed so far (HTTP, parse, limits), over all jobs.
    #[cfg(test)]
    pub(crate) fn failed_scrapes(&self) -> u64 {
        let runtimes = self.runtimes.lock().unwrap_or_else(|e| e.into_inner());
        runtimes.iter().map(|r| r.failed_scrapes.get()).sum()
    }

    pub(super) fn runtime(&self, job: Job) -> Result<JobRuntime, ComponentError> {
        let c = &job.config;
        let user_agent = format!("tributary/{}", self.settings.build_info().version);
        let client = build_client(
            &format!("job {:?}", c.job_name),
            &c.tls_config,
            c.follow_redirects,
            c.enable_http2,
            &user_agent,
        )?;
        let mut sd_clients = Vec::new();
        for (i, sd) in c.http_sd_configs.iter().enumerate() {
            sd_clients.push(build_client(
                &format!("job {:?} http_sd_configs::{i}", c.job_name),
                &sd.tls_config,
                sd.follow_redirects,
                sd.enable_http2,
                &user_agent,
            )?);
        }
        let start_time_metric = if self.config.use_start_time_metric {
            Some(
                self.config
                    .start_time_regex()
                    .map_err(|e| ComponentError::new(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(JobRuntime {
            accept: HeaderValue::try_from(accept_header(&job.protocols))
                .map_err(|e| ComponentError::with_source("scrape_protocols", e))?,
            user_agent: HeaderValue::try_from(user_agent)
                .map_err(|e| ComponentError::with_source("the build's version", e))?,
            options: Options {
                trim_metric_suffixes: self.config.trim_metric_suffixes,
                start_time_metric,
                scheme: Some(c.scheme.clone()),
                scope_name: SCOPE_NAME.into(),
                scope_version: self.settings.build_info().version.clone(),
            },
            report_extra: self.config.report_extra_scrape_metrics,
            next: self.next.clone(),
            metrics: self.metrics.clone(),
            failed_scrapes: self.settings.metrics().counter(
                "otelcol_receiver_prometheus_failed_scrapes",
                "Scrapes that failed (HTTP error, timeout, unreadable body, a limit exceeded); their targets report up 0.",
                &[("receiver", &self.settings.id().to_string()), ("job", &c.job_name)],
            ),
            client,
            sd_clients,
            over_target_limit: std::sync::atomic::AtomicBool::new(false),
            job,
        })
    }
}

#[async_trait]
impl Component for PrometheusReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let jobs = self
            .config
            .jobs()
            .map_err(|e| ComponentError::new(e.to_string()))?;
        let mut runtimes = Vec::new();
        for job in jobs {
            runtimes.push(Arc::new(self.runtime(job)?));
        }
        for runtime in &runtimes {
            let stop = self.tasks.stop_token();
            self.tasks.spawn(manage(Arc::clone(runtime), stop));
        }
        *self.runtimes.lock().unwrap_or_else(|e| e.into_inner()) = runtimes;
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

/// A job's discovery: static groups once, file groups whenever their files change (checked
/// every second) or every `refresh_interval`, HTTP groups every `refresh_interval`;
/// targets started and stopped to match.
async fn manage(runtime: Arc<JobRuntime>, stop: CancellationToken) {
    let job = &runtime.job;
    let statics = static_groups(job);
    let file_sds = job.config.file_sd_configs.clone();
    let mut prints: Vec<Option<Fingerprint>> = vec![None; file_sds.len()];
    let mut read_at: Vec<Instant> = vec![Instant::now(); file_sds.len()];
    let mut file_groups: Vec<Vec<TargetGroup>> = vec![Vec::new(); file_sds.len()];
    let http_sds = job.config.http_sd_configs.clone();
    let mut http_groups: Vec<Vec<TargetGroup>> = vec![Vec::new(); http_sds.len()];
    let mut http_due: Vec<Instant> = vec![Instant::now(); http_sds.len()];
    let mut running: HashMap<u64, (CancellationToken, tokio::task::JoinHandle<()>)> =
        HashMap::new();
    let mut leaving: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let mut first = true;
    loop {
        let mut changed = first;
        for (i, sd) in file_sds.iter().enumerate() {
            let sd = sd.clone();
            let due = read_at[i].elapsed() >= sd.refresh_interval;
            let previous = prints[i].clone();
            let name = job.config.job_name.clone();
            // File I/O off the runtime's threads.
            let scanned = tokio::task::spawn_blocking(move || {
                let files = matching_files(&sd);
                let print = fingerprint(&files);
                if previous.as_ref() != Some(&print) || due {
                    Some((read_files(&files, &name), print))
                } else {
                    None
                }
            })
            .await;
            if let Ok(Some((groups, print))) = scanned {
                file_groups[i] = groups;
                prints[i] = Some(print);
                read_at[i] = Instant::now();
                changed = true;
            }
        }
        for (i, sd) in http_sds.iter().enumerate() {
            if Instant::now() < http_due[i] {
                continue;
            }
            http_due[i] = Instant::now() + sd.refresh_interval;
            let fetch = fetch_http_groups(&runtime.sd_clients[i], sd);
            let fetched = tokio::select! {
                _ = stop.cancelled() => break,
                fetched = tokio::time::timeout(sd.refresh_interval, fetch) => fetched,
            };
            match fetched {
                Ok(Ok(groups)) => {
                    if groups != http_groups[i] {
                        http_groups[i] = groups;
                        changed = true;
                    }
                }
                // As Prometheus: the last groups stay until a refresh succeeds.
                Ok(Err(e)) => {
                    tracing::warn!(job = %job.config.job_name, url = %sd.url, "http_sd: {e}")
                }
                Err(_) => {
                    tracing::warn!(job = %job.config.job_name, url = %sd.url, "http_sd: timed out")
                }
            }
        }
        if stop.is_cancelled() {
            break;
        }
        if changed {
            let mut groups = statics.clone();
            groups.extend(file_groups.iter().flatten().cloned());
            groups.extend(http_groups.iter().flatten().cloned());
            let targets = build_targets(job, &groups);
            let limit = job.config.target_limit;
            let over = limit > 0 && targets.len() > limit;
            if over {
                tracing::warn!(job = %job.config.job_name, targets = targets.len(), limit, "target_limit exceeded: every scrape of the job fails");
            }
            runtime
                .over_target_limit
                .store(over, std::sync::atomic::Ordering::Relaxed);
            let keep: std::collections::HashSet<u64> = targets.iter().map(|t| t.hash).collect();
            running.retain(|hash, (gone, handle)| {
                if keep.contains(hash) {
                    true
                } else {
                    gone.cancel();
                    leaving.push(std::mem::replace(handle, tokio::spawn(async {})));
                    false
                }
            });
            for target in targets {
                if running.contains_key(&target.hash) {
                    continue;
                }
                let gone = CancellationToken::new();
                let hash = target.hash;
                let scrape = ScrapeLoop::new(Arc::clone(&runtime), target);
                let handle = tokio::spawn(scrape.run(stop.clone(), gone.clone()));
                running.insert(hash, (gone, handle));
            }
            leaving.retain(|h| !h.is_finished());
            tracing::debug!(job = %job.config.job_name, targets = running.len(), "targets updated");
        }
        first = false;
        if file_sds.is_empty() && http_sds.is_empty() {
            stop.cancelled().await;
            break;
        }
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(FILE_CHECK_INTERVAL) => {}
        }
    }
    // The loops watch `stop` too: wait for them to end.
    for (_, (_, handle)) in running {
        let _ = handle.await;
    }
    for handle in leaving {
        let _ = handle.await;
    }
}
