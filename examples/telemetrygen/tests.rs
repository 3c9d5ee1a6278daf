//! The generator against the sink, in one process: every signal over both transports, with
//! and without gzip, must arrive item for item.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::load::{self, LoadPlan, LoadReport, Progress};
use crate::payloads::Rng;
use crate::requests::{Compression, Format, Protocol, RequestPool, Signal, TraceShape};
use crate::sink::Sink;
use crate::transport::Target;

fn target(signal: Signal, protocol: Protocol, compression: Compression, at: SocketAddr) -> Target {
    Target {
        signal,
        format: Format::Otlp,
        protocol,
        compression,
        authority: at.to_string(),
        path: match protocol {
            Protocol::Grpc => signal.grpc_path().to_string(),
            Protocol::Http => signal.http_path().to_string(),
            Protocol::Udp => String::new(),
        },
        headers: Vec::new(),
        timeout: Duration::from_secs(5),
    }
}

async fn send(target: Target, batch: usize, plan: LoadPlan) -> LoadReport {
    let pool = RequestPool::build(
        target.signal,
        target.format,
        target.protocol,
        target.compression,
        TraceShape::default(),
        batch,
        8,
        &mut Rng::new(11),
    )
    .expect("pool");
    load::run(
        Arc::new(target),
        Arc::new(pool),
        &plan,
        Arc::new(Progress::default()),
        CancellationToken::new(),
    )
    .await
}

async fn sink() -> (Sink, CancellationToken) {
    let stop = CancellationToken::new();
    let sink = Sink::start(&["127.0.0.1:0".parse().unwrap()], stop.clone())
        .await
        .expect("sink binds");
    (sink, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_sent_is_counted() {
    let (sink, stop) = sink().await;
    let at = sink.addresses()[0];
    let mut expected = 0;
    for signal in [
        Signal::Traces,
        Signal::Metrics,
        Signal::Logs,
        Signal::Points,
    ] {
        for protocol in [Protocol::Grpc, Protocol::Http] {
            for compression in [Compression::None, Compression::Gzip] {
                let plan = LoadPlan {
                    workers: 2,
                    rate: 0.0,
                    duration: Some(Duration::from_millis(150)),
                    connections: None,
                    honor_retry: false,
                };
                let report = send(target(signal, protocol, compression, at), 37, plan).await;
                assert!(
                    report.ok_requests > 0 && report.failed_requests == 0,
                    "{signal:?} {protocol:?} {compression:?}: {:?}",
                    report.errors
                );
                assert_eq!(report.sent_items, report.ok_requests * 37);
                expected += report.sent_items;
                assert_eq!(
                    sink.counters.items(),
                    expected,
                    "{signal:?} {protocol:?} {compression:?}"
                );
            }
        }
    }
    assert_eq!(sink.counters.bad_requests(), 0);
    stop.cancel();
}

#[tokio::test]
async fn a_fixed_rate_is_kept() {
    let (sink, stop) = sink().await;
    let plan = LoadPlan {
        workers: 2,
        rate: 2_000.0,
        duration: Some(Duration::from_millis(500)),
        connections: None,
        honor_retry: false,
    };
    let at = sink.addresses()[0];
    let report = send(
        target(Signal::Traces, Protocol::Grpc, Compression::None, at),
        10,
        plan,
    )
    .await;
    // 2,000 items/s for 0.5 s, 10 per request: 100 requests, give or take the last tick.
    assert!(
        (90..=101).contains(&report.ok_requests),
        "{} requests",
        report.ok_requests
    );
    assert_eq!(sink.counters.items(), report.sent_items);
    stop.cancel();
}

#[tokio::test]
async fn a_missing_server_fails_every_request() {
    // Bind and drop a listener to find a port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let at = listener.local_addr().unwrap();
    drop(listener);
    let plan = LoadPlan {
        workers: 1,
        rate: 0.0,
        duration: Some(Duration::from_millis(250)),
        connections: None,
        honor_retry: false,
    };
    let report = send(
        target(Signal::Logs, Protocol::Http, Compression::None, at),
        5,
        plan,
    )
    .await;
    assert_eq!(report.ok_requests, 0);
    assert!(report.failed_requests > 0);
    assert!(
        report.errors[0].0.contains("cannot connect"),
        "{:?}",
        report.errors
    );
    assert_eq!(
        report.failures_by_outcome.get("connect"),
        Some(&report.failed_requests)
    );
    assert!(report.offered_items_per_second() > 0.0);
}

#[tokio::test]
async fn the_sink_refuses_what_it_cannot_read() {
    let (sink, stop) = sink().await;
    let at = sink.addresses()[0];
    let mut bad = target(Signal::Traces, Protocol::Http, Compression::None, at);
    bad.headers.push((
        http::header::CONTENT_ENCODING,
        http::HeaderValue::from_static("br"),
    ));
    let plan = LoadPlan {
        workers: 1,
        rate: 0.0,
        duration: Some(Duration::from_millis(50)),
        connections: None,
        honor_retry: false,
    };
    let report = send(bad, 5, plan).await;
    assert_eq!(report.ok_requests, 0);
    assert!(report.errors[0].0.contains("415"), "{:?}", report.errors);
    assert_eq!(
        report.failures_by_outcome.get("415"),
        Some(&report.failed_requests)
    );
    assert_eq!(sink.counters.items(), 0);
    assert!(sink.counters.bad_requests() > 0);
    stop.cancel();
}

#[test]
fn points_are_one_line_each_in_line_protocol_and_statsd() {
    let points = crate::points::points(&mut Rng::new(3), 25);
    let lines = String::from_utf8(crate::points::line_protocol(&points)).unwrap();
    assert_eq!(lines.lines().count(), 25);
    assert!(lines.lines().all(|l| l.split(' ').count() == 3), "{lines}");
    let statsd = String::from_utf8(crate::points::statsd(&points)).unwrap();
    assert_eq!(statsd.lines().count(), 25);
    assert!(
        statsd
            .lines()
            .all(|l| l.contains("|c|#host:") || l.contains("|g|#host:")),
        "{statsd}"
    );
}

#[tokio::test]
async fn datagrams_are_sent_one_per_request() {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut target = target(
        Signal::Points,
        Protocol::Udp,
        Compression::None,
        socket.local_addr().unwrap(),
    );
    target.format = Format::Statsd;
    let plan = LoadPlan {
        workers: 1,
        rate: 0.0,
        duration: Some(Duration::from_millis(50)),
        connections: None,
        honor_retry: false,
    };
    let report = send(target, 10, plan).await;
    assert!(report.ok_requests > 0 && report.failed_requests == 0);
    let mut buffer = [0u8; 4096];
    let len = socket.recv(&mut buffer).await.unwrap();
    assert_eq!(buffer[..len].iter().filter(|&&b| b == b'\n').count(), 10);
}

#[tokio::test]
async fn remote_write_samples_are_counted() {
    let (sink, stop) = sink().await;
    let at = sink.addresses()[0];
    let mut target = target(Signal::Points, Protocol::Http, Compression::None, at);
    target.format = Format::Prw;
    target.path = crate::sink::REMOTE_WRITE_PATH.to_string();
    let plan = LoadPlan {
        workers: 2,
        rate: 0.0,
        duration: Some(Duration::from_millis(150)),
        connections: None,
        honor_retry: false,
    };
    let report = send(target, 53, plan).await;
    assert!(
        report.ok_requests > 0 && report.failed_requests == 0,
        "{:?}",
        report.errors
    );
    assert_eq!(report.sent_items, report.ok_requests * 53);
    assert_eq!(sink.counters.items(), report.sent_items);
    assert_eq!(sink.counters.bad_requests(), 0);
    stop.cancel();
}

#[test]
fn remote_write_points_are_one_series_each_in_time_order() {
    let points = crate::points::points(&mut Rng::new(5), 40);
    let request = crate::points::remote_write(&points);
    assert_eq!(request.timeseries.len(), 40);
    for series in &request.timeseries {
        let names: Vec<&str> = series.labels.iter().map(|l| l.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "labels sorted by name");
        assert_eq!(series.samples.len(), 1);
        // Counters carry whole increments; gauges any value.
        if series.name().ends_with("_total") {
            assert_eq!(series.samples[0].value.fract(), 0.0);
        }
    }
    let stamps: Vec<i64> = request
        .timeseries
        .iter()
        .map(|s| s.samples[0].timestamp)
        .collect();
    assert!(stamps.windows(2).all(|w| w[0] < w[1]));
    let body = tributary_translator_prometheus::prompb::encode_request(&request);
    assert_eq!(
        crate::sink::count_samples(&body),
        Ok(crate::sink::Samples {
            samples: 40,
            stale: 0
        })
    );
    // A staleness marker is a sample, counted apart too.
    let mut marked = request;
    marked.timeseries[3].samples[0].value = tributary_translator_prometheus::prompb::stale_nan();
    let body = tributary_translator_prometheus::prompb::encode_request(&marked);
    assert_eq!(
        crate::sink::count_samples(&body),
        Ok(crate::sink::Samples {
            samples: 40,
            stale: 1
        })
    );
}

#[tokio::test]
async fn the_sink_refuses_a_malformed_remote_write_body() {
    let (sink, stop) = sink().await;
    let at = sink.addresses()[0];
    let mut target = target(Signal::Points, Protocol::Http, Compression::None, at);
    target.format = Format::Prw;
    target.path = crate::sink::REMOTE_WRITE_PATH.to_string();
    let mut connection = crate::transport::Connection::open(&target)
        .await
        .expect("connects");
    // Not snappy: the sink answers 400 and counts nothing.
    let error = connection
        .send(
            &target,
            bytes::Bytes::from_static(b"\xff\xff\xff\xff\xffnot snappy"),
        )
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("400"), "{error}");
    assert_eq!(sink.counters.items(), 0);
    assert_eq!(sink.counters.bad_requests(), 1);
    stop.cancel();
}

#[test]
fn failures_are_named_by_their_status() {
    use crate::transport::SendError;
    let grpc = |code: &str| SendError::Grpc(code.to_string(), String::new(), None).outcome();
    assert_eq!(grpc("8"), "RESOURCE_EXHAUSTED");
    assert_eq!(grpc("14"), "UNAVAILABLE");
    assert_eq!(grpc("99"), "99");
    let http = SendError::Status(http::StatusCode::TOO_MANY_REQUESTS, String::new(), None);
    assert_eq!(http.outcome(), "429");
    assert_eq!(
        SendError::Timeout(Duration::from_secs(1)).outcome(),
        "timeout"
    );
}

#[tokio::test]
async fn workers_can_share_a_few_http2_connections() {
    let (sink, stop) = sink().await;
    let at = sink.addresses()[0];
    let plan = LoadPlan {
        workers: 16,
        rate: 0.0,
        duration: Some(Duration::from_millis(300)),
        connections: Some(2),
        honor_retry: false,
    };
    let report = send(
        target(Signal::Traces, Protocol::Grpc, Compression::None, at),
        10,
        plan,
    )
    .await;
    assert_eq!(report.failed_requests, 0, "{:?}", report.errors);
    assert!(report.ok_requests > 16);
    assert_eq!(sink.counters.items(), report.sent_items);
    stop.cancel();
}

#[test]
fn the_delay_of_a_retry_info_is_read() {
    use base64::Engine as _;
    // google.rpc.Status { details: [Any { RetryInfo { retry_delay: 1.5 s } }] }, by hand.
    let delay = [(1u32, 1u64), (2, 500_000_000)];
    let mut duration = Vec::new();
    for (tag, value) in delay {
        prost::encoding::uint64::encode(tag, &value, &mut duration);
    }
    let mut retry_info = Vec::new();
    prost::encoding::bytes::encode(1, &duration, &mut retry_info);
    let mut any = Vec::new();
    prost::encoding::string::encode(
        1,
        &"type.googleapis.com/google.rpc.RetryInfo".to_string(),
        &mut any,
    );
    prost::encoding::bytes::encode(2, &retry_info, &mut any);
    let mut status = Vec::new();
    prost::encoding::bytes::encode(3, &any, &mut status);
    let header = base64::engine::general_purpose::STANDARD.encode(&status);
    assert_eq!(
        crate::transport::retry_delay(header.as_bytes()),
        Some(Duration::from_millis(1500))
    );
    assert_eq!(crate::transport::retry_delay(b"not base64!"), None);
}

/// A server refusing every request with 429 and `Retry-After: 1`, closing each connection.
async fn throttling_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buffer = vec![0; 64 << 10];
                let _ = stream.read(&mut buffer).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n\
                          Content-Length: 0\r\nConnection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    at
}

#[tokio::test]
async fn a_worker_honouring_retry_waits_the_delay_it_was_given() {
    let at = throttling_server().await;
    let run = |honor_retry| {
        send(
            target(Signal::Logs, Protocol::Http, Compression::None, at),
            5,
            LoadPlan {
                workers: 1,
                rate: 0.0,
                duration: Some(Duration::from_millis(500)),
                connections: None,
                honor_retry,
            },
        )
    };
    let patient = run(true).await;
    assert_eq!(patient.ok_requests, 0);
    // Refused once, then asked to wait a second: past the run's end.
    assert_eq!(patient.failed_requests, 1, "{:?}", patient.errors);
    assert_eq!(patient.failures_by_outcome.get("429"), Some(&1));
    let impatient = run(false).await;
    assert!(impatient.failed_requests > 1, "{:?}", impatient.errors);
}

/// Trace IDs of a gRPC-framed traces body, in span order.
fn trace_ids(body: &[u8]) -> Vec<Vec<u8>> {
    use crate::proto::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;
    let request = ExportTraceServiceRequest::decode(&body[5..]).expect("a traces request");
    request
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .map(|span| span.trace_id.clone())
        .collect()
}

/// A gRPC traces pool of `size` bodies of `spans` spans.
fn traces_pool(
    shape: TraceShape,
    compression: Compression,
    spans: usize,
    size: usize,
    seed: u64,
) -> std::io::Result<RequestPool> {
    RequestPool::build(
        Signal::Traces,
        Format::Otlp,
        Protocol::Grpc,
        compression,
        shape,
        spans,
        size,
        &mut Rng::new(seed),
    )
}

#[test]
fn fresh_trace_ids_are_new_in_every_body_and_shared_within_a_trace() {
    let shape = TraceShape {
        fresh_trace_ids: true,
        ..TraceShape::default()
    };
    let pool = traces_pool(shape, Compression::None, 100, 2, 3).expect("pool");
    let plain = traces_pool(TraceShape::default(), Compression::None, 100, 2, 3).expect("pool");
    let original = trace_ids(&plain.body(0));
    let mut seen = std::collections::HashSet::new();
    // The same pool entry sent three times, and the other one once.
    for index in [0, 1, 0, 0] {
        let ids = trace_ids(&pool.body(index));
        assert_eq!(ids.len(), 100);
        let distinct: std::collections::HashSet<_> = ids.iter().cloned().collect();
        if index == 0 {
            // As many traces as in the original body, the spans of each still together.
            let original_distinct: std::collections::HashSet<_> = original.iter().collect();
            assert_eq!(distinct.len(), original_distinct.len());
            for (a, b) in ids
                .iter()
                .zip(&ids[1..])
                .zip(original.iter().zip(&original[1..]))
            {
                assert_eq!(a.0 == a.1, b.0 == b.1, "span grouping is kept");
            }
        }
        for id in distinct {
            assert!(seen.insert(id), "a trace ID was handed out twice");
        }
    }
}

#[test]
fn one_span_traces_when_asked() {
    let shape = TraceShape {
        max_spans_per_trace: 1,
        fresh_trace_ids: false,
    };
    let pool = traces_pool(shape, Compression::None, 50, 1, 9).expect("pool");
    let ids = trace_ids(&pool.body(0));
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (50, 50));
}

#[test]
fn fresh_trace_ids_refuse_compressed_bodies() {
    let shape = TraceShape {
        fresh_trace_ids: true,
        ..TraceShape::default()
    };
    let result = traces_pool(shape, Compression::Gzip, 10, 1, 1);
    assert!(result.is_err());
}
