//! The `carbon` exporter's sending side: a pool of TCP connections to the Carbon
//! plaintext listener.

use std::io;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tributary_pipeline_core::prelude::*;

use super::config::Config;
use super::plaintext::to_plaintext;

/// Exports each batch as plaintext lines over a pooled connection.
pub(crate) struct CarbonExporter {
    pool: ConnectionPool,
    resource_attributes: bool,
}

impl CarbonExporter {
    pub(crate) fn new(config: &Config) -> Self {
        CarbonExporter {
            pool: ConnectionPool {
                endpoint: config.endpoint.clone(),
                connect_timeout: config.dialer.connect_timeout(config.helper.timeout),
                max_idle: config.max_idle_conns,
                idle: Mutex::new(Vec::new()),
            },
            resource_attributes: config.resource_to_telemetry_conversion.enabled,
        }
    }
}

#[async_trait]
impl Export<Metrics> for CarbonExporter {
    async fn export(&self, data: Metrics) -> Result<(), ConsumeError> {
        let (text, lines) = to_plaintext(&data, self.resource_attributes);
        if lines == 0 {
            return Ok(());
        }
        // Carbon acknowledges nothing: a failed write may have delivered some lines, and a
        // retry sends them again (the store keeps the last value per timestamp, so a
        // repeated line changes nothing).
        self.pool.write(text.as_bytes()).await.map_err(|error| {
            ConsumeError::retryable(format!(
                "cannot send {lines} lines to carbon at {}: {error}",
                self.pool.endpoint
            ))
        })
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.pool.close();
        Ok(())
    }
}

/// Open connections to one endpoint, most recently used first. A connection is taken for
/// one write and given back when the write succeeded; one that failed is closed, and the
/// next write opens a new one.
struct ConnectionPool {
    endpoint: String,
    connect_timeout: Option<Duration>,
    max_idle: usize,
    idle: Mutex<Vec<TcpStream>>,
}

impl ConnectionPool {
    async fn write(&self, bytes: &[u8]) -> io::Result<()> {
        let mut connection = match self.take_live() {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        connection.write_all(bytes).await?;
        connection.flush().await?;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.max_idle {
            idle.push(connection);
        }
        Ok(())
    }

    /// The most recent idle connection the server has not closed. Go's pool cannot tell
    /// and writes into a closed connection once (losing that batch silently); a pending
    /// end of stream or error, seen without blocking, says the peer is gone.
    fn take_live(&self) -> Option<TcpStream> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(connection) = idle.pop() {
            let mut probe = [0u8; 1];
            match connection.try_read(&mut probe) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => return Some(connection),
                // Closed, failed, or the server sent something carbon never sends.
                _ => continue,
            }
        }
        None
    }

    async fn connect(&self) -> io::Result<TcpStream> {
        let connecting = TcpStream::connect(self.endpoint.as_str());
        let connection = match self.connect_timeout {
            Some(limit) => tokio::time::timeout(limit, connecting)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connecting timed out"))??,
            None => connecting.await?,
        };
        // Lines go out as soon as they are written.
        connection.set_nodelay(true)?;
        Ok(connection)
    }

    fn close(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}
