//! The collector's own logs: a `tracing` subscriber configured by `service::telemetry::logs`.

use std::io::IsTerminal;
use std::sync::OnceLock;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

use crate::config::{LogEncoding, LogsTelemetryConfig};

type FilterHandle = reload::Handle<EnvFilter, Registry>;

/// The installed subscriber's level handle and its fixed encoding.
struct Installed {
    filter: FilterHandle,
    encoding: LogEncoding,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// The filter for a configured level; `RUST_LOG`, when set, wins.
fn filter(config: &LogsTelemetryConfig) -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(config.level.as_directive()))
}

/// Installs the process-wide subscriber writing to stderr in the configured encoding, if
/// this process has none yet (an embedding program may have its own; then nothing is
/// installed and its subscriber receives the collector's events).
pub(crate) fn install(config: &LogsTelemetryConfig) {
    if INSTALLED.get().is_some() {
        apply(config);
        return;
    }
    let (filter_layer, handle) = reload::Layer::new(filter(config));
    let registry = tracing_subscriber::registry().with(filter_layer);
    let installed = match config.encoding {
        LogEncoding::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init(),
        LogEncoding::Console => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal()),
            )
            .try_init(),
    };
    if installed.is_ok() {
        let _ = INSTALLED.set(Installed {
            filter: handle,
            encoding: config.encoding,
        });
    }
}

/// Applies a reloaded configuration: the level changes at once; a different encoding takes
/// effect at the next start.
pub(crate) fn apply(config: &LogsTelemetryConfig) {
    let Some(installed) = INSTALLED.get() else {
        return;
    };
    if let Err(error) = installed.filter.reload(filter(config)) {
        tracing::warn!(%error, "could not change the log level");
    }
    if installed.encoding != config.encoding {
        tracing::warn!(
            "service::telemetry::logs::encoding changed; it takes effect when the collector restarts"
        );
    }
}
