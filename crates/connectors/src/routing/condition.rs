//! Routing conditions: the pluggable [`Condition`] and [`ConditionLanguage`] traits, the
//! [`Context`] a condition reads, and the built-in language's expressions.

use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use tributary_ottl::TransformContext;
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::common::v1::any_value::Value as Otlp;

use super::parser::{self, ParseError};

/// What one route's condition looks at, the Go routing connector's `context` key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    /// Each resource with everything under it (the default).
    #[default]
    Resource,
    /// Each span (traces only).
    Span,
    /// Each metric with its data points (metrics only).
    Metric,
    /// Each metric data point (metrics only).
    Datapoint,
    /// Each log record (logs only).
    Log,
    /// The client request the data arrived in: its metadata (headers), kept by a receiver
    /// with `include_metadata: true`.
    Request,
}

impl Context {
    /// The name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Resource => "resource",
            Context::Span => "span",
            Context::Metric => "metric",
            Context::Datapoint => "datapoint",
            Context::Log => "log",
            Context::Request => "request",
        }
    }
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a condition is evaluated against: one resource, record or request, as its
/// [`Context`] defines.
#[derive(Clone, Copy, Debug, Default)]
pub struct Item<'a> {
    /// The attributes of the item itself: the resource's in resource context, the span's,
    /// data point's or log record's in theirs; empty in metric and request context.
    pub attributes: &'a [KeyValue],
    /// The attributes of the item's resource.
    pub resource_attributes: &'a [KeyValue],
    /// The span's or metric's name, if the context has one.
    pub name: Option<&'a str>,
    /// The client request's metadata, if the receiver kept it.
    pub metadata: Option<&'a ClientMetadata>,
}

/// A condition could not be evaluated on an item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(pub String);

/// A parsed routing condition: does an item match?
///
/// The built-in language's conditions never fail; a richer language (OTTL, later) may,
/// and the connector's `error_mode` decides what a failure does.
pub trait Condition: Send + Sync + fmt::Debug {
    /// Whether `item` matches.
    fn matches(&self, item: &Item<'_>) -> Result<bool, EvalError>;

    /// Whether the item `data` holds matches: the routing connector asks this, so a
    /// language that reads more than the [`Item`] view (OTTL reads every field) can. The
    /// default evaluates [`matches`](Self::matches) on the view.
    fn matches_data(
        &self,
        data: &mut TransformContext<'_>,
        metadata: Option<&ClientMetadata>,
    ) -> Result<bool, EvalError> {
        self.matches(&Item::of(data, metadata))
    }
}

impl<'a> Item<'a> {
    /// The view of the item `data` holds that the built-in language reads: in resource
    /// context (no item) the resource's attributes; a metric has a name and no attributes.
    pub fn of(data: &'a TransformContext<'_>, metadata: Option<&'a ClientMetadata>) -> Item<'a> {
        use tributary_ottl::Item as Data;
        use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data as Points;
        let resource_attributes = data
            .resource
            .as_ref()
            .map_or(&[][..], |r| &r.attributes[..]);
        let (attributes, name): (&[KeyValue], Option<&str>) = match &data.item {
            Data::None => (resource_attributes, None),
            Data::Span(s) | Data::SpanEvent(s, _) => (&s.attributes, Some(&s.name)),
            Data::Log(l) => (&l.attributes, None),
            Data::Metric(m) => (&[], Some(&m.name)),
            Data::MetricIn(list, i) => (&[], list.get(*i).map(|m| m.name.as_str())),
            Data::DataPoint(m, i) => {
                let attributes = match &m.data {
                    Some(Points::Gauge(g)) => g.data_points.get(*i).map(|p| &p.attributes),
                    Some(Points::Sum(s)) => s.data_points.get(*i).map(|p| &p.attributes),
                    Some(Points::Histogram(h)) => h.data_points.get(*i).map(|p| &p.attributes),
                    Some(Points::ExponentialHistogram(h)) => {
                        h.data_points.get(*i).map(|p| &p.attributes)
                    }
                    Some(Points::Summary(s)) => s.data_points.get(*i).map(|p| &p.attributes),
                    None => None,
                };
                (attributes.map_or(&[][..], |a| &a[..]), None)
            }
        };
        Item {
            attributes,
            resource_attributes,
            name,
            metadata,
        }
    }
}

/// A language routing conditions are written in: parses a route's `condition` (or the
/// `where` clause of its `statement`) for a context. The built-in
/// [`BuiltinLanguage`] handles the subset of OTTL real configurations use; the OTTL crate
/// will implement this trait for the whole language.
pub trait ConditionLanguage: Send + Sync {
    /// Parses `source`, a condition for items of `context`.
    fn parse_condition(
        &self,
        context: Context,
        source: &str,
    ) -> Result<Arc<dyn Condition>, ParseError>;

    /// Parses `source`, a statement `route() where <condition>`.
    fn parse_statement(
        &self,
        context: Context,
        source: &str,
    ) -> Result<Arc<dyn Condition>, ParseError>;
}

/// The subset of OTTL that routing tables use:
///
/// - paths `attributes["key"]`, `resource.attributes["key"]`, `name` (span and metric
///   contexts) and `request["key"]` (request context, the client metadata);
/// - literals: strings (`"v"`, with `\"` and `\\` escapes), integers, floats, `true`,
///   `false`, `nil`;
/// - comparisons `==` and `!=`, combined with `and`, `or`, `not` and parentheses (`not`
///   binds tightest, then `and`, then `or`);
/// - statements `route() where <condition>`.
///
/// Comparisons follow OTTL: a missing attribute is `nil`; values of different types are
/// not equal, except integers and floats, which compare by value; a request key matches
/// when any of its values does.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltinLanguage;

impl ConditionLanguage for BuiltinLanguage {
    fn parse_condition(
        &self,
        context: Context,
        source: &str,
    ) -> Result<Arc<dyn Condition>, ParseError> {
        Ok(Arc::new(parser::parse_condition(context, source)?))
    }

    fn parse_statement(
        &self,
        context: Context,
        source: &str,
    ) -> Result<Arc<dyn Condition>, ParseError> {
        Ok(Arc::new(parser::parse_statement(context, source)?))
    }
}

/// An expression of the built-in language.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        left: Operand,
        equal: bool,
        right: Operand,
    },
    Literal(bool),
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Operand {
    Attribute(String),
    ResourceAttribute(String),
    Name,
    Request(String),
    Literal(Literal),
}

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Literal {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
}

/// A value read from an item, borrowed where possible.
#[derive(Debug, PartialEq)]
enum Scalar<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// Bytes, arrays and maps: equal to nothing but themselves, which the subset cannot
    /// write.
    Other,
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Scalar<'a> {
    let Some(value) = attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
    else {
        return Scalar::Nil;
    };
    match value.value.as_ref() {
        None => Scalar::Nil,
        Some(Otlp::StringValue(s)) => Scalar::Str(s),
        Some(Otlp::IntValue(i)) => Scalar::Int(*i),
        Some(Otlp::DoubleValue(f)) => Scalar::Float(*f),
        Some(Otlp::BoolValue(b)) => Scalar::Bool(*b),
        Some(_) => Scalar::Other,
    }
}

fn literal(literal: &Literal) -> Scalar<'_> {
    match literal {
        Literal::String(s) => Scalar::Str(s),
        Literal::Int(i) => Scalar::Int(*i),
        Literal::Float(f) => Scalar::Float(*f),
        Literal::Bool(b) => Scalar::Bool(*b),
        Literal::Nil => Scalar::Nil,
    }
}

fn equal(a: &Scalar<'_>, b: &Scalar<'_>) -> bool {
    match (a, b) {
        (Scalar::Int(x), Scalar::Float(y)) | (Scalar::Float(y), Scalar::Int(x)) => {
            (*x as f64) == *y
        }
        (Scalar::Other, _) | (_, Scalar::Other) => false,
        _ => a == b,
    }
}

/// The values an operand has on `item`: one, except a request key, which has as many as
/// the request carried (none reads as `nil`).
fn values<'a>(operand: &'a Operand, item: &Item<'a>) -> Vec<Scalar<'a>> {
    match operand {
        Operand::Attribute(key) => vec![attribute(item.attributes, key)],
        Operand::ResourceAttribute(key) => vec![attribute(item.resource_attributes, key)],
        Operand::Name => vec![item.name.map_or(Scalar::Nil, Scalar::Str)],
        Operand::Request(key) => {
            let found = item.metadata.map(|m| m.get(key)).unwrap_or_default();
            if found.is_empty() {
                vec![Scalar::Nil]
            } else {
                found.iter().map(|v| Scalar::Str(v)).collect()
            }
        }
        Operand::Literal(value) => vec![literal(value)],
    }
}

impl Expr {
    fn eval(&self, item: &Item<'_>) -> bool {
        match self {
            Expr::Or(a, b) => a.eval(item) || b.eval(item),
            Expr::And(a, b) => a.eval(item) && b.eval(item),
            Expr::Not(a) => !a.eval(item),
            Expr::Literal(b) => *b,
            Expr::Compare {
                left,
                equal: want_equal,
                right,
            } => {
                let (left, right) = (values(left, item), values(right, item));
                let any_equal = left.iter().any(|l| right.iter().any(|r| equal(l, r)));
                any_equal == *want_equal
            }
        }
    }
}

impl Condition for Expr {
    fn matches(&self, item: &Item<'_>) -> Result<bool, EvalError> {
        Ok(self.eval(item))
    }
}
