//! The nesting of the three OTLP requests, so one walk serves every signal. Implemented
//! for the three `Export*ServiceRequest` types only ([`OtlpRequest`] is sealed).

use super::{HasAttributes, Origin, for_each_record_mut};
use crate::pdata::payload::OtlpRequest;
use crate::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use crate::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use crate::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use crate::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use crate::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use crate::pdata::proto::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use crate::pdata::proto::resource::v1::Resource;
use crate::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// A request: a list of resource entries.
pub trait Layout: OtlpRequest {
    /// A resource with its scopes (`ResourceSpans`, ...).
    type ResourceEntry: ResourceEntry<ScopeEntry = Self::ScopeEntry>;
    /// A scope with its records (`ScopeSpans`, ...).
    type ScopeEntry: ScopeEntry<Record = Self::Record>;
    /// A record: `Span`, `LogRecord` or `Metric`.
    type Record;
    /// The resource entries.
    fn entries(&self) -> &Vec<Self::ResourceEntry>;
    /// The resource entries, for editing.
    fn entries_mut(&mut self) -> &mut Vec<Self::ResourceEntry>;
}

/// A resource with its scopes.
pub trait ResourceEntry: Default {
    /// The scope entry type.
    type ScopeEntry;
    /// The resource.
    fn resource(&self) -> Option<&Resource>;
    /// The resource, for editing.
    fn resource_mut(&mut self) -> &mut Option<Resource>;
    /// The scopes.
    fn scopes(&self) -> &Vec<Self::ScopeEntry>;
    /// The resource to read beside the scopes to edit.
    fn split_mut(&mut self) -> (Option<&Resource>, &mut Vec<Self::ScopeEntry>);
}

/// A scope with its records.
pub trait ScopeEntry: Default {
    /// The record type.
    type Record;
    /// The scope.
    fn scope(&self) -> Option<&InstrumentationScope>;
    /// The scope, for editing.
    fn scope_mut(&mut self) -> &mut Option<InstrumentationScope>;
    /// The records.
    fn records(&self) -> &Vec<Self::Record>;
    /// The scope to read beside the records to edit.
    fn split_mut(&mut self) -> (Option<&InstrumentationScope>, &mut Vec<Self::Record>);
}

/// A request whose items (spans, log records, metric data points) carry attributes:
/// the level a processor stamping or redacting record attributes works on.
pub trait Items: Layout {
    /// Calls `visit` with every item's origin and attributes, in order.
    fn for_each_item_attributes<'a>(&'a self, visit: impl FnMut(Origin<'a>, &'a [KeyValue]));
    /// Calls `visit` with every item's origin and attributes, in order, for editing.
    fn for_each_item_attributes_mut(&mut self, visit: impl FnMut(Origin<'_>, &mut Vec<KeyValue>));
}

impl Items for ExportTraceServiceRequest {
    fn for_each_item_attributes<'a>(&'a self, visit: impl FnMut(Origin<'a>, &'a [KeyValue])) {
        record_attributes(self, visit);
    }
    fn for_each_item_attributes_mut(
        &mut self,
        mut visit: impl FnMut(Origin<'_>, &mut Vec<KeyValue>),
    ) {
        for_each_record_mut(self, |origin, span| visit(origin, span.attributes_mut()));
    }
}

impl Items for ExportLogsServiceRequest {
    fn for_each_item_attributes<'a>(&'a self, visit: impl FnMut(Origin<'a>, &'a [KeyValue])) {
        record_attributes(self, visit);
    }
    fn for_each_item_attributes_mut(
        &mut self,
        mut visit: impl FnMut(Origin<'_>, &mut Vec<KeyValue>),
    ) {
        for_each_record_mut(self, |origin, record| {
            visit(origin, record.attributes_mut())
        });
    }
}

/// The attributes of every record of a request whose records are its items.
fn record_attributes<'a, R>(request: &'a R, mut visit: impl FnMut(Origin<'a>, &'a [KeyValue]))
where
    R: Layout,
    R::Record: HasAttributes,
{
    for entry in request.entries() {
        for scope_entry in entry.scopes() {
            let origin = Origin::new(entry.resource(), scope_entry.scope());
            for record in scope_entry.records() {
                visit(origin, record.attributes());
            }
        }
    }
}

macro_rules! layout {
    ($request:ty: $entries:ident => $resource_entry:ty: $scopes:ident => $scope_entry:ty: $records:ident => $record:ty) => {
        impl Layout for $request {
            type ResourceEntry = $resource_entry;
            type ScopeEntry = $scope_entry;
            type Record = $record;
            fn entries(&self) -> &Vec<$resource_entry> {
                &self.$entries
            }
            fn entries_mut(&mut self) -> &mut Vec<$resource_entry> {
                &mut self.$entries
            }
        }

        impl ResourceEntry for $resource_entry {
            type ScopeEntry = $scope_entry;
            fn resource(&self) -> Option<&Resource> {
                self.resource.as_ref()
            }
            fn resource_mut(&mut self) -> &mut Option<Resource> {
                &mut self.resource
            }
            fn scopes(&self) -> &Vec<$scope_entry> {
                &self.$scopes
            }
            fn split_mut(&mut self) -> (Option<&Resource>, &mut Vec<$scope_entry>) {
                (self.resource.as_ref(), &mut self.$scopes)
            }
        }

        impl ScopeEntry for $scope_entry {
            type Record = $record;
            fn scope(&self) -> Option<&InstrumentationScope> {
                self.scope.as_ref()
            }
            fn scope_mut(&mut self) -> &mut Option<InstrumentationScope> {
                &mut self.scope
            }
            fn records(&self) -> &Vec<$record> {
                &self.$records
            }
            fn split_mut(&mut self) -> (Option<&InstrumentationScope>, &mut Vec<$record>) {
                (self.scope.as_ref(), &mut self.$records)
            }
        }
    };
}

layout!(ExportTraceServiceRequest: resource_spans => ResourceSpans: scope_spans => ScopeSpans: spans => Span);
layout!(ExportLogsServiceRequest: resource_logs => ResourceLogs: scope_logs => ScopeLogs: log_records => LogRecord);
layout!(ExportMetricsServiceRequest: resource_metrics => ResourceMetrics: scope_metrics => ScopeMetrics: metrics => Metric);
