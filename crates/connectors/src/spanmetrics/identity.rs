//! A span's series identity: the key that tells its series apart and the attributes the
//! series carries, from the built-in dimensions and the configured ones.

use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::trace::v1::Span;
use tributary_pipeline_core::prelude::{Attributes, any_value, key_value};

use super::aggregator::{SCOPE_NAME_KEY, SCOPE_VERSION_KEY};
use super::config::{Config, Dimension, SERVICE_NAME, SPAN_KIND, SPAN_NAME, STATUS_CODE};
use tributary_pipeline_core::pdata::value_text::as_string;

/// One span's series identity: the built-in dimensions, then configured ones.
pub(crate) struct SpanSeries<'a> {
    pub(crate) config: &'a Config,
    pub(crate) service: &'a str,
    pub(crate) span: &'a Span,
    pub(crate) scope: Option<&'a InstrumentationScope>,
}

impl SpanSeries<'_> {
    /// The series key of the span with `dimensions` looked up in `lookup` (in order), and a
    /// builder of its attributes, called only for a new series.
    pub(crate) fn key<'s>(
        &'s self,
        dimensions: &'s [Dimension],
        lookup: &'s [&'s [KeyValue]],
    ) -> (Vec<u8>, impl FnOnce() -> Vec<KeyValue> + 's) {
        let builtins = self.builtins();
        let values: Vec<(&str, AnyValue)> = dimensions
            .iter()
            .filter_map(|d| dimension_value(d, lookup).map(|v| (d.name.as_str(), v)))
            .collect();
        let mut key = Vec::with_capacity(64);
        // Each part is tagged with its name so that a missing dimension cannot make two
        // different sets of values collide.
        for (name, value) in &builtins {
            push_part(&mut key, name, value);
        }
        for (name, value) in &values {
            push_part(&mut key, name, &as_string(Some(value)));
        }
        if let Some(scope) = self.scope {
            push_part(&mut key, SCOPE_NAME_KEY, &scope.name);
            push_part(&mut key, SCOPE_VERSION_KEY, &scope.version);
        }
        let scope = self.scope;
        let attributes = move || {
            let mut attributes: Vec<KeyValue> = builtins
                .iter()
                .map(|(name, value)| key_value(*name, value.as_str()))
                .collect();
            attributes.extend(values.into_iter().map(|(name, value)| KeyValue {
                key: name.to_owned(),
                value: Some(value),
                ..KeyValue::default()
            }));
            if let Some(scope) = scope {
                attributes.push(key_value(SCOPE_NAME_KEY, scope.name.as_str()));
                if !scope.version.is_empty() {
                    attributes.push(key_value(SCOPE_VERSION_KEY, scope.version.as_str()));
                }
            }
            attributes
        };
        (key, attributes)
    }

    fn builtins(&self) -> Vec<(&'static str, String)> {
        let excluded = |name: &str| self.config.exclude_dimensions.iter().any(|e| e == name);
        let mut builtins = Vec::with_capacity(4);
        for (name, value) in [
            (SERVICE_NAME, self.service),
            (SPAN_NAME, self.span.name.as_str()),
            (SPAN_KIND, span_kind(self.span.kind)),
            (STATUS_CODE, status_code(self.span)),
        ] {
            if !excluded(name) {
                builtins.push((name, value.to_owned()));
            }
        }
        builtins
    }
}

fn push_part(key: &mut Vec<u8>, name: &str, value: &str) {
    key.extend_from_slice(name.as_bytes());
    key.push(0);
    key.extend_from_slice(value.as_bytes());
    key.push(0);
}

/// A dimension's value: the first of `lookup` that has it, else its default, else none.
fn dimension_value(dimension: &Dimension, lookup: &[&[KeyValue]]) -> Option<AnyValue> {
    lookup
        .iter()
        .find_map(|attributes| attributes.get_value(&dimension.name).cloned())
        .or_else(|| dimension.default.as_deref().map(any_value))
}

/// Go's `traceutil.SpanKindStr`.
fn span_kind(kind: i32) -> &'static str {
    match kind {
        1 => "SPAN_KIND_INTERNAL",
        2 => "SPAN_KIND_SERVER",
        3 => "SPAN_KIND_CLIENT",
        4 => "SPAN_KIND_PRODUCER",
        5 => "SPAN_KIND_CONSUMER",
        _ => "SPAN_KIND_UNSPECIFIED",
    }
}

/// Go's `traceutil.StatusCodeStr`.
fn status_code(span: &Span) -> &'static str {
    match span.status.as_ref().map_or(0, |s| s.code) {
        1 => "STATUS_CODE_OK",
        2 => "STATUS_CODE_ERROR",
        _ => "STATUS_CODE_UNSET",
    }
}
