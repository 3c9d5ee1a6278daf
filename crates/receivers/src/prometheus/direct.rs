//! Scrapes of plain-`http` targets over one kept-alive HTTP/1.1 connection per target,
//! driven inside the target's own scrape task.
//!
//! reqwest (used for everything else: TLS, redirects, HTTP/2) runs each connection as a
//! task of its own behind a pool, a request and a response channel, so every scrape
//! wakes three tasks and crosses those layers twice (in a profile of the gateway scraping
//! 100k samples/s, reqwest's share of all samples fell from 23 % to 16 % with this path;
//! what is left is the remote-write exporter's). Here hyper's low-level client
//! (`hyper::client::conn::http1`) is polled in the same future as the request, and the
//! connection waits, unpolled, in the scrape loop between scrapes.
//!
//! What the pool did is done here: a connection the target closed while idle is found
//! (polled once before reuse) and replaced, and a request that fails on a reused
//! connection before any answer came is sent once more on a fresh one, as Go's
//! `net/http` does for an idempotent GET. A scrape cut short (its timeout, a body over
//! the limit) leaves its connection unusable, and the next scrape connects anew.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Waker};

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{Connection, SendRequest, handshake};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// What a target answered, read within the body limit.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    /// `Content-Type`, empty if absent.
    pub(crate) content_type: String,
    /// `Content-Encoding: gzip`.
    pub(crate) gzip: bool,
    /// The body as sent (still compressed); empty for a redirect.
    pub(crate) bytes: Vec<u8>,
}

/// Why a request failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The body was larger than the limit.
    TooLarge,
    /// Connecting, sending or reading failed; the message says how.
    Http(String),
}

/// A plain-`http` target's connection, or how to make one.
pub(crate) struct DirectTarget {
    /// Where to connect: the URL's host (without brackets) and port.
    host: String,
    port: u16,
    /// The request's `Host` header and target (path and query).
    authority: HeaderValue,
    path: Uri,
    live: Option<Live>,
    /// Connections made so far (for tests).
    connects: usize,
}

/// An open connection.
struct Live {
    sender: SendRequest<Empty<Bytes>>,
    connection: Connection<TokioIo<TcpStream>, Empty<Bytes>>,
    /// A request was sent and its answer not read to the end: the connection is not
    /// reused (set before sending, cleared after the body's end, so a scrape dropped at
    /// its timeout leaves it set).
    busy: bool,
}

/// How a request on one connection ended.
enum Exchange {
    /// Answered; whether the connection can carry the next request.
    Answered(Answer, bool),
    /// Failed before the answer's head came (nothing was read): a GET can be sent again.
    Unanswered(hyper::Error),
    Failed(Failure),
}

impl DirectTarget {
    /// For `url`, if it is plain `http` with no credentials in it (those, and every
    /// other scheme, stay with reqwest).
    pub(crate) fn for_url(url: &reqwest::Url) -> Option<DirectTarget> {
        if url.scheme() != "http" || !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        let host = url.host_str()?;
        let port = url.port_or_known_default()?;
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        // An IPv6 literal is bracketed in a URL, not in an address.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        Some(DirectTarget {
            host,
            port,
            authority: HeaderValue::from_str(&authority).ok()?,
            path: path.parse().ok()?,
            live: None,
            connects: 0,
        })
    }

    /// Connections made so far (for tests).
    #[cfg(test)]
    pub(crate) fn connects(&self) -> usize {
        self.connects
    }

    /// GETs the target's URL with `headers` (plus `Host`), reading at most `limit` body
    /// bytes. A redirect is answered with its status and no body; following it is the
    /// caller's choice.
    pub(crate) async fn get(
        &mut self,
        headers: &HeaderMap,
        limit: usize,
    ) -> Result<Answer, Failure> {
        let mut retried = false;
        loop {
            let reused = self.usable();
            if !reused {
                self.live = Some(self.connect().await?);
            }
            let Some(live) = self.live.as_mut() else {
                unreachable!("connected above");
            };
            let mut request = Request::new(Empty::new());
            *request.method_mut() = Method::GET;
            *request.uri_mut() = self.path.clone();
            *request.headers_mut() = headers.clone();
            request.headers_mut().insert(HOST, self.authority.clone());
            match live.exchange(request, limit).await {
                Exchange::Answered(answer, keep) => {
                    if !keep {
                        self.live = None;
                    }
                    return Ok(answer);
                }
                Exchange::Unanswered(_) if reused && !retried => {
                    // The target closed the idle connection as the request went out.
                    self.live = None;
                    retried = true;
                }
                Exchange::Unanswered(e) => {
                    self.live = None;
                    return Err(Failure::Http(e.to_string()));
                }
                Exchange::Failed(failure) => {
                    self.live = None;
                    return Err(failure);
                }
            }
        }
    }

    /// Whether the kept connection can take a request: not left mid-answer, and not
    /// closed by the target while idle (seen by polling it once).
    fn usable(&mut self) -> bool {
        let Some(live) = self.live.as_mut() else {
            return false;
        };
        let mut cx = Context::from_waker(Waker::noop());
        let usable = !live.busy
            && Pin::new(&mut live.connection).poll(&mut cx).is_pending()
            && live.sender.is_ready();
        if !usable {
            self.live = None;
        }
        usable
    }

    async fn connect(&mut self) -> Result<Live, Failure> {
        let address = format!("{}:{}", self.host, self.port);
        let failed =
            |e: &dyn std::fmt::Display| Failure::Http(format!("connecting to {address}: {e}"));
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| failed(&e))?;
        // Requests are one write each; do not hold them back for an ACK.
        stream.set_nodelay(true).map_err(|e| failed(&e))?;
        let (sender, connection) = handshake(TokioIo::new(stream))
            .await
            .map_err(|e| failed(&e))?;
        self.connects += 1;
        Ok(Live {
            sender,
            connection,
            busy: false,
        })
    }
}

impl Live {
    /// Sends `request` and reads its answer, polling the connection alongside.
    async fn exchange(&mut self, request: Request<Empty<Bytes>>, limit: usize) -> Exchange {
        self.busy = true;
        let Live {
            sender, connection, ..
        } = self;
        let mut ended = false;
        let work = async {
            let response = match sender.send_request(request).await {
                Ok(response) => response,
                // Closed, reset or cut before the answer's head: nothing was read.
                Err(e) => return Exchange::Unanswered(e),
            };
            let (parts, mut body) = response.into_parts();
            let header = |name| {
                parts
                    .headers
                    .get(name)
                    .and_then(|v: &HeaderValue| v.to_str().ok())
                    .unwrap_or("")
            };
            let mut answer = Answer {
                status: parts.status,
                content_type: header(CONTENT_TYPE).to_owned(),
                gzip: header(CONTENT_ENCODING).eq_ignore_ascii_case("gzip"),
                bytes: Vec::new(),
            };
            if parts.status.is_redirection() {
                // The body is not read: the connection is not reused.
                return Exchange::Answered(answer, false);
            }
            let expected = header(CONTENT_LENGTH).parse::<usize>().unwrap_or(0);
            if expected > limit {
                return Exchange::Failed(Failure::TooLarge);
            }
            answer.bytes.reserve(expected);
            while let Some(frame) = body.frame().await {
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(e) => return Exchange::Failed(Failure::Http(e.to_string())),
                };
                if let Ok(data) = frame.into_data() {
                    if answer.bytes.len() + data.len() > limit {
                        return Exchange::Failed(Failure::TooLarge);
                    }
                    answer.bytes.extend_from_slice(&data);
                }
            }
            Exchange::Answered(answer, true)
        };
        let outcome = drive(connection, &mut ended, work).await;
        match outcome {
            Exchange::Answered(answer, keep) => {
                self.busy = false;
                Exchange::Answered(answer, keep && !ended)
            }
            other => other,
        }
    }
}

/// Polls `connection` (until it ends, noted in `ended`) alongside `work`, until `work`
/// is done: the connection does the reading and writing `work` waits on.
async fn drive<F: Future>(
    connection: &mut Connection<TokioIo<TcpStream>, Empty<Bytes>>,
    ended: &mut bool,
    work: F,
) -> F::Output {
    let mut work = pin!(work);
    std::future::poll_fn(|cx| {
        // Its outcome reaches `work` too: an error fails the pending request or body.
        if !*ended && Pin::new(&mut *connection).poll(cx).is_ready() {
            *ended = true;
        }
        work.as_mut().poll(cx)
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// What the scripted target does with a request.
    enum Reply {
        /// Answers and keeps the connection open.
        Answer(String),
        /// Answers, then closes the connection.
        AnswerThenClose(String),
        /// Closes the connection without answering.
        Close,
        /// Answers after a while.
        Late(Duration, String),
    }

    fn ok(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    /// The requests a target saw, each with the number of its connection.
    type Seen = Arc<Mutex<Vec<(usize, String)>>>;

    /// A target that answers the `n`th request of its `c`th connection (both from 0) as
    /// `reply(c, n)` says.
    async fn serve(
        reply: impl Fn(usize, usize) -> Reply + Send + Sync + 'static,
    ) -> (SocketAddr, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let seen: Seen = Arc::default();
        let reply = Arc::new(reply);
        let requests = Arc::clone(&seen);
        tokio::spawn(async move {
            let mut connection = 0;
            while let Ok((mut stream, _)) = listener.accept().await {
                let (reply, requests) = (Arc::clone(&reply), Arc::clone(&requests));
                let c = connection;
                connection += 1;
                tokio::spawn(async move {
                    for n in 0.. {
                        let mut head = Vec::new();
                        let mut byte = [0u8; 1];
                        while !head.ends_with(b"\r\n\r\n") {
                            match stream.read(&mut byte).await {
                                Ok(1) => head.push(byte[0]),
                                _ => return,
                            }
                        }
                        requests
                            .lock()
                            .unwrap()
                            .push((c, String::from_utf8_lossy(&head).into_owned()));
                        match reply(c, n) {
                            Reply::Answer(text) => {
                                stream.write_all(text.as_bytes()).await.unwrap();
                            }
                            Reply::AnswerThenClose(text) => {
                                stream.write_all(text.as_bytes()).await.unwrap();
                                return;
                            }
                            Reply::Close => return,
                            Reply::Late(delay, text) => {
                                tokio::time::sleep(delay).await;
                                let _ = stream.write_all(text.as_bytes()).await;
                            }
                        }
                    }
                });
            }
        });
        (address, seen)
    }

    fn direct(address: SocketAddr, path: &str) -> DirectTarget {
        let url = reqwest::Url::parse(&format!("http://{address}{path}")).unwrap();
        DirectTarget::for_url(&url).unwrap()
    }

    fn body(answer: &Answer) -> &str {
        std::str::from_utf8(&answer.bytes).unwrap()
    }

    const LIMIT: usize = 1 << 20;

    #[tokio::test]
    async fn one_connection_carries_every_request() {
        let (address, seen) = serve(|_, n| Reply::Answer(ok(&format!("answer {n}")))).await;
        let mut target = direct(address, "/metrics?module=a%20b");
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("text/plain"));
        for n in 0..3 {
            let answer = target.get(&headers, LIMIT).await.unwrap();
            assert_eq!(answer.status, StatusCode::OK);
            assert_eq!(answer.content_type, "text/plain");
            assert_eq!(body(&answer), format!("answer {n}"));
        }
        assert_eq!(target.connects(), 1);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        let request = seen[0].1.to_ascii_lowercase();
        assert!(
            request.starts_with("get /metrics?module=a%20b http/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains(&format!("host: {address}\r\n")),
            "{request}"
        );
        assert!(request.contains("accept: text/plain\r\n"), "{request}");
    }

    #[tokio::test]
    async fn a_connection_closed_by_the_target_is_replaced() {
        // The target closes after each answer, the way a server with a short idle
        // timeout does between scrapes. Whether the close is seen before the next
        // request (the idle check) or as the request fails (sent again), the request
        // goes on a new connection and is answered.
        let (address, _) = serve(|c, _| Reply::AnswerThenClose(ok(&format!("from {c}")))).await;
        let mut target = direct(address, "/metrics");
        for c in 0..3 {
            let answer = target.get(&HeaderMap::new(), LIMIT).await.unwrap();
            assert_eq!(body(&answer), format!("from {c}"));
        }
        assert_eq!(target.connects(), 3);
    }

    #[tokio::test]
    async fn a_request_lost_on_a_reused_connection_is_sent_again_once() {
        // The first connection answers once, then closes on the next request without an
        // answer (the race of an idle timeout); later connections answer.
        let (address, seen) = serve(|c, n| {
            if c == 0 && n == 1 {
                Reply::Close
            } else {
                Reply::Answer(ok(&format!("{c}/{n}")))
            }
        })
        .await;
        let mut target = direct(address, "/metrics");
        assert_eq!(
            body(&target.get(&HeaderMap::new(), LIMIT).await.unwrap()),
            "0/0"
        );
        assert_eq!(
            body(&target.get(&HeaderMap::new(), LIMIT).await.unwrap()),
            "1/0"
        );
        assert_eq!(target.connects(), 2);
        assert_eq!(seen.lock().unwrap().len(), 3);

        // On a fresh connection the same loss is an error, not a loop.
        let (address, _) = serve(|_, _| Reply::Close).await;
        let mut target = direct(address, "/metrics");
        let error = target.get(&HeaderMap::new(), LIMIT).await.unwrap_err();
        assert!(matches!(error, Failure::Http(_)), "{error:?}");
        assert_eq!(target.connects(), 1);
    }

    #[tokio::test]
    async fn a_body_over_the_limit_fails_and_drops_its_connection() {
        let (address, _) = serve(|_, _| Reply::Answer(ok(&"x".repeat(100)))).await;
        let mut target = direct(address, "/metrics");
        assert_eq!(
            target.get(&HeaderMap::new(), 99).await.unwrap_err(),
            Failure::TooLarge
        );
        assert_eq!(
            target
                .get(&HeaderMap::new(), 100)
                .await
                .unwrap()
                .bytes
                .len(),
            100
        );
        assert_eq!(target.connects(), 2);

        // Without a Content-Length the limit holds while reading.
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                       5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let (address, _) = serve(move |_, _| Reply::Answer(chunked.to_owned())).await;
        let mut target = direct(address, "/metrics");
        assert_eq!(
            target.get(&HeaderMap::new(), 10).await.unwrap_err(),
            Failure::TooLarge
        );
        let answer = target.get(&HeaderMap::new(), 11).await.unwrap();
        assert_eq!(body(&answer), "hello world");
        assert_eq!(
            body(&target.get(&HeaderMap::new(), 11).await.unwrap()),
            "hello world"
        );
        assert_eq!(target.connects(), 2);
    }

    #[tokio::test]
    async fn a_request_cut_short_leaves_its_connection_unused() {
        let (address, _) = serve(|c, _| {
            if c == 0 {
                Reply::Late(Duration::from_secs(5), ok("late"))
            } else {
                Reply::Answer(ok("on time"))
            }
        })
        .await;
        let mut target = direct(address, "/metrics");
        let cut = tokio::time::timeout(
            Duration::from_millis(50),
            target.get(&HeaderMap::new(), LIMIT),
        )
        .await;
        assert!(cut.is_err(), "the first answer is late");
        let answer = target.get(&HeaderMap::new(), LIMIT).await.unwrap();
        assert_eq!(body(&answer), "on time");
        assert_eq!(target.connects(), 2);
    }

    #[tokio::test]
    async fn redirects_and_errors_are_answered_as_they_came() {
        let (address, _) = serve(|c, _| match c {
            0 => Reply::Answer(
                "HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 5\r\n\r\nmoved"
                    .into(),
            ),
            _ => Reply::Answer(
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy".into(),
            ),
        })
        .await;
        let mut target = direct(address, "/metrics");
        let redirect = target.get(&HeaderMap::new(), LIMIT).await.unwrap();
        assert_eq!(redirect.status, StatusCode::FOUND);
        assert!(redirect.bytes.is_empty());
        let unavailable = target.get(&HeaderMap::new(), LIMIT).await.unwrap();
        assert_eq!(unavailable.status, StatusCode::SERVICE_UNAVAILABLE);
        // The redirect's body was not read: its connection was not reused.
        assert_eq!(target.connects(), 2);
    }

    #[tokio::test]
    async fn an_unreachable_target_is_an_error_naming_it() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let error = direct(address, "/metrics")
            .get(&HeaderMap::new(), LIMIT)
            .await
            .unwrap_err();
        let Failure::Http(message) = error else {
            panic!("{error:?}")
        };
        assert!(message.contains(&address.to_string()), "{message}");
    }

    #[test]
    fn only_plain_http_urls_without_credentials_are_direct() {
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(DirectTarget::for_url(&url("https://example.com/metrics")).is_none());
        assert!(DirectTarget::for_url(&url("http://u:p@example.com/metrics")).is_none());
        let target = DirectTarget::for_url(&url("http://[::1]:9100/metrics")).unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 9100));
        assert_eq!(target.authority, "[::1]:9100");
        let target = DirectTarget::for_url(&url("http://example.com/m?x=1")).unwrap();
        assert_eq!((target.host.as_str(), target.port), ("example.com", 80));
        assert_eq!(target.authority, "example.com");
        assert_eq!(target.path, "/m?x=1");
    }
}
