//! The transform processor's configuration: the Go Collector's keys and defaults.

use serde::Deserialize;
use tributary_ottl::ContextKind;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use super::processor::{Signal, compile_groups};

/// What a statement error does (`error_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorMode {
    /// Log the error and go on with the next statement.
    Ignore,
    /// Go on with the next statement without logging.
    Silent,
    /// Refuse the request with a permanent error (the default).
    #[default]
    Propagate,
}

/// One entry of `trace_statements`, `metric_statements` or `log_statements`: a bare
/// statement (its context inferred from its path prefixes) or a group.
#[derive(Clone, Debug, PartialEq)]
pub enum StatementsEntry {
    /// A statement on its own, e.g. `set(span.name, "x")`.
    Statement(String),
    /// A `context`/`conditions`/`statements` group.
    Group(Group),
}

// Not `#[serde(untagged)]`: that would hide a group's own errors (an unknown key and
// its path) behind "did not match any variant".
impl<'de> Deserialize<'de> for StatementsEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = StatementsEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a statement string or a map with context, conditions and statements")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StatementsEntry::Statement(v.to_string()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                Group::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(StatementsEntry::Group)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A group of statements sharing a context and conditions.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Group {
    /// The context (`resource`, `scope`, `span`, `spanevent`, `metric`, `datapoint`,
    /// `log`); inferred from the paths when empty.
    pub context: String,
    /// Conditions, ORed: the statements run on an item only if one matches (none: all).
    pub conditions: Vec<String>,
    /// The statements, run in order on each item.
    pub statements: Vec<String>,
    /// This group's error mode, overriding the top-level one.
    pub error_mode: Option<ErrorMode>,
    /// Go: share the `cache` map between groups that set it. Refused when true: groups
    /// run one after the other over all items here, so no per-item cache outlives a group.
    pub shared_cache: bool,
    /// Go: give each log record its own copy of its resource and scope (behind the
    /// `transform.flatten.logs` gate). Refused when true: not implemented.
    pub flatten: bool,
}

/// Configuration of the `transform` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What a statement error does (`propagate`).
    pub error_mode: ErrorMode,
    /// Statements on traces.
    pub trace_statements: Vec<StatementsEntry>,
    /// Statements on metrics.
    pub metric_statements: Vec<StatementsEntry>,
    /// Statements on logs.
    pub log_statements: Vec<StatementsEntry>,
    /// Go: flatten log data before transforming (`transform.flatten.logs` gate). Refused
    /// when true: not implemented.
    pub flatten_data: bool,
}

impl Signal {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Signal::Traces => "trace_statements",
            Signal::Metrics => "metric_statements",
            Signal::Logs => "log_statements",
        }
    }

    pub(crate) fn contexts(self) -> &'static [ContextKind] {
        use ContextKind::*;
        match self {
            Signal::Traces => &[Resource, Scope, Span, SpanEvent],
            Signal::Metrics => &[Resource, Scope, Metric, DataPoint],
            Signal::Logs => &[Resource, Scope, Log],
        }
    }
}

impl Config {
    pub(crate) fn entries(&self, signal: Signal) -> &[StatementsEntry] {
        match signal {
            Signal::Traces => &self.trace_statements,
            Signal::Metrics => &self.metric_statements,
            Signal::Logs => &self.log_statements,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.flatten_data {
            return Err(ConfigError::at(
                "flatten_data",
                "not supported: this transform processor does not flatten log data (Go needs the transform.flatten.logs gate for it too)",
            ));
        }
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            for (index, entry) in self.entries(signal).iter().enumerate() {
                let StatementsEntry::Group(group) = entry else {
                    continue;
                };
                if group.shared_cache {
                    return Err(ConfigError::at(
                        format!("{}::{index}::shared_cache", signal.key()),
                        "not supported: each group runs over all items before the next, so a cache cannot be shared between groups; use one group",
                    ));
                }
                if group.flatten {
                    return Err(ConfigError::at(
                        format!("{}::{index}::flatten", signal.key()),
                        "not supported: this transform processor does not flatten log data",
                    ));
                }
            }
        }
        // Compiling is the validation: every path, function and regex is checked here.
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            compile_groups(self, signal)?;
        }
        Ok(())
    }
}
