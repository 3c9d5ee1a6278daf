//! A remote-write body to metrics: the decoder alone, public for fuzzing and tests.

use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_translator_prometheus::prompb::{self, DecodeError};
use tributary_translator_prometheus::remote_write::{
    DEFAULT_SCOPE_NAME, families, natives_to_otlp,
};
use tributary_translator_prometheus::to_otlp::{Options, StartTimeAdjuster, to_metrics};

/// What a request became.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The metrics.
    pub metrics: Metrics,
    /// Samples left out: of series without `__name__` or an unreadable `le`/`quantile`,
    /// older than the time threshold, and native histograms whose buckets do not add up.
    pub dropped: usize,
}

/// Decodes a Remote-Write 1.0 body (snappy block, at most `limit` bytes decompressed,
/// then protobuf) into metrics, leaving out samples older than `oldest_ms` (ms since the
/// epoch; `i64::MIN` keeps all), with a start-time adjuster of its own (see
/// [`decode_write_request_with`]). Any input gives a value or an error, never a panic.
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
    decode_write_request_with(body, limit, oldest_ms, &mut StartTimeAdjuster::new())
}

/// [`decode_write_request`] with the receiver's start-time adjuster: remote write carries
/// no start times, so a cumulative series' first point starts it and a drop in value (a
/// reset) starts it again, as the scrape receiver does.
pub fn decode_write_request_with(
    body: &[u8],
    limit: usize,
    oldest_ms: i64,
    adjuster: &mut StartTimeAdjuster,
) -> Result<Decoded, DecodeError> {
    let mut request = prompb::decode_request(body, limit)?;
    let mut dropped = 0;
    for series in &mut request.timeseries {
        let before = series.samples.len() + series.histograms.len();
        series.samples.retain(|s| s.timestamp >= oldest_ms);
        series.histograms.retain(|h| h.timestamp >= oldest_ms);
        dropped += before - series.samples.len() - series.histograms.len();
    }
    // Float series through the translation the scrape receiver uses; native histograms
    // (which metric families do not carry) through the remote-write mapping.
    let grouped = families(&request);
    dropped += grouped.dropped_samples;
    let options = Options {
        scope_name: DEFAULT_SCOPE_NAME.to_string(),
        ..Options::default()
    };
    // Every sample has its own timestamp, so the default time is never used, and without
    // a start-time metric the translation cannot fail.
    let mut metrics = to_metrics(&grouped.families, &options, adjuster, 0)
        .unwrap_or_else(|_| ExportMetricsServiceRequest::default());
    if !grouped.natives.timeseries.is_empty() {
        let natives = natives_to_otlp(&grouped.natives);
        dropped += natives.dropped_histograms;
        metrics.resource_metrics.extend(natives.resource_metrics);
    }
    Ok(Decoded {
        metrics: Metrics::new(metrics),
        dropped,
    })
}
