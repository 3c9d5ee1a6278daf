//! The `carbon` receiver's configuration: the Go `carbonreceiver` keys and defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, check_endpoint};

use super::parser::{CarbonParser, RegexRuleError};

/// The default `endpoint`, as Go's.
pub const DEFAULT_ENDPOINT: &str = "localhost:2003";

/// The default `tcp_idle_timeout`, as Go's.
pub const DEFAULT_TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The `carbon` receiver's configuration.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `host:port` to listen on.
    pub endpoint: String,
    /// `tcp` or `udp`.
    pub transport: String,
    /// How long a TCP connection may stay without sending a line before it is closed;
    /// `0` means the default (30s), as in Go.
    #[serde(with = "tributary_confmap::duration")]
    pub tcp_idle_timeout: Duration,
    /// How lines are turned into metrics.
    pub parser: ParserConfig,
    /// TCP connections served at once; more are closed at once (Tributary's own key).
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: DEFAULT_ENDPOINT.into(),
            transport: "tcp".into(),
            tcp_idle_timeout: DEFAULT_TCP_IDLE_TIMEOUT,
            parser: ParserConfig::default(),
            max_connections: tributary_pipeline_core::server::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Which transport the receiver listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A stream of lines per connection.
    Tcp,
    /// Datagrams of one or more lines.
    Udp,
}

impl Config {
    /// The transport `transport` names.
    pub fn transport(&self) -> Result<Transport, ConfigError> {
        match self.transport.as_str() {
            "tcp" => Ok(Transport::Tcp),
            "udp" => Ok(Transport::Udp),
            other => Err(ConfigError::at(
                "transport",
                format!("unsupported transport {other:?}: use \"tcp\" or \"udp\""),
            )),
        }
    }

    /// The idle timeout in effect (`0` is the default, as in Go).
    pub fn idle_timeout(&self) -> Duration {
        if self.tcp_idle_timeout.is_zero() {
            DEFAULT_TCP_IDLE_TIMEOUT
        } else {
            self.tcp_idle_timeout
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.endpoint.is_empty() {
            return Err(ConfigError::at("endpoint", "must be set (host:port)"));
        }
        check_endpoint(&self.endpoint).map_err(|e| ConfigError::at("endpoint", e))?;
        self.transport()?;
        if self.max_connections == 0 {
            return Err(ConfigError::at("max_connections", "must be at least 1"));
        }
        self.parser.build().map(|_| ())
    }
}

/// `parser`: `type` (`plaintext`, the default, or `regex`) and that parser's `config`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ParserConfig {
    /// `plaintext` or `regex`.
    #[serde(rename = "type")]
    pub kind: ParserType,
    /// The `regex` parser's settings; the `plaintext` parser takes none.
    pub config: Option<RegexParserConfig>,
}

/// The parsers the Go receiver offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParserType {
    /// `path;tag=value;... value timestamp`: the path up to the first `;` is the metric
    /// name, the tags its attributes.
    #[default]
    Plaintext,
    /// The path matched against `rules`: named groups become the name and attributes.
    Regex,
}

/// The `regex` parser's `config`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegexParserConfig {
    /// Tried in order; the first that matches a path applies. A path no rule matches is
    /// parsed as plaintext.
    pub rules: Vec<RegexRule>,
    /// Joins the rule's `name_prefix` and the `name_*` groups into the metric name.
    pub name_separator: String,
}

/// One rule of the `regex` parser.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegexRule {
    /// The expression (RE2 syntax, as Go's). Named groups are `key_<attribute>` or
    /// `name_<part>`; any other name is refused.
    pub regexp: String,
    /// The start of the metric name.
    pub name_prefix: String,
    /// Attributes added to every point the rule matches.
    pub labels: BTreeMap<String, String>,
    /// `gauge` (the default) or `cumulative` (a monotonic sum).
    #[serde(rename = "type")]
    pub metric_type: String,
}

impl ParserConfig {
    /// The parser these settings describe; errors name their key.
    pub fn build(&self) -> Result<CarbonParser, ConfigError> {
        match self.kind {
            ParserType::Plaintext => match &self.config {
                Some(config) if *config != RegexParserConfig::default() => Err(ConfigError::at(
                    "parser::config",
                    "the plaintext parser takes no settings (rules and name_separator belong to `type: regex`)",
                )),
                _ => Ok(CarbonParser::plaintext()),
            },
            ParserType::Regex => {
                let config = self.config.clone().unwrap_or_default();
                CarbonParser::regex(&config.rules, &config.name_separator).map_err(|e| match e {
                    RegexRuleError::NoRules => {
                        ConfigError::at("parser::config::rules", "no expression rule was specified")
                    }
                    RegexRuleError::Rule {
                        index,
                        key,
                        message,
                    } => ConfigError::at(format!("parser::config::rules::{index}::{key}"), message),
                })
            }
        }
    }
}
