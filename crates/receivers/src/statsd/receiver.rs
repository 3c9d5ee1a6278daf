//! The `statsd` receiver: listens (UDP, TCP or a Unix datagram socket), parses lines into
//! the interval's aggregator, and sends the aggregate every `aggregation_interval` and at
//! shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tributary_pipeline_core::component::{
    Component, ComponentError, CreateError, CreateSettings, Host, resolve_endpoint,
};
use tributary_pipeline_core::consumer::Next;
use tributary_pipeline_core::pdata::builder::now_unix_nano;
use tributary_pipeline_core::pdata::{Metrics, Signal};
use tributary_pipeline_core::prelude::CancellationToken;
use tributary_pipeline_core::receiverhelper::{self, MAX_DATAGRAM, MAX_LINE, ReceiverTasks};
use tributary_pipeline_core::server::DEFAULT_MAX_CONNECTIONS;
use tributary_pipeline_core::telemetry::ReceiverMetrics;

use super::aggregator::{AggregationSettings, Aggregator, Client};
use super::config::{Config, Transport};
use super::parser::{ParseOptions, parse_packet};

/// A running (or ready) `statsd` receiver.
pub(crate) struct StatsdReceiver {
    config: Config,
    next: Next<Metrics>,
    intake: Arc<Intake>,
    tasks: ReceiverTasks,
    span: tracing::Span,
    /// The Unix socket file this receiver created, removed at shutdown.
    socket_file: Mutex<Option<SocketFile>>,
    /// Where UDP or TCP listens once started.
    bound: Mutex<Option<SocketAddr>>,
}

/// What every listener shares: parsing options, the interval's aggregator, the counters.
struct Intake {
    options: ParseOptions,
    ip_only: bool,
    settings: AggregationSettings,
    aggregator: Mutex<Aggregator>,
    metrics: ReceiverMetrics,
    span: tracing::Span,
}

impl StatsdReceiver {
    pub(crate) fn create(
        settings: &CreateSettings,
        config: &Config,
        next: Next<Metrics>,
    ) -> Result<Arc<StatsdReceiver>, CreateError> {
        let aggregation = AggregationSettings::new(config, &settings.build_info().version);
        let intake = Intake {
            options: ParseOptions {
                enable_metric_type: config.enable_metric_type,
                enable_simple_tags: config.enable_simple_tags,
            },
            ip_only: config.enable_ip_only_aggregation,
            aggregator: Mutex::new(Aggregator::new(aggregation.clone(), now_unix_nano())),
            settings: aggregation,
            metrics: ReceiverMetrics::new(
                settings.metrics(),
                settings.id(),
                &config.net.transport,
                Signal::Metrics,
            ),
            span: settings.span().clone(),
        };
        Ok(Arc::new(StatsdReceiver {
            config: config.clone(),
            next,
            intake: Arc::new(intake),
            tasks: ReceiverTasks::new(settings),
            span: settings.span().clone(),
            socket_file: Mutex::new(None),
            bound: Mutex::new(None),
        }))
    }

    /// Where UDP or TCP listens, once started.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        *self.bound.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many series the current interval holds.
    #[cfg(test)]
    pub(crate) fn held_series(&self) -> usize {
        let aggregator = self.intake.aggregator.lock();
        aggregator.unwrap_or_else(|e| e.into_inner()).series_count()
    }

    /// Starts serving the configured transport.
    async fn listen(&self) -> Result<(), ComponentError> {
        let endpoint = self.config.endpoint();
        let at_endpoint = |e: ComponentError| ComponentError::new(format!("endpoint: {e}"));
        match self.config.transport() {
            Transport::Udp(family) => {
                let addr = listen_addr(endpoint, family).await.map_err(at_endpoint)?;
                let intake = Arc::clone(&self.intake);
                let bound = self.tasks.serve_udp(addr, move |datagram, peer| {
                    intake.ingest(&datagram, intake.client(peer));
                    std::future::ready(())
                });
                let bound = bound.map_err(at_endpoint)?;
                *self.bound.lock().unwrap_or_else(|e| e.into_inner()) = Some(bound);
                self.span
                    .in_scope(|| tracing::info!(%bound, "StatsD receiver listening on UDP"));
            }
            Transport::Tcp(family) => {
                let addr = listen_addr(endpoint, family).await.map_err(at_endpoint)?;
                let intake = Arc::clone(&self.intake);
                let bound = self.tasks.serve_tcp(
                    addr,
                    DEFAULT_MAX_CONNECTIONS,
                    move |stream, peer, stop| Arc::clone(&intake).serve_lines(stream, peer, stop),
                );
                let bound = bound.map_err(at_endpoint)?;
                *self.bound.lock().unwrap_or_else(|e| e.into_inner()) = Some(bound);
                self.span
                    .in_scope(|| tracing::info!(%bound, "StatsD receiver listening on TCP"));
            }
            Transport::Unixgram => self.listen_unixgram(endpoint).map_err(at_endpoint)?,
        }
        Ok(())
    }

    #[cfg(unix)]
    fn listen_unixgram(&self, path: &str) -> Result<(), ComponentError> {
        use std::os::unix::fs::{FileTypeExt, PermissionsExt};
        let path = PathBuf::from(path);
        // A socket file left by a previous run would make the bind fail; anything else
        // at that path is not ours to remove.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(&path);
        }
        let socket = tokio::net::UnixDatagram::bind(&path).map_err(|e| {
            ComponentError::with_source(format!("cannot listen on {}", path.display()), e)
        })?;
        *self.socket_file.lock().unwrap_or_else(|e| e.into_inner()) = SocketFile::of(&path);
        let mode = std::fs::Permissions::from_mode(self.config.socket_permissions);
        std::fs::set_permissions(&path, mode).map_err(|e| {
            ComponentError::with_source(
                format!(
                    "cannot set socket_permissions {:#o} on {}",
                    self.config.socket_permissions,
                    path.display()
                ),
                e,
            )
        })?;
        let (intake, stop) = (Arc::clone(&self.intake), self.tasks.stop_token());
        self.tasks.spawn(async move {
            let mut buffer = vec![0u8; MAX_DATAGRAM];
            loop {
                let received = tokio::select! {
                    received = socket.recv(&mut buffer) => received,
                    () = stop.cancelled() => return,
                };
                match received {
                    Ok(len) => intake.ingest(&buffer[..len], Client::LOCAL),
                    Err(error) => intake
                        .span
                        .in_scope(|| tracing::debug!(%error, "receiving a datagram failed")),
                }
            }
        });
        self.span.in_scope(
            || tracing::info!(path = %path.display(), "StatsD receiver listening on a Unix datagram socket"),
        );
        Ok(())
    }

    #[cfg(not(unix))]
    fn listen_unixgram(&self, _path: &str) -> Result<(), ComponentError> {
        Err(ComponentError::new(
            "transport unixgram needs a Unix system",
        ))
    }

    /// Sends the aggregate every interval, and once more when shutdown begins.
    fn spawn_flusher(&self) {
        let (intake, next) = (Arc::clone(&self.intake), Arc::clone(&self.next));
        let (interval, stop) = (self.config.aggregation_interval, self.tasks.stop_token());
        self.tasks.spawn(async move {
            let start = tokio::time::Instant::now() + interval;
            let mut ticker = tokio::time::interval_at(start, interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let stopping = tokio::select! {
                    _ = ticker.tick() => false,
                    () = stop.cancelled() => true,
                };
                intake.flush(&next).await;
                if stopping {
                    return;
                }
            }
        });
    }
}

#[tributary_pipeline_core::prelude::async_trait]
impl Component for StatsdReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        self.listen().await?;
        self.spawn_flusher();
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        let stopped = self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await;
        let socket_file = self
            .socket_file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(file) = socket_file {
            file.remove();
        }
        stopped
    }
}

/// A socket file this receiver bound, known by its inode: a receiver that replaced it
/// on reload (same path, new socket) keeps its file when this one shuts down.
struct SocketFile {
    path: PathBuf,
    #[cfg(unix)]
    identity: (u64, u64),
}

impl SocketFile {
    #[cfg(unix)]
    fn of(path: &std::path::Path) -> Option<SocketFile> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::symlink_metadata(path).ok()?;
        Some(SocketFile {
            path: path.to_path_buf(),
            identity: (metadata.dev(), metadata.ino()),
        })
    }

    /// Removes the file if it is still the one this receiver bound.
    fn remove(self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let still_ours = std::fs::symlink_metadata(&self.path)
                .is_ok_and(|m| (m.dev(), m.ino()) == self.identity);
            if still_ours {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

impl Intake {
    fn client(&self, peer: SocketAddr) -> Client {
        Client {
            address: Some(peer.ip()),
            port: (!self.ip_only).then_some(peer.port()),
        }
    }

    /// Parses a datagram (or complete TCP lines) into the interval; malformed lines, and
    /// values over the interval's budget, are counted as failed and skipped.
    fn ingest(&self, data: &[u8], client: Client) {
        let now = now_unix_nano();
        let mut malformed = 0;
        let lines: Vec<_> = parse_packet(data, &self.options)
            .into_iter()
            .filter_map(|line| {
                line.map_err(|error| {
                    malformed += 1;
                    self.span
                        .in_scope(|| tracing::debug!(%error, "skipping a malformed StatsD line"));
                })
                .ok()
            })
            .collect();
        let mut dropped = 0;
        if !lines.is_empty() {
            let mut aggregator = self.aggregator.lock().unwrap_or_else(|e| e.into_inner());
            for line in lines {
                dropped += aggregator.add(&client, line, now);
            }
        }
        self.metrics.record_failed(malformed + dropped);
    }

    /// Ends the interval and hands its aggregate to the pipeline.
    async fn flush(&self, next: &Next<Metrics>) {
        let now = now_unix_nano();
        let ended = {
            let mut aggregator = self.aggregator.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::replace(
                &mut *aggregator,
                Aggregator::new(self.settings.clone(), now),
            )
        };
        let (metrics, dropped) = { ended }.flush(now);
        if dropped > 0 {
            self.span.in_scope(|| {
                tracing::warn!(
                    dropped,
                    "the interval held too many series or values; the excess was dropped"
                )
            });
        }
        let points = metrics.item_count();
        if let Err(error) = receiverhelper::deliver(next, &self.metrics, metrics).await {
            self.span.in_scope(|| {
                tracing::warn!(%error, points, "the pipeline refused the interval's StatsD metrics")
            });
        }
    }

    /// Serves one TCP connection: newline-delimited lines, each read's complete lines
    /// ingested at once; a line longer than [`MAX_LINE`] closes the connection.
    async fn serve_lines(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        stop: CancellationToken,
    ) {
        let client = self.client(peer);
        let (mut buffer, mut filled) = (vec![0; MAX_LINE], 0);
        loop {
            let read = tokio::select! {
                read = stream.read(&mut buffer[filled..]) => read,
                () = stop.cancelled() => return,
            };
            let read = match read {
                Ok(0) | Err(_) => {
                    // The last line needs no newline when the client closes.
                    self.ingest(&buffer[..filled], client);
                    return;
                }
                Ok(read) => read,
            };
            filled += read;
            let Some(end) = buffer[..filled].iter().rposition(|b| *b == b'\n') else {
                if filled == MAX_LINE {
                    self.span.in_scope(|| {
                        tracing::debug!(%peer, "closing a connection whose line exceeds {MAX_LINE} bytes");
                    });
                    self.metrics.record_failed(1);
                    return;
                }
                continue;
            };
            self.ingest(&buffer[..end], client.clone());
            buffer.copy_within(end + 1..filled, 0);
            filled -= end + 1;
        }
    }
}

/// The address to listen on: `endpoint` resolved as Go's `net.Listen` does, in the
/// family `udp4`/`tcp4` (4) or `udp6`/`tcp6` (6) ask for.
async fn listen_addr(endpoint: &str, family: Option<u8>) -> Result<SocketAddr, ComponentError> {
    let Some(family) = family else {
        return resolve_endpoint(endpoint)
            .await
            .map_err(ComponentError::new);
    };
    let wanted = |addr: &SocketAddr| (family == 4) == addr.is_ipv4();
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host(endpoint)
        .await
        .map_err(|e| ComponentError::new(format!("cannot resolve {endpoint:?}: {e}")))?
        .collect();
    addresses
        .into_iter()
        .find(wanted)
        .ok_or_else(|| ComponentError::new(format!("{endpoint:?} has no IPv{family} address")))
}
