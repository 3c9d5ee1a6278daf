//! The exponential histogram against OTLP's bucket definition.

use proptest::prelude::*;

use crate::statsd::expohisto::{ExpoHistogram, map_to_index};

/// The bucket `value` falls in by definition, `base^i < value <= base^(i+1)`, computed
/// with exact powers where possible and checked from both sides.
fn holds(value: f64, scale: i32, index: i32) -> bool {
    let bound = |i: i32| (f64::from(i) * 2f64.powi(-scale)).exp2();
    let (low, high) = (bound(index), bound(index + 1));
    // A relative tolerance for the log-based mapping at fine scales.
    let slack = 1e-12 * value;
    low < value + slack && value <= high + slack
}

#[test]
fn powers_of_two_sit_at_the_top_of_their_bucket() {
    // 1 is the upper bound of bucket -1 at every scale; 2 of bucket 2^scale − 1.
    for scale in -10..=20 {
        assert_eq!(map_to_index(1.0, scale), -1, "scale {scale}");
        if scale >= 0 {
            assert_eq!(map_to_index(2.0, scale), (1 << scale) - 1, "scale {scale}");
            assert_eq!(map_to_index(0.5, scale), -(1 << scale) - 1, "scale {scale}");
        }
    }
    assert_eq!(map_to_index(3.0, 0), 1);
    assert_eq!(map_to_index(4.0, 0), 1);
    assert_eq!(map_to_index(5.0, 0), 2);
    assert_eq!(map_to_index(5.0, -1), 1);
    assert_eq!(map_to_index(f64::MIN_POSITIVE / 4.0, 0), -1025);
}

#[test]
fn it_downscales_to_fit_max_size() {
    let mut histogram = ExpoHistogram::new(4);
    histogram.update(1.5, 1);
    assert_eq!(histogram.scale(), 20);
    histogram.update(1000.0, 3);
    histogram.update(0.001, 1);
    assert_eq!(histogram.count(), 5);
    // 0.001 to 1000 is 20 octaves: 4 buckets need each to span 8 (scale −3).
    assert_eq!(histogram.scale(), -3, "{:?}", histogram.to_value());
}

proptest! {
    #[test]
    fn values_map_into_their_defined_bucket(value in 1e-300f64..1e300, scale in -10i32..=20) {
        let index = map_to_index(value, scale);
        prop_assert!(holds(value, scale, index), "value {value} scale {scale} index {index}");
    }

    #[test]
    fn counts_are_kept_and_buckets_stay_bounded(
        values in prop::collection::vec(prop_oneof![-1e9f64..1e9, Just(0.0)], 1..200),
        max_size in 2u32..40,
    ) {
        let mut histogram = ExpoHistogram::new(max_size);
        for value in &values {
            histogram.update(*value, 1);
        }
        prop_assert_eq!(histogram.count(), values.len() as u64);
        let point = tributary_pipeline_core::pdata::builder::MetricsBuilder::new()
            .exponential_histogram("h", "", tributary_pipeline_core::pdata::builder::Temporality::Delta)
            .point(vec![], 0, 1, histogram.to_value())
            .is_ok();
        prop_assert!(point);
        let value = histogram.to_value();
        let debug = format!("{value:?}");
        prop_assert!(histogram.scale() >= -10 && histogram.scale() <= 20, "{}", debug);
        // Every value of a side fits its max_size buckets at the final scale.
        for sign in [1.0, -1.0] {
            let indexes: Vec<i32> = values
                .iter()
                .filter(|v| **v * sign > 0.0)
                .map(|v| map_to_index(v.abs(), histogram.scale()))
                .collect();
            if let (Some(low), Some(high)) = (indexes.iter().min(), indexes.iter().max()) {
                prop_assert!((high - low + 1) as u32 <= max_size, "{}", debug);
            }
        }
    }
}
