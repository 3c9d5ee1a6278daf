//! `DedicatedThread`: an OS thread a component owns and joins at shutdown.

use std::fmt;
use std::io;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::settings::panic_message;

/// An OS thread doing a component's blocking work (file writes, terminal output), owned by
/// the component and joined when it shuts down.
///
/// Spawn it in [`Component::start`](super::Component::start), never in a factory's
/// create function (`validate` runs those), and end it in
/// [`Component::shutdown`](super::Component::shutdown): first tell the work to stop (close
/// its channel, set its flag), then [`join`](Self::join) with a bounded wait. A thread
/// still busy when the wait is over is abandoned — detached, it ends on its own once its
/// current work is done — and the join says so, naming the thread, so shutdown never
/// hangs on a stuck disk.
///
/// ```
/// use std::time::Duration;
/// use tributary_pipeline_core::component::DedicatedThread;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let (stop, stopped) = std::sync::mpsc::channel::<()>();
/// let thread = DedicatedThread::spawn("example-writer", move || {
///     // Blocking work until told to stop.
///     let _ = stopped.recv();
/// })?;
/// drop(stop);
/// thread.join(Duration::from_secs(5)).await.expect("the thread ends once told to");
/// # Ok(())
/// # }
/// ```
pub struct DedicatedThread {
    name: String,
    handle: JoinHandle<()>,
    /// Closed (its sender dropped) when the work returns or unwinds.
    finished: tokio::sync::oneshot::Receiver<()>,
    /// The same signal for a blocking wait.
    finished_blocking: mpsc::Receiver<()>,
}

/// Why a [`DedicatedThread`] could not be joined.
#[derive(Debug, thiserror::Error)]
pub enum ThreadJoinError {
    /// The thread was still running when the wait was over; it was detached.
    #[error(
        "the {name} thread did not finish within {timeout:?} and was abandoned; it ends on its own once its current work completes"
    )]
    Abandoned {
        /// The thread's name.
        name: String,
        /// How long the join waited.
        timeout: Duration,
    },
    /// The thread's work panicked.
    #[error("the {name} thread panicked: {message}")]
    Panicked {
        /// The thread's name.
        name: String,
        /// The panic's message.
        message: String,
    },
}

impl DedicatedThread {
    /// Starts a thread called `name` running `work`.
    ///
    /// # Errors
    ///
    /// The operating system's error if it cannot start a thread.
    pub fn spawn(
        name: impl Into<String>,
        work: impl FnOnce() + Send + 'static,
    ) -> io::Result<Self> {
        let name = name.into();
        let (finished_tx, finished) = tokio::sync::oneshot::channel::<()>();
        let (finished_blocking_tx, finished_blocking) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name(name.clone())
            .spawn(move || {
                // Dropped when `work` returns or unwinds: either way the thread is done with
                // its work and a join will not block.
                let _finished = (finished_tx, finished_blocking_tx);
                work();
            })?;
        Ok(DedicatedThread {
            name,
            handle,
            finished,
            finished_blocking,
        })
    }

    /// The thread's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the thread has ended.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits up to `timeout` for the thread to end, without blocking the async runtime.
    ///
    /// # Errors
    ///
    /// [`ThreadJoinError::Abandoned`] if it is still running after `timeout` (it is then
    /// detached), [`ThreadJoinError::Panicked`] if its work panicked.
    pub async fn join(mut self, timeout: Duration) -> Result<(), ThreadJoinError> {
        // The sender is never sent on, so the wait ends when it is dropped: an error.
        if tokio::time::timeout(timeout, &mut self.finished)
            .await
            .is_err()
        {
            return Err(self.abandon(timeout));
        }
        self.reap()
    }

    /// Like [`join`](Self::join), blocking the calling thread; for code that already runs
    /// on a blocking thread.
    ///
    /// # Errors
    ///
    /// As [`join`](Self::join).
    pub fn join_blocking(self, timeout: Duration) -> Result<(), ThreadJoinError> {
        match self.finished_blocking.recv_timeout(timeout) {
            Err(mpsc::RecvTimeoutError::Timeout) => Err(self.abandon(timeout)),
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => self.reap(),
        }
    }

    fn abandon(self, timeout: Duration) -> ThreadJoinError {
        // Dropping the handle detaches the thread.
        ThreadJoinError::Abandoned {
            name: self.name,
            timeout,
        }
    }

    /// Joins a thread whose work is over: at most thread-local destructors remain.
    fn reap(self) -> Result<(), ThreadJoinError> {
        self.handle
            .join()
            .map_err(|panic| ThreadJoinError::Panicked {
                name: self.name,
                message: panic_message(&*panic),
            })
    }
}

impl fmt::Debug for DedicatedThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DedicatedThread")
            .field("name", &self.name)
            .field("finished", &self.is_finished())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[tokio::test]
    async fn a_thread_told_to_stop_is_joined_and_gone() {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = DedicatedThread::spawn("test-stops", move || {
            let _ = stopped.recv();
        })
        .unwrap();
        assert!(!thread.is_finished());
        drop(stop);
        thread.join(Duration::from_secs(10)).await.unwrap();
    }

    #[tokio::test]
    async fn a_thread_that_does_not_stop_is_abandoned_after_the_wait() {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = DedicatedThread::spawn("test-stuck", move || {
            let _ = stopped.recv();
        })
        .unwrap();
        let error = thread.join(Duration::from_millis(20)).await.unwrap_err();
        assert!(
            matches!(error, ThreadJoinError::Abandoned { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("the test-stuck thread did not finish within 20ms"),
            "{error}"
        );
        drop(stop);
    }

    #[test]
    fn a_blocking_join_reports_a_panic() {
        let thread = DedicatedThread::spawn("test-panics", || panic!("boom")).unwrap();
        let error = thread.join_blocking(Duration::from_secs(10)).unwrap_err();
        assert_eq!(error.to_string(), "the test-panics thread panicked: boom");
        let (stop, stopped) = mpsc::channel::<()>();
        let stuck = DedicatedThread::spawn("test-stuck-blocking", move || {
            let _ = stopped.recv();
        })
        .unwrap();
        assert!(matches!(
            stuck.join_blocking(Duration::from_millis(20)),
            Err(ThreadJoinError::Abandoned { .. })
        ));
        drop(stop);
    }
}
