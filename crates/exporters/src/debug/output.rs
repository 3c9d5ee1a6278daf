//! The output thread: formats batches and writes them, in arrival order, without holding
//! up the async runtime.
//!
//! Formatting a large batch at `detailed` verbosity is real CPU work, and a write to a
//! terminal or pipe can block; both happen on this thread. Exporters hand it a closure and
//! move on (the bounded queue makes them wait only when the output falls behind).

use std::io::{self, Write};
#[cfg(test)]
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};
use tributary_pipeline_core::consumer::ConsumeError;

/// Batches waiting to be printed before exporters wait for room.
const QUEUE: usize = 64;

/// What one batch prints: the summary line and, above `basic`, the details.
pub(crate) struct Rendered {
    pub summary: String,
    pub detail: Option<String>,
}

/// Produces a batch's text, on the output thread.
pub(crate) type Render = Box<dyn FnOnce() -> Rendered + Send>;

/// Where printed batches go.
pub(crate) enum Destination {
    /// Standard error, written directly.
    Stderr,
    /// The collector's own log: `tracing` events at info level, children of the
    /// component's span, sent to the subscriber that span belongs to (the collector's).
    InternalLog(tracing::Span),
    /// A string, for tests.
    #[cfg(test)]
    Memory(Arc<Mutex<String>>),
}

impl Destination {
    fn emit(&self, rendered: Rendered) {
        match self {
            Destination::Stderr => {
                let mut text = rendered.summary;
                text.push('\n');
                if let Some(detail) = rendered.detail {
                    text.push_str(&detail);
                }
                // Nothing sensible to do if standard error is gone.
                let _ = io::stderr().lock().write_all(text.as_bytes());
            }
            Destination::InternalLog(span) => {
                let emit = || {
                    tracing::info!(parent: span, "{}", rendered.summary);
                    if let Some(detail) = &rendered.detail {
                        tracing::info!(parent: span, "{}", detail.trim_end());
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
            Destination::Memory(text) => {
                let mut text = text.lock().unwrap();
                text.push_str(&rendered.summary);
                text.push('\n');
                if let Some(detail) = rendered.detail {
                    text.push_str(&detail);
                }
            }
        }
    }

    fn flush(&self) {
        if let Destination::Stderr = self {
            let _ = io::stderr().lock().flush();
        }
    }
}

enum Job {
    Print(Render),
    Flush(oneshot::Sender<()>),
}

/// A handle on the output thread; the thread ends when the last handle is dropped.
pub(crate) struct DebugOutput {
    jobs: mpsc::Sender<Job>,
}

impl DebugOutput {
    /// Starts the output thread.
    pub(crate) fn new(destination: Destination) -> io::Result<Self> {
        let (jobs, mut inbox) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("tributary-debug-exporter".into())
            .spawn(move || {
                while let Some(job) = inbox.blocking_recv() {
                    match job {
                        Job::Print(render) => {
                            // A batch that cannot be formatted must not silence the rest.
                            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(render)) {
                                Ok(rendered) => destination.emit(rendered),
                                Err(_) => destination.emit(Rendered {
                                    summary: "debug exporter: formatting a batch panicked".into(),
                                    detail: None,
                                }),
                            }
                        }
                        Job::Flush(done) => {
                            destination.flush();
                            let _ = done.send(());
                        }
                    }
                }
            })?;
        Ok(DebugOutput { jobs })
    }

    /// Queues a batch for printing.
    pub(crate) async fn print(&self, render: Render) -> Result<(), ConsumeError> {
        self.jobs
            .send(Job::Print(render))
            .await
            .map_err(|_| ConsumeError::retryable("the debug exporter's output has stopped"))
    }

    /// Waits until everything queued so far is written.
    pub(crate) async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.jobs.send(Job::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}
