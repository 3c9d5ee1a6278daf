//! Why a request was not accepted, and how each protocol tells the client: the gRPC status
//! code, the HTTP status, `Retry-After`, and a `google.rpc.Status` with `RetryInfo`.

use std::time::Duration;

use http::StatusCode;
use tonic::Code;
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::rpc;

use crate::shared::admission::NotAdmitted;
use crate::shared::refusal;
pub(crate) use crate::shared::refusal::{DEFAULT_THROTTLE_DELAY, retry_after_seconds};

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

impl From<NotAdmitted> for Refusal {
    fn from(refusal: NotAdmitted) -> Refusal {
        match refusal {
            NotAdmitted::TooLarge { bytes } => Refusal::TooLarge(format!(
                "request of {bytes} bytes is larger than the receiver's whole admission limit"
            )),
            NotAdmitted::NoRoom => Refusal::over_admission_limit(),
        }
    }
}

impl Refusal {
    /// A refusal because the receiver already holds as many request bytes as it may.
    pub(crate) fn over_admission_limit() -> Refusal {
        Refusal::Refused(ConsumeError::throttled(
            NotAdmitted::NO_ROOM,
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
            Refusal::Refused(error) => refusal::grpc_code(error),
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
            Refusal::Refused(error) => refusal::http_status(error),
        }
    }

    /// How long the client should wait before sending again: known for throttling (a
    /// default when the refusal named none, so a client always gets `RetryInfo` /
    /// `Retry-After` with a throttled answer) and for retryable errors that named a delay.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            Refusal::Refused(error) => refusal::retry_after(error),
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
        match self {
            // Only the pipeline's refusals carry a delay.
            Refusal::Refused(error) => refusal::grpc_status(error),
            _ => tonic::Status::new(self.grpc_code(), self.message()),
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
    use prost::Message;

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
