//! The custom collector (built-in components plus the three third-party components of
//! `examples/plugin-crate`) runs pipelines through the plugins: OTLP and TCP lines in,
//! passwords masked, JSON lines out.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn the_plugins_receive_redact_and_write() {
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let (grpc, http_port, lines_port) = (free_port(), free_port(), free_port());
    let args = [
        format!("--set=receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{grpc}"),
        format!("--set=receivers.otlp.protocols.http.endpoint=127.0.0.1:{http_port}"),
        format!("--set=receivers.lines.endpoint=127.0.0.1:{lines_port}"),
        format!("--set=exporters.json_lines.path={}", out.display()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut collector = Proc::spawn(&example("custom_collector"), &args, &[]);
    let addr = format!("127.0.0.1:{http_port}").parse().unwrap();
    wait_listening(addr, Duration::from_secs(20));

    let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
        "scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"checkout",
        "attributes":[{"key":"password","value":{"stringValue":"hunter2"}}]}]}]}]}"#;
    let response = http(
        "POST",
        addr,
        "/v1/traces",
        &[("Content-Type", "application/json")],
        body,
    );
    assert_eq!(response.status, 200, "{}", response.text());

    let lines_addr = format!("127.0.0.1:{lines_port}").parse().unwrap();
    wait_listening(lines_addr, Duration::from_secs(20));
    {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(lines_addr).unwrap();
        stream.write_all(b"temperature 21.5\n").unwrap();
    }

    let lines = eventually(
        "the span and the gauge in the file",
        Duration::from_secs(15),
        || {
            let lines = read_json_lines(&out);
            let has = |key: &str| lines.iter().any(|line| line.get(key).is_some());
            (has("resourceSpans") && has("resourceMetrics")).then_some(lines)
        },
    );
    let traces = lines
        .iter()
        .find(|l| l.get("resourceSpans").is_some())
        .unwrap();
    let span = &traces["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["name"], "checkout");
    assert_eq!(span["attributes"][0]["key"], "password");
    assert_eq!(
        span["attributes"][0]["value"]["stringValue"], "****",
        "{span}"
    );
    let metrics = lines
        .iter()
        .find(|l| l.get("resourceMetrics").is_some())
        .unwrap();
    let metric = &metrics["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0];
    assert_eq!(metric["name"], "temperature");
    assert_eq!(
        metric["gauge"]["dataPoints"][0]["asDouble"], 21.5,
        "{metric}"
    );
    assert!(collector.is_running());
}
