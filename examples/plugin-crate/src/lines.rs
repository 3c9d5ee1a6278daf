//! The **`lines`** receiver: `name value` lines over TCP (`temperature 21.5\n`), each a
//! gauge data point stamped with the time it arrived.
//!
//! ```yaml
//! receivers:
//!   lines:
//!     endpoint: 0.0.0.0:2003
//!     max_connections: 1000
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `127.0.0.1:2003` | address to listen on |
//! | `max_connections` | `4096` | connections served at once; more are closed |
//!
//! Each read becomes one request, whatever number of lines it brings (batching on the
//! receiver's side). A line that is not `name value` with a numeric value is counted in
//! `otelcol_receiver_failed_metric_points` and skipped; the connection goes on. A line
//! longer than 64 KiB closes the connection. Built with
//! [`receiverhelper::tcp_lines_receiver`], so the socket survives a reload and shutdown
//! waits for the lines in flight.

use std::sync::Arc;

use serde::Deserialize;
use tributary_pipeline_core::prelude::*;

/// Where the receiver listens unless `endpoint` says otherwise.
const DEFAULT_ENDPOINT: &str = "127.0.0.1:2003";

/// The `lines` configuration: the TCP server's keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `endpoint`, `max_connections`.
    #[serde(rename = "server,squash")]
    pub server: TcpServerConfig,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()
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
    Ok(receiverhelper::tcp_lines_receiver(
        settings,
        &config.server,
        DEFAULT_ENDPOINT,
        next,
        parse,
    ))
}

/// The gauges of the lines one read brought, and how many lines were malformed.
fn parse(text: &str) -> (Metrics, usize) {
    let (now, mut batch, mut malformed) = (now_unix_nano(), MetricsBuilder::new(), 0);
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let mut fields = line.split_whitespace();
        match (fields.next(), fields.next().map(str::parse), fields.next()) {
            (Some(name), Some(Ok(value)), None) => {
                batch.gauge(name, "").double(vec![], now, value);
            }
            _ => malformed += 1,
        }
    }
    (batch.build(), malformed)
}
