//! The `memory_ballast` extension: accepted so that configurations written for Go
//! Collectors up to v0.113 run unchanged, and does nothing.
//!
//! Go's ballast was a large, never-touched allocation that made its garbage collector run
//! less often. This collector has no garbage collector, so a ballast would only waste
//! memory; the Go Collector itself removed the extension (v0.114) in favour of the
//! `GOMEMLIMIT` its `memory_limiter` sets. The extension starts, logs once that it has no
//! effect, and holds nothing. Bound memory with the `memory_limiter` processor and the
//! receivers' admission limits instead.
//!
//! ```yaml
//! extensions:
//!   memory_ballast:
//!     size_mib: 512
//! service:
//!   extensions: [memory_ballast]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `size_mib` | `0` | Go: ballast size in MiB. Accepted (a number or a numeric string, as old helm charts render it) and ignored |
//! | `size_in_percentage` | `0` | Go: ballast size as a percentage of the memory limit, 1–100. Accepted and ignored |

use std::sync::Arc;

use serde::Deserialize;

use crate::component::{
    Component, ComponentConfig, ComponentError, ConfigError, CreateError, CreateSettings,
    Extension, ExtensionFactory, Host, Stability,
};

/// The `memory_ballast` extension's configuration: Go's keys, validated as Go did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Ballast size in MiB (ignored).
    #[serde(deserialize_with = "number_or_numeric_string")]
    pub size_mib: u64,
    /// Ballast size as a percentage of the memory limit (ignored).
    #[serde(deserialize_with = "number_or_numeric_string")]
    pub size_in_percentage: u64,
}

/// Old helm charts render `size_mib: "78"`; Go's decoder then converted strings to numbers.
fn number_or_numeric_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(u64),
        Text(String),
    }
    match NumberOrString::deserialize(d)? {
        NumberOrString::Number(n) => Ok(n),
        NumberOrString::Text(text) => text.trim().parse().map_err(|_| {
            serde::de::Error::custom(format!("expected a whole number of MiB, found {text:?}"))
        }),
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.size_in_percentage > 100 {
            return Err(ConfigError::at(
                "size_in_percentage",
                "must be between 1 and 100 (as in Go)",
            ));
        }
        Ok(())
    }
}

/// The `memory_ballast` factory.
pub fn factory() -> ExtensionFactory<Config> {
    ExtensionFactory::new("memory_ballast", create, Stability::Deprecated)
}

fn create(settings: &CreateSettings, _config: &Config) -> Result<Arc<dyn Extension>, CreateError> {
    Ok(Arc::new(MemoryBallast {
        span: settings.span().clone(),
    }))
}

/// The extension: says once, at start, that it has no effect.
struct MemoryBallast {
    span: tracing::Span,
}

#[async_trait::async_trait]
impl Component for MemoryBallast {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let _entered = self.span.enter();
        tracing::warn!(
            "memory_ballast has no effect in this collector (it has no garbage collector to \
             tune; Go removed the extension in v0.114): bound memory with the memory_limiter \
             processor instead"
        );
        Ok(())
    }
}

impl Extension for MemoryBallast {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::load_config;

    #[test]
    fn takes_go_s_keys_including_old_helm_charts_quoted_numbers() {
        let config = load_config::<Config>("size_mib: \"78\"").unwrap();
        assert_eq!(config.size_mib, 78);
        let config = load_config::<Config>("size_in_percentage: 20").unwrap();
        assert_eq!(config.size_in_percentage, 20);
        let error = load_config::<Config>("size_in_percentage: 120").unwrap_err();
        assert!(error.to_string().contains("size_in_percentage"), "{error}");
        let error = load_config::<Config>("size_mib: lots").unwrap_err();
        assert!(error.to_string().contains("size_mib"), "{error}");
    }

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        crate::testing::check_extension(factory(), "size_mib: 64").await;
    }
}
