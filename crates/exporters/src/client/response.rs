//! What a failed HTTP export means for the retry machinery: a request that could not be
//! sent, or a non-2xx status, as a [`ConsumeError`] with the delay `Retry-After` asks for.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;
use http::{HeaderMap, HeaderValue, StatusCode};
use tributary_pipeline_core::component::error_chain;
use tributary_pipeline_core::consumer::ConsumeError;

/// The delay a `Retry-After` value asks for: delay-seconds, or an HTTP-date (a date in the
/// past means no delay). Delay-seconds too large for a `u64` mean the longest delay there
/// is; the retry stage decides how much of any delay it honours.
pub(crate) fn retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = text.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// At most `limit` bytes of a response body: what an error message quotes or a partial
/// success holds. A peer cannot make us buffer more; a body that breaks off is what
/// arrived until then.
pub(crate) async fn read_body(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < limit {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    body
}

/// The error for a non-2xx `status` described by `message`: 429 is throttling and the
/// statuses in `retryable` are retryable, each after `Retry-After` when sent; any other
/// status is permanent (the same data would be refused again).
pub(crate) fn status_error(
    status: StatusCode,
    message: String,
    headers: &HeaderMap,
    retryable: RangeInclusive<u16>,
) -> ConsumeError {
    let delay = headers
        .get(RETRY_AFTER)
        .and_then(|value| retry_after(value, SystemTime::now()));
    match status.as_u16() {
        429 => ConsumeError::throttled(message, delay),
        code if retryable.contains(&code) => {
            ConsumeError::retryable(message).with_retry_after(delay)
        }
        _ => ConsumeError::permanent(message),
    }
}

/// The error for a request to `url` that got no answer: permanent when the request could
/// not be built (sending it again cannot help), retryable otherwise (connection refused,
/// reset, timed out). The error's own text leaves the URL out: `url` shows it redacted.
pub(crate) fn send_error(url: &impl Display, error: reqwest::Error) -> ConsumeError {
    let error = error.without_url();
    let message = format!("sending to {url}: {}", error_chain(&error));
    if error.is_builder() {
        ConsumeError::permanent(message)
    } else {
        ConsumeError::retryable(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&"120".parse().unwrap(), now),
            Some(Duration::from_secs(120))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(45));
        assert_eq!(
            retry_after(&later.parse().unwrap(), now),
            Some(Duration::from_secs(45))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(45));
        assert_eq!(
            retry_after(&earlier.parse().unwrap(), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&"soon".parse().unwrap(), now), None);
        assert_eq!(retry_after(&"-5".parse().unwrap(), now), None);
    }

    #[test]
    fn absurd_retry_after_values_saturate_instead_of_failing() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let longest = Some(Duration::from_secs(u64::MAX));
        for absurd in [
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999999999999999999",
        ] {
            assert_eq!(
                retry_after(&absurd.parse().unwrap(), now),
                longest,
                "{absurd}"
            );
        }
        // The latest HTTP-date there is, seen from the earliest clock there is.
        let last = "Fri, 31 Dec 9999 23:59:59 GMT".parse().unwrap();
        assert!(retry_after(&last, SystemTime::UNIX_EPOCH).is_some());
    }

    #[test]
    fn statuses_are_classified_with_their_delay() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("9"));
        let throttled = status_error(
            StatusCode::TOO_MANY_REQUESTS,
            "x".into(),
            &headers,
            500..=599,
        );
        assert!(throttled.is_throttled());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(9)));
        let retryable = status_error(StatusCode::BAD_GATEWAY, "x".into(), &headers, 502..=504);
        assert!(!retryable.is_permanent() && !retryable.is_throttled());
        assert_eq!(retryable.retry_after(), Some(Duration::from_secs(9)));
        let outside = status_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "x".into(),
            &headers,
            502..=504,
        );
        assert!(outside.is_permanent());
        let client = status_error(StatusCode::BAD_REQUEST, "x".into(), &headers, 500..=599);
        assert!(client.is_permanent());
    }
}
