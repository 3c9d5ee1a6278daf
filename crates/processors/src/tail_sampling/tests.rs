//! Golden cases per policy (each trace's spans arrive across several requests), Go's
//! decision precedence, late spans, `num_traces` eviction, and the conformance suite.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tributary_pipeline_core::component::{Component, Host, Kind, load_config};
use tributary_pipeline_core::consumer::Consumer;
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status, span::Event,
};
use tributary_pipeline_core::testing::{Sink, eventually, settings};

use super::policy::probability_threshold;
use super::processor::TailSampler;
use super::{Config, factory};
use crate::sampling::fnv64a_salted;

const MS: u64 = 1_000_000;

fn config(yaml: &str) -> Config {
    load_config::<Config>(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn id(trace: u8) -> Vec<u8> {
    let mut id = vec![0u8; 16];
    id[0] = trace;
    id[15] = trace.wrapping_mul(37);
    id
}

/// A span of trace `trace` lasting `start..end` ms.
fn span(trace: u8, start: u64, end: u64) -> Span {
    Span {
        trace_id: id(trace),
        span_id: vec![1; 8],
        name: "op".into(),
        start_time_unix_nano: 1_700_000_000_000 * MS + start * MS,
        end_time_unix_nano: 1_700_000_000_000 * MS + end * MS,
        ..Default::default()
    }
}

fn with(mut s: Span, attrs: Vec<KeyValue>) -> Span {
    s.attributes = attrs;
    s
}

fn request(spans: Vec<Span>, resource: Vec<KeyValue>) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

/// Trace (first ID byte) → spans kept.
fn kept(sink: &Sink<Traces>) -> BTreeMap<u8, usize> {
    let mut out = BTreeMap::new();
    for t in sink.accepted() {
        for rs in &t.request().resource_spans {
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    *out.entry(s.trace_id[0]).or_insert(0) += 1;
                }
            }
        }
    }
    out
}

/// Sends `batches` (each one request), shuts down (deciding everything), returns what
/// was kept.
async fn run(yaml: &str, batches: Vec<Vec<Span>>) -> BTreeMap<u8, usize> {
    let sink = Sink::<Traces>::new();
    let p = factory()
        .create(
            &settings::<Traces>(Kind::Processor, "tail_sampling"),
            &config(yaml),
            sink.next(),
        )
        .unwrap();
    for batch in batches {
        p.consume(request(batch, vec![])).await.unwrap();
    }
    assert!(sink.accepted().is_empty(), "nothing before the decision");
    p.shutdown().await.unwrap();
    kept(&sink)
}

fn policies(body: &str) -> String {
    format!("decision_wait: 1h\npolicies:\n{body}")
}

fn map(pairs: &[(u8, usize)]) -> BTreeMap<u8, usize> {
    pairs.iter().copied().collect()
}

#[test]
fn defaults_and_validation_follow_go() {
    let c = config("");
    assert_eq!(c.decision_wait, Duration::from_secs(30));
    assert_eq!(c.num_traces, 50000);
    assert_eq!(c.decision_cache.sampled_cache_size, 0);
    for (yaml, path) in [
        ("policies: [{name: a, type: nope}]", "policies::0::type"),
        (
            "policies: [{name: a, type: status_code, status_code: {status_codes: [BAD]}}]",
            "status_codes",
        ),
        (
            "policies: [{name: a, type: string_attribute, string_attribute: {key: k, values: ['('], enabled_regex_matching: true}}]",
            "values::0",
        ),
        (
            "policies: [{name: a, type: ottl_condition, ottl_condition: {span: ['nope(']}}]",
            "ottl_condition::span::0",
        ),
        (
            "policies: [{name: a, type: always_sample}, {name: a, type: always_sample}]",
            "policies::1::name",
        ),
        (
            "policies: [{name: a, type: always_sample, bogus: 1}]",
            "bogus",
        ),
        (
            "policies: [{name: a, type: and, and: {and_sub_policy: [{name: b, type: drop}]}}]",
            "and_sub_policy::0::type",
        ),
        (
            "policies: [{name: a, type: composite, composite: {composite_sub_policy: [{name: b, type: always_sample}], rate_allocation: [{policy: c, percent: 10}]}}]",
            "rate_allocation::0::policy",
        ),
        (
            "policies: [{name: a, type: bytes_limiting}]",
            "bytes_per_second",
        ),
        ("num_traces: 0", "num_traces"),
    ] {
        let e = load_config::<Config>(yaml).unwrap_err().to_string();
        assert!(e.contains(path), "{yaml}: {e}");
    }
}

#[test]
fn the_probabilistic_threshold_is_gos_big_float_arithmetic() {
    assert_eq!(probability_threshold(0.0), 0);
    assert_eq!(probability_threshold(1.0), u64::MAX);
    assert_eq!(probability_threshold(0.5), 0x7fff_ffff_ffff_ffff);
    assert_eq!(probability_threshold(0.25), 0x3fff_ffff_ffff_ffff);
    // The float64 nearest 0.1 is 0.1000000000000000055511151231257827…; times 2^64−1
    // that is 1844674407370955263.6…, which 64 significant bits keep as …263.625.
    assert_eq!(probability_threshold(0.1), 1844674407370955263);
}

#[tokio::test]
async fn always_sample_keeps_every_span_of_every_trace() {
    let got = run(
        &policies("  - {name: all, type: always_sample}"),
        vec![
            vec![span(1, 0, 1), span(2, 0, 1)],
            vec![span(1, 1, 2)],
            vec![span(2, 3, 4), span(1, 5, 6)],
        ],
    )
    .await;
    assert_eq!(got, map(&[(1, 3), (2, 2)]));
}

#[tokio::test]
async fn latency_measures_first_start_to_last_end_across_batches() {
    let batches = || {
        vec![
            vec![span(1, 0, 50), span(2, 0, 50), span(3, 0, 60)],
            vec![span(1, 40, 160), span(3, 50, 120)],
        ]
    };
    let got = run(
        &policies("  - {name: l, type: latency, latency: {threshold_ms: 100}}"),
        batches(),
    )
    .await;
    assert_eq!(got, map(&[(1, 2), (3, 2)]));
    let got = run(
        &policies(
            "  - {name: l, type: latency, latency: {threshold_ms: 100, upper_threshold_ms: 150}}",
        ),
        batches(),
    )
    .await;
    assert_eq!(got, map(&[(3, 2)]));
}

#[tokio::test]
async fn numeric_attribute_matches_spans_and_resources_and_inverts() {
    let batches = || {
        vec![
            vec![span(1, 0, 1), span(2, 0, 1), span(3, 0, 1)],
            vec![
                with(span(1, 1, 2), vec![key_value("n", 15i64)]),
                with(span(2, 1, 2), vec![key_value("n", 5i64)]),
            ],
        ]
    };
    let got = run(&policies("  - {name: n, type: numeric_attribute, numeric_attribute: {key: n, min_value: 10, max_value: 20}}"), batches()).await;
    assert_eq!(got, map(&[(1, 2)]));
    // Inverted: a match is "inverted not sampled", no match "inverted sampled".
    let got = run(&policies("  - {name: n, type: numeric_attribute, numeric_attribute: {key: n, min_value: 10, max_value: 20, invert_match: true}}"), batches()).await;
    assert_eq!(got, map(&[(2, 2), (3, 1)]));
    // Only a minimum.
    let got = run(
        &policies(
            "  - {name: n, type: numeric_attribute, numeric_attribute: {key: n, min_value: 1}}",
        ),
        batches(),
    )
    .await;
    assert_eq!(got, map(&[(1, 2), (2, 2)]));
}

#[tokio::test]
async fn probabilistic_hashes_the_salted_trace_id() {
    let spans: Vec<Span> = (1..=200u8).map(|t| span(t, 0, 1)).collect();
    let got = run(&policies("  - {name: p, type: probabilistic, probabilistic: {sampling_percentage: 30, hash_salt: s}}"), vec![spans]).await;
    let threshold = probability_threshold(0.3);
    let want: BTreeMap<u8, usize> = (1..=200u8)
        .filter(|t| fnv64a_salted(b"s", &id(*t)) <= threshold)
        .map(|t| (t, 1))
        .collect();
    assert_eq!(got, want);
    assert!((30..90).contains(&got.len()), "{}", got.len());
}

#[tokio::test]
async fn status_code_finds_an_error_span_in_a_later_batch() {
    let mut err = span(1, 1, 2);
    err.status = Some(Status {
        code: 2,
        ..Default::default()
    });
    let got = run(
        &policies("  - {name: s, type: status_code, status_code: {status_codes: [ERROR]}}"),
        vec![vec![span(1, 0, 1), span(2, 0, 1)], vec![err, span(2, 1, 2)]],
    )
    .await;
    assert_eq!(got, map(&[(1, 2)]));
}

#[tokio::test]
async fn string_attribute_exact_regex_resource_and_invert() {
    let batches = || {
        vec![
            vec![span(1, 0, 1), span(2, 0, 1), span(3, 0, 1)],
            vec![
                with(span(1, 1, 2), vec![key_value("k", "value1")]),
                with(span(2, 1, 2), vec![key_value("k", "valueX")]),
                with(span(3, 1, 2), vec![key_value("k", "other")]),
            ],
        ]
    };
    let got = run(&policies("  - {name: s, type: string_attribute, string_attribute: {key: k, values: [value1, value2]}}"), batches()).await;
    assert_eq!(got, map(&[(1, 2)]));
    let got = run(&policies("  - {name: s, type: string_attribute, string_attribute: {key: k, values: ['val.*'], enabled_regex_matching: true, cache_max_size: 1}}"), batches()).await;
    assert_eq!(got, map(&[(1, 2), (2, 2)]));
    let got = run(&policies("  - {name: s, type: string_attribute, string_attribute: {key: k, values: [value1], invert_match: true}}"), batches()).await;
    assert_eq!(got, map(&[(2, 2), (3, 2)]));

    // A resource attribute counts too.
    let sink = Sink::<Traces>::new();
    let p = factory()
        .create(
            &settings::<Traces>(Kind::Processor, "tail_sampling"),
            &config(&policies("  - {name: s, type: string_attribute, string_attribute: {key: service.name, values: [checkout]}}")),
            sink.next(),
        )
        .unwrap();
    p.consume(request(
        vec![span(1, 0, 1)],
        vec![key_value("service.name", "checkout")],
    ))
    .await
    .unwrap();
    p.consume(request(
        vec![span(2, 0, 1)],
        vec![key_value("service.name", "cart")],
    ))
    .await
    .unwrap();
    p.consume(request(
        vec![span(1, 1, 2)],
        vec![key_value("service.name", "cart")],
    ))
    .await
    .unwrap();
    p.shutdown().await.unwrap();
    assert_eq!(kept(&sink), map(&[(1, 2)]));
}

#[tokio::test]
async fn rate_limiting_counts_spans_per_second() {
    let got = run(
        &policies("  - {name: r, type: rate_limiting, rate_limiting: {spans_per_second: 5}}"),
        vec![
            vec![span(1, 0, 1), span(2, 0, 1), span(3, 0, 1)],
            vec![span(1, 1, 2), span(1, 2, 3), span(2, 1, 2)],
        ],
    )
    .await;
    // Trace 1: 3 spans (3 < 5) kept; trace 2: 3 + 2 = 5, not below 5; trace 3: 3 + 1 = 4 kept.
    assert_eq!(got, map(&[(1, 3), (3, 1)]));
}

#[tokio::test]
async fn bytes_limiting_is_a_token_bucket_over_encoded_size() {
    let big = with(span(2, 0, 1), vec![key_value("blob", "x".repeat(2000))]);
    let got = run(
        &policies("  - {name: b, type: bytes_limiting, bytes_limiting: {bytes_per_second: 1, burst_capacity: 1000}}"),
        vec![vec![span(1, 0, 1), big, span(3, 0, 1)]],
    )
    .await;
    assert_eq!(got, map(&[(1, 1), (3, 1)]));
}

#[tokio::test]
async fn span_count_bounds_are_inclusive() {
    let got = run(
        &policies("  - {name: c, type: span_count, span_count: {min_spans: 2, max_spans: 3}}"),
        vec![
            vec![span(1, 0, 1), span(2, 0, 1), span(3, 0, 1), span(3, 0, 1)],
            vec![span(1, 0, 1), span(3, 0, 1), span(3, 0, 1)],
        ],
    )
    .await;
    assert_eq!(got, map(&[(1, 2)]));
}

#[tokio::test]
async fn trace_state_boolean_and_trace_flags() {
    let mut ts = span(1, 1, 2);
    ts.trace_state = "ot=th:8,vendor=x".into();
    let mut other = span(2, 1, 2);
    other.trace_state = "vendor=y".into();
    let got = run(
        &policies("  - {name: t, type: trace_state, trace_state: {key: vendor, values: [x]}}"),
        vec![vec![span(1, 0, 1), span(2, 0, 1)], vec![ts, other]],
    )
    .await;
    assert_eq!(got, map(&[(1, 2)]));

    let got = run(
        &policies(
            "  - {name: b, type: boolean_attribute, boolean_attribute: {key: b, value: true}}",
        ),
        vec![vec![
            with(span(1, 0, 1), vec![key_value("b", true)]),
            with(span(2, 0, 1), vec![key_value("b", false)]),
        ]],
    )
    .await;
    assert_eq!(got, map(&[(1, 1)]));

    let mut flagged = span(2, 0, 1);
    flagged.flags = 0x301;
    let got = run(
        &policies("  - {name: f, type: trace_flags}"),
        vec![vec![span(1, 0, 1), flagged]],
    )
    .await;
    assert_eq!(got, map(&[(2, 1)]));
}

#[tokio::test]
async fn ottl_condition_over_spans_and_span_events() {
    let mut evented = span(3, 1, 2);
    evented.events = vec![Event {
        name: "boom".into(),
        ..Default::default()
    }];
    let got = run(
        &policies(
            "  - name: o\n    type: ottl_condition\n    ottl_condition:\n      error_mode: ignore\n      span: ['attributes[\"k\"] == \"v\"']\n      spanevent: ['name == \"boom\"']",
        ),
        vec![
            vec![span(1, 0, 1), span(2, 0, 1), span(3, 0, 1)],
            vec![with(span(1, 1, 2), vec![key_value("k", "v")]), with(span(2, 1, 2), vec![key_value("k", "w")]), evented],
        ],
    )
    .await;
    assert_eq!(got, map(&[(1, 2), (3, 2)]));
}

#[tokio::test]
async fn and_needs_every_sub_policy() {
    let got = run(
        &policies(
            "  - name: a\n    type: and\n    and:\n      and_sub_policy:\n        - {name: n, type: numeric_attribute, numeric_attribute: {key: n, min_value: 10}}\n        - {name: s, type: string_attribute, string_attribute: {key: k, values: [v]}}",
        ),
        vec![
            vec![with(span(1, 0, 1), vec![key_value("n", 50i64)]), with(span(2, 0, 1), vec![key_value("n", 50i64)])],
            vec![with(span(1, 1, 2), vec![key_value("k", "v")]), with(span(3, 1, 2), vec![key_value("k", "v")])],
        ],
    )
    .await;
    assert_eq!(got, map(&[(1, 2)]));
}

#[tokio::test]
async fn drop_wins_over_every_sample() {
    let got = run(
        &policies(
            "  - {name: all, type: always_sample}\n  - name: d\n    type: drop\n    drop:\n      drop_sub_policy:\n        - {name: h, type: string_attribute, string_attribute: {key: url.path, values: ['^/health'], enabled_regex_matching: true}}",
        ),
        vec![vec![with(span(1, 0, 1), vec![key_value("url.path", "/healthz")]), span(2, 0, 1)], vec![span(1, 1, 2)]],
    )
    .await;
    assert_eq!(got, map(&[(2, 1)]));
}

#[tokio::test]
async fn composite_allocates_the_spans_per_second_budget() {
    let got = run(
        &policies(
            "  - name: c\n    type: composite\n    composite:\n      max_total_spans_per_second: 5\n      policy_order: [a, b]\n      composite_sub_policy:\n        - {name: a, type: string_attribute, string_attribute: {key: k, values: [a]}}\n        - {name: b, type: always_sample}\n      rate_allocation:\n        - {policy: a, percent: 60}\n        - {policy: b, percent: 40}",
        ),
        vec![
            vec![with(span(1, 0, 1), vec![key_value("k", "a")]), span(1, 0, 1), span(1, 0, 1)],
            vec![with(span(2, 0, 1), vec![key_value("k", "a")]), span(2, 0, 1)],
            vec![span(3, 0, 1)],
        ],
    )
    .await;
    // a: 3 spans fit its 3/s; trace 2 (2 spans) exceeds a's 3/s but fits b's 2/s;
    // trace 3 finds b spent.
    assert_eq!(got, map(&[(1, 3), (2, 2)]));
}

#[tokio::test]
async fn inverted_decisions_follow_gos_precedence() {
    // An inverted not-sample beats a sample.
    let got = run(
        &policies("  - {name: n, type: numeric_attribute, numeric_attribute: {key: n, min_value: 1, invert_match: true}}\n  - {name: all, type: always_sample}"),
        vec![vec![with(span(1, 0, 1), vec![key_value("n", 5i64)]), span(2, 0, 1)]],
    )
    .await;
    assert_eq!(got, map(&[(2, 1)]));
    // An inverted sample loses to a plain not-sample.
    let got = run(
        &policies("  - {name: s, type: string_attribute, string_attribute: {key: k, values: [x], invert_match: true}}\n  - {name: e, type: status_code, status_code: {status_codes: [ERROR]}}"),
        vec![vec![span(1, 0, 1)]],
    )
    .await;
    assert_eq!(got, map(&[]));
    // Alone, it samples.
    let got = run(
        &policies("  - {name: s, type: string_attribute, string_attribute: {key: k, values: [x], invert_match: true}}"),
        vec![vec![span(1, 0, 1)]],
    )
    .await;
    assert_eq!(got, map(&[(1, 1)]));
}

#[tokio::test]
async fn the_timer_decides_after_decision_wait_and_late_spans_follow() {
    let sink = Sink::<Traces>::new();
    let p = factory()
        .create(
            &settings::<Traces>(Kind::Processor, "tail_sampling"),
            &config("decision_wait: 100ms\npolicies: [{name: s, type: string_attribute, string_attribute: {key: k, values: [keep]}}]"),
            sink.next(),
        )
        .unwrap();
    p.start(&Host::default()).await.unwrap();
    p.consume(request(
        vec![
            with(span(1, 0, 1), vec![key_value("k", "keep")]),
            span(2, 0, 1),
        ],
        vec![],
    ))
    .await
    .unwrap();
    p.consume(request(vec![span(1, 1, 2), span(2, 1, 2)], vec![]))
        .await
        .unwrap();
    eventually("trace 1 is decided", Duration::from_secs(10), || {
        (kept(&sink) == map(&[(1, 2)])).then_some(())
    })
    .await;
    // Late spans: trace 1's are forwarded within the call, trace 2's dropped.
    p.consume(request(vec![span(1, 5, 6), span(2, 5, 6)], vec![]))
        .await
        .unwrap();
    assert_eq!(kept(&sink), map(&[(1, 3)]));
    p.shutdown().await.unwrap();
    assert_eq!(kept(&sink), map(&[(1, 3)]));
}

#[tokio::test]
async fn beyond_num_traces_the_oldest_trace_is_decided_early() {
    let sink = Sink::<Traces>::new();
    let s = settings::<Traces>(Kind::Processor, "tail_sampling");
    let p = Arc::new(
        TailSampler::new(
            &s,
            &config(
                "decision_wait: 1h\nnum_traces: 3\npolicies: [{name: all, type: always_sample}]",
            ),
            sink.next(),
        )
        .unwrap(),
    );
    for t in 1..=3 {
        p.consume(request(vec![span(t, 0, 1)], vec![]))
            .await
            .unwrap();
    }
    assert!(sink.accepted().is_empty());
    p.consume(request(vec![span(4, 0, 1)], vec![]))
        .await
        .unwrap();
    assert_eq!(
        kept(&sink),
        map(&[(1, 1)]),
        "trace 1 was decided to make room"
    );
    // Its late span follows the decision at once; the others still wait.
    p.consume(request(vec![span(1, 1, 2), span(2, 1, 2)], vec![]))
        .await
        .unwrap();
    assert_eq!(kept(&sink), map(&[(1, 2)]));
    // Many more traces: memory holds at most num_traces of them.
    for t in 5..=250u8 {
        p.consume(request(vec![span(t, 0, 1)], vec![]))
            .await
            .unwrap();
        assert!(p.pending() <= 3);
    }
    let early = s.metrics().render_prometheus();
    assert!(
        early.contains("otelcol_processor_tail_sampling_sampling_traces_decided_early"),
        "{early}"
    );
    p.shutdown().await.unwrap();
    assert_eq!(kept(&sink).len(), 250);
}

#[tokio::test]
async fn decision_caches_outlive_the_recent_decisions() {
    let sink = Sink::<Traces>::new();
    let p = factory()
        .create(
            &settings::<Traces>(Kind::Processor, "tail_sampling"),
            &config("decision_wait: 1h\nnum_traces: 1\ndecision_cache: {sampled_cache_size: 100, non_sampled_cache_size: 100}\npolicies: [{name: s, type: string_attribute, string_attribute: {key: k, values: [keep]}}]"),
            sink.next(),
        )
        .unwrap();
    p.consume(request(
        vec![with(span(1, 0, 1), vec![key_value("k", "keep")])],
        vec![],
    ))
    .await
    .unwrap();
    for t in 2..=20 {
        p.consume(request(vec![span(t, 0, 1)], vec![]))
            .await
            .unwrap();
    }
    // Trace 1 left the recent ring long ago; the sampled cache still knows it.
    p.consume(request(vec![span(1, 1, 2), span(2, 1, 2)], vec![]))
        .await
        .unwrap();
    assert_eq!(kept(&sink), map(&[(1, 2)]));
    p.shutdown().await.unwrap();
}

#[tokio::test]
async fn drop_pending_traces_on_shutdown_drops_them() {
    let got = run(
        "decision_wait: 1h\ndrop_pending_traces_on_shutdown: true\npolicies: [{name: all, type: always_sample}]",
        vec![vec![span(1, 0, 1)]],
    )
    .await;
    assert!(got.is_empty());
}

#[tokio::test]
async fn the_tail_sampling_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(
        factory(),
        "decision_wait: 1s\npolicies: [{name: all, type: always_sample}]",
    )
    .await;
}

mod split_across_batches {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// However a trace's spans are spread over requests (and interleaved with other
        /// traces), the decision is the one for the whole trace: here `span_count`
        /// keeps traces of 2 to 4 spans, whole.
        #[test]
        fn the_decision_does_not_depend_on_how_spans_are_batched(
            sizes in proptest::collection::vec(1usize..6, 1..8),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
            seed in any::<u64>(),
        ) {
            let mut spans: Vec<Span> = sizes
                .iter()
                .enumerate()
                .flat_map(|(t, n)| (0..*n).map(move |i| span(t as u8 + 1, i as u64, i as u64 + 1)))
                .collect();
            // Shuffle deterministically from the seed, then cut into batches.
            let mut x = seed | 1;
            for i in (1..spans.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                spans.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(spans.len() + 1)).collect();
            points.sort_unstable();
            points.dedup();
            let mut batches = Vec::new();
            let mut rest = spans;
            for p in points.iter().rev() {
                let tail = rest.split_off(*p);
                if !tail.is_empty() {
                    batches.push(tail);
                }
            }
            if !rest.is_empty() {
                batches.push(rest);
            }
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let got = runtime.block_on(run(
                &policies("  - {name: c, type: span_count, span_count: {min_spans: 2, max_spans: 4}}"),
                batches,
            ));
            let want: BTreeMap<u8, usize> = sizes
                .iter()
                .enumerate()
                .filter(|(_, n)| (2..=4).contains(*n))
                .map(|(t, n)| (t as u8 + 1, *n))
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
