//! Config, decision and vector tests of the probabilistic sampler. The vectors are the
//! upstream Go tests' (`tracesprocessor_test.go`: `Test_tracesamplerprocessor_TraceState`,
//! `..._HashSeedTraceState`, `..._SpanSamplingPriority`, `..._MissingRandomness`).

use tributary_pipeline_core::component::{Kind, load_config};
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::pdata::{Logs, Traces};
use tributary_pipeline_core::testing::{Sink, settings};

use super::sampler::{Decider, randomness_from_bytes};
use super::{Config, Mode, factory};
use crate::sampling::{Threshold, W3cTraceState, fnv32a_seeded};

fn config(yaml: &str) -> Config {
    load_config::<Config>(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn tid(hex: &str) -> Vec<u8> {
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn span(trace_id: Vec<u8>, trace_state: &str, attributes: Vec<KeyValue>) -> Span {
    Span {
        trace_id,
        span_id: vec![0, 0, 0, 0, 0xfe, 0xfe, 0xfe, 0xfe],
        trace_state: trace_state.to_string(),
        name: "s".into(),
        attributes,
        ..Default::default()
    }
}

/// Runs one span through a decider: `Some(trace state)` when kept.
fn decide(config: &Config, mut s: Span) -> Option<String> {
    Decider::new(config, false)
        .span(&mut s)
        .then_some(s.trace_state)
}

fn cfg(pct: f32, mode: Mode, precision: u8, fail_closed: bool) -> Config {
    Config {
        sampling_percentage: pct,
        mode,
        hash_seed: 4312,
        sampling_precision: precision,
        fail_closed,
        ..Config::default()
    }
}

#[test]
fn defaults_and_validation_follow_go() {
    let c = config("");
    assert_eq!(c.sampling_percentage, 0.0);
    assert!(c.fail_closed);
    assert_eq!(c.sampling_precision, 4);
    assert_eq!(c.effective_mode(false), Mode::Proportional);
    assert_eq!(config("hash_seed: 3").effective_mode(false), Mode::HashSeed);
    assert_eq!(
        config("attribute_source: record").effective_mode(true),
        Mode::HashSeed
    );
    for (yaml, key) in [
        ("sampling_percentage: -1", "sampling_percentage"),
        ("sampling_percentage: .inf", "sampling_percentage"),
        ("sampling_percentage: 1e-20", "sampling_percentage"),
        ("sampling_precision: 0", "sampling_precision"),
        ("sampling_precision: 15", "sampling_precision"),
        ("mode: random", "mode"),
        ("attribute_source: body", "attribute_source"),
        ("bogus: 1", "bogus"),
    ] {
        let e = load_config::<Config>(yaml).unwrap_err().to_string();
        assert!(e.contains(key), "{yaml}: {e}");
    }
    assert_eq!(
        config("sampling_percentage: 200").sampling_percentage,
        200.0
    );
}

/// Go `Test_tracesamplerprocessor_TraceState`, both consistent modes.
#[test]
fn consistent_modes_match_the_go_trace_state_vectors() {
    let default_tid = tid("fefefefefefefefefe80000000000000");
    let improbable = tid("111111111111111111ffffffffffffff");
    use Mode::{Equalizing as E, Proportional as P};
    // (name, trace id, percentage, precision, arriving ts, attrs, equalizing, proportional)
    type Case<'a> = (
        &'a str,
        Vec<u8>,
        f32,
        u8,
        &'a str,
        Option<Option<&'a str>>,
        Option<&'a str>,
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "100",
            default_tid.clone(),
            100.0,
            4,
            "",
            None,
            Some("ot=th:0"),
            Some("ot=th:0"),
        ),
        (
            "50 sampled",
            default_tid.clone(),
            50.0,
            4,
            "",
            None,
            Some("ot=th:8"),
            Some("ot=th:8"),
        ),
        (
            "25 sampled",
            tid("ddddddddddddddddddc0000000000000"),
            25.0,
            4,
            "",
            None,
            Some("ot=th:c"),
            Some("ot=th:c"),
        ),
        (
            "25 unsampled",
            tid("ddddddddddddddddddb0000000000000"),
            25.0,
            4,
            "",
            None,
            None,
            None,
        ),
        (
            "1 full precision",
            default_tid.clone(),
            1.0,
            0,
            "ot=rv:FD70A3D70A3D71",
            None,
            Some("ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"),
            Some("ot=rv:FD70A3D70A3D71;th:fd70a3d70a3d71"),
        ),
        (
            "1 precision 4",
            default_tid.clone(),
            1.0,
            4,
            "ot=rv:FD70A3D70A3D71",
            None,
            Some("ot=rv:FD70A3D70A3D71;th:fd70a"),
            Some("ot=rv:FD70A3D70A3D71;th:fd70a"),
        ),
        (
            "1 precision 3",
            default_tid.clone(),
            1.0,
            3,
            "ot=rv:FD70A3D70A3D71",
            None,
            None,
            None,
        ),
        (
            "1 not sampled",
            default_tid.clone(),
            1.0,
            0,
            "ot=rv:FD70A3D70A3D70",
            None,
            None,
            None,
        ),
        (
            "49 not sampled",
            default_tid.clone(),
            49.0,
            4,
            "",
            None,
            None,
            None,
        ),
        (
            "1 with tid",
            tid("a0a0a0a0a0a0a0a0a0fe000000000000"),
            1.0,
            4,
            "",
            None,
            Some("ot=th:fd70a"),
            Some("ot=th:fd70a"),
        ),
        (
            "incoming 50 rv",
            default_tid.clone(),
            50.0,
            4,
            "ot=rv:90000000000000;th:80000000000000",
            None,
            Some("ot=rv:90000000000000;th:8"),
            None,
        ),
        (
            "incoming 50 at 25",
            default_tid.clone(),
            25.0,
            4,
            "ot=th:8",
            None,
            None,
            None,
        ),
        (
            "incoming 50 at 25 sampled",
            tid("ffffffffffffffffffffffffffffffff"),
            25.0,
            4,
            "ot=th:8",
            None,
            Some("ot=th:c"),
            Some("ot=th:e"),
        ),
        (
            "equalizing vs proportional",
            default_tid.clone(),
            50.0,
            4,
            "ot=rv:c0000000000000;th:8",
            None,
            Some("ot=rv:c0000000000000;th:8"),
            Some("ot=rv:c0000000000000;th:c"),
        ),
        (
            "40 precision 3 rv",
            default_tid.clone(),
            40.0,
            3,
            "ot=rv:a0000000000000",
            None,
            Some("ot=rv:a0000000000000;th:99a"),
            Some("ot=rv:a0000000000000;th:99a"),
        ),
        (
            "50 at 40 precision 6",
            tid("a0a0a0a0a0a0a0a0a0d0000000000000"),
            40.0,
            6,
            "ot=th:8",
            None,
            Some("ot=th:99999a"),
            Some("ot=th:cccccd"),
        ),
        (
            "50 at 40 partly",
            tid("a0a0a0a0a0a0a0a0a0b0000000000000"),
            40.0,
            3,
            "ot=th:8",
            None,
            Some("ot=th:99a"),
            None,
        ),
        (
            "50 at 40 not",
            tid("a0a0a0a0a0a0a0a0a080000000000000"),
            40.0,
            3,
            "ot=th:8",
            None,
            None,
            None,
        ),
        (
            "200 is 100",
            default_tid.clone(),
            200.0,
            4,
            "",
            None,
            Some("ot=th:0"),
            Some("ot=th:0"),
        ),
        (
            "tiny rounding",
            improbable.clone(),
            100.0 * 2f32.powi(-14),
            4,
            "ot=th:fffc",
            None,
            Some("ot=th:fffc"),
            Some("ot=th:fffffff"),
        ),
        (
            "underflow",
            improbable.clone(),
            2f32.powi(-4),
            4,
            "ot=th:fffffffffffff8",
            None,
            Some("ot=th:fffffffffffff8"),
            None,
        ),
        (
            "priority keeps",
            default_tid.clone(),
            1.0,
            4,
            "",
            Some(Some("2")),
            Some("ot=th:0"),
            Some("ot=th:0"),
        ),
        (
            "priority drops",
            default_tid.clone(),
            99.0,
            4,
            "",
            Some(Some("0")),
            None,
            None,
        ),
    ];
    for (name, trace_id, pct, precision, ts, priority, want_e, want_p) in cases {
        let attrs = match priority {
            Some(Some(v)) => vec![key_value("sampling.priority", v.parse::<i64>().unwrap())],
            _ => vec![],
        };
        for (mode, want) in [(E, want_e), (P, want_p)] {
            let got = decide(
                &cfg(pct, mode, precision, false),
                span(trace_id.clone(), ts, attrs.clone()),
            );
            assert_eq!(got.as_deref(), want, "{name} ({mode:?})");
        }
    }
}

/// Go `Test_tracesamplerprocessor_TraceStateErrors`: with fail_closed nothing passes.
#[test]
fn invalid_or_inconsistent_trace_state_fails_closed() {
    let default_tid = tid("fefefefefefefefefe80000000000000");
    for (trace_id, ts) in [
        (vec![0; 16], ""),
        (default_tid.clone(), "ot=rv:abababababababab"),
        (default_tid.clone(), "ot=th:abababababababab"),
        (default_tid.clone(), "ot=th:-1"),
        (tid("ffffffffffffffffff70000000000000"), "ot=th:8"),
        (default_tid.clone(), "ot=th:8;rv:70000000000000"),
    ] {
        for mode in [Mode::Equalizing, Mode::Proportional] {
            assert_eq!(
                decide(
                    &cfg(100.0, mode, 4, true),
                    span(trace_id.clone(), ts, vec![])
                ),
                None,
                "{ts}"
            );
        }
    }
    // Fail open: the inconsistent threshold is cleared, then replaced.
    assert_eq!(
        decide(
            &cfg(100.0, Mode::Equalizing, 4, false),
            span(default_tid, "ot=rv:40000000000000;th:8", vec![])
        )
        .as_deref(),
        Some("ot=rv:40000000000000;th:0")
    );
}

/// Go `Test_tracessamplerprocessor_MissingRandomness` (hash seed 4312, an all-zero ID).
#[test]
fn missing_randomness_follows_fail_closed() {
    for (pct, fail_closed, sampled) in [
        (0.0, true, false),
        (62.0, true, false),
        (100.0, true, false),
        (0.0, false, false),
        (62.0, false, true),
        (100.0, false, true),
    ] {
        let c = Config {
            sampling_percentage: pct,
            hash_seed: 4312,
            fail_closed,
            ..Config::default()
        };
        // hash_seed set → hash_seed mode, which hashes even an empty ID; Go's test
        // expects "missing randomness" there only in the consistent modes, so use those.
        for mode in [Mode::Equalizing, Mode::Proportional] {
            let c = Config { mode, ..c.clone() };
            assert_eq!(
                decide(&c, span(vec![0; 16], "", vec![])).is_some(),
                sampled,
                "{pct} {fail_closed} {mode:?}"
            );
        }
    }
}

/// Hash-seed decisions equal Go's legacy rule: FNV-1a(seed LE ‖ trace ID) & 0x3fff <
/// ⌊pct × 163.84⌋ (float32), and the written `th` is Go's (`Test_..._HashSeedTraceState`).
#[test]
fn hash_seed_mode_makes_gos_decisions() {
    for (pct, tv) in [
        (100.0f32, "0"),
        (75.0, "4"),
        (50.0, "8"),
        (25.0, "c"),
        (10.0, "e668"),
        (100.0 / 3.0, "aaac"),
    ] {
        let c = cfg(pct, Mode::HashSeed, 4, true);
        let scaled = (pct * 163.84f32) as u32;
        let mut kept = 0;
        for i in 0u64..4000 {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&i.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
            id[8..].copy_from_slice(
                &(i ^ 0xdead_beef)
                    .wrapping_mul(0xff51_afd7_ed55_8ccd)
                    .to_be_bytes(),
            );
            let legacy = fnv32a_seeded(&id, 4312) & 0x3fff < scaled;
            let got = decide(&c, span(id.to_vec(), "", vec![]));
            assert_eq!(got.is_some(), legacy, "{pct} {id:?}");
            if let Some(ts) = got {
                kept += 1;
                let ts = W3cTraceState::parse(&ts).unwrap();
                let (text, t) = ts.otel.tvalue.clone().unwrap();
                assert_eq!(text, tv);
                let r = ts.otel.randomness().unwrap();
                assert_eq!(r, randomness_from_bytes(&id, 4312));
                assert!(t.should_sample(r));
            }
        }
        assert!(kept > 0);
    }
    // A span arriving with rv is an error in hash_seed mode.
    let c = cfg(100.0, Mode::HashSeed, 4, true);
    assert_eq!(
        decide(&c, span(vec![1; 16], "ot=rv:00000000000001", vec![])),
        None
    );
    // The Go vector: empty input with seed 0 falls in bucket 0x3515 (83 %).
    assert_eq!(fnv32a_seeded(&[], 0) & 0x3fff, 0x3515);
    assert!(Threshold::from_unsigned((16384 - 8192) << 42).tvalue() == "8");
}

/// Go `Test_tracesamplerprocessor_SpanSamplingPriority`, every mode.
#[test]
fn span_sampling_priority_forces_the_decision() {
    let p = |v: KeyValue| vec![v];
    for mode in [Mode::HashSeed, Mode::Equalizing, Mode::Proportional] {
        for (pct, attrs, sampled) in [
            (0.0, p(key_value("sampling.priority", 2i64)), true),
            (0.0, p(key_value("sampling.priority", 1.0)), true),
            (0.0, p(key_value("sampling.priority", "1")), true),
            (100.0, p(key_value("sampling.priority", 0i64)), false),
            (100.0, p(key_value("sampling.priority", 0.0)), false),
            (100.0, p(key_value("sampling.priority", "0")), false),
            (0.0, p(key_value("no.sampling.priority", 2i64)), false),
            (100.0, p(key_value("no.sampling.priority", 2i64)), true),
            (100.0, p(key_value("sampling.priority", "NaN")), true),
        ] {
            let got = decide(
                &cfg(pct, mode, 4, true),
                span(vec![7; 16], "", attrs.clone()),
            );
            assert_eq!(got.is_some(), sampled, "{mode:?} {pct} {attrs:?}");
        }
    }
}

fn log(trace_id: Vec<u8>, attributes: Vec<KeyValue>) -> LogRecord {
    LogRecord {
        trace_id,
        attributes,
        ..Default::default()
    }
}

#[test]
fn logs_hash_the_record_attribute_and_honour_priority() {
    let c = config(
        "sampling_percentage: 50\nattribute_source: record\nfrom_attribute: id\nsampling_priority: prio\nhash_seed: 7",
    );
    let decider = Decider::new(&c, true);
    let mut kept = 0;
    for i in 0..2000i64 {
        let mut record = log(vec![], vec![key_value("id", i)]);
        let legacy = fnv32a_seeded(i.to_string().as_bytes(), 7) & 0x3fff < 8192;
        let sampled = decider.log(&mut record);
        assert_eq!(sampled, legacy, "{i}");
        if sampled {
            kept += 1;
            assert!(
                record
                    .attributes
                    .iter()
                    .any(|kv| kv.key == "sampling.threshold")
            );
            assert!(
                record
                    .attributes
                    .iter()
                    .any(|kv| kv.key == "sampling.randomness")
            );
        }
        // Priority 100 keeps everything, 0 drops everything.
        let mut record = log(vec![], vec![key_value("id", i), key_value("prio", 100i64)]);
        assert!(decider.log(&mut record));
        let mut record = log(vec![], vec![key_value("id", i), key_value("prio", 0i64)]);
        assert!(!decider.log(&mut record));
    }
    assert!((800..1200).contains(&kept), "{kept}");
    // Without randomness (no attribute), fail_closed drops.
    assert!(!decider.log(&mut log(vec![], vec![])));
}

#[test]
fn logs_use_the_trace_id_in_consistent_modes() {
    let c = config("sampling_percentage: 50\nmode: equalizing");
    let decider = Decider::new(&c, true);
    let mut kept = log(tid("000000000000000000c0000000000000"), vec![]);
    assert!(decider.log(&mut kept));
    assert!(
        kept.attributes
            .iter()
            .any(|kv| kv.key == "sampling.threshold")
    );
    assert!(!decider.log(&mut log(tid("00000000000000000070000000000000"), vec![])));
    // An arriving threshold the randomness contradicts: fail closed.
    let mut bad = log(
        tid("00000000000000000070000000000000"),
        vec![key_value("sampling.threshold", "8")],
    );
    assert!(!decider.log(&mut bad));
}

#[tokio::test]
async fn the_processor_filters_requests_and_drops_empty_ones() {
    let sink = Sink::<Traces>::new();
    let s = settings::<Traces>(Kind::Processor, "probabilistic_sampler");
    let p = factory()
        .create(
            &s,
            &config("sampling_percentage: 50\nmode: equalizing"),
            sink.next(),
        )
        .unwrap();
    let request = |ids: &[&str]| {
        Traces::new(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: ids.iter().map(|h| span(tid(h), "", vec![])).collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    };
    p.consume(request(&[
        "000000000000000000c0000000000000",
        "00000000000000000010000000000000",
    ]))
    .await
    .unwrap();
    p.consume(request(&["00000000000000000010000000000000"]))
        .await
        .unwrap();
    let accepted = sink.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].item_count(), 1);

    let logs_sink = Sink::<Logs>::new();
    let l = factory()
        .create(
            &settings::<Logs>(Kind::Processor, "probabilistic_sampler"),
            &config("sampling_percentage: 100"),
            logs_sink.next(),
        )
        .unwrap();
    l.consume(Logs::new(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records: vec![log(tid("000000000000000000c0000000000000"), vec![])],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }))
    .await
    .unwrap();
    assert_eq!(logs_sink.accepted().len(), 1);
}

#[tokio::test]
async fn the_probabilistic_sampler_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "sampling_percentage: 10").await;
}
