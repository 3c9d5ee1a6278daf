//! telemetrygen: an OTLP load generator and a counting sink, for measuring a pipeline.
//!
//! ```sh
//! # 50,000 spans/s for 30 s over OTLP/gRPC, 4 connections, 100 spans per request
//! cargo run --release --example telemetrygen -- traces --endpoint 127.0.0.1:4317 \
//!     --rate 50000 --duration 30s --workers 4 --batch 100
//! # logs over OTLP/HTTP, gzip-compressed, as fast as the pipeline answers
//! cargo run --release --example telemetrygen -- logs --protocol http \
//!     --endpoint 127.0.0.1:4318 --compression gzip --duration 10s
//! # a sink that counts what a pipeline delivers (gRPC and HTTP on one port)
//! cargo run --release --example telemetrygen -- sink --listen 127.0.0.1:5317
//! curl -s 127.0.0.1:5317/count
//! # Prometheus remote write (snappy WriteRequests of 500 samples) into a receiver
//! cargo run --release --example telemetrygen -- points --format prw --protocol http \
//!     --endpoint 127.0.0.1:19291 --batch 500 --workers 4 --duration 10s
//! ```
//!
//! The generator builds a pool of distinct, realistic requests before it starts (see
//! `telemetrygen/payloads.rs`) and then only sends those bytes, so its own cost stays small
//! next to the pipeline's. It reports the items the pipeline accepted per second, the load it
//! offered (every request tried), failed requests counted by outcome (gRPC status name, HTTP
//! status, or connect/transport/timeout), and the latency of accepted requests (p50, p99,
//! max), first for people (stderr) and then as one JSON line (stdout). It exits with status 1 when no request succeeded.
//!
//! The sink accepts OTLP/gRPC and OTLP/HTTP (protobuf, gzip or not) on every `--listen`
//! address, counts items by walking the protobuf wire format without decoding, takes
//! Prometheus remote write at `POST /api/v1/write` (snappy block + `WriteRequest`, decoded
//! with the translator crate's prompb types, samples counted as items), answers
//! `GET /count` with its totals as JSON, and prints them as a JSON line when it stops
//! (Ctrl-C or SIGTERM). Neither side speaks TLS.

// The crate root of an example looks for modules beside it, so name the folder.
#[path = "telemetrygen/histogram.rs"]
mod histogram;
#[path = "telemetrygen/load.rs"]
mod load;
#[path = "telemetrygen/payloads.rs"]
mod payloads;
#[path = "telemetrygen/points.rs"]
mod points;
#[path = "telemetrygen/requests.rs"]
mod requests;
#[path = "telemetrygen/sink.rs"]
mod sink;
#[path = "telemetrygen/transport.rs"]
mod transport;
#[path = "telemetrygen/wire.rs"]
mod wire;

#[cfg(test)]
#[path = "telemetrygen/tests.rs"]
mod tests;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use http::{HeaderName, HeaderValue};
use tokio_util::sync::CancellationToken;

use load::{LoadPlan, LoadReport, Progress};
use payloads::Rng;
use requests::{Compression, Format, Protocol, RequestPool, Signal, TraceShape};
use transport::Target;

/// The protobuf types, named by `payloads.rs` (shared with the pipeline-core benchmarks).
use tributary::pdata::proto;

#[derive(Parser)]
#[command(
    name = "telemetrygen",
    version,
    about = "OTLP load generator and counting sink for measuring telemetry pipelines"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send spans: traces of up to 10 spans, 10 attributes each.
    Traces(LoadArgs),
    /// Send metric data points: gauges, cumulative sums and histograms.
    Metrics(LoadArgs),
    /// Send log records: access-log lines with trace context.
    Logs(LoadArgs),
    /// Send plain gauge and counter points: OTLP, InfluxDB line protocol (`--format influx
    /// --protocol http`), Prometheus remote write (`--format prw --protocol http`) or
    /// DogStatsD (`--format statsd --protocol udp`).
    Points(LoadArgs),
    /// Receive OTLP (and Prometheus remote write) and count what arrives.
    Sink(SinkArgs),
}

#[derive(Args)]
struct LoadArgs {
    /// Where to send, as host:port [default: 127.0.0.1:4317 for gRPC, 127.0.0.1:4318 for
    /// HTTP, 127.0.0.1:8086 for line protocol, 127.0.0.1:19291 for remote write,
    /// 127.0.0.1:8125 for StatsD]
    #[arg(long)]
    endpoint: Option<String>,
    /// Transport: OTLP/gRPC, HTTP (OTLP or line protocol) or UDP (StatsD).
    #[arg(long, value_enum, default_value_t = Protocol::Grpc)]
    protocol: Protocol,
    /// How items are written; only `points` has formats other than OTLP.
    #[arg(long, value_enum, default_value_t = Format::Otlp)]
    format: Format,
    /// HTTP request path [default: /v1/traces, /v1/metrics or /v1/logs; /write?db=telemetrygen
    /// for line protocol; /api/v1/write for remote write]
    #[arg(long)]
    http_path: Option<String>,
    /// Items per second over all workers; 0 sends as fast as the pipeline answers.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// How long to send (e.g. 30s, 5m); 0 sends until Ctrl-C.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Concurrent senders, each with one request in flight (and its own connection unless
    /// `--connections` is given).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// gRPC only: spread the workers over this many HTTP/2 connections, so that many
    /// requests are in flight over few connections, as SDKs multiplex theirs.
    #[arg(long)]
    connections: Option<usize>,
    /// After a refusal that asks for a delay (gRPC `RetryInfo`, HTTP `Retry-After`), wait
    /// that long before the worker's next request, as OpenTelemetry SDKs do.
    #[arg(long)]
    honor_retry: bool,
    /// Items per request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Compression of request bodies.
    #[arg(long, value_enum, default_value_t = Compression::None)]
    compression: Compression,
    /// Distinct requests built before sending starts and sent in turn.
    #[arg(long, default_value_t = 128)]
    pool: usize,
    /// Traces only: each trace has 1 to this many spans.
    #[arg(long, default_value_t = payloads::MAX_SPANS_PER_TRACE)]
    max_spans_per_trace: usize,
    /// Traces only: give every request sent trace IDs no earlier request had (the pool's
    /// bodies would otherwise repeat their traces), as a tail sampler's benchmark needs;
    /// uncompressed requests only.
    #[arg(long)]
    fresh_trace_ids: bool,
    /// Give up on a request after this long.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Extra request header, as name=value (repeatable).
    #[arg(long = "header", value_parser = parse_header)]
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Runtime threads; one keeps the generator's share of the machine small.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print progress this often; 0 prints only the summary.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    report_interval: Duration,
}

#[derive(Args)]
struct SinkArgs {
    /// Address to accept OTLP/gRPC, OTLP/HTTP, remote write (`POST /api/v1/write`) and
    /// `GET /count` on (repeatable); port 0
    /// picks a free port. Each bound address is printed as `listening on ADDR`.
    #[arg(long, default_values_t = [SocketAddr::from(([127, 0, 0, 1], 4317))])]
    listen: Vec<SocketAddr>,
    /// Runtime threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print the received rate this often while data arrives; 0 never.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    report_interval: Duration,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (write e.g. 500ms, 30s, 5m)"))
}

fn parse_header(text: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not name=value"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|e| e.to_string())?;
    let value = HeaderValue::from_str(value.trim()).map_err(|e| e.to_string())?;
    Ok((name, value))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Traces(args) => generate(Signal::Traces, args),
        Command::Metrics(args) => generate(Signal::Metrics, args),
        Command::Logs(args) => generate(Signal::Logs, args),
        Command::Points(args) => generate(Signal::Points, args),
        Command::Sink(args) => serve(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("telemetrygen: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder
        .enable_all()
        .build()
        .context("cannot start the runtime")
}

/// `host:port` from an endpoint, accepting a pasted `http://` URL.
fn authority(endpoint: &str) -> anyhow::Result<String> {
    if endpoint.starts_with("https://") {
        bail!("{endpoint}: telemetrygen does not speak TLS; use a plain-text endpoint");
    }
    let authority = endpoint.trim_start_matches("http://").trim_end_matches('/');
    if authority.contains('/') || !authority.contains(':') {
        bail!("{endpoint}: write the endpoint as host:port");
    }
    Ok(authority.to_string())
}

fn generate(signal: Signal, args: LoadArgs) -> anyhow::Result<ExitCode> {
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    if !(args.rate >= 0.0 && args.rate.is_finite()) {
        bail!("--rate must be a number of items per second, 0 for no limit");
    }
    match (args.format, args.protocol) {
        (Format::Otlp | Format::OtlpCumulative, Protocol::Grpc | Protocol::Http)
        | (Format::Influx | Format::Prw, Protocol::Http)
        | (Format::Statsd, Protocol::Udp) => {}
        (Format::Otlp | Format::OtlpCumulative, Protocol::Udp) => {
            bail!("OTLP is sent over grpc or http, not udp")
        }
        (Format::Influx, _) => bail!("line protocol is sent with --protocol http"),
        (Format::Prw, _) => bail!("remote write is sent with --protocol http"),
        (Format::Statsd, _) => bail!("StatsD is sent with --protocol udp"),
    }
    if args.format == Format::Prw && args.compression != Compression::None {
        bail!("remote-write bodies are always snappy-compressed; leave out --compression");
    }
    if args.format != Format::Otlp && signal != Signal::Points {
        bail!("--format {:?} is for `points` only", args.format);
    }
    if args.compression != Compression::None && args.protocol == Protocol::Udp {
        bail!("datagrams are not compressed");
    }
    let default_endpoint = match (args.protocol, args.format) {
        (Protocol::Grpc, _) => "127.0.0.1:4317",
        (Protocol::Http, Format::Influx) => "127.0.0.1:8086",
        (Protocol::Http, Format::Prw) => "127.0.0.1:19291",
        (Protocol::Http, _) => "127.0.0.1:4318",
        (Protocol::Udp, _) => "127.0.0.1:8125",
    };
    let target = Arc::new(Target {
        signal,
        format: args.format,
        protocol: args.protocol,
        compression: args.compression,
        authority: authority(args.endpoint.as_deref().unwrap_or(default_endpoint))?,
        path: match args.protocol {
            Protocol::Grpc => signal.grpc_path().to_string(),
            Protocol::Http => args.http_path.clone().unwrap_or_else(|| match args.format {
                Format::Influx => "/write?db=telemetrygen".to_string(),
                Format::Prw => "/api/v1/write".to_string(),
                _ => signal.http_path().to_string(),
            }),
            Protocol::Udp => String::new(),
        },
        headers: args.headers.clone(),
        timeout: args.timeout,
    });
    if signal != Signal::Traces
        && (args.fresh_trace_ids || args.max_spans_per_trace != payloads::MAX_SPANS_PER_TRACE)
    {
        bail!(
            "--fresh-trace-ids and --max-spans-per-trace shape traces: they need the traces command"
        );
    }
    if args.max_spans_per_trace == 0 {
        bail!("--max-spans-per-trace must be at least 1");
    }
    let shape = TraceShape {
        max_spans_per_trace: args.max_spans_per_trace,
        fresh_trace_ids: args.fresh_trace_ids,
    };
    let pool = RequestPool::build(
        signal,
        args.format,
        args.protocol,
        args.compression,
        shape,
        args.batch,
        args.pool,
        &mut Rng::from_clock(),
    )
    .context("cannot build the request pool")?;
    if args.connections.is_some() && args.protocol != Protocol::Grpc {
        bail!("--connections shares HTTP/2 connections: it needs --protocol grpc");
    }
    let plan = LoadPlan {
        workers: args.workers.max(1),
        rate: args.rate,
        duration: (!args.duration.is_zero()).then_some(args.duration),
        connections: args.connections,
        honor_retry: args.honor_retry,
    };
    eprintln!(
        "telemetrygen: {} over {} to {}: {} workers, {} {} per request (~{} bytes encoded), {}, compression {}, {}",
        signal.name(),
        match (args.protocol, args.format) {
            (Protocol::Grpc, _) => "OTLP/gRPC",
            (Protocol::Http, Format::Influx) => "HTTP line protocol",
            (Protocol::Http, Format::Prw) => "Prometheus remote write",
            (Protocol::Http, _) => "OTLP/HTTP",
            (Protocol::Udp, _) => "UDP StatsD",
        },
        target.authority,
        plan.workers,
        args.batch,
        signal.items(),
        pool.mean_encoded_len(),
        if args.rate > 0.0 {
            format!("{} {}/s", args.rate, signal.items())
        } else {
            "as fast as possible".to_string()
        },
        match args.compression {
            Compression::None => "none",
            Compression::Gzip => "gzip",
        },
        match plan.duration {
            Some(d) => format!("for {}", humantime::format_duration(d)),
            None => "until Ctrl-C".to_string(),
        },
    );
    let runtime = runtime(args.threads)?;
    let report = runtime.block_on(async {
        let cancel = CancellationToken::new();
        let progress = Arc::new(Progress::default());
        let printer = (!args.report_interval.is_zero()).then(|| {
            tokio::spawn(print_progress(
                Arc::clone(&progress),
                args.report_interval,
                signal,
            ))
        });
        let interrupt = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    cancel.cancel();
                }
            })
        };
        let report = load::run(target.clone(), Arc::new(pool), &plan, progress, cancel).await;
        interrupt.abort();
        if let Some(printer) = printer {
            printer.abort();
        }
        report
    });
    print_summary(signal, &args, &target, &report);
    Ok(if report.ok_requests == 0 {
        eprintln!("telemetrygen: no request succeeded");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn print_progress(progress: Arc<Progress>, every: Duration, signal: Signal) {
    let started = Instant::now();
    let mut last = 0;
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let sent = progress.sent_items.load(Ordering::Relaxed);
        eprintln!(
            "[{:>6.1}s] sent {sent} {} ({:.0}/s), {} failed requests",
            started.elapsed().as_secs_f64(),
            signal.items(),
            (sent - last) as f64 / every.as_secs_f64(),
            progress.failed_requests.load(Ordering::Relaxed),
        );
        last = sent;
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_summary(signal: Signal, args: &LoadArgs, target: &Target, report: &LoadReport) {
    let p50 = report.latency.quantile(0.5);
    let p99 = report.latency.quantile(0.99);
    eprintln!(
        "telemetrygen: sent {} {} in {:.2} s: {:.0} {}/s; {} requests ok, {} failed ({} items), {} items rejected by the server",
        report.sent_items,
        signal.items(),
        report.elapsed.as_secs_f64(),
        report.items_per_second(),
        signal.items(),
        report.ok_requests,
        report.failed_requests,
        report.failed_items,
        report.rejected_items,
    );
    eprintln!(
        "telemetrygen: request latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        millis(p50),
        millis(p99),
        millis(report.latency.max()),
    );
    if !report.failures_by_outcome.is_empty() {
        let outcomes: Vec<String> = report
            .failures_by_outcome
            .iter()
            .map(|(outcome, count)| format!("{outcome} {count}"))
            .collect();
        eprintln!(
            "telemetrygen: offered {:.0} {}/s; failed requests by outcome: {}",
            report.offered_items_per_second(),
            signal.items(),
            outcomes.join(", ")
        );
    }
    for (message, count) in &report.errors {
        eprintln!("telemetrygen: error ({count}×): {message}");
    }
    let summary = serde_json::json!({
        "signal": signal.name(),
        "protocol": match args.protocol { Protocol::Grpc => "grpc", Protocol::Http => "http", Protocol::Udp => "udp" },
        "format": match args.format { Format::Otlp => "otlp", Format::OtlpCumulative => "otlp-cumulative", Format::Prw => "prw", Format::Influx => "influx", Format::Statsd => "statsd" },
        "endpoint": target.authority,
        "workers": args.workers.max(1),
        "batch": args.batch,
        "rate": args.rate,
        "elapsed_s": report.elapsed.as_secs_f64(),
        "sent_items": report.sent_items,
        "rejected_items": report.rejected_items,
        "failed_items": report.failed_items,
        "ok_requests": report.ok_requests,
        "failed_requests": report.failed_requests,
        "items_per_s": report.items_per_second(),
        "offered_items_per_s": report.offered_items_per_second(),
        "failures_by_outcome": report.failures_by_outcome,
        "latency_p50_ms": millis(p50),
        "latency_p99_ms": millis(p99),
        "latency_max_ms": millis(report.latency.max()),
        "errors": report.errors.iter().map(|(m, c)| serde_json::json!({"message": m, "count": c})).collect::<Vec<_>>(),
    });
    println!("{summary}");
}

fn serve(args: SinkArgs) -> anyhow::Result<ExitCode> {
    let runtime = runtime(args.threads)?;
    runtime.block_on(async {
        let stop = CancellationToken::new();
        let sink = sink::Sink::start(&args.listen, stop.clone())
            .await
            .context("cannot bind the sink's address")?;
        for address in sink.addresses() {
            println!("listening on {address}");
        }
        if !args.report_interval.is_zero() {
            tokio::spawn(print_received(
                Arc::clone(&sink.counters),
                args.report_interval,
            ));
        }
        wait_for_shutdown().await?;
        stop.cancel();
        println!("{}", sink.counters.to_json(sink.started.elapsed()));
        Ok(ExitCode::SUCCESS)
    })
}

async fn print_received(counters: Arc<sink::Counters>, every: Duration) {
    let mut last = counters.items();
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let items = counters.items();
        if items != last {
            eprintln!(
                "sink: received {items} items ({:.0}/s), {} bad requests",
                (items - last) as f64 / every.as_secs_f64(),
                counters.bad_requests(),
            );
        }
        last = items;
    }
}

async fn wait_for_shutdown() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result.context("cannot listen for Ctrl-C"),
        _ = terminate.recv() => Ok(()),
    }
}
