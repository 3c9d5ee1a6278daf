//! `ConsumeError`: why data was not accepted, in classes every layer can act on.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The class of a [`ConsumeError`]: what the caller should do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Retrying cannot help (malformed data, a backend's 4xx). The data is dropped and
    /// counted, never retried. Receivers answer gRPC `INVALID_ARGUMENT` / HTTP 400.
    Permanent,
    /// The data may be accepted later (backend down, queue full). Receivers answer gRPC
    /// `UNAVAILABLE` / HTTP 503, with the retry delay when one is known.
    Retryable,
    /// Like [`Retryable`](ErrorKind::Retryable), but because the sender is going too fast
    /// (memory limit, admission limit, a backend's 429). Receivers answer gRPC
    /// `RESOURCE_EXHAUSTED` with `RetryInfo` / HTTP 429 with `Retry-After`.
    Throttled,
}

/// Why a consumer did not accept data.
///
/// Keeps *permanent* failures apart from *retryable* and *throttled* ones, with an optional
/// delay before a retry makes sense, so that every layer (retry, queue, receiver) can act
/// on it. Cheap to clone: one export's error may be reported to every caller whose data
/// was in the failed batch.
///
/// An error from a [fanout](super::Fanout) also records which branches failed and which
/// accepted the data, so that [`Consumer::retry`](super::Consumer::retry) re-delivers only
/// to the ones that failed.
#[derive(Clone)]
pub struct ConsumeError {
    inner: Arc<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
    retry_after: Option<Duration>,
    partial: Option<super::fanout::PartialDelivery>,
}

impl ConsumeError {
    fn build(
        kind: ErrorKind,
        message: String,
        source: Option<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        ConsumeError {
            inner: Arc::new(Inner {
                kind,
                message,
                source,
                retry_after: None,
                partial: None,
            }),
        }
    }

    /// A failure that retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::build(ErrorKind::Permanent, message.into(), None)
    }

    /// A failure that may go away if the same data is sent again later.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::build(ErrorKind::Retryable, message.into(), None)
    }

    /// A refusal because the sender is going too fast; `retry_after` is the delay to wait
    /// before sending again, when known.
    pub fn throttled(message: impl Into<String>, retry_after: Option<Duration>) -> Self {
        Self::build(ErrorKind::Throttled, message.into(), None).with_retry_after(retry_after)
    }

    /// An error of `kind` caused by `source`; the message is the source's.
    pub fn from_source(kind: ErrorKind, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::build(kind, source.to_string(), Some(Box::new(source)))
    }

    /// The same error with a known delay before a retry makes sense (`None` keeps it unknown).
    pub fn with_retry_after(self, retry_after: Option<Duration>) -> Self {
        self.map_inner(|inner| inner.retry_after = retry_after)
    }

    /// The same error, with `context` put before its message (`"{context}: {message}"`).
    pub fn context(self, context: impl fmt::Display) -> Self {
        self.map_inner(|inner| inner.message = format!("{context}: {}", inner.message))
    }

    pub(crate) fn with_partial(self, partial: super::fanout::PartialDelivery) -> Self {
        self.map_inner(|inner| inner.partial = Some(partial))
    }

    fn map_inner(self, edit: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            // Shared: rebuild without the source (boxed errors cannot be cloned); its text
            // is already in the message.
            Err(shared) => Inner {
                kind: shared.kind,
                message: shared.message.clone(),
                source: None,
                retry_after: shared.retry_after,
                partial: shared.partial.clone(),
            },
        };
        edit(&mut inner);
        ConsumeError {
            inner: Arc::new(inner),
        }
    }

    /// The class of failure.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        self.inner.kind == ErrorKind::Permanent
    }

    /// Whether the same data may be accepted later (retryable or throttled).
    pub fn is_retryable(&self) -> bool {
        !self.is_permanent()
    }

    /// Whether the refusal is throttling.
    pub fn is_throttled(&self) -> bool {
        self.inner.kind == ErrorKind::Throttled
    }

    /// The delay to wait before retrying, when known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.inner.retry_after
    }

    /// The human-readable description.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// For an error from a fanout: every branch that failed, with its name (the component
    /// or pipeline ID) and its own error. Empty for other errors.
    pub fn failed_branches(&self) -> impl Iterator<Item = (&str, &ConsumeError)> {
        self.inner
            .partial
            .iter()
            .flat_map(|partial| partial.failures())
    }

    pub(crate) fn partial(&self) -> Option<&super::fanout::PartialDelivery> {
        self.inner.partial.as_ref()
    }
}

impl fmt::Display for ConsumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.inner.kind {
            ErrorKind::Permanent => "permanent error",
            ErrorKind::Retryable => "retryable error",
            ErrorKind::Throttled => "throttled",
        };
        write!(f, "{class}: {}", self.inner.message)?;
        if let Some(delay) = self.inner.retry_after {
            write!(f, " (retry after {delay:?})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ConsumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumeError")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("retry_after", &self.inner.retry_after)
            .finish()
    }
}

impl StdError for ConsumeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}
