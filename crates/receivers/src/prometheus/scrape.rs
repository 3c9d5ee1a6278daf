//! One target's scrape loop: fetch within the job's limits, parse, label, relabel, add the
//! report series and staleness markers, translate, deliver.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::header::{
    ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};
use http::{HeaderMap, HeaderValue};
use tributary_pipeline_core::configcompression::{Encoding, NoBudget, decompress};
use tributary_pipeline_core::pdata::OtlpRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::prelude::*;
use tributary_translator_prometheus::text::{
    Family, Format, KnownSeries, Limits, MetricType, Sample, parse_with, stale_nan,
};
use tributary_translator_prometheus::to_otlp::{
    Options, in_resource_and_default_scope, resource_attributes, to_metrics,
};

use super::client::credentials;
use super::config::{Job, protocol_header};
use super::direct::{Answer, DirectTarget, Failure};
use super::discovery::Target;
use super::relabel::{Labels, relabel};
use super::series::{Seen, SeriesTable, Taken, family_signature, merge};

/// The largest body read when `body_size_limit` is 0 (Prometheus has no bound; we keep
/// one so that a target cannot make us hold more).
pub(crate) const HARD_BODY_LIMIT: usize = 256 << 20;

/// Tells the target how long the scrape may take, as Prometheus does.
const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

/// What every target of a job shares.
pub(crate) struct JobRuntime {
    pub(crate) job: Job,
    pub(crate) client: reqwest::Client,
    /// The job has more targets than `target_limit`: every scrape fails.
    pub(crate) over_target_limit: std::sync::atomic::AtomicBool,
    /// One client per `http_sd_configs` entry.
    pub(crate) sd_clients: Vec<reqwest::Client>,
    /// The `Accept` header of the job's `scrape_protocols` (see [`accept_header`]).
    pub(crate) accept: HeaderValue,
    /// `tributary/<version>`, the `User-Agent` of every scrape (reqwest's client is built
    /// with the same).
    pub(crate) user_agent: HeaderValue,
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

/// A target's loop.
pub(crate) struct ScrapeLoop {
    pub(crate) runtime: Arc<JobRuntime>,
    pub(crate) target: Target,
    /// The target's series, and the start-time adjuster of its counters.
    series: SeriesTable,
    /// Whether known series are taken from their text (off only in tests, as the oracle).
    fast_path: bool,
    /// Points the last scrape took from their text (for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    taken_points: usize,
    /// The target's URL, parsed once (reqwest would parse the string at every scrape).
    url: Option<reqwest::Url>,
    /// A plain-`http` target's own connection (see `direct`); `None` for the others,
    /// scraped through reqwest.
    direct: Option<DirectTarget>,
    /// The scrape timeout in seconds, as its header says it.
    timeout_header: HeaderValue,
    /// The target's `job` and `instance` labels.
    job: Option<String>,
    instance: Option<String>,
    /// The attributes of the resource its metrics go to, and their default scope.
    resource: Vec<KeyValue>,
    scope: InstrumentationScope,
}

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Why a scrape failed.
#[derive(Debug)]
pub(crate) struct ScrapeError(pub(crate) String);

pub(crate) struct Body {
    pub(crate) bytes: Vec<u8>,
    pub(crate) format: Format,
}

impl ScrapeLoop {
    pub(crate) fn new(runtime: Arc<JobRuntime>, target: Target) -> Self {
        let label = |name: &str| {
            target
                .labels
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let (job, instance) = (label("job"), label("instance"));
        let resource = resource_attributes(
            job.as_deref(),
            instance.as_deref(),
            runtime.options.scheme.as_deref(),
        );
        let scope = InstrumentationScope {
            name: runtime.options.scope_name.clone(),
            version: runtime.options.scope_version.clone(),
            ..Default::default()
        };
        let url = reqwest::Url::parse(&target.url).ok();
        let direct = url.as_ref().and_then(DirectTarget::for_url);
        let timeout_header = HeaderValue::try_from(format!("{}", target.timeout.as_secs_f64()))
            .unwrap_or_else(|_| HeaderValue::from_static("10"));
        ScrapeLoop {
            runtime,
            target,
            series: SeriesTable::default(),
            fast_path: true,
            taken_points: 0,
            url,
            direct,
            timeout_header,
            job,
            instance,
            resource,
            scope,
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
                    let families = self.stale_all(now_ms(), true, false);
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
        self.finish_scrape(fetched, started, start_ms).await;
    }

    /// The rest of a scrape that began at `started` (`start_ms`) and `fetched` a body or
    /// failed: processed, reported and delivered.
    async fn finish_scrape(
        &mut self,
        fetched: Result<Body, ScrapeError>,
        started: Instant,
        start_ms: i64,
    ) {
        let timeout = self.target.timeout;
        let body_size = fetched.as_ref().map_or(0, |b| b.bytes.len());
        // Whether the scrape failed in `process`, with this scrape's series half counted.
        let mut in_scrape = false;
        let outcome = fetched.and_then(|body| {
            in_scrape = true;
            self.process(body, start_ms)
        });
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
                (self.stale_all(start_ms, false, in_scrape), 0, 0, 0, 0.0)
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

    /// Runs the part of a scrape after the fetch on `fetched`, as of `start_ms`, choosing
    /// whether known series are taken from their text (for tests that hold one path to the
    /// other).
    #[cfg(test)]
    pub(crate) async fn scrape_fetched(
        &mut self,
        fetched: Result<Body, ScrapeError>,
        start_ms: i64,
        fast_path: bool,
    ) {
        self.fast_path = fast_path;
        self.finish_scrape(fetched, Instant::now(), start_ms).await;
    }

    /// Points the last scrape took from their text (for tests).
    #[cfg(test)]
    pub(crate) fn taken_points(&self) -> usize {
        self.taken_points
    }

    /// Connections the target's own HTTP/1.1 connection made so far; `None` when it is
    /// scraped through reqwest (for tests).
    #[cfg(test)]
    pub(crate) fn direct_connects(&self) -> Option<usize> {
        self.direct.as_ref().map(DirectTarget::connects)
    }

    /// The series table's slots: length and capacity (for tests).
    #[cfg(test)]
    pub(crate) fn slot_room(&self) -> (usize, usize) {
        self.series.slot_room()
    }

    /// Samples the last scrape found on its series' trail (for tests).
    #[cfg(test)]
    pub(crate) fn trail_hits(&self) -> usize {
        self.series.trail_hits()
    }

    /// How many series texts the loop knows (for tests).
    #[cfg(test)]
    pub(crate) fn known_texts(&self) -> usize {
        self.series.known_texts()
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
        let request = match to_metrics(
            &families,
            &runtime.options,
            &mut self.series.adjuster,
            now_ms(),
        ) {
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
                to_metrics(
                    &families[scraped..],
                    &options,
                    &mut self.series.adjuster,
                    now_ms(),
                )
                .unwrap_or_default()
            }
        };
        // Series not seen for ten intervals (at least 5 minutes) no longer need a start time.
        let horizon = (self.target.interval * 10).max(Duration::from_secs(300));
        self.series
            .adjuster
            .forget_older_than(now_ms() - horizon.as_millis() as i64);
        // The points of fast series join the target's resource and default scope.
        let points = self.series.fast_points();
        let metrics = if points == 0 {
            Metrics::new(request)
        } else {
            let items = request.item_count() + points;
            let fast = self.series.fast_metrics();
            let bytes = merge(&request, &self.resource, &self.scope, &fast);
            Metrics::from_own_encoding(bytes.into(), items)
        };
        self.series.drop_points();
        // A refusal is counted by `deliver`; a scrape has no one to answer.
        let _ = receiverhelper::deliver(&runtime.next, &runtime.metrics, metrics).await;
    }

    async fn fetch(&mut self) -> Result<Body, ScrapeError> {
        let rt = Arc::clone(&self.runtime);
        let c = &rt.job.config;
        let mut headers = HeaderMap::with_capacity(6);
        headers.insert(ACCEPT, rt.accept.clone());
        headers.insert(
            ACCEPT_ENCODING,
            HeaderValue::from_static(if c.enable_compression {
                "gzip"
            } else {
                "identity"
            }),
        );
        headers.insert(SCRAPE_TIMEOUT_HEADER, self.timeout_header.clone());
        // reqwest's client sends the same by default; the direct path needs it here.
        headers.insert(USER_AGENT, rt.user_agent.clone());
        for value in credentials(c.basic_auth.as_ref(), c.authorization.as_ref())
            .await
            .map_err(ScrapeError)?
        {
            headers.append(AUTHORIZATION, value);
        }
        let limit = match rt.job.body_size_limit {
            0 => HARD_BODY_LIMIT,
            limit => limit,
        };
        let exceeded = || ScrapeError(format!("body size limit exceeded ({limit} bytes)"));
        let failed = |failure| match failure {
            Failure::TooLarge => exceeded(),
            Failure::Http(message) => ScrapeError(message),
        };
        let answer = match self.direct.as_mut() {
            Some(direct) => {
                match direct.get(&headers, limit).await.map_err(failed)? {
                    answer if answer.status.is_redirection() && c.follow_redirects => {
                        // reqwest follows redirects; the target is scraped through it
                        // from now on.
                        self.direct = None;
                        self.fetch_with_reqwest(headers, limit)
                            .await
                            .map_err(failed)?
                    }
                    answer => answer,
                }
            }
            None => self
                .fetch_with_reqwest(headers, limit)
                .await
                .map_err(failed)?,
        };
        if answer.status != http::StatusCode::OK {
            return Err(ScrapeError(format!(
                "server returned HTTP status {}",
                answer.status
            )));
        }
        let mut bytes = answer.bytes;
        if answer.gzip {
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
            format: Format::from_content_type(&answer.content_type),
        })
    }

    /// A scrape through reqwest (TLS, redirects, HTTP/2): its answer, read within `limit`.
    async fn fetch_with_reqwest(
        &self,
        headers: HeaderMap,
        limit: usize,
    ) -> Result<Answer, Failure> {
        let rt = &self.runtime;
        let request = match &self.url {
            Some(url) => rt.client.get(url.clone()),
            None => rt.client.get(&self.target.url),
        };
        let mut response = request
            .headers(headers)
            .send()
            .await
            .map_err(|e| Failure::Http(e.without_url().to_string()))?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let mut answer = Answer {
            status: response.status(),
            content_type: header(CONTENT_TYPE),
            gzip: header(CONTENT_ENCODING).eq_ignore_ascii_case("gzip"),
            bytes: Vec::new(),
        };
        if answer.status != http::StatusCode::OK {
            return Ok(answer);
        }
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::Http(e.without_url().to_string()))?
        {
            if answer.bytes.len() + chunk.len() > limit {
                return Err(Failure::TooLarge);
            }
            answer.bytes.extend_from_slice(&chunk);
        }
        Ok(answer)
    }

    fn process(&mut self, body: Body, start_ms: i64) -> Result<Processed, ScrapeError> {
        let runtime = Arc::clone(&self.runtime);
        let job = &runtime.job;
        let c = &job.config;
        // Known series are taken from their text (see `series`) where the translation of a
        // point needs nothing but its own line.
        let fast = self.fast_path
            && body.format == Format::Text
            && runtime.options.start_time_metric.is_none();
        self.series.begin();
        let mut offer = Offer {
            series: &mut self.series,
            honor_timestamps: c.honor_timestamps,
            default_ms: start_ms,
            family: None,
            missed: Vec::new(),
            taken: 0,
            duplicates: 0,
            points: 0,
        };
        let known: Option<&mut dyn KnownSeries> = if fast { Some(&mut offer) } else { None };
        let parsed = parse_with(&body.bytes, body.format, &Limits::default(), known)
            .map_err(|e| ScrapeError(e.to_string()))?;
        let Offer {
            missed,
            taken,
            mut duplicates,
            points: taken_points,
            ..
        } = offer;
        self.taken_points = taken_points;
        let mut missed = missed.into_iter();
        let raw_text = |range: Option<Range<usize>>| {
            range.and_then(|r| std::str::from_utf8(body.bytes.get(r)?).ok())
        };
        let scraped = taken + parsed.iter().map(|f| f.samples.len()).sum::<usize>();
        let mut families: Vec<Family> = Vec::with_capacity(parsed.len());
        let mut added = 0;
        let mut fast_points = 0;
        // Reused by every sample's `series_key`.
        let mut key_order: Vec<usize> = Vec::new();
        let mut key = String::new();
        let relabelled = !c.metric_relabel_configs.is_empty();
        for family in parsed {
            if family.samples.is_empty() {
                continue; // all taken, or metadata alone
            }
            let signature = family_signature(&family);
            let counter = family.metric_type == MetricType::Counter;
            // A counter with `_created` samples takes its start times from them: to_otlp's
            // (only OpenMetrics has them as a rule, and it is never taken from its text; a
            // 0.0.4 counter's `_created` line next to taken ones leaves those as they are).
            let fast_family =
                fast && matches!(
                    family.metric_type,
                    MetricType::Counter | MetricType::Gauge | MetricType::Unknown
                ) && !(counter
                    && family
                        .samples
                        .iter()
                        .any(|s| s.name != family.name && s.name.ends_with("_created")));
            let mut kept = Family {
                samples: Vec::with_capacity(family.samples.len()),
                ..Family::new(family.name.clone(), family.metric_type)
            };
            kept.help = family.help.clone();
            kept.unit = family.unit.clone();
            let mut renamed: Vec<Family> = Vec::new();
            for mut sample in family.samples {
                let raw = raw_text(missed.next().flatten());
                let mut labels = self.merge_target_labels(std::mem::take(&mut sample.labels));
                let name = if relabelled {
                    labels.insert(0, ("__name__".into(), std::mem::take(&mut sample.name)));
                    let name = if relabel(&mut labels, &c.metric_relabel_configs) {
                        labels
                            .iter()
                            .position(|(n, _)| n == "__name__")
                            .map(|at| labels.remove(at).1)
                    } else {
                        None
                    };
                    name.unwrap_or_default()
                } else {
                    // Without rules the name is the sample's, as relabelling would leave it.
                    std::mem::take(&mut sample.name)
                };
                if name.is_empty() {
                    if let Some(raw) = raw {
                        self.series.note_dropped(raw, signature);
                    }
                    continue;
                }
                labels.retain(|(_, v)| !v.is_empty());
                self.check_label_limits(&name, &labels)?;
                sample.name = name;
                sample.labels = labels;
                let timestamped = sample.timestamp_ms.is_some() && c.honor_timestamps;
                if !c.honor_timestamps || sample.timestamp_ms.is_none() {
                    sample.timestamp_ms = Some(start_ms);
                }
                series_key(&sample.name, &sample.labels, &mut key_order, &mut key);
                let (seen, at) = self.series.see(&key, timestamped);
                match seen {
                    // A duplicate series in one exposition: Prometheus keeps the first.
                    Seen::Duplicate => {
                        duplicates += 1;
                        continue;
                    }
                    Seen::New => added += 1,
                    Seen::Again => {}
                }
                if let Some(raw) = raw
                    && fast_family
                    && sample.name == family.name
                    && sample.exemplar.is_none()
                    && sample.name != "target_info"
                    && sample.name != "otel_scope_info"
                    && in_resource_and_default_scope(
                        &sample.labels,
                        self.job.as_deref(),
                        self.instance.as_deref(),
                    )
                {
                    let written =
                        self.series
                            .fast(at, raw, &kept, signature, &sample, &runtime.options);
                    if written {
                        fast_points += 1;
                        continue;
                    }
                }
                let target = if sample.name.starts_with(family.name.as_str()) {
                    &mut kept
                } else {
                    // metric_relabel_configs renamed it out of its family.
                    renamed.push(Family::new(sample.name.clone(), MetricType::Unknown));
                    renamed
                        .last_mut()
                        .unwrap_or_else(|| unreachable!("just pushed"))
                };
                self.series
                    .general(at, &target.name, target.metric_type, &sample);
                target.samples.push(sample);
            }
            if !kept.samples.is_empty() {
                families.push(kept);
            }
            families.extend(renamed);
        }
        let post_relabel =
            taken_points + fast_points + families.iter().map(|f| f.samples.len()).sum::<usize>();
        if job.sample_limit > 0 && post_relabel > job.sample_limit {
            return Err(ScrapeError(format!(
                "sample_limit exceeded: {post_relabel} samples, limit {}",
                job.sample_limit
            )));
        }
        if duplicates > 0 {
            tracing::debug!(target = %self.target.url, duplicates, "duplicate series dropped");
        }
        // Series of the last scrape that are gone get a staleness marker.
        families.extend(self.series.end(start_ms, c.track_timestamps_staleness));
        Ok(Processed {
            families,
            scraped,
            post_relabel,
            added,
        })
    }

    /// Staleness markers for every series of the last scrape (a failed scrape, or the
    /// target gone), which are then forgotten; `with_report` adds the report series;
    /// `in_scrape`: the failure came while a scrape's series were being counted (those it
    /// found first were never delivered, and get none).
    fn stale_all(&mut self, time_ms: i64, with_report: bool, in_scrape: bool) -> Vec<Family> {
        let c = &self.runtime.job.config;
        let mut families = self
            .series
            .fail(time_ms, c.track_timestamps_staleness, in_scrape);
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

/// The parser's questions to a target's [`SeriesTable`] during one parse.
struct Offer<'a> {
    series: &'a mut SeriesTable,
    honor_timestamps: bool,
    default_ms: i64,
    /// The signature of the family last asked about, by its index in the parse.
    family: Option<(usize, u64)>,
    /// Where the text of each sample read in full lies, in order.
    missed: Vec<Option<Range<usize>>>,
    /// Samples taken (points, duplicates and dropped ones).
    taken: usize,
    duplicates: usize,
    points: usize,
}

impl KnownSeries for Offer<'_> {
    fn take(
        &mut self,
        family: &Family,
        family_index: usize,
        series: &str,
        value: f64,
        timestamp_ms: Option<i64>,
    ) -> bool {
        let signature = match self.family {
            Some((index, signature)) if index == family_index => signature,
            _ => {
                let signature = family_signature(family);
                self.family = Some((family_index, signature));
                signature
            }
        };
        let taken = self.series.take(
            signature,
            series,
            value,
            timestamp_ms,
            self.honor_timestamps,
            self.default_ms,
        );
        match taken {
            Taken::Unknown => return false,
            Taken::Dropped => {}
            Taken::Duplicate => self.duplicates += 1,
            Taken::Point => self.points += 1,
        }
        self.taken += 1;
        true
    }

    fn missed(&mut self, series: Option<Range<usize>>) {
        self.missed.push(series);
    }
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
