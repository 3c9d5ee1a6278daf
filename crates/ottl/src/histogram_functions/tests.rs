//! Tests of the histogram functions: Go's expected counts, the README's examples, and
//! the errors.

use tributary_pipeline_core::pdata::proto::metrics::v1::ExponentialHistogram;

use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogramDataPoint, Gauge, Histogram, HistogramDataPoint, Metric,
    exponential_histogram_data_point::Buckets, metric::Data, number_data_point,
};

use super::explicit::Draws;
use super::percentile::exponential_bound;
use crate::context::{Item, TransformContext};
use crate::{ContextKind, compile_statement};

/// Go's test point: scale 0, positive buckets from index 5 ((32, 64], (64, 128],
/// (128, 256]) holding 10, 22 and 12.
fn exponential(scale: i32, offset: i32, counts: &[u64], zero_count: u64) -> Metric {
    Metric {
        name: "test-metric".into(),
        data: Some(Data::ExponentialHistogram(ExponentialHistogram {
            aggregation_temporality: 1,
            data_points: vec![ExponentialHistogramDataPoint {
                count: counts.iter().sum::<u64>() + zero_count,
                sum: Some(999.0),
                min: Some(40.0),
                max: Some(245.0),
                scale,
                zero_count,
                time_unix_nano: 7,
                positive: Some(Buckets {
                    offset,
                    bucket_counts: counts.to_vec(),
                }),
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

/// Runs one statement in `context` on each metric (each data point in `datapoint`).
fn run(statement: &str, context: ContextKind, metrics: &mut Vec<Metric>) -> Result<(), String> {
    let s = compile_statement(statement, context).map_err(|e| e.to_string())?;
    let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
    for index in 0..metrics.len() {
        if context == ContextKind::DataPoint {
            let points = crate::context::data_point_len(&metrics[index]);
            for point in 0..points {
                let mut ctx = TransformContext {
                    resource: &mut resource,
                    scope: Some(&mut scope),
                    item: Item::DataPoint(&mut metrics[index], point),
                    cache: &mut cache,
                };
                s.execute(&mut ctx).map_err(|e| e.to_string())?;
            }
        } else {
            let mut ctx = TransformContext {
                resource: &mut resource,
                scope: Some(&mut scope),
                item: Item::MetricIn(metrics, index),
                cache: &mut cache,
            };
            s.execute(&mut ctx).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn converted(metric: Metric, distribution: &str, bounds: &str) -> HistogramDataPoint {
    let mut metrics = vec![metric];
    let statement =
        format!(r#"convert_exponential_histogram_to_histogram("{distribution}", {bounds})"#);
    run(&statement, ContextKind::Metric, &mut metrics).unwrap();
    let Some(Data::Histogram(h)) = &metrics[0].data else {
        panic!("not converted: {:?}", metrics[0].data)
    };
    h.data_points[0].clone()
}

#[test]
fn random_draws_cover_their_range() {
    let mut draws = Draws::new();
    let mut seen = [false; 4];
    for _ in 0..1000 {
        let f = draws.fraction();
        assert!((0.0..1.0).contains(&f), "{f}");
        seen[draws.below(4)] = true;
    }
    assert_eq!(seen, [true; 4]);
}

/// The expected counts of Go's `func_convert_exponential_hist_to_explicit_hist_test.go`.
#[test]
fn exponential_histograms_convert_as_go_converts_them() {
    let go = || exponential(0, 5, &[10, 22, 12], 0);
    let tens = "[10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]";
    for distribution in ["upper", "midpoint", "uniform", "random"] {
        let p = converted(go(), distribution, "[1.0, 2.0, 3.0, 4.0, 5.0]");
        assert_eq!(p.bucket_counts, [0, 0, 0, 0, 44], "{distribution}");
        let p = converted(go(), distribution, "[1000, 2000, 3000, 4000, 5000]");
        assert_eq!(p.bucket_counts, [44, 0, 0, 0, 0], "{distribution}");
    }
    let p = converted(go(), "midpoint", tens);
    assert_eq!(p.bucket_counts, [0, 0, 0, 10, 0, 0, 0, 0, 22, 12]);
    assert_eq!(
        (p.count, p.sum, p.min, p.max),
        (44, Some(999.0), Some(40.0), Some(245.0))
    );
    assert_eq!(p.explicit_bounds.len(), 10);
    let with_zero = exponential(0, 5, &[10, 22, 12], 5);
    let p = converted(
        with_zero,
        "midpoint",
        "[0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]",
    );
    assert_eq!(p.bucket_counts, [5, 0, 0, 0, 10, 0, 0, 0, 0, 22, 12]);
    let p = converted(go(), "uniform", tens);
    assert_eq!(p.bucket_counts, [0, 0, 0, 3, 3, 2, 8, 6, 5, 17]);
    // Go's upper test: scale 7, buckets 944 and 973 (about 166 and 194).
    let mut counts = vec![0u64; 30];
    (counts[0], counts[29]) = (1, 1);
    let p = converted(
        exponential(7, 944, &counts, 0),
        "upper",
        "[160.0, 170.0, 180.0, 190.0, 200.0]",
    );
    assert_eq!(p.bucket_counts, [1, 0, 0, 1, 0]);
    // Random: every count lands, none below the lowest bucket (32), some above 100.
    for _ in 0..20 {
        let p = converted(go(), "random", tens);
        assert_eq!(p.bucket_counts.iter().sum::<u64>(), 44);
        assert_eq!(p.bucket_counts[..3], [0, 0, 0]);
        assert!(p.bucket_counts[9] >= 12, "{:?}", p.bucket_counts);
    }
    // The default distribution is random; other metrics are left alone.
    let p = converted(go(), "", tens);
    assert_eq!(p.bucket_counts.iter().sum::<u64>(), 44);
    let mut gauge = vec![Metric {
        name: "g".into(),
        data: Some(Data::Gauge(Gauge::default())),
        ..Default::default()
    }];
    run(
        r#"convert_exponential_histogram_to_histogram("upper", [1.0])"#,
        ContextKind::Metric,
        &mut gauge,
    )
    .unwrap();
    assert!(matches!(gauge[0].data, Some(Data::Gauge(_))));
}

fn histogram(bounds: &[f64], counts: &[u64], min: Option<f64>, max: Option<f64>) -> Metric {
    Metric {
        name: "h".into(),
        description: "latency".into(),
        unit: "ms".into(),
        data: Some(Data::Histogram(Histogram {
            aggregation_temporality: 2,
            data_points: vec![HistogramDataPoint {
                count: counts.iter().sum(),
                bucket_counts: counts.to_vec(),
                explicit_bounds: bounds.to_vec(),
                min,
                max,
                time_unix_nano: 7,
                ..Default::default()
            }],
        })),
        ..Default::default()
    }
}

/// The percentile gauge a statement adds, as (name, description, value).
fn percentile(metric: Metric, statement: &str) -> Result<Option<(String, String, f64)>, String> {
    let mut metrics = vec![metric];
    run(statement, ContextKind::Metric, &mut metrics)?;
    Ok(metrics.get(1).map(|m| {
        let Some(Data::Gauge(g)) = &m.data else {
            panic!("not a gauge")
        };
        let Some(number_data_point::Value::AsDouble(v)) = g.data_points[0].value else {
            panic!("not a double")
        };
        assert_eq!(g.data_points[0].time_unix_nano, 7);
        (m.name.clone(), m.description.clone(), v)
    }))
}

#[test]
fn histogram_percentiles_interpolate_inside_their_bucket() {
    let h = || histogram(&[1.0, 5.0, 10.0], &[2, 4, 3, 1], Some(0.5), Some(20.0));
    // Rank ceil(10 * 0.5) = 5 is the third of four in (1, 5].
    assert_eq!(
        percentile(h(), "extract_percentile_metric(50.0)").unwrap(),
        Some(("h_p50".into(), "latency (p50)".into(), 4.0))
    );
    // The highest bucket ends at max.
    assert_eq!(
        percentile(h(), r#"extract_percentile_metric(95, "_p95_custom")"#).unwrap(),
        Some(("h_p95_custom".into(), "latency (p95)".into(), 20.0))
    );
    // The lowest starts at min (else 0); the highest without max is its lower bound.
    let v = |bounds: &[f64], counts: &[u64], min, max, p: &str| {
        percentile(
            histogram(bounds, counts, min, max),
            &format!("extract_percentile_metric({p})"),
        )
        .unwrap()
        .unwrap()
        .2
    };
    assert_eq!(v(&[4.0], &[2, 0], Some(2.0), None, "50"), 3.0);
    assert_eq!(v(&[4.0], &[2, 0], None, None, "50"), 2.0);
    assert_eq!(v(&[-4.0], &[2, 0], None, None, "50"), -4.0);
    assert_eq!(v(&[4.0], &[0, 2], None, None, "99.9"), 4.0);
    // One bucket and no bounds: min to max, or skipped.
    assert_eq!(v(&[], &[4], Some(0.0), Some(8.0), "25"), 2.0);
    assert_eq!(
        percentile(
            histogram(&[], &[4], None, Some(8.0)),
            "extract_percentile_metric(25)"
        )
        .unwrap(),
        None
    );
    let e = percentile(
        histogram(&[1.0], &[1, 1, 1], None, None),
        "extract_percentile_metric(50)",
    )
    .unwrap_err();
    assert!(e.contains("malformed data"), "{e}");
}

#[test]
fn exponential_percentiles_interpolate_logarithmically() {
    let mut metric = exponential(0, 0, &[1], 1);
    let Some(Data::ExponentialHistogram(h)) = &mut metric.data else {
        unreachable!()
    };
    let p = &mut h.data_points[0];
    // Values in [-2, -1) twice, one zero, one in (1, 2].
    p.negative = Some(Buckets {
        offset: 0,
        bucket_counts: vec![2],
    });
    p.count = 4;
    let value = |q: &str| {
        percentile(metric.clone(), &format!("extract_percentile_metric({q})"))
            .unwrap()
            .unwrap()
            .2
    };
    assert!((value("25") + std::f64::consts::SQRT_2).abs() < 1e-12);
    assert_eq!(value("75"), 0.0);
    assert!((value("99") - 2.0).abs() < 1e-12);
    assert_eq!(
        percentile(metric, "extract_percentile_metric(25)")
            .unwrap()
            .unwrap()
            .1,
        "p25"
    );
}

/// Scales from a peer are not trusted: the extreme ones give extreme bounds, no panic.
#[test]
fn any_scale_gives_a_bound() {
    assert_eq!(exponential_bound(3, 0), 8.0);
    assert_eq!(exponential_bound(3, -1), 64.0);
    assert!((exponential_bound(3, 1) - 8f64.sqrt()).abs() < 1e-12);
    for scale in [i32::MIN, -64, 64, i32::MAX] {
        for index in [i64::MIN, -1, 0, 1, i64::MAX] {
            let _ = exponential_bound(index, scale);
        }
    }
    for scale in [i32::MIN, i32::MAX] {
        let p = converted(exponential(scale, 5, &[1, 2], 0), "uniform", "[1.0, 2.0]");
        assert_eq!(p.bucket_counts.iter().sum::<u64>(), 3);
    }
}

fn merged(statement: &str, bounds: &[f64], counts: &[u64]) -> (Vec<f64>, Vec<u64>) {
    let mut metrics = vec![histogram(bounds, counts, None, None)];
    run(statement, ContextKind::DataPoint, &mut metrics).unwrap();
    let Some(Data::Histogram(h)) = &metrics[0].data else {
        unreachable!()
    };
    let p = &h.data_points[0];
    (p.explicit_bounds.clone(), p.bucket_counts.clone())
}

/// The README's two examples, and the cases where nothing changes.
#[test]
fn merge_histogram_buckets_merges_as_the_readme_shows() {
    assert_eq!(
        merged(
            "merge_histogram_buckets(0.5)",
            &[0.1, 0.5, 1.0],
            &[5, 8, 3, 1]
        ),
        (vec![0.1, 1.0], vec![5, 11, 1])
    );
    assert_eq!(
        merged(
            r#"merge_histogram_buckets(5, method="limit_buckets")"#,
            &[0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
            &[80, 4, 6, 120, 3, 2, 40, 10, 1],
        ),
        (vec![0.2, 1.0, 5.0, 30.0], vec![84, 126, 5, 50, 1])
    );
    for (statement, bounds, counts) in [
        (
            "merge_histogram_buckets(0.7)",
            &[0.5, 1.0][..],
            &[1u64, 2, 3][..],
        ),
        ("merge_histogram_buckets(0.5)", &[0.5, 1.0], &[1, 2]),
        (
            r#"merge_histogram_buckets(3, method="limit_buckets")"#,
            &[0.5, 1.0],
            &[1, 2, 3],
        ),
        (
            r#"merge_histogram_buckets(2, method="limit_buckets")"#,
            &[1.0, 0.5],
            &[1, 2, 3],
        ),
    ] {
        assert_eq!(
            merged(statement, bounds, counts),
            (bounds.to_vec(), counts.to_vec()),
            "{statement}"
        );
    }
}

#[test]
fn extract_avg_metric_adds_a_gauge_of_the_means() {
    let mut metrics = vec![histogram(&[1.0], &[3, 1], None, None)];
    let Some(Data::Histogram(h)) = &mut metrics[0].data else {
        unreachable!()
    };
    h.data_points[0].sum = Some(10.0);
    let mut skipped = h.data_points[0].clone();
    skipped.sum = None;
    h.data_points.push(skipped);
    run("extract_avg_metric()", ContextKind::Metric, &mut metrics).unwrap();
    assert_eq!(metrics[1].name, "h_avg");
    assert_eq!(metrics[1].unit, "ms");
    let Some(Data::Gauge(g)) = &metrics[1].data else {
        panic!("not a gauge")
    };
    assert_eq!(g.data_points.len(), 1);
    assert_eq!(
        g.data_points[0].value,
        Some(number_data_point::Value::AsDouble(2.5))
    );
    let mut gauge = vec![Metric {
        name: "g".into(),
        data: Some(Data::Gauge(Gauge::default())),
        ..Default::default()
    }];
    let e = run(
        r#"extract_avg_metric(".mean")"#,
        ContextKind::Metric,
        &mut gauge,
    )
    .unwrap_err();
    assert!(
        e.contains("requires an input metric of type Histogram"),
        "{e}"
    );
}

#[test]
fn bad_arguments_are_config_errors() {
    let refused = |statement: &str, context: ContextKind, expected: &str| {
        let e = compile_statement(statement, context)
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains(expected), "{statement}: {e}");
    };
    use ContextKind::{DataPoint, Metric};
    for p in ["0", "100", "-5", "attributes[\"p\"]"] {
        refused(
            &format!("extract_percentile_metric({p})"),
            Metric,
            "greater than 0 and less than 100",
        );
    }
    refused(
        r#"convert_exponential_histogram_to_histogram("lower", [1.0])"#,
        Metric,
        "invalid distribution \"lower\"",
    );
    refused(
        r#"convert_exponential_histogram_to_histogram("upper", [])"#,
        Metric,
        "non-empty list of numbers",
    );
    refused(
        r#"merge_histogram_buckets(1.5, method="limit_buckets")"#,
        DataPoint,
        "positive integer",
    );
    refused(
        r#"merge_histogram_buckets(1, method="halve")"#,
        DataPoint,
        "unsupported method \"halve\"",
    );
    refused(
        "merge_histogram_buckets(0.5)",
        Metric,
        "only available in the datapoint context",
    );
    refused(
        "extract_percentile_metric(50)",
        DataPoint,
        "only available in the metric context",
    );
}
