//! Reading an HTTP request's body within the receiver's `max_request_body_size` and
//! `read_timeout`, before it is decompressed and decoded.

use std::fmt;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Why a request's body could not be read; each receiver words its own answer.
#[derive(Debug)]
pub(crate) enum ReadBodyError {
    /// The body is longer than the limit.
    TooLarge,
    /// The body did not arrive within `read_timeout`.
    TimedOut,
    /// The connection failed while the body arrived.
    Broken(String),
}

impl fmt::Display for ReadBodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadBodyError::TooLarge => f.write_str("the body is larger than the limit"),
            ReadBodyError::TimedOut => f.write_str("the body did not arrive within read_timeout"),
            ReadBodyError::Broken(error) => f.write_str(error),
        }
    }
}

/// The body's length as its `Content-Length` declares it, when it does.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
}

/// The whole body, if it holds at most `limit` bytes and arrives within `read_timeout`
/// (`None`: as long as it takes).
pub(crate) async fn read_body(
    body: Body,
    limit: usize,
    read_timeout: Option<Duration>,
) -> Result<Bytes, ReadBodyError> {
    let collect = Limited::new(body, limit).collect();
    let collected = match read_timeout {
        Some(timeout) => tokio::time::timeout(timeout, collect)
            .await
            .map_err(|_| ReadBodyError::TimedOut)?,
        None => collect.await,
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ReadBodyError::TooLarge),
        Err(e) => Err(ReadBodyError::Broken(e.to_string())),
    }
}
