//! The running receiver: a TCP server (octet counting or non-transparent framing,
//! optionally TLS) or a UDP socket, each read's or datagram's messages delivered as one
//! batch.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tributary_pipeline_core::component::{
    Component, ComponentError, CreateError, CreateSettings, Host, Receiver, resolve_endpoint,
};
use tributary_pipeline_core::configtls;
use tributary_pipeline_core::consumer::{ConsumeError, Next};
use tributary_pipeline_core::pdata::builder::{LogsBuilder, now_unix_nano};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::{Logs, Signal};
use tributary_pipeline_core::receiverhelper::{self, ReceiverTasks};
use tributary_pipeline_core::telemetry::ReceiverMetrics;

use super::config::{Config, RetryOnFailure, TcpConfig, UdpConfig};
use super::framing::{Framing, next_frame};
use super::peer::HostNames;
use super::record::{Added, FrameInfo, RecordMaker, Trim};

/// How long a TLS client may take to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read from a connection at a time.
const READ_CHUNK: usize = 16 * 1024;
/// Room for an octet count (up to 10 digits) and its space besides `max_log_size`.
const PREFIX_ROOM: usize = 11;

/// The `syslog` receiver.
pub struct SyslogReceiver {
    intake: Arc<Intake>,
    transport: Transport,
    tasks: ReceiverTasks,
}

enum Transport {
    Tcp(Box<TcpConfig>),
    Udp(UdpConfig),
}

/// What every connection and datagram shares.
struct Intake {
    records: RecordMaker,
    framing: Framing,
    retry: RetryOnFailure,
    next: Next<Logs>,
    metrics: ReceiverMetrics,
    names: HostNames,
    span: tracing::Span,
}

impl SyslogReceiver {
    /// Builds the receiver for a validated `config`; no I/O.
    pub(super) fn create(
        settings: &CreateSettings,
        config: &Config,
        next: Next<Logs>,
    ) -> Result<Arc<dyn Receiver>, CreateError> {
        let records = RecordMaker::new(config).map_err(CreateError::new)?;
        let framing = match (config.enable_octet_counting, config.trailer()) {
            (true, _) => Framing::OctetCounting,
            (false, Ok(Some(trailer))) => Framing::Trailer(trailer),
            (false, _) => Framing::Trailer(b'\n'),
        };
        let (transport, name) = match (&config.tcp, &config.udp) {
            (Some(tcp), _) => (Transport::Tcp(Box::new(tcp.clone())), "tcp"),
            (None, Some(udp)) => (Transport::Udp(udp.clone()), "udp"),
            (None, None) => return Err(CreateError::new("need tcp config or udp config")),
        };
        Ok(Arc::new(SyslogReceiver {
            intake: Arc::new(Intake {
                records,
                framing,
                retry: config.retry_on_failure.clone(),
                next,
                metrics: ReceiverMetrics::new(
                    settings.metrics(),
                    settings.id(),
                    name,
                    Signal::Logs,
                ),
                names: HostNames::default(),
                span: settings.span().clone(),
            }),
            transport,
            tasks: ReceiverTasks::new(settings),
        }))
    }
}

#[async_trait::async_trait]
impl Component for SyslogReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        match &self.transport {
            Transport::Tcp(tcp) => self.start_tcp(tcp).await,
            Transport::Udp(udp) => self.start_udp(udp).await,
        }
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

impl SyslogReceiver {
    async fn start_tcp(&self, tcp: &TcpConfig) -> Result<(), ComponentError> {
        let addr = listen_address(&tcp.listen_address, "tcp").await?;
        let acceptor = match &tcp.tls {
            Some(tls) => Some(configtls::acceptor(tls, "tcp::tls", &[]).await?),
            None => None,
        };
        let connection = Arc::new(Connection {
            intake: Arc::clone(&self.intake),
            acceptor,
            max_log_size: tcp.effective_max_log_size(),
            one_log_per_packet: tcp.one_log_per_packet,
            add_attributes: tcp.add_attributes,
            trim: Trim {
                keep_leading: tcp.preserve_leading_whitespaces,
                keep_trailing: tcp.preserve_trailing_whitespaces,
            },
        });
        // Go sets no limit; ours keeps what a flood of connections can hold bounded.
        let max_connections =
            tributary_pipeline_core::receiverhelper::TcpServerConfig::default().max_connections;
        self.tasks
            .serve_tcp(addr, max_connections, move |stream, peer, stop| {
                Arc::clone(&connection).serve(stream, peer, stop)
            })?;
        Ok(())
    }

    async fn start_udp(&self, udp: &UdpConfig) -> Result<(), ComponentError> {
        let addr = listen_address(&udp.listen_address, "udp").await?;
        let intake = Arc::clone(&self.intake);
        let stop = self.tasks.stop_token();
        let (add_attributes, one_log_per_packet) = (udp.add_attributes, udp.one_log_per_packet);
        let trim = Trim {
            keep_leading: udp.preserve_leading_whitespaces,
            keep_trailing: udp.preserve_trailing_whitespaces,
        };
        // The bound address (port 0 picks one) is known once `serve_udp` returns; until
        // then the configured one stands in.
        let local = Arc::new(std::sync::OnceLock::<SocketAddr>::new());
        let handler_local = Arc::clone(&local);
        let bound = self.tasks.serve_udp(addr, move |datagram: Bytes, peer| {
            let (intake, stop, local) = (
                Arc::clone(&intake),
                stop.clone(),
                Arc::clone(&handler_local),
            );
            async move {
                let net = if add_attributes {
                    intake
                        .names
                        .attributes("IP.UDP", peer, Some(local.get().copied().unwrap_or(addr)))
                        .await
                } else {
                    Vec::new()
                };
                let mut batch = intake.records.batch();
                let mut failed = 0;
                let now = now_unix_nano();
                if one_log_per_packet {
                    let added = intake.records.add(
                        &mut batch,
                        &datagram,
                        FrameInfo::default(),
                        Trim {
                            keep_leading: true,
                            keep_trailing: true,
                        },
                        &net,
                        now,
                    );
                    failed += usize::from(added == Added::Unparsed);
                } else {
                    let mut rest = &datagram[..];
                    while let Ok(Some(frame)) =
                        next_frame(rest, Framing::Trailer(b'\n'), rest.len(), true)
                    {
                        let added = intake.records.add(
                            &mut batch,
                            &rest[frame.frame.clone()],
                            FrameInfo::default(),
                            trim,
                            &net,
                            now,
                        );
                        failed += usize::from(added == Added::Unparsed);
                        rest = &rest[frame.consumed..];
                    }
                }
                intake.metrics.record_failed(failed);
                let _ = intake.deliver(batch, &stop).await;
            }
        })?;
        let _ = local.set(bound);
        Ok(())
    }
}

/// Resolves `listen_address` (host names are looked up now, as Go does when it listens).
async fn listen_address(address: &str, section: &str) -> Result<SocketAddr, ComponentError> {
    resolve_endpoint(address)
        .await
        .map_err(|e| ComponentError::new(format!("{section}::listen_address: {e}")))
}

impl Intake {
    /// Hands `batch` to the pipeline, retrying retryable refusals when
    /// `retry_on_failure` is enabled (until it gives up or shutdown begins), and records
    /// the outcome once.
    async fn deliver(
        &self,
        batch: LogsBuilder,
        stop: &CancellationToken,
    ) -> Result<(), ConsumeError> {
        let logs = batch.build();
        if !self.retry.enabled {
            return receiverhelper::deliver(&self.next, &self.metrics, logs).await;
        }
        let items = logs.item_count();
        if items == 0 {
            return Ok(());
        }
        let (started, first) = (SystemTime::now(), Instant::now());
        let mut wait = self.retry.initial_interval;
        let outcome = loop {
            let outcome = self.next.consume(logs.clone()).await;
            let Err(error) = &outcome else { break outcome };
            let max_elapsed = self.retry.max_elapsed_time;
            let pause = error
                .retry_after()
                .unwrap_or(wait)
                .min(self.retry.max_interval);
            if error.is_permanent()
                || (!max_elapsed.is_zero() && first.elapsed() + pause > max_elapsed)
            {
                break outcome;
            }
            self.span.in_scope(|| {
                tracing::debug!(%error, ?pause, "the pipeline refused syslog records; retrying");
            });
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = stop.cancelled() => break outcome,
            }
            // stanza's backoff: ×1.5 per attempt up to max_interval.
            wait = wait.mul_f64(1.5).min(self.retry.max_interval);
        };
        self.metrics.record_operation(started, items, &outcome);
        outcome
    }
}

/// What every TCP connection of one receiver shares.
struct Connection {
    intake: Arc<Intake>,
    acceptor: Option<TlsAcceptor>,
    max_log_size: usize,
    one_log_per_packet: bool,
    add_attributes: bool,
    trim: Trim,
}

impl Connection {
    async fn serve(
        self: Arc<Self>,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        stop: CancellationToken,
    ) {
        let net = if self.add_attributes {
            let local = stream.local_addr().ok();
            self.intake.names.attributes("IP.TCP", peer, local).await
        } else {
            Vec::new()
        };
        match &self.acceptor {
            None => self.read(stream, peer, &net, &stop).await,
            Some(acceptor) => {
                let handshake = tokio::select! {
                    handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => handshake,
                    () = stop.cancelled() => return,
                };
                match handshake {
                    Ok(Ok(stream)) => self.read(stream, peer, &net, &stop).await,
                    Ok(Err(error)) => self.intake.span.in_scope(|| {
                        tracing::debug!(%peer, %error, "TLS handshake failed");
                    }),
                    Err(_) => self.intake.span.in_scope(|| {
                        tracing::debug!(%peer, "TLS handshake timed out");
                    }),
                }
            }
        }
    }

    /// Reads frames until the peer closes, the framing is lost, or shutdown; each read's
    /// complete frames are one batch.
    async fn read<S: AsyncRead + Unpin>(
        &self,
        mut stream: S,
        peer: SocketAddr,
        net: &[KeyValue],
        stop: &CancellationToken,
    ) {
        let capacity = self.max_log_size + PREFIX_ROOM;
        let mut buffer: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            let room = if self.one_log_per_packet {
                // Read to the end; what exceeds max_log_size is dropped, as Go truncates.
                READ_CHUNK
            } else {
                (capacity - buffer.len()).min(READ_CHUNK)
            };
            let read = tokio::select! {
                read = stream.read(&mut chunk[..room]) => read,
                () = stop.cancelled() => return,
            };
            let at_eof = match read {
                Ok(0) | Err(_) => true,
                Ok(n) => {
                    let keep = if self.one_log_per_packet {
                        n.min(self.max_log_size.saturating_sub(buffer.len()))
                    } else {
                        n
                    };
                    buffer.extend_from_slice(&chunk[..keep]);
                    false
                }
            };
            if self.one_log_per_packet {
                if at_eof {
                    self.one_message(&buffer, net, stop).await;
                    return;
                }
                continue;
            }
            if !self.frames(&mut buffer, at_eof, peer, net, stop).await || at_eof {
                return;
            }
        }
    }

    /// The whole connection as one message (`one_log_per_packet`), untrimmed as in Go.
    async fn one_message(&self, data: &[u8], net: &[KeyValue], stop: &CancellationToken) {
        let intake = &self.intake;
        let mut batch = intake.records.batch();
        let keep = Trim {
            keep_leading: true,
            keep_trailing: true,
        };
        let added = intake.records.add(
            &mut batch,
            data,
            FrameInfo::default(),
            keep,
            net,
            now_unix_nano(),
        );
        intake
            .metrics
            .record_failed(usize::from(added == Added::Unparsed));
        let _ = intake.deliver(batch, stop).await;
    }

    /// Delivers the complete frames at the start of `buffer` and drops them from it;
    /// false when the framing was lost and the connection must close.
    async fn frames(
        &self,
        buffer: &mut Vec<u8>,
        at_eof: bool,
        peer: SocketAddr,
        net: &[KeyValue],
        stop: &CancellationToken,
    ) -> bool {
        let intake = &self.intake;
        let mut batch = intake.records.batch();
        let (mut used, mut failed, mut framed) = (0, 0, true);
        let now = now_unix_nano();
        loop {
            let rest = &buffer[used..];
            match next_frame(rest, intake.framing, self.max_log_size, at_eof) {
                Ok(Some(frame)) => {
                    let info = FrameInfo {
                        message_start: frame.message_start,
                        declared_length: frame.declared_length,
                    };
                    let added = intake.records.add(
                        &mut batch,
                        &rest[frame.frame.clone()],
                        info,
                        self.trim,
                        net,
                        now,
                    );
                    failed += usize::from(added == Added::Unparsed);
                    used += frame.consumed;
                }
                Ok(None) => break,
                Err(error) => {
                    intake.span.in_scope(|| {
                        tracing::debug!(%peer, %error, "closing a syslog connection whose framing is lost");
                    });
                    failed += 1;
                    framed = false;
                    break;
                }
            }
        }
        buffer.drain(..used);
        intake.metrics.record_failed(failed);
        let _ = intake.deliver(batch, stop).await;
        framed
    }
}
