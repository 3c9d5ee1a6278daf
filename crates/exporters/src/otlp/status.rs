//! From a gRPC status to a [`ConsumeError`], as the Go Collector's OTLP exporter classifies.
//!
//! | status | error |
//! |---|---|
//! | `CANCELLED`, `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE`, `UNAVAILABLE`, `DATA_LOSS` | retryable (with the server's `RetryInfo` delay, if sent) |
//! | `RESOURCE_EXHAUSTED` with `google.rpc.RetryInfo` | throttled, retry after its delay |
//! | `RESOURCE_EXHAUSTED` without `RetryInfo`, every other code | permanent |
//! | a failure of the connection itself (refused, reset, TLS handshake) | retryable |

use std::time::Duration;

use tonic::{Code, Status};
use tributary_pipeline_core::consumer::ConsumeError;

use crate::otlp_signal::RpcStatus;

const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct ProtoDuration {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl ProtoDuration {
    fn to_duration(&self) -> Duration {
        if self.seconds < 0 || (self.seconds == 0 && self.nanos <= 0) {
            return Duration::ZERO;
        }
        Duration::new(self.seconds as u64, self.nanos.max(0) as u32)
    }
}

/// The server's `RetryInfo`, if its status details carry one: `Some(delay)`, where the
/// delay is zero when the server sent `RetryInfo` without one.
pub(crate) fn retry_info(details: &[u8]) -> Option<Duration> {
    use prost::Message;
    let status = RpcStatus::decode(details).ok()?;
    status
        .details
        .iter()
        .find(|any| any.type_url == RETRY_INFO_TYPE)
        .and_then(|any| RetryInfo::decode(any.value.as_slice()).ok())
        .map(|info| {
            info.retry_delay
                .as_ref()
                .map_or(Duration::ZERO, ProtoDuration::to_duration)
        })
}

/// Classifies a failed export call.
pub(crate) fn to_consume_error(status: &Status) -> ConsumeError {
    let description = if status.message().is_empty() {
        format!("gRPC status {:?}", status.code())
    } else {
        format!("gRPC status {:?}: {}", status.code(), status.message())
    };

    // tonic attaches the underlying error to statuses it makes from local failures
    // (connection refused or reset, TLS handshake, HTTP/2 errors); statuses sent by the
    // server never carry one. A broken connection is worth retrying whatever code it got.
    if std::error::Error::source(status).is_some() {
        return ConsumeError::retryable(format!("sending failed: {description}"));
    }

    let retry_info = retry_info(status.details());
    let delay = retry_info.filter(|d| !d.is_zero());
    match status.code() {
        Code::Cancelled
        | Code::DeadlineExceeded
        | Code::Aborted
        | Code::OutOfRange
        | Code::Unavailable
        | Code::DataLoss => ConsumeError::retryable(description).with_retry_after(delay),
        Code::ResourceExhausted if retry_info.is_some() => {
            ConsumeError::throttled(description, delay)
        }
        _ => ConsumeError::permanent(description),
    }
}

/// Encoded status details carrying a `RetryInfo` (and an unrelated detail before it).
#[cfg(test)]
pub(crate) fn details_with_retry_info(delay: Option<Duration>) -> Vec<u8> {
    use crate::otlp_signal::ProtoAny;
    use prost::Message;
    let info = RetryInfo {
        retry_delay: delay.map(|d| ProtoDuration {
            seconds: d.as_secs() as i64,
            nanos: d.subsec_nanos() as i32,
        }),
    };
    RpcStatus {
        code: Code::ResourceExhausted as i32,
        message: "slow down".into(),
        details: vec![
            ProtoAny {
                type_url: "type.googleapis.com/google.rpc.DebugInfo".into(),
                value: vec![1, 2, 3],
            },
            ProtoAny {
                type_url: RETRY_INFO_TYPE.into(),
                value: info.encode_to_vec(),
            },
        ],
    }
    .encode_to_vec()
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::consumer::ErrorKind;

    use super::*;

    #[test]
    fn codes_map_like_the_go_exporter() {
        let retryable = [
            Code::Cancelled,
            Code::DeadlineExceeded,
            Code::Aborted,
            Code::OutOfRange,
            Code::Unavailable,
            Code::DataLoss,
        ];
        let permanent = [
            Code::Unknown,
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::FailedPrecondition,
            Code::Unimplemented,
            Code::Internal,
            Code::Unauthenticated,
        ];
        for code in retryable {
            let error = to_consume_error(&Status::new(code, "x"));
            assert_eq!(error.kind(), ErrorKind::Retryable, "{code:?}");
            assert_eq!(error.retry_after(), None);
        }
        for code in permanent {
            let error = to_consume_error(&Status::new(code, "x"));
            assert_eq!(error.kind(), ErrorKind::Permanent, "{code:?}");
        }
    }

    #[test]
    fn resource_exhausted_with_retry_info_is_throttled() {
        let status = Status::with_details(
            Code::ResourceExhausted,
            "slow down",
            details_with_retry_info(Some(Duration::from_millis(2500))).into(),
        );
        let error = to_consume_error(&status);
        assert_eq!(error.kind(), ErrorKind::Throttled);
        assert_eq!(error.retry_after(), Some(Duration::from_millis(2500)));
        assert!(error.message().contains("slow down"), "{error}");

        // RetryInfo without a delay still marks the exhaustion as recoverable.
        let status = Status::with_details(
            Code::ResourceExhausted,
            "slow down",
            details_with_retry_info(None).into(),
        );
        let error = to_consume_error(&status);
        assert_eq!(error.kind(), ErrorKind::Throttled);
        assert_eq!(error.retry_after(), None);
    }

    #[test]
    fn retryable_codes_keep_the_servers_delay() {
        let status = Status::with_details(
            Code::Unavailable,
            "draining",
            details_with_retry_info(Some(Duration::from_secs(7))).into(),
        );
        let error = to_consume_error(&status);
        assert_eq!(error.kind(), ErrorKind::Retryable);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn garbage_details_are_ignored() {
        let status = Status::with_details(
            Code::ResourceExhausted,
            "x",
            bytes::Bytes::from_static(&[0xff, 0xff, 0xff]),
        );
        assert_eq!(to_consume_error(&status).kind(), ErrorKind::Permanent);
    }

    #[test]
    fn local_transport_failures_are_retryable() {
        let status = Status::from_error(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )));
        assert_eq!(status.code(), Code::Unknown);
        assert_eq!(to_consume_error(&status).kind(), ErrorKind::Retryable);
    }
}
