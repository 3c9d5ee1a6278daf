//! The writer thread: owns the file, encodes and writes records in arrival order, syncs
//! every `flush_interval`, and answers each write with its outcome.
//!
//! Encoding (JSON can be heavy) and disk I/O both happen here, on a dedicated thread, so
//! the async runtime never waits on either; exporters await a one-shot reply.

use std::any::Any;
use std::io;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tributary_pipeline_core::component::DedicatedThread;

use super::record::EncodeError;
use super::rotation::{RotatingFile, RotationPolicy};

/// Records larger than this do not keep their buffer's memory between writes.
const KEPT_BUFFER: usize = 4 * 1024 * 1024;

/// Where and how to write.
#[derive(Clone, Debug)]
pub(crate) struct WriterSettings {
    pub path: PathBuf,
    pub append: bool,
    pub rotation: Option<RotationPolicy>,
    /// Sync to disk this often; zero syncs after every write.
    pub sync_interval: Duration,
    /// Create the parent directory with these permissions, if set.
    pub create_directory: Option<u32>,
}

/// Fills a buffer with one record.
pub(crate) type Encode = Box<dyn FnOnce(&mut Vec<u8>) -> Result<(), EncodeError> + Send>;

/// Why a write failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    /// The batch could not be encoded; writing it again cannot help.
    #[error("{0}")]
    Encode(#[from] EncodeError),
    /// The disk refused (full, gone, read-only); a later attempt may succeed.
    #[error("writing {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    /// The writer is closed (the exporter was shut down).
    #[error("the file exporter for {0} is shut down")]
    Closed(String),
}

enum Command {
    Write {
        encode: Encode,
        reply: oneshot::Sender<Result<(), WriteError>>,
    },
    Close(oneshot::Sender<io::Result<()>>),
}

/// How long closing waits for the writer thread to write what was sent, sync and end.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// A handle on the writer thread, which it owns: [`close`](Self::close) joins it.
pub(crate) struct FileWriter {
    commands: mpsc::Sender<Command>,
    path: String,
    thread: Mutex<Option<DedicatedThread>>,
}

impl FileWriter {
    /// Starts the writer thread and opens the file on it.
    pub(crate) async fn open(settings: WriterSettings) -> io::Result<Self> {
        let path = settings.path.display().to_string();
        let (commands, inbox) = mpsc::channel();
        let (opened_tx, opened) = oneshot::channel();
        let thread = DedicatedThread::spawn("tributary-file-exporter", move || {
            run(settings, inbox, opened_tx)
        })?;
        let opened = opened
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the writer thread stopped while opening")));
        if let Err(error) = opened {
            // The thread ends right after reporting the failure.
            if let Err(join) = thread.join(CLOSE_WAIT).await {
                tracing::warn!(%path, error = %join, "the file exporter's writer thread did not end after a failed open");
            }
            return Err(error);
        }
        Ok(FileWriter {
            commands,
            path,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Writes the record `encode` produces; resolves once it is in the file.
    pub(crate) async fn write(&self, encode: Encode) -> Result<(), WriteError> {
        let (reply, outcome) = oneshot::channel();
        self.commands
            .send(Command::Write { encode, reply })
            .map_err(|_| WriteError::Closed(self.path.clone()))?;
        outcome
            .await
            .map_err(|_| WriteError::Closed(self.path.clone()))?
    }

    /// Writes what was sent before, syncs, closes the file and joins the thread, waiting
    /// at most 10 s for all of it.
    ///
    /// # Errors
    ///
    /// The sync's error, or the join's (the thread panicked, or was still busy when the
    /// wait was over and was abandoned).
    pub(crate) async fn close(&self) -> io::Result<()> {
        let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        else {
            return Ok(());
        };
        let (reply, done) = oneshot::channel();
        // A send fails only if the thread has ended already; the join says how.
        let _ = self.commands.send(Command::Close(reply));
        thread.join(CLOSE_WAIT).await.map_err(io::Error::other)?;
        // The thread is gone: its reply was sent or dropped.
        done.await.unwrap_or(Ok(()))
    }
}

/// The message of a panic payload.
fn panic_text(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn open_file(settings: &WriterSettings) -> io::Result<RotatingFile> {
    if let Some(mode) = settings.create_directory
        && let Some(dir) = settings.path.parent()
        && !dir.as_os_str().is_empty()
    {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
        #[cfg(not(unix))]
        let _ = mode;
        builder.create(dir)?;
    }
    RotatingFile::open(&settings.path, settings.append, settings.rotation)
}

fn run(
    settings: WriterSettings,
    inbox: mpsc::Receiver<Command>,
    opened: oneshot::Sender<io::Result<()>>,
) {
    let mut file = match open_file(&settings) {
        Ok(file) => {
            let _ = opened.send(Ok(()));
            file
        }
        Err(error) => {
            let _ = opened.send(Err(error));
            return;
        }
    };
    let path = settings.path.display().to_string();
    let mut buffer = Vec::new();
    let mut next_sync = Instant::now() + settings.sync_interval;
    // Written since the last sync: only then is there anything to sync, so an idle
    // writer sleeps however short the interval (Go configs say `flush_interval: 5`, 5ns).
    let mut dirty = false;
    loop {
        // Checked on every turn: a steady stream of writes never lets the wait time out.
        if dirty && Instant::now() >= next_sync {
            if let Err(error) = file.sync() {
                tracing::warn!(%path, %error, "syncing the output file failed");
            }
            dirty = false;
        }
        let command = if dirty {
            inbox.recv_timeout(next_sync.saturating_duration_since(Instant::now()))
        } else {
            inbox
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected)
        };
        match command {
            Ok(Command::Write { encode, reply }) => {
                buffer.clear();
                // A panic while encoding one batch must not take the file down with it.
                let encoded = std::panic::catch_unwind(AssertUnwindSafe(|| encode(&mut buffer)))
                    .unwrap_or_else(|panic| Err(EncodeError::Panicked(panic_text(&*panic))));
                let outcome = encoded.map_err(WriteError::Encode).and_then(|()| {
                    file.write_record(&buffer).map_err(|source| WriteError::Io {
                        path: path.clone(),
                        source,
                    })
                });
                if settings.sync_interval.is_zero()
                    && outcome.is_ok()
                    && let Err(source) = file.sync()
                {
                    let _ = reply.send(Err(WriteError::Io {
                        path: path.clone(),
                        source,
                    }));
                } else {
                    if !settings.sync_interval.is_zero() && outcome.is_ok() && !dirty {
                        // The first write since a sync starts the interval.
                        dirty = true;
                        next_sync = Instant::now() + settings.sync_interval;
                    }
                    let _ = reply.send(outcome);
                }
                if buffer.capacity() > KEPT_BUFFER {
                    buffer = Vec::new();
                }
            }
            Ok(Command::Close(reply)) => {
                let _ = reply.send(file.sync());
                return;
            }
            // Time to sync: done at the top of the loop.
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = file.sync();
                return;
            }
        }
    }
}
