//! Encoding a request with each nested message's length computed once.
//!
//! prost writes a nested message as its length then its fields, computing the length
//! from scratch: a log record three levels down has its length computed once per level
//! above it, and each attribute once more. Here the lengths of every record, scope and
//! resource are computed once, bottom-up, and the bytes written are prost's own (fields
//! in tag order; the tests compare them).

use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};

use super::proto::common::v1::InstrumentationScope;
use super::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use super::proto::metrics::v1::{Metric, ResourceMetrics, ScopeMetrics};
use super::proto::resource::v1::Resource;
use super::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// A resource or scope entry: a description (field 1, a message), children (field 2)
/// and a schema URL (field 3), as every OTLP signal nests them.
pub(crate) trait Entry {
    type Description: Message;
    type Child;
    fn description(&self) -> Option<&Self::Description>;
    fn children(&self) -> &[Self::Child];
    fn schema_url(&self) -> &str;
}

macro_rules! impl_entry {
    ($ty:ty { $description:ident: $d:ty, $children:ident: $child:ty }) => {
        impl Entry for $ty {
            type Description = $d;
            type Child = $child;
            fn description(&self) -> Option<&$d> {
                self.$description.as_ref()
            }
            fn children(&self) -> &[$child] {
                &self.$children
            }
            fn schema_url(&self) -> &str {
                &self.schema_url
            }
        }
    };
}

impl_entry!(ResourceSpans {
    resource: Resource,
    scope_spans: ScopeSpans
});
impl_entry!(ScopeSpans {
    scope: InstrumentationScope,
    spans: Span
});
impl_entry!(ResourceMetrics {
    resource: Resource,
    scope_metrics: ScopeMetrics
});
impl_entry!(ScopeMetrics {
    scope: InstrumentationScope,
    metrics: Metric
});
impl_entry!(ResourceLogs {
    resource: Resource,
    scope_logs: ScopeLogs
});
impl_entry!(ScopeLogs {
    scope: InstrumentationScope,
    log_records: LogRecord
});

/// The encoded length of a length-delimited field: key, length, content.
pub(crate) fn delimited_len(tag: u32, content: usize) -> usize {
    key_len(tag) + encoded_len_varint(content as u64) + content
}

/// Writes the key and length of a length-delimited field of `content` bytes.
pub(crate) fn header(tag: u32, content: usize, out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(content as u64, out);
}

/// The length of an entry's own fields (1 and 3).
fn own_len<E: Entry>(entry: &E) -> usize {
    entry
        .description()
        .map_or(0, |d| delimited_len(1, d.encoded_len()))
        + match entry.schema_url() {
            "" => 0,
            url => delimited_len(3, url.len()),
        }
}

/// Encodes an export request whose resources are `resources` (its field 1).
pub(crate) fn encode_request<R, S, L>(resources: &[R]) -> Vec<u8>
where
    R: Entry<Child = S>,
    S: Entry<Child = L>,
    L: Message,
{
    // Bottom-up lengths, in the order they are written.
    let mut leaf_lens = Vec::new();
    let mut scope_lens = Vec::new();
    let mut resource_lens = Vec::with_capacity(resources.len());
    let mut total = 0;
    for resource in resources {
        let mut resource_len = own_len(resource);
        for scope in resource.children() {
            let mut scope_len = own_len(scope);
            for leaf in scope.children() {
                let len = leaf.encoded_len();
                leaf_lens.push(len);
                scope_len += delimited_len(2, len);
            }
            scope_lens.push(scope_len);
            resource_len += delimited_len(2, scope_len);
        }
        resource_lens.push(resource_len);
        total += delimited_len(1, resource_len);
    }
    let mut out = Vec::with_capacity(total);
    let (mut leaf_lens, mut scope_lens) = (leaf_lens.into_iter(), scope_lens.into_iter());
    for (resource, resource_len) in resources.iter().zip(resource_lens) {
        header(1, resource_len, &mut out);
        write_description(resource, &mut out);
        for scope in resource.children() {
            header(2, scope_lens.next().unwrap_or_default(), &mut out);
            write_description(scope, &mut out);
            for leaf in scope.children() {
                header(2, leaf_lens.next().unwrap_or_default(), &mut out);
                leaf.encode_raw(&mut out);
            }
            write_schema_url(scope, &mut out);
        }
        write_schema_url(resource, &mut out);
    }
    debug_assert_eq!(out.len(), total);
    out
}

fn write_description<E: Entry>(entry: &E, out: &mut Vec<u8>) {
    if let Some(description) = entry.description() {
        prost::encoding::message::encode(1, description, out);
    }
}

fn write_schema_url<E: Entry>(entry: &E, out: &mut Vec<u8>) {
    let url = entry.schema_url();
    if !url.is_empty() {
        header(3, url.len(), out);
        out.extend_from_slice(url.as_bytes());
    }
}
