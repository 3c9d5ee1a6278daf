//! [`Resolver`]: turns URIs and `--set` arguments into one configuration, and watches it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::conf::Conf;
use crate::converter::Converter;
use crate::error::{Error, ExpandError, ProviderError};
use crate::expand::{Expander, Fetch, Fetched};
use crate::provider::{CloseGuard, Provider, Retrieved, default_providers};
use crate::secret::redact_userinfo;
use crate::uri::{is_valid_scheme, normalize_config_uri, set_to_uri, split_scheme};
use crate::watch::{ChangeHub, Changes};

/// What a [`Resolver`] resolves and with which providers.
pub struct ResolverSettings {
    /// Configuration URIs, merged in order (later ones win). A bare path means `file:`.
    /// At least one is required.
    pub uris: Vec<String>,
    /// `--set` arguments (`key.path=value`), applied after every URI, in order.
    pub set: Vec<String>,
    /// The providers, one per scheme.
    pub providers: Vec<Arc<dyn Provider>>,
    /// Converters, run in order after merging and expansion.
    pub converters: Vec<Arc<dyn Converter>>,
    /// The scheme of a `${VAR}` reference written without one; `env` by default.
    pub default_scheme: String,
}

impl ResolverSettings {
    /// Settings for the given URIs with the [default providers](default_providers), no
    /// converters and the default scheme `env`.
    pub fn new<I, S>(uris: I) -> ResolverSettings
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ResolverSettings {
            uris: uris.into_iter().map(Into::into).collect(),
            ..ResolverSettings::default()
        }
    }
}

impl Default for ResolverSettings {
    fn default() -> ResolverSettings {
        ResolverSettings {
            uris: Vec::new(),
            set: Vec::new(),
            providers: default_providers(),
            converters: Vec::new(),
            default_scheme: "env".to_owned(),
        }
    }
}

impl fmt::Debug for ResolverSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schemes: Vec<&str> = self.providers.iter().map(|p| p.scheme()).collect();
        let converters: Vec<&str> = self.converters.iter().map(|c| c.name()).collect();
        f.debug_struct("ResolverSettings")
            .field("uris", &self.uris)
            .field("set", &self.set)
            .field("providers", &schemes)
            .field("converters", &converters)
            .field("default_scheme", &self.default_scheme)
            .finish()
    }
}

/// Resolves a configuration from URIs and watches its sources.
///
/// [`resolve`](Resolver::resolve) retrieves every URI in order, merges them (maps merge
/// deeply; lists and scalars from later sources replace earlier ones), applies the `--set`
/// arguments last, expands `${...}` references (see the crate docs), and runs the
/// converters. Every source retrieved, references included, is watched when its provider can
/// watch; [`watch`](Resolver::watch) delivers the change events, coalesced.
///
/// Calling `resolve` again re-retrieves everything and re-arms the watches. After a failed
/// `resolve`, the watches of the last successful one stay armed along with the new ones, so
/// fixing a broken file is noticed.
pub struct Resolver {
    uris: Vec<String>,
    providers: BTreeMap<String, Arc<dyn Provider>>,
    converters: Vec<Arc<dyn Converter>>,
    default_scheme: String,
    hub: Arc<ChangeHub>,
    stop: CancellationToken,
    state: tokio::sync::Mutex<State>,
}

/// The watches kept armed between resolutions.
#[derive(Default)]
struct State {
    /// The sources of the last successful resolution.
    last_good: Vec<CloseGuard>,
    /// The sources of a failed resolution after it.
    last_attempt: Vec<CloseGuard>,
    shut_down: bool,
}

impl Resolver {
    /// Checks the settings: at least one provider and one URI, no two providers with the
    /// same scheme, a provider for the default scheme and for every URI's scheme, and
    /// well-formed `--set` arguments.
    pub fn new(settings: ResolverSettings) -> Result<Resolver, Error> {
        if settings.providers.is_empty() {
            return Err(Error::Settings("no providers".to_owned()));
        }
        let mut providers = BTreeMap::new();
        for provider in settings.providers {
            let scheme = provider.scheme().to_owned();
            if !is_valid_scheme(&scheme) {
                return Err(Error::Settings(format!(
                    "the provider scheme `{scheme}` is invalid; a scheme matches [A-Za-z][A-Za-z0-9+.-]+"
                )));
            }
            if providers.insert(scheme.clone(), provider).is_some() {
                return Err(Error::Settings(format!(
                    "two providers serve the scheme `{scheme}`"
                )));
            }
        }
        let known = || providers.keys().cloned().collect::<Vec<_>>();
        if !providers.contains_key(&settings.default_scheme) {
            return Err(Error::Settings(format!(
                "no provider serves the default scheme `{}`; known schemes: {}",
                settings.default_scheme,
                known().join(", ")
            )));
        }
        if settings.uris.is_empty() {
            return Err(Error::Settings(
                "no configuration URIs; give at least one".to_owned(),
            ));
        }
        let mut uris: Vec<String> = settings
            .uris
            .iter()
            .map(|uri| normalize_config_uri(uri))
            .collect();
        for arg in &settings.set {
            uris.push(set_to_uri(arg)?);
        }
        for uri in &uris {
            let scheme = split_scheme(uri).map_or("", |(scheme, _)| scheme);
            if !providers.contains_key(scheme) {
                return Err(Error::UnknownScheme {
                    uri: redact_userinfo(uri).into_owned(),
                    scheme: scheme.to_owned(),
                    known: known(),
                });
            }
        }
        Ok(Resolver {
            uris,
            providers,
            converters: settings.converters,
            default_scheme: settings.default_scheme,
            hub: ChangeHub::new(),
            stop: CancellationToken::new(),
            state: tokio::sync::Mutex::new(State::default()),
        })
    }

    /// The URIs resolved, in order: the configuration URIs (bare paths as `file:`) and then
    /// the `--set` arguments as `yaml:` URIs.
    pub fn uris(&self) -> &[String] {
        &self.uris
    }

    /// Retrieves, merges, expands and converts the configuration, and re-arms the watches.
    /// Concurrent calls run one after the other.
    pub async fn resolve(&self) -> Result<Conf, Error> {
        let mut state = self.state.lock().await;
        if state.shut_down {
            return Err(Error::Closed);
        }
        let mut session = Session {
            resolver: self,
            guards: Vec::new(),
        };
        let result = tokio::select! {
            result = self.resolve_in(&mut session) => result,
            () = self.stop.cancelled() => Err(Error::Closed),
        };
        let opened = std::mem::take(&mut session.guards);
        let stale = if result.is_ok() {
            let mut stale = std::mem::replace(&mut state.last_good, opened);
            stale.append(&mut state.last_attempt);
            stale
        } else {
            std::mem::replace(&mut state.last_attempt, opened)
        };
        close(stale).await;
        result
    }

    async fn resolve_in(&self, session: &mut Session<'_>) -> Result<Conf, Error> {
        let mut merged = Conf::new();
        for uri in &self.uris {
            let retrieved = session
                .retrieve(uri)
                .await
                .map_err(|failure| failure.into_error(uri, self))?;
            let part = retrieved.as_conf();
            let (_, _, guard) = retrieved.into_parts();
            session.guards.push(guard);
            merged.merge(part.map_err(|error| Error::Source {
                uri: redact_userinfo(uri).into_owned(),
                source: Box::new(error),
            })?);
        }
        let expanded = Expander::new(session, &self.default_scheme)
            .expand(merged.into_value())
            .await?;
        let mut conf = Conf::from_value(expanded)?;
        for converter in &self.converters {
            converter
                .convert(&mut conf)
                .map_err(|error| Error::Converter {
                    converter: converter.name().to_owned(),
                    source: Box::new(error),
                })?;
        }
        Ok(conf)
    }

    /// The change events of every watched source, coalesced: however many changes happen
    /// while nobody reads, the next read returns one event naming all their URIs. The stream
    /// ends when the resolver shuts down. All receivers share one pending event.
    pub fn watch(&self) -> Changes {
        self.hub.changes()
    }

    /// Stops every watch and shuts every provider down; once it returns, no event is
    /// delivered and `resolve` fails with [`Error::Closed`]. A `resolve` in progress is
    /// abandoned. Calling it again does nothing.
    pub async fn shutdown(&self) -> Result<(), Error> {
        self.stop.cancel();
        let mut state = self.state.lock().await;
        if state.shut_down {
            return Ok(());
        }
        state.shut_down = true;
        self.hub.close();
        let mut guards = std::mem::take(&mut state.last_good);
        guards.append(&mut state.last_attempt);
        close(guards).await;
        let mut first_error = None;
        for (scheme, provider) in &self.providers {
            if let Err(source) = provider.shutdown().await {
                tracing::warn!(%scheme, error = %source, "a configuration provider failed to shut down");
                first_error.get_or_insert(Error::ProviderShutdown {
                    scheme: scheme.clone(),
                    source,
                });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn known_schemes(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("uris", &self.uris)
            .field("schemes", &self.known_schemes())
            .field("default_scheme", &self.default_scheme)
            .finish_non_exhaustive()
    }
}

/// Closes watches; the close hooks may take a lock briefly, so they run on a blocking thread.
async fn close(guards: Vec<CloseGuard>) {
    if !guards.is_empty() {
        // If the task cannot run, the guards are dropped (and so closed) with it.
        let _ = tokio::task::spawn_blocking(move || drop(guards)).await;
    }
}

/// One resolution: retrieves URIs with watchers and keeps their close guards.
struct Session<'r> {
    resolver: &'r Resolver,
    guards: Vec<CloseGuard>,
}

/// Why a URI could not be retrieved.
enum RetrieveFailure {
    UnknownScheme(String),
    Provider(ProviderError),
}

impl RetrieveFailure {
    fn into_error(self, uri: &str, resolver: &Resolver) -> Error {
        match self {
            RetrieveFailure::UnknownScheme(scheme) => Error::UnknownScheme {
                uri: redact_userinfo(uri).into_owned(),
                scheme,
                known: resolver.known_schemes(),
            },
            RetrieveFailure::Provider(source) => Error::Provider {
                uri: redact_userinfo(uri).into_owned(),
                source,
            },
        }
    }
}

impl Session<'_> {
    async fn retrieve(&mut self, uri: &str) -> Result<Retrieved, RetrieveFailure> {
        let scheme = split_scheme(uri).map_or("", |(scheme, _)| scheme);
        let provider = self
            .resolver
            .providers
            .get(scheme)
            .ok_or_else(|| RetrieveFailure::UnknownScheme(scheme.to_owned()))?;
        let watcher = self.resolver.hub.watcher(uri);
        provider
            .retrieve(uri, Some(watcher))
            .await
            .map_err(RetrieveFailure::Provider)
    }
}

#[async_trait::async_trait]
impl Fetch for Session<'_> {
    async fn fetch(&mut self, uri: &str) -> Result<Fetched, ExpandError> {
        let retrieved = self.retrieve(uri).await.map_err(|failure| match failure {
            RetrieveFailure::UnknownScheme(scheme) => {
                // `${NAME:-default}` parses as scheme `NAME`; point at the env form.
                let hint = split_scheme(uri)
                    .filter(|(_, opaque)| opaque.starts_with('-'))
                    .map(|_| format!("${{{}:{uri}}}", self.resolver.default_scheme));
                ExpandError::UnknownScheme {
                    scheme,
                    known: self.resolver.known_schemes(),
                    hint,
                }
            }
            RetrieveFailure::Provider(source) => ExpandError::Provider {
                uri: redact_userinfo(uri).into_owned(),
                source,
            },
        })?;
        let (value, text, guard) = retrieved.into_parts();
        self.guards.push(guard);
        Ok(Fetched { value, text })
    }
}
