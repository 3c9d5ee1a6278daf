//! Visitors: walk and edit a payload's resources, scopes and records without writing the
//! OTLP nesting out by hand, for every signal alike.
//!
//! An OTLP request nests resources → scopes → records (spans, log records or metrics; a
//! metric holds data points, see [`data_point`](super::data_point)). The walks here give
//! each record with its [`Origin`] (resource and scope) and work the same for
//! [`Traces`](super::Traces), [`Metrics`](super::Metrics) and [`Logs`](super::Logs).
//! [`HasAttributes`] gives every level `attributes()` and `attributes_mut()`, and
//! [`Payload::update_item_attributes`] edits the attributes of every item — span, log
//! record or data point — with one pair of closures, so a processor that stamps or
//! redacts attributes is written once for the three signals.
//!
//! # Cost and copy-on-write
//!
//! Reading ([`Payload::records`]) never copies. An edit ([`Payload::update_records`],
//! [`Payload::retain_records`], ...) takes two closures or a predicate and runs in two
//! passes: a read pass asks, per item, whether it is to change, and remembers the answers
//! (one byte per item); only if some item is to change does the payload call
//! [`Payload::make_mut`] — which copies the request if another pipeline branch still
//! shares it — and a second pass applies the change to exactly those items. So an edit
//! that finds nothing to do copies nothing, and each closure runs once per item.
//!
//! A payload received as protobuf is decoded by the first walk (once, shared by every
//! clone, as any [`Payload::request`] does); as long as no edit changes it, exporters
//! still send the bytes it arrived as.
//!
//! ```
//! use tributary_pipeline_core::pdata::attributes::{Attributes, AttributesMut, key_value};
//! use tributary_pipeline_core::pdata::builder::LogsBuilder;
//! use tributary_pipeline_core::pdata::visit::HasAttributes;
//!
//! let mut builder = LogsBuilder::new();
//! builder.resource(vec![key_value("service.name", "api")]).scope("app", "");
//! builder.record("debug line").severity_text("DEBUG").attribute("user", "ana");
//! builder.record("failure").severity_text("ERROR").attribute("user", "bob");
//! let mut logs = builder.build();
//! let shared = logs.clone(); // another pipeline branch
//!
//! // Drop debug records; the branch's copy is left as it was.
//! logs.retain_records(|_, record| record.severity_text != "DEBUG");
//! // Hash the user of records from the api service.
//! logs.update_records(
//!     |origin, _| origin.resource_attributes().get_str("service.name") == Some("api"),
//!     |_, record| { record.attributes_mut().update_attribute("user", "<redacted>"); },
//! );
//! assert_eq!(logs.item_count(), 1);
//! assert_eq!(shared.item_count(), 2);
//! let (_, record) = logs.records().next().unwrap();
//! assert_eq!(record.attributes().get_str("user"), Some("<redacted>"));
//! ```

use super::payload::Payload;
use super::proto::common::v1::{InstrumentationScope, KeyValue};
use super::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use super::proto::metrics::v1::{
    ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, SummaryDataPoint,
};
use super::proto::resource::v1::Resource;
use super::proto::trace::v1::{ResourceSpans, ScopeSpans, Span, span};

/// Where a record comes from: its resource and instrumentation scope, and for a data point
/// its metric. A part the request leaves out reads as empty.
#[derive(Clone, Copy, Debug, Default)]
pub struct Origin<'a> {
    resource: Option<&'a Resource>,
    scope: Option<&'a InstrumentationScope>,
    metric: Option<MetricIdentity<'a>>,
}

/// What identifies a metric: its name, unit and description.
#[derive(Clone, Copy, Debug)]
struct MetricIdentity<'a> {
    name: &'a str,
    unit: &'a str,
    description: &'a str,
}

impl<'a> Origin<'a> {
    pub(super) fn new(
        resource: Option<&'a Resource>,
        scope: Option<&'a InstrumentationScope>,
    ) -> Self {
        Origin {
            resource,
            scope,
            metric: None,
        }
    }

    /// This origin, inside the metric named `name` (for data points).
    pub(super) fn with_metric(self, name: &'a str, unit: &'a str, description: &'a str) -> Self {
        Origin {
            metric: Some(MetricIdentity {
                name,
                unit,
                description,
            }),
            ..self
        }
    }

    /// The resource, if the request has one here.
    pub fn resource(&self) -> Option<&'a Resource> {
        self.resource
    }

    /// The resource's attributes (empty without a resource).
    pub fn resource_attributes(&self) -> &'a [KeyValue] {
        self.resource.map_or(&[], |r| &r.attributes)
    }

    /// The instrumentation scope, if the request has one here.
    pub fn scope(&self) -> Option<&'a InstrumentationScope> {
        self.scope
    }

    /// The scope's name (empty without a scope).
    pub fn scope_name(&self) -> &'a str {
        self.scope.map_or("", |s| &s.name)
    }

    /// The scope's version (empty without a scope).
    pub fn scope_version(&self) -> &'a str {
        self.scope.map_or("", |s| &s.version)
    }

    /// The scope's attributes (empty without a scope).
    pub fn scope_attributes(&self) -> &'a [KeyValue] {
        self.scope.map_or(&[], |s| &s.attributes)
    }

    /// The name of the metric a data point belongs to (empty outside data points).
    pub fn metric_name(&self) -> &'a str {
        self.metric.map_or("", |m| m.name)
    }

    /// The unit of the metric a data point belongs to (empty outside data points).
    pub fn metric_unit(&self) -> &'a str {
        self.metric.map_or("", |m| m.unit)
    }

    /// The description of the metric a data point belongs to (empty outside data points).
    pub fn metric_description(&self) -> &'a str {
        self.metric.map_or("", |m| m.description)
    }
}

/// Anything that carries attributes: resources, scopes, spans (and their events and
/// links), log records and metric data points; on a `Resource*`/`Scope*` entry of a
/// request, those of its resource or scope.
pub trait HasAttributes {
    /// The attributes.
    fn attributes(&self) -> &[KeyValue];
    /// The attributes, for editing (with [`AttributesMut`](super::attributes::AttributesMut)).
    /// On a request entry without a resource or scope, adds an empty one.
    fn attributes_mut(&mut self) -> &mut Vec<KeyValue>;
}

/// `HasAttributes` for types whose attributes are their `attributes` field.
macro_rules! attributes_field {
    ($($type:ty),* $(,)?) => {$(
        impl HasAttributes for $type {
            fn attributes(&self) -> &[KeyValue] {
                &self.attributes
            }
            fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
                &mut self.attributes
            }
        }
    )*};
}

attributes_field!(
    Resource,
    InstrumentationScope,
    Span,
    span::Event,
    span::Link,
    LogRecord,
    NumberDataPoint,
    HistogramDataPoint,
    ExponentialHistogramDataPoint,
    SummaryDataPoint,
);

/// `HasAttributes` for request entries: those of their optional `$field`.
macro_rules! attributes_of_optional {
    ($($type:ty => $field:ident),* $(,)?) => {$(
        impl HasAttributes for $type {
            fn attributes(&self) -> &[KeyValue] {
                self.$field.as_ref().map_or(&[], |inner| &inner.attributes)
            }
            fn attributes_mut(&mut self) -> &mut Vec<KeyValue> {
                &mut self.$field.get_or_insert_default().attributes
            }
        }
    )*};
}

attributes_of_optional!(
    ResourceSpans => resource,
    ResourceMetrics => resource,
    ResourceLogs => resource,
    ScopeSpans => scope,
    ScopeMetrics => scope,
    ScopeLogs => scope,
);

pub mod layout;

use layout::{Items, Layout, ResourceEntry, ScopeEntry};

/// Calls `visit` on every record of `request`, in order, with its origin.
pub(super) fn for_each_record_mut<R: Layout>(
    request: &mut R,
    mut visit: impl FnMut(Origin<'_>, &mut R::Record),
) {
    for resource_entry in request.entries_mut() {
        let (resource, scopes) = resource_entry.split_mut();
        for scope_entry in scopes {
            let (scope, records) = scope_entry.split_mut();
            let origin = Origin::new(resource, scope);
            for record in records {
                visit(origin, record);
            }
        }
    }
}

/// Keeps the records for which `keep` (called once per record, in order) holds, then drops
/// the scopes and resources this left empty.
pub(super) fn retain_records_in<R: Layout>(
    request: &mut R,
    mut keep: impl FnMut(&mut R::Record) -> bool,
) {
    request.entries_mut().retain_mut(|resource_entry| {
        let (_, scopes) = resource_entry.split_mut();
        let had_scopes = !scopes.is_empty();
        scopes.retain_mut(|scope_entry| {
            let (_, records) = scope_entry.split_mut();
            let had_records = !records.is_empty();
            records.retain_mut(&mut keep);
            !had_records || !records.is_empty()
        });
        !had_scopes || !scopes.is_empty()
    });
}

/// Answers of a read pass, one per item, in walk order.
pub(super) struct Marks {
    marks: Vec<bool>,
    marked: usize,
}

impl Marks {
    pub(super) fn collect(answers: impl IntoIterator<Item = bool>) -> Self {
        let marks: Vec<bool> = answers.into_iter().collect();
        let marked = marks.iter().filter(|m| **m).count();
        Marks { marks, marked }
    }

    /// How many items were marked.
    pub(super) fn marked(&self) -> usize {
        self.marked
    }

    /// How many items were not marked.
    pub(super) fn unmarked(&self) -> usize {
        self.marks.len() - self.marked
    }

    /// The answers, in walk order; items past the end (none, if the request did not change
    /// between passes) read as unmarked.
    pub(super) fn into_answers(self) -> impl FnMut() -> bool {
        let mut answers = self.marks.into_iter();
        move || answers.next().unwrap_or(false)
    }
}

impl<R: Layout> Payload<R> {
    /// Every record (span, log record or metric) with its origin, in order. Never copies.
    pub fn records(&self) -> impl Iterator<Item = (Origin<'_>, &R::Record)> {
        self.request().entries().iter().flat_map(|resource_entry| {
            let resource = resource_entry.resource();
            resource_entry.scopes().iter().flat_map(move |scope_entry| {
                let origin = Origin::new(resource, scope_entry.scope());
                scope_entry
                    .records()
                    .iter()
                    .map(move |record| (origin, record))
            })
        })
    }

    /// Edits the records for which `wants` holds with `edit`; returns how many.
    ///
    /// Copies the request (if shared) only when some record is wanted; see the
    /// [module docs](self) for the cost.
    pub fn update_records(
        &mut self,
        mut wants: impl FnMut(Origin<'_>, &R::Record) -> bool,
        mut edit: impl FnMut(Origin<'_>, &mut R::Record),
    ) -> usize {
        let marks = Marks::collect(self.records().map(|(origin, record)| wants(origin, record)));
        let edited = marks.marked();
        if edited == 0 {
            return 0;
        }
        let mut wanted = marks.into_answers();
        for_each_record_mut(self.make_mut(), |origin, record| {
            if wanted() {
                edit(origin, record);
            }
        });
        edited
    }

    /// Keeps only the records for which `keep` holds, dropping the scopes and resources
    /// left empty; returns how many records were removed. Use [`is_empty`](Self::is_empty)
    /// to see whether anything is left.
    ///
    /// Copies the request (if shared) only when some record is removed.
    pub fn retain_records(
        &mut self,
        mut keep: impl FnMut(Origin<'_>, &R::Record) -> bool,
    ) -> usize {
        let marks = Marks::collect(self.records().map(|(origin, record)| keep(origin, record)));
        let removed = marks.unmarked();
        if removed == 0 {
            return 0;
        }
        let mut kept = marks.into_answers();
        retain_records_in(self.make_mut(), |_| kept());
        removed
    }

    /// Edits the resources for which `wants` holds with `edit`; returns how many. A
    /// resource entry without a resource reads as an empty one and gets one if edited.
    ///
    /// Copies the request (if shared) only when some resource is wanted.
    pub fn update_resources(
        &mut self,
        mut wants: impl FnMut(&Resource) -> bool,
        mut edit: impl FnMut(&mut Resource),
    ) -> usize {
        let empty = Resource::default();
        let marks = Marks::collect(
            self.request()
                .entries()
                .iter()
                .map(|entry| wants(entry.resource().unwrap_or(&empty))),
        );
        let edited = marks.marked();
        if edited == 0 {
            return 0;
        }
        let mut wanted = marks.into_answers();
        for entry in self.make_mut().entries_mut() {
            if wanted() {
                edit(entry.resource_mut().get_or_insert_default());
            }
        }
        edited
    }

    /// Keeps only the resources (with all their scopes and records) for which `keep`
    /// holds; returns how many were removed. A missing resource reads as an empty one.
    ///
    /// Copies the request (if shared) only when some resource is removed.
    pub fn retain_resources(&mut self, mut keep: impl FnMut(&Resource) -> bool) -> usize {
        let empty = Resource::default();
        let marks = Marks::collect(
            self.request()
                .entries()
                .iter()
                .map(|entry| keep(entry.resource().unwrap_or(&empty))),
        );
        let removed = marks.unmarked();
        if removed == 0 {
            return 0;
        }
        let mut kept = marks.into_answers();
        self.make_mut().entries_mut().retain(|_| kept());
        removed
    }

    /// Edits the instrumentation scopes for which `wants` holds with `edit`; returns how
    /// many. `wants` sees the scope's [`Origin`] (whose [`scope`](Origin::scope) is the
    /// scope itself); a scope entry without a scope gets one if edited.
    ///
    /// Copies the request (if shared) only when some scope is wanted.
    pub fn update_scopes(
        &mut self,
        mut wants: impl FnMut(Origin<'_>) -> bool,
        mut edit: impl FnMut(&mut InstrumentationScope),
    ) -> usize {
        let marks = Marks::collect(
            self.request()
                .entries()
                .iter()
                .flat_map(|entry| {
                    let resource = entry.resource();
                    entry
                        .scopes()
                        .iter()
                        .map(move |scope_entry| Origin::new(resource, scope_entry.scope()))
                })
                .map(&mut wants),
        );
        let edited = marks.marked();
        if edited == 0 {
            return 0;
        }
        let mut wanted = marks.into_answers();
        for entry in self.make_mut().entries_mut() {
            let (_, scopes) = entry.split_mut();
            for scope_entry in scopes {
                if wanted() {
                    edit(scope_entry.scope_mut().get_or_insert_default());
                }
            }
        }
        edited
    }
}

impl<R: Items> Payload<R> {
    /// Edits the attributes of the items (spans, log records or metric data points) for
    /// which `wants` holds with `edit`; returns how many. One closure pair for every
    /// signal: the level a processor stamping or redacting record attributes works on.
    ///
    /// Copies the request (if shared) only when some item is wanted; see the
    /// [module docs](self) for the cost.
    ///
    /// ```
    /// use tributary_pipeline_core::pdata::attributes::{Attributes, AttributesMut, key_value};
    /// use tributary_pipeline_core::pdata::builder::{MetricsBuilder, TracesBuilder};
    /// use tributary_pipeline_core::pdata::{Payload, visit::layout::Items};
    ///
    /// /// Removes `password` from every item, whatever the signal.
    /// fn redact<R: Items>(data: &mut Payload<R>) -> usize {
    ///     data.update_item_attributes(
    ///         |_, attributes| attributes.contains_key("password"),
    ///         |_, attributes| {
    ///             attributes.remove_attribute("password");
    ///         },
    ///     )
    /// }
    ///
    /// let mut traces = TracesBuilder::new();
    /// traces.span("login", [1; 16], [1; 8]).attribute("password", "hunter2");
    /// let mut metrics = MetricsBuilder::new();
    /// metrics.gauge("logins", "1").int(vec![key_value("password", "x")], 1, 1);
    /// let (mut traces, mut metrics) = (traces.build(), metrics.build());
    /// assert_eq!(redact(&mut traces) + redact(&mut metrics), 2);
    /// assert_eq!(redact(&mut traces), 0);
    /// ```
    pub fn update_item_attributes(
        &mut self,
        mut wants: impl FnMut(Origin<'_>, &[KeyValue]) -> bool,
        mut edit: impl FnMut(Origin<'_>, &mut Vec<KeyValue>),
    ) -> usize {
        let mut marks = Vec::new();
        self.request()
            .for_each_item_attributes(|origin, attributes| marks.push(wants(origin, attributes)));
        let marks = Marks::collect(marks);
        let edited = marks.marked();
        if edited == 0 {
            return 0;
        }
        let mut wanted = marks.into_answers();
        self.make_mut()
            .for_each_item_attributes_mut(|origin, attributes| {
                if wanted() {
                    edit(origin, attributes);
                }
            });
        edited
    }
}
