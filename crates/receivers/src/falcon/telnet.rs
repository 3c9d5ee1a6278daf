//! The transfer's telnet listener: `update` lines, whose items are forwarded when the
//! session ends (end of stream, `quit`, or the read timeout), as Falcon does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::receiverhelper::MAX_LINE;
use tributary_translator_falcon::{FalconItem, TelnetLine, parse_telnet_line};

use super::receiver::{Sink, now_seconds};

/// Serves telnet sessions.
pub(crate) struct TelnetIntake {
    sink: Sink,
    timeout: Duration,
    max_held_items: usize,
}

/// The items a session holds, and how many of its `update` lines were invalid.
#[derive(Default)]
struct Held {
    items: Vec<FalconItem>,
    invalid: usize,
}

impl TelnetIntake {
    pub(crate) fn new(sink: Sink, timeout: Duration, max_held_items: usize) -> Self {
        TelnetIntake {
            sink,
            timeout,
            max_held_items,
        }
    }

    /// Reads lines until the session ends, then forwards what it holds. A session holding
    /// `max_held_items` forwards them at once (bounding its memory), and shutdown forwards
    /// what is held before closing; a line longer than [`MAX_LINE`] ends the session.
    pub(crate) async fn serve(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        stop: CancellationToken,
    ) {
        let mut held = Held::default();
        let (mut buffer, mut filled) = (vec![0u8; MAX_LINE], 0);
        'session: loop {
            let read = tokio::select! {
                read = tokio::time::timeout(self.timeout, stream.read(&mut buffer[filled..])) => read,
                () = stop.cancelled() => break,
            };
            let read = match read {
                Ok(Ok(read)) => read,
                Ok(Err(_)) => 0,
                Err(_) => {
                    tracing::debug!(%peer, timeout = ?self.timeout, "a telnet session timed out");
                    0
                }
            };
            if read == 0 {
                // Go's reader drops a last line without its newline.
                break;
            }
            filled += read;
            let mut start = 0;
            while let Some(end) = buffer[start..filled].iter().position(|b| *b == b'\n') {
                let line = String::from_utf8_lossy(&buffer[start..start + end]).into_owned();
                start += end + 1;
                match parse_telnet_line(&line, now_seconds()) {
                    TelnetLine::Update(item) => held.items.push(item),
                    TelnetLine::Invalid => held.invalid += 1,
                    TelnetLine::Ignored => {}
                    TelnetLine::Quit => break 'session,
                }
                if held.items.len() >= self.max_held_items {
                    self.forward(&mut held).await;
                }
            }
            buffer.copy_within(start..filled, 0);
            filled -= start;
            if filled == MAX_LINE {
                tracing::debug!(%peer, "ending a telnet session whose line exceeds {MAX_LINE} bytes");
                held.invalid += 1;
                break;
            }
        }
        self.forward(&mut held).await;
    }

    /// Hands the held items to the pipeline. The protocol has no answer to give: a refusal
    /// is counted (as refused points) and logged.
    async fn forward(&self, held: &mut Held) {
        let Held { items, invalid } = std::mem::take(held);
        if let Err(error) = self.sink.deliver(&items, invalid).await {
            tracing::debug!(%error, items = items.len(), "the pipeline refused telnet items");
        }
    }
}
