//! What makes a running collector unhealthy, and what is only reported: panics, stalls,
//! exporter failures, recoverable errors, refused reloads.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::harness::*;
use crate::test_support::eventually;

#[tokio::test]
async fn a_pipeline_whose_exporter_panics_is_named_until_a_reload_replaces_it() {
    let two_pipelines = |b_exporter: &str| {
        config(
            "{ endpoint: 127.0.0.1:0 }",
            "  scripted/boom: { on_consume: panic }\n",
            &format!(
                "{ONE_PIPELINE}    traces/b: {{ receivers: [test_in/b], exporters: [{b_exporter}] }}\n"
            ),
        )
    };
    let h = start(&two_pipelines("scripted/boom")).await;
    assert!(h.send("test_in/b").await.is_err());

    let body = h.health_until(503).await;
    assert_eq!(
        strings(&body["problems"]),
        ["pipeline traces/b: PermanentError: panicked: boom"]
    );
    let b = &body["pipelines"]["traces/b"];
    assert_eq!(b["healthy"], false);
    assert_eq!(b["status"], "PermanentError");
    assert_eq!(b["error"], "panicked: boom");
    assert_eq!(body["pipelines"]["traces"]["healthy"], true);
    h.send("test_in").await.unwrap();
    assert_eq!(
        h.sinks.received("mem").len(),
        1,
        "the other pipeline delivers"
    );

    h.rewrite(&two_pipelines("mem"));
    h.collector.reload().await.unwrap();
    let (code, body) = h.health().await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(body["pipelines"]["traces/b"]["status"], "OK");
    h.stop().await;
}

#[tokio::test]
async fn a_panicked_component_task_makes_the_pipelines_it_serves_unhealthy() {
    let h = start(&config(
        "{ endpoint: 127.0.0.1:0 }",
        "  scripted/task: { panic_task_at_start: true }\n",
        "    traces: { receivers: [test_in], exporters: [mem, scripted/task] }\n    \
         traces/b: { receivers: [test_in/b], exporters: [mem] }\n",
    ))
    .await;

    let (code, body) = h.health().await;
    assert_eq!(code, 503, "{body:#}");
    assert_eq!(
        strings(&body["problems"]),
        ["pipeline traces: exporter scripted/task: PermanentError: task panicked: task boom"]
    );
    let task = &body["components"]["exporters"]["scripted/task"];
    assert_eq!(task["status"], "PermanentError");
    assert_eq!(task["healthy"], false);
    assert_eq!(strings(&task["pipelines"]), ["traces"]);
    assert_eq!(body["pipelines"]["traces"]["healthy"], false);
    assert_eq!(body["pipelines"]["traces/b"]["healthy"], true);
    h.stop().await;
}

#[tokio::test]
async fn a_stalled_pipeline_is_unhealthy_until_a_call_completes() {
    let h = start(&config(
        "{ endpoint: 127.0.0.1:0, stall_timeout: 200ms }",
        "  scripted/stuck: { on_consume: block }\n",
        "    traces: { receivers: [test_in], exporters: [scripted/stuck] }\n    \
         traces/b: { receivers: [test_in/b], exporters: [mem] }\n",
    ))
    .await;
    let call = h.send_later("test_in");

    let body = h.health_until(503).await;
    let problems = strings(&body["problems"]);
    assert_eq!(problems.len(), 1, "{body:#}");
    assert!(
        problems[0]
            .starts_with("pipeline traces: stalled: 1 call in flight and none completed for"),
        "{body:#}"
    );
    assert!(
        problems[0].ends_with("(stall_timeout is 200ms)"),
        "{body:#}"
    );
    let traces = &body["pipelines"]["traces"];
    assert_eq!(traces["stalled"], true);
    assert_eq!(traces["inflight"], 1);
    assert_eq!(body["pipelines"]["traces/b"]["healthy"], true);

    h.controls.calls.add_permits(1);
    call.await.unwrap().unwrap();
    assert_eq!(h.controls.delivered.load(Ordering::SeqCst), 1);
    let body = h.health_until(200).await;
    assert_eq!(body["pipelines"]["traces"]["stalled"], false);
    assert_eq!(body["pipelines"]["traces"]["completed"], 1);
    h.stop().await;
}

/// Issue 11, defect 1: requests queued at a receiver's intake, none admitted, used to
/// leave the health check answering 200.
#[tokio::test]
async fn a_component_whose_tracked_work_stalls_makes_its_pipelines_unhealthy() {
    let h = start(&config(
        "{ endpoint: 127.0.0.1:0, stall_timeout: 200ms }",
        "  scripted/intake: { stall_progress_at_start: true }\n",
        "    traces: { receivers: [test_in], exporters: [scripted/intake] }\n    \
         traces/b: { receivers: [test_in/b], exporters: [mem] }\n",
    ))
    .await;
    let body = h.health_until(503).await;
    let problems = strings(&body["problems"]);
    assert_eq!(problems.len(), 1, "{body:#}");
    assert!(
        problems[0].starts_with(
            "pipeline traces: exporter scripted/intake: stalled: 1 in flight (requests waiting \
             for admission) and none done for"
        ),
        "{body:#}"
    );
    assert_eq!(body["pipelines"]["traces/b"]["healthy"], true);
    h.controls.calls.add_permits(1);
    h.health_until(200).await;
    h.stop().await;
}

#[tokio::test]
async fn an_idle_pipeline_is_not_stalled_and_a_new_call_starts_a_new_clock() {
    let h = start(&config(
        "{ endpoint: 127.0.0.1:0, stall_timeout: 100ms }",
        "  scripted/slow: { on_consume: block }\n",
        "    traces: { receivers: [test_in], exporters: [scripted/slow] }\n",
    ))
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (code, body) = h.health().await;
    assert_eq!(code, 200, "idle for longer than stall_timeout: {body:#}");

    let call = h.send_later("test_in");
    let health = h.collector.health().clone();
    let traces = "traces".parse().unwrap();
    eventually("the call to be in flight", || {
        health.pipelines()[&traces].progress.inflight == 1
    })
    .await;
    let progress = health.pipelines()[&traces].progress;
    // The pipeline has been idle since it started, at least 300ms; the call has only been
    // in flight since it entered, after that.
    assert!(
        progress.idle_for >= Duration::from_millis(300),
        "{progress:?}"
    );
    assert!(
        progress.idle_for - progress.busy_for >= Duration::from_millis(250),
        "{progress:?}"
    );
    assert_eq!(progress.stalled_for(), progress.busy_for);

    h.controls.calls.add_permits(1);
    call.await.unwrap().unwrap();
    h.stop().await;
}

#[tokio::test]
async fn a_refused_reload_is_reported_while_the_pipelines_keep_delivering() {
    let yaml = config("{ endpoint: 127.0.0.1:0 }", "", ONE_PIPELINE);
    let h = start(&yaml).await;
    h.send("test_in").await.unwrap();

    h.rewrite(
        &yaml
            .replace("[mem]", "[nope]")
            .replace("  mem: {}", "  nope: {}"),
    );
    let error = h.collector.reload().await.unwrap_err();
    assert!(error.to_string().contains("exporters::nope"), "{error}");

    let (code, body) = h.health().await;
    assert_eq!(code, 200, "the running pipelines are intact: {body:#}");
    let reload = &body["last_reload"];
    assert_eq!(reload["ok"], false);
    assert!(
        reload["error"]
            .as_str()
            .unwrap()
            .contains("exporters::nope: unknown exporter type"),
        "{body:#}"
    );
    assert!(reload["at"].as_str().unwrap().ends_with('Z'));
    let warnings = strings(&body["warnings"]);
    assert!(
        warnings[0].contains("was refused") && warnings[0].contains("exporters::nope"),
        "{body:#}"
    );
    h.send("test_in").await.unwrap();
    assert_eq!(
        h.sinks.received("mem").len(),
        2,
        "the pipeline still delivers"
    );
    h.stop().await;
}

#[tokio::test]
async fn unhealthy_on_failed_reload_counts_until_a_reload_succeeds() {
    let yaml = config(
        "{ endpoint: 127.0.0.1:0, unhealthy_on_failed_reload: true }",
        "",
        ONE_PIPELINE,
    );
    let h = start(&yaml).await;

    h.rewrite(&yaml.replace("[mem]", "[nope]"));
    h.collector.reload().await.unwrap_err();
    let (code, body) = h.health().await;
    assert_eq!(code, 503, "{body:#}");
    assert!(
        strings(&body["problems"])[0].contains("was refused"),
        "{body:#}"
    );

    h.rewrite(&yaml);
    h.collector.reload().await.unwrap();
    let (code, body) = h.health().await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(body["last_reload"]["ok"], true);
    h.send("test_in").await.unwrap();
    h.stop().await;
}

#[tokio::test]
async fn exporter_failures_beyond_the_threshold_make_their_pipeline_unhealthy() {
    let h = start(&config(
        "{ endpoint: 127.0.0.1:0, check_collector_pipeline: { enabled: true, interval: 1m, exporter_failure_threshold: 2 } }",
        "  scripted/down: { on_consume: fail }\n",
        "    traces: { receivers: [test_in], exporters: [mem] }\n    \
         traces/b: { receivers: [test_in/b], exporters: [scripted/down] }\n",
    ))
    .await;
    // Failures count from the check's first look at an exporter.
    let mut body = h.health().await.1;
    while body["components"]["exporters"]["scripted/down"]["failed_items"] != 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        body = h.health().await.1;
    }
    assert_eq!(h.health().await.0, 200);

    for _ in 0..3 {
        h.send("test_in/b").await.unwrap_err();
    }
    let body = h.health_until(503).await;
    assert_eq!(
        strings(&body["problems"]),
        [
            "pipeline traces/b: exporter scripted/down: failed to export 3 items within the \
             last 1m0s (check_collector_pipeline::exporter_failure_threshold is 2)"
        ]
    );
    assert_eq!(
        body["components"]["exporters"]["scripted/down"]["failed_items"],
        3
    );
    assert_eq!(body["pipelines"]["traces"]["healthy"], true);
    h.stop().await;
}

#[tokio::test]
async fn recoverable_errors_are_listed_without_changing_the_answer() {
    let h = start(&config(
        "{ endpoint: 127.0.0.1:0 }",
        "  scripted/flaky: { on_consume: report_recoverable }\n",
        "    traces: { receivers: [test_in], exporters: [scripted/flaky] }\n",
    ))
    .await;
    h.send("test_in").await.unwrap();
    let (code, body) = h.health().await;
    assert_eq!(code, 200, "{body:#}");
    assert_eq!(
        strings(&body["warnings"]),
        ["pipeline traces: exporter scripted/flaky: RecoverableError: backend slow"]
    );
    let flaky = &body["components"]["exporters"]["scripted/flaky"];
    assert_eq!(flaky["status"], "RecoverableError");
    assert_eq!(flaky["error"], "backend slow");
    assert_eq!(flaky["healthy"], true);
    h.stop().await;
}
