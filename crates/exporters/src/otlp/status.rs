//! The gRPC status of a call, as the server sent it, and its classification into a
//! [`ConsumeError`] as the Go Collector's OTLP exporter classifies.
//!
//! | status | error |
//! |---|---|
//! | `CANCELLED`, `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE`, `UNAVAILABLE`, `DATA_LOSS` | retryable (with the server's `RetryInfo` delay, if sent) |
//! | `RESOURCE_EXHAUSTED` with `google.rpc.RetryInfo` | throttled, retry after its delay |
//! | `RESOURCE_EXHAUSTED` without `RetryInfo`, every other code | permanent |
//!
//! Failures of the connection itself (refused, reset, TLS handshake) never produce a
//! status; the call reports them as retryable directly.

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::HeaderMap;
use tonic::Code;
use tributary_pipeline_core::consumer::ConsumeError;

use tributary_pipeline_core::confighttp::percent::{Plus, decode_lossy};
use tributary_pipeline_core::pdata::rpc;

/// Binary metadata is base64 with or without padding (the gRPC spec allows both).
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Encodes binary (`-bin`) metadata for the wire.
pub(crate) fn encode_binary_metadata(value: &[u8]) -> String {
    BASE64.encode(value)
}

/// A gRPC status: code, message and the encoded `google.rpc.Status` details.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GrpcStatus {
    pub code: Code,
    pub message: String,
    pub details: Bytes,
}

impl GrpcStatus {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        GrpcStatus {
            code,
            message: message.into(),
            details: Bytes::new(),
        }
    }

    /// The status in `grpc-status`, `grpc-message` and `grpc-status-details-bin`, if
    /// `grpc-status` is present. Whatever the server put there, this does not fail:
    /// undecodable details are dropped, an unreadable message is shown as received.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let code = Code::from_bytes(headers.get("grpc-status")?.as_bytes());
        let message = headers
            .get("grpc-message")
            .map(|v| percent_decode(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let details = headers
            .get("grpc-status-details-bin")
            .and_then(|v| BASE64.decode(v.as_bytes()).ok())
            .map(Bytes::from)
            .unwrap_or_default();
        Some(GrpcStatus {
            code,
            message,
            details,
        })
    }

    /// The status a non-200 HTTP response without `grpc-status` stands for (the gRPC
    /// specification's HTTP-to-gRPC mapping).
    pub(crate) fn from_http(status: http::StatusCode) -> Self {
        let code = match status.as_u16() {
            400 => Code::Internal,
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::Unimplemented,
            429 | 502..=504 => Code::Unavailable,
            _ => Code::Unknown,
        };
        GrpcStatus::new(code, format!("HTTP status {status}"))
    }

    /// The server's `RetryInfo`, if the details carry one: `Some(delay)`, where the delay
    /// is zero when the server sent `RetryInfo` without one.
    pub(crate) fn retry_info(&self) -> Option<Duration> {
        use prost::Message;
        rpc::Status::decode(self.details.as_ref())
            .ok()?
            .retry_info()
    }

    /// Classifies a failed call.
    pub(crate) fn to_consume_error(&self) -> ConsumeError {
        let description = if self.message.is_empty() {
            format!("gRPC status {:?}", self.code)
        } else {
            format!("gRPC status {:?}: {}", self.code, self.message)
        };
        let retry_info = self.retry_info();
        let delay = retry_info.filter(|d| !d.is_zero());
        match self.code {
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
}

/// A `grpc-message` header, percent-encoded as gRPC sends it; malformed escapes kept.
fn percent_decode(bytes: &[u8]) -> Cow<'_, str> {
    decode_lossy(bytes, Plus::Kept)
}

/// Encoded status details carrying a `RetryInfo` (and an unrelated detail before it).
#[cfg(test)]
pub(crate) fn details_with_retry_info(delay: Option<Duration>) -> Vec<u8> {
    use prost::Message;
    let info = rpc::RetryInfo {
        retry_delay: delay.map(rpc::ProtoDuration::from),
    };
    rpc::Status {
        code: Code::ResourceExhausted as i32,
        message: "slow down".into(),
        details: vec![
            rpc::Any {
                type_url: "type.googleapis.com/google.rpc.DebugInfo".into(),
                value: vec![1, 2, 3],
            },
            rpc::Any {
                type_url: rpc::RETRY_INFO_TYPE_URL.into(),
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

    fn with_details(code: Code, details: Vec<u8>) -> GrpcStatus {
        GrpcStatus {
            code,
            message: "slow down".into(),
            details: details.into(),
        }
    }

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
            let error = GrpcStatus::new(code, "x").to_consume_error();
            assert_eq!(error.kind(), ErrorKind::Retryable, "{code:?}");
            assert_eq!(error.retry_after(), None);
        }
        for code in permanent {
            let error = GrpcStatus::new(code, "x").to_consume_error();
            assert_eq!(error.kind(), ErrorKind::Permanent, "{code:?}");
        }
    }

    #[test]
    fn resource_exhausted_with_retry_info_is_throttled() {
        let status = with_details(
            Code::ResourceExhausted,
            details_with_retry_info(Some(Duration::from_millis(2500))),
        );
        let error = status.to_consume_error();
        assert_eq!(error.kind(), ErrorKind::Throttled);
        assert_eq!(error.retry_after(), Some(Duration::from_millis(2500)));
        assert!(error.message().contains("slow down"), "{error}");

        // RetryInfo without a delay still marks the exhaustion as recoverable.
        let status = with_details(Code::ResourceExhausted, details_with_retry_info(None));
        let error = status.to_consume_error();
        assert_eq!(error.kind(), ErrorKind::Throttled);
        assert_eq!(error.retry_after(), None);
    }

    #[test]
    fn retryable_codes_keep_the_servers_delay() {
        let status = with_details(
            Code::Unavailable,
            details_with_retry_info(Some(Duration::from_secs(7))),
        );
        let error = status.to_consume_error();
        assert_eq!(error.kind(), ErrorKind::Retryable);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_info_of_any_size_is_read_without_panicking() {
        use prost::Message;
        let cases = [
            (i64::MAX, 0, Duration::from_secs(i64::MAX as u64)),
            (
                i64::MAX,
                i32::MAX,
                Duration::new(i64::MAX as u64, 0) + Duration::from_nanos(i32::MAX as u64),
            ),
            (i64::MAX, i32::MIN, Duration::from_secs(i64::MAX as u64)),
            (-1, i32::MAX, Duration::ZERO),
            (i64::MIN, -1, Duration::ZERO),
        ];
        for (seconds, nanos, delay) in cases {
            let info = rpc::RetryInfo {
                retry_delay: Some(rpc::ProtoDuration { seconds, nanos }),
            };
            let details = rpc::Status {
                code: Code::Unavailable as i32,
                message: String::new(),
                details: vec![rpc::Any {
                    type_url: rpc::RETRY_INFO_TYPE_URL.into(),
                    value: info.encode_to_vec(),
                }],
            }
            .encode_to_vec();
            let error = with_details(Code::Unavailable, details).to_consume_error();
            assert_eq!(error.kind(), ErrorKind::Retryable, "{seconds}s {nanos}ns");
            let expected = Some(delay).filter(|d| !d.is_zero());
            assert_eq!(error.retry_after(), expected, "{seconds}s {nanos}ns");
        }
    }

    #[test]
    fn garbage_details_are_ignored() {
        let status = with_details(Code::ResourceExhausted, vec![0xff, 0xff, 0xff]);
        assert_eq!(status.to_consume_error().kind(), ErrorKind::Permanent);
    }

    #[test]
    fn statuses_are_read_from_headers_without_trusting_them() {
        let mut headers = HeaderMap::new();
        assert_eq!(GrpcStatus::from_headers(&headers), None);
        headers.insert("grpc-status", "8".parse().unwrap());
        headers.insert(
            "grpc-message",
            "queue%20full%3A%20100%25%zz".parse().unwrap(),
        );
        headers.insert("grpc-status-details-bin", "!!not base64!!".parse().unwrap());
        let status = GrpcStatus::from_headers(&headers).unwrap();
        assert_eq!(status.code, Code::ResourceExhausted);
        assert_eq!(status.message, "queue full: 100%%zz");
        assert!(status.details.is_empty());

        let details = details_with_retry_info(Some(Duration::from_secs(2)));
        for encoded in [
            encode_binary_metadata(&details),
            base64::engine::general_purpose::STANDARD.encode(&details),
        ] {
            headers.insert("grpc-status-details-bin", encoded.parse().unwrap());
            let status = GrpcStatus::from_headers(&headers).unwrap();
            assert_eq!(status.retry_info(), Some(Duration::from_secs(2)));
        }
        headers.insert("grpc-status", "banana".parse().unwrap());
        assert_eq!(
            GrpcStatus::from_headers(&headers).unwrap().code,
            Code::Unknown
        );
    }

    #[test]
    fn http_statuses_map_as_the_grpc_specification_says() {
        let code = |s: u16| GrpcStatus::from_http(http::StatusCode::from_u16(s).unwrap()).code;
        assert_eq!(code(400), Code::Internal);
        assert_eq!(code(401), Code::Unauthenticated);
        assert_eq!(code(403), Code::PermissionDenied);
        assert_eq!(code(404), Code::Unimplemented);
        assert_eq!(code(429), Code::Unavailable);
        assert_eq!(code(503), Code::Unavailable);
        assert_eq!(code(500), Code::Unknown);
    }
}
