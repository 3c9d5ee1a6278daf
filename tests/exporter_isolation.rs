//! Exporter isolation in a real gateway: a pipeline fans out to an `otlp` exporter whose
//! backend accepts connections and never answers (a small memory queue) and to a live
//! `otlp` exporter. Under a steady stream of data the live backend receives everything,
//! clients get success or — once the dead exporter's queue is full — a retryable error
//! that names the dead exporter, and the gateway's memory stays bounded instead of growing
//! with the data sent.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use prost::Message;

const PRODUCERS: u64 = 2;
/// Requests each producer sends.
const REQUESTS: u64 = 1300;
const SPANS_PER_REQUEST: u64 = 20;
/// Attribute bytes per span: requests of about 100 KiB, 250 MiB in all — more than the
/// bound below, so memory that grew with the data sent could not stay under it.
const PADDING: usize = 5000;
/// Resident memory the gateway must stay under, whatever it was sent.
const RSS_BOUND_KIB: u64 = 200 * 1024;

/// What the clients were told.
#[derive(Default)]
struct Answers {
    accepted: u64,
    /// Refusals that named the dead exporter (retryable: UNAVAILABLE).
    refused_naming_dead: u64,
    /// Anything else: a wrong status or message.
    unexpected: Vec<String>,
}

#[test]
fn a_dead_exporter_neither_blocks_nor_starves_its_live_sibling() {
    let dead = black_hole();
    let live = OtlpBackend::start(BackendMode::Healthy, 5);
    let dir = temp_dir();
    let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "{grpc}" }}
exporters:
  otlp/dead:
    endpoint: "http://{dead}"
    timeout: 5s
    # Never gives up, so what it holds at the end is exactly its full queue.
    retry_on_failure: {{ max_elapsed_time: 0s }}
    sending_queue: {{ queue_size: 10, num_consumers: 2 }}
  # The live exporter's own queue is memory the gateway may use (60 KiB requests: 1000
  # of them, the default, is 60 MiB); kept small so the plateau shows in a short run.
  # A full live queue makes clients wait instead of refusing them.
  otlp/live:
    endpoint: "{live}"
    sending_queue: {{ queue_size: 100, block_on_overflow: true }}
service:
  telemetry:
    metrics: {{ address: "{metrics}" }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlp/dead, otlp/live] }}
"#,
            live = live.endpoint()
        ),
    )
    .unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    wait_serving(&mut gateway, grpc, Duration::from_secs(60));
    let pid = gateway.pid();

    let done = Arc::new(AtomicU64::new(0));
    let answers = Arc::new(Mutex::new(Answers::default()));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let (done, answers) = (Arc::clone(&done), Arc::clone(&answers));
            std::thread::spawn(move || {
                let mut client = OtlpClient::new(grpc);
                for r in 0..REQUESTS {
                    let first = (p * REQUESTS + r) * SPANS_PER_REQUEST;
                    let result =
                        client.export(spans_request(first..first + SPANS_PER_REQUEST, PADDING));
                    let mut answers = answers.lock().unwrap();
                    match result {
                        Ok(()) => answers.accepted += 1,
                        Err(status)
                            if status.code() == tonic::Code::Unavailable
                                && status.message().contains("otlp/dead")
                                && !status.message().contains("otlp/live") =>
                        {
                            answers.refused_naming_dead += 1
                        }
                        Err(status) => answers.unexpected.push(format!("{status:?}")),
                    }
                    drop(answers);
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Resident memory, sampled with the number of requests answered so far.
    let total = PRODUCERS * REQUESTS;
    let mut samples: Vec<(u64, u64)> = Vec::new();
    while done.load(Ordering::SeqCst) < total {
        assert!(
            gateway.is_running(),
            "the gateway died:\n{}",
            gateway.output()
        );
        if let Some(rss) = rss_kib(pid) {
            samples.push((done.load(Ordering::SeqCst), rss));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for producer in producers {
        producer.join().unwrap();
    }

    let expected = (total * SPANS_PER_REQUEST) as usize;
    eventually(
        "every span at the live backend",
        Duration::from_secs(60),
        || (live.with_received(|r| r.len()) >= expected).then_some(()),
    );
    let answers = answers.lock().unwrap();
    let received = live.received();
    let page = get(metrics, "/metrics").text();
    let dead_refused = metric(
        &page,
        "otelcol_exporter_enqueue_failed_spans",
        &[("exporter", "otlp/dead")],
    );
    let dead_queue = metric(
        &page,
        "otelcol_exporter_queue_size",
        &[("exporter", "otlp/dead")],
    );
    let request_kib = spans_request(0..SPANS_PER_REQUEST, PADDING).encoded_len() as u64 / 1024;
    let sent_kib = total * request_kib;
    let peak = samples.iter().map(|&(_, rss)| rss).max().unwrap_or(0);
    let first_half_peak = samples
        .iter()
        .filter(|&&(n, _)| n <= total / 2)
        .map(|&(_, rss)| rss)
        .max()
        .unwrap_or(0);
    println!(
        "{} accepted, {} refused naming otlp/dead, {} spans at the live backend; \
         otlp/dead refused {dead_refused} spans, holds {dead_queue} requests; \
         {} MiB sent; gateway RSS: peak {} MiB, {} MiB in the first half; {} samples: {:?}",
        answers.accepted,
        answers.refused_naming_dead,
        received.len(),
        sent_kib / 1024,
        peak / 1024,
        first_half_peak / 1024,
        samples.len(),
        samples
            .iter()
            .step_by(samples.len().div_ceil(8).max(1))
            .map(|(n, rss)| format!("{n} requests: {} MiB", rss / 1024))
            .collect::<Vec<_>>()
    );

    assert!(
        answers.unexpected.is_empty(),
        "clients got other answers than success or a refusal naming otlp/dead: {:?}",
        &answers.unexpected[..answers.unexpected.len().min(5)]
    );
    assert!(
        answers.refused_naming_dead > 0,
        "the dead exporter's queue (10 requests) never filled"
    );
    assert_eq!(received.len(), expected, "the live backend got every span");
    assert!(
        received.values().all(|&n| n == 1),
        "the live backend got each span once (clients did not send again)"
    );
    assert!(dead_refused > 0.0 && dead_queue <= 10.0);
    // Memory that held on to what the dead exporter could not take would grow with the
    // data, and more data than the bound is sent.
    assert!(
        sent_kib > RSS_BOUND_KIB,
        "the test sends more than the bound"
    );
    assert!(
        peak < RSS_BOUND_KIB,
        "the gateway grew to {} MiB (bound {} MiB) after {} MiB were sent",
        peak / 1024,
        RSS_BOUND_KIB / 1024,
        sent_kib / 1024
    );
    // And it plateaus: the second half of the data (125 MiB) adds little.
    let second_half_kib = sent_kib - sent_kib / 2;
    assert!(
        peak.saturating_sub(first_half_peak) < second_half_kib / 4,
        "memory grew by {} MiB while the second half ({} MiB) was sent",
        peak.saturating_sub(first_half_peak) / 1024,
        second_half_kib / 1024
    );

    // A graceful stop does not hang on the dead exporter: its drain gives up after
    // `drain_timeout`, and exactly what it held in memory is reported lost, under its ID.
    gateway.signal("TERM");
    let status = gateway.wait_exit(Duration::from_secs(60));
    let output = gateway.output();
    assert!(status.success(), "exit status {status}:\n{output}");
    // Log entries are zap's console lines: time, level, caller, message, then the fields
    // as one JSON object.
    let losses: Vec<serde_json::Value> = output
        .lines()
        .filter_map(|l| l.rsplit('\t').next())
        .filter_map(|fields| serde_json::from_str::<serde_json::Value>(fields).ok())
        .filter(|fields| fields.get("dropped_items").is_some())
        .collect();
    for fields in &losses {
        println!("{fields}");
        assert_eq!(
            fields["otelcol.component.id"], "otlp/dead",
            "a loss logged without the dead exporter's ID: {fields}"
        );
    }
    let lost: u64 = losses
        .iter()
        .filter_map(|fields| fields["dropped_items"].as_u64())
        .sum();
    assert_eq!(
        lost as f64,
        dead_queue * SPANS_PER_REQUEST as f64,
        "the spans the dead exporter held are reported lost:\n{output}"
    );
    assert!(
        !output
            .lines()
            .any(|l| l.contains("otlp/live") && l.contains("dropped_items")),
        "the live exporter lost nothing:\n{output}"
    );
}
