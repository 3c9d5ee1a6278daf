//! Visitors and builders together: walks see every item with its origin, edits copy only
//! when they change something, and never touch another branch's copy.

use bytes::Bytes;

use super::attributes::{Attributes, AttributesMut, key_value};
use super::builder::{
    ExponentialHistogramValue, HistogramValue, LogsBuilder, MetricsBuilder, SummaryValue,
    Temporality,
};
use super::data_point::{DataPointRef, MetricExt};
use super::proto::collector::trace::v1::ExportTraceServiceRequest;
use super::proto::common::v1::InstrumentationScope;
use super::proto::resource::v1::Resource;
use super::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use super::visit::HasAttributes;
use super::{Logs, Metrics, Payload, Traces};

/// Two services' logs: api (info, debug) and db (debug), each with attribute `user`.
fn logs() -> Logs {
    let mut builder = LogsBuilder::new();
    builder
        .resource(vec![key_value("service.name", "api")])
        .scope("app", "1");
    builder
        .record("hello")
        .severity_text("INFO")
        .attribute("user", "ana");
    builder
        .record("detail")
        .severity_text("DEBUG")
        .attribute("user", "bob");
    builder
        .resource(vec![key_value("service.name", "db")])
        .scope("driver", "2");
    builder
        .record("query")
        .severity_text("DEBUG")
        .attribute("user", "cy");
    builder.build()
}

/// One point of each of the five kinds, each with attributes `secret` and `keep`.
fn metrics() -> Metrics {
    let attributes = || vec![key_value("secret", "s"), key_value("keep", 1)];
    let mut builder = MetricsBuilder::new();
    builder
        .resource(vec![key_value("host", "h")])
        .scope("m", "");
    builder.gauge("g", "1").double(attributes(), 1, 0.5);
    builder
        .sum("s", "1", Temporality::Cumulative, true)
        .int(attributes(), 0, 1, 3);
    builder
        .histogram("h", "ms", Temporality::Delta)
        .point(attributes(), 0, 1, HistogramValue::new(vec![], vec![2]))
        .unwrap();
    builder
        .exponential_histogram("e", "ms", Temporality::Delta)
        .point(attributes(), 0, 1, ExponentialHistogramValue::new(0))
        .unwrap();
    builder
        .summary("q", "s")
        .point(attributes(), 0, 1, SummaryValue::new(1, 1.0))
        .unwrap();
    builder.build()
}

#[test]
fn records_come_with_their_origin() {
    let logs = logs();
    let seen: Vec<(&str, &str, &str)> = logs
        .records()
        .map(|(origin, record)| {
            (
                origin
                    .resource_attributes()
                    .get_str("service.name")
                    .unwrap(),
                origin.scope_name(),
                record.attributes().get_str("user").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("api", "app", "ana"),
            ("api", "app", "bob"),
            ("db", "driver", "cy")
        ]
    );
}

#[test]
fn data_points_of_every_kind_come_with_their_metric() {
    let metrics = metrics();
    let seen: Vec<(&str, &str)> = metrics
        .data_points()
        .map(|(origin, point)| {
            let kind = match point {
                DataPointRef::Gauge(_) => "gauge",
                DataPointRef::Sum(_) => "sum",
                DataPointRef::Histogram(_) => "histogram",
                DataPointRef::ExponentialHistogram(_) => "exponential",
                DataPointRef::Summary(_) => "summary",
            };
            (origin.metric_name(), kind)
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("g", "gauge"),
            ("s", "sum"),
            ("h", "histogram"),
            ("e", "exponential"),
            ("q", "summary")
        ]
    );
    assert!(metrics.data_points().all(|(origin, point)| {
        origin.resource_attributes().get_str("host") == Some("h")
            && point.time_unix_nano() == 1
            && point.attributes().get_int("keep") == Some(1)
    }));
}

#[test]
fn an_edit_that_changes_nothing_copies_nothing() {
    let mut logs = logs();
    let logs_branch = logs.clone();
    assert_eq!(logs.update_records(|_, _| false, |_, _| unreachable!()), 0);
    assert_eq!(logs.retain_records(|_, _| true), 0);
    assert_eq!(logs.update_resources(|_| false, |_| unreachable!()), 0);
    assert_eq!(logs.retain_resources(|_| true), 0);
    assert_eq!(logs.update_scopes(|_| false, |_| unreachable!()), 0);
    assert!(logs.shares_request_with(&logs_branch));

    let mut metrics = metrics();
    let metrics_branch = metrics.clone();
    assert_eq!(
        metrics.update_data_points(|_, _| false, |_, _| unreachable!()),
        0
    );
    assert_eq!(metrics.retain_data_points(|_, _| true), 0);
    assert!(metrics.shares_request_with(&metrics_branch));
}

#[test]
fn an_edit_copies_a_shared_request_and_leaves_the_other_branch_alone() {
    let mut metrics = metrics();
    let branch = metrics.clone();
    let redacted = metrics.update_data_points(
        |_, point| point.attributes().contains_key("secret"),
        |_, mut point| {
            point.attributes_mut().remove_attribute("secret");
        },
    );
    assert_eq!(redacted, 5);
    assert!(!metrics.shares_request_with(&branch));
    assert!(
        metrics
            .data_points()
            .all(|(_, p)| !p.attributes().contains_key("secret"))
    );
    assert!(
        branch
            .data_points()
            .all(|(_, p)| p.attributes().contains_key("secret")),
        "the other branch still has its data"
    );
}

#[test]
fn an_unshared_request_is_edited_in_place() {
    let mut logs = logs();
    let before: *const _ = logs.request();
    logs.update_records(|_, _| true, |_, record| record.severity_text.clear());
    assert!(std::ptr::eq(before, logs.request()));
}

#[test]
fn each_closure_runs_once_per_item_and_edits_only_what_was_wanted() {
    let mut logs = logs();
    let (mut asked, mut edited) = (0, 0);
    let count = logs.update_records(
        |_, record| {
            asked += 1;
            record.severity_text == "DEBUG"
        },
        |origin, record| {
            edited += 1;
            let service = origin.resource_attributes().get_str("service.name");
            record
                .attributes_mut()
                .upsert_attribute("service", service.unwrap_or_default());
        },
    );
    assert_eq!((count, asked, edited), (2, 3, 2));
    let services: Vec<Option<&str>> = logs
        .records()
        .map(|(_, record)| record.attributes().get_str("service"))
        .collect();
    assert_eq!(services, [None, Some("api"), Some("db")]);
}

#[test]
fn retain_drops_what_it_left_empty() {
    let mut logs = logs();
    let branch = logs.clone();
    let removed = logs.retain_records(|_, record| record.severity_text != "DEBUG");
    assert_eq!(removed, 2);
    assert_eq!(logs.item_count(), 1);
    assert_eq!(
        logs.request().resource_logs.len(),
        1,
        "the db resource lost its only record"
    );
    assert_eq!(branch.item_count(), 3);
    assert_eq!(logs.retain_records(|_, _| false), 1);
    assert!(logs.is_empty());
    assert!(logs.request().resource_logs.is_empty());
}

#[test]
fn retain_leaves_containers_that_were_empty_before() {
    let mut traces = Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![
            ResourceSpans::default(),
            ResourceSpans {
                scope_spans: vec![
                    ScopeSpans::default(),
                    ScopeSpans {
                        spans: vec![Span::default(), Span::default()],
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
        ],
    });
    let mut first = true;
    assert_eq!(traces.retain_records(|_, _| std::mem::take(&mut first)), 1);
    let request = traces.request();
    assert_eq!(request.resource_spans.len(), 2);
    assert_eq!(request.resource_spans[1].scope_spans.len(), 2);
    assert_eq!(traces.item_count(), 1);
}

#[test]
fn retain_data_points_drops_emptied_metrics() {
    let mut metrics = metrics();
    let removed = metrics.retain_data_points(|origin, _| origin.metric_name() != "h");
    assert_eq!(removed, 1);
    let names: Vec<&str> = metrics.records().map(|(_, m)| m.name.as_str()).collect();
    assert_eq!(names, ["g", "s", "e", "q"]);
    assert_eq!(metrics.retain_data_points(|_, _| false), 4);
    assert!(metrics.is_empty());
    assert!(metrics.request().resource_metrics.is_empty());
}

#[test]
fn resources_and_scopes_are_edited_and_created_when_absent() {
    let mut traces = Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans::default()],
            ..Default::default()
        }],
    });
    let edited = traces.update_resources(
        |resource| resource.attributes.is_empty(),
        |resource: &mut Resource| {
            resource
                .attributes_mut()
                .upsert_attribute("service.name", "unknown");
        },
    );
    assert_eq!(edited, 1);
    traces.update_scopes(
        |origin| origin.scope_name().is_empty(),
        |scope: &mut InstrumentationScope| scope.name = "unnamed".into(),
    );
    let rs = &traces.request().resource_spans[0];
    assert_eq!(rs.attributes().get_str("service.name"), Some("unknown"));
    assert_eq!(
        rs.scope_spans[0].scope.as_ref().map(|s| s.name.as_str()),
        Some("unnamed")
    );
    assert_eq!(traces.retain_resources(|_| false), 1);
    assert!(traces.request().resource_spans.is_empty());
}

#[test]
fn a_payload_still_only_bytes_keeps_its_bytes_when_nothing_changes() {
    let encoded: Bytes = logs().encoded();
    let mut received = Logs::decode(encoded.clone()).unwrap();
    let branch = received.clone();
    received.update_records(|_, _| false, |_, _| {});
    assert!(received.shares_request_with(&branch));
    assert_eq!(received.encoded(), encoded);
}

#[test]
fn metric_ext_walks_and_retains_points_of_one_metric() {
    let mut metrics = metrics();
    let metric = &mut metrics.make_mut().resource_metrics[0].scope_metrics[0].metrics[0];
    for mut point in metric.data_points_mut() {
        point.attributes_mut().insert_attribute("added", true);
    }
    assert_eq!(
        metric
            .data_points()
            .next()
            .unwrap()
            .attributes()
            .get_bool("added"),
        Some(true)
    );
    metric.retain_data_points(|_| false);
    assert_eq!(metric.data_points().count(), 0);
}

#[test]
fn builders_make_payloads_like_any_other() {
    let payload: Payload<_> = logs();
    assert_eq!(payload.item_count(), 3);
    let decoded = Logs::decode(payload.encoded()).unwrap();
    assert_eq!(decoded, payload);
}

#[test]
fn item_attributes_are_one_level_for_every_signal() {
    let mut logs = logs();
    let mut metrics = metrics();
    let (logs_branch, metrics_branch) = (logs.clone(), metrics.clone());
    assert_eq!(
        logs.update_item_attributes(|_, _| false, |_, _| unreachable!()),
        0
    );
    assert_eq!(
        metrics.update_item_attributes(|_, _| false, |_, _| unreachable!()),
        0
    );
    assert!(logs.shares_request_with(&logs_branch));
    assert!(metrics.shares_request_with(&metrics_branch));

    let mut metric_names = Vec::new();
    let stamped = metrics.update_item_attributes(
        |origin, attributes| origin.metric_name() != "g" && attributes.contains_key("keep"),
        |origin, attributes| {
            metric_names.push(origin.metric_name().to_owned());
            attributes.upsert_attribute("stamped", true);
        },
    );
    assert_eq!(stamped, 4);
    assert_eq!(metric_names, ["s", "h", "e", "q"]);
    let stamped_points: Vec<&str> = metrics
        .data_points()
        .filter(|(_, point)| point.attributes().get_bool("stamped") == Some(true))
        .map(|(origin, _)| origin.metric_name())
        .collect();
    assert_eq!(stamped_points, ["s", "h", "e", "q"]);
    assert!(
        metrics_branch
            .data_points()
            .all(|(_, point)| !point.attributes().contains_key("stamped"))
    );

    let redacted = logs.update_item_attributes(
        |origin, _| origin.scope_name() == "driver",
        |_, attributes| {
            attributes.remove_attribute("user");
        },
    );
    assert_eq!(redacted, 1);
    let users: Vec<Option<&str>> = logs
        .records()
        .map(|(_, record)| record.attributes().get_str("user"))
        .collect();
    assert_eq!(users, [Some("ana"), Some("bob"), None]);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Logs shaped by `shape`: per resource, per scope, the number of records; record `i`
    /// (counting from 0 across the batch) has attribute `n = i`.
    fn shaped(shape: &[Vec<usize>]) -> Logs {
        let mut builder = LogsBuilder::new();
        let mut n = 0;
        for scopes in shape {
            builder.resource(vec![]);
            for records in scopes {
                builder.scope("s", "");
                for _ in 0..*records {
                    builder.record("r").attribute("n", n);
                    n += 1;
                }
            }
        }
        builder.build()
    }

    proptest! {
        #[test]
        fn retain_keeps_exactly_the_kept_records_in_order(
            shape in prop::collection::vec(prop::collection::vec(0..4usize, 0..4), 0..4),
            keep_mask in prop::collection::vec(any::<bool>(), 64),
        ) {
            let mut logs = shaped(&shape);
            let branch = logs.clone();
            let total = logs.item_count();
            let keep = |n: i64| keep_mask[n as usize % keep_mask.len()];
            let removed = logs.retain_records(|_, r| keep(r.attributes().get_int("n").unwrap()));

            let expected: Vec<i64> = (0..total as i64).filter(|n| keep(*n)).collect();
            let kept: Vec<i64> = logs
                .records()
                .map(|(_, r)| r.attributes().get_int("n").unwrap())
                .collect();
            prop_assert_eq!(&kept, &expected);
            prop_assert_eq!(removed, total - expected.len());
            prop_assert_eq!(logs.item_count(), expected.len());
            prop_assert_eq!(logs.shares_request_with(&branch), removed == 0);
            prop_assert_eq!(branch.item_count(), total);
            // Nothing the retain emptied is left behind; what was empty before may stay.
            let request = logs.request();
            let empty_before = shape.iter().filter(|scopes| scopes.is_empty()).count();
            let empty_scopes_before: usize = shape
                .iter()
                .map(|scopes| scopes.iter().filter(|records| **records == 0).count())
                .sum();
            let empty_resources = request.resource_logs.iter().filter(|r| r.scope_logs.is_empty()).count();
            let empty_scopes = request
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .filter(|s| s.log_records.is_empty())
                .count();
            prop_assert!(empty_resources <= empty_before);
            prop_assert!(empty_scopes <= empty_scopes_before);
        }
    }
}
