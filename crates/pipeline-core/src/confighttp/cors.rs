//! Cross-origin resource sharing, so browser applications can post to an HTTP server: preflight answers and the `Access-Control-Allow-Origin` header, following the
//! Go Collector's `cors` settings.

use bytes::Bytes;
use http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;

use super::CorsConfig;

/// Request headers a browser may send without them being listed.
const ALWAYS_ALLOWED_HEADERS: &[&str] = &[
    "accept",
    "accept-language",
    "content-language",
    "content-type",
    "origin",
    "x-requested-with",
];

/// The CORS policy of one HTTP server.
pub struct CorsPolicy {
    origins: Vec<OriginPattern>,
    any_header: bool,
    headers: Vec<String>,
    max_age: Option<HeaderValue>,
    /// `Access-Control-Expose-Headers`, when `exposed_headers` lists any.
    exposed: Option<HeaderValue>,
}

/// One `allowed_origins` entry: an exact origin, or a prefix and suffix around one `*`.
enum OriginPattern {
    Any,
    Exact(String),
    Wildcard { prefix: String, suffix: String },
}

impl OriginPattern {
    fn parse(pattern: &str) -> OriginPattern {
        let pattern = pattern.to_ascii_lowercase();
        if pattern == "*" {
            return OriginPattern::Any;
        }
        match pattern.split_once('*') {
            Some((prefix, suffix)) => OriginPattern::Wildcard {
                prefix: prefix.to_string(),
                suffix: suffix.to_string(),
            },
            None => OriginPattern::Exact(pattern),
        }
    }

    fn matches(&self, origin: &str) -> bool {
        match self {
            OriginPattern::Any => true,
            OriginPattern::Exact(exact) => origin.eq_ignore_ascii_case(exact),
            OriginPattern::Wildcard { prefix, suffix } => {
                let origin = origin.to_ascii_lowercase();
                origin.len() >= prefix.len() + suffix.len()
                    && origin.starts_with(prefix.as_str())
                    && origin.ends_with(suffix.as_str())
            }
        }
    }
}

impl CorsPolicy {
    /// The policy `config` describes; `None` when it allows no origin (CORS off).
    pub fn new(config: &CorsConfig) -> Option<CorsPolicy> {
        if config.allowed_origins.is_empty() {
            return None;
        }
        Some(CorsPolicy {
            origins: config
                .allowed_origins
                .iter()
                .map(|o| OriginPattern::parse(o))
                .collect(),
            any_header: config.allowed_headers.iter().any(|h| h == "*"),
            headers: config
                .allowed_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            max_age: (config.max_age > 0).then(|| HeaderValue::from(config.max_age)),
            exposed: (!config.exposed_headers.is_empty())
                .then(|| HeaderValue::from_str(&config.exposed_headers.join(", ")).ok())
                .flatten(),
        })
    }

    /// Whether the request is a CORS preflight (`OPTIONS` with an origin and a requested
    /// method).
    pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
        method == Method::OPTIONS
            && headers.contains_key(ORIGIN)
            && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
    }

    fn allowed_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        let origin = origin?;
        let text = origin.to_str().ok()?;
        let pattern = self.origins.iter().find(|p| p.matches(text))?;
        Some(match pattern {
            OriginPattern::Any => HeaderValue::from_static("*"),
            _ => origin.clone(),
        })
    }

    fn header_allowed(&self, name: &str) -> bool {
        let name = name.trim().to_ascii_lowercase();
        self.any_header
            || ALWAYS_ALLOWED_HEADERS.contains(&name.as_str())
            || self.headers.contains(&name)
    }

    /// The answer to a preflight request: 204, with the CORS headers only when the origin,
    /// the method (`POST`) and every requested header are allowed.
    pub fn preflight(&self, request: &HeaderMap) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::default());
        *response.status_mut() = StatusCode::NO_CONTENT;
        let headers = response.headers_mut();
        headers.insert(
            VARY,
            HeaderValue::from_static(
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        let Some(origin) = self.allowed_origin(request.get(ORIGIN)) else {
            return response;
        };
        if request
            .get(ACCESS_CONTROL_REQUEST_METHOD)
            .is_none_or(|m| m.as_bytes() != b"POST")
        {
            return response;
        }
        let requested = request
            .get(ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !requested
            .split(',')
            .filter(|h| !h.trim().is_empty())
            .all(|h| self.header_allowed(h))
        {
            return response;
        }
        let headers = response.headers_mut();
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        if let Some(requested) = request.get(ACCESS_CONTROL_REQUEST_HEADERS) {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
        }
        if let Some(max_age) = &self.max_age {
            headers.insert(ACCESS_CONTROL_MAX_AGE, max_age.clone());
        }
        response
    }

    /// Adds `Access-Control-Allow-Origin` to the answer of an actual request whose
    /// `Origin` header is allowed.
    pub fn decorate(&self, origin: Option<&HeaderValue>, response: &mut Response<Full<Bytes>>) {
        if let Some(origin) = self.allowed_origin(origin) {
            let headers = response.headers_mut();
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.append(VARY, HeaderValue::from_static("Origin"));
            if let Some(exposed) = &self.exposed {
                headers.insert(ACCESS_CONTROL_EXPOSE_HEADERS, exposed.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(origins: &[&str], headers: &[&str], max_age: u64) -> CorsPolicy {
        CorsPolicy::new(&CorsConfig {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
            max_age,
            exposed_headers: vec!["x-trace".into()],
        })
        .expect("origins configured")
    }

    fn preflight_headers(origin: &str, method: &str, headers: Option<&str>) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
        map.insert(
            ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_str(method).unwrap(),
        );
        if let Some(headers) = headers {
            map.insert(
                ACCESS_CONTROL_REQUEST_HEADERS,
                HeaderValue::from_str(headers).unwrap(),
            );
        }
        map
    }

    #[test]
    fn no_origins_means_no_cors() {
        assert!(CorsPolicy::new(&CorsConfig::default()).is_none());
    }

    #[test]
    fn origins_match_exactly_or_around_one_wildcard() {
        let policy = policy(&["https://app.example.com", "https://*.test.org"], &[], 0);
        let allowed = |origin: &str| {
            policy
                .allowed_origin(Some(&HeaderValue::from_str(origin).unwrap()))
                .is_some()
        };
        assert!(allowed("https://app.example.com"));
        assert!(allowed("https://APP.example.com"));
        assert!(allowed("https://a.b.test.org"));
        assert!(!allowed("https://test.org"));
        assert!(!allowed("http://a.test.org"));
        assert!(!allowed("https://evil.com"));
    }

    #[test]
    fn preflight_allows_post_with_listed_headers() {
        let policy = policy(&["https://app.example.com"], &["X-Custom"], 600);
        let response = policy.preflight(&preflight_headers(
            "https://app.example.com",
            "POST",
            Some("content-type, x-custom"),
        ));
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let headers = response.headers();
        assert_eq!(
            headers[ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example.com"
        );
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_METHODS], "POST");
        assert_eq!(
            headers[ACCESS_CONTROL_ALLOW_HEADERS],
            "content-type, x-custom"
        );
        assert_eq!(headers[ACCESS_CONTROL_MAX_AGE], "600");
    }

    #[test]
    fn preflight_withholds_cors_headers_for_what_is_not_allowed() {
        let policy = policy(&["https://app.example.com"], &[], 0);
        for request in [
            preflight_headers("https://evil.com", "POST", None),
            preflight_headers("https://app.example.com", "PUT", None),
            preflight_headers("https://app.example.com", "POST", Some("x-unlisted")),
        ] {
            let response = policy.preflight(&request);
            assert_eq!(response.status(), StatusCode::NO_CONTENT);
            assert!(!response.headers().contains_key(ACCESS_CONTROL_ALLOW_ORIGIN));
        }
    }

    #[test]
    fn wildcards_allow_any_origin_and_header() {
        let policy = policy(&["*"], &["*"], 0);
        let response = policy.preflight(&preflight_headers(
            "https://anything.example",
            "POST",
            Some("x-whatever"),
        ));
        assert_eq!(response.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(!response.headers().contains_key(ACCESS_CONTROL_MAX_AGE));
    }
}
