//! The component conformance suite: what every component must do, checked with one call.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tributary_confmap::{Conf, Value};

use crate::component::{
    Component, ComponentConfig, ConfigError, Connector, ConnectorFactory, CreateError,
    CreateSettings, ExporterFactory, ExtensionFactory, Host, Kind, ProcessorFactory,
    ReceiverFactory, Router, decode_config,
};
use crate::pdata::{Logs, Metrics, Signal, SignalData, Traces};
use crate::testing::Sink;

/// How long one step (a start, a shutdown) may take before the suite fails.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The key the suite adds to a configuration to check that unknown keys are refused.
const UNKNOWN_KEY: &str = "conformance_unknown_key";

/// Checks a receiver factory; see [`check_processor`] for what is checked. Each receiver
/// pushes to a [`Sink`].
pub async fn check_receiver<C: ComponentConfig>(factory: ReceiverFactory<C>, yaml: &str) {
    let signals = declared(|signal| factory.stability(signal).is_supported());
    let create = |settings: &CreateSettings, (signal, _): (Signal, Signal), config: &C| {
        match signal {
            Signal::Traces => factory.create(settings, config, Sink::<Traces>::new().next()),
            Signal::Metrics => factory.create(settings, config, Sink::<Metrics>::new().next()),
            Signal::Logs => factory.create(settings, config, Sink::<Logs>::new().next()),
        }
        .map(|receiver| receiver as Arc<dyn Component>)
    };
    run(
        Kind::Receiver,
        factory.component_type(),
        &signals,
        yaml,
        create,
    )
    .await;
}

/// Checks a processor factory with `yaml` as its configuration section (empty: the
/// defaults). In `yaml`, each `{port}` becomes a different free local port and `{dir}` a
/// fresh empty directory. For every signal the factory declares, the suite checks that:
///
/// - the configuration decodes and validates, and a key the type does not know is refused
///   with an error naming it;
/// - creating the component does no I/O: nothing appears in `{dir}` and every `{port}` is
///   still free (`validate` creates components, so it must leave nothing behind);
/// - a component that was never started shuts down cleanly;
/// - it starts (with a host offering no extensions) and shuts down, and a second
///   shutdown is harmless;
/// - the same configuration builds, starts and stops again afterwards, as after a reload:
///   ports and files were released.
///
/// The components of every signal are created from one set of settings, as the collector
/// does, so those that share state across signals ([`CreateSettings::shared`]) are checked
/// that way. Each step must finish within 30 seconds. A failure panics naming the step.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use tributary_pipeline_core::component::{ComponentConfig, ProcessorFactory, Stability};
/// use tributary_pipeline_core::processorhelper;
///
/// #[derive(Debug, Default, serde::Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {}
/// impl ComponentConfig for Config {}
///
/// let factory = ProcessorFactory::new("passthrough").with_traces(
///     |_, _: &Config, next| Ok(processorhelper::from_fn(next, |_| Ok(()))),
///     Stability::Development,
/// );
/// tributary_pipeline_core::testing::check_processor(factory, "").await;
/// # }
/// ```
pub async fn check_processor<C: ComponentConfig>(factory: ProcessorFactory<C>, yaml: &str) {
    let signals = declared(|signal| factory.stability(signal).is_supported());
    let create = |settings: &CreateSettings, (signal, _): (Signal, Signal), config: &C| {
        Ok(match signal {
            Signal::Traces => factory.create(settings, config, Sink::<Traces>::new().next())?
                as Arc<dyn Component>,
            Signal::Metrics => factory.create(settings, config, Sink::<Metrics>::new().next())?
                as Arc<dyn Component>,
            Signal::Logs => {
                factory.create(settings, config, Sink::<Logs>::new().next())? as Arc<dyn Component>
            }
        })
    };
    run(
        Kind::Processor,
        factory.component_type(),
        &signals,
        yaml,
        create,
    )
    .await;
}

/// Checks an exporter factory; see [`check_processor`] for what is checked.
pub async fn check_exporter<C: ComponentConfig>(factory: ExporterFactory<C>, yaml: &str) {
    let signals = declared(|signal| factory.stability(signal).is_supported());
    let create = |settings: &CreateSettings, (signal, _): (Signal, Signal), config: &C| {
        Ok(match signal {
            Signal::Traces => factory.create::<Traces>(settings, config)? as Arc<dyn Component>,
            Signal::Metrics => factory.create::<Metrics>(settings, config)? as Arc<dyn Component>,
            Signal::Logs => factory.create::<Logs>(settings, config)? as Arc<dyn Component>,
        })
    };
    run(
        Kind::Exporter,
        factory.component_type(),
        &signals,
        yaml,
        create,
    )
    .await;
}

/// Checks an extension factory; see [`check_processor`] for what is checked.
pub async fn check_extension<C: ComponentConfig>(factory: ExtensionFactory<C>, yaml: &str) {
    let create = |settings: &CreateSettings, _: (Signal, Signal), config: &C| {
        factory
            .create(settings, config)
            .map(|extension| extension as Arc<dyn Component>)
    };
    // Extensions have no signal: one instance, created as for traces.
    run(
        Kind::Extension,
        factory.component_type(),
        &[(Signal::Traces, Signal::Traces)],
        yaml,
        create,
    )
    .await;
}

/// Checks a connector factory; see [`check_processor`] for what is checked. One instance is
/// created for every (from, to) signal pair the factory supports, each feeding a
/// [`Router`] over three [`Sink`] pipelines named `traces/conformance`,
/// `metrics/conformance` and `logs/conformance` whatever the signal, so that one
/// configuration naming pipelines (`routing`, `failover`) serves every pair.
pub async fn check_connector<C: ComponentConfig>(factory: ConnectorFactory<C>, yaml: &str) {
    let pairs: Vec<(Signal, Signal)> = Signal::ALL
        .into_iter()
        .flat_map(|from| Signal::ALL.into_iter().map(move |to| (from, to)))
        .filter(|&(from, to)| factory.stability(from, to).is_supported())
        .collect();
    assert!(!pairs.is_empty(), "the factory declares no signal pair");
    fn router<T: SignalData>() -> Router<T> {
        Router::new(Signal::ALL.map(|signal| {
            let id = format!("{signal}/conformance")
                .parse()
                .expect("a valid pipeline ID");
            (id, Sink::<T>::new().next())
        }))
    }
    fn erase<T: SignalData>(
        connector: Result<Arc<dyn Connector<T>>, CreateError>,
    ) -> Result<Arc<dyn Component>, CreateError> {
        connector.map(|c| c as Arc<dyn Component>)
    }
    let create = |settings: &CreateSettings, pair: (Signal, Signal), config: &C| {
        use Signal::{Logs as L, Metrics as M, Traces as T};
        match pair {
            (T, T) => erase(factory.create::<Traces, Traces>(settings, config, router())),
            (T, M) => erase(factory.create::<Traces, Metrics>(settings, config, router())),
            (T, L) => erase(factory.create::<Traces, Logs>(settings, config, router())),
            (M, T) => erase(factory.create::<Metrics, Traces>(settings, config, router())),
            (M, M) => erase(factory.create::<Metrics, Metrics>(settings, config, router())),
            (M, L) => erase(factory.create::<Metrics, Logs>(settings, config, router())),
            (L, T) => erase(factory.create::<Logs, Traces>(settings, config, router())),
            (L, M) => erase(factory.create::<Logs, Metrics>(settings, config, router())),
            (L, L) => erase(factory.create::<Logs, Logs>(settings, config, router())),
        }
    };
    run(
        Kind::Connector,
        factory.component_type(),
        &pairs,
        yaml,
        create,
    )
    .await;
}

/// The host a collector gives its components, without extensions.
fn host() -> Host {
    Host::default().with_service(Arc::new(crate::service::ServiceHealth::default()))
}

/// The signals a factory declares, each as an instance taking and emitting that signal.
fn declared(supported: impl Fn(Signal) -> bool) -> Vec<(Signal, Signal)> {
    let signals: Vec<(Signal, Signal)> = Signal::ALL
        .into_iter()
        .filter(|s| supported(*s))
        .map(|s| (s, s))
        .collect();
    assert!(!signals.is_empty(), "the factory declares no signal");
    signals
}

/// The configuration with its placeholders filled in, and what they stand for.
struct Prepared {
    yaml: String,
    dir: tempfile::TempDir,
    ports: Vec<u16>,
}

fn prepare(yaml: &str) -> Prepared {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut ports = Vec::new();
    let mut filled = yaml.replace("{dir}", &dir.path().display().to_string());
    while filled.contains("{port}") {
        let port = free_port();
        ports.push(port);
        filled = filled.replacen("{port}", &port.to_string(), 1);
    }
    Prepared {
        yaml: filled,
        dir,
        ports,
    }
}

/// A local TCP port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

fn decode<C: ComponentConfig>(yaml: &str) -> Result<C, ConfigError> {
    let conf = Conf::from_yaml(yaml).map_err(|e| ConfigError::new(e.to_string()))?;
    decode_config::<C>(conf.as_value())
}

/// `yaml` (a mapping, or empty) with one more key the configuration type cannot know.
fn with_unknown_key(yaml: &str) -> Option<String> {
    let conf = Conf::from_yaml(yaml).ok()?;
    match conf.as_value() {
        Value::Null => Some(format!("{UNKNOWN_KEY}: 1\n")),
        Value::Map(_) => Some(format!("{yaml}\n{UNKNOWN_KEY}: 1\n")),
        _ => None,
    }
}

/// Fails, naming `what`, unless `step` finishes within [`STEP_TIMEOUT`].
async fn within<T>(what: &str, step: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(STEP_TIMEOUT, step)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done after {STEP_TIMEOUT:?}"))
}

/// Everything the I/O check looks at: files in the directory, ports in use.
fn assert_no_io(what: &str, dir: &Path, ports: &[u16]) {
    let files: Vec<_> = std::fs::read_dir(dir)
        .expect("the directory is readable")
        .filter_map(|entry| entry.ok().map(|entry| entry.file_name()))
        .collect();
    assert!(
        files.is_empty(),
        "{what} wrote {files:?} in {}",
        dir.display()
    );
    assert_ports_free(what, ports);
}

fn assert_ports_free(what: &str, ports: &[u16]) {
    for port in ports {
        let address = SocketAddr::from(([127, 0, 0, 1], *port));
        assert!(
            TcpListener::bind(address).is_ok(),
            "{what} holds port {port}"
        );
    }
}

/// Runs the suite over `instances`, each a (signal in, signal out) pair: the same signal
/// twice except for connectors.
async fn run<C, F>(
    kind: Kind,
    component_type: &str,
    instances: &[(Signal, Signal)],
    yaml: &str,
    create: F,
) where
    C: ComponentConfig,
    F: Fn(&CreateSettings, (Signal, Signal), &C) -> Result<Arc<dyn Component>, CreateError>,
{
    let name = format!("{kind} {component_type}");
    let prepared = prepare(yaml);

    // The configuration.
    let config: C = decode(&prepared.yaml)
        .unwrap_or_else(|e| panic!("{name}: the configuration is refused: {e}"));
    if let Some(unknown) = with_unknown_key(&prepared.yaml) {
        let error = decode::<C>(&unknown)
            .err()
            .unwrap_or_else(|| panic!("{name}: the unknown key {UNKNOWN_KEY} is accepted"));
        assert!(
            error.to_string().contains(UNKNOWN_KEY),
            "{name}: the error for an unknown key does not name it: {error}"
        );
    }

    let build = || -> Vec<Arc<dyn Component>> {
        let id = component_type.parse().expect("a valid component type");
        let extension = kind == Kind::Extension;
        let settings = CreateSettings::standalone(kind, id, (!extension).then_some(instances[0].0));
        instances
            .iter()
            .map(|&(from, to)| {
                let settings = if extension {
                    settings.clone()
                } else {
                    settings.for_signal(from)
                };
                let instance = if from == to {
                    from.to_string()
                } else {
                    format!("{from} to {to}")
                };
                create(&settings, (from, to), &config).unwrap_or_else(|e| {
                    panic!("{name}: creating the {instance} instance failed: {e}")
                })
            })
            .collect()
    };

    // Created (as `validate` does) and never started: no I/O, a clean shutdown.
    let components = build();
    assert_no_io(
        &format!("{name}, created"),
        prepared.dir.path(),
        &prepared.ports,
    );
    for component in &components {
        within(
            &format!("{name}: shutdown without start"),
            component.shutdown(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: shutdown without start failed: {e}"));
    }
    drop(components);
    assert_no_io(
        &format!("{name}, created and shut down"),
        prepared.dir.path(),
        &prepared.ports,
    );

    // Started and stopped twice over, the second time as after a reload.
    for round in ["", " again (as after a reload)"] {
        let components = build();
        let host = host();
        for component in &components {
            within(&format!("{name}: start{round}"), component.start(&host))
                .await
                .unwrap_or_else(|e| panic!("{name}: start{round} failed: {e}"));
        }
        for component in components.iter().rev() {
            within(&format!("{name}: shutdown{round}"), component.shutdown())
                .await
                .unwrap_or_else(|e| panic!("{name}: shutdown{round} failed: {e}"));
        }
        for component in &components {
            within(
                &format!("{name}: second shutdown{round}"),
                component.shutdown(),
            )
            .await
            .unwrap_or_else(|e| panic!("{name}: a second shutdown{round} failed: {e}"));
        }
        drop(components);
        assert_ports_free(&format!("{name}, shut down{round}"), &prepared.ports);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{ComponentConfig, ExtensionFactory, Stability};

    /// An extension that does, in `create`, what it should do in `start`.
    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Eager {
        file: Option<std::path::PathBuf>,
        port: Option<u16>,
    }
    impl ComponentConfig for Eager {}

    struct Holding(#[allow(dead_code)] Option<TcpListener>);
    impl Component for Holding {}
    impl crate::component::Extension for Holding {}

    fn eager() -> ExtensionFactory<Eager> {
        ExtensionFactory::new(
            "eager",
            |_, config: &Eager| {
                if let Some(file) = &config.file {
                    std::fs::write(file, b"").unwrap();
                }
                let listener = config
                    .port
                    .map(|port| TcpListener::bind(("127.0.0.1", port)).unwrap());
                Ok(Arc::new(Holding(listener)) as Arc<dyn crate::component::Extension>)
            },
            Stability::Development,
        )
    }

    #[tokio::test]
    #[should_panic(expected = "extension eager, created wrote [\"out\"]")]
    async fn a_file_written_at_create_fails_the_suite() {
        check_extension(eager(), "file: \"{dir}/out\"").await;
    }

    #[tokio::test]
    #[should_panic(expected = "extension eager, created holds port")]
    async fn a_port_bound_at_create_fails_the_suite() {
        check_extension(eager(), "port: {port}").await;
    }

    #[tokio::test]
    #[should_panic(expected = "the unknown key conformance_unknown_key is accepted")]
    async fn a_config_accepting_unknown_keys_fails_the_suite() {
        #[derive(Debug, Default, serde::Deserialize)]
        struct Lenient {}
        impl ComponentConfig for Lenient {}
        let factory = ExtensionFactory::new(
            "lenient",
            |_, _: &Lenient| Ok(Arc::new(Holding(None)) as Arc<dyn crate::component::Extension>),
            Stability::Development,
        );
        check_extension(factory, "").await;
    }

    #[tokio::test]
    async fn a_component_doing_nothing_at_create_passes() {
        check_extension(eager(), "").await;
    }
}
