//! Providers: where configuration comes from. Each serves one URI scheme.

mod env;
mod file;
mod file_watch;
mod http;
mod yaml;

use std::fmt;
use std::sync::Arc;

pub use env::EnvProvider;
pub use file::{FileProvider, FileProviderSettings};
pub use http::{HttpProvider, HttpProviderSettings};
pub use yaml::YamlProvider;

use crate::conf::Conf;
use crate::error::{Error, ProviderError};
use crate::value::Value;
use crate::watch::Watcher;
use crate::yaml::{self as yaml_text, YamlError};

/// A source of configuration for one URI scheme (`file`, `env`, `http`, ...).
///
/// The [`Resolver`](crate::Resolver) calls [`retrieve`](Provider::retrieve) for each URI with
/// the provider's scheme: the configuration URIs it was given and the `${scheme:...}`
/// references inside values. A provider that can notice changes reports them through the
/// [`Watcher`] and stops watching when the returned [`Retrieved`] is closed or dropped, or
/// when the provider shuts down.
///
/// ```
/// use tributary_confmap::{Provider, ProviderError, Retrieved, Watcher};
///
/// /// Serves `const:<yaml>` from memory.
/// struct ConstProvider;
///
/// #[async_trait::async_trait]
/// impl Provider for ConstProvider {
///     fn scheme(&self) -> &str {
///         "const"
///     }
///
///     async fn retrieve(&self, uri: &str, _watcher: Option<Watcher>) -> Result<Retrieved, ProviderError> {
///         let text = uri.strip_prefix("const:").ok_or_else(|| ProviderError::invalid_uri("expected const:"))?;
///         Ok(Retrieved::from_yaml(text))
///     }
///
///     async fn shutdown(&self) -> Result<(), ProviderError> {
///         Ok(())
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// The scheme this provider serves, such as `file`. It must match
    /// `[A-Za-z][A-Za-z0-9+.-]+`.
    fn scheme(&self) -> &str;

    /// Retrieves the value a URI (`<scheme>:<opaque>`) stands for. When `watcher` is given and
    /// the provider can watch, it calls [`Watcher::changed`] whenever the source changes, until
    /// the returned [`Retrieved`] is closed.
    async fn retrieve(
        &self,
        uri: &str,
        watcher: Option<Watcher>,
    ) -> Result<Retrieved, ProviderError>;

    /// Stops every watch and background task. Once it returns, no watcher is called again.
    async fn shutdown(&self) -> Result<(), ProviderError>;
}

/// The providers for `file`, `env`, `yaml`, `http` and `https`, with default settings: files
/// are watched; HTTP sources are fetched with a 10 s timeout and a 16 MiB body limit and are
/// polled only when a URI asks for it with a `#poll=<duration>` fragment.
pub fn default_providers() -> Vec<Arc<dyn Provider>> {
    vec![
        Arc::new(FileProvider::new(FileProviderSettings::default())),
        Arc::new(EnvProvider::new()),
        Arc::new(YamlProvider::new()),
        Arc::new(HttpProvider::http(HttpProviderSettings::default())),
        Arc::new(HttpProvider::https(HttpProviderSettings::default())),
    ]
}

/// What a provider retrieved: a value, the text it was parsed from, and a hook that stops
/// the watch started for it. Closing (or dropping) it runs the hook.
pub struct Retrieved {
    value: Value,
    text: Option<String>,
    yaml_error: Option<YamlError>,
    close: CloseGuard,
}

impl Retrieved {
    /// A retrieved value with no text form of its own.
    pub fn new(value: impl Into<Value>) -> Retrieved {
        Retrieved {
            value: value.into(),
            text: None,
            yaml_error: None,
            close: CloseGuard::default(),
        }
    }

    /// Parses YAML text the way the Go Collector does for every built-in provider: a string
    /// scalar keeps the text exactly (quotes, comments and all), any other value keeps the
    /// text as its string form, and text that is not valid YAML is kept as a plain string (a
    /// parse error is remembered and reported if the text is used as a whole configuration).
    pub fn from_yaml(text: impl Into<String>) -> Retrieved {
        let text = text.into();
        let (value, yaml_error) = match yaml_text::parse(&text) {
            Ok(Value::String(_)) => (Value::String(text.clone()), None),
            Ok(value) => (value, None),
            Err(error) => (Value::String(text.clone()), Some(error)),
        };
        Retrieved {
            value,
            text: Some(text),
            yaml_error,
            close: CloseGuard::default(),
        }
    }

    /// Sets the text form: what a reference embedded in a longer string inserts, and what a
    /// string field receives for a whole-value reference.
    pub fn with_text(mut self, text: impl Into<String>) -> Retrieved {
        self.text = Some(text.into());
        self
    }

    /// Sets the hook that stops watching this value. It runs once, when the value is closed
    /// or dropped, and must make sure the watcher is not called after it returns.
    pub fn on_close(mut self, hook: impl FnOnce() + Send + 'static) -> Retrieved {
        self.close = CloseGuard::new(Box::new(hook));
        self
    }

    /// The retrieved value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The text the value was parsed from, if any.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The YAML error, if the text was not valid YAML and became a plain string.
    pub fn yaml_error(&self) -> Option<&YamlError> {
        self.yaml_error.as_ref()
    }

    /// The value as a whole configuration: a map, or null for an empty one.
    pub fn as_conf(&self) -> Result<Conf, Error> {
        match (&self.yaml_error, &self.value) {
            (Some(error), Value::String(_)) => Err(Error::Yaml(error.clone())),
            _ => Conf::from_value(self.value.clone()),
        }
    }

    /// Stops the watch started for this value.
    pub fn close(self) {
        drop(self);
    }

    /// Splits into the value, its text, and the guard that closes it when dropped.
    pub(crate) fn into_parts(self) -> (Value, Option<String>, CloseGuard) {
        (self.value, self.text, self.close)
    }
}

impl fmt::Debug for Retrieved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retrieved")
            .field("value", &self.value)
            .field("text", &self.text)
            .field("yaml_error", &self.yaml_error)
            .finish_non_exhaustive()
    }
}

/// Runs a close hook once, when dropped. The mutex makes a [`Retrieved`] shareable between
/// threads without asking hooks to be `Sync`; it is only ever taken through `&mut`.
#[derive(Default)]
pub(crate) struct CloseGuard(std::sync::Mutex<Option<CloseHook>>);

type CloseHook = Box<dyn FnOnce() + Send>;

impl CloseGuard {
    fn new(hook: CloseHook) -> CloseGuard {
        CloseGuard(std::sync::Mutex::new(Some(hook)))
    }

    #[cfg(test)]
    fn is_armed(&mut self) -> bool {
        self.hook().is_some()
    }

    fn hook(&mut self) -> &mut Option<CloseHook> {
        self.0
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for CloseGuard {
    fn drop(&mut self) {
        if let Some(hook) = self.hook().take() {
            hook();
        }
    }
}

/// Strips `<scheme>:` from a URI, or says which scheme the provider expected.
pub(crate) fn opaque<'u>(uri: &'u str, scheme: &str) -> Result<&'u str, ProviderError> {
    uri.strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix(':'))
        .ok_or_else(|| ProviderError::invalid_uri(format!("expected a `{scheme}:` URI")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn yaml_text_becomes_a_value_with_its_text() {
        let int = Retrieved::from_yaml("0123");
        assert_eq!(int.value(), &Value::Int(83));
        assert_eq!(int.text(), Some("0123"));
        let string = Retrieved::from_yaml("\"quoted\" # comment");
        assert_eq!(string.value(), &Value::from("\"quoted\" # comment"));
        let map = Retrieved::from_yaml("a: 1");
        assert_eq!(map.as_conf().unwrap().get("a"), Some(&Value::Int(1)));
        let empty = Retrieved::from_yaml("");
        assert_eq!(empty.value(), &Value::Null);
        assert!(empty.as_conf().unwrap().is_empty());
    }

    #[test]
    fn invalid_yaml_is_a_string_that_cannot_be_a_configuration() {
        let broken = Retrieved::from_yaml("a: [1");
        assert_eq!(broken.value(), &Value::from("a: [1"));
        assert!(broken.yaml_error().is_some());
        let error = broken.as_conf().unwrap_err();
        assert!(
            error.to_string().starts_with("invalid YAML: line 1"),
            "{error}"
        );
        let scalar = Retrieved::from_yaml("5");
        assert_eq!(
            scalar.as_conf().unwrap_err().to_string(),
            "the top level of a configuration must be a map, found an int"
        );
    }

    #[test]
    fn closing_or_dropping_runs_the_hook_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let retrieved = Retrieved::new(1).on_close(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let (_, _, mut guard) = retrieved.into_parts();
        assert!(guard.is_armed());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        drop(guard);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let counter = Arc::clone(&calls);
        Retrieved::new(1)
            .on_close(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            })
            .close();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn opaque_strips_the_scheme() {
        assert_eq!(opaque("env:HOME", "env").unwrap(), "HOME");
        assert!(opaque("file:x", "env").is_err());
        assert!(opaque("envx:HOME", "env").is_err());
    }
}
