//! The telnet protocol: `put <metric> <timestamp> <value> <tagk=tagv>...` lines, answered
//! only when something is wrong (`put: illegal argument: ...`), plus `version`, `help`
//! and `exit`, as a TSD answers them.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tributary_pipeline_core::prelude::*;
use tributary_pipeline_core::receiverhelper::MAX_LINE;

use super::point::{DataPoint, check_point, parse_long, parse_value, to_metrics};

/// A telnet line, understood.
#[derive(Clone, Debug, PartialEq)]
pub enum TelnetCommand {
    /// `put`: a data point that passed every check.
    Put(DataPoint),
    /// `version`: the server's version, one line.
    Version,
    /// `help`: the commands there are.
    Help,
    /// `exit`: the client closes the session.
    Exit,
    /// A blank line: nothing to do.
    Blank,
}

/// Parses one telnet line (without its newline) with at most `max_tags` tags per point.
/// An error is the whole line the TSD would answer, without the newline: `put: illegal
/// argument: ...`, `put: invalid value: ...` or `unknown command: ...`. Any input gives a
/// value or an error, never a panic.
///
/// ```
/// use tributary_receivers::opentsdb::{TelnetCommand, parse_telnet_line};
///
/// let put = parse_telnet_line("put sys.cpu.user 1356998400 42.5 host=web01 cpu=0", 8).unwrap();
/// assert!(matches!(put, TelnetCommand::Put(point) if point.metric == "sys.cpu.user"));
/// assert_eq!(
///     parse_telnet_line("put sys.cpu.user 1356998400 42.5", 8).unwrap_err(),
///     "put: illegal argument: not enough arguments (need least 4, got 3)"
/// );
/// ```
pub fn parse_telnet_line(line: &str, max_tags: usize) -> Result<TelnetCommand, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.trim().is_empty() {
        return Ok(TelnetCommand::Blank);
    }
    // Words are split on each single space, as the TSD does, so two spaces make an
    // empty word (an empty metric, timestamp or value is an error; empty tags are skipped).
    let words: Vec<&str> = line.split(' ').collect();
    match words[0] {
        "put" => put(&words[1..], max_tags).map(TelnetCommand::Put),
        "version" => Ok(TelnetCommand::Version),
        "help" => Ok(TelnetCommand::Help),
        "exit" => Ok(TelnetCommand::Exit),
        other => Err(format!("unknown command: {other}.  Try `help'.")),
    }
}

fn put(words: &[&str], max_tags: usize) -> Result<DataPoint, String> {
    let illegal = |message: String| format!("put: illegal argument: {message}");
    let invalid = |message: String| format!("put: invalid value: {message}");
    if words.len() < 4 {
        return Err(illegal(format!(
            "not enough arguments (need least 4, got {})",
            words.len()
        )));
    }
    let metric = words[0];
    if metric.is_empty() {
        return Err(illegal("empty metric name".into()));
    }
    // `1356998400.123` is milliseconds: the TSD drops the dot.
    let timestamp = parse_long(&words[1].replace('.', "")).map_err(|e| invalid(e.0))?;
    if timestamp <= 0 {
        return Err(illegal(format!("invalid timestamp: {timestamp}")));
    }
    let value = words[2];
    if value.is_empty() {
        return Err(illegal("empty value".into()));
    }
    let mut tags: Vec<(String, String)> = Vec::new();
    for word in words[3..].iter().filter(|w| !w.is_empty()) {
        let (key, tag_value) = match word.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() && !v.contains('=') => (k, v),
            _ => return Err(illegal(format!("invalid tag: {word}"))),
        };
        match tags.iter().find(|(k, _)| k == key) {
            Some((_, existing)) if existing == tag_value => {}
            Some(_) => return Err(illegal(format!("duplicate tag: {word}"))),
            None => tags.push((key.to_string(), tag_value.to_string())),
        }
    }
    let value = parse_value(value).map_err(|e| invalid(e.0))?;
    check_point(metric, timestamp, value, tags, max_tags).map_err(illegal)
}

/// What every telnet connection shares.
pub(crate) struct TelnetIntake {
    pub(crate) next: Next<Metrics>,
    pub(crate) metrics: ReceiverMetrics,
    pub(crate) max_tags: usize,
}

impl TelnetIntake {
    /// Serves one connection until it closes, says `exit`, sends a line longer than
    /// [`MAX_LINE`], or shutdown. The points of each read's complete lines go to the
    /// pipeline together, and the next read waits for its answer, so a slow pipeline
    /// slows the sender (TCP backpressure) instead of filling memory.
    pub(crate) async fn serve(
        self: Arc<Self>,
        mut stream: TcpStream,
        peer: SocketAddr,
        stop: CancellationToken,
    ) {
        let (mut buffer, mut filled) = (vec![0; MAX_LINE], 0);
        loop {
            let read = tokio::select! {
                read = stream.read(&mut buffer[filled..]) => read,
                () = stop.cancelled() => return,
            };
            let read = match read {
                Ok(0) | Err(_) => {
                    // A last line without its newline still counts.
                    let rest = String::from_utf8_lossy(&buffer[..filled]).into_owned();
                    self.take(&mut stream, &rest).await;
                    return;
                }
                Ok(read) => read,
            };
            filled += read;
            let Some(end) = buffer[..filled].iter().rposition(|b| *b == b'\n') else {
                if filled == MAX_LINE {
                    tracing::debug!(%peer, "closing a telnet connection whose line exceeds {MAX_LINE} bytes");
                    self.metrics.record_failed(1);
                    let reply =
                        format!("put: illegal argument: line longer than {MAX_LINE} bytes\n");
                    let _ = stream.write_all(reply.as_bytes()).await;
                    return;
                }
                continue;
            };
            let text = String::from_utf8_lossy(&buffer[..end]).into_owned();
            buffer.copy_within(end + 1..filled, 0);
            filled -= end + 1;
            if !self.take(&mut stream, &text).await {
                return;
            }
        }
    }

    /// Answers and delivers the lines of `text`; whether the connection stays open.
    async fn take(&self, stream: &mut TcpStream, text: &str) -> bool {
        let mut points = Vec::new();
        let mut replies = String::new();
        let mut open = true;
        for line in text.split('\n') {
            match parse_telnet_line(line, self.max_tags) {
                Ok(TelnetCommand::Put(point)) => points.push(point),
                Ok(TelnetCommand::Blank) => {}
                Ok(TelnetCommand::Version) => replies.push_str(concat!(
                    "tributary opentsdb receiver ",
                    env!("CARGO_PKG_VERSION"),
                    "\n"
                )),
                Ok(TelnetCommand::Help) => {
                    replies.push_str("available commands: exit help put version\n")
                }
                Ok(TelnetCommand::Exit) => {
                    open = false;
                    break;
                }
                Err(reply) => {
                    self.metrics.record_failed(1);
                    replies.push_str(&reply);
                    replies.push('\n');
                }
            }
        }
        let outcome = receiverhelper::deliver(&self.next, &self.metrics, to_metrics(points)).await;
        if let Err(error) = outcome {
            // The TSD answers a storage failure the same way (`put: HBase error: ...`).
            replies.push_str(&format!("put: storage error: {}\n", error.message()));
        }
        if !replies.is_empty() && stream.write_all(replies.as_bytes()).await.is_err() {
            return false;
        }
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: &str) -> String {
        parse_telnet_line(line, 8).unwrap_err()
    }

    #[test]
    fn put_lines() {
        let TelnetCommand::Put(point) =
            parse_telnet_line("put sys.cpu 1356998400.123 7 host=a  cpu=0\r", 8).unwrap()
        else {
            panic!("not a put")
        };
        assert_eq!(point.time_unix_nano, 1_356_998_400_123_000_000);
        assert_eq!(point.tags.len(), 2);
        assert_eq!(parse_telnet_line("", 8), Ok(TelnetCommand::Blank));
        assert_eq!(parse_telnet_line("version", 8), Ok(TelnetCommand::Version));
        assert_eq!(parse_telnet_line("exit", 8), Ok(TelnetCommand::Exit));
        // The same tag twice with the same value is one tag.
        assert!(parse_telnet_line("put m 1 1 a=b a=b", 8).is_ok());
    }

    #[test]
    fn errors_are_worded_as_the_tsd_words_them() {
        assert_eq!(
            error("put m 1 1"),
            "put: illegal argument: not enough arguments (need least 4, got 3)"
        );
        assert_eq!(
            error("put  1 1 a=b"),
            "put: illegal argument: empty metric name"
        );
        assert_eq!(
            error("put m x 1 a=b"),
            "put: invalid value: Invalid character 'x' in x"
        );
        assert_eq!(
            error("put m -1 1 a=b"),
            "put: illegal argument: invalid timestamp: -1"
        );
        assert_eq!(error("put m 1  a=b"), "put: illegal argument: empty value");
        assert_eq!(
            error("put m 1 1 ab"),
            "put: illegal argument: invalid tag: ab"
        );
        assert_eq!(
            error("put m 1 1 a=b a=c"),
            "put: illegal argument: duplicate tag: a=c"
        );
        assert_eq!(
            error("put m 1 1.x a=b"),
            "put: invalid value: For input string: \"1.x\""
        );
        assert_eq!(error("get m"), "unknown command: get.  Try `help'.");
        assert!(error("put m 1 1 a=b c").starts_with("put: illegal argument: invalid tag"));
        assert!(error("put m m 1 a=b").starts_with("put: invalid value:"));
        assert!(error("put m 1 1 a=b!").starts_with("put: illegal argument: Invalid tag value"));
    }
}
