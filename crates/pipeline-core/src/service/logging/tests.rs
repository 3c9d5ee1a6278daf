use std::collections::BTreeMap;

use super::*;
use crate::telemetry::config::{LogLevel, LogsSamplingConfig};

/// Runs `log` under a subscriber configured by `config` writing to a fresh file; returns
/// the file's lines.
fn logged(mut config: LogsTelemetryConfig, log: impl FnOnce()) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collector.log");
    config.output_paths = vec![path.display().to_string()];
    let settings = LogSettings::open(&config).unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new(config.level.as_directive()))
        .with(ZapLayer {
            settings: Arc::new(ArcSwap::from_pointee(settings)),
        });
    tracing::subscriber::with_default(subscriber, log);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn json(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn config() -> LogsTelemetryConfig {
    LogsTelemetryConfig {
        sampling: None,
        ..LogsTelemetryConfig::default()
    }
}

#[test]
fn json_entries_carry_initial_span_and_own_fields_and_the_caller() {
    let lines = logged(
        LogsTelemetryConfig {
            encoding: LogEncoding::Json,
            initial_fields: BTreeMap::from([("region".to_string(), Value::from("eu-1"))]),
            ..config()
        },
        || {
            let span = tracing::info_span!("component", otelcol.component.id = "otlp");
            let _entered = span.enter();
            tracing::info!(items = 3, "exported");
        },
    );
    assert_eq!(lines.len(), 1, "{lines:?}");
    let entry = json(&lines[0]);
    assert_eq!(entry["level"], "info");
    assert_eq!(entry["msg"], "exported");
    assert_eq!(entry["region"], "eu-1");
    assert_eq!(entry["otelcol.component.id"], "otlp");
    assert_eq!(entry["items"], 3);
    assert!(
        entry["caller"]
            .as_str()
            .unwrap()
            .contains("logging/tests.rs:"),
        "{entry}"
    );
    assert!(entry.get("stacktrace").is_none());
}

#[test]
fn console_entries_are_tab_separated_and_disable_caller_drops_the_caller() {
    let lines = logged(
        LogsTelemetryConfig {
            disable_caller: true,
            ..config()
        },
        || tracing::warn!(peer = "10.0.0.1", "slow client"),
    );
    let parts: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(parts.len(), 4, "{lines:?}");
    assert_eq!(parts[1], "warn");
    assert_eq!(parts[2], "slow client");
    assert_eq!(parts[3], r#"{"peer":"10.0.0.1"}"#);
}

#[test]
fn the_level_filters() {
    let lines = logged(
        LogsTelemetryConfig {
            level: LogLevel::Warn,
            disable_stacktrace: true,
            ..config()
        },
        || {
            tracing::debug!("d");
            tracing::info!("i");
            tracing::warn!("w");
            tracing::error!("e");
        },
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
}

#[test]
fn sampling_writes_the_first_then_every_nth_of_a_message() {
    let lines = logged(
        LogsTelemetryConfig {
            sampling: Some(LogsSamplingConfig {
                enabled: true,
                tick: std::time::Duration::from_secs(3600),
                initial: 2,
                thereafter: 5,
            }),
            ..config()
        },
        || {
            for i in 0..20 {
                tracing::info!(i, "repeated");
            }
            tracing::info!("different");
        },
    );
    // Entries 1, 2, 7, 12 and 17 of "repeated", and "different".
    assert_eq!(lines.len(), 6, "{lines:#?}");
    assert!(lines[2].contains(r#"{"i":6}"#), "{}", lines[2]);
}

#[test]
fn stack_traces_come_from_error_up_or_warn_up_in_development() {
    let trace_of = |config: LogsTelemetryConfig| {
        let lines = logged(
            LogsTelemetryConfig {
                encoding: LogEncoding::Json,
                ..config
            },
            || {
                tracing::warn!("w");
                tracing::error!("e");
            },
        );
        lines
            .iter()
            .map(|l| json(l).get("stacktrace").is_some())
            .collect::<Vec<_>>()
    };
    assert_eq!(trace_of(config()), [false, true]);
    let development = LogsTelemetryConfig {
        development: true,
        ..config()
    };
    assert_eq!(trace_of(development), [true, true]);
    let disabled = LogsTelemetryConfig {
        disable_stacktrace: true,
        development: true,
        ..config()
    };
    assert_eq!(trace_of(disabled), [false, false]);
}

#[test]
fn an_output_that_cannot_be_opened_is_an_error() {
    let config = LogsTelemetryConfig {
        output_paths: vec!["/nonexistent-dir/x/collector.log".into()],
        ..config()
    };
    let error = LogSettings::open(&config).err().unwrap();
    assert!(
        error.contains("/nonexistent-dir/x/collector.log"),
        "{error}"
    );
}

#[test]
fn an_output_that_fails_to_write_is_reported_to_the_error_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.log");
    let config = LogsTelemetryConfig {
        // Every write to /dev/full fails (no space left on device).
        output_paths: vec!["/dev/full".into()],
        error_output_paths: vec![errors.display().to_string()],
        ..config()
    };
    let settings = LogSettings::open(&config).unwrap();
    let subscriber = tracing_subscriber::registry().with(ZapLayer {
        settings: Arc::new(ArcSwap::from_pointee(settings)),
    });
    tracing::subscriber::with_default(subscriber, || tracing::info!("lost"));
    let reported = std::fs::read_to_string(&errors).unwrap();
    assert!(reported.contains("write error"), "{reported}");
}
