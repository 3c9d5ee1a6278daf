//! The Remote-Write 1.0 messages (`prompb/remote.proto` and `prompb/types.proto` of
//! Prometheus) as hand-written prost structs, and the snappy *block* framing the
//! protocol wraps them in.
//!
//! Hand-written rather than generated: ten small messages whose field numbers have not
//! changed since native histograms arrived (Prometheus 2.40), and no build-time protobuf
//! compiler for users (reference/crates.md §5 allows either). Field numbers follow
//! upstream exactly, so what Prometheus, Mimir, Thanos or the Go Collector send decodes
//! here, and what we encode decodes there.
//!
//! ```
//! use tributary_translator_prometheus::prompb::{self, Label, Sample, TimeSeries, WriteRequest};
//!
//! let request = WriteRequest {
//!     timeseries: vec![TimeSeries {
//!         labels: vec![Label::new("__name__", "up"), Label::new("job", "node")],
//!         samples: vec![Sample { value: 1.0, timestamp: 1_700_000_000_000 }],
//!         ..Default::default()
//!     }],
//!     ..Default::default()
//! };
//! let body = prompb::encode_request(&request);
//! assert_eq!(prompb::decode_request(&body, 1 << 20).unwrap(), request);
//! ```

use prost::Message;

/// The sample value Prometheus reads as "this series ended" (a staleness marker): a NaN
/// with this exact bit pattern, distinct from an ordinary NaN value.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as an `f64`.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Whether `value` is the staleness marker (and not just any NaN).
pub fn is_stale_nan(value: f64) -> bool {
    value.to_bits() == STALE_NAN_BITS
}

/// `prometheus.WriteRequest`: the body of one remote-write request.
#[derive(Clone, PartialEq, Message)]
pub struct WriteRequest {
    /// The series, each with its full label set and samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// Type, help and unit per metric family (sent with `send_metadata`).
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`: one series (its labels, sorted by name, including
/// `__name__`) and its samples in time order.
#[derive(Clone, PartialEq, Message)]
pub struct TimeSeries {
    /// The label set, sorted by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Float samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Exemplars of the series.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Native histogram samples, oldest first.
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

impl TimeSeries {
    /// The value of label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_str())
    }

    /// The metric name (`__name__`), empty when missing.
    pub fn name(&self) -> &str {
        self.label("__name__").unwrap_or_default()
    }
}

/// `prometheus.Label`: a name and a value.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Message)]
pub struct Label {
    /// The label name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The label value.
    #[prost(string, tag = "2")]
    pub value: String,
}

impl Label {
    /// A label from its name and value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Label {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// `prometheus.Sample`: a value at a time.
#[derive(Clone, Copy, PartialEq, Message)]
pub struct Sample {
    /// The value ([`stale_nan`] marks the end of a series).
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.Exemplar`: a sample of a traced event (labels usually `trace_id`, `span_id`).
#[derive(Clone, PartialEq, Message)]
pub struct Exemplar {
    /// The exemplar's labels.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The observed value.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.BucketSpan`: a run of consecutive native-histogram buckets.
#[derive(Clone, Copy, PartialEq, Eq, Message)]
pub struct BucketSpan {
    /// The gap to the previous span (or the start index, for the first).
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// How many consecutive buckets.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

/// `prometheus.Histogram.count`: an integer or a float count.
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramCount {
    /// An integer histogram's count.
    #[prost(uint64, tag = "1")]
    CountInt(u64),
    /// A float histogram's count.
    #[prost(double, tag = "2")]
    CountFloat(f64),
}

/// `prometheus.Histogram.zero_count`: an integer or a float count.
#[derive(Clone, Copy, PartialEq, prost::Oneof)]
pub enum HistogramZeroCount {
    /// An integer histogram's zero bucket.
    #[prost(uint64, tag = "6")]
    ZeroCountInt(u64),
    /// A float histogram's zero bucket.
    #[prost(double, tag = "7")]
    ZeroCountFloat(f64),
}

/// `prometheus.Histogram.ResetHint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ResetHint {
    /// Whether a reset happened is unknown.
    Unknown = 0,
    /// A counter reset happened.
    Yes = 1,
    /// No counter reset happened.
    No = 2,
    /// A gauge histogram: resets do not apply.
    Gauge = 3,
}

/// `prometheus.Histogram`: one native (exponential) histogram sample.
#[derive(Clone, PartialEq, Message)]
pub struct Histogram {
    /// The observation count.
    #[prost(oneof = "HistogramCount", tags = "1, 2")]
    pub count: Option<HistogramCount>,
    /// The sum of observations.
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// The resolution: bucket boundaries are powers of `2^(2^-schema)`.
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    /// The width of the zero bucket.
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    /// The zero bucket's count.
    #[prost(oneof = "HistogramZeroCount", tags = "6, 7")]
    pub zero_count: Option<HistogramZeroCount>,
    /// Negative buckets' spans.
    #[prost(message, repeated, tag = "8")]
    pub negative_spans: Vec<BucketSpan>,
    /// Negative buckets' counts as deltas to the previous bucket (integer histograms).
    #[prost(sint64, repeated, tag = "9")]
    pub negative_deltas: Vec<i64>,
    /// Negative buckets' absolute counts (float histograms).
    #[prost(double, repeated, tag = "10")]
    pub negative_counts: Vec<f64>,
    /// Positive buckets' spans.
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    /// Positive buckets' counts as deltas to the previous bucket (integer histograms).
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// Positive buckets' absolute counts (float histograms).
    #[prost(double, repeated, tag = "13")]
    pub positive_counts: Vec<f64>,
    /// Whether a counter reset happened.
    #[prost(enumeration = "ResetHint", tag = "14")]
    pub reset_hint: i32,
    /// Milliseconds since the Unix epoch.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata.MetricType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MetricType {
    /// Untyped.
    Unknown = 0,
    /// A counter.
    Counter = 1,
    /// A gauge.
    Gauge = 2,
    /// A classic histogram.
    Histogram = 3,
    /// A gauge histogram.
    Gaugehistogram = 4,
    /// A summary.
    Summary = 5,
    /// An info metric.
    Info = 6,
    /// A state set.
    Stateset = 7,
}

/// `prometheus.MetricMetadata`: a metric family's type, help and unit.
#[derive(Clone, PartialEq, Message)]
pub struct MetricMetadata {
    /// The family's type.
    #[prost(enumeration = "MetricType", tag = "1")]
    pub r#type: i32,
    /// The family name (without `_bucket`, `_sum`, ... suffixes).
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// The help text.
    #[prost(string, tag = "4")]
    pub help: String,
    /// The unit.
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// Why a remote-write body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The body is not snappy block data.
    #[error("invalid snappy block: {0}")]
    Snappy(String),
    /// The body would decompress to more than the limit.
    #[error("the snappy body decompresses to {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The size the snappy header announces.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The decompressed body is not a `WriteRequest`.
    #[error("invalid protobuf WriteRequest: {0}")]
    Protobuf(#[from] prost::DecodeError),
}

/// The largest output buffer a thread keeps for its next [`snappy_compress`].
const KEPT_SNAPPY_BUFFER: usize = 4 << 20;

/// Compresses `plain` in the snappy block format (remote write forbids the framed format).
pub fn snappy_compress(plain: &[u8]) -> Vec<u8> {
    thread_local! {
        /// An encoder (its hash table) and a buffer as large as the largest body so far:
        /// a new one for every body was allocated, and zeroed, at the worst-case size.
        static SCRATCH: std::cell::RefCell<(snap::raw::Encoder, Vec<u8>)> =
            std::cell::RefCell::new((snap::raw::Encoder::new(), Vec::new()));
    }
    SCRATCH.with(|scratch| {
        let (encoder, out) = &mut *scratch.borrow_mut();
        let max = snap::raw::max_compress_len(plain.len());
        if out.len() < max {
            out.resize(max, 0);
        }
        // Compressing into a buffer of `max_compress_len` cannot fail but for input over
        // ~4 GiB, which no request reaches (requests are cut by `max_batch_size_bytes`).
        let written = encoder.compress(plain, out).unwrap_or(0);
        let compressed = out[..written].to_vec();
        if out.len() > KEPT_SNAPPY_BUFFER {
            *out = Vec::new();
        }
        compressed
    })
}

/// The size a snappy block announces it decompresses to (read from its header, before
/// any work), for admission control.
pub fn snappy_decompressed_len(block: &[u8]) -> Result<usize, DecodeError> {
    snap::raw::decompress_len(block).map_err(|e| DecodeError::Snappy(e.to_string()))
}

/// Decompresses a snappy block, refusing one that announces more than `limit` bytes
/// before allocating anything (a 20-byte body can claim 4 GiB).
pub fn snappy_decompress(block: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let size = snap::raw::decompress_len(block).map_err(|e| DecodeError::Snappy(e.to_string()))?;
    if size > limit {
        return Err(DecodeError::TooLarge { size, limit });
    }
    let mut out = vec![0; size];
    let written = snap::raw::Decoder::new()
        .decompress(block, &mut out)
        .map_err(|e| DecodeError::Snappy(e.to_string()))?;
    out.truncate(written);
    Ok(out)
}

/// A `WriteRequest` as a remote-write body: protobuf, then snappy block compression.
pub fn encode_request(request: &WriteRequest) -> Vec<u8> {
    snappy_compress(&request.encode_to_vec())
}

/// A remote-write body back to its `WriteRequest`: snappy (at most `limit` bytes
/// decompressed), then protobuf. Any input gives a value or an error, never a panic.
pub fn decode_request(body: &[u8], limit: usize) -> Result<WriteRequest, DecodeError> {
    let plain = snappy_decompress(body, limit)?;
    Ok(WriteRequest::decode(plain.as_slice())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bytes written by hand from prompb's field numbers: Prometheus's encoding of
    /// `{__name__="up"} 1 @1000` with one metadata entry (counter, "up", help "h").
    #[test]
    fn field_numbers_match_upstream() {
        let request = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: vec![Label::new("__name__", "up")],
                samples: vec![Sample {
                    value: 1.0,
                    timestamp: 1000,
                }],
                ..Default::default()
            }],
            metadata: vec![MetricMetadata {
                r#type: MetricType::Counter as i32,
                metric_family_name: "up".into(),
                help: "h".into(),
                unit: String::new(),
            }],
        };
        #[rustfmt::skip]
        let expected: Vec<u8> = [
            &[0x0a, 30][..],                       // WriteRequest.timeseries (1)
            &[0x0a, 14, 0x0a, 8], b"__name__",     // TimeSeries.labels (1), Label.name (1)
            &[0x12, 2], b"up",                     // Label.value (2)
            &[0x12, 12, 0x09],                     // TimeSeries.samples (2), Sample.value (1)
            &1.0f64.to_le_bytes(),
            &[0x10, 0xe8, 0x07],                   // Sample.timestamp (2) = 1000
            &[0x1a, 9, 0x08, 0x01],                // WriteRequest.metadata (3), type (1) = COUNTER
            &[0x12, 2], b"up",                     // metric_family_name (2)
            &[0x22, 1], b"h",                      // help (4)
        ]
        .concat();
        let bytes = request.encode_to_vec();
        assert_eq!(bytes, expected);
        assert_eq!(WriteRequest::decode(bytes.as_slice()).unwrap(), request);
    }

    #[test]
    fn histograms_round_trip() {
        let series = TimeSeries {
            labels: vec![Label::new("__name__", "latency")],
            histograms: vec![Histogram {
                count: Some(HistogramCount::CountInt(5)),
                sum: 2.5,
                schema: -2,
                zero_threshold: 1e-128,
                zero_count: Some(HistogramZeroCount::ZeroCountInt(1)),
                negative_spans: vec![BucketSpan {
                    offset: -3,
                    length: 1,
                }],
                negative_deltas: vec![1],
                positive_spans: vec![BucketSpan {
                    offset: 2,
                    length: 2,
                }],
                positive_deltas: vec![2, -1],
                reset_hint: ResetHint::No as i32,
                timestamp: 7,
                ..Default::default()
            }],
            ..Default::default()
        };
        let decoded = TimeSeries::decode(series.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded, series);
    }

    #[test]
    fn stale_nan_is_a_specific_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(!is_stale_nan(f64::NAN));
        assert!(stale_nan().is_nan());
    }

    #[test]
    fn snappy_is_the_block_format() {
        let plain = b"hello hello hello hello".to_vec();
        let block = snappy_compress(&plain);
        // The framed format starts with its stream identifier chunk (0xff); a block
        // starts with the varint length.
        assert_eq!(block[0] as usize, plain.len());
        assert_eq!(
            snap::raw::Decoder::new().decompress_vec(&block).unwrap(),
            plain
        );
        assert_eq!(snappy_decompress(&block, 1024).unwrap(), plain);
    }

    #[test]
    fn a_block_claiming_too_much_is_refused_before_allocating() {
        // varint 0xffffffff: "4 GiB follow".
        let block = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert!(matches!(
            snappy_decompress(&block, 1 << 20),
            Err(DecodeError::TooLarge { .. })
        ));
        assert!(matches!(
            decode_request(b"not snappy at all", 1 << 20),
            Err(DecodeError::Snappy(_) | DecodeError::Protobuf(_))
        ));
    }

    proptest! {
        /// Arbitrary bytes: a value or an error, never a panic, never more than the limit.
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(request) = decode_request(&body, 4096) {
                prop_assert!(request.encoded_len() <= 4096);
            }
        }

        /// Valid bodies with bytes flipped: a value or an error, never a panic.
        #[test]
        fn mutated_bodies_never_panic(
            values in proptest::collection::vec(any::<f64>(), 1..20),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        ) {
            let request = WriteRequest {
                timeseries: values.iter().enumerate().map(|(i, v)| TimeSeries {
                    labels: vec![Label::new("__name__", format!("m{i}"))],
                    samples: vec![Sample { value: *v, timestamp: i as i64 }],
                    ..Default::default()
                }).collect(),
                ..Default::default()
            };
            let mut body = encode_request(&request);
            for (at, byte) in flips {
                let at = at % body.len();
                body[at] ^= byte;
            }
            if let Ok(request) = decode_request(&body, 1 << 16) {
                prop_assert!(request.encoded_len() <= 1 << 16);
            }
        }
    }
}
