//! The `filelog` receiver: a thread that polls the files every `poll_interval`, hands
//! each batch to the pipeline, and checkpoints what was accepted.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::Instrument;
use tributary_pipeline_core::component::{
    Component, ComponentError, ComponentId, CreateError, CreateSettings, DedicatedThread, Host,
    KeyValueStorage, Kind, StorageClient,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::{Logs, Signal};
use tributary_pipeline_core::prelude::CancellationToken;
use tributary_pipeline_core::receiverhelper;
use tributary_pipeline_core::telemetry::ReceiverMetrics;

use super::checkpoint::{self, Checkpoint};
use super::config::{Config, RetryOnFailure};
use super::tracker::{Delivery, Downstream, Tracker};

/// How long shutdown waits for the polling thread (its batch in flight, its checkpoint).
const SHUTDOWN_WAIT: Duration = Duration::from_secs(15);

/// A running (or ready) `filelog` receiver.
pub(crate) struct FilelogReceiver {
    config: Config,
    id: ComponentId,
    next: Next<Logs>,
    metrics: Arc<ReceiverMetrics>,
    span: tracing::Span,
    running: Mutex<Option<(CancellationToken, DedicatedThread)>>,
}

impl FilelogReceiver {
    pub(crate) fn create(
        settings: &CreateSettings,
        config: &Config,
        next: Next<Logs>,
    ) -> Result<Arc<FilelogReceiver>, CreateError> {
        Ok(Arc::new(FilelogReceiver {
            config: config.clone(),
            id: settings.id().clone(),
            next,
            metrics: Arc::new(ReceiverMetrics::new(
                settings.metrics(),
                settings.id(),
                "",
                Signal::Logs,
            )),
            span: settings.span().clone(),
            running: Mutex::new(None),
        }))
    }

    /// The checkpoint client of the configured `storage` extension, if any.
    async fn storage(&self, host: &Host) -> Result<Option<Arc<dyn StorageClient>>, ComponentError> {
        let Some(storage) = &self.config.storage else {
            return Ok(None);
        };
        let id: ComponentId = storage
            .parse()
            .map_err(|e| ComponentError::new(format!("storage: {storage:?}: {e}")))?;
        let extension = host.capability::<dyn KeyValueStorage>(&id).ok_or_else(|| {
            ComponentError::new(format!(
                "storage: {id} is not a storage extension of this collector (list it under \
                 extensions and service::extensions)"
            ))
        })?;
        let client = extension
            .open_client(Kind::Receiver, &self.id, "")
            .await
            .map_err(|e| ComponentError::with_source(format!("storage: cannot open {id}"), e))?;
        Ok(Some(client))
    }
}

#[tributary_pipeline_core::prelude::async_trait]
impl Component for FilelogReceiver {
    async fn start(&self, host: &Host) -> Result<(), ComponentError> {
        let storage = self.storage(host).await?;
        let restored = match &storage {
            Some(client) => {
                load_checkpoint(client.as_ref())
                    .instrument(self.span.clone())
                    .await?
            }
            None => None,
        };
        let mut tracker = Tracker::new(&self.config, restored).map_err(ComponentError::new)?;
        let stop = CancellationToken::new();
        let mut downstream = PipelineDownstream {
            runtime: tokio::runtime::Handle::current(),
            next: Arc::clone(&self.next),
            metrics: Arc::clone(&self.metrics),
            storage,
            stop: stop.clone(),
            retry: self.config.retry_on_failure.clone(),
            span: self.span.clone(),
        };
        let (interval, span) = (self.config.poll_interval, self.span.clone());
        let thread = DedicatedThread::spawn(format!("{}-poller", self.id), move || {
            let _entered = span.enter();
            loop {
                let started = Instant::now();
                tracker.poll(&mut downstream);
                let wait = interval.saturating_sub(started.elapsed());
                if downstream.sleep(wait) {
                    break;
                }
            }
            tracker.flush_operators(i64::MAX, &mut downstream);
            tracker.store_checkpoint(&mut downstream);
        })
        .map_err(|e| ComponentError::with_source("cannot start the polling thread", e))?;
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some((stop, thread));
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some((stop, thread)) = running else {
            return Ok(());
        };
        stop.cancel();
        thread
            .join(SHUTDOWN_WAIT)
            .await
            .map_err(|e| ComponentError::with_source("the polling thread did not stop", e))
    }
}

/// The checkpoint the storage holds (either version), if any. An unreadable index is
/// ignored (files are read as new: duplicates, never a loss); a storage that cannot be
/// read fails the start.
async fn load_checkpoint(client: &dyn StorageClient) -> Result<Option<Checkpoint>, ComponentError> {
    let unreadable = |e| ComponentError::with_source("storage: cannot read the checkpoint", e);
    let Some(index) = client.get(checkpoint::KEY).await.map_err(unreadable)? else {
        return Ok(None);
    };
    let ids = match checkpoint::decode_index(&index) {
        Ok(checkpoint::Index::Files(files)) => return Ok(Some(files)),
        Ok(checkpoint::Index::Ids(ids)) => ids,
        Err(error) => {
            tracing::warn!(%error, "ignoring the checkpoint; files are read as new");
            return Ok(None);
        }
    };
    let mut values = Vec::with_capacity(ids.len());
    for id in ids {
        let value = client
            .get(&checkpoint::file_key(id))
            .await
            .map_err(unreadable)?;
        values.push((id, value));
    }
    Ok(Some(checkpoint::from_files(values)))
}

/// The pipeline and the checkpoint store, seen from the polling thread.
struct PipelineDownstream {
    runtime: tokio::runtime::Handle,
    next: Next<Logs>,
    metrics: Arc<ReceiverMetrics>,
    storage: Option<Arc<dyn StorageClient>>,
    stop: CancellationToken,
    retry: RetryOnFailure,
    span: tracing::Span,
}

impl PipelineDownstream {
    /// Waits `wait` unless stopped first; returns whether the receiver is stopping.
    fn sleep(&self, wait: Duration) -> bool {
        let stop = self.stop.clone();
        self.runtime.block_on(async move {
            tokio::select! {
                () = tokio::time::sleep(wait) => false,
                () = stop.cancelled() => true,
            }
        })
    }
}

impl Downstream for PipelineDownstream {
    fn deliver(&mut self, logs: Logs) -> Delivery {
        let started = Instant::now();
        let mut backoff = self.retry.initial_interval;
        loop {
            let outcome = self.runtime.block_on(receiverhelper::deliver(
                &self.next,
                &self.metrics,
                logs.clone(),
            ));
            let error = match outcome {
                Ok(()) => return Delivery::Accepted,
                Err(error) if error.is_permanent() => {
                    self.span.in_scope(|| {
                        tracing::warn!(%error, "the pipeline refused a batch for good; it is dropped")
                    });
                    return Delivery::Dropped;
                }
                Err(error) => error,
            };
            let elapsed = started.elapsed();
            let out_of_time = !self.retry.max_elapsed_time.is_zero()
                && elapsed + backoff > self.retry.max_elapsed_time;
            if !self.retry.enabled || out_of_time || self.stop.is_cancelled() {
                self.span.in_scope(|| {
                    tracing::debug!(%error, "the pipeline refused a batch; it is read again at the next poll")
                });
                return Delivery::Refused;
            }
            if self.sleep(backoff) {
                return Delivery::Refused;
            }
            backoff = (backoff.mul_f64(1.5)).min(self.retry.max_interval);
        }
    }

    fn checkpoint(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> bool {
        let Some(client) = &self.storage else {
            return true;
        };
        for (key, value) in writes {
            let written = self.runtime.block_on(async {
                match value {
                    Some(value) => client.set(&key, value).await,
                    None => client.delete(&key).await,
                }
            });
            if let Err(error) = written {
                self.span.in_scope(|| {
                    tracing::warn!(%error, key, "cannot store the checkpoint; a restart may read lines again")
                });
                return false;
            }
        }
        true
    }

    fn stopping(&self) -> bool {
        self.stop.is_cancelled()
    }
}
