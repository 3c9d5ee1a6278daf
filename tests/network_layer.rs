//! The shared network layer against real clients: authenticator extensions with the
//! OpenTelemetry Python SDK (grpcio and HTTP), every compression from curl and from the
//! crate's own otlp exporter, a decompression bomb, and `headers_setter` carrying a tenant
//! from one collector to the next.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;
use prost::Message;
use tributary::configcompression::{Compression, CompressionParams, Compressor};

/// Every span name a file exporter wrote.
fn file_span_names(path: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in read_json_lines(path) {
        for resource in line["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    if let Some(name) = span["name"].as_str() {
                        names.insert(name.to_string());
                    }
                }
            }
        }
    }
    names
}

/// Waits until the file exporter at `out` wrote exactly `want` (after giving stragglers
/// a moment: a span that should have been refused must not show up late).
fn expect_spans(out: &Path, want: &[&str]) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    eventually(
        "the expected spans in the file",
        Duration::from_secs(20),
        || want.is_subset(&file_span_names(out)).then_some(()),
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(file_span_names(out), want);
}

/// Starts the gateway on `yaml`, waiting for each of `ports` to listen.
fn gateway(dir: &Path, name: &str, yaml: &str, ports: &[u16]) -> Proc {
    let config = dir.join(format!("{name}.yaml"));
    std::fs::write(&config, yaml).unwrap();
    let process = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    for port in ports {
        wait_listening(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(30),
        );
    }
    process
}

/// Runs `tests/python/send_spans.py` with `args`; whether the collector accepted.
fn python_send(python: &Path, args: &[&str]) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/send_spans.py");
    let output = Command::new(python)
        .arg(&script)
        .args(args)
        .output()
        .expect("run the Python sender");
    assert!(
        output.status.success(),
        "sender failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    if result["result"] != "SUCCESS" {
        eprintln!(
            "the Python sender was refused ({args:?}):\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    result["result"] == "SUCCESS"
}

#[test]
fn python_sdk_clients_authenticate_with_bearer_tokens_and_basic_auth() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let (grpc, http) = (free_port(), free_port());
    // alice's password "secret", as {SHA} (htpasswd -s).
    let yaml = format!(
        r#"
extensions:
  bearertokenauth:
    token: s3cret
  basicauth:
    htpasswd:
      inline: "alice:{{SHA}}5en6G6MezRroT3XKqkdPOmY/BfQ="
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}", auth: {{ authenticator: basicauth }} }}
      http: {{ endpoint: "127.0.0.1:{http}", auth: {{ authenticator: bearertokenauth }} }}
exporters:
  file: {{ path: "{}" }}
service:
  extensions: [bearertokenauth, basicauth]
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        out.display()
    );
    let mut collector = gateway(dir.path(), "auth", &yaml, &[grpc, http]);
    let grpc_endpoint = format!("127.0.0.1:{grpc}");
    let http_endpoint = format!("127.0.0.1:{http}");
    // "alice:secret" and "alice:wrong", base64.
    let good_basic = "authorization=Basic YWxpY2U6c2VjcmV0";
    let bad_basic = "authorization=Basic YWxpY2U6d3Jvbmc=";
    // (protocol, endpoint, span name, header, compression, accepted)
    type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str, bool);
    let cases: [Case; 8] = [
        (
            "grpc",
            &grpc_endpoint,
            "grpc-basic",
            Some(good_basic),
            "none",
            true,
        ),
        (
            "grpc",
            &grpc_endpoint,
            "grpc-basic-gzip",
            Some(good_basic),
            "gzip",
            true,
        ),
        (
            "grpc",
            &grpc_endpoint,
            "grpc-basic-deflate",
            Some(good_basic),
            "deflate",
            true,
        ),
        (
            "grpc",
            &grpc_endpoint,
            "grpc-wrong-password",
            Some(bad_basic),
            "none",
            false,
        ),
        (
            "grpc",
            &grpc_endpoint,
            "grpc-anonymous",
            None,
            "none",
            false,
        ),
        (
            "http",
            &http_endpoint,
            "http-bearer",
            Some("authorization=Bearer s3cret"),
            "gzip",
            true,
        ),
        (
            "http",
            &http_endpoint,
            "http-wrong-token",
            Some("authorization=Bearer nope"),
            "none",
            false,
        ),
        (
            "http",
            &http_endpoint,
            "http-basic",
            Some(good_basic),
            "none",
            false,
        ),
    ];
    for (protocol, endpoint, name, header, compression, accepted) in cases {
        let mut args = vec![
            "--protocol",
            protocol,
            "--endpoint",
            endpoint,
            "--name",
            name,
            "--compression",
            compression,
        ];
        if let Some(header) = header {
            args.extend(["--header", header]);
        }
        assert_eq!(python_send(&python, &args), accepted, "{name}");
    }
    expect_spans(
        &out,
        &[
            "grpc-basic",
            "grpc-basic-gzip",
            "grpc-basic-deflate",
            "http-bearer",
        ],
    );
    assert!(collector.is_running());
}

/// The protobuf of a request with one span named `name`.
fn one_span(name: &str) -> Vec<u8> {
    let mut request = spans_request([1], 200);
    request.resource_spans[0].scope_spans[0].spans[0].name = name.to_string();
    request.encode_to_vec()
}

fn compress(compression: Compression, framed_snappy: bool, body: &[u8]) -> Vec<u8> {
    let mut compressor = Compressor::new(compression, &CompressionParams::default());
    if framed_snappy {
        compressor = compressor.for_grpc();
    }
    let mut out = Vec::new();
    compressor.compress_into(body, &mut out).unwrap();
    out
}

/// POSTs `body` with curl as `encoding`; the HTTP status.
fn curl_post(url: &str, encoding: &str, body: &[u8], dir: &Path, extra: &[&str]) -> u16 {
    let file = dir.join(format!("body-{encoding}-{}", body.len()));
    std::fs::write(&file, body).unwrap();
    let output = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args(["-H", "Content-Type: application/x-protobuf"])
        .args(["-H", &format!("Content-Encoding: {encoding}")])
        .args(["--data-binary", &format!("@{}", file.display())])
        .args(extra)
        .arg(url)
        .output()
        .expect("run curl");
    assert!(
        output.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn curl_bodies_in_every_encoding_and_a_zlib_bomb() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let http = free_port();
    let yaml = format!(
        r#"
receivers:
  otlp:
    protocols:
      http:
        endpoint: "127.0.0.1:{http}"
        compression_algorithms: ["", gzip, zstd, zlib, deflate, snappy, x-snappy-framed, lz4]
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        out.display()
    );
    let mut collector = gateway(dir.path(), "encodings", &yaml, &[http]);
    let url = format!("http://127.0.0.1:{http}/v1/traces");
    let cases = [
        ("gzip", Compression::Gzip, false),
        ("zstd", Compression::Zstd, false),
        ("zlib", Compression::Zlib, false),
        ("deflate", Compression::Deflate, false),
        ("snappy", Compression::Snappy, false),
        ("x-snappy-framed", Compression::Snappy, true),
        ("lz4", Compression::Lz4, false),
    ];
    let mut names = Vec::new();
    for (encoding, compression, framed) in cases {
        let name = format!("curl-{encoding}");
        let body = compress(compression, framed, &one_span(&name));
        assert_eq!(
            curl_post(&url, encoding, &body, dir.path(), &[]),
            200,
            "{encoding}"
        );
        names.push(name);
    }
    // Garbage in a known encoding: 400, and the collector goes on.
    assert_eq!(
        curl_post(&url, "lz4", b"not lz4 at all", dir.path(), &[]),
        400
    );
    assert_eq!(curl_post(&url, "br", b"whatever", dir.path(), &[]), 400);

    // 512 MiB of zeros, zlib-compressed to about half a MiB: refused once the output passes
    // the 20 MiB body limit, while the collector's memory stays far below the bomb's size.
    let bomb = {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..512 {
            std::io::Write::write_all(&mut encoder, &zeros).unwrap();
        }
        encoder.finish().unwrap()
    };
    assert!(bomb.len() < 1 << 20, "the bomb is small: {}", bomb.len());
    for _ in 0..3 {
        assert_eq!(curl_post(&url, "zlib", &bomb, dir.path(), &[]), 413);
    }
    let peak = collector.peak_rss_kib().expect("peak RSS");
    eprintln!("peak RSS after three bombs: {peak} KiB");
    assert!(
        peak < 200 << 10,
        "peak RSS {peak} KiB: the bomb was inflated"
    );

    let want: Vec<&str> = names.iter().map(String::as_str).collect();
    expect_spans(&out, &want);
    assert!(collector.is_running());
}

#[test]
fn the_otlp_exporter_sends_every_compression_to_a_second_collector() {
    let dir = temp_dir();
    let algorithms = ["gzip", "zstd", "zlib", "deflate", "snappy", "lz4", "none"];
    // The receiving collector: one receiver, pipeline and file per algorithm, so each
    // file shows what arrived compressed with that algorithm.
    let ports: Vec<u16> = algorithms.iter().map(|_| free_port()).collect();
    let mut receiving = String::from("receivers:\n");
    for (algorithm, port) in algorithms.iter().zip(&ports) {
        receiving += &format!(
            "  otlp/{algorithm}: {{ protocols: {{ grpc: {{ endpoint: \"127.0.0.1:{port}\" }} }} }}\n"
        );
    }
    receiving += "exporters:\n";
    for algorithm in algorithms {
        let path = dir.path().join(format!("{algorithm}.jsonl"));
        receiving += &format!("  file/{algorithm}: {{ path: \"{}\" }}\n", path.display());
    }
    receiving += "service:\n  telemetry: { metrics: { level: none } }\n  pipelines:\n";
    for algorithm in algorithms {
        receiving += &format!(
            "    traces/{algorithm}: {{ receivers: [otlp/{algorithm}], exporters: [file/{algorithm}] }}\n"
        );
    }
    let _receiving = gateway(dir.path(), "receiving", &receiving, &ports);

    // The sending collector: one otlp exporter per algorithm, all fed by one receiver.
    let http = free_port();
    let mut sending = format!(
        "receivers:\n  otlp: {{ protocols: {{ http: {{ endpoint: \"127.0.0.1:{http}\" }} }} }}\nexporters:\n"
    );
    for (algorithm, port) in algorithms.iter().zip(&ports) {
        sending += &format!(
            "  otlp/{algorithm}: {{ endpoint: \"http://127.0.0.1:{port}\", compression: {algorithm} }}\n"
        );
    }
    let exporters: Vec<String> = algorithms.iter().map(|a| format!("otlp/{a}")).collect();
    sending += &format!(
        "service:\n  telemetry: {{ metrics: {{ level: none }} }}\n  pipelines:\n    traces: {{ receivers: [otlp], exporters: [{}] }}\n",
        exporters.join(", ")
    );
    let _sending = gateway(dir.path(), "sending", &sending, &[http]);

    let url = format!("http://127.0.0.1:{http}/v1/traces");
    assert_eq!(
        curl_post(&url, "identity", &one_span("fanned-out"), dir.path(), &[]),
        200
    );
    for algorithm in algorithms {
        expect_spans(
            &dir.path().join(format!("{algorithm}.jsonl")),
            &["fanned-out"],
        );
    }
}

#[test]
fn headers_setter_carries_the_tenant_to_the_next_collector() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    // The receiving collector lets in only requests whose X-Scope-OrgID is "acme": a
    // bearertokenauth on that header, without a scheme.
    let backend = free_port();
    let receiving = format!(
        r#"
extensions:
  bearertokenauth:
    header: X-Scope-OrgID
    scheme: ""
    token: acme
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{backend}", auth: {{ authenticator: bearertokenauth }} }}
exporters:
  file: {{ path: "{}" }}
service:
  extensions: [bearertokenauth]
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        out.display()
    );
    let _receiving = gateway(dir.path(), "receiving", &receiving, &[backend]);

    let http = free_port();
    let sending = format!(
        r#"
extensions:
  headers_setter:
    headers:
      - key: X-Scope-OrgID
        from_context: x-tenant
receivers:
  otlp:
    protocols:
      http: {{ endpoint: "127.0.0.1:{http}", include_metadata: true }}
exporters:
  otlp:
    endpoint: "http://127.0.0.1:{backend}"
    auth: {{ authenticator: headers_setter }}
    retry_on_failure: {{ enabled: false }}
service:
  extensions: [headers_setter]
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [otlp] }}
"#
    );
    let _sending = gateway(dir.path(), "sending", &sending, &[http]);
    let url = format!("http://127.0.0.1:{http}/v1/traces");
    for (tenant, name) in [("acme", "from-acme"), ("globex", "from-globex")] {
        let header = format!("x-tenant: {tenant}");
        assert_eq!(
            curl_post(
                &url,
                "identity",
                &one_span(name),
                dir.path(),
                &["-H", &header]
            ),
            200
        );
    }
    expect_spans(&out, &["from-acme"]);
}

/// A CA with a server certificate for localhost/127.0.0.1 and a client certificate, as
/// PEM files in `dir`: `ca.pem`, `server.pem`, `server.key`, `client.pem`, `client.key`.
fn write_pki(dir: &Path) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: a leaf whose issuer name is its own subject looks self-signed.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "network layer test CA");
    // What Python's strict X.509 checks (3.13+) require of a CA and its leaves.
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let mut server_params =
        CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    server_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    server_params.use_authority_key_identifier_extension = true;
    let server = server_params.signed_by(&server_key, &issuer).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["client.test".into()]).unwrap();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "client.test");
    client_params.use_authority_key_identifier_extension = true;
    let client = client_params.signed_by(&client_key, &issuer).unwrap();
    for (name, pem) in [
        ("ca.pem", ca.pem()),
        ("server.pem", server.pem()),
        ("server.key", server_key.serialize_pem()),
        ("client.pem", client.pem()),
        ("client.key", client_key.serialize_pem()),
    ] {
        std::fs::write(dir.join(name), pem).unwrap();
    }
}

#[test]
fn mutual_tls_with_the_python_sdk_and_a_health_check_over_tls() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    write_pki(dir.path());
    let file = |name: &str| dir.path().join(name).display().to_string();
    let out = dir.path().join("out.jsonl");
    let (grpc, http, health) = (free_port(), free_port(), free_port());
    let tls = format!(
        "{{ cert_file: \"{}\", key_file: \"{}\", client_ca_file: \"{}\" }}",
        file("server.pem"),
        file("server.key"),
        file("ca.pem")
    );
    let yaml = format!(
        r#"
extensions:
  health_check:
    endpoint: "127.0.0.1:{health}"
    tls: {{ cert_file: "{}", key_file: "{}", min_version: "1.3" }}
    response_headers: {{ Cache-Control: no-store }}
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}", tls: {tls} }}
      http: {{ endpoint: "127.0.0.1:{http}", tls: {tls} }}
exporters:
  file: {{ path: "{}" }}
service:
  extensions: [health_check]
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        file("server.pem"),
        file("server.key"),
        out.display()
    );
    let _collector = gateway(dir.path(), "mtls", &yaml, &[grpc, http, health]);
    let (ca, cert, key) = (file("ca.pem"), file("client.pem"), file("client.key"));
    // gRPC from the Python SDK (grpcio), with and without a client certificate.
    let endpoint = format!("localhost:{grpc}");
    let base = ["--protocol", "grpc", "--endpoint", &endpoint, "--ca", &ca];
    let mut accepted = base.to_vec();
    accepted.extend([
        "--name",
        "grpc-with-certificate",
        "--cert",
        &cert,
        "--key",
        &key,
    ]);
    assert!(
        python_send(&python, &accepted),
        "gRPC with a client certificate"
    );
    let mut refused = base.to_vec();
    refused.extend(["--name", "grpc-without-certificate"]);
    assert!(
        !python_send(&python, &refused),
        "gRPC without a client certificate"
    );
    // HTTP from curl, with and without a client certificate.
    let url = format!("https://localhost:{http}/v1/traces");
    let tls = [
        "--cacert",
        ca.as_str(),
        "--cert",
        cert.as_str(),
        "--key",
        key.as_str(),
    ];
    let body = one_span("http-with-certificate");
    assert_eq!(curl_post(&url, "identity", &body, dir.path(), &tls), 200);
    let output = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "--cacert", &ca, "-X", "POST"])
        .args([
            "-H",
            "Content-Type: application/x-protobuf",
            "--data-binary",
            "x",
        ])
        .arg(&url)
        .output()
        .expect("run curl");
    assert!(
        !output.status.success(),
        "HTTP without a client certificate was let in"
    );
    expect_spans(&out, &["grpc-with-certificate", "http-with-certificate"]);

    // The health check over TLS 1.3, trusted through the CA; refused in plaintext.
    let url = format!("https://localhost:{health}/");
    let output = Command::new("curl")
        .args(["-sS", "-i", "--cacert", &ca, "--tlsv1.3", &url])
        .output()
        .expect("run curl");
    let answer = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        answer.starts_with("HTTP/"),
        "{answer}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(answer.contains(" 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{answer}"
    );
    let plain = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "5",
        ])
        .arg(format!("http://localhost:{health}/"))
        .output()
        .expect("run curl");
    assert_ne!(String::from_utf8_lossy(&plain.stdout).trim(), "200");
}

#[test]
fn otlp_over_unix_sockets_from_curl() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let http_socket = dir.path().join("otlp-http.sock");
    let grpc_socket = dir.path().join("otlp-grpc.sock");
    let health = free_port();
    let yaml = format!(
        r#"
extensions:
  health_check: {{ endpoint: "127.0.0.1:{health}" }}
receivers:
  otlp:
    protocols:
      grpc: {{ transport: unix, endpoint: "{}" }}
      http: {{ transport: unix, endpoint: "{}" }}
exporters:
  file: {{ path: "{}" }}
service:
  extensions: [health_check]
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces: {{ receivers: [otlp], exporters: [file] }}
"#,
        grpc_socket.display(),
        http_socket.display(),
        out.display()
    );
    // The health check's port tells when the collector is up; the sockets exist by then.
    let _collector = gateway(dir.path(), "unix", &yaml, &[health]);
    eventually("the sockets", Duration::from_secs(20), || {
        (http_socket.exists() && grpc_socket.exists()).then_some(())
    });
    let socket = http_socket.display().to_string();
    assert_eq!(
        curl_post(
            "http://localhost/v1/traces",
            "gzip",
            &compress(Compression::Gzip, false, &one_span("over-unix-http")),
            dir.path(),
            &["--unix-socket", &socket],
        ),
        200
    );
    // A gRPC call is an HTTP/2 POST of one length-prefixed message: curl can make it.
    let message = one_span("over-unix-grpc");
    let mut frame = vec![0u8];
    frame.extend((message.len() as u32).to_be_bytes());
    frame.extend(message);
    let file = dir.path().join("grpc-frame");
    std::fs::write(&file, frame).unwrap();
    let output = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--http2-prior-knowledge",
        ])
        .args(["--unix-socket", &grpc_socket.display().to_string()])
        .args(["-H", "content-type: application/grpc", "-H", "te: trailers"])
        .args(["--data-binary", &format!("@{}", file.display())])
        .arg("http://localhost/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        .output()
        .expect("run curl");
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "200");
    expect_spans(&out, &["over-unix-http", "over-unix-grpc"]);
}
