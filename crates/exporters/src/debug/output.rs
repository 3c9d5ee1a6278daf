//! The output thread: formats batches and writes them, in arrival order, without holding
//! up the async runtime.
//!
//! Formatting a large batch at `detailed` verbosity is real CPU work, and a write to a
//! terminal or pipe can block; both happen on this thread. Exporters hand it a closure and
//! move on (the bounded queue makes them wait only when the output falls behind).

use std::io::{self, Write};
#[cfg(test)]
use std::sync::Mutex;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tributary_pipeline_core::component::{ComponentError, DedicatedThread};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::receiverhelper::SharedLifecycle;

/// Batches waiting to be printed before exporters wait for room.
const QUEUE: usize = 64;

/// What one batch prints: the summary line and, above `basic`, the details.
pub(crate) struct Rendered {
    pub summary: String,
    pub detail: Option<String>,
}

/// Produces a batch's text, on the output thread.
pub(crate) type Render = Box<dyn FnOnce() -> Rendered + Send>;

/// Where printed batches go, as configured.
#[derive(Clone)]
pub(crate) enum Destination {
    /// `output_paths`: `stdout`, `stderr` or files (appended to, created if missing),
    /// written directly, every batch to each.
    Paths(Vec<String>),
    /// The collector's own log: `tracing` events at info level, children of the
    /// component's span, sent to the subscriber that span belongs to (the collector's).
    InternalLog(tracing::Span),
    /// A string, for tests.
    #[cfg(test)]
    Memory(Arc<Mutex<String>>),
}

impl Destination {
    /// Opens what the output thread writes to: the files of `output_paths` are opened
    /// (created, appended to) off the async runtime, so a missing directory fails the
    /// start with the path.
    async fn open(&self) -> Result<Sink, ComponentError> {
        match self {
            Destination::Paths(paths) => {
                let paths = paths.clone();
                let streams = tokio::task::spawn_blocking(move || {
                    paths
                        .iter()
                        .map(|path| Stream::open(path))
                        .collect::<Result<Vec<_>, _>>()
                })
                .await
                .map_err(|e| ComponentError::with_source("opening output_paths", e))??;
                Ok(Sink::Streams(streams))
            }
            Destination::InternalLog(span) => Ok(Sink::InternalLog(span.clone())),
            #[cfg(test)]
            Destination::Memory(text) => Ok(Sink::Memory(text.clone())),
        }
    }
}

/// One of `output_paths`, open.
enum Stream {
    Stdout,
    Stderr,
    File(std::fs::File),
}

impl Stream {
    /// `stdout` and `stderr` are the process's streams; anything else is a file path, as
    /// zap (behind Go's `output_paths`) reads them.
    fn open(path: &str) -> Result<Stream, ComponentError> {
        match path {
            "stdout" => Ok(Stream::Stdout),
            "stderr" => Ok(Stream::Stderr),
            path => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(Stream::File)
                .map_err(|e| {
                    ComponentError::with_source(format!("cannot open output path {path:?}"), e)
                }),
        }
    }

    fn write(&mut self, text: &[u8]) {
        // Nothing sensible to do if a stream is gone or a disk is full: the next batch
        // tries again, and the other streams still get this one.
        let _ = match self {
            Stream::Stdout => io::stdout().lock().write_all(text),
            Stream::Stderr => io::stderr().lock().write_all(text),
            Stream::File(file) => file.write_all(text),
        };
    }

    fn flush(&mut self) {
        let _ = match self {
            Stream::Stdout => io::stdout().lock().flush(),
            Stream::Stderr => io::stderr().lock().flush(),
            Stream::File(file) => file.flush(),
        };
    }
}

/// What the output thread writes to.
enum Sink {
    Streams(Vec<Stream>),
    InternalLog(tracing::Span),
    #[cfg(test)]
    Memory(Arc<Mutex<String>>),
}

impl Sink {
    fn emit(&mut self, rendered: Rendered) {
        match self {
            Sink::Streams(streams) => {
                let mut text = rendered.summary;
                text.push('\n');
                if let Some(detail) = rendered.detail {
                    text.push_str(&detail);
                }
                for stream in streams {
                    stream.write(text.as_bytes());
                }
            }
            Sink::InternalLog(span) => {
                let emit = || {
                    tracing::info!(parent: &*span, "{}", rendered.summary);
                    if let Some(detail) = &rendered.detail {
                        tracing::info!(parent: &*span, "{}", detail.trim_end());
                    }
                };
                // This thread has no subscriber of its own: log to the span's, or, for a
                // span no subscriber took, to the process-wide one.
                if span
                    .with_subscriber(|(_, dispatch)| {
                        tracing::dispatcher::with_default(dispatch, emit)
                    })
                    .is_none()
                {
                    emit();
                }
            }
            #[cfg(test)]
            Sink::Memory(text) => {
                let mut text = text.lock().unwrap();
                text.push_str(&rendered.summary);
                text.push('\n');
                if let Some(detail) = rendered.detail {
                    text.push_str(&detail);
                }
            }
        }
    }

    fn flush(&mut self) {
        if let Sink::Streams(streams) = self {
            for stream in streams {
                stream.flush();
            }
        }
    }
}

enum Job {
    Print(Render),
    Flush(oneshot::Sender<()>),
}

/// How long shutdown waits for the output thread to print what is queued and end.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// The output of one `debug` exporter, shared by its signals so their lines never mix: a
/// thread started by the first signal's start and joined when the last one shuts down.
pub(crate) struct DebugOutput {
    destination: Destination,
    /// The thread, run while some signal's instance is started.
    pub(crate) lifecycle: Arc<SharedLifecycle<DedicatedThread>>,
    /// The thread's inbox while it runs.
    jobs: RwLock<Option<mpsc::Sender<Job>>>,
}

impl DebugOutput {
    /// The output to `destination`; nothing runs until [`open`](Self::open).
    pub(crate) fn new(destination: Destination) -> Self {
        DebugOutput {
            destination,
            lifecycle: Arc::new(SharedLifecycle::new()),
            jobs: RwLock::new(None),
        }
    }

    /// Opens the destination and starts the output thread (the first signal's instance
    /// does, through the lifecycle).
    pub(crate) async fn open(&self) -> Result<DedicatedThread, ComponentError> {
        let (jobs, inbox) = mpsc::channel::<Job>(QUEUE);
        let sink = self.destination.open().await?;
        let thread = DedicatedThread::spawn("tributary-debug-exporter", move || run(sink, inbox))
            .map_err(|e| ComponentError::with_source("starting the output thread", e))?;
        *self.jobs.write().unwrap_or_else(PoisonError::into_inner) = Some(jobs);
        Ok(thread)
    }

    /// Stops the output thread and joins it, waiting at most 10 s (the last signal's
    /// instance does, through the lifecycle).
    pub(crate) async fn close(&self, thread: DedicatedThread) -> Result<(), ComponentError> {
        // Closing the inbox lets the thread print what is queued, flush and end.
        self.jobs
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        thread
            .join(SHUTDOWN_WAIT)
            .await
            .map_err(|e| ComponentError::with_source("stopping the output thread", e))
    }

    fn jobs(&self) -> Option<mpsc::Sender<Job>> {
        self.jobs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Queues a batch for printing.
    pub(crate) async fn print(&self, render: Render) -> Result<(), ConsumeError> {
        let stopped = || ConsumeError::retryable("the debug exporter's output is not running");
        self.jobs()
            .ok_or_else(stopped)?
            .send(Job::Print(render))
            .await
            .map_err(|_| stopped())
    }

    /// Waits until everything queued so far is written.
    pub(crate) async fn flush(&self) {
        let Some(jobs) = self.jobs() else {
            return;
        };
        let (done, written) = oneshot::channel();
        if jobs.send(Job::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// The output thread: prints jobs in order until the inbox closes, then flushes.
fn run(mut sink: Sink, mut inbox: mpsc::Receiver<Job>) {
    while let Some(job) = inbox.blocking_recv() {
        match job {
            Job::Print(render) => {
                // A batch that cannot be formatted must not silence the rest.
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(render)) {
                    Ok(rendered) => sink.emit(rendered),
                    Err(_) => sink.emit(Rendered {
                        summary: "debug exporter: formatting a batch panicked".into(),
                        detail: None,
                    }),
                }
            }
            Job::Flush(done) => {
                sink.flush();
                let _ = done.send(());
            }
        }
    }
    sink.flush();
}
