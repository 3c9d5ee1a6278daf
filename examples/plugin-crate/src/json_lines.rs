//! The **`json_lines`** exporter: appends each batch to a file as one OTLP/JSON line.
//!
//! ```yaml
//! exporters:
//!   json_lines:
//!     path: /var/log/telemetry.jsonl
//!     sending_queue: { queue_size: 100 }
//!     retry_on_failure: { max_elapsed_time: 1m }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `path` | (required) | the file to append to; created if missing |
//! | `timeout`, `retry_on_failure`, `sending_queue` | the exporter helper's | as for every Go Collector exporter |
//!
//! The exporter helper's settings are embedded (`#[serde(rename = "helper,squash")]`), so
//! its keys sit at the exporter's top level and unknown keys are still refused with their
//! path. The file is opened at start; a write that fails is retried by the helper.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use tributary_pipeline_core::prelude::*;

/// The `json_lines` configuration.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The file to append to.
    pub path: PathBuf,
    /// `timeout`, `retry_on_failure`, `sending_queue`.
    #[serde(rename = "helper,squash")]
    pub helper: ExporterHelperConfig,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.path.as_os_str().is_empty() {
            return Err(ConfigError::at("path", "name the file to write"));
        }
        self.helper.validate()
    }
}

/// The `json_lines` factory, to register on a collector builder.
pub fn factory() -> ExporterFactory<Config> {
    ExporterFactory::new("json_lines")
        .with_traces(create, Stability::Alpha)
        .with_metrics(create, Stability::Alpha)
        .with_logs(create, Stability::Alpha)
}

fn create<T: JsonData>(
    settings: &CreateSettings,
    config: &Config,
) -> Result<Arc<dyn Exporter<T>>, CreateError> {
    let export = JsonLines {
        path: config.path.clone(),
        file: Mutex::new(None),
    };
    exporterhelper::build(settings, &config.helper, export)
}

/// Writes batches to the file, opened at start.
struct JsonLines {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

#[async_trait]
impl<T: JsonData> Export<T> for JsonLines {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path);
        let file = file.map_err(|e| {
            ComponentError::with_source(format!("cannot open {}", self.path.display()), e)
        })?;
        *self.file.lock().unwrap() = Some(file);
        Ok(())
    }

    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        let mut line = Vec::new();
        data.write_otlp_json(&mut line)
            .map_err(|e| ConsumeError::permanent(e.to_string()))?;
        line.push(b'\n');
        let mut file = self.file.lock().unwrap();
        let file = file
            .as_mut()
            .ok_or_else(|| ConsumeError::retryable("not started"))?;
        file.write_all(&line)
            .map_err(|e| ConsumeError::retryable(format!("writing {}: {e}", self.path.display())))
    }
}
