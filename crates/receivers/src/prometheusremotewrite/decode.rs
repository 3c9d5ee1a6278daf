//! A remote-write body to metrics: the decoder alone, public for fuzzing and tests.

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_translator_prometheus::prompb::{self, DecodeError};
use tributary_translator_prometheus::remote_write::to_otlp;

/// What a request became.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The metrics.
    pub metrics: Metrics,
    /// Samples left out: of series without `__name__`, older than the time threshold,
    /// and native histograms whose buckets do not add up.
    pub dropped: usize,
}

/// Decodes a Remote-Write 1.0 body (snappy block, at most `limit` bytes decompressed,
/// then protobuf) into metrics, leaving out samples older than `oldest_ms` (ms since the
/// epoch; `i64::MIN` keeps all). Any input gives a value or an error, never a panic; the
/// output is bounded by the input (each sample becomes one point).
///
/// ```
/// use tributary_receivers::prometheusremotewrite::decode_write_request;
/// use tributary_translator_prometheus::prompb::{self, Label, Sample, TimeSeries, WriteRequest};
///
/// let body = prompb::encode_request(&WriteRequest {
///     timeseries: vec![TimeSeries {
///         labels: vec![Label::new("__name__", "up")],
///         samples: vec![Sample { value: 1.0, timestamp: 1_000 }],
///         ..Default::default()
///     }],
///     ..Default::default()
/// });
/// let decoded = decode_write_request(&body, 1 << 20, i64::MIN).unwrap();
/// assert_eq!(decoded.metrics.item_count(), 1);
/// assert!(decode_write_request(b"garbage", 1 << 20, i64::MIN).is_err());
/// ```
pub fn decode_write_request(
    body: &[u8],
    limit: usize,
    oldest_ms: i64,
) -> Result<Decoded, DecodeError> {
    let mut request = prompb::decode_request(body, limit)?;
    let mut dropped = 0;
    for series in &mut request.timeseries {
        let before = series.samples.len() + series.histograms.len();
        series.samples.retain(|s| s.timestamp >= oldest_ms);
        series.histograms.retain(|h| h.timestamp >= oldest_ms);
        dropped += before - series.samples.len() - series.histograms.len();
    }
    let unnamed: usize = request
        .timeseries
        .iter()
        .filter(|s| s.name().is_empty())
        .map(|s| s.samples.len() + s.histograms.len())
        .sum();
    let converted = to_otlp(&request);
    dropped += unnamed + converted.dropped_histograms;
    Ok(Decoded {
        metrics: Metrics::new(ExportMetricsServiceRequest {
            resource_metrics: converted.resource_metrics,
        }),
        dropped,
    })
}
