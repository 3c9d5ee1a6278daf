use std::time::{Duration, Instant};

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::InstrumentationScope;
use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value;

use super::fixtures::*;
use super::{Admission, MetricIdentity, StreamTable};

fn identity_of(resource: &[(&str, &str)], scope: &str, metric_name: &str) -> MetricIdentity {
    let metric = sum(metric_name, DELTA, true, &[(0, 1, Value::AsInt(1))]);
    let scope = InstrumentationScope {
        name: scope.into(),
        ..Default::default()
    };
    MetricIdentity::new(&attributes(resource), Some(&scope), &metric)
}

#[test]
fn attribute_order_does_not_make_another_stream() {
    let identity = identity_of(&[("a", "1")], "s", "m");
    assert_eq!(
        identity.point(&attributes(&[("x", "1"), ("y", "2")]), &[]),
        identity.point(&attributes(&[("y", "2"), ("x", "1")]), &[]),
    );
}

#[test]
fn every_part_of_the_identity_tells_streams_apart() {
    let base = identity_of(&[("a", "1")], "s", "m").point(&attributes(&[("x", "1")]), &[]);
    let others = [
        identity_of(&[("a", "2")], "s", "m").point(&attributes(&[("x", "1")]), &[]),
        identity_of(&[("a", "1")], "t", "m").point(&attributes(&[("x", "1")]), &[]),
        identity_of(&[("a", "1")], "s", "n").point(&attributes(&[("x", "1")]), &[]),
        identity_of(&[("a", "1")], "s", "m").point(&attributes(&[("x", "2")]), &[]),
        identity_of(&[("a", "1")], "s", "m").point(&attributes(&[("x", "1")]), &[1]),
        // Boundaries are length-prefixed: moving text from one part to the next differs.
        identity_of(&[("a", "1")], "sm", "").point(&attributes(&[("x", "1")]), &[]),
    ];
    for other in others {
        assert_ne!(base, other);
    }
    // An int attribute is not its string spelling.
    let identity = identity_of(&[], "s", "m");
    assert_ne!(
        identity.point(&[key_value("x", 1i64)], &[]),
        identity.point(&[key_value("x", "1")], &[])
    );
}

#[test]
fn the_table_refuses_new_streams_when_full_until_stale_ones_go() {
    let identity = identity_of(&[], "s", "m");
    let id = |n: &str| identity.point(&attributes(&[("n", n)]), &[]);
    let start = Instant::now();
    let mut table = StreamTable::new(2, Some(Duration::from_secs(60)), Duration::from_secs(60));
    for n in ["a", "b"] {
        assert!(matches!(table.entry(id(n), start), Admission::New(_)));
        if let Admission::New(slot) = table.entry(id(n), start) {
            slot.insert(0u32);
        }
    }
    assert!(matches!(table.entry(id("c"), start), Admission::Full));
    // Known streams are still served, and their use keeps them fresh.
    let later = start + Duration::from_secs(45);
    assert!(matches!(table.entry(id("a"), later), Admission::Known(_)));
    // "b" goes stale; a full table sweeps and admits "c".
    let much_later = start + Duration::from_secs(90);
    assert!(matches!(
        table.entry(id("c"), much_later),
        Admission::New(_)
    ));
    assert_eq!(table.len(), 1, "b was swept, a is still fresh");
}

#[test]
fn a_due_sweep_forgets_stale_streams() {
    let identity = identity_of(&[], "s", "m");
    let start = Instant::now();
    let mut table = StreamTable::new(0, Some(Duration::from_secs(10)), Duration::from_secs(5));
    if let Admission::New(slot) = table.entry(identity.point(&[], &[]), start) {
        slot.insert(1u8);
    }
    assert_eq!(table.sweep_if_due(start + Duration::from_secs(4)), 0);
    assert_eq!(table.sweep_if_due(start + Duration::from_secs(11)), 1);
    assert_eq!(table.len(), 0);
}
