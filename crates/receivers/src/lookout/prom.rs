//! The Prometheus push importer: text exposition bodies, one point per sample line.

use tributary_translator_prometheus::text::{Format, Limits, MetricType, parse};

use super::point::{Point, PointValue, sanitize_key, sanitize_name};

/// Reads a Prometheus text (or OpenMetrics) body into points, one per sample line as
/// Lookout does: a counter's samples are cumulative sums, every other line (histogram
/// buckets, `_sum`, `_count`, quantiles) a gauge under the sample's own name. A sample
/// without a timestamp gets `now_ms` (Lookout used the arrival time for all; the shared
/// parser reads timestamps and escaped label values correctly, where Lookout's did not).
pub(crate) fn parse_prometheus(
    body: &[u8],
    format: Format,
    now_ms: i64,
) -> Result<Vec<Point>, String> {
    let families = parse(body, format, &Limits::default()).map_err(|e| e.to_string())?;
    let mut points = Vec::new();
    for family in families {
        for sample in family.samples {
            let counter = family.metric_type == MetricType::Counter
                && (sample.name == family.name || sample.name.ends_with("_total"));
            let value = if counter {
                PointValue::Cumulative(sample.value)
            } else {
                PointValue::Gauge(sample.value)
            };
            points.push(Point {
                name: sanitize_name(&sample.name),
                tags: sample
                    .labels
                    .into_iter()
                    .map(|(k, v)| (sanitize_key(&k), v))
                    .collect(),
                time_ms: sample.timestamp_ms.unwrap_or(now_ms),
                value,
            });
        }
    }
    Ok(points)
}
