//! The `influxdb` exporter's configuration: the Go exporter's keys.

use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, SecretString};
use tributary_pipeline_core::confighttp::{HttpClientConfig, check_http_url};
use tributary_pipeline_core::exporterhelper::ExporterHelperConfig;

use crate::client::Compression;

/// `metrics_schema`: how metrics become line protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetricsSchema {
    /// `telegraf-prometheus-v1` (the default): the metric name is the measurement; the
    /// value is field `gauge` or `counter`, a histogram's are `count`, `sum` and one field
    /// per bucket bound.
    #[default]
    TelegrafPrometheusV1,
    /// `telegraf-prometheus-v2`: measurement `prometheus`, the metric name is the field;
    /// a histogram bucket is a line of its own tagged `le`.
    TelegrafPrometheusV2,
}

impl MetricsSchema {
    /// The schema a `metrics_schema` value names.
    pub fn from_name(name: &str) -> Result<MetricsSchema, String> {
        match name {
            "telegraf-prometheus-v1" => Ok(MetricsSchema::TelegrafPrometheusV1),
            "telegraf-prometheus-v2" => Ok(MetricsSchema::TelegrafPrometheusV2),
            "otel-v1" => Err(
                "\"otel-v1\" is not supported by Tributary: use telegraf-prometheus-v1 or telegraf-prometheus-v2"
                    .into(),
            ),
            other => Err(format!(
                "unknown schema {other:?}: use telegraf-prometheus-v1 or telegraf-prometheus-v2"
            )),
        }
    }
}

/// `v1_compatibility`: write to InfluxDB 1.x's `/write` instead of 2.x's `/api/v2/write`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct V1Compatibility {
    /// Use the 1.x API.
    pub enabled: bool,
    /// The database written to (required when enabled).
    pub db: String,
    /// The retention policy; the database's default when empty.
    pub retention_policy: String,
    /// Basic authentication user, sent when both it and `password` are set.
    pub username: String,
    /// Basic authentication password.
    pub password: SecretString,
}

/// The `influxdb` exporter's configuration: the Go Collector's `influxdbexporter` keys
/// (`confighttp.ClientConfig`, the queue and retry blocks, and the exporter's own).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The HTTP client block: `endpoint` (required; a URL without a path gets
    /// `/api/v2/write`, or `/write` in v1 mode), `timeout` (5s), `headers`, `tls`,
    /// `compression` (none by default), `proxy_url`, `auth`, the pool's keys.
    #[serde(rename = "client,squash")]
    pub client: HttpClientConfig,
    /// `retry_on_failure` and `sending_queue`; `timeout` is the client block's.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
    /// The InfluxDB 2.x organization of the bucket.
    pub org: String,
    /// The InfluxDB 2.x bucket written to.
    pub bucket: String,
    /// The InfluxDB 2.x token, sent as `Authorization: Token <token>`.
    pub token: SecretString,
    /// InfluxDB 1.x mode.
    pub v1_compatibility: V1Compatibility,
    /// Span attributes written as tags (the Go exporter's traces; kept for its configs).
    pub span_dimensions: Vec<String>,
    /// Log record attributes written as tags of `logs` lines.
    pub log_record_dimensions: Vec<String>,
    /// `telegraf-prometheus-v1` (default) or `telegraf-prometheus-v2`.
    pub metrics_schema: String,
    /// The most lines in one request.
    pub payload_max_lines: usize,
    /// The most bytes in one request (before compression).
    pub payload_max_bytes: usize,
}

/// The deadline of one request when `timeout` is left out, as the Go exporter's.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

impl Default for Config {
    fn default() -> Self {
        Config {
            client: HttpClientConfig::default(),
            helper: ExporterHelperConfig::default(),
            org: String::new(),
            bucket: String::new(),
            token: SecretString::default(),
            v1_compatibility: V1Compatibility::default(),
            span_dimensions: vec!["service.name".into(), "span.name".into()],
            log_record_dimensions: vec!["service.name".into()],
            metrics_schema: "telegraf-prometheus-v1".into(),
            payload_max_lines: 10_000,
            payload_max_bytes: 10_000_000,
        }
    }
}

impl Config {
    /// The deadline of one request: `timeout`, 5s when left out.
    pub fn timeout(&self) -> Duration {
        self.client.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The exporter helper's settings, with the client block's `timeout` as the attempt
    /// deadline (as in Go, where it is the HTTP client's).
    pub fn helper(&self) -> ExporterHelperConfig {
        ExporterHelperConfig {
            timeout: self.timeout(),
            ..self.helper.clone()
        }
    }

    /// The schema `metrics_schema` names.
    pub fn schema(&self) -> Result<MetricsSchema, ConfigError> {
        MetricsSchema::from_name(&self.metrics_schema)
            .map_err(|e| ConfigError::at("metrics_schema", e))
    }

    /// The URL writes go to, with its query: `precision=ns` and the database or bucket,
    /// as the Go exporter composes it. Credentials travel in headers.
    pub fn write_url(&self) -> Result<reqwest::Url, ConfigError> {
        let endpoint = self.client.endpoint.expose();
        let mut url = reqwest::Url::parse(endpoint).map_err(|e| {
            ConfigError::at(
                "endpoint",
                format!("invalid URL \"{}\": {e}", self.client.endpoint),
            )
        })?;
        let v1 = &self.v1_compatibility;
        if url.path().is_empty() || url.path() == "/" {
            url.set_path(if v1.enabled {
                "/write"
            } else {
                "/api/v2/write"
            });
        }
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "precision" | "db" | "rp" | "org" | "bucket"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        {
            let mut query = url.query_pairs_mut();
            query
                .clear()
                .extend_pairs(kept)
                .append_pair("precision", "ns");
            if v1.enabled {
                query.append_pair("db", &v1.db);
                if !v1.retention_policy.is_empty() {
                    query.append_pair("rp", &v1.retention_policy);
                }
            } else {
                query
                    .append_pair("org", &self.org)
                    .append_pair("bucket", &self.bucket);
            }
        }
        Ok(url)
    }
}

/// Refuses a list naming one key twice, as the Go exporter does.
fn no_duplicates(key: &str, list: &[String]) -> Result<(), ConfigError> {
    for (i, item) in list.iter().enumerate() {
        if list[..i].contains(item) {
            return Err(ConfigError::at(
                key,
                format!("duplicate dimension {item:?}"),
            ));
        }
    }
    Ok(())
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.client.endpoint.is_empty() {
            return Err(ConfigError::at(
                "endpoint",
                "required: the InfluxDB server's URL",
            ));
        }
        check_http_url("endpoint", &self.client.endpoint)?;
        self.write_url()?;
        if self.v1_compatibility.enabled {
            if self.v1_compatibility.db.is_empty() {
                return Err(ConfigError::at(
                    "v1_compatibility::db",
                    "required when v1_compatibility is enabled: the database to write to",
                ));
            }
        } else if self.bucket.is_empty() {
            return Err(ConfigError::at(
                "bucket",
                "required: the bucket to write to (or enable v1_compatibility with a db)",
            ));
        }
        self.schema()?;
        no_duplicates("span_dimensions", &self.span_dimensions)?;
        no_duplicates("log_record_dimensions", &self.log_record_dimensions)?;
        if self.payload_max_lines == 0 {
            return Err(ConfigError::at("payload_max_lines", "must be at least 1"));
        }
        if self.payload_max_bytes == 0 {
            return Err(ConfigError::at("payload_max_bytes", "must be at least 1"));
        }
        self.client.validate(Compression::None)?;
        self.helper().validate()
    }
}
