//! The agent's UDP ports: `Agent.emitBatch` in the Thrift compact (6831) or binary (6832)
//! protocol, one call per datagram, as Jaeger clients in agent mode send them.
//!
//! As in the Go receiver, datagrams wait in a queue of `queue_size` for `workers` that
//! decode and deliver them; a datagram that finds the queue full, is longer than
//! `max_packet_size` or cannot be read is dropped and counted
//! (`otelcol_receiver_failed_spans`, one per datagram: its spans are unknown), never
//! fatal. UDP has no answer, so a refusal by the pipeline is only counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{Mutex, mpsc};
use tributary_pipeline_core::component::{ComponentError, resolve_endpoint};
use tributary_pipeline_core::receiverhelper::ReceiverTasks;
use tributary_pipeline_core::server::LogThrottle;

use super::config::UdpConfig;
use super::model::Batch;
use super::receiver::{Intake, Transport};
use super::thrift::{DecodeError, decode_agent_binary, decode_agent_compact};

/// Binds the UDP endpoint (or `default_endpoint`) and starts the workers.
pub(crate) async fn serve(
    tasks: &ReceiverTasks,
    config: &UdpConfig,
    default_endpoint: &str,
    transport: Transport,
    intake: &Arc<Intake>,
) -> Result<SocketAddr, ComponentError> {
    let key = match transport {
        Transport::ThriftBinary => "protocols::thrift_binary",
        _ => "protocols::thrift_compact",
    };
    let endpoint = if config.endpoint.is_empty() {
        default_endpoint
    } else {
        &config.endpoint
    };
    let addr = resolve_endpoint(endpoint)
        .await
        .map_err(|e| ComponentError::new(format!("{key}::endpoint: {e}")))?;
    let decode: fn(&[u8]) -> Result<Batch, DecodeError> = match transport {
        Transport::ThriftBinary => decode_agent_binary,
        _ => decode_agent_compact,
    };
    let (queue, waiting) = mpsc::channel::<Bytes>(config.queue_size);
    let waiting = Arc::new(Mutex::new(waiting));
    let agent = Arc::new(Agent {
        intake: Arc::clone(intake),
        transport,
        decode,
        dropped_log: LogThrottle::new(Duration::from_secs(10)),
    });
    // The workers end when the queue is closed and empty: the UDP loop holds its only
    // sender and drops it at shutdown, so what was queued is still delivered.
    for _ in 0..config.workers {
        let (agent, waiting) = (Arc::clone(&agent), Arc::clone(&waiting));
        tasks.spawn(async move {
            loop {
                // One worker at a time waits on the queue; the others wait for the lock.
                let datagram = waiting.lock().await.recv().await;
                match datagram {
                    Some(datagram) => agent.process(&datagram).await,
                    None => return,
                }
            }
        });
    }
    let max_packet_size = config.max_packet_size;
    tasks
        .serve_udp(addr, move |datagram, peer| {
            let agent = Arc::clone(&agent);
            let queued = if datagram.len() > max_packet_size {
                agent.drop_datagram(peer, "longer than max_packet_size");
                Ok(())
            } else {
                queue.try_send(datagram)
            };
            async move {
                if queued.is_err() {
                    agent.drop_datagram(peer, "the queue is full");
                }
            }
        })
        .map_err(|e| ComponentError::new(format!("{key}::endpoint: {e}")))
}

/// What the workers of one UDP port share.
struct Agent {
    intake: Arc<Intake>,
    transport: Transport,
    decode: fn(&[u8]) -> Result<Batch, DecodeError>,
    dropped_log: LogThrottle,
}

impl Agent {
    async fn process(&self, datagram: &[u8]) {
        match (self.decode)(datagram) {
            // No one to answer: a refusal is counted by the intake.
            Ok(batch) => {
                let _ = self.intake.deliver(self.transport, batch, None).await;
            }
            Err(error) => {
                self.intake.metrics(self.transport).record_failed(1);
                if let Some(suppressed) = self.dropped_log.hit() {
                    tracing::debug!(%error, suppressed, "dropping a malformed Jaeger agent datagram");
                }
            }
        }
    }

    fn drop_datagram(&self, peer: SocketAddr, why: &str) {
        self.intake.metrics(self.transport).record_failed(1);
        if let Some(suppressed) = self.dropped_log.hit() {
            tracing::warn!(%peer, suppressed, "dropping a Jaeger agent datagram: {why}");
        }
    }
}
