//! Match properties compiled once: string sets, regular expressions, attribute checks.

use std::collections::HashSet;

use regex::Regex;
use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::Signal;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};

use super::config::{AttributeProperty, LibraryProperty, MatchProperties, MatchType};
use crate::config_value::from_config;
use tributary_pipeline_core::pdata::value_text::as_string;

/// What a match looks at: one span, log record or data point, with its resource and scope.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The resource's attributes.
    pub resource: &'a [KeyValue],
    /// The instrumentation scope, if the data has one.
    pub scope: Option<&'a InstrumentationScope>,
    /// The item's own attributes (span, log record or data point attributes).
    pub attributes: &'a [KeyValue],
    /// The item's kind and its signal-specific fields.
    pub item: Item<'a>,
}

/// The signal-specific fields a match reads.
#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    /// A span: its name and kind (the OTLP enum value).
    Span {
        /// The span's name.
        name: &'a str,
        /// The span's kind as OTLP numbers it.
        kind: i32,
    },
    /// A log record.
    Log {
        /// The body, if any.
        body: Option<&'a AnyValue>,
        /// The severity text.
        severity_text: &'a str,
        /// The severity number (0: unset).
        severity_number: i32,
    },
    /// A metric's data point.
    DataPoint {
        /// The metric's name.
        metric_name: &'a str,
    },
}

/// A string property compiled: a set for `strict`, patterns for `regexp`.
#[derive(Clone, Debug)]
enum Strings {
    Strict(HashSet<String>),
    Regexp(Vec<Regex>),
}

impl Strings {
    fn compile(
        match_type: MatchType,
        key: &str,
        values: &[String],
    ) -> Result<Option<Self>, ConfigError> {
        if values.is_empty() {
            return Ok(None);
        }
        Ok(Some(match match_type {
            MatchType::Regexp => Strings::Regexp(
                values
                    .iter()
                    .enumerate()
                    .map(|(index, pattern)| compile_regex(&format!("{key}::{index}"), pattern))
                    .collect::<Result<_, _>>()?,
            ),
            _ => Strings::Strict(values.iter().cloned().collect()),
        }))
    }

    fn matches(&self, text: &str) -> bool {
        match self {
            Strings::Strict(set) => set.contains(text),
            Strings::Regexp(patterns) => patterns.iter().any(|re| re.is_match(text)),
        }
    }
}

fn compile_regex(path: &str, pattern: &str) -> Result<Regex, ConfigError> {
    Regex::new(pattern).map_err(|error| {
        ConfigError::at(
            path,
            format!("invalid regular expression {pattern:?}: {error}"),
        )
    })
}

/// One `{key, value}` check.
#[derive(Clone, Debug)]
enum AttributeCheck {
    Present(String),
    Equals(String, AnyValue),
    Matches(String, Regex),
}

impl AttributeCheck {
    fn compile(
        match_type: MatchType,
        path: &str,
        property: &AttributeProperty,
    ) -> Result<Self, ConfigError> {
        if property.key.is_empty() {
            return Err(ConfigError::at(format!("{path}::key"), "can't be empty"));
        }
        let key = property.key.clone();
        Ok(match (&property.value, match_type) {
            (None, _) => AttributeCheck::Present(key),
            (Some(serde_json::Value::String(pattern)), MatchType::Regexp) => {
                AttributeCheck::Matches(key, compile_regex(&format!("{path}::value"), pattern)?)
            }
            (Some(other), MatchType::Regexp) => {
                return Err(ConfigError::at(
                    format!("{path}::value"),
                    format!(
                        "match_type=regexp for {:?} only supports a string, found {other}",
                        property.key
                    ),
                ));
            }
            (Some(value), _) => AttributeCheck::Equals(key, from_config(value)),
        })
    }

    fn matches(&self, attributes: &[KeyValue]) -> bool {
        let find = |key: &str| attributes.iter().find(|kv| kv.key == key);
        match self {
            AttributeCheck::Present(key) => find(key).is_some(),
            AttributeCheck::Equals(key, expected) => find(key)
                .is_some_and(|kv| kv.value.as_ref().unwrap_or(&AnyValue::default()) == expected),
            // Go matches only scalar values against a pattern; lists, maps and bytes
            // never match.
            AttributeCheck::Matches(key, re) => find(key).is_some_and(|kv| {
                matches!(
                    kv.value.as_ref().and_then(|v| v.value.as_ref()),
                    Some(
                        Value::StringValue(_)
                            | Value::BoolValue(_)
                            | Value::IntValue(_)
                            | Value::DoubleValue(_)
                    )
                ) && re.is_match(&as_string(kv.value.as_ref()))
            }),
        }
    }
}

/// One `libraries` entry compiled.
#[derive(Clone, Debug)]
struct LibraryCheck {
    name: Strings,
    version: Option<Strings>,
}

impl LibraryCheck {
    fn compile(
        match_type: MatchType,
        path: &str,
        library: &LibraryProperty,
    ) -> Result<Self, ConfigError> {
        let one = |key: &str, value: &str| {
            Strings::compile(match_type, &format!("{path}::{key}"), &[value.to_string()])
                .map(|strings| strings.unwrap_or_else(|| Strings::Strict(HashSet::new())))
        };
        Ok(LibraryCheck {
            name: one("name", &library.name)?,
            version: library
                .version
                .as_deref()
                .map(|v| one("version", v))
                .transpose()?,
        })
    }

    fn matches(&self, scope: Option<&InstrumentationScope>) -> bool {
        let (name, version) = scope.map_or(("", ""), |s| (s.name.as_str(), s.version.as_str()));
        self.name.matches(name) && self.version.as_ref().is_none_or(|v| v.matches(version))
    }
}

/// One block (`include` or `exclude`) compiled: every property it gives must match.
#[derive(Clone, Debug)]
pub struct Properties {
    services: Option<Strings>,
    span_names: Option<Strings>,
    span_kinds: Option<Strings>,
    metric_names: Option<Strings>,
    log_bodies: Option<Strings>,
    log_severity_texts: Option<Strings>,
    log_severity_number: Option<(i32, bool)>,
    attributes: Vec<AttributeCheck>,
    resources: Vec<AttributeCheck>,
    libraries: Vec<LibraryCheck>,
}

/// The span kind as Go's `traceutil.SpanKindStr` spells it, which `span_kinds` lists.
fn span_kind_name(kind: i32) -> &'static str {
    match kind {
        1 => "SPAN_KIND_INTERNAL",
        2 => "SPAN_KIND_SERVER",
        3 => "SPAN_KIND_CLIENT",
        4 => "SPAN_KIND_PRODUCER",
        5 => "SPAN_KIND_CONSUMER",
        _ => "SPAN_KIND_UNSPECIFIED",
    }
}

impl Properties {
    /// Compiles `properties` for items of `signal` (any signal, if `None`), refusing keys
    /// that do not apply to it with Go's messages. Errors name the key, relative to the
    /// block.
    pub fn compile(
        properties: &MatchProperties,
        signal: Option<Signal>,
    ) -> Result<Self, ConfigError> {
        let p = properties;
        let match_type = p.match_type;
        if match_type == MatchType::Unset {
            return Err(ConfigError::at(
                "match_type",
                "required: \"strict\" or \"regexp\"",
            ));
        }
        let not_for = |key: &str, given: bool, what: &str| -> Result<(), ConfigError> {
            if given {
                Err(ConfigError::at(
                    key,
                    format!("should not be specified for {what}"),
                ))
            } else {
                Ok(())
            }
        };
        // Go's `ValidateForSpans`, `ValidateForLogs` and `ValidateForMetrics`.
        let required = |given: bool, keys: &str| -> Result<(), ConfigError> {
            if given {
                Ok(())
            } else {
                Err(ConfigError::new(format!(
                    "at least one of {keys} must be specified"
                )))
            }
        };
        match signal {
            None => {}
            Some(Signal::Traces) => {
                not_for("log_bodies", !p.log_bodies.is_empty(), "trace spans")?;
                not_for(
                    "log_severity_texts",
                    !p.log_severity_texts.is_empty(),
                    "trace spans",
                )?;
                not_for(
                    "log_severity_number",
                    p.log_severity_number.is_some(),
                    "trace spans",
                )?;
                not_for("metric_names", !p.metric_names.is_empty(), "trace spans")?;
                required(
                    !(p.services.is_empty()
                        && p.span_names.is_empty()
                        && p.attributes.is_empty()
                        && p.libraries.is_empty()
                        && p.resources.is_empty()
                        && p.span_kinds.is_empty()),
                    "\"services\", \"span_names\", \"span_kinds\", \"attributes\", \"libraries\" or \"resources\"",
                )?;
                let unknown_kind = p
                    .span_kinds
                    .iter()
                    .enumerate()
                    .find(|(_, kind)| !(1..=5).any(|k| span_kind_name(k) == kind.as_str()));
                if let (MatchType::Strict, Some((index, kind))) = (match_type, unknown_kind) {
                    return Err(ConfigError::at(
                        format!("span_kinds::{index}"),
                        format!(
                            "{kind:?} is not a span kind; with match_type strict use one of \
                             SPAN_KIND_CLIENT, SPAN_KIND_CONSUMER, SPAN_KIND_INTERNAL, \
                             SPAN_KIND_PRODUCER, SPAN_KIND_SERVER"
                        ),
                    ));
                }
            }
            Some(Signal::Logs) => {
                for (key, given) in [
                    ("services", !p.services.is_empty()),
                    ("span_names", !p.span_names.is_empty()),
                    ("span_kinds", !p.span_kinds.is_empty()),
                    ("metric_names", !p.metric_names.is_empty()),
                ] {
                    not_for(key, given, "log records")?;
                }
                required(
                    !(p.attributes.is_empty()
                        && p.libraries.is_empty()
                        && p.resources.is_empty()
                        && p.log_bodies.is_empty()
                        && p.log_severity_texts.is_empty()
                        && p.log_severity_number.is_none()),
                    "\"attributes\", \"libraries\", \"resources\", \"log_bodies\", \"log_severity_texts\" or \"log_severity_number\"",
                )?;
            }
            Some(Signal::Metrics) => {
                // Go matches metrics by name and resource only.
                for (key, given) in [
                    ("log_bodies", !p.log_bodies.is_empty()),
                    ("log_severity_texts", !p.log_severity_texts.is_empty()),
                    ("log_severity_number", p.log_severity_number.is_some()),
                    ("span_names", !p.span_names.is_empty()),
                    ("services", !p.services.is_empty()),
                    ("span_kinds", !p.span_kinds.is_empty()),
                    ("attributes", !p.attributes.is_empty()),
                    ("libraries", !p.libraries.is_empty()),
                ] {
                    not_for(key, given, "metrics")?;
                }
                required(
                    !(p.metric_names.is_empty() && p.resources.is_empty()),
                    "\"metric_names\" or \"resources\"",
                )?;
            }
        }
        let compiled = Properties {
            services: Strings::compile(match_type, "services", &p.services)?,
            span_names: Strings::compile(match_type, "span_names", &p.span_names)?,
            span_kinds: Strings::compile(match_type, "span_kinds", &p.span_kinds)?,
            metric_names: Strings::compile(match_type, "metric_names", &p.metric_names)?,
            log_bodies: Strings::compile(match_type, "log_bodies", &p.log_bodies)?,
            log_severity_texts: Strings::compile(
                match_type,
                "log_severity_texts",
                &p.log_severity_texts,
            )?,
            log_severity_number: p
                .log_severity_number
                .as_ref()
                .map(|s| (s.min, s.match_undefined)),
            attributes: p
                .attributes
                .iter()
                .enumerate()
                .map(|(i, a)| AttributeCheck::compile(match_type, &format!("attributes::{i}"), a))
                .collect::<Result<_, _>>()?,
            resources: p
                .resources
                .iter()
                .enumerate()
                .map(|(i, a)| AttributeCheck::compile(match_type, &format!("resources::{i}"), a))
                .collect::<Result<_, _>>()?,
            libraries: p
                .libraries
                .iter()
                .enumerate()
                .map(|(i, l)| LibraryCheck::compile(match_type, &format!("libraries::{i}"), l))
                .collect::<Result<_, _>>()?,
        };
        if compiled.is_empty() {
            return Err(ConfigError::new(
                "at least one of \"services\", \"span_names\", \"span_kinds\", \"metric_names\", \
                 \"log_bodies\", \"log_severity_texts\", \"log_severity_number\", \"attributes\", \
                 \"libraries\" or \"resources\" must be specified",
            ));
        }
        Ok(compiled)
    }

    fn is_empty(&self) -> bool {
        self.services.is_none()
            && self.span_names.is_none()
            && self.span_kinds.is_none()
            && self.metric_names.is_none()
            && self.log_bodies.is_none()
            && self.log_severity_texts.is_none()
            && self.log_severity_number.is_none()
            && self.attributes.is_empty()
            && self.resources.is_empty()
            && self.libraries.is_empty()
    }

    /// Whether `subject` satisfies every property of this block. A property for another
    /// signal's items (never compiled for this one) does not match.
    pub fn matches(&self, subject: &Subject<'_>) -> bool {
        let string_matches = |strings: &Option<Strings>, text: Option<&str>| match strings {
            None => true,
            Some(strings) => text.is_some_and(|t| strings.matches(t)),
        };
        let (span_name, span_kind, metric_name, log) = match subject.item {
            Item::Span { name, kind } => (Some(name), Some(span_kind_name(kind)), None, None),
            Item::DataPoint { metric_name } => (None, None, Some(metric_name), None),
            Item::Log {
                body,
                severity_text,
                severity_number,
            } => (
                None,
                None,
                None,
                Some((body, severity_text, severity_number)),
            ),
        };
        if self.services.is_some() {
            // Go's `serviceNameForResource`: a resource without one reads as this text.
            let service = subject
                .resource
                .iter()
                .find(|kv| kv.key == "service.name")
                .map_or_else(
                    || "<nil-service-name>".to_string(),
                    |kv| as_string(kv.value.as_ref()),
                );
            if !string_matches(&self.services, Some(&service)) {
                return false;
            }
        }
        if !string_matches(&self.span_names, span_name)
            || !string_matches(&self.span_kinds, span_kind)
            || !string_matches(&self.metric_names, metric_name)
            || !string_matches(&self.log_severity_texts, log.map(|l| l.1))
        {
            return false;
        }
        if self.log_bodies.is_some()
            && !string_matches(&self.log_bodies, log.map(|l| as_string(l.0)).as_deref())
        {
            return false;
        }
        if let Some((min, match_undefined)) = self.log_severity_number {
            let Some((_, _, number)) = log else {
                return false;
            };
            let matched = if number == 0 {
                match_undefined
            } else {
                number >= min
            };
            if !matched {
                return false;
            }
        }
        if !self.libraries.is_empty() && !self.libraries.iter().any(|l| l.matches(subject.scope)) {
            return false;
        }
        self.resources
            .iter()
            .all(|check| check.matches(subject.resource))
            && self
                .attributes
                .iter()
                .all(|check| check.matches(subject.attributes))
    }
}

/// An `include` / `exclude` pair compiled: selects an item when it matches `include` (if
/// given) and does not match `exclude` (if given).
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    include: Option<Properties>,
    exclude: Option<Properties>,
}

impl Matcher {
    /// Compiles both blocks for `signal`; errors name `include::...` or `exclude::...`.
    pub fn compile(
        include: Option<&MatchProperties>,
        exclude: Option<&MatchProperties>,
        signal: Signal,
    ) -> Result<Self, ConfigError> {
        let block = |properties: Option<&MatchProperties>, name: &str| {
            properties
                .map(|p| Properties::compile(p, Some(signal)).map_err(|e| e.within(name)))
                .transpose()
        };
        Ok(Matcher {
            include: block(include, "include")?,
            exclude: block(exclude, "exclude")?,
        })
    }

    /// Checks both blocks as far as they do not depend on the signal (match type,
    /// patterns, at least one property), for a config's `validate`.
    pub fn check(
        include: Option<&MatchProperties>,
        exclude: Option<&MatchProperties>,
    ) -> Result<(), ConfigError> {
        for (properties, name) in [(include, "include"), (exclude, "exclude")] {
            if let Some(properties) = properties {
                Properties::compile(properties, None).map_err(|e| e.within(name))?;
            }
        }
        Ok(())
    }

    /// Whether neither block was given: every item is selected.
    pub fn selects_all(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }

    /// Whether the item is selected: include AND NOT exclude.
    pub fn selects(&self, subject: &Subject<'_>) -> bool {
        self.include.as_ref().is_none_or(|p| p.matches(subject))
            && !self.exclude.as_ref().is_some_and(|p| p.matches(subject))
    }
}
