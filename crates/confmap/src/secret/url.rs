//! [`SecretUrl`]: a URL whose credentials are never shown.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use super::{REDACTED, SECRET_URL_NAME};

/// A URL (or `host:port`) that may carry credentials in its userinfo,
/// `http://user:password@host`. `Debug` and `Display` show it with the userinfo replaced:
/// `http://[REDACTED]@host`; the username goes too, since services use it for API keys.
/// [`expose`](SecretUrl::expose) gives the text as written.
///
/// It is text, not a parsed URL: the component that uses it checks it, and names it in its
/// messages by its `Display`. Decoding it records its path, so a printed configuration shows
/// it redacted too (see the [module docs](crate::secret)).
///
/// ```
/// use tributary_confmap::SecretUrl;
///
/// let url = SecretUrl::new("http://user:pa55@backend:4318/v1/traces");
/// assert_eq!(url.to_string(), "http://[REDACTED]@backend:4318/v1/traces");
/// assert_eq!(format!("{url:?}"), r#"SecretUrl("http://[REDACTED]@backend:4318/v1/traces")"#);
/// assert_eq!(url.expose(), "http://user:pa55@backend:4318/v1/traces");
/// assert_eq!(SecretUrl::new("backend:4317").to_string(), "backend:4317");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(url.into())
    }

    /// The URL as written, credentials included, to connect with. Never log or format it;
    /// format the `SecretUrl` instead.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the URL is the empty string (not configured).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the URL carries userinfo (`user:password@`).
    pub fn has_userinfo(&self) -> bool {
        userinfo_range(&self.0).is_some()
    }
}

/// `text` with the userinfo of its authority (`user:password@`) replaced by `[REDACTED]`;
/// text without userinfo is returned as it is. Works on URLs (`scheme://user@host/path`)
/// on `user@host:port`, and on gRPC's `dns:///user@host:port`.
///
/// ```
/// use tributary_confmap::redact_userinfo;
///
/// assert_eq!(redact_userinfo("https://u:p@h/a@b"), "https://[REDACTED]@h/a@b");
/// assert_eq!(redact_userinfo("token@h:4317"), "[REDACTED]@h:4317");
/// assert_eq!(redact_userinfo("https://h/?to=a@b"), "https://h/?to=a@b");
/// ```
pub fn redact_userinfo(text: &str) -> Cow<'_, str> {
    match userinfo_range(text) {
        Some((start, end)) => Cow::Owned(format!("{}{REDACTED}{}", &text[..start], &text[end..])),
        None => Cow::Borrowed(text),
    }
}

/// Where the userinfo is, `start..end` with `end` at its `@`: between the scheme's `://`
/// (or the start) and the last `@` before the authority ends at `/`, `?` or `#`.
pub(super) fn userinfo_range(text: &str) -> Option<(usize, usize)> {
    let mut start = text.find("://").map_or(0, |i| i + 3);
    // gRPC's `dns://[resolver]/host:port` names its target after the resolver's slash.
    if text[..start].eq_ignore_ascii_case("dns://")
        && let Some(slash) = text[start..].find('/')
    {
        start += slash + 1;
    }
    let rest = &text[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rfind('@').map(|at| (start, start + at))
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_userinfo(&self.0))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretUrl")
            .field(&redact_userinfo(&self.0))
            .finish()
    }
}

impl From<String> for SecretUrl {
    fn from(url: String) -> SecretUrl {
        SecretUrl(url)
    }
}

impl From<&str> for SecretUrl {
    fn from(url: &str) -> SecretUrl {
        SecretUrl(url.to_owned())
    }
}

/// Serializes as its redacted form.
impl Serialize for SecretUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&redact_userinfo(&self.0))
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SecretUrl, D::Error> {
        deserializer.deserialize_newtype_struct(SECRET_URL_NAME, UrlVisitor)
    }
}

struct UrlVisitor;

impl<'de> Visitor<'de> for UrlVisitor {
    type Value = SecretUrl;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a URL")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<SecretUrl, D::Error> {
        deserializer.deserialize_any(UrlVisitor)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SecretUrl, E> {
        Ok(SecretUrl::new(text))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<SecretUrl, E> {
        Ok(SecretUrl(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_redacted_wherever_it_is_written() {
        for (written, shown) in [
            ("http://user:PASS@host", "http://[REDACTED]@host"),
            ("http://PASS@host:4318/v1", "http://[REDACTED]@host:4318/v1"),
            ("https://u:p%40ss@host?x=1", "https://[REDACTED]@host?x=1"),
            ("http://u:p@ss@host#frag", "http://[REDACTED]@host#frag"),
            ("u:PASS@host:4317", "[REDACTED]@host:4317"),
            ("dns:///u:PASS@host:4317", "dns:///[REDACTED]@host:4317"),
            ("dns://8.8.8.8/u@host", "dns://8.8.8.8/[REDACTED]@host"),
            ("http://host/path@x", "http://host/path@x"),
            ("http://host:4318", "http://host:4318"),
            ("", ""),
        ] {
            assert_eq!(redact_userinfo(written), shown, "{written}");
            assert_eq!(SecretUrl::new(written).to_string(), shown, "{written}");
        }
    }

    #[test]
    fn debug_and_serialization_show_the_redacted_form() {
        let url = SecretUrl::new("http://user:PASS@host");
        assert_eq!(format!("{url:?}"), r#"SecretUrl("http://[REDACTED]@host")"#);
        assert!(!format!("{url:#?}").contains("PASS"));
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            r#""http://[REDACTED]@host""#
        );
        assert!(url.has_userinfo());
        assert!(!SecretUrl::new("http://host").has_userinfo());
        assert_eq!(url.expose(), "http://user:PASS@host");
    }
}
