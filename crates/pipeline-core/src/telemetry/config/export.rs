//! Where the collector's own telemetry is pushed: the exporters of the declarative
//! schema (`otlp`, `otlp_http`, `otlp_grpc`, `console`) and the span/log-record
//! processors (`batch`, `simple`) that feed them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::{TelemetryConfigError, error};

/// The exporter of a periodic reader or a span/log processor: one of `otlp` (the Go
/// Collector's schema, with `protocol`), `otlp_http` or `otlp_grpc` (the newer schema's
/// names), or `console`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushExporter {
    /// OTLP with an explicit `protocol`.
    pub otlp: Option<OtlpExporterConfig>,
    /// OTLP over HTTP (`encoding: protobuf|json`).
    pub otlp_http: Option<OtlpExporterConfig>,
    /// OTLP over gRPC.
    pub otlp_grpc: Option<OtlpExporterConfig>,
    /// Writes to standard output as OTLP/JSON, one request per line.
    pub console: Option<serde_json::Value>,
}

/// The resolved form of a [`PushExporter`].
#[derive(Clone, Debug, PartialEq)]
pub enum PushTarget {
    /// An OTLP endpoint.
    Otlp(OtlpTarget),
    /// Standard output.
    Console,
}

impl PushExporter {
    /// The target this exporter names; `None` when it names none or several (see
    /// [`TelemetryConfig::validate`](super::TelemetryConfig::validate)).
    pub fn target(&self) -> Option<PushTarget> {
        let named = [
            self.otlp.is_some(),
            self.otlp_http.is_some(),
            self.otlp_grpc.is_some(),
            self.console.is_some(),
        ];
        if named.iter().filter(|n| **n).count() != 1 {
            return None;
        }
        if self.console.is_some() {
            return Some(PushTarget::Console);
        }
        let (config, implied) = if let Some(c) = &self.otlp {
            (c, None)
        } else if let Some(c) = &self.otlp_http {
            let implied = match c.encoding.as_deref() {
                Some("json") => OtlpProtocol::HttpJson,
                _ => OtlpProtocol::HttpProtobuf,
            };
            (c, Some(implied))
        } else {
            (self.otlp_grpc.as_ref()?, Some(OtlpProtocol::Grpc))
        };
        config.target(implied).ok().map(PushTarget::Otlp)
    }

    /// The key naming the exporter (`otlp`, `otlp_http`, `otlp_grpc` or `console`), when
    /// exactly one is named: the path segment of its settings.
    pub fn name(&self) -> Option<&'static str> {
        let named: Vec<&'static str> = [
            ("otlp", self.otlp.is_some()),
            ("otlp_http", self.otlp_http.is_some()),
            ("otlp_grpc", self.otlp_grpc.is_some()),
            ("console", self.console.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect();
        match named.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    pub(super) fn validate(&self, path: &str, errors: &mut Vec<TelemetryConfigError>) {
        let named: Vec<&str> = [
            ("otlp", self.otlp.as_ref()),
            ("otlp_http", self.otlp_http.as_ref()),
            ("otlp_grpc", self.otlp_grpc.as_ref()),
        ]
        .into_iter()
        .filter_map(|(name, c)| c.map(|_| name))
        .chain(self.console.as_ref().map(|_| "console"))
        .collect();
        if named.len() != 1 {
            errors.push(error(
                path,
                format!(
                    "name exactly one exporter (otlp, otlp_http, otlp_grpc or console); found {}",
                    if named.is_empty() {
                        "none".to_string()
                    } else {
                        named.join(", ")
                    }
                ),
            ));
            return;
        }
        let (name, config, implied) = match named[0] {
            "otlp" => ("otlp", self.otlp.as_ref(), None),
            "otlp_http" => (
                "otlp_http",
                self.otlp_http.as_ref(),
                Some(OtlpProtocol::HttpProtobuf),
            ),
            "otlp_grpc" => (
                "otlp_grpc",
                self.otlp_grpc.as_ref(),
                Some(OtlpProtocol::Grpc),
            ),
            _ => return,
        };
        if let Some(config) = config
            && let Err((key, message)) = config.target(implied)
        {
            errors.push(error(format!("{path}::{name}{key}"), message));
        }
    }
}

/// The OTLP exporter of the declarative configuration schema.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpExporterConfig {
    /// `grpc`, `http/protobuf` or `http/json` (required under `otlp`).
    pub protocol: Option<String>,
    /// `http://host:port` (a path, if any, is used as is for HTTP; otherwise
    /// `/v1/<signal>` is added). `host:port` alone means plain HTTP/2 for gRPC.
    pub endpoint: Option<String>,
    /// Request headers, as a map or as a list of `{name, value}`.
    pub headers: Option<Headers>,
    /// Request headers as `k1=v1,k2=v2` (the `OTEL_EXPORTER_OTLP_HEADERS` format).
    pub headers_list: Option<String>,
    /// `gzip` or `none` (default).
    pub compression: Option<String>,
    /// Milliseconds one export may take (10000).
    pub timeout: Option<u64>,
    /// gRPC only: whether a scheme-less endpoint is plain text (default: TLS, as in Go).
    /// `http://` is always plain and `https://` always TLS.
    pub insecure: Option<bool>,
    /// `protobuf` (default) or `json`, under `otlp_http`.
    pub encoding: Option<String>,
    /// PEM file of the CAs that sign the backend's certificate (default: the system roots).
    pub certificate: Option<String>,
    /// PEM file of the client's private key, for mutual TLS.
    pub client_key: Option<String>,
    /// PEM file of the client's certificate chain, for mutual TLS.
    pub client_certificate: Option<String>,
    /// `certificate` as the newer schema (0.4) spells it.
    pub certificate_file: Option<String>,
    /// `client_key` as the newer schema (0.4) spells it.
    pub client_key_file: Option<String>,
    /// `client_certificate` as the newer schema (0.4) spells it.
    pub client_certificate_file: Option<String>,
    /// The TLS settings as the current schema (1.0) groups them.
    pub tls: Option<OtlpTlsConfig>,
    /// Metrics only: `cumulative` (default), `delta` or `low_memory`. This collector's
    /// counters are cumulative; `cumulative` is the only one accepted.
    pub temporality_preference: Option<String>,
    /// Metrics only: the collector records no histograms, so this has no effect.
    pub default_histogram_aggregation: Option<String>,
}

/// `tls:` of an OTLP exporter in the current declarative schema.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OtlpTlsConfig {
    /// PEM file of the CAs that sign the backend's certificate.
    pub certificate_file: Option<String>,
    /// PEM file of the client's private key, for mutual TLS.
    pub client_key_file: Option<String>,
    /// PEM file of the client's certificate chain, for mutual TLS.
    pub client_certificate_file: Option<String>,
    /// `certificate_file` as the 1.0 release candidates spell it (`ca_file`).
    pub ca_file: Option<String>,
    /// `client_key_file` as the 1.0 release candidates spell it (`key_file`).
    pub key_file: Option<String>,
    /// `client_certificate_file` as the 1.0 release candidates spell it (`cert_file`).
    pub cert_file: Option<String>,
    /// gRPC only: a scheme-less endpoint is plain text.
    pub insecure: Option<bool>,
}

/// Request headers: `{name: value}` or `[{name, value}]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Headers {
    /// `{authorization: "Bearer x"}`.
    Map(BTreeMap<String, String>),
    /// `[{name: authorization, value: "Bearer x"}]`.
    List(Vec<NameValue>),
}

/// One header of the list form.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameValue {
    /// Header name.
    pub name: String,
    /// Header value.
    pub value: String,
}

/// The wire protocol of an OTLP push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP/gRPC (unary `Export` calls over HTTP/2).
    Grpc,
    /// OTLP/HTTP with protobuf bodies.
    HttpProtobuf,
    /// OTLP/HTTP with JSON bodies.
    HttpJson,
}

/// The TLS files of an `https://` OTLP push. Each is read when the telemetry starts
/// (and at every reload), not at validation: the files may be written after the
/// configuration is checked, and rotated between reloads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OtlpTls {
    /// The CAs to trust; `None`: the system roots.
    pub ca: Option<TlsFile>,
    /// The client certificate chain (mutual TLS).
    pub client_certificate: Option<TlsFile>,
    /// The client private key (mutual TLS).
    pub client_key: Option<TlsFile>,
}

/// A file named by a TLS key, with the key that named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFile {
    /// The key, relative to the exporter (`::certificate`, `::tls::certificate_file`).
    pub key: String,
    /// The file.
    pub path: String,
}

/// A checked OTLP exporter: where and how to send.
#[derive(Clone, Debug, PartialEq)]
pub struct OtlpTarget {
    /// The protocol.
    pub protocol: OtlpProtocol,
    /// `http://host:port[/path]` or `https://host:port[/path]`.
    pub endpoint: String,
    /// With an `https://` endpoint: the files to read when the telemetry starts.
    pub tls: Option<Box<OtlpTls>>,
    /// Headers sent with every request.
    pub headers: Vec<(String, String)>,
    /// Whether bodies are gzip-compressed.
    pub gzip: bool,
    /// Time one export may take.
    pub timeout: Duration,
}

impl OtlpExporterConfig {
    /// Checks the settings and resolves them; an error names the key (relative, starting
    /// with `::`, or empty for the block) and why.
    pub fn target(&self, implied: Option<OtlpProtocol>) -> Result<OtlpTarget, (String, String)> {
        let fail = |key: &str, message: &str| Err((key.to_string(), message.to_string()));
        let protocol = match (implied, self.protocol.as_deref()) {
            (_, Some("grpc")) => OtlpProtocol::Grpc,
            (_, Some("http/protobuf")) => OtlpProtocol::HttpProtobuf,
            (_, Some("http/json")) => OtlpProtocol::HttpJson,
            (_, Some(other)) => {
                return fail(
                    "::protocol",
                    &format!(
                        "unknown protocol {other:?}; expected grpc, http/protobuf or http/json"
                    ),
                );
            }
            (Some(implied), None) => implied,
            (None, None) => return fail("::protocol", "missing: grpc, http/protobuf or http/json"),
        };
        if let Some(encoding) = self.encoding.as_deref()
            && !matches!(encoding, "protobuf" | "json")
        {
            return fail("::encoding", "expected protobuf or json");
        }
        let tls_files = self.tls_files()?;
        let insecure = match (self.insecure, self.tls.as_ref().and_then(|t| t.insecure)) {
            (Some(_), Some(_)) => {
                return fail(
                    "::tls::insecure",
                    "set either insecure or tls::insecure, not both",
                );
            }
            (a, b) => a.or(b).unwrap_or(false),
        };
        let Some(endpoint) = self.endpoint.as_deref().filter(|e| !e.is_empty()) else {
            return fail("::endpoint", "missing");
        };
        // The Go SDK's rules: the scheme decides; without one (gRPC only) `insecure`
        // does, and TLS is the default.
        let endpoint = if endpoint.starts_with("https://") || endpoint.starts_with("http://") {
            endpoint.to_string()
        } else if endpoint.contains("://") {
            return fail("::endpoint", "the scheme must be http or https");
        } else if protocol == OtlpProtocol::Grpc {
            let scheme = if insecure { "http" } else { "https" };
            format!("{scheme}://{endpoint}")
        } else {
            return fail(
                "::endpoint",
                "must be a URL starting with http:// or https:// (e.g. https://localhost:4318)",
            );
        };
        let tls = if endpoint.starts_with("https://") {
            Some(Box::new(tls_files))
        } else if let Some(file) = [
            &tls_files.ca,
            &tls_files.client_certificate,
            &tls_files.client_key,
        ]
        .into_iter()
        .flatten()
        .next()
        {
            // Go would send in plain text and ignore the file; refusing says so.
            return fail(
                &file.key,
                "the endpoint is plain text (http://, or insecure: true): use an https:// endpoint for TLS",
            );
        } else {
            None
        };
        if endpoint.parse::<http::Uri>().is_err() {
            return fail("::endpoint", "not a valid URL");
        }
        let gzip = match self.compression.as_deref() {
            None | Some("none") | Some("") => false,
            Some("gzip") => true,
            Some(_) => return fail("::compression", "expected gzip or none"),
        };
        match self.temporality_preference.as_deref() {
            None | Some("cumulative") => {}
            Some("delta") | Some("low_memory") => {
                return fail(
                    "::temporality_preference",
                    "only cumulative is supported: the collector's counters are cumulative",
                );
            }
            Some(_) => {
                return fail(
                    "::temporality_preference",
                    "expected cumulative, delta or low_memory",
                );
            }
        }
        let mut headers = Vec::new();
        match &self.headers {
            Some(Headers::Map(map)) => {
                headers.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            Some(Headers::List(list)) => {
                headers.extend(list.iter().map(|h| (h.name.clone(), h.value.clone())));
            }
            None => {}
        }
        if let Some(list) = &self.headers_list {
            for pair in list.split(',').filter(|p| !p.trim().is_empty()) {
                let Some((name, value)) = pair.split_once('=') else {
                    return fail(
                        "::headers_list",
                        "expected name=value pairs separated by commas",
                    );
                };
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        for (name, value) in &headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err()
                || http::HeaderValue::from_str(value).is_err()
            {
                return fail("::headers", &format!("invalid header {name:?}"));
            }
        }
        Ok(OtlpTarget {
            protocol,
            endpoint,
            tls,
            headers,
            gzip,
            timeout: Duration::from_millis(self.timeout.unwrap_or(10_000)),
        })
    }
}

impl OtlpExporterConfig {
    /// The TLS files, whichever spelling names them; two spellings of one file are refused.
    fn tls_files(&self) -> Result<OtlpTls, (String, String)> {
        let tls = self.tls.clone().unwrap_or_default();
        let pick = |spellings: [(&str, &Option<String>); 4]| {
            let set: Vec<(&str, &String)> = spellings
                .into_iter()
                .filter_map(|(key, value)| value.as_ref().map(|v| (key, v)))
                .collect();
            match set.as_slice() {
                [] => Ok(None),
                [(_, path)] if path.is_empty() => Ok(None),
                [(key, path)] => Ok(Some(TlsFile {
                    key: key.to_string(),
                    path: path.to_string(),
                })),
                [.., (key, _)] => Err((
                    key.to_string(),
                    format!(
                        "set only one of {}",
                        spellings
                            .iter()
                            .map(|(k, _)| k.trim_start_matches("::"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
        };
        let files = OtlpTls {
            ca: pick([
                ("::certificate", &self.certificate),
                ("::certificate_file", &self.certificate_file),
                ("::tls::certificate_file", &tls.certificate_file),
                ("::tls::ca_file", &tls.ca_file),
            ])?,
            client_certificate: pick([
                ("::client_certificate", &self.client_certificate),
                ("::client_certificate_file", &self.client_certificate_file),
                (
                    "::tls::client_certificate_file",
                    &tls.client_certificate_file,
                ),
                ("::tls::cert_file", &tls.cert_file),
            ])?,
            client_key: pick([
                ("::client_key", &self.client_key),
                ("::client_key_file", &self.client_key_file),
                ("::tls::client_key_file", &tls.client_key_file),
                ("::tls::key_file", &tls.key_file),
            ])?,
        };
        match (&files.client_certificate, &files.client_key) {
            (Some(cert), None) => Err((
                cert.key.clone(),
                "a client certificate needs its key (client_key) too".into(),
            )),
            (None, Some(key)) => Err((
                key.key.clone(),
                "a client key needs its certificate (client_certificate) too".into(),
            )),
            _ => Ok(files),
        }
    }
}

/// A span or log-record processor: exactly one of `batch` or `simple`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportProcessor {
    /// Batches records, exporting every `schedule_delay` or `max_export_batch_size`.
    pub batch: Option<BatchProcessorConfig>,
    /// Exports each record at once (in order, one export at a time).
    pub simple: Option<SimpleProcessorConfig>,
}

/// `batch`: the declarative schema's batch processor.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchProcessorConfig {
    /// Milliseconds between exports (5000 for spans, 1000 for logs).
    pub schedule_delay: Option<u64>,
    /// Milliseconds an export may take (30000).
    pub export_timeout: Option<u64>,
    /// Records held at most; more are dropped and counted (2048).
    #[serde(default = "default_max_queue")]
    pub max_queue_size: usize,
    /// Records per export at most (512).
    #[serde(default = "default_max_batch")]
    pub max_export_batch_size: usize,
    /// Where to send.
    pub exporter: PushExporter,
}

fn default_max_queue() -> usize {
    2048
}

fn default_max_batch() -> usize {
    512
}

/// `simple`: exports each record as it comes.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleProcessorConfig {
    /// Where to send.
    pub exporter: PushExporter,
}

impl ExportProcessor {
    /// The exporter, and the batching settings (`None` for `simple`).
    pub fn parts(&self) -> Option<(&PushExporter, Option<&BatchProcessorConfig>)> {
        match (&self.batch, &self.simple) {
            (Some(batch), None) => Some((&batch.exporter, Some(batch))),
            (None, Some(simple)) => Some((&simple.exporter, None)),
            _ => None,
        }
    }
}

pub(super) fn validate_processors(
    path: &str,
    processors: &[ExportProcessor],
    errors: &mut Vec<TelemetryConfigError>,
) {
    for (i, processor) in processors.iter().enumerate() {
        let path = format!("{path}::{i}");
        match processor.parts() {
            None => errors.push(error(
                &path,
                "each processor must be exactly one of `batch` or `simple`",
            )),
            Some((exporter, batch)) => {
                let kind = if batch.is_some() { "batch" } else { "simple" };
                if let Some(batch) = batch {
                    if batch.max_queue_size == 0 {
                        errors.push(error(
                            format!("{path}::batch::max_queue_size"),
                            "must be > 0",
                        ));
                    }
                    if batch.max_export_batch_size == 0
                        || batch.max_export_batch_size > batch.max_queue_size
                    {
                        errors.push(error(
                            format!("{path}::batch::max_export_batch_size"),
                            "must be > 0 and at most max_queue_size",
                        ));
                    }
                    if batch.schedule_delay == Some(0) {
                        errors.push(error(
                            format!("{path}::batch::schedule_delay"),
                            "must be > 0",
                        ));
                    }
                }
                exporter.validate(&format!("{path}::{kind}::exporter"), errors);
            }
        }
    }
}
