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
use http_body_util::{BodyExt, Limited};
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

/// A gRPC message framed for sending: its prefix and message in chunks sent one after
/// the other, so an uncompressed batch goes out from the received requests' own bytes.
pub(crate) struct Frame {
    chunks: Vec<Bytes>,
}

impl Frame {
    /// The frame's bytes, joined (tests).
    #[cfg(test)]
    fn to_vec(&self) -> Vec<u8> {
        self.chunks.concat()
    }
}

/// Frames the concatenation of `parts` as one gRPC message, compressed by `compressor`.
/// Uncompressed, the parts are not copied: the frame holds them after its prefix.
pub(crate) fn frame(compressor: Compressor, parts: &[Bytes]) -> std::io::Result<Frame> {
    let too_long = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a gRPC message cannot exceed 4 GiB",
        )
    };
    let length: usize = parts.iter().map(Bytes::len).sum();
    if compressor.compression == Compression::None {
        let len = u32::try_from(length).map_err(|_| too_long())?;
        let mut prefix = [0u8; 5];
        prefix[1..5].copy_from_slice(&len.to_be_bytes());
        let mut chunks = Vec::with_capacity(parts.len() + 1);
        chunks.push(Bytes::copy_from_slice(&prefix));
        chunks.extend(parts.iter().filter(|part| !part.is_empty()).cloned());
        return Ok(Frame { chunks });
    }
    // What gzip reserves for its output (about twice what OTLP compresses to); the
    // compressor gives back what is left over.
    let mut frame = Vec::with_capacity(5 + length / 2 + 64);
    frame.extend_from_slice(&[1, 0, 0, 0, 0]);
    compressor.compress_parts_into(parts, &mut frame)?;
    let len = u32::try_from(frame.len() - 5).map_err(|_| too_long())?;
    frame[1..5].copy_from_slice(&len.to_be_bytes());
    Ok(Frame {
        chunks: vec![Bytes::from(frame)],
    })
}

/// A request body sending a [`Frame`]'s chunks in order.
struct FrameBody {
    chunks: std::vec::IntoIter<Bytes>,
    remaining: u64,
}

impl From<Frame> for FrameBody {
    fn from(frame: Frame) -> Self {
        let remaining = frame.chunks.iter().map(|chunk| chunk.len() as u64).sum();
        FrameBody {
            chunks: frame.chunks.into_iter(),
            remaining,
        }
    }
}

impl http_body::Body for FrameBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let body = self.get_mut();
        let chunk = body.chunks.next();
        if let Some(chunk) = &chunk {
            body.remaining -= chunk.len() as u64;
        }
        std::task::Poll::Ready(chunk.map(|chunk| Ok(http_body::Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
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
    frame: Frame,
) -> Result<Option<Vec<u8>>, CallError> {
    let mut request = Request::new(tonic::body::Body::new(FrameBody::from(frame)));
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
        let parts = [
            Bytes::from_static(b"hel"),
            Bytes::new(),
            Bytes::from_static(b"lo"),
        ];
        let frame = frame(none, &parts).unwrap();
        assert_eq!(
            frame.chunks.len(),
            3,
            "the prefix, then the non-empty parts as they are"
        );
        assert_eq!(frame.chunks[1].as_ptr(), parts[0].as_ptr(), "not copied");
        let frame = frame.to_vec();
        assert_eq!(&frame[..], b"\x00\x00\x00\x00\x05hello");
        assert_eq!(message(&frame, "identity").unwrap().unwrap(), b"hello");

        let gzip = Compressor::new(Compression::Gzip, &CompressionParams::default());
        let input = vec![7u8; 10_000];
        let input = Bytes::from(input);
        let framed = super::frame(gzip, &[input.slice(..3000), input.slice(3000..)])
            .unwrap()
            .to_vec();
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
