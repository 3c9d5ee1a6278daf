//! Reading an OTLP/HTTP response: success with a possible partial success, or an error
//! classified for the retry machinery.
//!
//! | status | error |
//! |---|---|
//! | 2xx | none; a `partial_success` in the body is logged and counted |
//! | 429 | throttled, retry after `Retry-After` (seconds or HTTP-date) when sent |
//! | 502, 503, 504 | retryable, after `Retry-After` when sent |
//! | any other (4xx, other 5xx) | permanent, as the OTLP specification and the Go exporter say |

use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use prost::Message;
use tributary_pipeline_core::consumer::ConsumeError;

use tributary_pipeline_core::pdata::rpc;

use crate::client::status_error;
use crate::otlp_signal::{OtlpSignal, PartialSuccess};

/// The most of a response body read (as the Go exporter).
pub(crate) const MAX_BODY: usize = 64 * 1024;

/// The media type of a `Content-Type` value, lower-case, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// The server's explanation of a failure: the `google.rpc.Status` message of a protobuf
/// body, the `message` of a JSON one, or the start of a text body.
fn explanation(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    match media_type(headers).as_deref() {
        Some("application/x-protobuf") => rpc::Status::decode(body)
            .ok()
            .map(|status| status.message)
            .filter(|m| !m.is_empty()),
        Some("application/json") => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|json| json.get("message")?.as_str().map(str::to_string))
            .filter(|m| !m.is_empty()),
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            let mut end = text.len().min(256);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            (!text.is_empty()).then(|| text[..end].to_string())
        }
    }
}

/// Classifies a non-2xx response from `url`.
pub(crate) fn error_for(
    url: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> ConsumeError {
    let mut message = format!("{url} responded with HTTP {status}");
    if let Some(explanation) = explanation(headers, body) {
        message.push_str(": ");
        message.push_str(&explanation);
    }
    status_error(status, message, headers, 502..=504)
}

/// The partial success in a 2xx response body, read as protobuf or JSON per its
/// `Content-Type`. A body that cannot be read is reported as an error string; the export
/// still counts as delivered.
pub(crate) fn partial_success<T: OtlpSignal>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<PartialSuccess>, String> {
    if body.is_empty() {
        return Ok(None);
    }
    match media_type(headers).as_deref() {
        Some("application/x-protobuf") => T::Response::decode(body)
            .map(|response| T::partial_success(&response))
            .map_err(|e| format!("invalid protobuf response: {e}")),
        Some("application/json") => {
            let json: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| format!("invalid JSON response: {e}"))?;
            let Some(partial) = json.get("partialSuccess") else {
                return Ok(None);
            };
            // int64 fields may be numbers or, per the protobuf JSON mapping, strings.
            let rejected = match partial.get(T::JSON_REJECTED_FIELD) {
                None | Some(serde_json::Value::Null) => 0,
                Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or_default(),
                Some(serde_json::Value::String(s)) => s.parse().unwrap_or_default(),
                Some(other) => return Err(format!("invalid rejected count {other}")),
            };
            let message = partial
                .get("errorMessage")
                .and_then(|m| m.as_str())
                .unwrap_or_default()
                .to_string();
            Ok(Some(PartialSuccess { rejected, message }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tributary_pipeline_core::consumer::ErrorKind;
    use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn statuses_are_classified_like_the_specification_says() {
        let none = HeaderMap::new();
        for code in [400, 401, 403, 404, 405, 413, 415, 500, 501, 505] {
            let error = error_for("u", StatusCode::from_u16(code).unwrap(), &none, b"");
            assert_eq!(error.kind(), ErrorKind::Permanent, "{code}");
        }
        for code in [502, 503, 504] {
            let error = error_for("u", StatusCode::from_u16(code).unwrap(), &none, b"");
            assert_eq!(error.kind(), ErrorKind::Retryable, "{code}");
            assert_eq!(error.retry_after(), None);
        }
        let error = error_for("u", StatusCode::TOO_MANY_REQUESTS, &none, b"");
        assert_eq!(error.kind(), ErrorKind::Throttled);
        assert_eq!(error.retry_after(), None);

        let error = error_for(
            "u",
            StatusCode::SERVICE_UNAVAILABLE,
            &headers(&[("retry-after", "9")]),
            b"",
        );
        assert_eq!(error.kind(), ErrorKind::Retryable);
        assert_eq!(error.retry_after(), Some(Duration::from_secs(9)));
    }

    #[test]
    fn error_messages_carry_the_servers_explanation() {
        let status = rpc::Status {
            code: 3,
            message: "span name missing".into(),
            details: vec![],
        };
        let error = error_for(
            "http://x/v1/traces",
            StatusCode::BAD_REQUEST,
            &headers(&[("content-type", "application/x-protobuf")]),
            &status.encode_to_vec(),
        );
        assert!(error.message().contains("span name missing"), "{error}");
        assert!(error.message().contains("http://x/v1/traces"), "{error}");
        assert!(error.message().contains("400"), "{error}");

        let error = error_for(
            "u",
            StatusCode::BAD_REQUEST,
            &headers(&[("content-type", "application/json; charset=utf-8")]),
            br#"{"code":3,"message":"bad json"}"#,
        );
        assert!(error.message().contains("bad json"), "{error}");

        let error = error_for(
            "u",
            StatusCode::BAD_GATEWAY,
            &HeaderMap::new(),
            b"upstream gone\n",
        );
        assert!(error.message().ends_with("upstream gone"), "{error}");
    }

    #[test]
    fn partial_success_from_json_accepts_numbers_and_strings() {
        let json = headers(&[("content-type", "application/json")]);
        let parsed = partial_success::<Traces>(
            &json,
            br#"{"partialSuccess":{"rejectedSpans":"3","errorMessage":"too old"}}"#,
        )
        .unwrap();
        assert_eq!(
            parsed,
            Some(PartialSuccess {
                rejected: 3,
                message: "too old".into()
            })
        );
        let parsed =
            partial_success::<Metrics>(&json, br#"{"partialSuccess":{"rejectedDataPoints":4}}"#)
                .unwrap();
        assert_eq!(parsed.map(|p| p.rejected), Some(4));
        let parsed = partial_success::<Logs>(&json, br#"{}"#).unwrap();
        assert_eq!(parsed, None);
        assert!(partial_success::<Logs>(&json, b"{not json").is_err());
        assert_eq!(
            partial_success::<Logs>(&headers(&[("content-type", "text/plain")]), b"ok").unwrap(),
            None
        );
    }
}
