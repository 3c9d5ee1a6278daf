//! Compressed request bodies and messages: decoded by the shared
//! [`configcompression`](tributary_pipeline_core::configcompression) within the size
//! limit, taking the output's memory from the request's admission permit.

use bytes::Bytes;
use http::HeaderMap;
use http::header::CONTENT_ENCODING;
use tributary_pipeline_core::configcompression::{DecompressError, Encoding, decompress};

use super::body::too_large;
use super::refusal::Refusal;
use crate::shared::admission::AdmissionPermit;

/// The encoding an HTTP request declares (`Content-Encoding`), if `allowed` lists it; an
/// error naming it otherwise.
pub(crate) fn http_encoding(headers: &HeaderMap, allowed: &[Encoding]) -> Result<Encoding, String> {
    let Some(value) = headers.get(CONTENT_ENCODING) else {
        return Ok(Encoding::Identity);
    };
    let shown = String::from_utf8_lossy(value.as_bytes());
    match value.to_str().ok().and_then(Encoding::from_http) {
        Some(Encoding::Identity) => Ok(Encoding::Identity),
        Some(encoding) if allowed.contains(&encoding) => Ok(encoding),
        _ => Err(format!(
            "unsupported Content-Encoding {shown:?}: supported are {}",
            allowed
                .iter()
                .map(|e| e.name())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Decompresses `body`, refusing it once the output passes `limit` bytes (413) and
/// growing `permit` with the output's buffer before each allocation.
pub(crate) fn decompress_body(
    encoding: Encoding,
    body: Bytes,
    limit: usize,
    permit: &mut AdmissionPermit,
) -> Result<Bytes, Refusal> {
    if encoding == Encoding::Identity {
        return Ok(body);
    }
    decompress(encoding, &body, limit, permit)
        .map(Bytes::from)
        .map_err(|error| match error {
            DecompressError::TooLarge(limit) => too_large(limit),
            DecompressError::Refused(refusal) => refusal.into(),
            corrupt @ DecompressError::Corrupt { .. } => Refusal::Malformed(corrupt.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::otlp::config::AdmissionConfig;

    /// The result of a future that is ready at once (admission with room to spare).
    fn futures_ready<T, E: std::fmt::Debug>(
        future: impl std::future::Future<Output = Result<T, E>>,
    ) -> T {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(future).poll(&mut context) {
            std::task::Poll::Ready(result) => result.expect("admitted"),
            std::task::Poll::Pending => panic!("admission had to wait"),
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    fn encoding(name: &str, allowed: &[Encoding]) -> Result<Encoding, String> {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, http::HeaderValue::from_str(name).unwrap());
        http_encoding(&headers, allowed)
    }

    #[test]
    fn only_the_allowed_encodings_are_accepted() {
        let allowed = [Encoding::Gzip, Encoding::Lz4];
        assert_eq!(
            http_encoding(&HeaderMap::new(), &allowed),
            Ok(Encoding::Identity)
        );
        assert_eq!(encoding("GZIP", &allowed), Ok(Encoding::Gzip));
        assert_eq!(encoding("lz4", &allowed), Ok(Encoding::Lz4));
        assert_eq!(encoding("identity", &allowed), Ok(Encoding::Identity));
        let refused = encoding("zstd", &allowed).unwrap_err();
        assert!(
            refused.contains("\"zstd\": supported are gzip, lz4"),
            "{refused}"
        );
        assert!(encoding("br", &allowed).unwrap_err().contains("\"br\""));
    }

    #[test]
    fn decompressed_bytes_count_against_admission() {
        let admission = AdmissionConfig {
            request_limit_mib: 2,
            waiting_limit_mib: 0,
        }
        .budget(Default::default());
        let _others = futures_ready(admission.admit(3 << 19));
        let mut permit = futures_ready(admission.admit(1000));
        let data = vec![1u8; 1 << 20];
        let refusal = decompress_body(
            Encoding::Gzip,
            Bytes::from(gzip(&data)),
            2 << 20,
            &mut permit,
        )
        .unwrap_err();
        assert!(
            matches!(&refusal, Refusal::Refused(e) if e.is_throttled()),
            "{refusal:?}"
        );
    }

    #[test]
    fn a_zstd_window_counts_against_admission() {
        let admission = AdmissionConfig {
            request_limit_mib: 16,
            waiting_limit_mib: 0,
        }
        .budget(Default::default());
        let mut permit = futures_ready(admission.admit(1000));
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        encoder.window_log(25).unwrap();
        encoder.include_contentsize(false).unwrap();
        encoder.write_all(&[1u8; 1000]).unwrap();
        let frame = encoder.finish().unwrap();
        // The 32 MiB window alone is more than the 16 MiB budget.
        let refusal =
            decompress_body(Encoding::Zstd, Bytes::from(frame), 20 << 20, &mut permit).unwrap_err();
        assert!(matches!(refusal, Refusal::TooLarge(_)), "{refusal:?}");
    }

    #[test]
    fn bombs_are_too_large_and_garbage_is_malformed() {
        let admission = AdmissionConfig {
            request_limit_mib: 0,
            waiting_limit_mib: 0,
        }
        .budget(Default::default());
        let mut permit = futures_ready(admission.admit(0));
        let bomb = gzip(&vec![0u8; 10 << 20]);
        let refusal =
            decompress_body(Encoding::Gzip, Bytes::from(bomb), 1 << 20, &mut permit).unwrap_err();
        assert!(matches!(refusal, Refusal::TooLarge(_)), "{refusal:?}");
        let refusal = decompress_body(
            Encoding::Lz4,
            Bytes::from_static(b"not lz4"),
            1 << 20,
            &mut permit,
        )
        .unwrap_err();
        assert!(matches!(refusal, Refusal::Malformed(_)), "{refusal:?}");
    }
}
