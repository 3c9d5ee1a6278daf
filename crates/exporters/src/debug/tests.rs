//! The `debug` exporter's output at each verbosity, its sampling and its destinations.
//!
//! Expected output lives in `testdata/debug/*.txt`; run the tests with
//! `UPDATE_GOLDEN=1` to rewrite those files after an intended change, then review the diff.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tributary_pipeline_core::component::{Component, Host};
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

use super::config::{Config, Verbosity};
use super::exporter::DebugExporter;
use super::output::{DebugOutput, Destination};
use super::print::Printable;
use crate::testing::{fixtures, load, settings};

/// What an exporter configured by `yaml` prints for `batches`.
async fn printed<T: Printable>(yaml: &str, batches: Vec<T>) -> String {
    let text = Arc::new(Mutex::new(String::new()));
    let output = Arc::new(DebugOutput::new(Destination::Memory(text.clone())));
    let config: Config = load(yaml).unwrap();
    let exporter = DebugExporter::<T>::new(&config, output);
    exporter.start(&Host::default()).await.unwrap();
    for batch in batches {
        exporter.export(batch).await.unwrap();
    }
    exporter.shutdown().await.unwrap();
    text.lock().unwrap().clone()
}

/// Compares `actual` with `testdata/debug/<name>.txt` (or rewrites it).
fn assert_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/debug")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

#[tokio::test]
async fn basic_prints_one_summary_line_per_batch() {
    let yaml = "verbosity: basic";
    assert_eq!(
        printed(yaml, vec![fixtures::traces(2), fixtures::traces(5)]).await,
        "Traces\t{\"resource spans\": 1, \"spans\": 2}\nTraces\t{\"resource spans\": 1, \"spans\": 5}\n"
    );
    assert_eq!(
        printed(yaml, vec![fixtures::metrics()]).await,
        "Metrics\t{\"resource metrics\": 1, \"metrics\": 5, \"data points\": 9}\n"
    );
    assert_eq!(
        printed(yaml, vec![fixtures::logs(4)]).await,
        "Logs\t{\"resource logs\": 1, \"log records\": 4}\n"
    );
}

#[tokio::test]
async fn normal_prints_about_one_line_per_item() {
    let yaml = "verbosity: normal";
    assert_golden(
        "traces_normal",
        &printed(yaml, vec![fixtures::traces(2)]).await,
    );
    assert_golden(
        "metrics_normal",
        &printed(yaml, vec![fixtures::metrics()]).await,
    );
    assert_golden("logs_normal", &printed(yaml, vec![fixtures::logs(2)]).await);
}

#[tokio::test]
async fn detailed_prints_every_field() {
    let yaml = "verbosity: Detailed";
    assert_golden(
        "traces_detailed",
        &printed(yaml, vec![fixtures::traces(2)]).await,
    );
    assert_golden(
        "metrics_detailed",
        &printed(yaml, vec![fixtures::metrics()]).await,
    );
    assert_golden(
        "logs_detailed",
        &printed(yaml, vec![fixtures::logs(2)]).await,
    );
}

#[tokio::test]
async fn non_finite_values_print_as_go_prints_them() {
    let text = printed("verbosity: normal", vec![fixtures::non_finite_metrics()]).await;
    assert!(text.contains("stale{host=a} NaN\n"), "{text}");
    assert!(text.contains("stale{host=a} +Inf\n"), "{text}");
    assert!(text.contains("stale{host=a} -Inf\n"), "{text}");
    assert!(
        text.contains("hist{} count=1 sum=NaN min=-Inf max=+Inf le+Inf=0 1\n"),
        "{text}"
    );
}

#[tokio::test]
async fn sampling_drops_batches_beyond_the_initial_ones() {
    let batches = (0..6).map(|_| fixtures::logs(1)).collect();
    let text = printed("sampling_initial: 2\nsampling_thereafter: 0", batches).await;
    assert_eq!(text.lines().count(), 2, "{text}");
    let batches = (0..8).map(|_| fixtures::logs(1)).collect();
    let text = printed("sampling_initial: 2\nsampling_thereafter: 3", batches).await;
    assert_eq!(text.lines().count(), 4, "{text}");
}

/// A `tracing` subscriber that keeps the messages of events.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.lock().unwrap().push(message.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn use_internal_logger_prints_through_the_collectors_log() {
    let recorder = Arc::new(Recorder::default());
    let dispatch = tracing::Dispatch::from(recorder.clone());
    let config: Config = load("use_internal_logger: true\nverbosity: normal").unwrap();
    // The component's span is made under the collector's subscriber; the output thread
    // logs to that subscriber, not to whatever is current on its own thread.
    let exporter = tracing::dispatcher::with_default(&dispatch, || {
        let settings = settings::<Traces>("debug/internal");
        super::factory()
            .create::<Traces>(&settings, &config)
            .unwrap()
    });
    exporter.start(&Host::default()).await.unwrap();
    exporter.consume(fixtures::traces(1)).await.unwrap();
    exporter.shutdown().await.unwrap();
    let messages = recorder.0.lock().unwrap().clone();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0], "Traces\t{\"resource spans\": 1, \"spans\": 1}");
    assert!(messages[1].starts_with("ResourceTraces #0"), "{messages:?}");
}

#[tokio::test]
async fn the_factory_builds_exporters_for_every_signal() {
    let factory = super::factory();
    assert_eq!(factory.component_type(), "debug");
    let config = Config::default();
    let settings = settings::<Traces>("debug");
    let traces = factory.create::<Traces>(&settings, &config).unwrap();
    let metrics = factory.create::<Metrics>(&settings, &config).unwrap();
    let logs = factory.create::<Logs>(&settings, &config).unwrap();
    let components: [Arc<dyn Component>; 3] = [traces.clone(), metrics.clone(), logs.clone()];
    for component in &components {
        component.start(&Host::default()).await.unwrap();
    }
    traces.consume(fixtures::traces(1)).await.unwrap();
    metrics.consume(fixtures::metrics()).await.unwrap();
    logs.consume(fixtures::logs(1)).await.unwrap();
    for component in &components {
        component.shutdown().await.unwrap();
    }
    assert_eq!(
        settings.metrics().value(
            "otelcol_exporter_sent_metric_points",
            &[("exporter", "debug")]
        ),
        Some(9.0)
    );
}

#[tokio::test]
async fn printing_a_huge_detailed_batch_does_not_hold_the_caller() {
    // The export returns once the batch is queued; formatting happens on the output thread.
    let text = Arc::new(Mutex::new(String::new()));
    let output = Arc::new(DebugOutput::new(Destination::Memory(text.clone())));
    let config: Config = load("verbosity: detailed").unwrap();
    let exporter = DebugExporter::<Logs>::new(&config, output);
    exporter.start(&Host::default()).await.unwrap();
    let batch = fixtures::logs(20_000);
    let started = std::time::Instant::now();
    exporter.export(batch).await.unwrap();
    let queued = started.elapsed();
    exporter.shutdown().await.unwrap();
    let printed = started.elapsed();
    assert!(text.lock().unwrap().contains("LogRecord #19999"));
    assert!(
        queued * 5 < printed,
        "queued in {queued:?}, printed in {printed:?}"
    );
}

#[tokio::test]
async fn the_output_thread_runs_from_the_first_start_to_the_last_shutdown() {
    let text = Arc::new(Mutex::new(String::new()));
    let output = Arc::new(DebugOutput::new(Destination::Memory(text.clone())));
    let config = Config::default();
    let traces = DebugExporter::<Traces>::new(&config, output.clone());
    let logs = DebugExporter::<Logs>::new(&config, output);
    // Creating starts nothing: printing is refused, and only the output holds the text.
    let error = traces.export(fixtures::traces(1)).await.unwrap_err();
    assert!(error.to_string().contains("not running"), "{error}");
    assert_eq!(Arc::strong_count(&text), 2);

    traces.start(&Host::default()).await.unwrap();
    logs.start(&Host::default()).await.unwrap();
    // The running thread holds its own handle on the destination.
    assert_eq!(Arc::strong_count(&text), 3);
    traces.export(fixtures::traces(1)).await.unwrap();
    traces.shutdown().await.unwrap();
    // One signal stopping flushes what it printed and keeps the thread for the other.
    assert_eq!(text.lock().unwrap().lines().count(), 1);
    logs.export(fixtures::logs(1)).await.unwrap();
    logs.shutdown().await.unwrap();
    // The last shutdown joined the thread: its handle on the destination is gone.
    assert_eq!(Arc::strong_count(&text), 2);
    assert_eq!(text.lock().unwrap().lines().count(), 2);
    assert!(logs.export(fixtures::logs(1)).await.is_err());
}

// ---- Configuration ----

#[test]
fn defaults_and_go_keys() {
    let config = Config::default();
    assert_eq!(config.verbosity, Verbosity::Basic);
    assert_eq!(
        (config.sampling_initial, config.sampling_thereafter),
        (2, 1)
    );
    assert!(!config.helper.sending_queue.enabled);
    assert!(config.helper.timeout.is_zero());
    // Go's default: through the collector's logger; without it, standard output.
    assert!(config.use_internal_logger);
    assert!(config.output_paths.is_empty());
    let config: Config = load("use_internal_logger: false\noutput_paths: []").unwrap();
    assert_eq!(config.output_paths(), ["stdout"]);
    let config: Config =
        load("use_internal_logger: false\noutput_paths: [stdout, /tmp/debugexporter_test.log]")
            .unwrap();
    assert_eq!(
        config.output_paths(),
        ["stdout", "/tmp/debugexporter_test.log"]
    );
    let config: Config = load(
        "verbosity: detailed\nsampling_initial: 5\nsampling_thereafter: 200\nuse_internal_logger: false\nsending_queue: {enabled: true}",
    )
    .unwrap();
    assert_eq!(config.verbosity, Verbosity::Detailed);
    assert_eq!(config.sampling_thereafter, 200);
    assert!(config.helper.sending_queue.enabled);
}

#[test]
fn config_errors_name_their_paths() {
    let cases = [
        ("verbosity: none", "verbosity"),
        ("verbosity: loud", "verbosity"),
        ("sampling_initial: -1", "sampling_initial"),
        // Go: "output_paths requires use_internal_logger to be false".
        ("output_paths: [stdout]", "output_paths"),
        (
            "use_internal_logger: false\noutput_paths: [stdout, '']",
            "output_paths::1",
        ),
        (
            "sending_queue: {enabled: true, num_consumers: 0}",
            "sending_queue::num_consumers",
        ),
    ];
    for (yaml, path) in cases {
        let error = load::<Config>(yaml).expect_err(yaml);
        assert_eq!(error.path(), path, "{yaml}: {error}");
    }
}

// ---- output_paths ----

/// Go's `output_paths`: every batch goes to each path; files are appended to.
#[tokio::test]
async fn output_paths_write_every_batch_to_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first.log"), dir.path().join("second.log"));
    std::fs::write(&first, "kept\n").unwrap();
    let config: Config = load(&format!(
        "use_internal_logger: false\noutput_paths: [{}, {}]",
        first.display(),
        second.display()
    ))
    .unwrap();
    let settings = settings::<Traces>("debug/files");
    let exporter = super::factory()
        .create::<Traces>(&settings, &config)
        .unwrap();
    exporter.start(&Host::default()).await.unwrap();
    exporter.consume(fixtures::traces(3)).await.unwrap();
    exporter.shutdown().await.unwrap();
    let line = "Traces\t{\"resource spans\": 1, \"spans\": 3}\n";
    assert_eq!(
        std::fs::read_to_string(&first).unwrap(),
        format!("kept\n{line}")
    );
    assert_eq!(std::fs::read_to_string(&second).unwrap(), line);
}

/// A path that cannot be opened fails the start, naming it.
#[tokio::test]
async fn an_output_path_that_cannot_be_opened_fails_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("out.log");
    let config: Config = load(&format!(
        "use_internal_logger: false\noutput_paths: [{}]",
        missing.display()
    ))
    .unwrap();
    let settings = settings::<Logs>("debug/missing");
    let exporter = super::factory().create::<Logs>(&settings, &config).unwrap();
    let error = exporter.start(&Host::default()).await.unwrap_err();
    assert!(
        error.to_string().contains(&missing.display().to_string()),
        "{error}"
    );
}

/// Old Go configurations name this exporter `logging`.
#[test]
fn the_go_collector_s_old_name_logging_is_an_alias() {
    assert_eq!(super::factory().aliases(), ["logging"]);
}
