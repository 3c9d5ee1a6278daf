//! The bearer-token authenticator: the accepted tokens, kept current from their file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use http::{HeaderMap, HeaderName, HeaderValue};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::config::Config;
use crate::component::{
    Component, ComponentError, CreateError, CreateSettings, Extension, ExtensionCapabilities, Host,
};
use crate::configauth::{AuthError, ClientAuthenticator, ServerAuthenticator, constant_time_eq};
use crate::pdata::ClientMetadata;

/// How often the token file is checked for changes.
const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The `bearertokenauth` extension: a [`ServerAuthenticator`] and a
/// [`ClientAuthenticator`] over the same tokens.
pub struct BearerTokenAuth {
    config: Config,
    tokens: Arc<Tokens>,
    settings: CreateSettings,
    watcher: Mutex<Option<(CancellationToken, tokio::task::JoinHandle<()>)>>,
}

/// The header, scheme and accepted tokens: what both roles use.
struct Tokens {
    header: HeaderName,
    scheme: String,
    /// The accepted tokens; the first is the one a client sends.
    accepted: ArcSwap<Vec<String>>,
}

impl BearerTokenAuth {
    /// The extension `config` describes; reads nothing until started.
    pub fn new(settings: &CreateSettings, config: &Config) -> Result<Self, CreateError> {
        let header = HeaderName::from_bytes(config.header.as_bytes())
            .map_err(|e| CreateError::with_source("header", e))?;
        Ok(BearerTokenAuth {
            config: config.clone(),
            tokens: Arc::new(Tokens {
                header,
                scheme: config.scheme.clone(),
                accepted: ArcSwap::from_pointee(config.inline_tokens()),
            }),
            settings: settings.clone(),
            watcher: Mutex::new(None),
        })
    }

    fn watcher(
        &self,
    ) -> std::sync::MutexGuard<'_, Option<(CancellationToken, tokio::task::JoinHandle<()>)>> {
        self.watcher.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The tokens of a token file: its non-empty lines, trimmed.
fn parse_tokens(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// What tells a changed file: its modification time and size.
type Stamp = Option<(SystemTime, u64)>;

async fn stamp(path: &Path) -> Stamp {
    let metadata = tokio::fs::metadata(path).await.ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

async fn read_tokens(path: &Path) -> Result<Vec<String>, String> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| format!("cannot read {path:?}: {e}"))?;
    let tokens = parse_tokens(&text);
    if tokens.is_empty() {
        return Err(format!("{path:?} holds no token"));
    }
    Ok(tokens)
}

/// Re-reads the token file whenever its stamp changes, until `stop`.
async fn watch_file(path: PathBuf, mut last: Stamp, tokens: Arc<Tokens>, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(FILE_CHECK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let now = stamp(&path).await;
        if now == last {
            continue;
        }
        last = now;
        match read_tokens(&path).await {
            Ok(read) => {
                tracing::info!(file = ?path, tokens = read.len(), "bearer tokens reloaded");
                tokens.accepted.store(Arc::new(read));
            }
            Err(error) => {
                tracing::warn!(%error, "bearer token file not reloaded; keeping the tokens read before");
            }
        }
    }
}

#[async_trait]
impl Component for BearerTokenAuth {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        if self.config.filename.is_empty() {
            return Ok(());
        }
        let path = PathBuf::from(&self.config.filename);
        let before = stamp(&path).await;
        let read = read_tokens(&path)
            .await
            .map_err(|e| ComponentError::new(format!("filename: {e}")))?;
        self.tokens.accepted.store(Arc::new(read));
        let stop = CancellationToken::new();
        let task = self.settings.spawn(
            watch_file(path, before, Arc::clone(&self.tokens), stop.clone())
                .instrument(self.settings.span().clone()),
        );
        if let Some((old_stop, old_task)) = self.watcher().replace((stop, task)) {
            old_stop.cancel();
            old_task.abort();
        }
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let watcher = self.watcher().take();
        if let Some((stop, task)) = watcher {
            stop.cancel();
            let _ = task.await;
        }
        Ok(())
    }
}

impl Extension for BearerTokenAuth {
    fn capabilities(self: Arc<Self>, offers: &mut ExtensionCapabilities) {
        offers.offer::<dyn ServerAuthenticator>(Arc::clone(&self.tokens) as _);
        offers.offer::<dyn ClientAuthenticator>(Arc::clone(&self.tokens) as _);
    }
}

#[async_trait]
impl ServerAuthenticator for Tokens {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let Some(value) = headers.get(&self.header) else {
            return Err(AuthError::Missing(format!("no {} header", self.header)));
        };
        let value = value.as_bytes();
        let token = if self.scheme.is_empty() {
            value
        } else {
            let scheme = self.scheme.as_bytes();
            match value.split_at_checked(scheme.len()) {
                Some((found, rest))
                    if found.eq_ignore_ascii_case(scheme) && rest.first() == Some(&b' ') =>
                {
                    &rest[1..]
                }
                _ => {
                    return Err(AuthError::Invalid(format!(
                        "the {} header does not use the {} scheme",
                        self.header, self.scheme
                    )));
                }
            }
        };
        // Every token is compared, so the time taken does not tell which one matched.
        let matched = self.accepted.load().iter().fold(false, |found, t| {
            found | constant_time_eq(token, t.as_bytes())
        });
        if matched {
            Ok(())
        } else {
            Err(AuthError::Invalid("unknown bearer token".into()))
        }
    }
}

#[async_trait]
impl ClientAuthenticator for Tokens {
    async fn authorize(
        &self,
        headers: &mut HeaderMap,
        _metadata: Option<&ClientMetadata>,
    ) -> Result<(), AuthError> {
        let token = self
            .accepted
            .load()
            .first()
            .cloned()
            .ok_or_else(|| AuthError::Unavailable("no bearer token".into()))?;
        let text = if self.scheme.is_empty() {
            token
        } else {
            format!("{} {token}", self.scheme)
        };
        let mut value = HeaderValue::from_str(&text)
            .map_err(|_| AuthError::Unavailable("the token is not a valid header value".into()))?;
        value.set_sensitive(true);
        headers.insert(self.header.clone(), value);
        Ok(())
    }
}

#[cfg(test)]
mod unit {
    #[test]
    fn token_files_hold_one_token_per_line() {
        assert_eq!(
            super::parse_tokens("  a1 \n\nb2\r\n"),
            vec!["a1".to_string(), "b2".to_string()]
        );
        assert!(super::parse_tokens("\n \n").is_empty());
    }
}
