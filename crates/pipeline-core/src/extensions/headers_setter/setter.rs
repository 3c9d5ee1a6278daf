//! Setting headers from client metadata.

use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::config::{Action, Config};
use crate::component::{Component, CreateError, Extension, ExtensionCapabilities};
use crate::configauth::{AuthError, ClientAuthenticator};
use crate::pdata::ClientMetadata;

/// Where a header's value comes from.
enum Source {
    Fixed(HeaderValue),
    Context {
        key: String,
        default: Option<HeaderValue>,
    },
    None,
}

struct Rule {
    name: HeaderName,
    action: Action,
    source: Source,
}

/// The `headers_setter` extension: a [`ClientAuthenticator`] that sets headers.
pub struct HeadersSetter {
    rules: Vec<Rule>,
}

fn sensitive(text: &str) -> Result<HeaderValue, CreateError> {
    let mut value =
        HeaderValue::from_str(text).map_err(|_| CreateError::new("invalid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

impl HeadersSetter {
    /// The extension `config` describes (a validated one).
    pub fn new(config: &Config) -> Result<Self, CreateError> {
        let rules = config
            .headers
            .iter()
            .map(|header| {
                let name = HeaderName::from_bytes(header.key.as_bytes())
                    .map_err(|e| CreateError::with_source(header.key.clone(), e))?;
                let source = match (&header.value, &header.from_context) {
                    (Some(value), _) => Source::Fixed(sensitive(value.expose())?),
                    (None, Some(key)) => Source::Context {
                        key: key.clone(),
                        default: header
                            .default_value
                            .as_ref()
                            .map(|v| sensitive(v.expose()))
                            .transpose()?,
                    },
                    (None, None) => Source::None,
                };
                Ok(Rule {
                    name,
                    action: header.action,
                    source,
                })
            })
            .collect::<Result<_, CreateError>>()?;
        Ok(HeadersSetter { rules })
    }
}

impl Component for HeadersSetter {}

impl Extension for HeadersSetter {
    fn capabilities(self: Arc<Self>, offers: &mut ExtensionCapabilities) {
        offers.offer::<dyn ClientAuthenticator>(self);
    }
}

#[async_trait]
impl ClientAuthenticator for HeadersSetter {
    async fn authorize(
        &self,
        headers: &mut HeaderMap,
        metadata: Option<&ClientMetadata>,
    ) -> Result<(), AuthError> {
        for rule in &self.rules {
            if rule.action == Action::Delete {
                headers.remove(&rule.name);
                continue;
            }
            let value = match &rule.source {
                Source::Fixed(value) => Some(value.clone()),
                Source::Context { key, default } => metadata
                    .and_then(|m| m.get(key).first())
                    .and_then(|v| HeaderValue::from_str(v).ok())
                    .or_else(|| default.clone()),
                Source::None => None,
            };
            let Some(value) = value else { continue };
            let present = headers.contains_key(&rule.name);
            let set = match rule.action {
                Action::Insert => !present,
                Action::Update => present,
                Action::Upsert | Action::Delete => true,
            };
            if set {
                headers.insert(rule.name.clone(), value);
            }
        }
        Ok(())
    }
}
