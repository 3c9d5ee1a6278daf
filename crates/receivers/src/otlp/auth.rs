//! The bearer-token check: `Authorization: Bearer <token>` (an HTTP header, or the same
//! gRPC metadata key), compared in constant time.

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// The token clients must present.
pub(crate) struct BearerToken {
    token: Box<[u8]>,
}

impl BearerToken {
    /// A check for `token`.
    pub(crate) fn new(token: &str) -> BearerToken {
        BearerToken {
            token: token.as_bytes().into(),
        }
    }

    /// Whether `headers` carry the token. The scheme is matched case-insensitively; the
    /// token is compared in time that depends only on its length, so a client cannot
    /// guess it byte by byte from response times.
    pub(crate) fn verify(&self, headers: &HeaderMap) -> bool {
        let Some(value) = headers.get(AUTHORIZATION) else {
            return false;
        };
        let value = value.as_bytes();
        let Some((scheme, token)) = value.split_at_checked(7) else {
            return false;
        };
        scheme.eq_ignore_ascii_case(b"bearer ") && constant_time_eq(token, &self.token)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn accepts_only_the_configured_token() {
        let check = BearerToken::new("s3cret");
        assert!(check.verify(&headers("Bearer s3cret")));
        assert!(check.verify(&headers("bearer s3cret")));
        assert!(check.verify(&headers("BEARER s3cret")));
        assert!(!check.verify(&headers("Bearer s3cre")));
        assert!(!check.verify(&headers("Bearer s3cret2")));
        assert!(!check.verify(&headers("Bearer S3cret")));
        assert!(!check.verify(&headers("Basic s3cret")));
        assert!(!check.verify(&headers("Bearer")));
        assert!(!check.verify(&headers("s3cret")));
        assert!(!check.verify(&HeaderMap::new()));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
