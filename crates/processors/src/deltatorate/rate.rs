//! The conversion of a delta sum into a gauge of per-second rates.

use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, Gauge, Metric, NumberDataPoint, metric::Data, number_data_point::Value,
};

/// Turns `metric` into a gauge of rates if it is a delta sum; returns how many points had
/// no interval to divide by (and were dropped), or `None` if `metric` is no delta sum.
pub(crate) fn to_rate(metric: &mut Metric) -> Option<usize> {
    let Some(Data::Sum(sum)) = &mut metric.data else {
        return None;
    };
    if sum.aggregation_temporality != AggregationTemporality::Delta as i32 {
        return None;
    }
    let mut points = std::mem::take(&mut sum.data_points);
    let before = points.len();
    points.retain_mut(|point| match rate(point) {
        Some(rate) => {
            point.value = Some(Value::AsDouble(rate));
            true
        }
        None => false,
    });
    let dropped = before - points.len();
    metric.data = Some(Data::Gauge(Gauge {
        data_points: points,
    }));
    Some(dropped)
}

/// The point's value per second of its interval; `None` when the interval is not
/// positive (Go would divide by zero and send ±Inf or NaN).
fn rate(point: &NumberDataPoint) -> Option<f64> {
    let nanos = point
        .time_unix_nano
        .checked_sub(point.start_time_unix_nano)?;
    if nanos == 0 {
        return None;
    }
    let seconds = nanos as f64 / 1e9;
    let value = match point.value? {
        Value::AsDouble(v) => v,
        Value::AsInt(v) => v as f64,
    };
    Some(value / seconds)
}
