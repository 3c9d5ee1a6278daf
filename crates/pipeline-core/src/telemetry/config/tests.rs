use tributary_confmap::Conf;

use super::*;
use std::time::Duration;

fn decode(yaml: &str) -> TelemetryConfig {
    Conf::from_yaml(yaml).unwrap().as_value().decode().unwrap()
}

fn metrics(yaml: &str) -> MetricsTelemetryConfig {
    Conf::from_yaml(yaml).unwrap().as_value().decode().unwrap()
}

fn problems(yaml: &str) -> Vec<String> {
    decode(yaml)
        .validate()
        .into_iter()
        .map(|e| format!("{}: {}", e.path, e.message))
        .collect()
}

/// Issue 13: a bracketed IPv6 host passed validate and failed at start.
#[test]
fn a_pull_reader_host_may_be_bracketed_or_not() {
    for host in ["\"[::1]\"", "\"::1\""] {
        let config = metrics(&format!(
            "readers: [{{ pull: {{ exporter: {{ prometheus: {{ host: {host}, port: 8888 }} }} }} }}]"
        ));
        let endpoint = config.endpoint().unwrap();
        assert_eq!(endpoint, "[::1]:8888");
        assert!(endpoint.parse::<std::net::SocketAddr>().is_ok());
    }
    let config =
        metrics("readers: [{ pull: { exporter: { prometheus: { host: 0.0.0.0, port: 9 } } } }]");
    assert_eq!(config.endpoint().unwrap(), "0.0.0.0:9");
}

#[test]
fn defaults_are_the_go_collectors() {
    let config = decode("{}");
    assert_eq!(config.metrics.level, MetricsLevel::Normal);
    assert_eq!(config.metrics.endpoint().as_deref(), Some("127.0.0.1:8888"));
    assert_eq!(config.traces.level, MetricsLevel::Basic);
    let logs = &config.logs;
    assert_eq!(logs.level, LogLevel::Info);
    assert_eq!(logs.encoding, LogEncoding::Console);
    assert_eq!(logs.output_paths, ["stderr"]);
    assert_eq!(logs.error_output_paths, ["stderr"]);
    let sampling = logs.sampling.clone().unwrap();
    assert!(sampling.enabled);
    assert_eq!(sampling.tick, Duration::from_secs(10));
    assert_eq!((sampling.initial, sampling.thereafter), (10, 100));
    assert!(config.validate().is_empty());
}

#[test]
fn level_none_or_push_only_serves_no_endpoint() {
    assert_eq!(metrics("level: none").endpoint(), None);
    let push = metrics(
        "readers: [{ periodic: { exporter: { otlp: { protocol: grpc, endpoint: 'localhost:4317' } } } }]",
    );
    assert_eq!(push.endpoint(), None);
    let periodic = push.periodic().next().unwrap();
    assert_eq!(periodic.interval(), Duration::from_secs(60));
    assert_eq!(periodic.timeout(), Duration::from_secs(30));
    assert_eq!(
        periodic.exporter.target(),
        Some(PushTarget::Otlp(OtlpTarget {
            protocol: OtlpProtocol::Grpc,
            // Without a scheme, gRPC is TLS unless `insecure: true`, as in Go.
            endpoint: "https://localhost:4317".into(),
            tls: Some(Box::default()),
            headers: vec![],
            gzip: false,
            timeout: Duration::from_secs(10),
        }))
    );
    // The deprecated `address` is still honoured when no pull reader says otherwise.
    assert_eq!(
        metrics("address: 127.0.0.1:0").endpoint().as_deref(),
        Some("127.0.0.1:0")
    );
}

#[test]
fn the_full_go_example_decodes_and_validates() {
    let config = decode(
        r#"
resource: { deployment.environment: prod }
logs:
  level: debug
  development: true
  encoding: json
  disable_caller: true
  disable_stacktrace: true
  output_paths: [stdout, /tmp/x.log]
  error_output_paths: [stderr]
  initial_fields: { region: eu-1, shard: 3 }
  sampling: { enabled: true, tick: 5s, initial: 2, thereafter: 50 }
  processors:
    - batch:
        schedule_delay: 500
        exporter:
          otlp:
            protocol: http/protobuf
            endpoint: http://monitor:4318
            headers: [{ name: x-key, value: secret }]
            compression: gzip
            timeout: 2000
metrics:
  level: detailed
  readers:
    - pull: { exporter: { prometheus: { host: localhost, port: 9999, without_units: true } } }
    - periodic:
        interval: 1000
        timeout: 500
        exporter: { otlp: { protocol: http/json, endpoint: "http://monitor:4318/custom", headers: { a: b }, headers_list: "c=d" } }
traces:
  level: normal
  propagators: [tracecontext, b3]
  processors:
    - simple: { exporter: { otlp_grpc: { endpoint: "http://monitor:4317" } } }
"#,
    );
    assert!(config.validate().is_empty(), "{:?}", config.validate());
    assert_eq!(config.metrics.endpoint().as_deref(), Some("localhost:9999"));
    let Some(PushTarget::Otlp(target)) =
        config.metrics.periodic().next().unwrap().exporter.target()
    else {
        panic!("an OTLP target")
    };
    assert_eq!(target.protocol, OtlpProtocol::HttpJson);
    assert_eq!(
        target.headers,
        [("a".to_string(), "b".to_string()), ("c".into(), "d".into())]
    );
    assert_eq!(config.logs.initial_fields["shard"], serde_json::json!(3));
}

#[test]
fn unsupported_and_inconsistent_settings_are_refused_with_their_path() {
    let found = problems(
        r#"
metrics:
  readers:
    - periodic: { interval: 0, exporter: { otlp: { protocol: grpc, endpoint: "ftp://x:4317" } } }
    - periodic: { exporter: { otlp: { endpoint: "http://x:4318" } } }
    - periodic: { exporter: { otlp: { protocol: smoke, endpoint: "http://x" } } }
    - periodic: { exporter: { otlp: { protocol: grpc, endpoint: "http://x", temporality_preference: delta } } }
    - periodic: { exporter: { } }
traces:
  propagators: [carrier-pigeon]
  processors:
    - batch: { max_export_batch_size: 0, exporter: { otlp: { protocol: grpc, endpoint: "http://x", certificate: ca.pem } } }
logs:
  sampling: { tick: 0s }
"#,
    );
    let expect = [
        "metrics::readers::0::periodic::interval: must be > 0",
        "metrics::readers::0::periodic::exporter::otlp::endpoint: the scheme must be http or https",
        "metrics::readers::1::periodic::exporter::otlp::protocol: missing",
        "metrics::readers::2::periodic::exporter::otlp::protocol: unknown protocol \"smoke\"",
        "metrics::readers::3::periodic::exporter::otlp::temporality_preference: only cumulative",
        "metrics::readers::4::periodic::exporter: name exactly one exporter",
        "traces::propagators::0: unknown propagator",
        "traces::processors::0::batch::max_export_batch_size",
        "traces::processors::0::batch::exporter::otlp::certificate: the endpoint is plain text",
        "logs::sampling::tick: must be > 0",
    ];
    for e in expect {
        assert!(found.iter().any(|f| f.starts_with(e)), "{e}\nin {found:#?}");
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn unknown_keys_are_refused() {
    let error = Conf::from_yaml("logs: { colour: true }")
        .unwrap()
        .as_value()
        .decode::<TelemetryConfig>()
        .unwrap_err();
    assert!(error.to_string().contains("colour"), "{error}");
}

#[test]
fn levels_gate_as_in_go() {
    let batch = "otelcol_processor_batch_batch_send_size";
    let bytes = "otelcol_processor_batch_batch_send_size_bytes";
    let basic = "otelcol_exporter_sent_spans";
    assert!(!MetricsLevel::None.shows(basic));
    assert!(MetricsLevel::Basic.shows(basic) && !MetricsLevel::Basic.shows(batch));
    assert!(MetricsLevel::Normal.shows(batch) && !MetricsLevel::Normal.shows(bytes));
    assert!(MetricsLevel::Detailed.shows(bytes));
}

#[test]
fn tls_files_are_taken_under_every_spelling_of_the_schema() {
    let target = |exporter: &str| {
        let config = metrics(&format!(
            "readers: [{{ periodic: {{ exporter: {exporter} }} }}]"
        ));
        let Some(PushTarget::Otlp(target)) = config.periodic().next().unwrap().exporter.target()
        else {
            panic!("no target for {exporter}");
        };
        target
    };
    let file = |key: &str, path: &str| {
        Some(TlsFile {
            key: key.into(),
            path: path.into(),
        })
    };
    // The Go Collector's schema (0.3): top-level keys.
    let old = target(
        "{ otlp: { protocol: http/protobuf, endpoint: 'https://b:4318', certificate: ca.pem, client_key: k.pem, client_certificate: c.pem } }",
    );
    assert_eq!(old.endpoint, "https://b:4318");
    assert_eq!(
        old.tls,
        Some(Box::new(OtlpTls {
            ca: file("::certificate", "ca.pem"),
            client_certificate: file("::client_certificate", "c.pem"),
            client_key: file("::client_key", "k.pem"),
        }))
    );
    // 0.4: `_file` suffixes; 1.0: under `tls:`.
    let newer = target(
        "{ otlp_grpc: { endpoint: 'b:4317', certificate_file: ca.pem, tls: { client_key_file: k.pem, client_certificate_file: c.pem } } }",
    );
    assert_eq!(newer.endpoint, "https://b:4317");
    assert_eq!(
        newer.tls,
        Some(Box::new(OtlpTls {
            ca: file("::certificate_file", "ca.pem"),
            client_certificate: file("::tls::client_certificate_file", "c.pem"),
            client_key: file("::tls::client_key_file", "k.pem"),
        }))
    );
    let rc = target(
        "{ otlp_http: { endpoint: 'https://b', tls: { ca_file: ca.pem, key_file: k.pem, cert_file: c.pem } } }",
    );
    assert_eq!(
        rc.tls.unwrap().ca,
        file("::tls::ca_file", "ca.pem"),
        "the 1.0 release candidates' names"
    );
    // `insecure` decides only for a scheme-less gRPC endpoint.
    let plain = target("{ otlp_grpc: { endpoint: 'b:4317', tls: { insecure: true } } }");
    assert_eq!(
        (plain.endpoint.as_str(), plain.tls),
        ("http://b:4317", None)
    );
    let secure = target("{ otlp_grpc: { endpoint: 'https://b:4317', insecure: true } }");
    assert_eq!(secure.tls, Some(Box::default()));
}

#[test]
fn inconsistent_tls_settings_are_refused_with_their_path() {
    let found = problems(
        r#"
metrics:
  readers:
    - periodic: { exporter: { otlp_grpc: { endpoint: "https://x", certificate: a, tls: { certificate_file: b } } } }
    - periodic: { exporter: { otlp_grpc: { endpoint: "https://x", client_certificate: c } } }
    - periodic: { exporter: { otlp_http: { endpoint: "https://x", tls: { client_key_file: k } } } }
    - periodic: { exporter: { otlp_grpc: { endpoint: "x:1", insecure: true, tls: { insecure: true } } } }
    - periodic: { exporter: { otlp_grpc: { endpoint: "x:1", insecure: true, certificate: ca.pem } } }
"#,
    );
    let expect = [
        "metrics::readers::0::periodic::exporter::otlp_grpc::tls::certificate_file: set only one of certificate, certificate_file, tls::certificate_file, tls::ca_file",
        "metrics::readers::1::periodic::exporter::otlp_grpc::client_certificate: a client certificate needs its key",
        "metrics::readers::2::periodic::exporter::otlp_http::tls::client_key_file: a client key needs its certificate",
        "metrics::readers::3::periodic::exporter::otlp_grpc::tls::insecure: set either insecure or tls::insecure",
        "metrics::readers::4::periodic::exporter::otlp_grpc::certificate: the endpoint is plain text",
    ];
    for e in expect {
        assert!(found.iter().any(|f| f.starts_with(e)), "{e}\nin {found:#?}");
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}
