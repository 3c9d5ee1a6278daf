//! What the exporters' tests share: sample telemetry, certificates and local servers.

#[cfg(any(feature = "otlp", feature = "otlp_http"))]
pub(crate) mod certs;
pub(crate) mod fixtures;
#[cfg(any(feature = "otlp", feature = "otlp_http"))]
pub(crate) mod hostile;
#[cfg(any(feature = "otlp", feature = "otlp_http"))]
pub(crate) mod server;

use tributary_pipeline_core::component::{CreateSettings, Kind};
use tributary_pipeline_core::pdata::SignalData;

/// Decodes a component's YAML section and validates it, as the framework does.
pub(crate) use tributary_pipeline_core::component::load_config as load;

/// Settings for one exporter instance of `T`'s signal, named `id`.
pub(crate) fn settings<T: SignalData>(id: &str) -> CreateSettings {
    CreateSettings::standalone(
        Kind::Exporter,
        id.parse().expect("valid component ID"),
        Some(T::SIGNAL),
    )
}
