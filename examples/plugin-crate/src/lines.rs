//! The **`lines`** receiver: `name value` lines over TCP (`temperature 21.5\n`), each a
//! gauge data point stamped with the time it arrived.
//!
//! ```yaml
//! receivers:
//!   lines:
//!     endpoint: 0.0.0.0:2003
//!     max_connections: 100
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `127.0.0.1:2003` | address to listen on |
//! | `max_connections` | `100` | connections served at once; more are closed |
//!
//! Each read becomes one request, whatever number of lines it brings (batching on the
//! receiver's side). A line that is not `name value` with a numeric value is counted in
//! `lines_malformed` and skipped; the connection goes on. A line longer than 64 KiB
//! closes the connection. Built on [`ReceiverTasks::serve_tcp`], so the socket survives a
//! reload and shutdown waits for the lines in flight.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::telemetry::Counter;

/// The longest line accepted, and the read buffer's size.
const MAX_LINE: usize = 64 * 1024;

/// The `lines` configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub endpoint: String,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            endpoint: "127.0.0.1:2003".into(),
            max_connections: 100,
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        parse_endpoint(&self.endpoint)
            .map(drop)
            .map_err(|e| ConfigError::at("endpoint", e))
    }
}

/// The `lines` factory, to register on a collector builder.
pub fn factory() -> ReceiverFactory<Config> {
    ReceiverFactory::new("lines").with_metrics(create, Stability::Development)
}

fn create(
    settings: &CreateSettings,
    config: &Config,
    next: Next<Metrics>,
) -> Result<Arc<dyn Receiver>, CreateError> {
    let registry = settings.metrics();
    let connection = Connection {
        next,
        metrics: ReceiverMetrics::new(registry, settings.id(), "tcp", Signal::Metrics),
        malformed: registry.counter("lines_malformed", "Lines skipped as malformed.", &[]),
    };
    Ok(Arc::new(LinesReceiver {
        endpoint: parse_endpoint(&config.endpoint).map_err(CreateError::new)?,
        max_connections: config.max_connections,
        connection: Arc::new(connection),
        tasks: ReceiverTasks::new(settings),
    }))
}

/// The receiver: its address and the tasks serving it.
pub struct LinesReceiver {
    endpoint: SocketAddr,
    max_connections: usize,
    connection: Arc<Connection>,
    tasks: ReceiverTasks,
}

#[async_trait]
impl Component for LinesReceiver {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let connection = Arc::clone(&self.connection);
        self.tasks.serve_tcp(
            self.endpoint,
            self.max_connections,
            move |stream, _, stop| Arc::clone(&connection).serve(stream, stop),
        )?;
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.tasks.shutdown(receiverhelper::SHUTDOWN_DEADLINE).await
    }
}

/// What every connection shares: where the data goes, and the counters.
struct Connection {
    next: Next<Metrics>,
    metrics: ReceiverMetrics,
    malformed: Counter,
}

impl Connection {
    async fn serve(self: Arc<Self>, mut stream: TcpStream, stop: CancellationToken) {
        let (mut buffer, mut filled) = (vec![0; MAX_LINE], 0);
        loop {
            let read = tokio::select! {
                read = stream.read(&mut buffer[filled..]) => read,
                () = stop.cancelled() => return,
            };
            let Ok(read @ 1..) = read else { return };
            filled += read;
            // Complete lines only; a partial last line waits for the next read.
            let Some(end) = buffer[..filled].iter().rposition(|b| *b == b'\n') else {
                if filled == MAX_LINE { return } else { continue }
            };
            let metrics = self.parse(&buffer[..end]);
            buffer.copy_within(end + 1..filled, 0);
            filled -= end + 1;
            // The client gets no answer: a refused batch is counted by `deliver`.
            let _ = receiverhelper::deliver(&self.next, &self.metrics, metrics).await;
        }
    }

    fn parse(&self, lines: &[u8]) -> Metrics {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let mut metrics = MetricsBuilder::new();
        for line in String::from_utf8_lossy(lines)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let mut fields = line.split_whitespace();
            match (
                fields.next(),
                fields.next().map(str::parse::<f64>),
                fields.next(),
            ) {
                (Some(name), Some(Ok(value)), None) => {
                    metrics.gauge(name, "").double(vec![], now, value);
                }
                _ => self.malformed.inc(),
            }
        }
        metrics.build()
    }
}
