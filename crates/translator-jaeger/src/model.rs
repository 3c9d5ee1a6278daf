//! The Jaeger data model: the `jaeger.api_v2` protobuf messages of jaeger-idl's
//! `model.proto` and `collector.proto`, written out by hand (no protoc at build time).
//!
//! The `jaeger` receiver's gRPC service decodes them and its Thrift readers produce them,
//! so one translation ([`crate::to_otlp`]) serves all its protocols; the Kafka receiver
//! and exporter read and write them one span at a time ([`crate::traces_to_spans`] the
//! other way). Field numbers and types are jaeger-idl's; `google.protobuf.Timestamp` and
//! `Duration` are spelled out as the two-field messages they are on the wire.

/// `google.protobuf.Timestamp`: seconds and nanoseconds since the Unix epoch.
#[derive(Clone, Copy, PartialEq, Eq, ::prost::Message)]
pub struct Timestamp {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds within the second.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// `google.protobuf.Duration`: a signed span of time.
#[derive(Clone, Copy, PartialEq, Eq, ::prost::Message)]
pub struct Duration {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds within the second, of the same sign as `seconds`.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// A tag's value type (`jaeger.api_v2.ValueType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum ValueType {
    /// `v_str`.
    String = 0,
    /// `v_bool`.
    Bool = 1,
    /// `v_int64`.
    Int64 = 2,
    /// `v_float64`.
    Float64 = 3,
    /// `v_binary`.
    Binary = 4,
}

/// A tag or log field (`jaeger.api_v2.KeyValue`).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct KeyValue {
    /// The tag's name.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Which of the value fields holds the value.
    #[prost(enumeration = "ValueType", tag = "2")]
    pub v_type: i32,
    /// The value of a string tag.
    #[prost(string, tag = "3")]
    pub v_str: String,
    /// The value of a boolean tag.
    #[prost(bool, tag = "4")]
    pub v_bool: bool,
    /// The value of an integer tag.
    #[prost(int64, tag = "5")]
    pub v_int64: i64,
    /// The value of a floating-point tag.
    #[prost(double, tag = "6")]
    pub v_float64: f64,
    /// The value of a binary tag.
    #[prost(bytes = "vec", tag = "7")]
    pub v_binary: Vec<u8>,
}

/// A span log (`jaeger.api_v2.Log`): an OpenTelemetry span event.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Log {
    /// When it happened.
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    /// Its fields; `event` names it.
    #[prost(message, repeated, tag = "2")]
    pub fields: Vec<KeyValue>,
}

/// How a span refers to another (`jaeger.api_v2.SpanRefType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]
#[repr(i32)]
pub enum SpanRefType {
    /// The other span is this one's parent.
    ChildOf = 0,
    /// The other span caused this one without waiting for it.
    FollowsFrom = 1,
}

/// A reference to another span (`jaeger.api_v2.SpanRef`).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct SpanRef {
    /// The other span's trace ID: 16 bytes, the high half first.
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    /// The other span's ID: 8 bytes, big-endian.
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    /// The kind of reference.
    #[prost(enumeration = "SpanRefType", tag = "3")]
    pub ref_type: i32,
}

/// The process that emitted spans (`jaeger.api_v2.Process`): an OpenTelemetry resource.
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Process {
    /// The service name (`service.name`).
    #[prost(string, tag = "1")]
    pub service_name: String,
    /// The process tags (resource attributes).
    #[prost(message, repeated, tag = "2")]
    pub tags: Vec<KeyValue>,
}

/// A span (`jaeger.api_v2.Span`).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Span {
    /// 16 bytes, the high half first.
    #[prost(bytes = "vec", tag = "1")]
    pub trace_id: Vec<u8>,
    /// 8 bytes, big-endian.
    #[prost(bytes = "vec", tag = "2")]
    pub span_id: Vec<u8>,
    /// The span's name.
    #[prost(string, tag = "3")]
    pub operation_name: String,
    /// Parent (`CHILD_OF`) and other references.
    #[prost(message, repeated, tag = "4")]
    pub references: Vec<SpanRef>,
    /// Jaeger flags: `1` sampled, `2` debug.
    #[prost(uint32, tag = "5")]
    pub flags: u32,
    /// When the span started.
    #[prost(message, optional, tag = "6")]
    pub start_time: Option<Timestamp>,
    /// How long it took.
    #[prost(message, optional, tag = "7")]
    pub duration: Option<Duration>,
    /// Span tags (attributes, kind, status).
    #[prost(message, repeated, tag = "8")]
    pub tags: Vec<KeyValue>,
    /// Span logs (events).
    #[prost(message, repeated, tag = "9")]
    pub logs: Vec<Log>,
    /// The span's own process, overriding the batch's.
    #[prost(message, optional, tag = "10")]
    pub process: Option<Process>,
    /// A process ID within a trace (query API only; ignored).
    #[prost(string, tag = "11")]
    pub process_id: String,
    /// Warnings the backend attached (query API only; ignored).
    #[prost(string, repeated, tag = "12")]
    pub warnings: Vec<String>,
}

/// Spans and the process that emitted them (`jaeger.api_v2.Batch`).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Batch {
    /// The spans.
    #[prost(message, repeated, tag = "1")]
    pub spans: Vec<Span>,
    /// Their process, unless a span names its own.
    #[prost(message, optional, tag = "2")]
    pub process: Option<Process>,
}

/// The argument of `CollectorService/PostSpans` (`jaeger.api_v2.PostSpansRequest`).
#[derive(Clone, PartialEq, ::prost::Message)]
pub struct PostSpansRequest {
    /// The batch.
    #[prost(message, optional, tag = "1")]
    pub batch: Option<Batch>,
}

/// The empty answer to `PostSpans` (`jaeger.api_v2.PostSpansResponse`).
#[derive(Clone, Copy, PartialEq, Eq, ::prost::Message)]
pub struct PostSpansResponse {}
