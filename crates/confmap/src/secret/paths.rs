//! [`SecretPaths`]: where a decoded configuration holds secrets.

use super::{REDACTED, redact_userinfo};
use crate::path;
use crate::value::Value;

/// What part of a value is secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// The whole value: a [`SecretString`](super::SecretString).
    Value,
    /// The userinfo of a URL: a [`SecretUrl`](super::SecretUrl).
    Userinfo,
}

/// The key paths at which a decoded type holds secrets, relative to the decoded value
/// (`headers::authorization`, `endpoint`), recorded by the decoder as it meets
/// [`SecretString`](super::SecretString) and [`SecretUrl`](super::SecretUrl) fields.
/// See [`Value::decode_with_secrets`](crate::Value::decode_with_secrets).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretPaths {
    entries: Vec<(String, SecretKind)>,
}

impl SecretPaths {
    /// No secrets.
    pub fn new() -> SecretPaths {
        SecretPaths::default()
    }

    /// Notes a secret at `path`.
    pub fn insert(&mut self, path: impl Into<String>, kind: SecretKind) {
        let path = path.into();
        if !self.entries.iter().any(|(p, k)| *p == path && *k == kind) {
            self.entries.push((path, kind));
        }
    }

    /// Every secret's path and kind, in the order the decoder met them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, SecretKind)> {
        self.entries
            .iter()
            .map(|(path, kind)| (path.as_str(), *kind))
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Hides the secrets in `value` (the value that was decoded): a secret value becomes
    /// `[REDACTED]`, a secret URL its redacted form. Null and absent values stay as they are.
    pub fn redact(&self, value: &mut Value) {
        for (path, kind) in &self.entries {
            let Some(secret) = value.get_mut(path) else {
                continue;
            };
            if secret.is_null() {
                continue;
            }
            *secret = match kind {
                SecretKind::Value => Value::from(REDACTED),
                SecretKind::Userinfo => match secret.as_str() {
                    Some(url) => Value::from(redact_userinfo(url).into_owned()),
                    None => Value::from(REDACTED),
                },
            };
        }
    }

    /// The paths relative to `base`, a prefix of them all (the path a value was decoded at).
    pub(crate) fn relative_to(self, base: &str) -> SecretPaths {
        if base.is_empty() {
            return self;
        }
        let entries = self
            .entries
            .into_iter()
            .filter_map(|(path, kind)| {
                let relative = if path == base {
                    String::new()
                } else {
                    path.strip_prefix(&path::join(base, ""))?.to_owned()
                };
                Some((relative, kind))
            })
            .collect();
        SecretPaths { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Conf;

    #[test]
    fn redact_replaces_secret_values_and_url_userinfo_only() {
        let conf = Conf::from_yaml(
            "endpoint: http://u:PASS@h:4318\nheaders: {cookie: c00kie, n: 1}\nunset: ~\nkept: plain\n",
        )
        .unwrap();
        let mut secrets = SecretPaths::new();
        secrets.insert("endpoint", SecretKind::Userinfo);
        secrets.insert("headers::cookie", SecretKind::Value);
        secrets.insert("headers::n", SecretKind::Value);
        secrets.insert("unset", SecretKind::Value);
        secrets.insert("absent::key", SecretKind::Value);
        let mut value = conf.into_value();
        secrets.redact(&mut value);
        assert_eq!(
            Conf::from_value(value).unwrap().to_yaml(),
            "endpoint: http://[REDACTED]@h:4318\nheaders:\n  cookie: \"[REDACTED]\"\n  \"n\": \"[REDACTED]\"\nunset: null\nkept: plain\n"
        );
    }

    #[test]
    fn paths_are_made_relative_to_the_decoded_value() {
        let mut secrets = SecretPaths::new();
        secrets.insert("exporters::otlp::headers::a", SecretKind::Value);
        secrets.insert("exporters::otlp", SecretKind::Value);
        secrets.insert("exporters::otlp", SecretKind::Value);
        let relative: Vec<_> = secrets
            .relative_to("exporters::otlp")
            .iter()
            .map(|(path, _)| path.to_owned())
            .collect();
        assert_eq!(relative, ["headers::a", ""]);
    }
}
