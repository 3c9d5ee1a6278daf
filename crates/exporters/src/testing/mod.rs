//! What the exporters' tests share: sample telemetry, certificates and local servers.

#[cfg(any(feature = "otlp", feature = "otlp_http"))]
pub(crate) mod certs;
pub(crate) mod fixtures;
#[cfg(any(feature = "otlp", feature = "otlp_http"))]
pub(crate) mod hostile;
#[cfg(any(
    feature = "otlp",
    feature = "otlp_http",
    feature = "influxdb",
    feature = "prometheusremotewrite",
    feature = "opentsdb",
    feature = "lookout",
    feature = "elasticsearch"
))]
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

/// A host running the extension `factory` makes from `yaml`, under `id`
/// (`bearertokenauth/out`), started: for exporters' `auth`.
#[cfg(any(feature = "otlp", feature = "otlp_http"))]
pub(crate) async fn host_with<C: tributary_pipeline_core::component::ComponentConfig>(
    factory: tributary_pipeline_core::component::ExtensionFactory<C>,
    id: &str,
    yaml: &str,
) -> tributary_pipeline_core::component::Host {
    use std::sync::Arc;
    use tributary_pipeline_core::component::{ComponentId, Host};

    let id: ComponentId = id.parse().expect("valid component ID");
    let settings = CreateSettings::standalone(Kind::Extension, id.clone(), None);
    let config: C = load(yaml).expect("valid extension config");
    let extension = factory
        .create(&settings, &config)
        .expect("extension created");
    let host = Host::new([(id, Arc::clone(&extension))]);
    extension.start(&host).await.expect("extension started");
    host
}
