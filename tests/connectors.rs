//! Connectors end to end, in the gateway a user runs: `routing` sends tenant A and tenant B
//! (sent by the OpenTelemetry Python SDK, one named by a resource attribute, the other by
//! an `X-Tenant` header) to two different `file` exporters; `failover` switches to the
//! secondary when the primary OTLP backend goes down and back when it returns.

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;

fn run_gateway(dir: &Path, config: &str, grpc: u16) -> Proc {
    let path = dir.join("gateway.yaml");
    std::fs::write(&path, config).unwrap();
    let gateway = Proc::spawn(
        &example("gateway"),
        &["--config", path.to_str().unwrap()],
        &[],
    );
    wait_listening(
        format!("127.0.0.1:{grpc}").parse().unwrap(),
        Duration::from_secs(30),
    );
    gateway
}

/// Sends `count` spans for `tenant` with the Python SDK; returns their names.
fn send_tenant(python: &Path, protocol: &str, port: u16, tenant: &str, via: &str) -> Vec<String> {
    let endpoint = format!("127.0.0.1:{port}");
    let run = run_python(
        python,
        "send_tenant.py",
        &[
            "--protocol",
            protocol,
            "--endpoint",
            &endpoint,
            "--tenant",
            tenant,
            "--via",
            via,
            "--count",
            "3",
        ],
    );
    assert!(
        !run.stderr.contains("Failed to export"),
        "the SDK reported an export failure:\n{}",
        run.stderr
    );
    let sent = run.report;
    sent["spans"]
        .as_array()
        .expect("span names")
        .iter()
        .map(|name| name.as_str().unwrap().to_string())
        .collect()
}

fn names(path: &Path) -> Vec<String> {
    span_name_counts(path)
        .into_iter()
        .flat_map(|(name, count)| std::iter::repeat_n(name, count))
        .collect()
}

#[test]
fn routing_sends_each_tenant_to_its_own_file() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let (grpc, http) = (free_port(), free_port());
    let (a, b, other) = (
        dir.path().join("a.jsonl"),
        dir.path().join("b.jsonl"),
        dir.path().join("other.jsonl"),
    );
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
      http: {{ endpoint: "127.0.0.1:{http}", include_metadata: true }}
exporters:
  file/a: {{ path: "{a}" }}
  file/b: {{ path: "{b}" }}
  file/other: {{ path: "{other}" }}
connectors:
  routing:
    default_pipelines: [traces/other]
    table:
      - statement: route() where attributes["tenant"] == "a"
        pipelines: [traces/a]
      - context: request
        condition: request["X-Tenant"] == "b"
        pipelines: [traces/b]
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces/in: {{ receivers: [otlp], exporters: [routing] }}
    traces/a: {{ receivers: [routing], exporters: [file/a] }}
    traces/b: {{ receivers: [routing], exporters: [file/b] }}
    traces/other: {{ receivers: [routing], exporters: [file/other] }}
"#,
        a = a.display(),
        b = b.display(),
        other = other.display(),
    );
    let mut gateway = run_gateway(dir.path(), &config, grpc);
    wait_listening(
        format!("127.0.0.1:{http}").parse().unwrap(),
        Duration::from_secs(30),
    );

    // Tenant A by its resource attribute (over gRPC), tenant B by its header (over HTTP,
    // whose receiver keeps the metadata), and a tenant no route names.
    let sent_a = send_tenant(&python, "grpc", grpc, "a", "resource");
    let sent_b = send_tenant(&python, "http", http, "b", "header");
    let sent_c = send_tenant(&python, "grpc", grpc, "c", "resource");

    for (path, sent) in [(&a, &sent_a), (&b, &sent_b), (&other, &sent_c)] {
        let mut want = sent.clone();
        want.sort();
        eventually(
            &format!("{} to hold {want:?}", path.display()),
            Duration::from_secs(20),
            || (names(path) == want).then_some(()),
        );
    }
    assert!(gateway.is_running());
}

#[test]
fn failover_switches_to_the_secondary_and_back_when_the_primary_returns() {
    let backend = OtlpBackend::start(BackendMode::Healthy, 13);
    let dir = temp_dir();
    let grpc = free_port();
    let secondary = dir.path().join("secondary.jsonl");
    let config = format!(
        r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
exporters:
  otlp/primary:
    endpoint: "{primary}"
    timeout: 2s
    # Failover sees a failure only if the exporter reports it at once.
    sending_queue: {{ enabled: false }}
    retry_on_failure: {{ enabled: false }}
  file/secondary: {{ path: "{secondary}" }}
connectors:
  failover:
    priority_levels: [[traces/primary], [traces/secondary]]
    retry_interval: 1s
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    traces/in: {{ receivers: [otlp], exporters: [failover] }}
    traces/primary: {{ receivers: [failover], exporters: [otlp/primary] }}
    traces/secondary: {{ receivers: [failover], exporters: [file/secondary] }}
"#,
        primary = backend.endpoint(),
        secondary = secondary.display(),
    );
    let mut gateway = run_gateway(dir.path(), &config, grpc);
    let mut client = OtlpClient::new(format!("127.0.0.1:{grpc}").parse().unwrap());

    client.export(traces_request(["up-0"])).unwrap();
    assert_eq!(backend.received().get("up-0"), Some(&1));

    // The primary's backend goes away: the data goes to the secondary, and the client
    // sees success.
    backend.set_mode(BackendMode::Down);
    for i in 0..3 {
        client
            .export(traces_request([format!("down-{i}")]))
            .unwrap();
    }
    eventually(
        "the secondary to hold what the primary could not take",
        Duration::from_secs(20),
        || (names(&secondary) == ["down-0", "down-1", "down-2"]).then_some(()),
    );
    assert!(!backend.received().keys().any(|n| n.starts_with("down-")));

    // It returns: within a retry interval or so, traffic goes back to the primary.
    backend.set_mode(BackendMode::Healthy);
    let mut sent = 0;
    eventually(
        "traffic back on the primary",
        Duration::from_secs(30),
        || {
            let name = format!("back-{sent}");
            sent += 1;
            client.export(traces_request([name.clone()])).unwrap();
            if backend.received().contains_key(&name) {
                Some(())
            } else {
                std::thread::sleep(Duration::from_millis(100));
                None
            }
        },
    );
    client.export(traces_request(["after"])).unwrap();
    assert_eq!(backend.received().get("after"), Some(&1));
    assert!(
        !names(&secondary).iter().any(|n| n == "after"),
        "the secondary no longer gets data"
    );
    // Nothing was lost: every span is at one of the two.
    let at_secondary = names(&secondary);
    for i in 0..sent {
        let name = format!("back-{i}");
        assert!(
            backend.received().contains_key(&name) || at_secondary.contains(&name),
            "{name} was lost"
        );
    }
    assert!(gateway.is_running());
}

/// A traces request with one span `name` from a resource of `tenant`.
fn tenant_request(
    tenant: &str,
    name: &str,
) -> tributary::pdata::proto::collector::trace::v1::ExportTraceServiceRequest {
    let mut request = traces_request([name]);
    request.resource_spans[0].resource = Some(tributary::pdata::proto::resource::v1::Resource {
        attributes: vec![tributary::pdata::attributes::key_value("tenant", tenant)],
        ..Default::default()
    });
    request
}

#[test]
fn a_reload_changes_the_routes_and_an_invalid_one_leaves_them_running() {
    let dir = temp_dir();
    let (grpc, metrics) = (free_port(), free_port());
    let (a, other) = (dir.path().join("a.jsonl"), dir.path().join("other.jsonl"));
    let config = |condition: &str| {
        format!(
            r#"
receivers:
  otlp:
    protocols:
      grpc: {{ endpoint: "127.0.0.1:{grpc}" }}
exporters:
  file/a: {{ path: "{a}" }}
  file/other: {{ path: "{other}" }}
connectors:
  routing:
    default_pipelines: [traces/other]
    table:
      - condition: '{condition}'
        pipelines: [traces/a]
service:
  telemetry: {{ metrics: {{ address: "127.0.0.1:{metrics}" }} }}
  pipelines:
    traces/in: {{ receivers: [otlp], exporters: [routing] }}
    traces/a: {{ receivers: [routing], exporters: [file/a] }}
    traces/other: {{ receivers: [routing], exporters: [file/other] }}
"#,
            a = a.display(),
            other = other.display(),
        )
    };
    let path = dir.path().join("gateway.yaml");
    let mut gateway = run_gateway(dir.path(), &config(r#"attributes["tenant"] == "a""#), grpc);
    let metrics_addr = format!("127.0.0.1:{metrics}").parse().unwrap();
    wait_listening(metrics_addr, Duration::from_secs(30));
    let counter = |name: &str| metric(&get(metrics_addr, "/metrics").text(), name, &[]);
    let mut client = OtlpClient::new(format!("127.0.0.1:{grpc}").parse().unwrap());

    client.export(tenant_request("a", "first")).unwrap();
    eventually("first in a", Duration::from_secs(20), || {
        (names(&a) == ["first"]).then_some(())
    });

    // A condition outside the language: refused, and the running routes stay.
    replace_file(&path, &config(r#"attributes["tenant"] =~ "a""#));
    eventually("the refused reload", Duration::from_secs(30), || {
        (counter("otelcol_config_reload_failures_total") >= 1.0).then_some(())
    });
    client.export(tenant_request("a", "second")).unwrap();
    eventually("second in a", Duration::from_secs(20), || {
        (names(&a) == ["first", "second"]).then_some(())
    });

    // A valid change: tenant a now falls to the default pipeline.
    replace_file(&path, &config(r#"attributes["tenant"] == "z""#));
    eventually("the applied reload", Duration::from_secs(30), || {
        (counter("otelcol_config_reloads_total") >= 1.0).then_some(())
    });
    client.export(tenant_request("a", "third")).unwrap();
    eventually("third in other", Duration::from_secs(20), || {
        (names(&other) == ["third"]).then_some(())
    });
    assert_eq!(names(&a), ["first", "second"]);
    assert!(gateway.is_running());
}
