//! The `http` and `https` providers: a GET request, optionally repeated to notice changes.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::duration;
use crate::error::ProviderError;
use crate::error_chain::error_chain;
use crate::provider::{Provider, Retrieved};
use crate::secret::redact_userinfo;
use crate::watch::Watcher;
use crate::yaml::MAX_DOCUMENT_BYTES;

/// Settings of an [`HttpProvider`].
#[derive(Clone, Debug)]
pub struct HttpProviderSettings {
    /// The time limit of one request, from connecting to the end of the body. Default: 10 s.
    pub timeout: Duration,
    /// The largest body accepted, in bytes. Default: 16 MiB.
    pub max_body_bytes: u64,
    /// How often to fetch a watched URI again to notice changes; `None` (the default) polls
    /// only URIs that ask for it with a `#poll=<duration>` fragment.
    pub poll_interval: Option<Duration>,
}

impl Default for HttpProviderSettings {
    fn default() -> HttpProviderSettings {
        HttpProviderSettings {
            timeout: Duration::from_secs(10),
            max_body_bytes: MAX_DOCUMENT_BYTES as u64,
            poll_interval: None,
        }
    }
}

/// Serves `http://...` or `https://...` (one provider per scheme): a GET request whose body
/// is parsed as YAML (see [`Retrieved::from_yaml`]). Any status other than 200 is an error
/// naming the status; so are a timeout and a body over the size limit. `https` uses rustls
/// with the platform's trusted roots.
///
/// # Polling
///
/// A remote configuration can change at run time. With a watcher and a poll interval, the
/// provider fetches the URI again every interval and reports a change when the body
/// differs from the one retrieved. Failed polls are logged and retried at the next tick.
/// The interval comes from [`HttpProviderSettings::poll_interval`], or per URI from a
/// fragment, which is never sent to the server:
///
/// ```text
/// https://config.example.com/agent.yaml#poll=30s
/// ```
///
/// The fragment's only option is `poll=<duration>` (a Go-style duration); `poll=0` turns
/// polling off for that URI.
#[derive(Debug)]
pub struct HttpProvider {
    scheme: &'static str,
    settings: HttpProviderSettings,
    client: OnceLock<Result<Client, String>>,
    polls: TaskTracker,
    stop: CancellationToken,
    shut_down: AtomicBool,
}

impl HttpProvider {
    /// A provider for `http:` URIs.
    pub fn http(settings: HttpProviderSettings) -> HttpProvider {
        HttpProvider::with_scheme("http", settings)
    }

    /// A provider for `https:` URIs.
    pub fn https(settings: HttpProviderSettings) -> HttpProvider {
        HttpProvider::with_scheme("https", settings)
    }

    fn with_scheme(scheme: &'static str, settings: HttpProviderSettings) -> HttpProvider {
        HttpProvider {
            scheme,
            settings,
            client: OnceLock::new(),
            polls: TaskTracker::new(),
            stop: CancellationToken::new(),
            shut_down: AtomicBool::new(false),
        }
    }

    /// The HTTP client, built on first use so that constructing providers cannot fail.
    fn client(&self) -> Result<Client, ProviderError> {
        let timeout = self.settings.timeout;
        self.client
            .get_or_init(|| {
                Client::builder()
                    .timeout(timeout)
                    .build()
                    .map_err(|error| format!("building the HTTP client: {}", error_chain(&error)))
            })
            .clone()
            .map_err(ProviderError::Http)
    }

    /// Splits the URI into the URL to fetch and the poll interval it asks for.
    fn parse(&self, uri: &str) -> Result<(Url, Option<Duration>), ProviderError> {
        let mut url = Url::parse(uri)
            .map_err(|error| ProviderError::invalid_uri(format!("not a valid URL: {error}")))?;
        if url.scheme() != self.scheme {
            return Err(ProviderError::invalid_uri(format!(
                "expected a `{}:` URL",
                self.scheme
            )));
        }
        let poll = match url.fragment() {
            None => self.settings.poll_interval,
            Some(fragment) => {
                let value = fragment.strip_prefix("poll=").ok_or_else(|| {
                    ProviderError::invalid_uri(format!(
                        "unknown fragment `#{fragment}`; the only option is `#poll=<duration>`"
                    ))
                })?;
                let interval = duration::parse(value)
                    .map_err(|error| ProviderError::invalid_uri(format!("#poll: {error}")))?;
                (!interval.is_zero()).then_some(interval)
            }
        };
        url.set_fragment(None);
        Ok((url, poll))
    }
}

#[async_trait::async_trait]
impl Provider for HttpProvider {
    fn scheme(&self) -> &str {
        self.scheme
    }

    async fn retrieve(
        &self,
        uri: &str,
        watcher: Option<Watcher>,
    ) -> Result<Retrieved, ProviderError> {
        if self.shut_down.load(Ordering::SeqCst) {
            return Err(ProviderError::ShutDown);
        }
        let (url, poll) = self.parse(uri)?;
        let client = self.client()?;
        let max = self.settings.max_body_bytes;
        let body = tokio::select! {
            body = fetch(&client, &url, max) => body?,
            () = self.stop.cancelled() => return Err(ProviderError::ShutDown),
        };
        let fingerprint = fingerprint(&body);
        let retrieved = Retrieved::from_yaml(body);
        let (Some(watcher), Some(interval)) = (watcher, poll) else {
            return Ok(retrieved);
        };
        let stop = self.stop.child_token();
        let gate = Arc::new(Gate::default());
        let poll = Poll {
            client,
            url,
            max,
            interval,
            last: fingerprint,
            watcher,
            gate: Arc::clone(&gate),
            stop: stop.clone(),
        };
        self.polls.spawn(poll.run());
        Ok(retrieved.on_close(move || {
            gate.close();
            stop.cancel();
        }))
    }

    async fn shutdown(&self) -> Result<(), ProviderError> {
        self.shut_down.store(true, Ordering::SeqCst);
        self.stop.cancel();
        self.polls.close();
        self.polls.wait().await;
        Ok(())
    }
}

/// Lets a poll report only while its [`Retrieved`] is open: closing waits for a report in
/// progress, and no report starts after it.
#[derive(Debug, Default)]
struct Gate {
    closed: Mutex<bool>,
}

impl Gate {
    fn close(&self) {
        *self.closed.lock().unwrap_or_else(|p| p.into_inner()) = true;
    }

    fn report(&self, watcher: &Watcher) {
        let closed = self.closed.lock().unwrap_or_else(|p| p.into_inner());
        if !*closed {
            watcher.changed();
        }
    }
}

/// The background fetches of one watched URI.
struct Poll {
    client: Client,
    url: Url,
    max: u64,
    interval: Duration,
    last: u64,
    watcher: Watcher,
    gate: Arc<Gate>,
    stop: CancellationToken,
}

impl Poll {
    async fn run(mut self) {
        let start = tokio::time::Instant::now() + self.interval;
        let mut ticks = tokio::time::interval_at(start, self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = self.stop.cancelled() => return,
            }
            let result = tokio::select! {
                result = fetch(&self.client, &self.url, self.max) => result,
                () = self.stop.cancelled() => return,
            };
            match result {
                Ok(body) => {
                    let current = fingerprint(&body);
                    if current != self.last {
                        self.last = current;
                        self.gate.report(&self.watcher);
                    }
                }
                Err(error) => {
                    tracing::warn!(uri = %redact_userinfo(self.url.as_str()), %error, "polling the configuration failed; retrying at the next interval");
                }
            }
        }
    }
}

/// GETs a URL and returns its body as text; anything but 200 is an error.
async fn fetch(client: &Client, url: &Url, max: u64) -> Result<String, ProviderError> {
    let mut response = client
        .get(url.clone())
        .send()
        .await
        // The outer error names the URI, redacted; reqwest's copy of it is not.
        .map_err(|error| {
            let error = error.without_url();
            ProviderError::Http(format!("GET failed: {}", error_chain(&error)))
        })?;
    let status = response.status();
    if status != StatusCode::OK {
        return Err(ProviderError::Http(format!(
            "GET returned status {status}, expected 200 OK"
        )));
    }
    let too_large = |size: u64| ProviderError::TooLarge {
        what: "the response body".to_owned(),
        size,
        limit: max,
    };
    if let Some(length) = response.content_length().filter(|length| *length > max) {
        return Err(too_large(length));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| {
        let error = error.without_url();
        ProviderError::Http(format!("reading the body failed: {}", error_chain(&error)))
    })? {
        let size = body.len() as u64 + chunk.len() as u64;
        if size > max {
            return Err(too_large(size));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body)
        .map_err(|_| ProviderError::Http("the response body is not valid UTF-8".to_owned()))
}

fn fingerprint(body: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    hasher.write(body.as_bytes());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_fragment_sets_the_interval_and_is_not_sent() {
        let provider = HttpProvider::http(HttpProviderSettings::default());
        let (url, poll) = provider
            .parse("http://127.0.0.1:1/c.yaml#poll=1m30s")
            .unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:1/c.yaml");
        assert_eq!(poll, Some(Duration::from_secs(90)));
        let (_, poll) = provider.parse("http://127.0.0.1:1/c.yaml#poll=0").unwrap();
        assert_eq!(poll, None);
        let (_, poll) = provider.parse("http://127.0.0.1:1/c.yaml").unwrap();
        assert_eq!(poll, None);
    }

    #[test]
    fn the_settings_interval_applies_without_a_fragment() {
        let provider = HttpProvider::https(HttpProviderSettings {
            poll_interval: Some(Duration::from_secs(5)),
            ..HttpProviderSettings::default()
        });
        let (_, poll) = provider.parse("https://example.com/c.yaml").unwrap();
        assert_eq!(poll, Some(Duration::from_secs(5)));
    }

    #[test]
    fn bad_urls_and_fragments_are_refused() {
        let provider = HttpProvider::http(HttpProviderSettings::default());
        for (uri, expected) in [
            ("http://x/c.yaml#every=5s", "unknown fragment `#every=5s`"),
            ("http://x/c.yaml#poll=5", "#poll: invalid duration"),
            ("https://x/c.yaml", "expected a `http:` URL"),
            ("http://", "not a valid URL"),
        ] {
            let error = provider.parse(uri).unwrap_err().to_string();
            assert!(error.contains(expected), "{uri}: {error}");
        }
    }
}
