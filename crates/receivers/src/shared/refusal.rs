//! How a receiver answers when the pipeline refused the data (a [`ConsumeError`]): the HTTP
//! status, the gRPC status code, and the delay a client is told to wait
//! (`Retry-After`, `RetryInfo`).
//!
//! | refusal | HTTP | gRPC |
//! |---|---|---|
//! | permanent | 400 | `INVALID_ARGUMENT` |
//! | retryable | 503 | `UNAVAILABLE` |
//! | throttled | 429 | `RESOURCE_EXHAUSTED` |

use std::time::Duration;

use http::header::RETRY_AFTER;
use http::{HeaderMap, HeaderValue, StatusCode};
use tributary_pipeline_core::consumer::{ConsumeError, ErrorKind};

/// The delay a client is told to wait after a throttled refusal that named none.
pub(crate) const DEFAULT_THROTTLE_DELAY: Duration = Duration::from_secs(1);

/// The HTTP status for a pipeline's refusal: 400 (permanent), 503 (retryable) or 429
/// (throttled).
pub(crate) fn http_status(error: &ConsumeError) -> StatusCode {
    match error.kind() {
        ErrorKind::Permanent => StatusCode::BAD_REQUEST,
        ErrorKind::Retryable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// How long to wait before sending again: always known for throttling (the pipeline's
/// delay, or [`DEFAULT_THROTTLE_DELAY`]), for a retryable error when it named one.
pub(crate) fn retry_after(error: &ConsumeError) -> Option<Duration> {
    match error.kind() {
        ErrorKind::Permanent => None,
        ErrorKind::Retryable => error.retry_after(),
        ErrorKind::Throttled => Some(error.retry_after().unwrap_or(DEFAULT_THROTTLE_DELAY)),
    }
}

/// `Retry-After` in whole seconds, rounded up so a client does not come back early
/// (saturating: a refusal may carry any delay).
pub(crate) fn retry_after_seconds(delay: Duration) -> u64 {
    delay
        .as_secs()
        .saturating_add(u64::from(delay.subsec_nanos() > 0))
}

/// Sets `Retry-After` to `delay` in whole seconds, rounded up.
pub(crate) fn set_retry_after(headers: &mut HeaderMap, delay: Duration) {
    headers.insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds(delay)));
}

#[cfg(any(feature = "otlp", feature = "jaeger"))]
pub(crate) use self::grpc::{grpc_code, grpc_status};

#[cfg(any(feature = "otlp", feature = "jaeger"))]
mod grpc {
    use bytes::Bytes;
    use prost::Message;
    use tonic::Code;
    use tributary_pipeline_core::consumer::{ConsumeError, ErrorKind};
    use tributary_pipeline_core::pdata::rpc;

    use super::retry_after;

    /// The gRPC status code for a pipeline's refusal: `INVALID_ARGUMENT` (permanent),
    /// `UNAVAILABLE` (retryable) or `RESOURCE_EXHAUSTED` (throttled).
    pub(crate) fn grpc_code(error: &ConsumeError) -> Code {
        match error.kind() {
            ErrorKind::Permanent => Code::InvalidArgument,
            ErrorKind::Retryable => Code::Unavailable,
            ErrorKind::Throttled => Code::ResourceExhausted,
        }
    }

    /// The gRPC status for a pipeline's refusal, with `RetryInfo` when a delay is known.
    pub(crate) fn grpc_status(error: &ConsumeError) -> tonic::Status {
        let code = grpc_code(error);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_maps_to_its_status_and_delay() {
        let permanent = ConsumeError::permanent("no");
        assert_eq!(http_status(&permanent), StatusCode::BAD_REQUEST);
        assert_eq!(retry_after(&permanent), None);
        let retryable = ConsumeError::retryable("later");
        assert_eq!(http_status(&retryable), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after(&retryable), None);
        let throttled = ConsumeError::throttled("slow down", None);
        assert_eq!(http_status(&throttled), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry_after(&throttled), Some(DEFAULT_THROTTLE_DELAY));
        let named = ConsumeError::throttled("slow down", Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&named), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(retry_after_seconds(Duration::MAX), u64::MAX);
        let mut headers = HeaderMap::new();
        set_retry_after(&mut headers, Duration::from_millis(1500));
        assert_eq!(headers[RETRY_AFTER], "2");
    }
}
