//! Connectors: components that join pipelines, as the exporter of one pipeline and the
//! receiver of others, possibly crossing signals (spans in, metrics out).
//!
//! A connector type is declared with a [`ConnectorFactory`]: one create function per
//! (from-signal, to-signal) pair it supports, each with its [`Stability`], as the Go
//! Collector's `connector.NewFactory(type, WithTracesToMetrics(f, stability), ...)`. The
//! graph builds one instance per (connector ID, from-signal, to-signal) and hands it a
//! [`Router`] over the pipelines that list the connector as a receiver.

use std::any::Any;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use super::factory::{
    AnyConfig, AnyNext, Built, Named, Names, Supported, same_signal, slot, stability_of, supported,
    typed,
};
use super::{Component, ComponentConfig, CreateError, CreateSettings, PipelineId, Stability};
use crate::consumer::{Consumer, Fanout, Next};
use crate::pdata::{Logs, Metrics, Signal, SignalData, Traces};

/// A component at the end of one pipeline that feeds other pipelines: it consumes data of
/// signal `T` (as an exporter would) and pushes what it makes of it to the [`Router`] it
/// was created with. Its `consume` returns what its downstream pipelines returned, so
/// errors and back-pressure travel upstream as through any pipeline.
pub trait Connector<T: SignalData>: Component + Consumer<T> {}
impl<T: SignalData, C: Component + Consumer<T> + ?Sized> Connector<T> for C {}

/// The pipelines a connector feeds, by ID: the Go Collector's `connector.TracesRouterAndConsumer`.
///
/// [`next`](Router::next) is the fanout to every one of them (what a connector such as
/// `count` or `forward` uses); [`consumer`](Router::consumer) is the fanout to a chosen few
/// (what `routing` and `failover` use).
///
/// ```
/// use tributary_pipeline_core::component::Router;
/// use tributary_pipeline_core::pdata::Traces;
/// use tributary_pipeline_core::testing::Sink;
///
/// let (a, b) = (Sink::<Traces>::new(), Sink::<Traces>::new());
/// let router = Router::new([
///     ("traces/a".parse().unwrap(), a.next()),
///     ("traces/b".parse().unwrap(), b.next()),
/// ]);
/// assert_eq!(router.pipeline_ids().count(), 2);
/// assert!(router.consumer(&["traces/a".parse().unwrap()]).is_ok());
/// assert!(router.consumer(&["traces/c".parse().unwrap()]).is_err());
/// ```
pub struct Router<T: SignalData> {
    pipelines: Vec<(PipelineId, Next<T>)>,
    all: Next<T>,
}

impl<T: SignalData> Clone for Router<T> {
    fn clone(&self) -> Self {
        Router {
            pipelines: self.pipelines.clone(),
            all: Arc::clone(&self.all),
        }
    }
}

impl<T: SignalData> fmt::Debug for Router<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field(
                "pipelines",
                &self.pipelines.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A pipeline a connector was asked to route to does not list it as a receiver.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pipeline {pipeline:?} does not list this connector as a receiver (it feeds: {known})")]
pub struct UnknownPipeline {
    /// The pipeline asked for.
    pub pipeline: String,
    /// The pipelines the connector does feed, comma-separated.
    pub known: String,
}

impl<T: SignalData> Router<T> {
    /// A router over `pipelines`, each with the consumer at its entry. The graph builds
    /// one per connector instance; tests build their own over sinks.
    pub fn new(pipelines: impl IntoIterator<Item = (PipelineId, Next<T>)>) -> Self {
        let mut pipelines: Vec<(PipelineId, Next<T>)> = pipelines.into_iter().collect();
        pipelines.sort_by(|(a, _), (b, _)| a.cmp(b));
        pipelines.dedup_by(|(a, _), (b, _)| a == b);
        let all = Fanout::new(
            pipelines
                .iter()
                .map(|(id, next)| (id.to_string(), Arc::clone(next))),
        )
        .into_consumer();
        Router { pipelines, all }
    }

    /// The fanout to every downstream pipeline.
    pub fn next(&self) -> Next<T> {
        Arc::clone(&self.all)
    }

    /// The downstream pipelines' IDs, sorted.
    pub fn pipeline_ids(&self) -> impl Iterator<Item = &PipelineId> {
        self.pipelines.iter().map(|(id, _)| id)
    }

    /// The entry of one downstream pipeline.
    pub fn pipeline(&self, id: &PipelineId) -> Option<&Next<T>> {
        self.pipelines
            .iter()
            .find(|(known, _)| known == id)
            .map(|(_, next)| next)
    }

    /// The fanout to the pipelines `ids` (each once), or which one this connector does not
    /// feed.
    pub fn consumer(&self, ids: &[PipelineId]) -> Result<Next<T>, UnknownPipeline> {
        let mut seen = BTreeSet::new();
        let mut branches = Vec::new();
        for id in ids {
            if !seen.insert(id) {
                continue;
            }
            let next = self.pipeline(id).ok_or_else(|| UnknownPipeline {
                pipeline: id.to_string(),
                known: self
                    .pipeline_ids()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            branches.push((id.to_string(), Arc::clone(next)));
        }
        Ok(Fanout::new(branches).into_consumer())
    }
}

/// A [`Router`] of any signal, as the graph passes it to an erased factory.
pub(crate) enum AnyRouter {
    Traces(Router<Traces>),
    Metrics(Router<Metrics>),
    Logs(Router<Logs>),
}

impl AnyRouter {
    fn signal(&self) -> Signal {
        match self {
            AnyRouter::Traces(_) => Signal::Traces,
            AnyRouter::Metrics(_) => Signal::Metrics,
            AnyRouter::Logs(_) => Signal::Logs,
        }
    }

    /// The router as `Router<T>`, if `T` is its signal.
    fn typed<T: SignalData>(self) -> Result<Router<T>, CreateError> {
        match self {
            AnyRouter::Traces(router) => same_signal(router),
            AnyRouter::Metrics(router) => same_signal(router),
            AnyRouter::Logs(router) => same_signal(router),
        }
    }

    /// Wraps a typed router.
    pub(crate) fn from_typed<T: SignalData>(router: Router<T>) -> AnyRouter {
        let boxed: Box<dyn Any> = Box::new(router);
        match T::SIGNAL {
            Signal::Traces => AnyRouter::Traces(*expect_signal(boxed)),
            Signal::Metrics => AnyRouter::Metrics(*expect_signal(boxed)),
            Signal::Logs => AnyRouter::Logs(*expect_signal(boxed)),
        }
    }
}

/// `boxed` as the type its signal says it is. [`SignalData`] is sealed, one type per
/// signal, so this cannot fail.
fn expect_signal<B: 'static>(boxed: Box<dyn Any>) -> Box<B> {
    match boxed.downcast::<B>() {
        Ok(value) => value,
        Err(_) => unreachable!("one SignalData type per signal"),
    }
}

/// A created connector, erased: `Arc<dyn Connector<From>>` in a box.
type AnyConnector = Box<dyn Any + Send>;

/// The create function of one (from, to) pair, erased over both signals.
type CreatePair<C> =
    Arc<dyn Fn(&CreateSettings, &C, AnyRouter) -> Result<AnyConnector, CreateError> + Send + Sync>;

fn index(signal: Signal) -> usize {
    match signal {
        Signal::Traces => 0,
        Signal::Metrics => 1,
        Signal::Logs => 2,
    }
}

/// Builds connectors of one type: a create function for each (from-signal, to-signal) pair
/// the type supports, declared with its [`Stability`], as the Go Collector's
/// `connector.NewFactory(type, WithTracesToMetrics(f, stability), ...)`.
///
/// A create function receives the settings, the configuration and the [`Router`] over the
/// pipelines that list the connector as a receiver, and returns the connector the upstream
/// pipelines export to:
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use tributary_pipeline_core::component::{
///     Component, ComponentConfig, Connector, ConnectorFactory, CreateError, CreateSettings,
///     Router, Stability,
/// };
/// use tributary_pipeline_core::consumer::{ConsumeError, Consumer, Next};
/// use tributary_pipeline_core::pdata::{Signal, SignalData};
///
/// #[derive(Debug, Default, serde::Deserialize)]
/// #[serde(default, deny_unknown_fields)]
/// struct Config {}
/// impl ComponentConfig for Config {}
///
/// /// Passes everything on to every downstream pipeline.
/// struct Pass<T: SignalData>(Next<T>);
/// impl<T: SignalData> Component for Pass<T> {}
/// #[async_trait]
/// impl<T: SignalData> Consumer<T> for Pass<T> {
///     async fn consume(&self, data: T) -> Result<(), ConsumeError> {
///         self.0.consume(data).await
///     }
/// }
///
/// fn create<T: SignalData>(
///     _: &CreateSettings,
///     _: &Config,
///     router: Router<T>,
/// ) -> Result<Arc<dyn Connector<T>>, CreateError> {
///     Ok(Arc::new(Pass(router.next())))
/// }
///
/// let factory = ConnectorFactory::new("pass")
///     .with_traces_to_traces(create, Stability::Alpha)
///     .with_logs_to_logs(create, Stability::Development);
/// assert_eq!(factory.stability(Signal::Traces, Signal::Traces), Stability::Alpha);
/// assert_eq!(factory.stability(Signal::Traces, Signal::Metrics), Stability::Undefined);
/// ```
pub struct ConnectorFactory<C> {
    names: Names,
    pairs: [[Option<Supported<CreatePair<C>>>; 3]; 3],
}

macro_rules! with_pair {
    ($($method:ident: $from:ty => $to:ty, $doc:literal;)*) => {$(
        #[doc = $doc]
        pub fn $method<F>(self, create: F, stability: Stability) -> Self
        where
            F: Fn(&CreateSettings, &C, Router<$to>) -> Result<Arc<dyn Connector<$from>>, CreateError>
                + Send
                + Sync
                + 'static,
        {
            self.with_pair::<$from, $to, F>(create, stability)
        }
    )*};
}

impl<C: ComponentConfig> ConnectorFactory<C> {
    /// A factory of connectors of type `component_type` (`forward`) that supports no
    /// signal pair yet.
    pub fn new(component_type: &'static str) -> Self {
        ConnectorFactory {
            names: Names::new(component_type),
            pairs: Default::default(),
        }
    }

    /// Accepts `alias` as another name of the type.
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.names.aliases.push(alias);
        self
    }

    /// Supports data of signal `From` in and `To` out: `create` builds the connector
    /// pushing to the router's pipelines. The named methods
    /// ([`with_traces_to_metrics`](Self::with_traces_to_metrics), ...) call this.
    pub fn with_pair<From, To, F>(mut self, create: F, stability: Stability) -> Self
    where
        From: SignalData,
        To: SignalData,
        F: Fn(&CreateSettings, &C, Router<To>) -> Result<Arc<dyn Connector<From>>, CreateError>
            + Send
            + Sync
            + 'static,
    {
        let erased: CreatePair<C> = Arc::new(move |settings, config, router| {
            let connector = create(settings, config, router.typed::<To>()?)?;
            Ok(Box::new(connector) as AnyConnector)
        });
        self.pairs[index(From::SIGNAL)][index(To::SIGNAL)] = supported(erased, stability);
        self
    }

    with_pair! {
        with_traces_to_traces: Traces => Traces, "Supports traces in, traces out.";
        with_traces_to_metrics: Traces => Metrics, "Supports traces in, metrics out.";
        with_traces_to_logs: Traces => Logs, "Supports traces in, logs out.";
        with_metrics_to_traces: Metrics => Traces, "Supports metrics in, traces out.";
        with_metrics_to_metrics: Metrics => Metrics, "Supports metrics in, metrics out.";
        with_metrics_to_logs: Metrics => Logs, "Supports metrics in, logs out.";
        with_logs_to_traces: Logs => Traces, "Supports logs in, traces out.";
        with_logs_to_metrics: Logs => Metrics, "Supports logs in, metrics out.";
        with_logs_to_logs: Logs => Logs, "Supports logs in, logs out.";
    }

    /// Creates the connector taking `From` and pushing `To` to `router`, as the framework
    /// does: for a component's own tests.
    pub fn create<From: SignalData, To: SignalData>(
        &self,
        settings: &CreateSettings,
        config: &C,
        router: Router<To>,
    ) -> Result<Arc<dyn Connector<From>>, CreateError> {
        let create = slot(&self.pairs[index(From::SIGNAL)][index(To::SIGNAL)])?;
        let connector = create(settings, config, AnyRouter::from_typed(router))?;
        connector
            .downcast::<Arc<dyn Connector<From>>>()
            .map(|connector| *connector)
            .map_err(|_| CreateError::new("internal error: a connector of another signal"))
    }

    /// The type name used in configuration.
    pub fn component_type(&self) -> &'static str {
        self.names.component_type
    }

    /// Other names accepted for the type.
    pub fn aliases(&self) -> &[&'static str] {
        &self.names.aliases
    }

    /// Maturity for data of `from` in and `to` out; [`Stability::Undefined`] for pairs not
    /// supported.
    pub fn stability(&self, from: Signal, to: Signal) -> Stability {
        stability_of(&self.pairs[index(from)][index(to)])
    }
}

impl<C: ComponentConfig> Named for ConnectorFactory<C> {
    type Config = C;
    fn names(&self) -> &Names {
        &self.names
    }
}

/// Object-safe view of a [`ConnectorFactory`].
pub(crate) trait AnyConnectorFactory: super::factory::AnyFactory {
    fn stability(&self, from: Signal, to: Signal) -> Stability;
    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        from: Signal,
        router: AnyRouter,
    ) -> Result<Built, CreateError>;
}

fn built<T: SignalData>(connector: AnyConnector) -> Result<Built, CreateError> {
    let connector = connector
        .downcast::<Arc<dyn Connector<T>>>()
        .map_err(|_| CreateError::new("internal error: a connector of another signal"))?;
    let connector: Arc<dyn Connector<T>> = *connector;
    let consumer: Next<T> = connector.clone();
    let consumer = match T::SIGNAL {
        Signal::Traces => AnyNext::Traces(same_signal(consumer)?),
        Signal::Metrics => AnyNext::Metrics(same_signal(consumer)?),
        Signal::Logs => AnyNext::Logs(same_signal(consumer)?),
    };
    Ok(Built {
        component: connector,
        consumer,
    })
}

impl<C: ComponentConfig> AnyConnectorFactory for ConnectorFactory<C> {
    fn stability(&self, from: Signal, to: Signal) -> Stability {
        ConnectorFactory::stability(self, from, to)
    }

    fn create(
        &self,
        settings: &CreateSettings,
        config: &AnyConfig,
        from: Signal,
        router: AnyRouter,
    ) -> Result<Built, CreateError> {
        let config = typed::<C>(config)?;
        let create = slot(&self.pairs[index(from)][index(router.signal())])?;
        let connector = create(settings, config, router)?;
        match from {
            Signal::Traces => built::<Traces>(connector),
            Signal::Metrics => built::<Metrics>(connector),
            Signal::Logs => built::<Logs>(connector),
        }
    }
}
