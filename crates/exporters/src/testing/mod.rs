//! What the exporters' tests share: sample telemetry, certificates and local servers.

#[cfg(any(feature = "otlp", feature = "otlp_http"))]
pub(crate) mod certs;
pub(crate) mod fixtures;
#[cfg(any(feature = "otlp", feature = "otlp_http"))]
pub(crate) mod server;

use tributary_pipeline_core::component::{ComponentConfig, ConfigError, CreateSettings, Kind};
use tributary_pipeline_core::pdata::SignalData;

/// Decodes a component's YAML section and validates it, as the framework does.
pub(crate) fn load<C: ComponentConfig>(yaml: &str) -> Result<C, ConfigError> {
    let conf = tributary_confmap::Conf::from_yaml(yaml).expect("test YAML parses");
    let config: C = conf.decode().map_err(ConfigError::from)?;
    config.validate()?;
    Ok(config)
}

/// Settings for one exporter instance of `T`'s signal, named `id`.
pub(crate) fn settings<T: SignalData>(id: &str) -> CreateSettings {
    CreateSettings::standalone(
        Kind::Exporter,
        id.parse().expect("valid component ID"),
        Some(T::SIGNAL),
    )
}
