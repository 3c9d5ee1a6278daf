//! One unary gRPC call, framed by us and carried by tonic's channel.
//!
//! tonic's channel provides the HTTP/2 connection, reconnection, keepalive, the user agent
//! and the origin; the framing is done here rather than by a tonic codec so that (1) an
//! unchanged payload's cached protobuf bytes go out without re-encoding and (2) the
//! compression level is ours to choose: tonic compresses gzip at a fixed level 6, which
//! costs several times the CPU of level 1 for about a fifth smaller bodies.
//!
//! The protocol: `POST /<service>/<method>` with `content-type: application/grpc` and
//! `te: trailers`; the body is one frame, a compressed-flag byte, a 4-byte big-endian
//! length and the message; the response is a frame followed by trailers carrying
//! `grpc-status` (or, for errors, only headers carrying it).

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full, Limited};
use tonic::Code;
use tonic::transport::Channel;
use tower::{Service, ServiceExt};
use tributary_pipeline_core::component::error_chain;

use super::status::GrpcStatus;
use crate::client::{Compression, Compressor, decompress};

/// The largest response accepted (tonic's default limit for received messages).
const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The connection failed (refused, reset, TLS, HTTP/2 error): worth retrying.
    Transport(String),
    /// The server answered with a status other than OK.
    Status(GrpcStatus),
}

/// Frames the concatenation of `parts` as one gRPC message, compressed by `compressor`.
pub(crate) fn frame<P: AsRef<[u8]>>(compressor: Compressor, parts: &[P]) -> std::io::Result<Bytes> {
    let compressed = compressor.compression != Compression::None;
    let length: usize = parts.iter().map(|part| part.as_ref().len()).sum();
    // Compressed: what gzip reserves for its output (about twice what OTLP compresses
    // to); the compressor gives back what is left over.
    let capacity = 5 + if compressed { length / 2 + 64 } else { length };
    let mut frame = Vec::with_capacity(capacity);
    frame.extend_from_slice(&[u8::from(compressed), 0, 0, 0, 0]);
    compressor.compress_parts_into(parts, &mut frame)?;
    let len = u32::try_from(frame.len() - 5).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a gRPC message cannot exceed 4 GiB",
        )
    })?;
    frame[1..5].copy_from_slice(&len.to_be_bytes());
    Ok(Bytes::from(frame))
}

/// The message of a response body: the first frame, decompressed per `encoding`.
fn message(body: &[u8], encoding: &str) -> Result<Option<Vec<u8>>, String> {
    if body.is_empty() {
        return Ok(None);
    }
    if body.len() < 5 {
        return Err(format!("truncated gRPC frame of {} bytes", body.len()));
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let payload = body
        .get(5..5 + len)
        .ok_or_else(|| format!("gRPC frame of {len} bytes holds only {}", body.len() - 5))?;
    if body[0] == 0 {
        return Ok(Some(payload.to_vec()));
    }
    decompress(encoding, payload, MAX_RESPONSE as u64)
        .map(Some)
        .map_err(|e| format!("decompressing the response: {e}"))
}

/// Sends `frame` to `path` with `headers` and returns the response message, if any.
pub(crate) async fn call(
    mut channel: Channel,
    path: &'static str,
    headers: HeaderMap,
    frame: Bytes,
) -> Result<Option<Vec<u8>>, CallError> {
    let mut request = Request::new(tonic::body::Body::new(Full::new(frame)));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = Uri::from_static(path);
    *request.version_mut() = Version::HTTP_2;
    *request.headers_mut() = headers;

    let transport = |e: &dyn std::error::Error| CallError::Transport(error_chain(e));
    let channel = ServiceExt::<Request<tonic::body::Body>>::ready(&mut channel)
        .await
        .map_err(|e| transport(&e))?;
    let response = channel.call(request).await.map_err(|e| transport(&e))?;
    let (parts, body) = response.into_parts();

    if let Some(status) = GrpcStatus::from_headers(&parts.headers) {
        // A trailers-only response: the status came with the headers.
        return if status.code == Code::Ok {
            Ok(None)
        } else {
            Err(CallError::Status(status))
        };
    }
    if parts.status != StatusCode::OK {
        return Err(CallError::Status(GrpcStatus::from_http(parts.status)));
    }

    let collected = Limited::new(body, MAX_RESPONSE)
        .collect()
        .await
        .map_err(|e| CallError::Transport(format!("reading the response: {}", error_chain(&*e))))?;
    let status = collected
        .trailers()
        .and_then(GrpcStatus::from_headers)
        .unwrap_or_else(|| {
            GrpcStatus::new(Code::Internal, "the response ended without a gRPC status")
        });
    if status.code != Code::Ok {
        return Err(CallError::Status(status));
    }
    let encoding = parts
        .headers
        .get("grpc-encoding")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    let body = collected.to_bytes();
    // The server accepted the data; a response we cannot read only loses its
    // partial-success report, so it is logged rather than failing the export.
    message(&body, encoding).or_else(|problem| {
        tracing::warn!(%problem, "unreadable gRPC response to an accepted export");
        Ok(None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::CompressionParams;

    #[test]
    fn frames_carry_the_flag_and_length() {
        let none = Compressor::new(Compression::None, &CompressionParams::default());
        let frame = frame(none, &[b"hel".as_slice(), b"lo"]).unwrap();
        assert_eq!(&frame[..], b"\x00\x00\x00\x00\x05hello");
        assert_eq!(message(&frame, "identity").unwrap().unwrap(), b"hello");

        let gzip = Compressor::new(Compression::Gzip, &CompressionParams::default());
        let input = vec![7u8; 10_000];
        let framed = super::frame(gzip, &[&input[..3000], &input[3000..]]).unwrap();
        assert_eq!(framed[0], 1);
        let len = u32::from_be_bytes([framed[1], framed[2], framed[3], framed[4]]) as usize;
        assert_eq!(len, framed.len() - 5);
        assert!(len < 200, "compressed");
        assert_eq!(message(&framed, "gzip").unwrap().unwrap(), input);
    }

    #[test]
    fn broken_response_frames_are_reported_not_trusted() {
        assert_eq!(message(b"", "identity").unwrap(), None);
        assert!(message(b"\x00\x00\x00", "identity").is_err());
        assert!(message(b"\x00\x00\x00\x00\x09abc", "identity").is_err());
        assert!(message(b"\x01\x00\x00\x00\x03abc", "gzip").is_err());
        assert!(message(b"\x01\x00\x00\x00\x03abc", "snappy").is_err());
    }
}
