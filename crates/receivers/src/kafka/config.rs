//! The `kafka` receiver's configuration: the Go Collector's keys.

use std::time::Duration;

use serde::Deserialize;
use tributary_kafka::check_topic;
pub use tributary_kafka::{ClientSettings, Encoding, Present, default_topic};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
use tributary_pipeline_core::exporterhelper::RetryConfig;
use tributary_pipeline_core::pdata::Signal;

/// The `kafka` receiver's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `brokers`, `client_id`, `protocol_version`, `tls`, `auth`, `metadata`, …
    #[serde(rename = "client,squash")]
    pub client: ClientSettings,
    /// Go: fence fetches with the leader epoch (librdkafka always does, KIP-320).
    pub use_leader_epoch: bool,
    /// Consumer group; collectors with the same group share the partitions.
    pub group_id: String,
    /// Static group membership (KIP-345): a restart within `session_timeout` keeps the
    /// member's partitions without a rebalance.
    pub group_instance_id: String,
    /// Where a group without a committed offset starts: `latest` or `earliest`.
    pub initial_offset: String,
    /// A member not heard from for this long is dropped from the group.
    #[serde(with = "tributary_confmap::duration")]
    pub session_timeout: Duration,
    /// How often a member tells the coordinator it is alive.
    #[serde(with = "tributary_confmap::duration")]
    pub heartbeat_interval: Duration,
    /// Deprecated in Go: one assignment strategy (`range`, `roundrobin`, `sticky`).
    pub group_rebalance_strategy: String,
    /// Assignment strategies in order of preference; wins over the deprecated form.
    pub group_rebalance_strategies: Vec<String>,
    /// Committing of marked offsets.
    pub autocommit: AutoCommit,
    /// Smallest fetch response the broker waits for, in bytes.
    pub min_fetch_size: i32,
    /// Go (Sarama): bytes fetched per partition per request.
    pub default_fetch_size: i32,
    /// Largest fetch response, in bytes; `0`: librdkafka's default (50 MiB).
    pub max_fetch_size: i32,
    /// Largest fetch per partition, in bytes.
    pub max_partition_fetch_size: i32,
    /// Longest the broker waits to fill `min_fetch_size`.
    #[serde(with = "tributary_confmap::duration")]
    pub max_fetch_wait: Duration,
    /// Where spans are read from.
    pub traces: SignalConfig,
    /// Where metrics are read from.
    pub metrics: SignalConfig,
    /// Where logs are read from.
    pub logs: SignalConfig,
    /// Profiles: not a signal of this collector; accepted so Go configs load.
    pub profiles: Option<Present>,
    /// Deprecated in Go: one topic for every signal whose block names none.
    pub topic: String,
    /// Deprecated in Go: one encoding for every signal whose block names none.
    pub encoding: Option<Encoding>,
    /// When a record's offset is marked (to be committed).
    pub message_marking: MessageMarking,
    /// Waiting before a record the pipeline refused for now is delivered again.
    pub error_backoff: ErrorBackoff,
    /// Record headers copied to resource attributes.
    pub header_extraction: HeaderExtraction,
    /// Go's newest per-partition processing: accepted; records are handled in order.
    pub partition_processing: Option<Present>,
    /// Go's receiver telemetry switches: accepted.
    pub telemetry: Option<Present>,
}

/// One signal's topics.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalConfig {
    /// Topics; one starting with `^` is a regular expression.
    pub topics: Vec<String>,
    /// Encoding; absent: the deprecated top-level `encoding`, else `otlp_proto`.
    pub encoding: Option<Encoding>,
    /// Regular expressions of topics to skip (with `^` topics).
    pub exclude_topics: Vec<String>,
}

/// `autocommit`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoCommit {
    /// Commit marked offsets every `interval` in the background. Off (the default here,
    /// unlike Go): the offset of each record is committed as soon as it is marked.
    pub enable: bool,
    /// Background commit interval.
    #[serde(with = "tributary_confmap::duration")]
    pub interval: Duration,
}

impl Default for AutoCommit {
    fn default() -> Self {
        AutoCommit {
            enable: false,
            interval: Duration::from_secs(1),
        }
    }
}

/// `message_marking`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessageMarking {
    /// Mark a record after the pipeline accepted it (at least once; the default here,
    /// unlike Go). `false`: before handing it over (at most once).
    pub after: bool,
    /// Mark a record the pipeline kept refusing for now once `error_backoff`'s
    /// `max_elapsed_time` ran out (and move on); `false`: keep retrying it.
    pub on_error: bool,
    /// Accepted for Go configs: a record refused for good (or undecodable) is always
    /// counted and skipped, since a later record's offset would commit past it anyway.
    pub on_permanent_error: Option<bool>,
}

impl Default for MessageMarking {
    fn default() -> Self {
        MessageMarking {
            after: true,
            on_error: false,
            on_permanent_error: None,
        }
    }
}

/// `error_backoff`: waits between deliveries of a record the pipeline refused for now.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ErrorBackoff {
    /// Exponential backoff; `false`: wait `initial_interval` every time.
    pub enabled: bool,
    /// First wait.
    #[serde(with = "tributary_confmap::duration")]
    pub initial_interval: Duration,
    /// Longest wait.
    #[serde(with = "tributary_confmap::duration")]
    pub max_interval: Duration,
    /// Growth of the wait.
    pub multiplier: f64,
    /// Jitter, as a fraction of the wait.
    pub randomization_factor: f64,
    /// After this long refused, `message_marking::on_error` decides; `0`: never give up.
    #[serde(with = "tributary_confmap::duration")]
    pub max_elapsed_time: Duration,
}

impl ErrorBackoff {
    /// The same schedule as the exporter helper's retry settings, for its [`Backoff`].
    ///
    /// [`Backoff`]: tributary_pipeline_core::exporterhelper::Backoff
    pub fn as_retry(&self) -> RetryConfig {
        RetryConfig {
            enabled: true,
            initial_interval: self.initial_interval,
            randomization_factor: self.randomization_factor,
            multiplier: self.multiplier,
            max_interval: self.max_interval,
            max_elapsed_time: self.max_elapsed_time,
        }
    }
}

impl Default for ErrorBackoff {
    fn default() -> Self {
        ErrorBackoff {
            enabled: true,
            initial_interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(5),
            multiplier: 1.5,
            randomization_factor: 0.5,
            max_elapsed_time: Duration::ZERO,
        }
    }
}

/// `header_extraction`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeaderExtraction {
    /// Copy the listed headers to resource attributes `kafka.header.<name>`.
    pub extract_headers: bool,
    /// Header names.
    pub headers: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            client: ClientSettings::default(),
            use_leader_epoch: true,
            group_id: "otel-collector".into(),
            group_instance_id: String::new(),
            initial_offset: "latest".into(),
            session_timeout: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(3),
            group_rebalance_strategy: String::new(),
            group_rebalance_strategies: Vec::new(),
            autocommit: AutoCommit::default(),
            min_fetch_size: 1,
            default_fetch_size: 1_048_576,
            max_fetch_size: 0,
            max_partition_fetch_size: 1_048_576,
            max_fetch_wait: Duration::from_millis(250),
            traces: SignalConfig::default(),
            metrics: SignalConfig::default(),
            logs: SignalConfig::default(),
            profiles: None,
            topic: String::new(),
            encoding: None,
            message_marking: MessageMarking::default(),
            error_backoff: ErrorBackoff::default(),
            header_extraction: HeaderExtraction::default(),
            partition_processing: None,
            telemetry: None,
        }
    }
}

impl Config {
    fn signal(&self, signal: Signal) -> &SignalConfig {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }

    /// The topics of `signal`: its block's, else the deprecated top-level one, else Go's
    /// default.
    pub fn topics(&self, signal: Signal) -> Vec<String> {
        let own = &self.signal(signal).topics;
        if !own.is_empty() {
            own.clone()
        } else if !self.topic.is_empty() {
            vec![self.topic.clone()]
        } else {
            vec![default_topic(signal).to_string()]
        }
    }

    /// The topics of `signal` to skip.
    pub fn exclude_topics(&self, signal: Signal) -> &[String] {
        &self.signal(signal).exclude_topics
    }

    /// The encoding of `signal`.
    pub fn encoding(&self, signal: Signal) -> Encoding {
        self.signal(signal)
            .encoding
            .or(self.encoding)
            .unwrap_or_default()
    }

    /// librdkafka's `partition.assignment.strategy`.
    pub fn assignment_strategy(&self) -> String {
        let names: Vec<&str> = if self.group_rebalance_strategies.is_empty() {
            vec![if self.group_rebalance_strategy.is_empty() {
                "range"
            } else {
                &self.group_rebalance_strategy
            }]
        } else {
            self.group_rebalance_strategies
                .iter()
                .map(String::as_str)
                .collect()
        };
        names
            .iter()
            .map(|name| match *name {
                // librdkafka has only the cooperative form of the sticky assignor.
                "sticky" | "cooperative-sticky" | "cooperative_sticky" => "cooperative-sticky",
                other => other,
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Whether `encoding` can carry `signal`, for the receiver.
fn check_encoding(signal: Signal, encoding: Encoding) -> Result<(), String> {
    let ok = match encoding {
        Encoding::OtlpProto | Encoding::OtlpJson => true,
        Encoding::JaegerProto
        | Encoding::JaegerJson
        | Encoding::ZipkinProto
        | Encoding::ZipkinJson => signal == Signal::Traces,
        Encoding::Raw | Encoding::Text | Encoding::Json => signal == Signal::Logs,
        Encoding::ZipkinThrift => {
            return Err(format!(
                "{} is not supported (jaeger_proto, jaeger_json, zipkin_proto and zipkin_json are)",
                encoding.as_str()
            ));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} cannot carry {}",
            encoding.as_str(),
            signal.as_str()
        ))
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        self.client.validate()?;
        if self.group_id.is_empty() {
            return Err(ConfigError::at("group_id", "must be set"));
        }
        if !matches!(self.initial_offset.as_str(), "latest" | "earliest") {
            return Err(ConfigError::at(
                "initial_offset",
                format!("{:?}: expected latest or earliest", self.initial_offset),
            ));
        }
        if self.session_timeout < Duration::from_millis(1)
            || self.heartbeat_interval.is_zero()
            || self.heartbeat_interval >= self.session_timeout
        {
            return Err(ConfigError::at(
                "heartbeat_interval",
                "must be above zero and below session_timeout",
            ));
        }
        let strategies = self.assignment_strategy();
        for name in strategies.split(',') {
            if !matches!(name, "range" | "roundrobin" | "cooperative-sticky") {
                return Err(ConfigError::at(
                    "group_rebalance_strategies",
                    format!("{name:?}: expected range, roundrobin or sticky"),
                ));
            }
        }
        if strategies.contains("cooperative-sticky") && strategies.contains(',') {
            return Err(ConfigError::at(
                "group_rebalance_strategies",
                "sticky (cooperative) cannot be mixed with the eager range and roundrobin",
            ));
        }
        if self.autocommit.enable && self.autocommit.interval.is_zero() {
            return Err(ConfigError::at(
                "autocommit::interval",
                "must be above zero",
            ));
        }
        for (key, value) in [
            ("min_fetch_size", self.min_fetch_size),
            ("max_partition_fetch_size", self.max_partition_fetch_size),
        ] {
            if value < 1 {
                return Err(ConfigError::at(key, "must be at least 1"));
            }
        }
        if self.max_fetch_size < 0 {
            return Err(ConfigError::at("max_fetch_size", "must not be negative"));
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            for (i, topic) in self.topics(signal).iter().enumerate() {
                let valid = if let Some(pattern) = topic.strip_prefix('^') {
                    regex::Regex::new(&format!("^{pattern}"))
                        .map(drop)
                        .map_err(|e| format!("{topic:?} is not a regular expression: {e}"))
                } else {
                    check_topic(topic)
                };
                valid.map_err(|e| ConfigError::at(format!("{signal}::topics::{i}"), e))?;
            }
            for (i, pattern) in self.exclude_topics(signal).iter().enumerate() {
                regex::Regex::new(pattern).map_err(|e| {
                    ConfigError::at(
                        format!("{signal}::exclude_topics::{i}"),
                        format!("{pattern:?} is not a regular expression: {e}"),
                    )
                })?;
            }
            check_encoding(signal, self.encoding(signal))
                .map_err(|e| ConfigError::at(format!("{signal}::encoding"), e))?;
        }
        let backoff = &self.error_backoff;
        if backoff.initial_interval.is_zero() || backoff.max_interval < backoff.initial_interval {
            return Err(ConfigError::at(
                "error_backoff::initial_interval",
                "must be above zero and at most max_interval",
            ));
        }
        if backoff.multiplier.is_nan()
            || backoff.multiplier < 1.0
            || !(0.0..=1.0).contains(&backoff.randomization_factor)
        {
            return Err(ConfigError::at(
                "error_backoff::multiplier",
                "multiplier must be at least 1 and randomization_factor within 0 to 1",
            ));
        }
        Ok(())
    }
}
