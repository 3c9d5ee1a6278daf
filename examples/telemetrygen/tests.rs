//! The generator against the sink, in one process: every signal over both transports, with
//! and without gzip, must arrive item for item.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::load::{self, LoadPlan, LoadReport, Progress};
use crate::payloads::Rng;
use crate::requests::{Compression, Format, Protocol, RequestPool, Signal};
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
    };
    let report = send(bad, 5, plan).await;
    assert_eq!(report.ok_requests, 0);
    assert!(report.errors[0].0.contains("415"), "{:?}", report.errors);
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
