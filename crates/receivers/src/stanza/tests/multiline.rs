//! `recombine` and `container`: lines combined across entries, with Docker and CRI
//! fixtures and the Kubernetes operators of the Helm chart.

use super::*;

#[test]
fn recombine_is_first_entry_stack_traces() {
    let mut p = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: 'body matches \"^[^\\\\s]\"'}\n",
    );
    let out = feed(
        &mut p,
        &[
            "Log message 1",
            "Error: java.lang.Exception: Stack trace",
            "        at Main.demo3(Main.java:15)",
            "        at Main.main(Main.java:3)",
            "Another log message",
        ],
    );
    assert_eq!(
        bodies(&out),
        [
            "Log message 1",
            "Error: java.lang.Exception: Stack trace\n        at Main.demo3(Main.java:15)\n        at Main.main(Main.java:3)",
            "Another log message"
        ]
    );
}

#[test]
fn recombine_max_unmatched_batch_size_upstream_cases() {
    let lines = [
        "log2", "log3", "log4", "log5", "log1", "log6", "log7", "log1", "log8", "log1",
    ];
    let mut first = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: \"body == 'log1'\", max_unmatched_batch_size: 3}\n",
    );
    assert_eq!(
        bodies(&feed(&mut first, &lines)),
        [
            "log2\nlog3\nlog4",
            "log5",
            "log1\nlog6\nlog7",
            "log1\nlog8",
            "log1"
        ]
    );
    let mut last = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_last_entry: \"body == 'log1'\", max_unmatched_batch_size: 3}\n",
    );
    assert_eq!(
        bodies(&feed(&mut last, &lines)),
        [
            "log2\nlog3\nlog4",
            "log5\nlog1",
            "log6\nlog7\nlog1",
            "log8\nlog1"
        ]
    );
    let lines = [
        "log2", "log3", "log4", "log1", "log5", "log6", "log7", "log1",
    ];
    let mut zero = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: \"body == 'log1'\", max_unmatched_batch_size: 0}\n",
    );
    assert_eq!(
        bodies(&feed(&mut zero, &lines)),
        ["log2\nlog3\nlog4", "log1\nlog5\nlog6\nlog7", "log1"]
    );
}

#[test]
fn recombine_cri_partials_by_source_and_limits() {
    let yaml = r#"operators:
  - type: regex_parser
    regex: '^(?P<timestamp>[^\s]+) (?P<stream>\w+) (?P<logtag>\w) (?P<message>.*)'
    parse_to: body
  - type: recombine
    combine_field: body.message
    combine_with: ""
    is_last_entry: "body.logtag == 'F'"
    source_identifier: body.stream
"#;
    let mut p = pipeline(yaml);
    let out = feed(
        &mut p,
        &[
            "2016-10-06T00:17:09.669794202Z stdout F Single entry log 1",
            "2016-10-06T00:17:10.113242941Z stdout P This is a very very long line th",
            "2016-10-06T00:17:10.113242941Z stderr F err",
            "2016-10-06T00:17:10.113242941Z stdout P at is really really long and spa",
            "2016-10-06T00:17:10.113242941Z stdout F ns across multiple log entries",
        ],
    );
    let messages: Vec<String> = out
        .iter()
        .map(|e| {
            Field::parse("body.message")
                .unwrap()
                .get(e)
                .unwrap()
                .to_text()
        })
        .collect();
    assert_eq!(
        messages,
        [
            "Single entry log 1",
            "err",
            "This is a very very long line that is really really long and spans across multiple log entries"
        ]
    );
    // max_batch_size bounds what one source holds.
    let mut p = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: 'false', max_batch_size: 2, max_unmatched_batch_size: 0}\n",
    );
    assert_eq!(bodies(&feed(&mut p, &["a", "b", "c"])), ["a\nb", "c"]);
    // max_log_size flushes once the combined field is that large.
    let mut p = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: 'false', max_log_size: 5, max_unmatched_batch_size: 0}\n",
    );
    assert_eq!(
        bodies(&feed(&mut p, &["abc", "def", "g"])),
        ["abc\ndef", "g"]
    );
}

#[test]
fn recombine_force_flush_period() {
    let mut p = pipeline(
        "operators:\n  - {type: recombine, combine_field: body, is_first_entry: 'true', force_flush_period: 1s}\n",
    );
    let mut out = Vec::new();
    p.process(Entry::new("held"), &mut out);
    assert!(out.is_empty());
    p.flush(now_nanos(), &mut out);
    assert!(out.is_empty(), "not due yet");
    p.flush(now_nanos() + 2_000_000_000, &mut out);
    assert_eq!(bodies(&out), ["held"]);
    let error = build_error("operators:\n  - {type: recombine, combine_field: body}\n");
    assert!(error.contains("exactly one of"), "{error}");
}

#[test]
fn container_docker_fixture_recombines_partial_lines() {
    let mut p = pipeline("operators:\n  - type: container\n");
    let out = run_all(&mut p, pod_log_entries("docker.log"));
    assert_eq!(
        bodies(&out),
        [
            "INFO: starting",
            "ERROR: boom",
            "a very long line that docker split at 16K: part one, part two, and the end"
        ]
    );
    assert_eq!(out[0].timestamp, 1_711_787_480_545_192_187);
    assert_eq!(out[1].attributes["log.iostream"], Value::from("stderr"));
    assert!(!out[0].attributes.contains_key("logtag"));
    assert_eq!(
        out[0].resource,
        map(&[
            ("k8s.pod.name", "kube-controller-kind-control-plane".into()),
            ("k8s.pod.uid", "49cc7c1fd3702c40b2686ea7486091d6".into()),
            ("k8s.container.name", "kube-controller".into()),
            ("k8s.container.restart_count", "1".into()),
            ("k8s.namespace.name", "some".into()),
        ])
    );
    // Nothing of the operator's own bookkeeping leaks out.
    assert!(out.iter().all(|e| e.attributes.len() == 2), "{out:?}");
}

#[test]
fn container_cri_fixture_recombines_partial_lines() {
    let mut p = pipeline("operators:\n  - type: container\n");
    let out = run_all(&mut p, pod_log_entries("cri.log"));
    assert_eq!(
        bodies(&out),
        [
            "standalone containerd line that is super awesome",
            "multiline containerd line that is super awesomne",
            "standalone crio line which is awesome",
            "crio partial, then final"
        ]
    );
    assert_eq!(out[1].timestamp, 1_687_429_645_813_799_277);
    assert_eq!(out[2].timestamp, 1_713_013_177_505_201_169);
    assert_eq!(out[1].attributes["logtag"], Value::from("F"));
    assert_eq!(out[3].attributes["log.iostream"], Value::from("stderr"));
    assert_eq!(out[3].resource["k8s.namespace.name"], Value::from("some"));
}

#[test]
fn container_errors_and_options() {
    // Without log.file.path the metadata cannot be read: sent on unchanged.
    let line = "2023-06-22T10:27:25.813799277Z stdout F x";
    let out = one("operators:\n  - type: container\n", Entry::new(line));
    assert_eq!(out.body, Value::from(line));
    let out = one(
        "operators:\n  - {type: container, add_metadata_from_filepath: false, format: containerd}\n",
        Entry::new(line),
    );
    assert_eq!(out.body, Value::from("x"));
    assert!(out.resource.is_empty());
    // Application JSON without Docker's `time` is not a Docker line.
    let out = one(
        "operators:\n  - {type: container, add_metadata_from_filepath: false}\n",
        Entry::new(r#"{"level":"info"}"#),
    );
    assert_eq!(out.body, Value::from(r#"{"level":"info"}"#));
    // max_log_size bounds a line that never ends.
    let mut p = pipeline(
        "operators:\n  - {type: container, add_metadata_from_filepath: false, max_log_size: 10}\n",
    );
    let partial = "2023-06-22T10:27:25.813799277Z stdout P 123456";
    let out = run_all(
        &mut p,
        vec![
            Entry::new(partial),
            Entry::new(partial),
            Entry::new(partial),
        ],
    );
    assert_eq!(bodies(&out), ["123456123456", "123456"]);
    let error = build_error("operators:\n  - {type: container, format: podman}\n");
    assert!(error.contains("invalid format"), "{error}");
}

#[test]
fn the_helm_charts_kubernetes_operators_run_unchanged() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/stanza/testdata/k8s-operators.yaml");
    let mut p = pipeline(&std::fs::read_to_string(path).unwrap());
    let mut entries = pod_log_entries("cri.log");
    entries.truncate(1);
    entries.push(pod_log_entries("cri.log").remove(3));
    entries.push(pod_log_entries("docker.log").remove(0));
    let out = run_all(&mut p, entries);
    assert_eq!(
        bodies(&out),
        [
            "standalone containerd line that is super awesome",
            "standalone crio line which is awesome",
            "INFO: starting\n"
        ]
    );
    assert_eq!(
        out.iter().map(|e| e.timestamp).collect::<Vec<_>>(),
        [
            1_687_429_645_813_799_277,
            1_713_013_177_505_201_169,
            1_711_787_480_545_192_187
        ]
    );
    for entry in &out {
        assert_eq!(
            entry.resource["k8s.pod.uid"],
            Value::from("49cc7c1fd3702c40b2686ea7486091d6")
        );
        assert_eq!(
            entry.resource["k8s.container.restart_count"],
            Value::from("1")
        );
        assert_eq!(entry.attributes["log.iostream"], Value::from("stdout"));
        assert!(!entry.attributes.contains_key("time"));
    }
}
