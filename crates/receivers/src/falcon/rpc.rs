//! The transfer's JSON-RPC 1.0 over TCP (Go `net/rpc/jsonrpc`): `Transfer.Update` and
//! `Transfer.Ping`, answered in order on each connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tributary_pipeline_core::prelude::*;
use tributary_translator_falcon::jsonrpc::{self, Request};
use tributary_translator_falcon::{
    FrameSplitter, SimpleRpcResponse, TransferResponse, push_from_value,
};

use super::receiver::{Sink, now_seconds};

/// Serves JSON-RPC connections.
pub(crate) struct RpcIntake {
    sink: Sink,
    max_request_size: usize,
}

impl RpcIntake {
    pub(crate) fn new(sink: Sink, max_request_size: usize) -> Self {
        RpcIntake {
            sink,
            max_request_size,
        }
    }

    /// Reads requests until the peer closes, sends something that is not a JSON-RPC
    /// message (closed, as Go's server does), or shutdown.
    pub(crate) async fn serve(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        stop: CancellationToken,
    ) {
        let mut frames = FrameSplitter::new(self.max_request_size);
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = tokio::select! {
                read = stream.read(&mut buffer) => read,
                () = stop.cancelled() => return,
            };
            let read = match read {
                Ok(0) | Err(_) => return,
                Ok(read) => read,
            };
            frames.extend(&buffer[..read]);
            loop {
                let frame = match frames.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(error) => {
                        tracing::debug!(%peer, %error, "closing a JSON-RPC connection");
                        return;
                    }
                };
                let Ok(request) = jsonrpc::parse_request(&frame) else {
                    tracing::debug!(%peer, "closing a JSON-RPC connection: a request is not valid JSON");
                    return;
                };
                let reply = jsonrpc::response(request.id.as_deref(), self.call(&request).await);
                if stream.write_all(&reply).await.is_err() {
                    return;
                }
            }
        }
    }

    /// The outcome of one call: its result, or the error text Go's server would send.
    async fn call(&self, request: &Request) -> Result<serde_json::Value, String> {
        match request.method.as_str() {
            "Transfer.Update" => {
                let started = Instant::now();
                let push = push_from_value(request.argument()?, now_seconds())
                    .map_err(|e| e.to_string())?;
                self.sink
                    .deliver(&push.items, push.invalid)
                    .await
                    .map_err(|error| {
                        // The agent tries its next transfer on an error.
                        if error.is_permanent() {
                            format!("the pipeline refused the data: {}", error.message())
                        } else {
                            format!("try again later: {}", error.message())
                        }
                    })?;
                let reply = TransferResponse {
                    message: "ok".into(),
                    total: push.total,
                    invalid: push.invalid,
                    latency: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
                };
                serde_json::to_value(reply).map_err(|e| e.to_string())
            }
            "Transfer.Ping" => {
                serde_json::to_value(SimpleRpcResponse::default()).map_err(|e| e.to_string())
            }
            method => Err(match method.split_once('.') {
                Some(("Transfer", _)) => format!("rpc: can't find method {method}"),
                Some(_) => format!("rpc: can't find service {method}"),
                None => format!("rpc: service/method request ill-formed: {method}"),
            }),
        }
    }
}
