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
use super::group::{ByResourceAttribute, GroupedFiles};
use super::record::RecordFormat;
use super::rotation::RotationPolicy;
use super::writer::{FileWriter, WriteError, WriterSettings};
use tributary_pipeline_core::pdata::otlp_json::JsonData;

/// What a running [`FileSink`] writes to.
pub(crate) enum OpenFiles {
    /// `path`: one file.
    Single(Arc<FileWriter>),
    /// `group_by`: one file per resource attribute value, opened on demand.
    Grouped {
        files: Arc<GroupedFiles>,
        attribute: String,
    },
}

/// The file of one `file` exporter, shared by its traces, metrics and logs instances (as
/// in the Go Collector, all signals go to the same file). Opened when the first instance
/// starts, closed (synced) when the last one shuts down.
pub(crate) struct FileSink {
    settings: WriterSettings,
    /// `group_by`: the attribute and how many files may be open.
    grouping: Option<(String, usize)>,
    lifecycle: Arc<SharedLifecycle<Arc<OpenFiles>>>,
    /// The open files while the lifecycle runs, for writes that must not wait for its lock.
    writer: RwLock<Option<Arc<OpenFiles>>>,
}

impl FileSink {
    pub(crate) fn new(config: &Config) -> Result<Self, CreateError> {
        let mode = config
            .directory_mode()
            .map_err(|e| CreateError::new(e.to_string()))?;
        let grouping = config
            .grouping()
            .map(|g| (g.resource_attribute.clone(), g.max_open_files));
        // Grouped files' directories are created as needed, as in Go.
        let create_directory = (config.create_directory || grouping.is_some()).then_some(mode);
        Ok(FileSink {
            grouping,
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

    async fn open(&self) -> Result<Arc<OpenFiles>, ComponentError> {
        let open = match &self.grouping {
            Some((attribute, max_open)) => OpenFiles::Grouped {
                files: Arc::new(GroupedFiles::new(
                    &self.settings.path.to_string_lossy(),
                    self.settings.clone(),
                    *max_open,
                )),
                attribute: attribute.clone(),
            },
            None => {
                let writer = FileWriter::open(self.settings.clone()).await.map_err(|e| {
                    ComponentError::with_source(
                        format!("opening {}", self.settings.path.display()),
                        e,
                    )
                })?;
                OpenFiles::Single(Arc::new(writer))
            }
        };
        let open = Arc::new(open);
        *self.writer.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&open));
        Ok(open)
    }

    async fn close(&self, open: Arc<OpenFiles>) -> Result<(), ComponentError> {
        self.writer
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let closed = match &*open {
            OpenFiles::Single(writer) => writer.close().await,
            OpenFiles::Grouped { files, .. } => files.close().await,
        };
        closed.map_err(|e| {
            ComponentError::with_source(format!("closing {}", self.settings.path.display()), e)
        })
    }

    fn writer(&self) -> Option<Arc<OpenFiles>> {
        self.writer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Writes one signal's batches through the shared [`FileSink`].
pub(crate) struct FileExporter<T> {
    sink: Arc<FileSink>,
    lifecycle: SharedLifecycleMember<Arc<OpenFiles>>,
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

impl<T: JsonData> FileExporter<T> {
    /// Writes `data` as one record to `writer`.
    async fn write(&self, writer: &FileWriter, data: T) -> Result<(), WriteError> {
        let format = self.format;
        writer
            .write(Box::new(move |buffer| format.encode(&data, buffer)))
            .await
    }

    /// `group_by`: each part of `data` to its file. A failure once a part was written is
    /// permanent (as in Go): retrying the batch would write that part twice.
    async fn write_grouped(
        &self,
        files: &GroupedFiles,
        attribute: &str,
        data: T,
    ) -> Result<(), ConsumeError>
    where
        T: ByResourceAttribute,
    {
        let (parts, missing) = data.by_resource_attribute(attribute);
        if missing > 0 {
            tracing::debug!(
                attribute,
                resources = missing,
                "resources without the group_by attribute are not written"
            );
        }
        let mut written = 0;
        for (segment, part) in parts {
            let outcome = match files.writer(&segment).await {
                Ok(writer) => self.write(&writer, part).await,
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => written += 1,
                Err(error) if written > 0 => {
                    return Err(ConsumeError::permanent(format!(
                        "{error} (after {written} files of the batch were written)"
                    )));
                }
                Err(error) => return Err(self.failed(error)),
            }
        }
        self.recovered();
        Ok(())
    }

    fn recovered(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            self.status.report(ComponentStatus::Ok);
        }
    }

    /// The error to return for a failed write, reporting the component's status.
    fn failed(&self, error: WriteError) -> ConsumeError {
        match error {
            error @ WriteError::Encode(_) => ConsumeError::permanent(error.to_string()),
            error => {
                let message = error.to_string();
                if !self.failing.swap(true, Ordering::Relaxed) {
                    self.status
                        .report(ComponentStatus::RecoverableError(message.clone()));
                }
                ConsumeError::retryable(message)
            }
        }
    }
}

#[async_trait]
impl<T: JsonData + ByResourceAttribute> Export<T> for FileExporter<T> {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        self.lifecycle.start(|| self.sink.open()).await
    }

    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        let open = self
            .sink
            .writer()
            .ok_or_else(|| ConsumeError::retryable("the file exporter is not running"))?;
        let writer = match &*open {
            OpenFiles::Single(writer) => writer,
            OpenFiles::Grouped { files, attribute } => {
                return self.write_grouped(files, attribute, data).await;
            }
        };
        let outcome = self.write(writer, data).await;
        match outcome {
            Ok(()) => {
                self.recovered();
                Ok(())
            }
            Err(error) => Err(self.failed(error)),
        }
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.lifecycle
            .shutdown(|writer| self.sink.close(writer))
            .await
    }
}
