//! Why a request was not accepted, and how each protocol tells the client: the gRPC status
//! code, the HTTP status, `Retry-After`, and a `google.rpc.Status` with `RetryInfo`.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use prost::Message;
use tonic::Code;
use tributary_pipeline_core::consumer::{ConsumeError, ErrorKind};
use tributary_pipeline_core::pdata::rpc;

/// The delay a client is told to wait after a throttled refusal that named none.
pub(crate) const DEFAULT_THROTTLE_DELAY: Duration = Duration::from_secs(1);

/// Why the receiver did not accept a request.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// The request cannot be read: malformed protobuf or JSON, a corrupt compressed body.
    /// HTTP 400, gRPC `INVALID_ARGUMENT`.
    Malformed(String),
    /// The request is larger than the configured limit, as sent or once decompressed.
    /// HTTP 413, gRPC `RESOURCE_EXHAUSTED` without `RetryInfo` (sending it again cannot help).
    TooLarge(String),
    /// The authenticator refused the request's credentials (missing or wrong). HTTP 401,
    /// gRPC `UNAUTHENTICATED`.
    Unauthenticated(String),
    /// The request did not arrive within the read timeout. HTTP 408, gRPC
    /// `DEADLINE_EXCEEDED` (which OTLP clients retry).
    TimedOut(String),
    /// The call broke the gRPC protocol (no message, a truncated one, or more than one in
    /// a unary call). gRPC `INTERNAL`, as grpc-go answers it.
    ProtocolViolation(String),
    /// The gRPC message is compressed with an encoding the receiver does not support.
    /// gRPC `UNIMPLEMENTED`.
    UnsupportedEncoding(String),
    /// The pipeline, or admission control, refused the data; mapped by its kind.
    Refused(ConsumeError),
}

impl Refusal {
    /// A refusal because the receiver already holds as many request bytes as it may.
    pub(crate) fn over_admission_limit() -> Refusal {
        Refusal::Refused(ConsumeError::throttled(
            "too many request bytes in process: over the receiver's admission limit",
            Some(DEFAULT_THROTTLE_DELAY),
        ))
    }

    /// The gRPC status code.
    pub(crate) fn grpc_code(&self) -> Code {
        match self {
            Refusal::Malformed(_) => Code::InvalidArgument,
            Refusal::TooLarge(_) => Code::ResourceExhausted,
            Refusal::Unauthenticated(_) => Code::Unauthenticated,
            Refusal::TimedOut(_) => Code::DeadlineExceeded,
            Refusal::ProtocolViolation(_) => Code::Internal,
            Refusal::UnsupportedEncoding(_) => Code::Unimplemented,
            Refusal::Refused(error) => match error.kind() {
                ErrorKind::Permanent => Code::InvalidArgument,
                ErrorKind::Retryable => Code::Unavailable,
                ErrorKind::Throttled => Code::ResourceExhausted,
            },
        }
    }

    /// The HTTP status.
    pub(crate) fn http_status(&self) -> StatusCode {
        match self {
            Refusal::Malformed(_)
            | Refusal::ProtocolViolation(_)
            | Refusal::UnsupportedEncoding(_) => StatusCode::BAD_REQUEST,
            Refusal::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::TimedOut(_) => StatusCode::REQUEST_TIMEOUT,
            Refusal::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Refusal::Refused(error) => match error.kind() {
                ErrorKind::Permanent => StatusCode::BAD_REQUEST,
                ErrorKind::Retryable => StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::Throttled => StatusCode::TOO_MANY_REQUESTS,
            },
        }
    }

    /// How long the client should wait before sending again: known for throttling (a
    /// default when the refusal named none, so a client always gets `RetryInfo` /
    /// `Retry-After` with a throttled answer) and for retryable errors that named a delay.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Refusal::Refused(error) => match error.kind() {
                ErrorKind::Permanent => None,
                ErrorKind::Retryable => error.retry_after(),
                ErrorKind::Throttled => Some(error.retry_after().unwrap_or(DEFAULT_THROTTLE_DELAY)),
            },
            _ => None,
        }
    }

    /// What went wrong, for the client.
    pub(crate) fn message(&self) -> String {
        match self {
            Refusal::Malformed(message)
            | Refusal::TooLarge(message)
            | Refusal::TimedOut(message)
            | Refusal::ProtocolViolation(message)
            | Refusal::UnsupportedEncoding(message)
            | Refusal::Unauthenticated(message) => message.clone(),
            Refusal::Refused(error) => error.to_string(),
        }
    }

    /// The refusal as a gRPC status, with `RetryInfo` in its details when a delay is known.
    pub(crate) fn to_grpc_status(&self) -> tonic::Status {
        let code = self.grpc_code();
        let message = self.message();
        match self.retry_after() {
            Some(_) => {
                let details = Bytes::from(self.to_rpc_status().encode_to_vec());
                tonic::Status::with_details(code, message, details)
            }
            None => tonic::Status::new(code, message),
        }
    }

    /// The refusal as a `google.rpc.Status` message.
    pub(crate) fn to_rpc_status(&self) -> rpc::Status {
        rpc::Status {
            code: self.grpc_code() as i32,
            message: self.message(),
            details: self
                .retry_after()
                .map(rpc::Any::retry_info)
                .into_iter()
                .collect(),
        }
    }

    /// The refusal as a `google.rpc.Status` in OTLP/JSON (protobuf's JSON mapping).
    pub(crate) fn to_json(&self) -> Vec<u8> {
        let mut status = serde_json::json!({
            "code": self.grpc_code() as i32,
            "message": self.message(),
        });
        if let Some(delay) = self.retry_after() {
            status["details"] = serde_json::json!([{
                "@type": rpc::RETRY_INFO_TYPE_URL,
                "retryDelay": json_duration(delay),
            }]);
        }
        serde_json::to_vec(&status).unwrap_or_default()
    }
}

/// `Retry-After` in whole seconds, rounded up (saturating: a refusal may carry any delay).
pub(crate) fn retry_after_seconds(delay: Duration) -> u64 {
    delay
        .as_secs()
        .saturating_add(u64::from(delay.subsec_nanos() > 0))
}

/// A duration in protobuf's JSON mapping: seconds with up to nine decimals and an `s`.
fn json_duration(delay: Duration) -> String {
    let nanos = delay.subsec_nanos();
    if nanos == 0 {
        format!("{}s", delay.as_secs())
    } else {
        let fraction = format!("{nanos:09}");
        format!("{}.{}s", delay.as_secs(), fraction.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_maps_to_its_codes() {
        let cases = [
            (
                Refusal::Malformed("x".into()),
                Code::InvalidArgument,
                400,
                None,
            ),
            (
                Refusal::TooLarge("x".into()),
                Code::ResourceExhausted,
                413,
                None,
            ),
            (
                Refusal::Unauthenticated("x".into()),
                Code::Unauthenticated,
                401,
                None,
            ),
            (
                Refusal::TimedOut("x".into()),
                Code::DeadlineExceeded,
                408,
                None,
            ),
            (
                Refusal::ProtocolViolation("x".into()),
                Code::Internal,
                400,
                None,
            ),
            (
                Refusal::UnsupportedEncoding("x".into()),
                Code::Unimplemented,
                400,
                None,
            ),
            (
                Refusal::Refused(ConsumeError::permanent("bad")),
                Code::InvalidArgument,
                400,
                None,
            ),
            (
                Refusal::Refused(ConsumeError::retryable("down")),
                Code::Unavailable,
                503,
                None,
            ),
            (
                Refusal::Refused(
                    ConsumeError::retryable("down").with_retry_after(Some(Duration::from_secs(7))),
                ),
                Code::Unavailable,
                503,
                Some(Duration::from_secs(7)),
            ),
            (
                Refusal::Refused(ConsumeError::throttled("slow down", None)),
                Code::ResourceExhausted,
                429,
                Some(DEFAULT_THROTTLE_DELAY),
            ),
            (
                Refusal::Refused(ConsumeError::throttled(
                    "slow down",
                    Some(Duration::from_millis(2500)),
                )),
                Code::ResourceExhausted,
                429,
                Some(Duration::from_millis(2500)),
            ),
        ];
        for (refusal, code, http, delay) in cases {
            assert_eq!(refusal.grpc_code(), code, "{refusal:?}");
            assert_eq!(refusal.http_status().as_u16(), http, "{refusal:?}");
            assert_eq!(refusal.retry_after(), delay, "{refusal:?}");
            let status = refusal.to_grpc_status();
            assert_eq!(status.code(), code);
            let details = rpc::Status::decode(status.details()).unwrap_or_default();
            assert_eq!(details.retry_info(), delay, "{refusal:?}");
            assert_eq!(refusal.to_rpc_status().retry_info(), delay);
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(retry_after_seconds(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_seconds(Duration::ZERO), 0);
        assert_eq!(retry_after_seconds(Duration::MAX), u64::MAX);
    }

    #[test]
    fn json_status_follows_the_protobuf_json_mapping() {
        let refusal = Refusal::Refused(ConsumeError::throttled(
            "slow down",
            Some(Duration::from_millis(1500)),
        ));
        let json: serde_json::Value = serde_json::from_slice(&refusal.to_json()).unwrap();
        assert_eq!(json["code"], 8);
        assert_eq!(json["message"], "throttled: slow down (retry after 1.5s)");
        assert_eq!(json["details"][0]["@type"], rpc::RETRY_INFO_TYPE_URL);
        assert_eq!(json["details"][0]["retryDelay"], "1.5s");

        let json: serde_json::Value =
            serde_json::from_slice(&Refusal::Malformed("bad".into()).to_json()).unwrap();
        assert_eq!(json, serde_json::json!({"code": 3, "message": "bad"}));
    }
}
