//! The filter processor's configuration: the Go Collector's keys and defaults.

use serde::Deserialize;
use tributary_ottl::ContextKind;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use crate::filterconfig::{
    AttributeProperty, MatchProperties, MatchType, Matcher, RegexpCache, SeverityNumberProperties,
};

/// What a failing condition does (`error_mode`), as Go's `ottl.ErrorMode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorMode {
    /// Log the error and go on with the next condition.
    Ignore,
    /// Go on with the next condition without logging.
    Silent,
    /// Refuse the request with a permanent error (the default).
    #[default]
    Propagate,
}

/// Configuration of the `filter` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// What a failing condition does (`propagate`).
    pub error_mode: ErrorMode,
    /// Legacy span matching: `include` / `exclude` match properties.
    pub spans: SpanFilters,
    /// OTTL conditions on traces.
    pub traces: TraceFilters,
    /// Legacy matching and OTTL conditions on metrics.
    pub metrics: MetricFilters,
    /// Legacy matching and OTTL conditions on logs.
    pub logs: LogFilters,
    /// Conditions on traces, each group in its given or inferred context.
    pub trace_conditions: ConditionGroups,
    /// Conditions on metrics, each group in its given or inferred context.
    pub metric_conditions: ConditionGroups,
    /// Conditions on logs, each group in its given or inferred context.
    pub log_conditions: ConditionGroups,
    /// Go's profile filters; refused (Tributary has no profiles signal).
    pub profiles: Option<serde_json::Value>,
    /// Go's context-inferred `profile_conditions`; refused.
    pub profile_conditions: Option<serde_json::Value>,
}

/// One group of `trace_conditions`, `metric_conditions` or `log_conditions`: Go's
/// `condition.ContextConditions`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextConditions {
    /// The context (`resource`, `scope`, `span`, `spanevent`, `metric`, `datapoint`,
    /// `log`); inferred from the paths' prefixes when empty.
    pub context: String,
    /// The conditions, ORed: an item matching any is dropped.
    pub conditions: Vec<String>,
    /// This group's error mode, overriding the top-level one.
    pub error_mode: Option<ErrorMode>,
}

/// A `*_conditions` list: either bare condition strings (one group, its context
/// inferred) or groups, never both, as Go's `Unmarshal` decides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConditionGroups(pub Vec<ContextConditions>);

impl<'de> Deserialize<'de> for ConditionGroups {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// A string or a group, kept apart so a group's own errors keep their path.
        enum Entry {
            Bare(String),
            Group(ContextConditions),
        }
        impl<'de> Deserialize<'de> for Entry {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = Entry;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a condition string or a map with context and conditions")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Entry, E> {
                        Ok(Entry::Bare(v.to_string()))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        map: A,
                    ) -> Result<Entry, A::Error> {
                        ContextConditions::deserialize(
                            serde::de::value::MapAccessDeserializer::new(map),
                        )
                        .map(Entry::Group)
                    }
                }
                d.deserialize_any(Visitor)
            }
        }
        let entries = Vec::<Entry>::deserialize(deserializer)?;
        let (mut bare, mut groups) = (Vec::new(), Vec::new());
        for entry in entries {
            match entry {
                Entry::Bare(s) => bare.push(s),
                Entry::Group(g) => groups.push(g),
            }
        }
        if !bare.is_empty() && !groups.is_empty() {
            return Err(serde::de::Error::custom(
                "configuring multiple configuration styles is not supported, please use only Basic configuration or only Advanced configuration",
            ));
        }
        if !bare.is_empty() {
            groups.push(ContextConditions {
                conditions: bare,
                ..Default::default()
            });
        }
        Ok(ConditionGroups(groups))
    }
}

/// `spans`: Go's `filterconfig.MatchConfig`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpanFilters {
    /// Spans that do not match are dropped.
    pub include: Option<MatchProperties>,
    /// Spans that match are dropped.
    pub exclude: Option<MatchProperties>,
}

/// `traces`: OTTL conditions; an item matching any of its list is dropped.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TraceFilters {
    /// Conditions in the `resource` context: drop the resource with all its spans.
    pub resource: Vec<String>,
    /// Conditions in the `span` context.
    pub span: Vec<String>,
    /// Conditions in the `spanevent` context.
    pub spanevent: Vec<String>,
}

/// `metrics`: legacy match properties or OTTL conditions.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricFilters {
    /// Metrics that do not match are dropped.
    pub include: Option<MetricMatchProperties>,
    /// Metrics that match are dropped.
    pub exclude: Option<MetricMatchProperties>,
    /// Go's regexp cache settings; accepted, without effect on results.
    pub regexp: Option<RegexpCache>,
    /// Conditions in the `resource` context.
    pub resource: Vec<String>,
    /// Conditions in the `metric` context.
    pub metric: Vec<String>,
    /// Conditions in the `datapoint` context.
    pub datapoint: Vec<String>,
}

/// How legacy metric properties compare (`strict`, `regexp`; Go's `expr` is refused).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricMatchType {
    /// Not given; refused.
    #[default]
    #[serde(rename = "")]
    Unset,
    /// Exact equality.
    Strict,
    /// Unanchored RE2 regular expressions.
    Regexp,
    /// Go's `expr` language; refused at validation.
    Expr,
}

/// Go's `filterconfig.MetricMatchProperties`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricMatchProperties {
    /// `strict` or `regexp`.
    pub match_type: MetricMatchType,
    /// Go's regexp cache settings; accepted, without effect on results.
    pub regexp: Option<RegexpCache>,
    /// Metric names (or patterns), one of which must match.
    pub metric_names: Vec<String>,
    /// Go's `expr` expressions; refused.
    pub expressions: Vec<String>,
    /// Resource attributes that must all match.
    pub resource_attributes: Vec<AttributeProperty>,
}

/// `logs`: legacy match properties or OTTL conditions.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogFilters {
    /// Log records that do not match are dropped.
    pub include: Option<LogMatchProperties>,
    /// Log records that match are dropped.
    pub exclude: Option<LogMatchProperties>,
    /// Conditions in the `resource` context.
    pub resource: Vec<String>,
    /// Conditions in the `log` context.
    pub log_record: Vec<String>,
}

/// Go's `filterprocessor.LogMatchProperties`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogMatchProperties {
    /// `strict` or `regexp`.
    pub match_type: MatchType,
    /// Resource attributes that must all match.
    pub resource_attributes: Vec<AttributeProperty>,
    /// Record attributes that must all match.
    pub record_attributes: Vec<AttributeProperty>,
    /// Severity texts, one of which must match.
    pub severity_texts: Vec<String>,
    /// A lower bound on the severity number.
    pub severity_number: Option<SeverityNumberProperties>,
    /// Bodies (as strings), one of which must match.
    pub bodies: Vec<String>,
}

impl LogMatchProperties {
    /// Go ignores a block with nothing to match (`isEmpty`).
    pub(crate) fn is_empty(&self) -> bool {
        self.resource_attributes.is_empty()
            && self.record_attributes.is_empty()
            && self.severity_texts.is_empty()
            && self.bodies.is_empty()
            && self.severity_number.is_none()
    }

    /// The shared match properties these stand for, as Go's `matchProperties`.
    pub(crate) fn match_properties(&self) -> MatchProperties {
        MatchProperties {
            match_type: self.match_type,
            resources: self.resource_attributes.clone(),
            attributes: self.record_attributes.clone(),
            log_severity_texts: self.severity_texts.clone(),
            log_severity_number: self.severity_number.clone(),
            log_bodies: self.bodies.clone(),
            ..Default::default()
        }
    }
}

impl MetricMatchProperties {
    /// The shared match properties these stand for; `Err` for `expr`.
    pub(crate) fn match_properties(&self) -> Result<MatchProperties, ConfigError> {
        let match_type = match self.match_type {
            MetricMatchType::Unset => MatchType::Unset,
            MetricMatchType::Strict => MatchType::Strict,
            MetricMatchType::Regexp => MatchType::Regexp,
            MetricMatchType::Expr => {
                return Err(ConfigError::at(
                    "match_type",
                    "\"expr\" is not supported: it runs Go's expr language, which this implementation does not embed; write the expression as an OTTL condition under metrics.metric or metrics.datapoint",
                ));
            }
        };
        if !self.expressions.is_empty() {
            return Err(ConfigError::at(
                "expressions",
                "not supported: expressions belong to the \"expr\" match type, which this implementation does not embed; use OTTL conditions under metrics.metric or metrics.datapoint",
            ));
        }
        Ok(MatchProperties {
            match_type,
            regexp: self.regexp.clone(),
            metric_names: self.metric_names.clone(),
            resources: self.resource_attributes.clone(),
            ..Default::default()
        })
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, given) in [
            ("profiles", self.profiles.is_some()),
            ("profile_conditions", self.profile_conditions.is_some()),
        ] {
            if given {
                return Err(ConfigError::at(
                    key,
                    "not supported: Tributary has no profiles signal",
                ));
            }
        }
        let t = &self.traces;
        let ottl_traces = !(t.resource.is_empty() && t.span.is_empty() && t.spanevent.is_empty());
        if !self.trace_conditions.0.is_empty() && ottl_traces {
            return Err(ConfigError::at(
                "trace_conditions",
                "cannot use context inferred trace conditions \"trace_conditions\" and the settings \"traces.resource\", \"traces.span\", \"traces.spanevent\" at the same time",
            ));
        }
        if ottl_traces && (self.spans.include.is_some() || self.spans.exclude.is_some()) {
            return Err(ConfigError::at(
                "traces",
                "cannot use \"traces.resource\", \"traces.span\", \"traces.spanevent\" and the span settings \"spans.include\", \"spans.exclude\" at the same time",
            ));
        }
        let m = &self.metrics;
        let ottl_metrics =
            !(m.resource.is_empty() && m.metric.is_empty() && m.datapoint.is_empty());
        if !self.metric_conditions.0.is_empty()
            && (ottl_metrics || m.include.is_some() || m.exclude.is_some())
        {
            return Err(ConfigError::at(
                "metric_conditions",
                "cannot use context inferred metric conditions \"metric_conditions\" and the settings \"metrics.resource\", \"metrics.metric\", \"metrics.datapoint\", \"metrics.include\", \"metrics.exclude\" at the same time",
            ));
        }
        if ottl_metrics && (m.include.is_some() || m.exclude.is_some()) {
            return Err(ConfigError::at(
                "metrics",
                "cannot use \"metrics.resource\", \"metrics.metric\", \"metrics.datapoint\" and the settings \"metrics.include\", \"metrics.exclude\" at the same time",
            ));
        }
        let l = &self.logs;
        let ottl_logs = !(l.resource.is_empty() && l.log_record.is_empty());
        if !self.log_conditions.0.is_empty()
            && (ottl_logs || l.include.is_some() || l.exclude.is_some())
        {
            return Err(ConfigError::at(
                "log_conditions",
                "cannot use context inferred log conditions \"log_conditions\" and the settings \"logs.resource\", \"logs.log_record\", \"logs.include\", \"logs.exclude\" at the same time",
            ));
        }
        if ottl_logs && (l.include.is_some() || l.exclude.is_some()) {
            return Err(ConfigError::at(
                "logs",
                "cannot use \"logs.resource\", \"logs.log_record\" and the settings \"logs.include\", \"logs.exclude\" at the same time",
            ));
        }
        // Compiling is the validation: every condition and pattern is checked here.
        super::processor::Filters::compile(self)?;
        Ok(())
    }
}

/// The config keys of each condition list and the context it runs in.
pub(crate) fn condition_lists(config: &Config) -> [(&'static str, &[String], ContextKind); 8] {
    [
        (
            "traces::resource",
            &config.traces.resource,
            ContextKind::Resource,
        ),
        ("traces::span", &config.traces.span, ContextKind::Span),
        (
            "traces::spanevent",
            &config.traces.spanevent,
            ContextKind::SpanEvent,
        ),
        (
            "metrics::resource",
            &config.metrics.resource,
            ContextKind::Resource,
        ),
        (
            "metrics::metric",
            &config.metrics.metric,
            ContextKind::Metric,
        ),
        (
            "metrics::datapoint",
            &config.metrics.datapoint,
            ContextKind::DataPoint,
        ),
        (
            "logs::resource",
            &config.logs.resource,
            ContextKind::Resource,
        ),
        (
            "logs::log_record",
            &config.logs.log_record,
            ContextKind::Log,
        ),
    ]
}

/// The legacy matchers of each signal (`None` when not configured).
pub(crate) struct LegacyMatchers {
    pub spans: Option<Matcher>,
    pub metrics: Option<Matcher>,
    pub logs: Option<Matcher>,
}

/// Compiles the legacy matchers.
pub(crate) fn legacy_matchers(config: &Config) -> Result<LegacyMatchers, ConfigError> {
    use tributary_pipeline_core::pdata::Signal;
    let spans = match (&config.spans.include, &config.spans.exclude) {
        (None, None) => None,
        (i, e) => Some(
            Matcher::compile(i.as_ref(), e.as_ref(), Signal::Traces)
                .map_err(|e| e.within("spans"))?,
        ),
    };
    let metric_block = |p: &Option<MetricMatchProperties>, name: &str| {
        p.as_ref()
            .map(|p| {
                p.match_properties()
                    .map_err(|e| e.within(name).within("metrics"))
            })
            .transpose()
    };
    let (mi, me) = (
        metric_block(&config.metrics.include, "include")?,
        metric_block(&config.metrics.exclude, "exclude")?,
    );
    let metrics = match (&mi, &me) {
        (None, None) => None,
        _ => Some(
            Matcher::compile(mi.as_ref(), me.as_ref(), Signal::Metrics)
                .map_err(|e| e.within("metrics"))?,
        ),
    };
    // Go ignores a log block with nothing to match.
    let log_block = |p: &Option<LogMatchProperties>| {
        p.as_ref()
            .filter(|p| !p.is_empty())
            .map(LogMatchProperties::match_properties)
    };
    let (li, le) = (
        log_block(&config.logs.include),
        log_block(&config.logs.exclude),
    );
    let logs = match (&li, &le) {
        (None, None) => None,
        _ => Some(
            Matcher::compile(li.as_ref(), le.as_ref(), Signal::Logs)
                .map_err(|e| e.within("logs"))?,
        ),
    };
    Ok(LegacyMatchers {
        spans,
        metrics,
        logs,
    })
}
