//! OTLP/JSON: the JSON encoding of OTLP export requests, as the Go Collector reads and
//! writes it.
//!
//! The protobuf JSON mapping that OTLP/JSON follows writes trace and span IDs as hex, 64-bit
//! integers as strings, enums as integers and the non-finite doubles as the strings
//! `"NaN"`, `"Infinity"` and `"-Infinity"`. `opentelemetry-proto`'s serde derives do all of
//! this except the last, in both directions; [`encode`] and [`decode`] add it, so a
//! Prometheus staleness marker (a NaN) or a `+Inf` histogram bound survives a trip through
//! JSON. Decoding is also as tolerant as the Go Collector: numbers may be quoted, unknown
//! fields are ignored, and a malformed point value is an error rather than a missing value.
//!
//! ```
//! use tributary_pipeline_core::pdata::{otlp_json, proto};
//! use proto::collector::metrics::v1::ExportMetricsServiceRequest;
//!
//! let json = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"up",
//!     "gauge":{"dataPoints":[{"timeUnixNano":"1","asDouble":"NaN"}]}}]}]}]}"#;
//! let request: ExportMetricsServiceRequest = otlp_json::decode(json)?;
//!
//! let mut out = Vec::new();
//! otlp_json::encode(&request, &mut out)?;
//! assert!(String::from_utf8(out).unwrap().contains(r#""asDouble":"NaN""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decode;
mod encode;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::SignalData;
use super::payload::{OtlpRequest, Payload};
use super::proto::collector::logs::v1::ExportLogsServiceRequest;
use super::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use super::proto::collector::trace::v1::ExportTraceServiceRequest;

/// An OTLP export request with an OTLP/JSON form: one of the three `Export*ServiceRequest`
/// types. Sealed; its methods are the decoder's.
pub trait JsonRequest: OtlpRequest + Serialize + DeserializeOwned + sealed::Sealed {
    /// Whether a number data point or exemplar has no value, or a metric no data, which may
    /// mean they could not be read.
    #[doc(hidden)]
    fn lacks_point_values(&self) -> bool {
        false
    }

    /// After decoding `tree`: the error for data the JSON has but the request lacks.
    #[doc(hidden)]
    fn unread_data(&self, _tree: &serde_json::Value) -> Option<String> {
        None
    }

    /// Replaces sentinel doubles by the non-finite values they stand for.
    #[doc(hidden)]
    fn restore_non_finite(&mut self);
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ExportTraceServiceRequest {}
    impl Sealed for super::ExportMetricsServiceRequest {}
    impl Sealed for super::ExportLogsServiceRequest {}
}

/// Why bytes could not be read as an OTLP/JSON request: the JSON parser's or decoder's
/// first complaint, or a point value that is not a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

/// Why a request could not be written as OTLP/JSON (only an I/O error of the writer in
/// practice: every OTLP request has a JSON form).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct EncodeError(#[from] serde_json::Error);

/// Reads an OTLP/JSON export request, keeping `"NaN"`, `"Infinity"` and `"-Infinity"`
/// doubles and refusing malformed point values (`"asDouble": "many"`).
pub fn decode<R: JsonRequest>(bytes: &[u8]) -> Result<R, DecodeError> {
    decode::decode(bytes).map_err(DecodeError)
}

/// Appends the compact OTLP/JSON encoding of `request` (one object, no newline) to `out`,
/// writing non-finite doubles as `"NaN"`, `"Infinity"` and `"-Infinity"`.
pub fn encode<R: JsonRequest>(request: &R, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    encode::to_writer(out, request).map_err(EncodeError)
}

/// Writes the compact OTLP/JSON encoding of `request` to `writer`; see [`encode`].
pub fn encode_to_writer<R: JsonRequest, W: std::io::Write>(
    request: &R,
    writer: W,
) -> Result<(), EncodeError> {
    encode::to_writer(writer, request).map_err(EncodeError)
}

/// Telemetry that reads and writes OTLP/JSON: [`Traces`](super::Traces),
/// [`Metrics`](super::Metrics) and [`Logs`](super::Logs). For code generic over the signal,
/// such as an exporter writing JSON files.
///
/// ```
/// use tributary_pipeline_core::pdata::Logs;
/// use tributary_pipeline_core::pdata::otlp_json::JsonData;
///
/// let logs = Logs::from_otlp_json(br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}"#)?;
/// assert_eq!(logs.item_count(), 1);
/// let mut out = Vec::new();
/// logs.write_otlp_json(&mut out)?;
/// assert_eq!(Logs::from_otlp_json(&out)?, logs);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait JsonData: SignalData {
    /// Reads a batch from OTLP/JSON; see [`decode`]. Unlike protobuf, JSON is decoded at
    /// once, so the batch holds a request and no encoding.
    fn from_otlp_json(bytes: &[u8]) -> Result<Self, DecodeError>;

    /// Appends the batch's OTLP/JSON encoding (one object, no newline) to `out`; see
    /// [`encode`]. Decodes a batch that is still only protobuf bytes.
    fn write_otlp_json(&self, out: &mut Vec<u8>) -> Result<(), EncodeError>;
}

impl<R: JsonRequest> JsonData for Payload<R> {
    fn from_otlp_json(bytes: &[u8]) -> Result<Self, DecodeError> {
        decode(bytes).map(Payload::new)
    }

    fn write_otlp_json(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode(self.request(), out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdata::Metrics;
    use crate::pdata::attributes::key_value;
    use crate::pdata::builder::{HistogramValue, MetricsBuilder, Temporality};
    use crate::pdata::data_point::DataPointRef;
    use crate::pdata::proto::metrics::v1::number_data_point::Value;

    #[test]
    fn non_finite_doubles_survive_a_round_trip() {
        let mut builder = MetricsBuilder::new();
        builder
            .gauge("g", "")
            .double(vec![key_value("d", f64::NEG_INFINITY)], 1, f64::NAN)
            .double(vec![], 1, f64::INFINITY);
        builder
            .histogram("h", "", Temporality::Delta)
            .point(
                vec![],
                0,
                1,
                HistogramValue::new(vec![f64::INFINITY], vec![1, 0]).sum(f64::NAN),
            )
            .unwrap();
        let metrics = builder.build();
        let mut json = Vec::new();
        metrics.write_otlp_json(&mut json).unwrap();
        let back = Metrics::from_otlp_json(&json).unwrap();
        let points: Vec<DataPointRef<'_>> = back.data_points().map(|(_, p)| p).collect();
        let [
            DataPointRef::Gauge(nan),
            DataPointRef::Gauge(infinity),
            DataPointRef::Histogram(histogram),
        ] = points[..]
        else {
            panic!("unexpected points: {points:?}");
        };
        assert!(matches!(nan.value, Some(Value::AsDouble(d)) if d.is_nan()));
        assert_eq!(
            nan.attributes[0].value,
            Some(crate::pdata::attributes::any_value(f64::NEG_INFINITY))
        );
        assert_eq!(infinity.value, Some(Value::AsDouble(f64::INFINITY)));
        assert_eq!(histogram.explicit_bounds, [f64::INFINITY]);
        assert!(histogram.sum.is_some_and(f64::is_nan));
    }

    #[test]
    fn ids_are_hex_and_64_bit_integers_strings() {
        let mut builder = crate::pdata::builder::LogsBuilder::new();
        builder
            .record("r")
            .time(1_700_000_000_000_000_001)
            .trace_context([0xab; 16], [0x01; 8], 1)
            .attribute("n", i64::MAX);
        let mut json = Vec::new();
        builder.build().write_otlp_json(&mut json).unwrap();
        let text = String::from_utf8(json).unwrap();
        assert!(
            text.contains(&format!(r#""traceId":"{}""#, "ab".repeat(16))),
            "{text}"
        );
        assert!(text.contains(r#""spanId":"0101010101010101""#), "{text}");
        assert!(
            text.contains(r#""timeUnixNano":"1700000000000000001""#),
            "{text}"
        );
        assert!(
            text.contains(&format!(r#""intValue":"{}""#, i64::MAX)),
            "{text}"
        );
    }

    #[test]
    fn decode_errors_say_what_is_wrong() {
        let error = Metrics::from_otlp_json(b"{").unwrap_err();
        assert!(error.to_string().contains("EOF"), "{error}");
    }
}
