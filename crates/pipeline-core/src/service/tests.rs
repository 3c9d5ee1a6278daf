//! Service tests: a collector running recording components from a config file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tributary_featuregate::Registry;

use super::*;
use crate::test_support::*;

struct Harness {
    journal: Journal,
    inlets: Inlets,
    sinks: Sinks,
    collector: Collector,
    run: tokio::task::JoinHandle<Result<(), CollectorError>>,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

fn config(exporters: &[&str], extra: &str) -> String {
    config_with_resource(exporters, extra, "{}")
}

fn config_with_resource(exporters: &[&str], extra: &str, resource: &str) -> String {
    let defined: Vec<String> = exporters.iter().map(|e| format!("  {e}: {{}}")).collect();
    format!(
        "receivers:\n  test_in: {{}}\nexporters:\n{}\n{extra}service:\n  telemetry: {{ resource: {resource}, metrics: {{ address: 127.0.0.1:0 }} }}\n  pipelines:\n    traces: {{ receivers: [test_in], exporters: [{}] }}\n",
        defined.join("\n"),
        exporters.join(", ")
    )
}

async fn start(yaml: &str) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collector.yaml");
    std::fs::write(&path, yaml).unwrap();
    let (journal, inlets, sinks) = (Journal::default(), Inlets::default(), Sinks::default());
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let collector = Collector::builder("test-collector", "0.0.1")
        .receiver(test_receiver_factory(journal.clone(), inlets.clone()))
        .processor(test_processor_factory(journal.clone()))
        .exporter(test_exporter_factory(journal.clone(), sinks.clone()))
        .extension(test_extension_factory(journal.clone()))
        .feature_gates(registry)
        .build(ConfigSource::uris([path.display().to_string()]))
        .unwrap();
    let run = tokio::spawn({
        let collector = collector.clone();
        async move { collector.run().await }
    });
    let health = collector.health().clone();
    eventually("the collector to run", || health.is_running()).await;
    Harness {
        journal,
        inlets,
        sinks,
        collector,
        run,
        path,
        _dir: dir,
    }
}

impl Harness {
    async fn send(&self) -> Result<(), crate::consumer::ConsumeError> {
        self.inlets.get("test_in").consume(spans()).await
    }

    fn rewrite(&self, yaml: &str) {
        write_atomically(&self.path, yaml);
    }

    async fn stop(self) {
        self.collector.shutdown();
        self.run.await.unwrap().unwrap();
    }
}

/// Replaces a file the way editors do: write a sibling, rename over.
fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test]
async fn an_invalid_reload_leaves_the_running_pipeline_untouched() {
    let h = start(&config(&["mem"], "")).await;
    h.send().await.unwrap();

    std::fs::write(&h.path, config(&["nope"], "")).unwrap();
    let err = h.collector.reload().await.unwrap_err();
    assert!(
        err.to_string()
            .contains("exporters::nope: unknown exporter type"),
        "{err}"
    );

    h.send().await.unwrap();
    assert_eq!(
        h.sinks.received("mem").len(),
        2,
        "the old pipeline still delivers"
    );
    let metrics = h.collector.metrics();
    assert!(
        metrics
            .value("otelcol_config_reload_failures_total", &[])
            .unwrap()
            >= 1.0
    );
    let last = h.collector.health().last_reload().unwrap();
    assert!(last.error.unwrap().contains("unknown exporter type"));
    assert!(h.collector.health().is_running());
    h.stop().await;
}

#[tokio::test]
async fn a_file_change_is_applied_keeping_unchanged_components() {
    let h = start(&config(&["mem"], "")).await;
    h.send().await.unwrap();
    h.rewrite(&config(&["mem", "mem/new"], ""));
    let sinks = h.sinks.clone();
    let inlet_sender = h.inlets.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sinks.received("mem/new").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new exporter never received data"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        inlet_sender.get("test_in").consume(spans()).await.unwrap();
    }
    let created = h.journal.matching("create exporter mem traces");
    assert_eq!(
        created.len(),
        1,
        "the unchanged exporter was kept: {created:?}"
    );
    assert!(h.journal.matching("stop exporter mem").is_empty());
    assert!(
        h.journal.matching("create receiver").len() == 1,
        "the receiver was kept"
    );
    h.stop().await;
}

#[tokio::test]
async fn shutdown_stops_everything_and_run_returns() {
    let h = start(
        &config(&["mem"], "extensions:\n  ext: {}\n")
            .replace("service:\n", "service:\n  extensions: [ext]\n"),
    )
    .await;
    let journal = h.journal.clone();
    h.stop().await;
    let stops = journal.matching("stop");
    assert_eq!(
        stops,
        [
            "stop receiver test_in",
            "stop exporter mem",
            "stop extension ext"
        ]
    );
}

#[tokio::test]
async fn run_twice_is_refused() {
    let h = start(&config(&["mem"], "")).await;
    assert!(matches!(
        h.collector.run().await,
        Err(CollectorError::AlreadyRun)
    ));
    h.stop().await;
}

#[tokio::test]
async fn an_invalid_initial_config_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.yaml");
    std::fs::write(&path, "receivers: { test_in: {} }\nservice: { pipelines: { traces: { receivers: [test_in], exporters: [mem] } } }\n").unwrap();
    let collector = Collector::builder("t", "0")
        .receiver(test_receiver_factory(Journal::default(), Inlets::default()))
        .build(ConfigSource::uris([path.display().to_string()]))
        .unwrap();
    let err = collector.run().await.unwrap_err();
    assert!(
        err.to_string()
            .contains(r#"service::pipelines::traces::exporters: references exporter "mem" which is not configured"#),
        "{err}"
    );
}

#[tokio::test]
async fn internal_metrics_are_served() {
    let h = start(&config(&["mem"], "")).await;
    h.send().await.unwrap();
    let address = h.collector.metrics_address().await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).await.unwrap();
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("otelcol_process_uptime"), "{body}");
    assert!(body.contains("otelcol_process_memory_rss"), "{body}");
    h.stop().await;
}

#[tokio::test]
async fn with_the_gate_off_a_reload_rebuilds_everything_without_a_gap() {
    let h = start(&config(&["mem"], "")).await;
    let registry = h.collector.inner.facilities.feature_gates;
    registry.set(super::RELOAD_KEEPS_UNCHANGED, false).unwrap();
    h.send().await.unwrap();
    h.collector.reload().await.unwrap();
    assert_eq!(
        h.journal.matching("create exporter mem traces").len(),
        2,
        "rebuilt"
    );
    assert_eq!(
        h.journal.matching("create receiver test_in traces").len(),
        2,
        "rebuilt"
    );
    h.send().await.unwrap();
    assert_eq!(h.sinks.received("mem").len(), 2);
    h.stop().await;
}

#[test]
fn two_collectors_build_in_one_process_even_concurrently() {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let build = move || {
        Collector::builder("t", "0")
            .feature_gates(registry)
            .build(ConfigSource::Yaml("service: {}".into()))
            .map(drop)
    };
    build().unwrap();
    build().unwrap();
    let threads: Vec<_> = (0..4).map(|_| std::thread::spawn(build)).collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    // The process-wide registry too, which every default builder shares.
    for _ in 0..2 {
        Collector::builder("t", "0")
            .build(ConfigSource::Yaml("service: {}".into()))
            .unwrap();
    }
    assert_eq!(registry.gates().len(), 1);
}

/// Issue 13: `service::telemetry::resource` (which blocked most real-world configs) is
/// accepted and shown on `target_info`, `null` removing a default, and follows reloads.
#[tokio::test]
async fn the_telemetry_resource_is_shown_on_target_info_and_follows_reloads() {
    let h = start(&config_with_resource(
        &["mem"],
        "",
        "{ deployment.environment: prod, service.name: null }",
    ))
    .await;
    let target_info = |h: &Harness| {
        h.collector
            .metrics()
            .render_prometheus()
            .lines()
            .filter(|line| line.starts_with("target_info{"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let shown = target_info(&h);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].contains(r#"deployment_environment="prod""#)
            && shown[0].contains(r#"service_version="0.0.1""#)
            && shown[0].contains("service_instance_id=")
            && !shown[0].contains("service_name="),
        "{shown:?}"
    );
    h.rewrite(&config_with_resource(
        &["mem"],
        "",
        "{ deployment.environment: staging }",
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let shown = target_info(&h);
        if shown.len() == 1
            && shown[0].contains(r#"deployment_environment="staging""#)
            && shown[0].contains(r#"service_name="test-collector""#)
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{shown:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    h.stop().await;
}

fn config_with_telemetry(telemetry: &str) -> String {
    format!(
        "receivers:\n  test_in: {{}}\nexporters:\n  mem: {{}}\nservice:\n  telemetry: {telemetry}\n  pipelines:\n    traces: {{ receivers: [test_in], exporters: [mem] }}\n"
    )
}

async fn scrape(address: std::net::SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).await.unwrap();
    body
}

/// An invalid `service::telemetry` is refused at reload, with its path, and everything
/// keeps running as it was.
#[tokio::test]
async fn an_invalid_telemetry_section_is_refused_and_changes_nothing() {
    let h = start(&config_with_telemetry(
        "{ metrics: { address: 127.0.0.1:0 } }",
    ))
    .await;
    let address = h.collector.metrics_address().await.unwrap();
    std::fs::write(
        &h.path,
        config_with_telemetry(
            "{ metrics: { readers: [ { periodic: { exporter: { otlp: { protocol: grpc, endpoint: 'ftp://x:4317' } } } } ] } }",
        ),
    )
    .unwrap();
    let error = h.collector.reload().await.unwrap_err().to_string();
    assert!(
        error.contains(
            "service::telemetry::metrics::readers::0::periodic::exporter::otlp::endpoint"
        ),
        "{error}"
    );
    std::fs::write(
        &h.path,
        config_with_telemetry("{ logs: { output_paths: [/nonexistent-dir/x/y.log] } }"),
    )
    .unwrap();
    // The log outputs open only where the collector installs its logging (run_cli); this
    // collector does not, so this one applies.
    h.collector.reload().await.unwrap();
    assert_ne!(h.collector.metrics_address().await, Some(address));
    h.send().await.unwrap();
    assert_eq!(h.sinks.received("mem").len(), 1);
    h.stop().await;
}

/// A reload applies the metrics section: a configured pull reader names metrics as Go's
/// Prometheus exporter does, and `level: none` turns the endpoint off.
#[tokio::test]
async fn a_reload_applies_the_metrics_section() {
    let h = start(&config_with_telemetry(
        "{ metrics: { address: 127.0.0.1:0 } }",
    ))
    .await;
    let address = h.collector.metrics_address().await.unwrap();
    let page = scrape(address).await;
    assert!(page.contains("\notelcol_process_uptime "), "{page}");

    // The same port, now through a pull reader with Go's default naming.
    std::fs::write(
        &h.path,
        config_with_telemetry(&format!(
            "{{ metrics: {{ readers: [ {{ pull: {{ exporter: {{ prometheus: {{ host: 127.0.0.1, port: {} }} }} }} }} ] }} }}",
            address.port()
        )),
    )
    .unwrap();
    h.collector.reload().await.unwrap();
    assert_eq!(h.collector.metrics_address().await, Some(address));
    let page = scrape(address).await;
    assert!(
        page.contains(
            "otelcol_process_uptime_seconds{otel_scope_name=\"go.opentelemetry.io/collector/service\",otel_scope_version=\"0.0.1\"}"
        ),
        "{page}"
    );

    std::fs::write(
        &h.path,
        config_with_telemetry("{ metrics: { level: none } }"),
    )
    .unwrap();
    h.collector.reload().await.unwrap();
    assert_eq!(h.collector.metrics_address().await, None);
    h.stop().await;
}

/// A CA and a certificate it signed for 127.0.0.1, as PEM files in `dir`.
fn write_ca_and_server_cert(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    std::fs::write(
        dir.join("ca.pem"),
        ca_params.self_signed(&ca_key).unwrap().pem(),
    )
    .unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
}

/// An OTLP/HTTP backend over TLS counting the requests it answers.
async fn tls_backend(dir: &Path) -> (std::net::SocketAddr, std::sync::Arc<AtomicUsize>) {
    use hyper_util::rt::TokioIo;
    let config = crate::configtls::TlsServerConfig {
        cert_file: dir.join("server.pem").display().to_string(),
        key_file: dir.join("server.key").display().to_string(),
        ..Default::default()
    };
    let acceptor = crate::configtls::acceptor(&config, "tls", crate::configtls::ALPN_HTTP)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let Ok(stream) = acceptor.accept(stream).await else {
                continue;
            };
            let counted = counted.clone();
            let service = hyper::service::service_fn(move |_: http::Request<_>| {
                counted.fetch_add(1, Ordering::SeqCst);
                async {
                    Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Empty::<
                        bytes::Bytes,
                    >::new(
                    )))
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    (addr, count)
}

/// TLS files of the own-telemetry push are read at start and reload: a missing one fails
/// the reload with its key's path, and the running pushes go on as they were.
#[tokio::test]
async fn a_reload_with_a_missing_telemetry_tls_file_keeps_the_running_pushes() {
    let pki = tempfile::tempdir().unwrap();
    write_ca_and_server_cert(pki.path());
    let (backend, pushes) = tls_backend(pki.path()).await;
    let telemetry = |ca: &Path| {
        format!(
            "{{ metrics: {{ readers: [ {{ periodic: {{ interval: 50, exporter: {{ otlp_http: {{ endpoint: 'https://{backend}', tls: {{ certificate_file: '{}' }} }} }} }} }} ] }} }}",
            ca.display()
        )
    };
    let h = start(&config_with_telemetry(&telemetry(
        &pki.path().join("ca.pem"),
    )))
    .await;
    eventually("a push over TLS", || pushes.load(Ordering::SeqCst) > 0).await;

    std::fs::write(
        &h.path,
        config_with_telemetry(&telemetry(&pki.path().join("gone.pem"))),
    )
    .unwrap();
    let error = h.collector.reload().await.unwrap_err().to_string();
    assert!(
        error.contains(
            "service::telemetry::metrics::readers::0::periodic::exporter::otlp_http::tls::certificate_file"
        ) && error.contains("gone.pem"),
        "{error}"
    );
    let before = pushes.load(Ordering::SeqCst);
    eventually("the running pushes to go on", || {
        pushes.load(Ordering::SeqCst) > before + 1
    })
    .await;
    assert!(h.collector.health().is_running());
    h.stop().await;
}
