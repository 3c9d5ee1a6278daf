//! The `file` exporter, end to end through its factory, reading back what it wrote.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use prost::Message;
use serde_json::Value;
use tributary_pipeline_core::component::{
    Component, ComponentStatus, CreateSettings, Exporter, Host, Kind, StatusRegistry,
};
use tributary_pipeline_core::consumer::ErrorKind;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

use super::config::Config;
use super::exporter::{FileExporter, FileSink};
use super::rotation::backups;
use crate::testing::{fixtures, load, settings};

/// The three signal exporters of one `file` exporter, started.
struct Exporters {
    traces: Arc<dyn Exporter<Traces>>,
    metrics: Arc<dyn Exporter<Metrics>>,
    logs: Arc<dyn Exporter<Logs>>,
    settings: CreateSettings,
}

impl Exporters {
    async fn start(yaml: &str) -> Self {
        let config: Config = load(yaml).expect("valid config");
        let factory = super::factory();
        let settings = settings::<Traces>("file");
        let exporters = Exporters {
            traces: factory.create::<Traces>(&settings, &config).unwrap(),
            metrics: factory.create::<Metrics>(&settings, &config).unwrap(),
            logs: factory.create::<Logs>(&settings, &config).unwrap(),
            settings,
        };
        for component in exporters.components() {
            component.start(&Host::default()).await.expect("start");
        }
        exporters
    }

    fn components(&self) -> [Arc<dyn Component>; 3] {
        [self.traces.clone(), self.metrics.clone(), self.logs.clone()]
    }

    async fn shutdown(&self) {
        for component in self.components() {
            component.shutdown().await.expect("shutdown");
        }
    }
}

fn yaml_for(path: &Path, rest: &str) -> String {
    format!("path: {}\n{rest}", path.display())
}

/// Splits length-prefixed records.
fn frames(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        frames.push(bytes[4..4 + len].to_vec());
        bytes = &bytes[4 + len..];
    }
    frames
}

#[tokio::test]
async fn json_lines_decode_back_to_the_same_requests_for_every_signal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let exporters = Exporters::start(&yaml_for(&path, "")).await;
    exporters.traces.consume(fixtures::traces(3)).await.unwrap();
    exporters
        .metrics
        .consume(fixtures::metrics())
        .await
        .unwrap();
    exporters.logs.consume(fixtures::logs(4)).await.unwrap();
    exporters.shutdown().await;

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(text.ends_with('\n'));
    let traces: ExportTraceServiceRequest = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(traces, *fixtures::traces(3).request());
    let metrics: ExportMetricsServiceRequest = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(metrics, *fixtures::metrics().request());
    let logs: ExportLogsServiceRequest = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(logs, *fixtures::logs(4).request());

    // OTLP/JSON as the Go Collector's readers expect it.
    let json: Value = serde_json::from_str(lines[0]).unwrap();
    let span = &json["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"], "abababababababababababababababab");
    assert_eq!(span["startTimeUnixNano"], "1700000000000000000");
    assert_eq!(span["kind"], 2);

    assert_eq!(
        exporters
            .settings
            .metrics()
            .value("otelcol_exporter_sent_log_records", &[("exporter", "file")]),
        Some(4.0)
    );
}

#[tokio::test]
async fn non_finite_doubles_are_written_as_protobuf_json_strings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.jsonl");
    let exporters = Exporters::start(&yaml_for(&path, "")).await;
    exporters
        .metrics
        .consume(fixtures::non_finite_metrics())
        .await
        .unwrap();
    exporters.shutdown().await;

    let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let metrics = &json["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
    let gauge: Vec<&Value> = metrics[0]["gauge"]["dataPoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["asDouble"])
        .collect();
    assert_eq!(gauge, ["NaN", "Infinity", "-Infinity"]);
    let histogram = &metrics[1]["histogram"]["dataPoints"][0];
    assert_eq!(histogram["sum"], "NaN");
    assert_eq!(histogram["min"], "-Infinity");
    assert_eq!(histogram["max"], "Infinity");
    assert_eq!(histogram["explicitBounds"], serde_json::json!(["Infinity"]));
    let summary = &metrics[2]["summary"]["dataPoints"][0];
    assert_eq!(summary["sum"], "Infinity");
    assert_eq!(summary["quantileValues"][0]["value"], "NaN");
    assert!(
        !std::fs::read_to_string(&path).unwrap().contains("null"),
        "no value turned into null"
    );
}

#[tokio::test]
async fn proto_records_are_length_prefixed_and_pass_through_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.pb");
    let exporters = Exporters::start(&yaml_for(&path, "format: proto\n")).await;
    let (traces, wire_bytes) = fixtures::traces_with_foreign_bytes();
    exporters.traces.consume(traces).await.unwrap();
    exporters
        .metrics
        .consume(fixtures::metrics())
        .await
        .unwrap();
    exporters.logs.consume(fixtures::logs(2)).await.unwrap();
    exporters.shutdown().await;

    let frames = frames(&std::fs::read(&path).unwrap());
    assert_eq!(frames.len(), 3);
    assert_eq!(
        frames[0], wire_bytes,
        "the received bytes, not a re-encoding"
    );
    assert_eq!(
        ExportMetricsServiceRequest::decode(frames[1].as_slice()).unwrap(),
        *fixtures::metrics().request()
    );
    assert_eq!(
        ExportLogsServiceRequest::decode(frames[2].as_slice()).unwrap(),
        *fixtures::logs(2).request()
    );
}

#[tokio::test]
async fn zstd_records_hold_json_or_protobuf() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["json", "proto"] {
        let path = dir.path().join(format!("out-{format}.zst"));
        let exporters = Exporters::start(&yaml_for(
            &path,
            &format!("format: {format}\ncompression: zstd\n"),
        ))
        .await;
        exporters.traces.consume(fixtures::traces(2)).await.unwrap();
        exporters.logs.consume(fixtures::logs(2)).await.unwrap();
        exporters.shutdown().await;

        let frames = frames(&std::fs::read(&path).unwrap());
        assert_eq!(frames.len(), 2, "{format}");
        let first = zstd::decode_all(frames[0].as_slice()).unwrap();
        let second = zstd::decode_all(frames[1].as_slice()).unwrap();
        match format {
            "json" => {
                let traces: ExportTraceServiceRequest = serde_json::from_slice(&first).unwrap();
                assert_eq!(traces, *fixtures::traces(2).request());
                assert!(!first.ends_with(b"\n"));
                let logs: ExportLogsServiceRequest = serde_json::from_slice(&second).unwrap();
                assert_eq!(logs, *fixtures::logs(2).request());
            }
            _ => {
                assert_eq!(first, fixtures::traces(2).encoded());
                assert_eq!(second, fixtures::logs(2).encoded());
            }
        }
    }
}

#[tokio::test]
async fn rotation_keeps_at_most_max_backups_files_of_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rotating.jsonl");
    let exporters = Exporters::start(&yaml_for(
        &path,
        "rotation:\n  max_megabytes: 1\n  max_backups: 2\n",
    ))
    .await;
    let batch = fixtures::traces(400);
    // About 5 MiB in lines of a few hundred KiB: several rotations.
    let batches = 5 * 1024 * 1024 / line_len(&batch) + 1;
    for _ in 0..batches {
        exporters.traces.consume(batch.clone()).await.unwrap();
    }
    exporters.shutdown().await;

    let kept = backups(&path).unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let mut files: Vec<PathBuf> = kept.into_iter().map(|(_, p)| p).collect();
    files.push(path.clone());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.len() as u64 <= 1024 * 1024,
            "{} is too big",
            file.display()
        );
        for line in text.lines() {
            let traces: ExportTraceServiceRequest = serde_json::from_str(line).unwrap();
            assert_eq!(traces, *batch.request());
        }
    }
}

fn line_len(batch: &Traces) -> usize {
    use tributary_pipeline_core::pdata::otlp_json::JsonData;
    let mut line = Vec::new();
    batch.write_otlp_json(&mut line).unwrap();
    line.len() + 1
}

#[tokio::test]
async fn concurrent_exports_never_interleave() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.jsonl");
    let exporters = Exporters::start(&yaml_for(&path, "flush_interval: 0s\n")).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let traces = exporters.traces.clone();
        let logs = exporters.logs.clone();
        tasks.spawn(async move {
            if i % 2 == 0 {
                traces.consume(fixtures::traces(50)).await
            } else {
                logs.consume(fixtures::logs(50)).await
            }
        });
    }
    while let Some(outcome) = tasks.join_next().await {
        outcome.unwrap().unwrap();
    }
    exporters.shutdown().await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 40);
    for line in text.lines() {
        let json: Value = serde_json::from_str(line).expect("a whole JSON object per line");
        assert!(json.get("resourceSpans").is_some() || json.get("resourceLogs").is_some());
    }
}

/// Go configs write `flush_interval: 5` (5 nanoseconds, as Go reads a bare number): it
/// loads as such, and the writer syncs after writes rather than spinning on the interval.
#[tokio::test]
async fn a_bare_number_flush_interval_is_nanoseconds_and_writes_go_through() {
    let config: Config = load("path: x\nflush_interval: 5").unwrap();
    assert_eq!(config.flush_interval, std::time::Duration::from_nanos(5));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flushed.jsonl");
    let exporters = Exporters::start(&yaml_for(&path, "flush_interval: 5\n")).await;
    exporters.traces.consume(fixtures::traces(2)).await.unwrap();
    exporters.logs.consume(fixtures::logs(2)).await.unwrap();
    exporters.shutdown().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
}

#[tokio::test]
async fn shutdown_closes_the_file_and_later_exports_are_retryable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("closed.jsonl");
    let exporters = Exporters::start(&yaml_for(&path, "flush_interval: 1h\n")).await;
    exporters.logs.consume(fixtures::logs(1)).await.unwrap();
    // Shutting down two of three instances keeps the shared file open.
    exporters.traces.shutdown().await.unwrap();
    exporters.metrics.shutdown().await.unwrap();
    exporters.logs.consume(fixtures::logs(1)).await.unwrap();
    exporters.logs.shutdown().await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
    let error = exporters.logs.consume(fixtures::logs(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable);
}

#[tokio::test]
async fn creating_the_exporter_touches_nothing_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("created.jsonl");
    let config: Config = load(&yaml_for(&path, "create_directory: true\n")).unwrap();
    let settings = settings::<Traces>("file");
    let factory = super::factory();
    let traces = factory.create::<Traces>(&settings, &config).unwrap();
    let logs = factory.create::<Logs>(&settings, &config).unwrap();
    assert!(!path.exists(), "create made the file");
    drop((traces, logs));
    assert!(!path.exists(), "dropping made the file");
}

#[tokio::test]
async fn an_unwritable_path_is_a_start_error_naming_it() {
    // A directory cannot be opened for writing, whoever runs the test (root included).
    let dir = tempfile::tempdir().unwrap();
    let config: Config = load(&yaml_for(dir.path(), "")).unwrap();
    let settings = settings::<Traces>("file");
    let exporter = super::factory()
        .create::<Traces>(&settings, &config)
        .unwrap();
    let error = exporter.start(&Host::default()).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&dir.path().display().to_string()),
        "{error}"
    );
}

/// Whether this process has `path` open (Linux: its file descriptors, by target).
#[cfg(target_os = "linux")]
fn is_open(path: &Path) -> bool {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .any(|target| target == path)
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn when_shutdown_returns_the_writer_thread_has_closed_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("joined.jsonl");
    let exporters = Exporters::start(&yaml_for(&path, "")).await;
    exporters.traces.consume(fixtures::traces(1)).await.unwrap();
    assert!(is_open(&path));
    exporters.shutdown().await;
    // The thread owning the file was joined, not just told to stop.
    assert!(!is_open(&path));
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
}

#[tokio::test]
async fn start_fails_when_the_file_cannot_be_opened_unless_told_to_create_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing/dir/out.jsonl");
    let config: Config = load(&yaml_for(&path, "")).unwrap();
    let settings = settings::<Traces>("file");
    let exporter = super::factory()
        .create::<Traces>(&settings, &config)
        .unwrap();
    let error = exporter.start(&Host::default()).await.unwrap_err();
    assert!(
        error.to_string().contains("missing/dir/out.jsonl"),
        "{error}"
    );

    let exporters = Exporters::start(&yaml_for(
        &path,
        "create_directory: true\ndirectory_permissions: \"0700\"\n",
    ))
    .await;
    exporters.traces.consume(fixtures::traces(1)).await.unwrap();
    exporters.shutdown().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_is_a_retryable_error_reported_in_the_status() {
    let config: Config = load("path: /dev/full\nappend: true\n").unwrap();
    let settings = settings::<Logs>("file/full");
    let registry = StatusRegistry::default();
    let status = registry.reporter(Kind::Exporter, settings.id());
    let sink = Arc::new(FileSink::new(&config).unwrap());
    let exporter = FileExporter::<Logs>::new(&settings, &config, sink).with_status(status);
    exporter.start(&Host::default()).await.unwrap();

    let error = exporter.export(fixtures::logs(1)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable, "{error}");
    assert!(error.message().contains("/dev/full"), "{error}");
    let statuses = registry.snapshot();
    assert_eq!(statuses.len(), 1);
    assert!(
        matches!(&statuses[0].1.status, ComponentStatus::RecoverableError(m) if m.contains("No space")),
        "{statuses:?}"
    );
    exporter.shutdown().await.unwrap();
}

// ---- Configuration ----

#[test]
fn defaults_follow_the_go_exporter() {
    let config = Config::default();
    assert_eq!(config.format, super::Format::Json);
    assert_eq!(config.flush_interval, std::time::Duration::from_secs(1));
    assert_eq!(config.rotation, None);
    assert!(!config.helper.sending_queue.enabled);
    assert!(!config.helper.retry_on_failure.enabled);

    let config: Config = load("path: x\nrotation: {}\n").unwrap();
    let rotation = config.rotation.expect("present means on");
    assert_eq!(rotation.max_megabytes, 100);
    assert_eq!(rotation.max_backups, 100);
    assert_eq!(rotation.max_days, 0);
}

#[test]
fn helper_keys_left_out_stay_off() {
    let config: Config = load("path: x\ntimeout: 2s\n").unwrap();
    assert_eq!(config.helper.timeout, std::time::Duration::from_secs(2));
    assert!(!config.helper.sending_queue.enabled);
    assert!(!config.helper.retry_on_failure.enabled);
    let config: Config = load("path: x\nsending_queue: {queue_size: 5}\n").unwrap();
    assert!(
        config.helper.sending_queue.enabled,
        "set: the queue's defaults"
    );
    assert!(!config.helper.retry_on_failure.enabled);
    assert!(config.helper.timeout.is_zero());
}

#[test]
fn config_errors_name_their_paths() {
    let cases = [
        ("format: json", "path"),
        ("path: x\nappend: true\nrotation: {}", "append"),
        ("path: x\nappend: true\ncompression: zstd", "append"),
        ("path: x\nformat: xml", "format"),
        ("path: x\ncompression: gzip", "compression"),
        ("path: x\ngroup_by: {enabled: true}", "path"),
        ("path: x\nencoding: otlp_encoding", "encoding"),
        (
            "path: x\ndirectory_permissions: '0755'",
            "directory_permissions",
        ),
        (
            "path: x\ncreate_directory: true\ndirectory_permissions: '999'",
            "directory_permissions",
        ),
        (
            "path: x\ncreate_directory: true\ndirectory_permissions: '1777'",
            "directory_permissions",
        ),
        ("path: x\nrotation: {max_size: 10}", "rotation::max_size"),
        ("path: x\nflush_interval: often", "flush_interval"),
        (
            "path: x\nsending_queue: {enabled: true, queue_size: 0}",
            "sending_queue::queue_size",
        ),
        (
            "path: x\nsending_queue: {queue_sise: 1}",
            "sending_queue::queue_sise",
        ),
        ("path: x\nretry_on_faillure: {}", "retry_on_faillure"),
    ];
    for (yaml, path) in cases {
        let error = load::<Config>(yaml).expect_err(yaml);
        assert_eq!(error.path(), path, "{yaml}: {error}");
    }
}

#[tokio::test]
async fn a_batch_that_fails_to_encode_leaves_the_writer_working() {
    use super::writer::{FileWriter, WriteError, WriterSettings};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("resilient.txt");
    let writer = FileWriter::open(WriterSettings {
        path: path.clone(),
        append: false,
        rotation: None,
        sync_interval: std::time::Duration::ZERO,
        create_directory: None,
    })
    .await
    .unwrap();
    let error = writer
        .write(Box::new(|_: &mut Vec<u8>| panic!("broken encoder")))
        .await
        .unwrap_err();
    assert!(matches!(error, WriteError::Encode(_)), "{error}");
    assert!(error.to_string().contains("broken encoder"), "{error}");
    writer
        .write(Box::new(|out: &mut Vec<u8>| {
            out.extend_from_slice(b"fine\n");
            Ok(())
        }))
        .await
        .unwrap();
    writer.close().await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "fine\n");
}

// ---- group_by ----

/// Traces with one resource per entry of `tenants` (`None`: no attribute), one span each,
/// named after the tenant.
fn traces_by_tenant(tenants: &[Option<&str>]) -> Traces {
    use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
    use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let resource_spans = tenants
        .iter()
        .map(|tenant| ResourceSpans {
            resource: Some(Resource {
                attributes: tenant
                    .map(|t| {
                        vec![crate::testing::fixtures::str_kv(
                            "fileexporter.path_segment",
                            t,
                        )]
                    })
                    .unwrap_or_default(),
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    name: format!("span-of-{}", tenant.unwrap_or("nobody")),
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    Traces::new(ExportTraceServiceRequest { resource_spans })
}

/// The span names in a JSON-lines file, per line.
fn span_names_per_line(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            let json: Value = serde_json::from_str(line).unwrap();
            json["resourceSpans"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|rs| rs["scopeSpans"][0]["spans"].as_array().unwrap().clone())
                .map(|span| span["name"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

/// Go's README example: `path: ./data/*/telemetry.json` with `group_by` writes each
/// resource to its tenant's file; resources without the attribute are not written.
#[tokio::test]
async fn group_by_writes_each_resource_to_the_file_its_attribute_names() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = dir.path().join("data").join("*").join("telemetry.json");
    let exporters = Exporters::start(&yaml_for(
        &pattern,
        "group_by:\n  enabled: true\n  max_open_files: 10\n",
    ))
    .await;
    exporters
        .traces
        .consume(traces_by_tenant(&[Some("a"), Some("b"), None, Some("a")]))
        .await
        .unwrap();
    exporters
        .traces
        .consume(traces_by_tenant(&[Some("b")]))
        .await
        .unwrap();
    exporters.shutdown().await;
    let file = |tenant: &str| dir.path().join("data").join(tenant).join("telemetry.json");
    assert_eq!(
        span_names_per_line(&file("a")),
        [vec!["span-of-a", "span-of-a"]]
    );
    assert_eq!(
        span_names_per_line(&file("b")),
        [vec!["span-of-b"], vec!["span-of-b"]]
    );
    let written: Vec<_> = std::fs::read_dir(dir.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(written.len(), 2, "{written:?}");
}

/// Beyond `max_open_files`, the least recently written file is closed; when its value
/// comes back, it is appended to, never truncated.
#[tokio::test]
async fn group_by_reopens_closed_files_without_losing_their_content() {
    let dir = tempfile::tempdir().unwrap();
    let pattern = dir.path().join("*.jsonl");
    let exporters = Exporters::start(&yaml_for(
        &pattern,
        "group_by:\n  enabled: true\n  max_open_files: 1\n",
    ))
    .await;
    for tenant in ["a", "b", "a", "b", "a"] {
        exporters
            .traces
            .consume(traces_by_tenant(&[Some(tenant)]))
            .await
            .unwrap();
    }
    exporters.shutdown().await;
    assert_eq!(
        span_names_per_line(&dir.path().join("a.jsonl")).len(),
        3,
        "every batch of a is kept"
    );
    assert_eq!(span_names_per_line(&dir.path().join("b.jsonl")).len(), 2);
}

#[test]
fn group_by_follows_gos_rules() {
    let config: Config = load("path: ./data/*/t.json\ngroup_by: {enabled: true}").unwrap();
    let group_by = config.group_by.unwrap();
    assert_eq!(group_by.resource_attribute, "fileexporter.path_segment");
    assert_eq!(group_by.max_open_files, 100);
    for (yaml, path, message) in [
        (
            "path: ./t.json\ngroup_by: {enabled: true}",
            "path",
            "exactly one *",
        ),
        (
            "path: ./*/*.json\ngroup_by: {enabled: true}",
            "path",
            "exactly one *",
        ),
        (
            "path: '*.json'\ngroup_by: {enabled: true}",
            "path",
            "must not start with *",
        ),
        (
            "path: ./*.json\ngroup_by: {enabled: true, resource_attribute: ''}",
            "group_by::resource_attribute",
            "must not be empty",
        ),
        (
            "path: ./*.json\ngroup_by: {enabled: true, max_open_files: 0}",
            "group_by::max_open_files",
            "greater than 0",
        ),
    ] {
        let error = load::<Config>(yaml).expect_err(yaml);
        assert_eq!(error.path(), path, "{yaml}: {error}");
        assert!(error.to_string().contains(message), "{yaml}: {error}");
    }
    // Disabled, the path is an ordinary one.
    assert!(load::<Config>("path: ./t.json\ngroup_by: {enabled: false}").is_ok());
}
