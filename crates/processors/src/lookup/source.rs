//! Loading the table from its source and keeping it current: the table in use, swapped
//! whole when the source's content changes; a load that fails keeps the table in use.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tributary_pipeline_core::component::{ComponentError, CreateSettings};
use tributary_pipeline_core::telemetry::{Counter, Gauge};

use super::config::{Source, TableFormat};
use super::table::{Table, parse_table};

/// The table of one `lookup` processor, shared by its traces, metrics and logs instances,
/// with the task that reloads it.
pub(crate) struct TableSource {
    source: Source,
    format: TableFormat,
    table: RwLock<Arc<Table>>,
    settings: CreateSettings,
    reloads: Counter,
    failures: Counter,
    rows: Gauge,
    running: Mutex<Running>,
    /// Held by a starting instance, so the others of the same processor wait for the
    /// first load instead of running with an empty table.
    starting: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Running {
    /// Instances started and not yet shut down.
    users: usize,
    /// A hash of the content loaded last, to skip parsing what did not change.
    loaded: Option<u64>,
    /// A hash of the content that failed to parse last, so it is reported once.
    failed: Option<u64>,
    task: Option<(CancellationToken, JoinHandle<()>)>,
}

fn lock(running: &Mutex<Running>) -> std::sync::MutexGuard<'_, Running> {
    running
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn content_hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

impl TableSource {
    pub(crate) fn new(settings: &CreateSettings, source: Source, format: TableFormat) -> Self {
        let id = settings.id().to_string();
        let registry = settings.metrics();
        let labels = [("processor", id.as_str())];
        TableSource {
            reloads: registry.counter(
                "otelcol_processor_lookup_table_loads",
                "Times the lookup table was loaded with new content.",
                &labels,
            ),
            failures: registry.counter(
                "otelcol_processor_lookup_table_load_failures",
                "Loads of the lookup table that failed; the table in use was kept.",
                &labels,
            ),
            rows: registry.gauge(
                "otelcol_processor_lookup_table_rows",
                "Rows of the lookup table in use.",
                &labels,
            ),
            source,
            format,
            table: RwLock::new(Arc::new(Table::default())),
            settings: settings.clone(),
            running: Mutex::new(Running::default()),
            starting: tokio::sync::Mutex::new(()),
        }
    }

    /// The table in use.
    pub(crate) fn table(&self) -> Arc<Table> {
        self.table
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Reads the source's bytes, at most `max_bytes`.
    async fn fetch(&self, client: Option<&reqwest::Client>) -> Result<Vec<u8>, String> {
        let max = self.source.max_bytes;
        match client {
            None => {
                let path = self.source.path.clone();
                // Reading a file blocks: off the runtime's threads.
                tokio::task::spawn_blocking(move || {
                    use std::io::Read;
                    let file = std::fs::File::open(&path).map_err(|e| format!("{path}: {e}"))?;
                    let mut bytes = Vec::new();
                    file.take(max as u64 + 1)
                        .read_to_end(&mut bytes)
                        .map_err(|e| format!("{path}: {e}"))?;
                    Ok(bytes)
                })
                .await
                .map_err(|e| format!("reading the table: {e}"))?
                .and_then(|bytes| too_big(bytes, max))
            }
            Some(client) => {
                let mut response = client
                    .get(&self.source.url)
                    .send()
                    .await
                    .map_err(|e| format!("fetching the table: {}", error_chain(&e)))?;
                if !response.status().is_success() {
                    return Err(format!("fetching the table: HTTP {}", response.status()));
                }
                let mut bytes = Vec::new();
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| format!("reading the table: {}", error_chain(&e)))?
                {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > max {
                        break;
                    }
                }
                too_big(bytes, max)
            }
        }
    }

    /// Loads the source; swaps the table in if its content changed. Returns whether it
    /// changed.
    async fn load(&self, client: Option<&reqwest::Client>) -> Result<bool, String> {
        let bytes = self.fetch(client).await?;
        let hash = content_hash(&bytes);
        {
            let running = lock(&self.running);
            if running.loaded == Some(hash) || running.failed == Some(hash) {
                return Ok(false);
            }
        }
        let (format, key_column) = (self.format, self.source.key_column.clone());
        let parsed = tokio::task::spawn_blocking(move || parse_table(&bytes, format, &key_column))
            .await
            .map_err(|e| format!("parsing the table: {e}"))?;
        let table = parsed.inspect_err(|_| lock(&self.running).failed = Some(hash))?;
        self.rows.set(table.len() as i64);
        *self
            .table
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(table);
        let mut running = lock(&self.running);
        running.loaded = Some(hash);
        running.failed = None;
        drop(running);
        self.reloads.inc();
        Ok(true)
    }

    /// Starts one instance: the first loads the table (an error fails the start: there is
    /// no table to keep) and starts the reload task.
    pub(crate) async fn start(self: &Arc<Self>) -> Result<(), ComponentError> {
        let _starting = self.starting.lock().await;
        let first = {
            let mut running = lock(&self.running);
            running.users += 1;
            running.users == 1 && running.task.is_none()
        };
        if !first {
            return Ok(());
        }
        let client = if self.source.url.is_empty() {
            None
        } else {
            Some(
                reqwest::Client::builder()
                    .timeout(self.source.timeout)
                    .build()
                    .map_err(|e| ComponentError::with_source("building the HTTP client", e))?,
            )
        };
        if let Err(error) = self.load(client.as_ref()).await {
            self.failures.inc();
            lock(&self.running).users -= 1;
            return Err(ComponentError::new(format!(
                "loading the lookup table: {error}"
            )));
        }
        let interval = self.source.reload_interval;
        if interval.is_zero() {
            return Ok(());
        }
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        let this = self.clone();
        let handle = self.settings.spawn(async move {
            this.reload_loop(client, interval, stop).await;
        });
        lock(&self.running).task = Some((cancel, handle));
        Ok(())
    }

    async fn reload_loop(
        &self,
        client: Option<reqwest::Client>,
        interval: Duration,
        stop: CancellationToken,
    ) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(interval) => {}
            }
            let outcome = tokio::select! {
                _ = stop.cancelled() => return,
                outcome = self.load(client.as_ref()) => outcome,
            };
            let _entered = self.settings.span().enter();
            match outcome {
                Ok(true) => tracing::info!(rows = self.table().len(), "lookup table reloaded"),
                Ok(false) => {}
                Err(error) => {
                    self.failures.inc();
                    tracing::warn!(%error, "lookup table reload failed; keeping the table in use");
                }
            }
        }
    }

    /// Shuts one started instance down; the last one stops the reload task.
    pub(crate) async fn shutdown(&self) {
        let task = {
            let mut running = lock(&self.running);
            running.users = running.users.saturating_sub(1);
            if running.users > 0 {
                return;
            }
            running.task.take()
        };
        if let Some((cancel, handle)) = task {
            cancel.cancel();
            let _ = handle.await;
        }
    }
}

fn too_big(bytes: Vec<u8>, max: usize) -> Result<Vec<u8>, String> {
    if bytes.len() > max {
        return Err(format!(
            "the table is larger than source::max_bytes ({max} bytes)"
        ));
    }
    Ok(bytes)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
