//! How a refused Jaeger request is answered: the gRPC status and the HTTP status of each
//! class of [`ConsumeError`], with the delay a throttled or retryable refusal names.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use prost::Message;
use tonic::Code;
use tributary_pipeline_core::consumer::{ConsumeError, ErrorKind};
use tributary_pipeline_core::pdata::rpc;

/// The delay a client is told to wait after a throttled refusal that named none.
const DEFAULT_THROTTLE_DELAY: Duration = Duration::from_secs(1);

/// How long to wait before sending again: always known for throttling, for a retryable
/// error when it named one.
pub(crate) fn retry_after(error: &ConsumeError) -> Option<Duration> {
    match error.kind() {
        ErrorKind::Permanent => None,
        ErrorKind::Retryable => error.retry_after(),
        ErrorKind::Throttled => Some(error.retry_after().unwrap_or(DEFAULT_THROTTLE_DELAY)),
    }
}

/// The gRPC status for a pipeline's refusal: `INVALID_ARGUMENT` (permanent),
/// `UNAVAILABLE` (retryable) or `RESOURCE_EXHAUSTED` (throttled), with `RetryInfo` when a
/// delay is known.
pub(crate) fn grpc_status(error: &ConsumeError) -> tonic::Status {
    let code = match error.kind() {
        ErrorKind::Permanent => Code::InvalidArgument,
        ErrorKind::Retryable => Code::Unavailable,
        ErrorKind::Throttled => Code::ResourceExhausted,
    };
    let message = error.to_string();
    match retry_after(error) {
        Some(delay) => {
            let status = rpc::Status {
                code: code as i32,
                message: message.clone(),
                details: vec![rpc::Any::retry_info(delay)],
            };
            tonic::Status::with_details(code, message, Bytes::from(status.encode_to_vec()))
        }
        None => tonic::Status::new(code, message),
    }
}

/// The HTTP status for a pipeline's refusal: 400 (permanent), 503 (retryable) or 429
/// (throttled).
pub(crate) fn http_status(error: &ConsumeError) -> StatusCode {
    match error.kind() {
        ErrorKind::Permanent => StatusCode::BAD_REQUEST,
        ErrorKind::Retryable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// `Retry-After` in whole seconds, rounded up.
pub(crate) fn retry_after_seconds(delay: Duration) -> u64 {
    delay
        .as_secs()
        .saturating_add(u64::from(delay.subsec_nanos() > 0))
}
