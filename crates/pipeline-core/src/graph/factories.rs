//! `Factories`: every component factory a collector knows, by kind and type name.

use std::collections::BTreeMap;
use std::sync::Arc;

use tributary_confmap::{SecretPaths, Value};

use crate::component::{
    AnyConnectorFactory, AnyExporterFactory, AnyExtensionFactory, AnyProcessorFactory,
    AnyReceiverFactory, ComponentConfig, ComponentType, ConnectorFactory, ExporterFactory,
    ExtensionFactory, Kind, ProcessorFactory, ReceiverFactory, Stability,
};
use crate::pdata::Signal;

/// One registered factory, as the `components` command lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactoryInfo {
    /// The component kind.
    pub kind: Kind,
    /// The type name.
    pub component_type: String,
    /// Other accepted names.
    pub aliases: Vec<String>,
    /// Stability per signal (extensions: one entry per signal with the same value;
    /// connectors: empty, see `pair_stability`).
    pub stability: Vec<(Signal, Stability)>,
    /// Connectors: stability per supported (from-signal, to-signal) pair; empty for the
    /// other kinds.
    pub pair_stability: Vec<(Signal, Signal, Stability)>,
}

/// Every component factory a collector can build from, by kind and type name (aliases
/// included). Registration problems (an invalid type name, the same type twice) are kept
/// and reported when the collector is built.
#[derive(Clone, Default)]
pub struct Factories {
    receivers: BTreeMap<String, Arc<dyn AnyReceiverFactory>>,
    processors: BTreeMap<String, Arc<dyn AnyProcessorFactory>>,
    exporters: BTreeMap<String, Arc<dyn AnyExporterFactory>>,
    extensions: BTreeMap<String, Arc<dyn AnyExtensionFactory>>,
    connectors: BTreeMap<String, Arc<dyn AnyConnectorFactory>>,
    problems: Vec<String>,
}

impl std::fmt::Debug for Factories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factories")
            .field("receivers", &self.receivers.keys().collect::<Vec<_>>())
            .field("processors", &self.processors.keys().collect::<Vec<_>>())
            .field("exporters", &self.exporters.keys().collect::<Vec<_>>())
            .field("extensions", &self.extensions.keys().collect::<Vec<_>>())
            .field("connectors", &self.connectors.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn insert<F: ?Sized>(
    map: &mut BTreeMap<String, Arc<F>>,
    problems: &mut Vec<String>,
    kind: Kind,
    ty: &'static str,
    aliases: &[&'static str],
    factory: Arc<F>,
) {
    for name in std::iter::once(&ty).chain(aliases) {
        if let Err(e) = ComponentType::new(name) {
            problems.push(format!("{kind} factory: {e}"));
            continue;
        }
        if map.insert(name.to_string(), Arc::clone(&factory)).is_some() {
            problems.push(format!("{kind} type {name:?} is registered twice"));
        }
    }
}

impl Factories {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a receiver factory.
    pub fn add_receiver<C: ComponentConfig>(&mut self, factory: ReceiverFactory<C>) {
        let factory: Arc<dyn AnyReceiverFactory> = Arc::new(factory);
        insert(
            &mut self.receivers,
            &mut self.problems,
            Kind::Receiver,
            factory.component_type(),
            factory.aliases(),
            Arc::clone(&factory),
        );
    }

    /// Adds a processor factory.
    pub fn add_processor<C: ComponentConfig>(&mut self, factory: ProcessorFactory<C>) {
        let factory: Arc<dyn AnyProcessorFactory> = Arc::new(factory);
        insert(
            &mut self.processors,
            &mut self.problems,
            Kind::Processor,
            factory.component_type(),
            factory.aliases(),
            Arc::clone(&factory),
        );
    }

    /// Adds an exporter factory.
    pub fn add_exporter<C: ComponentConfig>(&mut self, factory: ExporterFactory<C>) {
        let factory: Arc<dyn AnyExporterFactory> = Arc::new(factory);
        insert(
            &mut self.exporters,
            &mut self.problems,
            Kind::Exporter,
            factory.component_type(),
            factory.aliases(),
            Arc::clone(&factory),
        );
    }

    /// Adds an extension factory.
    pub fn add_extension<C: ComponentConfig>(&mut self, factory: ExtensionFactory<C>) {
        let factory: Arc<dyn AnyExtensionFactory> = Arc::new(factory);
        insert(
            &mut self.extensions,
            &mut self.problems,
            Kind::Extension,
            factory.component_type(),
            factory.aliases(),
            Arc::clone(&factory),
        );
    }

    /// Adds a connector factory.
    pub fn add_connector<C: ComponentConfig>(&mut self, factory: ConnectorFactory<C>) {
        let factory: Arc<dyn AnyConnectorFactory> = Arc::new(factory);
        insert(
            &mut self.connectors,
            &mut self.problems,
            Kind::Connector,
            factory.component_type(),
            factory.aliases(),
            Arc::clone(&factory),
        );
    }

    /// Adds every factory of `other` (a factory already present under the same name is
    /// reported as registered twice).
    pub fn extend(&mut self, other: Factories) {
        fn merge<F: ?Sized>(
            into: &mut BTreeMap<String, Arc<F>>,
            from: BTreeMap<String, Arc<F>>,
            kind: Kind,
            problems: &mut Vec<String>,
        ) {
            for (name, factory) in from {
                if into.insert(name.clone(), factory).is_some() {
                    problems.push(format!("{kind} type {name:?} is registered twice"));
                }
            }
        }
        merge(
            &mut self.receivers,
            other.receivers,
            Kind::Receiver,
            &mut self.problems,
        );
        merge(
            &mut self.processors,
            other.processors,
            Kind::Processor,
            &mut self.problems,
        );
        merge(
            &mut self.exporters,
            other.exporters,
            Kind::Exporter,
            &mut self.problems,
        );
        merge(
            &mut self.extensions,
            other.extensions,
            Kind::Extension,
            &mut self.problems,
        );
        merge(
            &mut self.connectors,
            other.connectors,
            Kind::Connector,
            &mut self.problems,
        );
        self.problems.extend(other.problems);
    }

    /// Problems found while registering, if any.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    pub(crate) fn receiver(&self, ty: &str) -> Option<&Arc<dyn AnyReceiverFactory>> {
        self.receivers.get(ty)
    }

    pub(crate) fn processor(&self, ty: &str) -> Option<&Arc<dyn AnyProcessorFactory>> {
        self.processors.get(ty)
    }

    pub(crate) fn exporter(&self, ty: &str) -> Option<&Arc<dyn AnyExporterFactory>> {
        self.exporters.get(ty)
    }

    pub(crate) fn extension(&self, ty: &str) -> Option<&Arc<dyn AnyExtensionFactory>> {
        self.extensions.get(ty)
    }

    pub(crate) fn connector(&self, ty: &str) -> Option<&Arc<dyn AnyConnectorFactory>> {
        self.connectors.get(ty)
    }

    /// Whether a factory of this kind and type exists, and the known types if not.
    pub(crate) fn known_types(&self, kind: Kind) -> Vec<&str> {
        let keys: Vec<&str> = match kind {
            Kind::Receiver => self.receivers.keys().map(String::as_str).collect(),
            Kind::Processor => self.processors.keys().map(String::as_str).collect(),
            Kind::Exporter => self.exporters.keys().map(String::as_str).collect(),
            Kind::Extension => self.extensions.keys().map(String::as_str).collect(),
            Kind::Connector => self.connectors.keys().map(String::as_str).collect(),
        };
        keys
    }

    /// Where a section of a type holds secrets, decoded by its factory's config type;
    /// `None` if the type is unknown or the section does not decode.
    pub(crate) fn secret_paths(&self, kind: Kind, ty: &str, raw: &Value) -> Option<SecretPaths> {
        match kind {
            Kind::Receiver => self.receivers.get(ty)?.secret_paths(raw),
            Kind::Processor => self.processors.get(ty)?.secret_paths(raw),
            Kind::Exporter => self.exporters.get(ty)?.secret_paths(raw),
            Kind::Extension => self.extensions.get(ty)?.secret_paths(raw),
            Kind::Connector => self.connectors.get(ty)?.secret_paths(raw),
        }
    }

    /// Stability of a type for a signal; `None` if the type is unknown. A connector is
    /// graded by the best of the pairs it supports with this signal on either side.
    pub(crate) fn stability(&self, kind: Kind, ty: &str, signal: Signal) -> Option<Stability> {
        match kind {
            Kind::Receiver => self.receivers.get(ty).map(|f| f.stability(signal)),
            Kind::Processor => self.processors.get(ty).map(|f| f.stability(signal)),
            Kind::Exporter => self.exporters.get(ty).map(|f| f.stability(signal)),
            Kind::Extension => self.extensions.get(ty).map(|f| f.stability()),
            Kind::Connector => self.connectors.get(ty).map(|f| {
                Signal::ALL
                    .iter()
                    .flat_map(|&other| [f.stability(signal, other), f.stability(other, signal)])
                    .max()
                    .unwrap_or(Stability::Undefined)
            }),
        }
    }

    /// Stability of a connector type for data of `from` in and `to` out; `None` if the
    /// type is unknown.
    pub(crate) fn connector_stability(
        &self,
        ty: &str,
        from: Signal,
        to: Signal,
    ) -> Option<Stability> {
        self.connectors.get(ty).map(|f| f.stability(from, to))
    }

    /// Every registered factory (each once, under its own type name), by kind and type.
    pub fn describe(&self) -> Vec<FactoryInfo> {
        let mut out = Vec::new();
        let mut push = |kind: Kind,
                        ty: &'static str,
                        aliases: &[&'static str],
                        stability: &dyn Fn(Signal) -> Stability| {
            out.push(FactoryInfo {
                kind,
                component_type: ty.to_string(),
                aliases: aliases.iter().map(|a| a.to_string()).collect(),
                stability: Signal::ALL.iter().map(|&s| (s, stability(s))).collect(),
                pair_stability: Vec::new(),
            });
        };
        for (name, f) in &self.receivers {
            if name == f.component_type() {
                push(Kind::Receiver, f.component_type(), f.aliases(), &|s| {
                    f.stability(s)
                });
            }
        }
        for (name, f) in &self.processors {
            if name == f.component_type() {
                push(Kind::Processor, f.component_type(), f.aliases(), &|s| {
                    f.stability(s)
                });
            }
        }
        for (name, f) in &self.exporters {
            if name == f.component_type() {
                push(Kind::Exporter, f.component_type(), f.aliases(), &|s| {
                    f.stability(s)
                });
            }
        }
        for (name, f) in &self.extensions {
            if name == f.component_type() {
                push(Kind::Extension, f.component_type(), f.aliases(), &|_| {
                    f.stability()
                });
            }
        }
        for (name, f) in &self.connectors {
            if name == f.component_type() {
                out.push(FactoryInfo {
                    kind: Kind::Connector,
                    component_type: f.component_type().to_string(),
                    aliases: f.aliases().iter().map(|a| a.to_string()).collect(),
                    stability: Vec::new(),
                    pair_stability: Signal::ALL
                        .iter()
                        .flat_map(|&from| Signal::ALL.iter().map(move |&to| (from, to)))
                        .map(|(from, to)| (from, to, f.stability(from, to)))
                        .filter(|(_, _, s)| s.is_supported())
                        .collect(),
                });
            }
        }
        out
    }
}
