//! The server's limits, tried from outside with real sockets.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use super::*;

/// A server answering `ok` after `delay`, on a fresh port.
async fn server(options: ServerOptions, delay: Duration) -> RunningServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = hyper::service::service_fn(move |_request| async move {
        tokio::time::sleep(delay).await;
        Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
    });
    RunningServer::spawn(
        "test server",
        listener.into(),
        options,
        service,
        tracing::Span::none(),
        tokio::spawn,
    )
    .unwrap()
}

fn limits(max_connections: usize, idle: Duration) -> ConnectionLimits {
    ConnectionLimits {
        max_connections,
        idle_timeout: Some(idle),
        first_request_timeout: Some(idle),
        tls_handshake_timeout: Duration::from_secs(1),
    }
}

fn options(limits: ConnectionLimits) -> ServerOptions {
    ServerOptions {
        limits,
        ..ServerOptions::http()
    }
}

/// Reads until the peer closes the connection (or `within` passes: a failure).
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Vec<u8> {
    let mut received = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut received))
        .await
        .expect("the server should have closed the connection")
        .ok();
    received
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[tokio::test]
async fn a_connection_that_never_sends_a_byte_is_closed() {
    let server = server(
        options(limits(0, Duration::from_millis(300))),
        Duration::ZERO,
    )
    .await;
    let mut silent = TcpStream::connect(server.local_addr()).await.unwrap();
    let opened = Instant::now();
    let received = read_until_closed(&mut silent, Duration::from_secs(5)).await;
    assert!(received.is_empty());
    assert!(opened.elapsed() >= Duration::from_millis(250));
    server.stop().await;
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_once_idle_but_not_while_a_request_runs() {
    let idle = Duration::from_millis(300);
    // The handler takes three idle timeouts: the connection must survive it.
    let server = server(options(limits(0, idle)), idle * 3).await;
    let mut client = TcpStream::connect(server.local_addr()).await.unwrap();
    client.write_all(REQUEST).await.unwrap();
    let mut first = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut first))
        .await
        .unwrap()
        .unwrap();
    assert!(
        first[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&first[..n])
    );
    let answered = Instant::now();
    // Then idle: closed after the idle timeout.
    read_until_closed(&mut client, Duration::from_secs(5)).await;
    assert!(answered.elapsed() >= Duration::from_millis(250));
    server.stop().await;
}

#[tokio::test]
async fn connections_over_the_limit_are_refused_with_503_and_the_rest_still_served() {
    let server = server(options(limits(2, Duration::from_secs(30))), Duration::ZERO).await;
    let held: Vec<TcpStream> =
        futures_util::future::join_all((0..2).map(|_| TcpStream::connect(server.local_addr())))
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
    // Accepted in order: give the loop a moment to take both before the third arrives.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = TcpStream::connect(server.local_addr()).await.unwrap();
    let answer = read_until_closed(&mut third, Duration::from_secs(5)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 503"),
        "{:?}",
        String::from_utf8_lossy(&answer)
    );
    // A held connection is served normally, and a slot freed is a slot reused.
    let mut first = held.into_iter().next().unwrap();
    first.write_all(REQUEST).await.unwrap();
    let mut buffer = vec![0u8; 1024];
    let n = first.read(&mut buffer).await.unwrap();
    assert!(buffer[..n].starts_with(b"HTTP/1.1 200"));
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut next = TcpStream::connect(server.local_addr()).await.unwrap();
        next.write_all(REQUEST).await.unwrap();
        let n = next.read(&mut buffer).await.unwrap_or(0);
        if buffer[..n].starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the freed slot was never reused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.stop().await;
}

#[tokio::test]
async fn a_server_at_its_limit_leaves_another_server_answering() {
    let busy = server(options(limits(4, Duration::from_secs(30))), Duration::ZERO).await;
    let other = server(options(limits(4, Duration::from_secs(30))), Duration::ZERO).await;
    let mut flood = Vec::new();
    for _ in 0..200 {
        flood.push(TcpStream::connect(busy.local_addr()).await.unwrap());
    }
    let mut probe = TcpStream::connect(other.local_addr()).await.unwrap();
    probe.write_all(REQUEST).await.unwrap();
    let mut buffer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), probe.read(&mut buffer))
        .await
        .unwrap()
        .unwrap();
    assert!(buffer[..n].starts_with(b"HTTP/1.1 200"));
    drop(flood);
    busy.stop().await;
    other.stop().await;
}

/// Sends one GET with a header of `header_len` bytes on a fresh connection and returns
/// the status line.
async fn status_for_a_head_of(server: &RunningServer, header_len: usize) -> String {
    let mut client = TcpStream::connect(server.local_addr()).await.unwrap();
    let head = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(header_len)
    );
    client.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]).into_owned();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn request_heads_are_read_up_to_the_http1_buffer_limit_and_refused_with_431_past_it() {
    let server = server(ServerOptions::http(), Duration::ZERO).await;
    let under = HTTP1_READ_BUFFER_MAX - 1024;
    assert_eq!(
        status_for_a_head_of(&server, under).await,
        "HTTP/1.1 200 OK"
    );
    let over = HTTP1_READ_BUFFER_MAX + 1024;
    assert_eq!(
        status_for_a_head_of(&server, over).await,
        "HTTP/1.1 431 Request Header Fields Too Large"
    );
    server.stop().await;
}
