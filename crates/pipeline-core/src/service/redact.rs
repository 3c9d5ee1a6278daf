//! Hides secrets in a configuration before it is printed.

use tributary_confmap::{Conf, Value};

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Whether a key names a secret: a password, token, API key, authorization header or
/// credential, in any case and with any separators (`bearer_token`, `X-Api-Key`,
/// `Authorization`). Paths to secret files (`key_file`) are not secrets.
fn is_secret_key(key: &str) -> bool {
    let normalized: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if normalized.ends_with("file") || normalized.ends_with("path") {
        return false;
    }
    [
        "password",
        "passwd",
        "secret",
        "token",
        "apikey",
        "authorization",
        "credential",
        "privatekey",
    ]
    .iter()
    .any(|word| normalized.contains(word))
}

fn redact_value(value: &mut Value) {
    match value {
        Value::Map(map) => {
            for (key, child) in map.iter_mut() {
                if is_secret_key(key) && !child.is_null() {
                    *child = Value::String(REDACTED.into());
                } else {
                    redact_value(child);
                }
            }
        }
        Value::List(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

/// Replaces the value of every secret-named key with `[REDACTED]`.
pub(crate) fn redact(conf: &mut Conf) {
    let mut value = std::mem::take(conf).into_value();
    redact_value(&mut value);
    if let Ok(redacted) = Conf::from_value(value) {
        *conf = redacted;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_the_rest_kept() {
        let mut conf = Conf::from_yaml(
            r#"
exporters:
  otlp:
    endpoint: gateway:4317
    headers: { Authorization: "Bearer abc", X-Api-Key: k1, x-tenant: t1 }
    tls: { key_file: /etc/key.pem }
extensions:
  basicauth: { client_auth: { username: u, password: p } }
receivers:
  otlp: { protocols: { http: { auth: { bearer_token: s3cret } } } }
"#,
        )
        .unwrap();
        redact(&mut conf);
        let text = conf.to_yaml();
        for secret in ["abc", "k1", "s3cret", ": p\n"] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
        for kept in ["gateway:4317", "t1", "/etc/key.pem", "username: u"] {
            assert!(text.contains(kept), "{kept} missing:\n{text}");
        }
    }
}
