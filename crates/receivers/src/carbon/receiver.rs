//! The `carbon` receiver at work: lines over TCP (with the idle timeout) or datagrams
//! over UDP, parsed and delivered one batch per read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::receiverhelper::MAX_LINE;

use super::config::{Config, Transport};
use super::parser::CarbonParser;

/// The running receiver: its settings, and the tasks serving its socket.
pub(crate) struct CarbonReceiver {
    config: Config,
    transport: Transport,
    intake: Arc<Intake>,
    tasks: ReceiverTasks,
    /// Where it listens once started (the port when `endpoint` asked for port 0).
    local: std::sync::Mutex<Option<SocketAddr>>,
}

/// What every connection and datagram shares: the parser and where data goes.
struct Intake {
    parser: CarbonParser,
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
}

impl CarbonReceiver {
    pub(crate) fn new(
        settings: &CreateSettings,
        config: &Config,
        next: Next<Metrics>,
    ) -> Result<Self, CreateError> {
        let transport = config
            .transport()
            .map_err(|e| CreateError::new(e.to_string()))?;
        let parser = config
            .parser
            .build()
            .map_err(|e| CreateError::new(e.to_string()))?;
        let label = match transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        Ok(CarbonReceiver {
            config: config.clone(),
            transport,
            intake: Arc::new(Intake {
                parser,
                next,
                metrics: ReceiverMetrics::new(
                    settings.metrics(),
                    settings.id(),
                    label,
                    Signal::Metrics,
                ),
            }),
            tasks: ReceiverTasks::new(settings),
            local: std::sync::Mutex::new(None),
        })
    }

    /// Where the receiver listens, once started.
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        *self.local.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Component for CarbonReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let server = TcpServerConfig {
            endpoint: Some(self.config.endpoint.clone()),
            max_connections: self.config.max_connections,
        };
        let addr = server.addr(&self.config.endpoint).await?;
        let intake = Arc::clone(&self.intake);
        let local = match self.transport {
            Transport::Tcp => {
                let idle = self.config.idle_timeout();
                self.tasks
                    .serve_tcp(addr, server.max_connections, move |stream, peer, stop| {
                        Arc::clone(&intake).serve_connection(stream, peer, stop, idle)
                    })?
            }
            Transport::Udp => self.tasks.serve_udp(addr, move |datagram, _peer| {
                let intake = Arc::clone(&intake);
                async move {
                    let text = String::from_utf8_lossy(&datagram);
                    intake.take(&text).await;
                }
            })?,
        };
        *self.local.lock().unwrap_or_else(|e| e.into_inner()) = Some(local);
        tracing::info!(endpoint = %local, transport = ?self.transport, "carbon receiver listening");
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

impl Intake {
    /// Parses `text` and delivers what it holds; counts malformed lines as failed points.
    /// Whether the pipeline took the batch: the protocol has no answer to give, so a refusal
    /// is only counted (by `deliver`) and reported to the caller.
    async fn take(&self, text: &str) -> bool {
        let (data, malformed) = self.parser.parse(text);
        self.metrics.record_failed(malformed);
        receiverhelper::deliver(&self.next, &self.metrics, data)
            .await
            .is_ok()
    }

    /// Reads lines from one connection until it closes, stays idle for `idle`, sends a
    /// line longer than [`MAX_LINE`], or the pipeline refuses its data (closing is the
    /// only refusal the protocol knows, as in Go).
    async fn serve_connection(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        stop: CancellationToken,
        idle: Duration,
    ) {
        let (mut buffer, mut filled) = (vec![0; MAX_LINE], 0);
        loop {
            let read = tokio::select! {
                read = tokio::time::timeout(idle, stream.read(&mut buffer[filled..])) => read,
                () = stop.cancelled() => return,
            };
            let read = match read {
                Ok(Ok(read)) => read,
                Ok(Err(_)) => return,
                Err(_) => {
                    tracing::debug!(%peer, ?idle, "closing an idle carbon connection");
                    0
                }
            };
            if read == 0 {
                // Closed or idle: a last line without its newline still counts, as in Go.
                let rest = String::from_utf8_lossy(&buffer[..filled]);
                if !rest.trim().is_empty() {
                    self.take(&rest).await;
                }
                return;
            }
            filled += read;
            // Complete lines only: a partial last line waits for the next read.
            let Some(end) = buffer[..filled].iter().rposition(|b| *b == b'\n') else {
                if filled == MAX_LINE {
                    tracing::debug!(%peer, "closing a connection whose line exceeds {MAX_LINE} bytes");
                    self.metrics.record_failed(1);
                    return;
                }
                continue;
            };
            let accepted = self.take(&String::from_utf8_lossy(&buffer[..end])).await;
            buffer.copy_within(end + 1..filled, 0);
            filled -= end + 1;
            if !accepted {
                return;
            }
        }
    }
}
