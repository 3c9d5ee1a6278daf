//! The `routing` connector's configuration: the Go routing connector's keys and defaults.

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, PipelineId};

use super::condition::{Condition, ConditionLanguage, Context};
use super::ottl::OttlLanguage;
use std::sync::Arc;

/// What a condition that cannot be evaluated does (OTTL's `error_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorMode {
    /// The call fails with the error (the default).
    #[default]
    Propagate,
    /// The error is logged and the route treated as not matching.
    Ignore,
    /// The route is treated as not matching, without a log line.
    Silent,
}

/// One entry of `table`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Route {
    /// What the condition looks at: `resource` (default), `span`, `metric`, `datapoint`,
    /// `log` or `request`.
    pub context: Context,
    /// A condition, `attributes["tenant"] == "acme"`.
    pub condition: Option<String>,
    /// A statement, `route() where attributes["tenant"] == "acme"`; exactly one of
    /// `condition` and `statement`.
    pub statement: Option<String>,
    /// The pipelines matching data goes to (at least one).
    pub pipelines: Vec<PipelineId>,
}

/// The `routing` connector's settings.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where data no route matches goes; dropped when empty.
    pub default_pipelines: Vec<PipelineId>,
    /// What a condition that cannot be evaluated does.
    pub error_mode: ErrorMode,
    /// The routes, tried in order; the first that matches an item takes it.
    pub table: Vec<Route>,
    /// Removed from the Go routing connector (deprecated in v0.116.0, then removed):
    /// routes always match once. Refused with that explanation.
    match_once: Option<serde::de::IgnoredAny>,
}

impl Route {
    /// The route's condition parsed by `language`; errors are relative to the route.
    pub(super) fn parse(
        &self,
        language: &dyn ConditionLanguage,
    ) -> Result<Arc<dyn Condition>, ConfigError> {
        match (&self.condition, &self.statement) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                "invalid route: both condition and statement provided; give one",
            )),
            (None, None) => Err(ConfigError::new(
                "invalid route: no condition or statement provided",
            )),
            (None, Some(_)) if self.context == Context::Request => Err(ConfigError::at(
                "statement",
                "\"request\" context requires a 'condition'",
            )),
            (Some(condition), None) => language
                .parse_condition(self.context, condition)
                .map_err(|e| ConfigError::at("condition", e.to_string())),
            (None, Some(statement)) => language
                .parse_statement(self.context, statement)
                .map_err(|e| ConfigError::at("statement", e.to_string())),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.match_once.is_some() {
            return Err(ConfigError::at(
                "match_once",
                "no longer supported: the Go routing connector deprecated match_once in \
                 v0.116.0 and removed it; routes always match once (the first route that \
                 matches an item takes it). Remove the key",
            ));
        }
        if self.table.is_empty() {
            return Err(ConfigError::at(
                "table",
                "invalid routing table: the routing table is empty",
            ));
        }
        for (index, route) in self.table.iter().enumerate() {
            if route.pipelines.is_empty() {
                return Err(ConfigError::at(
                    format!("table::{index}::pipelines"),
                    "invalid route: no pipelines defined",
                ));
            }
            route
                .parse(&OttlLanguage)
                .map_err(|e| e.within(&format!("table::{index}")))?;
        }
        Ok(())
    }
}
