//! The `prometheus` receiver: scrapes Prometheus targets as a Prometheus server would,
//! configured with an embedded Prometheus configuration (the Go Collector's
//! `prometheusreceiver`), and turns what it scrapes into OTLP metrics.
//!
//! ```yaml
//! receivers:
//!   prometheus:
//!     config:
//!       global: { scrape_interval: 15s }
//!       scrape_configs:
//!         - job_name: node
//!           static_configs: [{ targets: ["localhost:9100"], labels: { env: prod } }]
//!           file_sd_configs: [{ files: ["/etc/targets/*.json"] }]
//!           relabel_configs:
//!             - { source_labels: [__address__], regex: "(.*):.*", target_label: host, replacement: "$${1}" }
//!           metric_relabel_configs:
//!             - { source_labels: [__name__], regex: "go_.*", action: drop }
//!           sample_limit: 10000
//! service:
//!   pipelines:
//!     metrics: { receivers: [prometheus], exporters: [debug] }
//! ```
//!
//! `$` in the Prometheus configuration is written `$$`, as for the Go Collector: the
//! collector's `${...}` expansion turns `$$` into `$` before the receiver reads it.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `config` | required | a Prometheus configuration: `global` and `scrape_configs` (below) |
//! | `trim_metric_suffixes` | `false` | strip `_total`, unit and `_ratio` suffixes from names |
//! | `use_start_time_metric` | `false` | start times of cumulative points from `start_time_metric_regex`'s metric, which must then be scraped |
//! | `start_time_metric_regex` | `process_start_time_seconds` (the name exactly) | a regex matched against metric names, unanchored as in Go |
//! | `report_extra_scrape_metrics` | `false` | also `scrape_timeout_seconds`, `scrape_sample_limit`, `scrape_body_size_bytes` |
//! | `target_allocator`, `api_server` | unset | refused: not supported |
//!
//! `global`: `scrape_interval` (1m), `scrape_timeout` (10s), `scrape_protocols`,
//! `external_labels` (accepted; Prometheus never adds them to scraped series),
//! `evaluation_interval` (unused), and the defaults of the per-job limits.
//! `alerting`, `rule_files`, `remote_write`, `remote_read` are refused, as in Go;
//! `scrape_config_files`, `storage`, `tracing` too.
//!
//! Each `scrape_configs` entry, Prometheus's keys and defaults:
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `job_name` | required, unique | the `job` label |
//! | `scrape_interval`, `scrape_timeout` | global's (timeout at most the interval) | |
//! | `scrape_protocols` | `[OpenMetricsText1.0.0, OpenMetricsText0.0.1, PrometheusText1.0.0, PrometheusText0.0.4]` | the `Accept` header, in order of preference; `PrometheusProto` is refused (no protobuf parser, no native histograms) |
//! | `metrics_path`, `scheme`, `params` | `/metrics`, `http`, none | the URL |
//! | `honor_labels` | `false` | on a clash, `false` renames the scraped label `exported_<name>` |
//! | `honor_timestamps` | `true` | keep the exposition's timestamps |
//! | `track_timestamps_staleness` | `false` | staleness markers for timestamped series too |
//! | `enable_compression` | `true` | ask for gzip |
//! | `basic_auth` | none | `username`, `username_file`, `password`, `password_file` |
//! | `authorization` | none | `type` (`Bearer`), `credentials`, `credentials_file` |
//! | `tls_config` | none | `ca_file`, `ca`, `cert_file`, `cert`, `key_file`, `key`, `server_name`, `insecure_skip_verify`, `min_version`/`max_version` (`TLS12`, `TLS13`) |
//! | `follow_redirects`, `enable_http2` | `true`, `true` | |
//! | `static_configs` | none | `targets`, `labels` |
//! | `file_sd_configs` | none | `files` (`.json`, `.yml`, `.yaml`; `*` in the file name), `refresh_interval` (5m); files are checked for changes every second |
//! | `relabel_configs`, `metric_relabel_configs` | none | every action: `replace`, `keep`, `drop`, `keepequal`, `dropequal`, `hashmod`, `labelmap`, `labeldrop`, `labelkeep`, `lowercase`, `uppercase` |
//! | `sample_limit`, `label_limit`, `label_name_length_limit`, `label_value_length_limit` | 0 (none) | a scrape over a limit fails: `up` 0, its series marked stale |
//! | `body_size_limit` | 0 (none; we still stop at 256 MiB) | `10MB`-style, uncompressed size |
//! | `http_sd_configs` | none | `url`, `refresh_interval` (1m), `basic_auth`, `authorization`, `tls_config`, `follow_redirects`, `enable_http2`; a failed refresh keeps the last groups |
//! | `target_limit` | 0 (none) | more targets than this after relabelling: every scrape of the job fails (`up` 0) |
//! | `proxy_url`, `oauth2`, `kubernetes_sd_configs` and the other service discoveries | | refused: not supported |
//!
//! # What a scrape produces
//!
//! Every interval, from an offset within it given by a hash of the target (so targets
//! spread out, as in Prometheus), a target is fetched with the `Accept` header of its
//! protocols and `X-Prometheus-Scrape-Timeout-Seconds`; the body is read within
//! `body_size_limit` (and gunzipped within it) and parsed by the
//! [`text`](tributary_translator_prometheus::text) parser as OpenMetrics or text 0.0.4
//! according to its `Content-Type` (bounded on top of the job's limits: lines of at most
//! 1 MiB, 512 labels a sample, names and values of 64 KiB; past them the scrape fails).
//! Target labels join each sample (`honor_labels`),
//! `metric_relabel_configs` run, the limits are checked; then come the report series
//! `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
//! `scrape_samples_post_metric_relabeling`, `scrape_series_added` (with the target's
//! labels), and staleness markers for the series of the last scrape that are gone, for
//! every series when a scrape fails, and for all of them and the report series when the
//! target leaves discovery. [`to_otlp`](tributary_translator_prometheus::to_otlp)
//! translates the lot (staleness → `FLAG_NO_RECORDED_VALUE`, `job`/`instance` → the
//! resource, start times by `_created`, the start-time metric or the reset-detecting
//! adjuster, one per target). A failed scrape is logged with its reason and counted in
//! `otelcol_receiver_prometheus_failed_scrapes{receiver, job}`.
//!
//! # The scrape cache
//!
//! As Prometheus does, each target keeps what its series texts (`name{labels}` as
//! written) became: from the second scrape on, a text 0.0.4 line whose text is known is
//! not parsed into labels, labelled, relabelled nor keyed again. For a counter, gauge or
//! untyped series of the target's resource and default scope (nearly all of a node
//! exporter's), its OTLP point is written straight from the line's value after
//! attributes encoded when the series was first seen; those points join the rest of the
//! scrape in the target's resource and default scope. Histograms, summaries, OpenMetrics
//! bodies, series naming another resource or a scope, counters with `_created` samples
//! and jobs with `use_start_time_metric` go through the full read and `to_otlp`; a test
//! holds both ways to the same output, scrape after scrape. Texts and series identities
//! are kept as 128-bit hashes of random seeds, not copies (see `series.rs`); what a
//! series costs is forgotten with it (one scrape without it, or a failed scrape). A known
//! text is looked for first where the last scrape's order puts it (`trail.rs`): a target
//! lists its series in the same order every time, and the lookup is then a check of the
//! next slot in memory rather than a probe into a map no scrape left in the cache.
//!
//! Scrapes of plain-`http` targets keep one HTTP/1.1 connection per target, driven with
//! hyper's low-level client inside the target's scrape task (`direct.rs`: no pool, no
//! connection task, a closed idle connection replaced and a request lost on it sent
//! again once). `https` targets, targets that redirect, URLs with credentials and
//! `http_sd_configs` use [`reqwest`](https://docs.rs/reqwest) (already the workspace's
//! HTTP client) with the shared rustls TLS setup; relabelling's `hashmod` uses
//! [`md-5`](https://docs.rs/md-5) (RustCrypto), as Prometheus hashes with MD5.

mod client;
mod config;
mod direct;
mod discovery;
mod factory;
mod receiver;
mod relabel;
mod scrape;
mod series;
mod trail;
mod units;

#[cfg(test)]
mod tests;

pub use config::{
    Authorization, BasicAuth, Config, DEFAULT_SCRAPE_PROTOCOLS, DEFAULT_START_TIME_METRIC_REGEX,
    FileSdConfig, GlobalConfig, HttpSdConfig, PromConfig, ScrapeConfig, StaticConfig, TlsConfig,
};
pub use factory::factory;
pub use receiver::SCOPE_NAME;
pub use relabel::{Action, AnchoredRegex, Labels, RelabelConfig, relabel};
pub use units::{parse_bytes, parse_duration};
