//! Writing one signal's batches into the file shared by the exporter's signals.

use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tributary_pipeline_core::component::{
    ComponentError, ComponentStatus, CreateError, CreateSettings, Host, StatusReporter,
};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::receiverhelper::{SharedLifecycle, SharedLifecycleMember};

use super::config::Config;
use super::record::RecordFormat;
use super::rotation::RotationPolicy;
use super::writer::{FileWriter, WriteError, WriterSettings};
use tributary_pipeline_core::pdata::otlp_json::JsonData;

/// The file of one `file` exporter, shared by its traces, metrics and logs instances (as
/// in the Go Collector, all signals go to the same file). Opened when the first instance
/// starts, closed (synced) when the last one shuts down.
pub(crate) struct FileSink {
    settings: WriterSettings,
    lifecycle: Arc<SharedLifecycle<Arc<FileWriter>>>,
    /// The open file while the lifecycle runs, for writes that must not wait for its lock.
    writer: RwLock<Option<Arc<FileWriter>>>,
}

impl FileSink {
    pub(crate) fn new(config: &Config) -> Result<Self, CreateError> {
        let create_directory = if config.create_directory {
            Some(
                config
                    .directory_mode()
                    .map_err(|e| CreateError::new(e.to_string()))?,
            )
        } else {
            None
        };
        Ok(FileSink {
            settings: WriterSettings {
                path: PathBuf::from(&config.path),
                append: config.append,
                rotation: config.rotation.as_ref().map(|r| RotationPolicy {
                    max_bytes: r.max_bytes(),
                    max_age: Duration::from_secs(r.max_days.saturating_mul(86_400)),
                    max_backups: r.max_backups,
                    localtime: r.localtime,
                }),
                sync_interval: config.flush_interval,
                create_directory,
            },
            lifecycle: Arc::new(SharedLifecycle::new()),
            writer: RwLock::new(None),
        })
    }

    async fn open(&self) -> Result<Arc<FileWriter>, ComponentError> {
        let writer = FileWriter::open(self.settings.clone()).await.map_err(|e| {
            ComponentError::with_source(format!("opening {}", self.settings.path.display()), e)
        })?;
        let writer = Arc::new(writer);
        *self.writer.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&writer));
        Ok(writer)
    }

    async fn close(&self, writer: Arc<FileWriter>) -> Result<(), ComponentError> {
        self.writer
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        writer.close().await.map_err(|e| {
            ComponentError::with_source(format!("closing {}", self.settings.path.display()), e)
        })
    }

    fn writer(&self) -> Option<Arc<FileWriter>> {
        self.writer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Writes one signal's batches through the shared [`FileSink`].
pub(crate) struct FileExporter<T> {
    sink: Arc<FileSink>,
    lifecycle: SharedLifecycleMember<Arc<FileWriter>>,
    format: RecordFormat,
    status: StatusReporter,
    /// Whether the last write failed (so recovery is reported once).
    failing: AtomicBool,
    signal: PhantomData<fn(T)>,
}

impl<T> FileExporter<T> {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, sink: Arc<FileSink>) -> Self {
        FileExporter {
            lifecycle: sink.lifecycle.member(),
            sink,
            format: RecordFormat {
                format: config.format,
                compression: config.compression,
            },
            status: settings.status().clone(),
            failing: AtomicBool::new(false),
            signal: PhantomData,
        }
    }

    /// The same exporter, reporting its status to `status` (tests read it back).
    #[cfg(test)]
    pub(crate) fn with_status(mut self, status: StatusReporter) -> Self {
        self.status = status;
        self
    }
}

#[async_trait]
impl<T: JsonData> Export<T> for FileExporter<T> {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        self.lifecycle.start(|| self.sink.open()).await
    }

    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        let writer = self
            .sink
            .writer()
            .ok_or_else(|| ConsumeError::retryable("the file exporter is not running"))?;
        let format = self.format;
        let outcome = writer
            .write(Box::new(move |buffer| format.encode(&data, buffer)))
            .await;
        match outcome {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    self.status.report(ComponentStatus::Ok);
                }
                Ok(())
            }
            Err(error @ WriteError::Encode(_)) => Err(ConsumeError::permanent(error.to_string())),
            Err(error) => {
                let message = error.to_string();
                if !self.failing.swap(true, Ordering::Relaxed) {
                    self.status
                        .report(ComponentStatus::RecoverableError(message.clone()));
                }
                Err(ConsumeError::retryable(message))
            }
        }
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.lifecycle
            .shutdown(|writer| self.sink.close(writer))
            .await
    }
}
