//! The collector's own logs: a `tracing` subscriber configured by
//! `service::telemetry::logs`, with zap's keys and behaviour.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `level` | `info` | minimum level (`debug`, `info`, `warn`, `error`; `dpanic`, `panic`, `fatal` mean `error`); `RUST_LOG`, when set, wins |
//! | `development` | `false` | stack traces from `warn` up instead of from `error` |
//! | `encoding` | `console` | `console`: time, level, caller, message tab-separated, then the fields as JSON; `json`: one object per line with `level`, `ts`, `caller`, `msg`, the fields, `stacktrace` |
//! | `disable_caller` | `false` | leave out `caller` (the source `file:line`) |
//! | `disable_stacktrace` | `false` | leave out stack traces |
//! | `output_paths` | `[stderr]` | `stderr`, `stdout` or file paths (created, appended to) |
//! | `error_output_paths` | `[stderr]` | where the logger reports an output it cannot write |
//! | `initial_fields` | none | fields added to every entry |
//! | `sampling` | on: `tick: 10s`, `initial: 10`, `thereafter: 100` | zap's sampler, per level and message |
//! | `processors` | none | `batch` or `simple` processors exporting the entries as OTLP log records |
//!
//! Everything takes effect on a reload; an output that cannot be opened fails the reload
//! and leaves the running collector as it was. Entries carry the fields of the `tracing`
//! spans they happen in (`otelcol.component.id`, ...), as zap loggers carry theirs.

mod entry;
mod sampler;

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Instant, SystemTime};

use arc_swap::ArcSwap;
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber, span};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry, reload};

use self::entry::Entry;
use self::sampler::Sampler;
use super::self_telemetry::{self, SELF_TARGET, SelfLogRecord};
use crate::telemetry::config::{LogEncoding, LogsTelemetryConfig};

type FilterHandle = reload::Handle<EnvFilter, Registry>;

/// The installed subscriber's level handle and its settings.
struct Installed {
    filter: FilterHandle,
    settings: Arc<ArcSwap<LogSettings>>,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// The filter for a configured level; `RUST_LOG`, when set, wins.
fn filter(config: &LogsTelemetryConfig) -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(config.level.as_directive()))
}

/// Where entries (or the logger's own errors) are written.
enum Output {
    Stderr,
    Stdout,
    File(Mutex<File>),
}

impl Output {
    fn open(path: &str) -> Result<Output, String> {
        Ok(match path {
            "stderr" => Output::Stderr,
            "stdout" => Output::Stdout,
            path => {
                let path = path.strip_prefix("file://").unwrap_or(path);
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("cannot open log output {path:?}: {e}"))?;
                Output::File(Mutex::new(file))
            }
        })
    }

    fn write(&self, line: &[u8]) -> std::io::Result<()> {
        match self {
            Output::Stderr => std::io::stderr().lock().write_all(line),
            Output::Stdout => std::io::stdout().lock().write_all(line),
            Output::File(file) => file
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .write_all(line),
        }
    }
}

/// Everything the log layer needs, opened and checked: swapped whole on a reload.
pub(crate) struct LogSettings {
    encoding: LogEncoding,
    caller: bool,
    /// The lowest level with a stack trace, if any.
    stacktrace_from: Option<Level>,
    outputs: Vec<Output>,
    error_outputs: Vec<Output>,
    initial_fields: Vec<(String, Value)>,
    sampler: Option<Sampler>,
    /// The sampler's clock.
    epoch: Instant,
}

impl LogSettings {
    /// Opens the outputs `config` names.
    pub(crate) fn open(config: &LogsTelemetryConfig) -> Result<LogSettings, String> {
        let open_all = |paths: &[String]| -> Result<Vec<Output>, String> {
            paths.iter().map(|p| Output::open(p)).collect()
        };
        Ok(LogSettings {
            encoding: config.encoding,
            caller: !config.disable_caller,
            stacktrace_from: (!config.disable_stacktrace).then_some(if config.development {
                Level::WARN
            } else {
                Level::ERROR
            }),
            outputs: open_all(&config.output_paths)?,
            error_outputs: open_all(&config.error_output_paths)?,
            initial_fields: config
                .initial_fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            sampler: Sampler::new(config.sampling.as_ref()),
            epoch: Instant::now(),
        })
    }
}

/// Installs the process-wide subscriber, if this process has none yet (an embedding
/// program may have its own; then nothing is installed and its subscriber receives the
/// collector's events). Fails only when an output cannot be opened.
pub(crate) fn install(config: &LogsTelemetryConfig) -> Result<(), String> {
    let settings = LogSettings::open(config)?;
    if INSTALLED.get().is_some() {
        apply(config, settings);
        return Ok(());
    }
    let (filter_layer, handle) = reload::Layer::new(filter(config));
    let shared = Arc::new(ArcSwap::from_pointee(settings));
    let installed = tracing_subscriber::registry()
        .with(filter_layer)
        .with(ZapLayer {
            settings: Arc::clone(&shared),
        })
        .try_init();
    if installed.is_ok() {
        let _ = INSTALLED.set(Installed {
            filter: handle,
            settings: shared,
        });
    }
    Ok(())
}

/// Applies a reloaded configuration whose outputs [`LogSettings::open`] opened.
pub(crate) fn apply(config: &LogsTelemetryConfig, settings: LogSettings) {
    let Some(installed) = INSTALLED.get() else {
        return;
    };
    installed.settings.store(Arc::new(settings));
    if let Err(error) = installed.filter.reload(filter(config)) {
        tracing::warn!(%error, "could not change the log level");
    }
}

/// The fields of a span, kept in its extensions.
struct SpanFields(Vec<(String, Value)>);

/// Collects an event's or span's fields; `message` apart.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    fields: Vec<(String, Value)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_string());
        } else {
            self.fields.push((field.name().to_string(), value.into()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.fields.push((field.name().to_string(), text.into()));
        }
    }
}

/// zap's level names and OTLP severity numbers.
fn level_of(level: &Level) -> (usize, &'static str, i32) {
    match *level {
        Level::TRACE | Level::DEBUG => (0, "debug", 5),
        Level::INFO => (1, "info", 9),
        Level::WARN => (2, "warn", 13),
        Level::ERROR => (3, "error", 17),
    }
}

/// Writes entries as `LogSettings` says and hands them to the log processors.
struct ZapLayer {
    settings: Arc<ArcSwap<LogSettings>>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for ZapLayer {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let settings = self.settings.load();
        let mut own = Fields::default();
        event.record(&mut own);
        let message = own.message.unwrap_or_default();
        let metadata = event.metadata();
        let (rank, level, severity) = level_of(metadata.level());
        if let Some(sampler) = &settings.sampler {
            let now = u64::try_from(settings.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
            if !sampler.allows(rank, &message, now) {
                return;
            }
        }
        let mut fields = settings.initial_fields.clone();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.0.iter().cloned());
                }
            }
        }
        fields.extend(own.fields);
        let caller = settings
            .caller
            .then(|| {
                metadata
                    .file()
                    .map(|f| format!("{f}:{}", metadata.line().unwrap_or(0)))
            })
            .flatten();
        let stacktrace = settings
            .stacktrace_from
            .filter(|from| metadata.level() <= from)
            .map(|_| std::backtrace::Backtrace::force_capture().to_string());
        let time = SystemTime::now();
        let entry = Entry {
            time,
            level,
            caller: caller.clone(),
            message: &message,
            fields: &fields,
            stacktrace,
        };
        let line = match settings.encoding {
            LogEncoding::Console => entry.console(),
            LogEncoding::Json => entry.json(),
        };
        for output in &settings.outputs {
            if let Err(error) = output.write(line.as_bytes()) {
                let report = format!("{} write error: {error}\n", entry.time_text());
                for errors in &settings.error_outputs {
                    let _ = errors.write(report.as_bytes());
                }
            }
        }
        // The export's own complaints are written, never exported: they would feed on
        // themselves while the backend is down.
        if metadata.target() != SELF_TARGET && self_telemetry::exporting_logs() {
            self_telemetry::export_log(|| {
                let mut attributes = fields;
                if let Some(caller) = caller {
                    attributes.push(("code.filepath".into(), caller.into()));
                }
                SelfLogRecord {
                    time,
                    severity_number: severity,
                    severity_text: level,
                    message,
                    attributes,
                }
            });
        }
    }
}

impl Entry<'_> {
    fn time_text(&self) -> String {
        chrono::DateTime::<chrono::Utc>::from(self.time)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
