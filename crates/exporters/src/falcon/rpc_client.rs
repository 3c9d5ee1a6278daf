//! A JSON-RPC 1.0 client over TCP, as Go's `net/rpc/jsonrpc` client frames it, with the
//! connections to one address pooled.

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tributary_translator_falcon::FrameSplitter;
use tributary_translator_falcon::jsonrpc::{self, Response};

/// The largest reply read: replies are small (`{"code":0}`, a `TransferResponse`).
const MAX_REPLY: usize = 1024 * 1024;

/// How a call failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    /// Connecting, writing or reading failed; the connection is dropped.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The server answered with an error.
    #[error("the server answered: {0}")]
    Remote(String),
    /// The reply is not what the method returns.
    #[error("unexpected reply: {0}")]
    Reply(String),
}

/// Calls to one address over pooled connections: a connection serves one call at a time
/// and goes back to the pool when the call succeeded.
pub(crate) struct RpcClient {
    addr: String,
    connect_timeout: Duration,
    idle: Mutex<Vec<TcpStream>>,
    ids: AtomicU64,
}

/// Connections kept open per address between calls.
const MAX_IDLE: usize = 32;

impl RpcClient {
    pub(crate) fn new(addr: &str, connect_timeout: Duration) -> Self {
        RpcClient {
            addr: addr.to_owned(),
            connect_timeout,
            idle: Mutex::new(Vec::new()),
            ids: AtomicU64::new(0),
        }
    }

    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Calls `method` with `argument` and decodes its result. The caller bounds the time
    /// it takes (the exporter helper's `timeout`); a call abandoned midway drops its
    /// connection.
    pub(crate) async fn call<A: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        argument: &A,
    ) -> Result<R, CallError> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let request = jsonrpc::request(method, argument, id)
            .map_err(|e| CallError::Reply(format!("cannot encode the request: {e}")))?;
        let mut connection = match self.take_idle() {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        connection.write_all(&request).await?;
        let response = read_response(&mut connection, id).await?;
        self.give_back(connection);
        let result = response.into_result().map_err(CallError::Remote)?;
        serde_json::from_value(result).map_err(|e| CallError::Reply(e.to_string()))
    }

    fn take_idle(&self) -> Option<TcpStream> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(connection) = idle.pop() {
            // A pending end of stream or error, seen without blocking, says the peer closed it.
            let mut probe = [0u8; 1];
            if matches!(connection.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
            {
                return Some(connection);
            }
        }
        None
    }

    fn give_back(&self, connection: TcpStream) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(connection);
        }
    }

    async fn connect(&self) -> io::Result<TcpStream> {
        let connection = tokio::time::timeout(self.connect_timeout, TcpStream::connect(&self.addr))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connecting timed out"))??;
        connection.set_nodelay(true)?;
        Ok(connection)
    }

    /// Closes the pooled connections.
    pub(crate) fn close(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

/// Reads frames until the reply to `id` (Go's server answers in order; an older reply
/// would be a left-over and is skipped).
async fn read_response(connection: &mut TcpStream, id: u64) -> Result<Response, CallError> {
    let mut frames = FrameSplitter::new(MAX_REPLY);
    let mut buffer = [0u8; 4096];
    loop {
        while let Some(frame) = frames
            .next_frame()
            .map_err(|e| CallError::Reply(e.to_string()))?
        {
            let response: Response =
                serde_json::from_slice(&frame).map_err(|e| CallError::Reply(e.to_string()))?;
            if response.id.as_u64() == Some(id) {
                return Ok(response);
            }
        }
        let read = connection.read(&mut buffer).await?;
        if read == 0 {
            return Err(CallError::Io(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection before replying",
            )));
        }
        frames.extend(&buffer[..read]);
    }
}
