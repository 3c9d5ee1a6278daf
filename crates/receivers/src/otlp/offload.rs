//! Moving CPU-heavy request work (decompressing, decoding) off the async worker threads
//! when a request is large, so one big request does not stall the connections sharing its
//! thread. Small requests, the common case, are handled inline: a thread hop would cost
//! more than the work.

use tributary_pipeline_core::consumer::ConsumeError;

use super::refusal::Refusal;

/// Work on requests up to this many bytes runs inline.
const INLINE_LIMIT: usize = 256 * 1024;

/// Runs `work`, which handles about `size` bytes, inline or on the blocking pool.
pub(crate) async fn run<T: Send + 'static>(
    size: usize,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Refusal> {
    if size <= INLINE_LIMIT {
        return Ok(work());
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => Ok(done),
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(Refusal::Refused(ConsumeError::retryable(
            "the receiver is shutting down",
        ))),
    }
}
