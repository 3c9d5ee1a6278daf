//! One target's scrape loop: fetch within the job's limits, parse, label, relabel, add the
//! report series and staleness markers, translate, deliver.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
use tributary_pipeline_core::configcompression::{Encoding, NoBudget, decompress};
use tributary_pipeline_core::prelude::*;
use tributary_translator_prometheus::text::{
    Family, Format, Limits, MetricType, Sample, parse, stale_nan,
};
use tributary_translator_prometheus::to_otlp::{Options, StartTimeAdjuster, to_metrics};

use super::client::authorize;
use super::config::{Job, protocol_header};
use super::discovery::Target;
use super::relabel::{Labels, relabel};

/// The largest body read when `body_size_limit` is 0 (Prometheus has no bound; we keep
/// one so that a target cannot make us hold more).
pub(crate) const HARD_BODY_LIMIT: usize = 256 << 20;

/// What every target of a job shares.
pub(crate) struct JobRuntime {
    pub(crate) job: Job,
    pub(crate) client: reqwest::Client,
    /// The job has more targets than `target_limit`: every scrape fails.
    pub(crate) over_target_limit: std::sync::atomic::AtomicBool,
    /// One client per `http_sd_configs` entry.
    pub(crate) sd_clients: Vec<reqwest::Client>,
    pub(crate) accept: String,
    pub(crate) options: Options,
    pub(crate) report_extra: bool,
    pub(crate) next: Next<Metrics>,
    pub(crate) metrics: ReceiverMetrics,
    /// `otelcol_receiver_prometheus_failed_scrapes{receiver, job}`.
    pub(crate) failed_scrapes: tributary_pipeline_core::telemetry::Counter,
}

/// The `Accept` header for `protocols`, weighted as Prometheus (2.49+) weighs them: the
/// first gets `q=0.<n+1>`, each next one less, and `*/*` the lowest, so a target that
/// answers anything is still read.
pub(crate) fn accept_header(protocols: &[String]) -> String {
    let mut weight = protocols.len().min(8) + 1;
    let mut parts = Vec::new();
    for media in protocols.iter().filter_map(|p| protocol_header(p)) {
        parts.push(format!("{media};q=0.{weight}"));
        weight = weight.saturating_sub(1).max(2);
    }
    parts.push("*/*;q=0.1".into());
    parts.join(",")
}

/// A series seen in the last scrape: enough to write its staleness marker.
#[derive(Clone)]
struct Seen {
    family: String,
    metric_type: MetricType,
    sample: String,
    labels: Labels,
    /// The sample carried its own timestamp (no marker unless `track_timestamps_staleness`).
    timestamped: bool,
}

/// The series of a scrape by their key (see `series_key`); foldhash, since each sample
/// is looked up twice.
type SeriesMap = HashMap<String, Seen, foldhash::fast::RandomState>;

/// A target's loop.
pub(crate) struct ScrapeLoop {
    pub(crate) runtime: Arc<JobRuntime>,
    pub(crate) target: Target,
    adjuster: StartTimeAdjuster,
    previous: SeriesMap,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Why a scrape failed.
#[derive(Debug)]
pub(crate) struct ScrapeError(pub(crate) String);

struct Body {
    bytes: Vec<u8>,
    format: Format,
}

impl ScrapeLoop {
    pub(crate) fn new(runtime: Arc<JobRuntime>, target: Target) -> Self {
        ScrapeLoop {
            runtime,
            target,
            adjuster: StartTimeAdjuster::new(),
            previous: SeriesMap::default(),
        }
    }

    /// Scrapes every interval from an offset (a hash of the target) until `stop` (the
    /// receiver stops) or `gone` (the target left discovery: its series are marked stale).
    pub(crate) async fn run(mut self, stop: CancellationToken, gone: CancellationToken) {
        let interval = self.target.interval;
        let interval_ns = interval.as_nanos().max(1) as u64;
        let now_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let offset =
            (self.target.hash % interval_ns + interval_ns - now_ns % interval_ns) % interval_ns;
        let mut ticker = tokio::time::interval_at(
            tokio::time::Instant::now() + Duration::from_nanos(offset),
            interval,
        );
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => return,
                _ = gone.cancelled() => {
                    let families = self.stale_all(now_ms(), true);
                    self.deliver(families, Vec::new()).await;
                    return;
                }
                _ = ticker.tick() => {
                    let work = self.scrape_once();
                    tokio::select! {
                        biased;
                        _ = stop.cancelled() => return,
                        () = work => {}
                    }
                }
            }
        }
    }

    /// One scrape, reported and delivered.
    pub(crate) async fn scrape_once(&mut self) {
        let started = Instant::now();
        let start_ms = now_ms();
        let timeout = self.target.timeout;
        let over_limit = self
            .runtime
            .over_target_limit
            .load(std::sync::atomic::Ordering::Relaxed);
        let fetched = if over_limit {
            Err(ScrapeError(format!(
                "target_limit exceeded (limit {})",
                self.runtime.job.config.target_limit
            )))
        } else {
            match tokio::time::timeout(timeout, self.fetch()).await {
                Ok(result) => result,
                Err(_) => Err(ScrapeError(format!(
                    "context deadline exceeded (scrape_timeout {timeout:?})"
                ))),
            }
        };
        let body_size = fetched.as_ref().map_or(0, |b| b.bytes.len());
        let outcome = fetched.and_then(|body| self.process(body, start_ms));
        let duration = started.elapsed().as_secs_f64();
        let (families, scraped, post_relabel, added, up) = match outcome {
            Ok(scrape) => (
                scrape.families,
                scrape.scraped,
                scrape.post_relabel,
                scrape.added,
                1.0,
            ),
            Err(ScrapeError(reason)) => {
                tracing::warn!(
                    job = %self.runtime.job.config.job_name,
                    target = %self.target.url,
                    "scrape failed: {reason}"
                );
                self.runtime.failed_scrapes.inc();
                (self.stale_all(start_ms, false), 0, 0, 0, 0.0)
            }
        };
        let mut report = vec![
            ("up", up),
            ("scrape_duration_seconds", duration),
            ("scrape_samples_scraped", scraped as f64),
            ("scrape_samples_post_metric_relabeling", post_relabel as f64),
            ("scrape_series_added", added as f64),
        ];
        if self.runtime.report_extra {
            report.push(("scrape_timeout_seconds", timeout.as_secs_f64()));
            report.push(("scrape_sample_limit", self.runtime.job.sample_limit as f64));
            report.push((
                "scrape_body_size_bytes",
                if up == 1.0 { body_size as f64 } else { 0.0 },
            ));
        }
        let report = report
            .into_iter()
            .map(|(name, value)| self.report_family(name, value, start_ms))
            .collect();
        self.deliver(families, report).await;
    }

    fn report_family(&self, name: &str, value: f64, time_ms: i64) -> Family {
        let mut family = Family::new(name, MetricType::Gauge);
        family.samples.push(Sample {
            name: name.to_owned(),
            labels: self.target.labels.clone(),
            value,
            timestamp_ms: Some(time_ms),
            exemplar: None,
        });
        family
    }

    async fn deliver(&mut self, mut families: Vec<Family>, report: Vec<Family>) {
        let runtime = Arc::clone(&self.runtime);
        let scraped = families.len();
        families.extend(report);
        let request = match to_metrics(&families, &runtime.options, &mut self.adjuster, now_ms()) {
            Ok(request) => request,
            Err(e) => {
                // The scraped metrics cannot be translated (no start-time metric): they
                // are counted as failed; the report series still go.
                tracing::warn!(target = %self.target.url, "{e}");
                let points: usize = families[..scraped].iter().map(|f| f.samples.len()).sum();
                runtime.metrics.record_failed(points);
                let options = Options {
                    start_time_metric: None,
                    ..runtime.options.clone()
                };
                to_metrics(&families[scraped..], &options, &mut self.adjuster, now_ms())
                    .unwrap_or_default()
            }
        };
        // Series not seen for ten intervals (at least 5 minutes) no longer need a start time.
        let horizon = (self.target.interval * 10).max(Duration::from_secs(300));
        self.adjuster
            .forget_older_than(now_ms() - horizon.as_millis() as i64);
        // A refusal is counted by `deliver`; a scrape has no one to answer.
        let _ =
            receiverhelper::deliver(&runtime.next, &runtime.metrics, Metrics::new(request)).await;
    }

    async fn fetch(&self) -> Result<Body, ScrapeError> {
        let rt = &self.runtime;
        let c = &rt.job.config;
        let request = rt
            .client
            .get(&self.target.url)
            .header(ACCEPT, &rt.accept)
            .header(
                ACCEPT_ENCODING,
                if c.enable_compression {
                    "gzip"
                } else {
                    "identity"
                },
            )
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                format!("{}", self.target.timeout.as_secs_f64()),
            );
        let request = authorize(request, c.basic_auth.as_ref(), c.authorization.as_ref())
            .await
            .map_err(ScrapeError)?;
        let mut response = request
            .send()
            .await
            .map_err(|e| ScrapeError(e.without_url().to_string()))?;
        let status = response.status();
        if status != http::StatusCode::OK {
            return Err(ScrapeError(format!("server returned HTTP status {status}")));
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &http::HeaderValue| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let content_type = header(CONTENT_TYPE);
        let gzip = header(CONTENT_ENCODING).eq_ignore_ascii_case("gzip");
        let limit = match rt.job.body_size_limit {
            0 => HARD_BODY_LIMIT,
            limit => limit,
        };
        let exceeded = || ScrapeError(format!("body size limit exceeded ({limit} bytes)"));
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ScrapeError(e.without_url().to_string()))?
        {
            if bytes.len() + chunk.len() > limit {
                return Err(exceeded());
            }
            bytes.extend_from_slice(&chunk);
        }
        if gzip {
            bytes =
                decompress(Encoding::Gzip, &bytes, limit, &mut NoBudget).map_err(|e| match e {
                    tributary_pipeline_core::configcompression::DecompressError::TooLarge(_) => {
                        exceeded()
                    }
                    other => ScrapeError(other.to_string()),
                })?;
        }
        Ok(Body {
            bytes,
            format: Format::from_content_type(&content_type),
        })
    }

    fn process(&mut self, body: Body, start_ms: i64) -> Result<Processed, ScrapeError> {
        let job = &self.runtime.job;
        let c = &job.config;
        let limits = Limits::default();
        let parsed =
            parse(&body.bytes, body.format, &limits).map_err(|e| ScrapeError(e.to_string()))?;
        let scraped: usize = parsed.iter().map(|f| f.samples.len()).sum();
        let mut families: Vec<Family> = Vec::with_capacity(parsed.len());
        // The last scrape's series move into `current` as this scrape sees them again (no
        // copy per series and scrape); what stays in `previous` is gone. A failed scrape puts
        // `previous` back as it was, for `stale_all`.
        let mut previous = std::mem::take(&mut self.previous);
        let mut current = SeriesMap::with_capacity_and_hasher(previous.len(), Default::default());
        let mut fresh: Vec<String> = Vec::new();
        let mut changed: Vec<(String, Seen)> = Vec::new();
        let mut added = 0;
        let mut duplicates = 0;
        // Reused by every sample's `series_key`: a key is copied only for a series the last
        // scrape did not have (a known one takes its key out of `previous`).
        let mut key_order: Vec<usize> = Vec::new();
        let mut key = String::new();
        let relabelled = !c.metric_relabel_configs.is_empty();
        let outcome = 'samples: {
            for family in parsed {
                let mut kept = Family {
                    samples: Vec::with_capacity(family.samples.len()),
                    ..Family::new(family.name.clone(), family.metric_type)
                };
                kept.help = family.help.clone();
                kept.unit = family.unit.clone();
                let mut renamed: Vec<Family> = Vec::new();
                for mut sample in family.samples {
                    let mut labels = self.merge_target_labels(std::mem::take(&mut sample.labels));
                    let name = if relabelled {
                        labels.insert(0, ("__name__".into(), std::mem::take(&mut sample.name)));
                        if !relabel(&mut labels, &c.metric_relabel_configs) {
                            continue;
                        }
                        let Some(at) = labels.iter().position(|(n, _)| n == "__name__") else {
                            continue;
                        };
                        labels.remove(at).1
                    } else {
                        // Without rules the name is the sample's, as relabelling would leave it.
                        std::mem::take(&mut sample.name)
                    };
                    if name.is_empty() {
                        continue;
                    }
                    labels.retain(|(_, v)| !v.is_empty());
                    if let Err(e) = self.check_label_limits(&name, &labels) {
                        break 'samples Err(e);
                    }
                    sample.name = name;
                    sample.labels = labels;
                    let timestamped = sample.timestamp_ms.is_some() && c.honor_timestamps;
                    if !c.honor_timestamps || sample.timestamp_ms.is_none() {
                        sample.timestamp_ms = Some(start_ms);
                    }
                    let fits = sample.name.starts_with(family.name.as_str());
                    series_key(&sample.name, &sample.labels, &mut key_order, &mut key);
                    if current.contains_key(key.as_str()) {
                        // A duplicate series in one exposition: Prometheus keeps the first.
                        duplicates += 1;
                        continue;
                    }
                    let target = if fits {
                        &mut kept
                    } else {
                        // metric_relabel_configs renamed it out of its family.
                        renamed.push(Family::new(sample.name.clone(), MetricType::Unknown));
                        renamed
                            .last_mut()
                            .unwrap_or_else(|| unreachable!("just pushed"))
                    };
                    let (series, before) = match previous.remove_entry(key.as_str()) {
                        Some((series, seen)) => (series, Some(seen)),
                        None => (key.clone(), None),
                    };
                    let seen = match before {
                        Some(seen)
                            if seen.family == target.name
                                && seen.metric_type == target.metric_type
                                && seen.timestamped == timestamped
                                && seen.labels == sample.labels =>
                        {
                            seen
                        }
                        again => {
                            match again {
                                Some(before) => changed.push((series.clone(), before)),
                                None => {
                                    added += 1;
                                    fresh.push(series.clone());
                                }
                            }
                            Seen {
                                family: target.name.clone(),
                                metric_type: target.metric_type,
                                sample: sample.name.clone(),
                                labels: sample.labels.clone(),
                                timestamped,
                            }
                        }
                    };
                    current.insert(series, seen);
                    target.samples.push(sample);
                }
                if !kept.samples.is_empty() {
                    families.push(kept);
                }
                families.extend(renamed);
            }
            let post_relabel: usize = families.iter().map(|f| f.samples.len()).sum();
            if job.sample_limit > 0 && post_relabel > job.sample_limit {
                break 'samples Err(ScrapeError(format!(
                    "sample_limit exceeded: {post_relabel} samples, limit {}",
                    job.sample_limit
                )));
            }
            Ok(post_relabel)
        };
        let post_relabel = match outcome {
            Ok(post_relabel) => post_relabel,
            Err(e) => {
                for key in &fresh {
                    current.remove(key);
                }
                current.extend(changed);
                previous.extend(current);
                self.previous = previous;
                return Err(e);
            }
        };
        if duplicates > 0 {
            tracing::debug!(target = %self.target.url, duplicates, "duplicate series dropped");
        }
        // Series of the last scrape that are gone get a staleness marker.
        let gone = previous
            .values()
            .filter(|seen| !seen.timestamped || c.track_timestamps_staleness);
        families.extend(stale_families(gone, start_ms));
        self.previous = current;
        Ok(Processed {
            families,
            scraped,
            post_relabel,
            added,
        })
    }

    /// Staleness markers for every series of the last scrape (a failed scrape, or the
    /// target gone), which are then forgotten; `with_report` adds the report series.
    fn stale_all(&mut self, time_ms: i64, with_report: bool) -> Vec<Family> {
        let c = &self.runtime.job.config;
        let previous = std::mem::take(&mut self.previous);
        let mut families = stale_families(
            previous
                .values()
                .filter(|seen| !seen.timestamped || c.track_timestamps_staleness),
            time_ms,
        );
        if with_report {
            for name in [
                "up",
                "scrape_duration_seconds",
                "scrape_samples_scraped",
                "scrape_samples_post_metric_relabeling",
                "scrape_series_added",
            ] {
                families.push(self.report_family(name, stale_nan(), time_ms));
            }
        }
        families
    }

    /// The target's labels joined to a scraped sample's, as `honor_labels` says.
    fn merge_target_labels(&self, mut labels: Labels) -> Labels {
        let honor = self.runtime.job.config.honor_labels;
        labels.reserve(self.target.labels.len());
        for (name, value) in &self.target.labels {
            match labels.iter().position(|(n, _)| n == name) {
                Some(at) if honor => {
                    if labels[at].1.is_empty() {
                        labels[at].1 = value.clone();
                    }
                }
                Some(at) => {
                    if labels[at].1.is_empty() {
                        labels.remove(at);
                    } else {
                        // The scraped label steps aside as `exported_<name>`.
                        let mut exported = format!("exported_{name}");
                        while labels.iter().any(|(n, _)| *n == exported) {
                            exported.insert_str(0, "exported_");
                        }
                        labels[at].0 = exported;
                    }
                    labels.push((name.clone(), value.clone()));
                }
                None => labels.push((name.clone(), value.clone())),
            }
        }
        labels
    }

    fn check_label_limits(&self, name: &str, labels: &Labels) -> Result<(), ScrapeError> {
        let job = &self.runtime.job;
        if job.label_limit > 0 && labels.len() + 1 > job.label_limit {
            return Err(ScrapeError(format!(
                "label_limit exceeded (metric: {name:.50}, number of labels: {}, limit: {})",
                labels.len() + 1,
                job.label_limit
            )));
        }
        for (n, v) in labels {
            if job.label_name_length_limit > 0 && n.len() > job.label_name_length_limit {
                return Err(ScrapeError(format!(
                    "label_name_length_limit exceeded (metric: {name:.50}, label name: {n:.50}, limit: {})",
                    job.label_name_length_limit
                )));
            }
            if job.label_value_length_limit > 0 && v.len() > job.label_value_length_limit {
                return Err(ScrapeError(format!(
                    "label_value_length_limit exceeded (metric: {name:.50}, label name: {n:.50}, limit: {})",
                    job.label_value_length_limit
                )));
            }
        }
        Ok(())
    }
}

struct Processed {
    families: Vec<Family>,
    scraped: usize,
    post_relabel: usize,
    added: usize,
}

/// Staleness markers for `seen` series, one family per family they came from (so the
/// buckets of a histogram make one stale point).
fn stale_families<'a>(seen: impl Iterator<Item = &'a Seen>, time_ms: i64) -> Vec<Family> {
    let mut families: Vec<Family> = Vec::new();
    let mut index: HashMap<(String, MetricType), usize> = HashMap::new();
    for seen in seen {
        let at = *index
            .entry((seen.family.clone(), seen.metric_type))
            .or_insert_with(|| {
                families.push(Family::new(seen.family.clone(), seen.metric_type));
                families.len() - 1
            });
        families[at].samples.push(Sample {
            name: seen.sample.clone(),
            labels: seen.labels.clone(),
            value: stale_nan(),
            timestamp_ms: Some(time_ms),
            exemplar: None,
        });
    }
    families
}

/// A series' identity, written into `key`: its name and its labels in name order
/// (`order` is scratch space, reused across calls).
fn series_key(name: &str, labels: &Labels, order: &mut Vec<usize>, key: &mut String) {
    order.clear();
    order.extend(0..labels.len());
    order.sort_unstable_by(|&a, &b| labels[a].cmp(&labels[b]));
    key.clear();
    key.push_str(name);
    for &at in order.iter() {
        let (n, v) = &labels[at];
        key.push('\u{0}');
        key.push_str(n);
        key.push('\u{1}');
        key.push_str(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_prefers_the_first_protocol() {
        let header = accept_header(&["OpenMetricsText1.0.0".into(), "PrometheusText0.0.4".into()]);
        assert_eq!(
            header,
            "application/openmetrics-text;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
        );
        let default =
            accept_header(&super::super::config::DEFAULT_SCRAPE_PROTOCOLS.map(String::from));
        assert!(
            default.starts_with("application/openmetrics-text;version=1.0.0;q=0.5,"),
            "{default}"
        );
    }
}
