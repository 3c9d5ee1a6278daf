//! The error messages of the OTLP protocol: `google.rpc.Status`, the body of an OTLP/HTTP
//! error response and the details of a gRPC status, and the `google.rpc.RetryInfo` in it
//! that tells a client how long to wait. Shared by every OTLP receiver and exporter, so
//! both ends read and write the same bytes.

use std::time::Duration;

use prost::Message;

/// The type URL of a `google.rpc.RetryInfo` inside [`Any`].
pub const RETRY_INFO_TYPE_URL: &str = "type.googleapis.com/google.rpc.RetryInfo";

/// `google.rpc.Status`.
#[derive(Clone, PartialEq, Message)]
pub struct Status {
    /// A `google.rpc.Code` (the gRPC status code).
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// What went wrong.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Further details, such as [`RetryInfo`].
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

impl Status {
    /// The first `RetryInfo` in the details, if any: `Some(delay)`, where the delay is zero
    /// when the `RetryInfo` named none (or a negative one).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tributary_pipeline_core::pdata::rpc::{Any, Status};
    ///
    /// let status = Status {
    ///     code: 8,
    ///     message: "slow down".into(),
    ///     details: vec![Any::retry_info(Duration::from_secs(2))],
    /// };
    /// assert_eq!(status.retry_info(), Some(Duration::from_secs(2)));
    /// ```
    pub fn retry_info(&self) -> Option<Duration> {
        self.details
            .iter()
            .filter(|any| any.type_url == RETRY_INFO_TYPE_URL)
            .find_map(|any| RetryInfo::decode(any.value.as_slice()).ok())
            .map(|info| info.retry_delay.map_or(Duration::ZERO, Duration::from))
    }
}

/// `google.protobuf.Any`: a message with its type.
#[derive(Clone, PartialEq, Message)]
pub struct Any {
    /// The type of `value`.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// The encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

impl Any {
    /// A `RetryInfo` asking the client to wait `delay`.
    pub fn retry_info(delay: Duration) -> Any {
        Any {
            type_url: RETRY_INFO_TYPE_URL.into(),
            value: RetryInfo {
                retry_delay: Some(delay.into()),
            }
            .encode_to_vec(),
        }
    }
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, Message)]
pub struct RetryInfo {
    /// How long to wait before retrying.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, Copy, PartialEq, Message)]
pub struct ProtoDuration {
    /// Whole seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// The nanoseconds beyond `seconds`.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl From<Duration> for ProtoDuration {
    /// Saturates at `i64::MAX` seconds.
    fn from(delay: Duration) -> Self {
        ProtoDuration {
            seconds: i64::try_from(delay.as_secs()).unwrap_or(i64::MAX),
            nanos: i32::try_from(delay.subsec_nanos()).unwrap_or(0),
        }
    }
}

impl From<ProtoDuration> for Duration {
    /// A negative duration is zero. The conversion takes whatever a peer sent without
    /// panicking: negative nanos are ignored, and nanos beyond a second (out of the
    /// specification's range) are added as they are.
    fn from(delay: ProtoDuration) -> Self {
        let Ok(seconds) = u64::try_from(delay.seconds) else {
            return Duration::ZERO;
        };
        let nanos = u64::try_from(delay.nanos).unwrap_or(0);
        Duration::from_secs(seconds).saturating_add(Duration::from_nanos(nanos))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip_and_negative_ones_are_zero() {
        let delay = Duration::from_millis(1500);
        assert_eq!(Duration::from(ProtoDuration::from(delay)), delay);
        let negative = ProtoDuration {
            seconds: -1,
            nanos: 500,
        };
        assert_eq!(Duration::from(negative), Duration::ZERO);
    }

    #[test]
    fn any_delay_a_peer_sends_converts_without_panicking() {
        let convert = |seconds, nanos| Duration::from(ProtoDuration { seconds, nanos });
        assert_eq!(
            convert(i64::MAX, i32::MAX),
            Duration::from_secs(i64::MAX as u64) + Duration::from_nanos(i32::MAX as u64)
        );
        assert_eq!(convert(i64::MAX, -1), Duration::from_secs(i64::MAX as u64));
        assert_eq!(convert(i64::MIN, i32::MIN), Duration::ZERO);
        assert_eq!(convert(0, 1_500_000_000), Duration::from_millis(1500));
    }

    #[test]
    fn retry_info_is_found_among_other_details_and_may_lack_a_delay() {
        let other = Any {
            type_url: "type.googleapis.com/google.rpc.DebugInfo".into(),
            value: vec![1, 2, 3],
        };
        let mut status = Status {
            code: 8,
            message: String::new(),
            details: vec![other.clone()],
        };
        assert_eq!(status.retry_info(), None);
        status.details.push(Any {
            type_url: RETRY_INFO_TYPE_URL.into(),
            value: RetryInfo { retry_delay: None }.encode_to_vec(),
        });
        assert_eq!(status.retry_info(), Some(Duration::ZERO));
        status.details = vec![other, Any::retry_info(Duration::from_secs(3))];
        let decoded = Status::decode(status.encode_to_vec().as_slice()).unwrap();
        assert_eq!(decoded.retry_info(), Some(Duration::from_secs(3)));
    }
}
