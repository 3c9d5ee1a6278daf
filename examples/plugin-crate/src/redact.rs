//! The **`redact`** processor: masks or removes attributes by key on every span, log
//! record and metric data point (all five kinds), on all three signals.
//!
//! ```yaml
//! processors:
//!   redact:
//!     keys: [password, http.request.header.authorization]
//!     mask: "****"        # leave out to remove the attributes instead
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `keys` | (required) | attribute keys to redact |
//! | `mask` | none | the value put in place of a redacted one; none removes the attribute |
//!
//! Built with [`processorhelper::from_fn`] and the pdata visitor
//! [`update_item_attributes`](Payload::update_item_attributes), which copies data shared
//! with another pipeline only when something is redacted.

use std::sync::Arc;

use serde::Deserialize;
use tributary_pipeline_core::prelude::*;

/// The `redact` configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Attribute keys to redact.
    pub keys: Vec<String>,
    /// The value put in place of a redacted one; `None` removes the attribute.
    pub mask: Option<String>,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.keys.is_empty() {
            return Err(ConfigError::at("keys", "list at least one attribute key"));
        }
        Ok(())
    }
}

/// The `redact` factory, to register on a collector builder.
pub fn factory() -> ProcessorFactory<Config> {
    ProcessorFactory::new("redact")
        .with_traces(create, Stability::Alpha)
        .with_metrics(create, Stability::Alpha)
        .with_logs(create, Stability::Alpha)
}

fn create<R: Items>(
    _: &CreateSettings,
    config: &Config,
    next: Next<Payload<R>>,
) -> Result<Arc<dyn Processor<Payload<R>>>, CreateError> {
    let Config { keys, mask } = config.clone();
    Ok(processorhelper::from_fn(
        next,
        move |data: &mut Payload<R>| {
            data.update_item_attributes(
                |_, attributes| keys.iter().any(|key| attributes.contains_key(key)),
                |_, attributes| match &mask {
                    Some(mask) => keys.iter().for_each(|key| {
                        attributes.update_attribute(key, mask.as_str());
                    }),
                    None => attributes.retain_attributes(|key, _| !keys.iter().any(|k| k == key)),
                },
            );
            Ok(())
        },
    ))
}
