//! Hides secrets in a configuration before `print-config` prints it.
//!
//! By construction first: each component section is decoded through its factory's config
//! type, and the decoder reports where that type holds a
//! [`SecretString`](crate::component::SecretString) or a
//! [`SecretUrl`](crate::component::SecretUrl); exactly those values are hidden, whatever
//! their keys are called (`Cookie`, `x-honeycomb-team`).
//!
//! A heuristic second, over the whole document: it is all there is for a section no factory
//! decodes (an unknown type, a section that does not decode), and it catches a third-party
//! config that keeps a secret in a plain `String`. It hides the values of keys that name
//! secrets (`password`, `api_key`, ...), every value under a `headers` key, and the userinfo
//! of every URL. In a section no factory decodes, where nothing says which fields are
//! secrets, every value a `${...}` reference produced is hidden as well.

use tributary_confmap::{Conf, REDACTED, Value, redact_userinfo};

use crate::component::{ComponentId, Kind};
use crate::graph::Factories;

/// Hides every secret of `conf`: the values its components' config types declare secret,
/// and whatever the heuristic finds.
pub(crate) fn redact(conf: &mut Conf, factories: &Factories) {
    let mut root = std::mem::take(conf).into_value();
    for kind in Kind::ALL {
        let Some(section) = root.get_mut(kind.section()).and_then(Value::as_map_mut) else {
            continue;
        };
        for (id, raw) in section.iter_mut() {
            let secrets = id
                .parse::<ComponentId>()
                .ok()
                .and_then(|id| factories.secret_paths(kind, id.component_type().as_str(), raw));
            match secrets {
                Some(secrets) => secrets.redact(raw),
                None => redact_references(raw),
            }
        }
    }
    redact_by_name(&mut root);
    if let Ok(redacted) = Conf::from_value(root) {
        *conf = redacted;
    }
}

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

/// Hides every value a `${...}` reference produced.
fn redact_references(value: &mut Value) {
    match value {
        Value::Map(map) => map.values_mut().for_each(redact_references),
        Value::List(items) => items.iter_mut().for_each(redact_references),
        Value::Expanded(_) => *value = Value::from(REDACTED),
        _ => {}
    }
}

/// The heuristic: secret-named keys, header values, URL userinfo.
fn redact_by_name(value: &mut Value) {
    match value {
        Value::Map(map) => {
            for (key, child) in map.iter_mut() {
                if child.is_null() {
                    continue;
                }
                if is_secret_key(key) {
                    *child = Value::from(REDACTED);
                } else if key.eq_ignore_ascii_case("headers")
                    && let Some(headers) = child.as_map_mut()
                {
                    headers
                        .values_mut()
                        .filter(|header| !header.is_null())
                        .for_each(|header| *header = Value::from(REDACTED));
                } else {
                    redact_by_name(child);
                }
            }
        }
        Value::List(items) => items.iter_mut().for_each(redact_by_name),
        scalar => {
            if let Some(text) = scalar.as_str().filter(|text| text.contains("://"))
                && let std::borrow::Cow::Owned(redacted) = redact_userinfo(text)
            {
                *scalar = Value::from(redacted);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde::Deserialize;
    use tributary_confmap::Expanded;

    use super::*;
    use crate::component::{
        ComponentConfig, CreateError, CreateSettings, Exporter, ExporterFactory, SecretString,
        SecretUrl, Stability,
    };
    use crate::pdata::Traces;

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct VendorConfig {
        endpoint: SecretUrl,
        team: SecretString,
        dataset: String,
    }
    impl ComponentConfig for VendorConfig {}

    fn vendor_factory() -> ExporterFactory<VendorConfig> {
        ExporterFactory::new("vendor").with_traces(
            |_: &CreateSettings,
             _: &VendorConfig|
             -> Result<Arc<dyn Exporter<Traces>>, CreateError> {
                Err(CreateError::new("not for this test"))
            },
            Stability::Alpha,
        )
    }

    fn printed(yaml: &str) -> String {
        let mut factories = Factories::new();
        factories.add_exporter(vendor_factory());
        let mut conf = Conf::from_yaml(yaml).unwrap();
        redact(&mut conf, &factories);
        conf.to_yaml()
    }

    #[test]
    fn what_a_config_type_declares_secret_is_hidden_whatever_its_key() {
        let text = printed(
            "exporters:\n  vendor/eu:\n    endpoint: https://u:PASS@api.eu\n    team: T3AM\n    dataset: spans\n",
        );
        assert!(!text.contains("PASS") && !text.contains("T3AM"), "{text}");
        for kept in ["https://[REDACTED]@api.eu", "dataset: spans"] {
            assert!(text.contains(kept), "{kept} missing:\n{text}");
        }
    }

    #[test]
    fn a_section_that_does_not_decode_hides_what_references_produced() {
        let mut factories = Factories::new();
        factories.add_exporter(vendor_factory());
        let mut conf = Conf::from_yaml("exporters:\n  vendor:\n    dataset: spans\n").unwrap();
        let referenced = Expanded::new(Value::from("T0KEN\n"), "T0KEN\n").with_scheme("file");
        conf.set("exporters::vendor::team", referenced.clone());
        conf.set("exporters::vendor::typo", referenced);
        redact(&mut conf, &factories);
        let text = conf.to_yaml();
        assert!(!text.contains("T0KEN"), "{text}");
        assert!(text.contains("dataset: spans"), "{text}");
    }

    #[test]
    fn sections_no_factory_decodes_fall_back_to_names_headers_and_urls() {
        let text = printed(
            r#"
exporters:
  unknown:
    endpoint: gateway:4317
    url: http://user:PASSWD@proxy:3128
    headers: { Cookie: c00kie, X-Api-Key: k1, x-tenant: t1 }
    tls: { key_file: /etc/key.pem }
extensions:
  basicauth: { client_auth: { username: u, password: p } }
receivers:
  otlp: { protocols: { http: { auth: { bearer_token: s3cret } } } }
"#,
        );
        for secret in ["c00kie", "k1", "t1", "s3cret", "PASSWD", ": p\n"] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
        for kept in [
            "gateway:4317",
            "/etc/key.pem",
            "username: u",
            "http://[REDACTED]@proxy:3128",
        ] {
            assert!(text.contains(kept), "{kept} missing:\n{text}");
        }
    }
}
