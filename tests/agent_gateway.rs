//! Agent → gateway → file on one machine: every span sent to the agent arrives once.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use tributary::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient;
use tributary::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

fn request(batch: usize, spans: usize) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .map(|i| Span {
                        name: format!("span-{batch}-{i}"),
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn every_span_sent_to_the_agent_reaches_the_gateway_once() {
    let dir = temp_dir();
    let out = dir.path().join("gateway-out.jsonl");
    let configs = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/configs");
    let (gateway_grpc, gateway_http, agent_grpc, agent_http) =
        (free_port(), free_port(), free_port(), free_port());

    let gateway_config = format!("{configs}/gateway-to-file.yaml");
    let gateway_args = [
        "--config".to_string(),
        gateway_config,
        "--set".into(),
        format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{gateway_grpc}"),
        "--set".into(),
        format!("receivers.otlp.protocols.http.endpoint=127.0.0.1:{gateway_http}"),
        "--set".into(),
        "service.telemetry.metrics.level=none".into(),
    ];
    let out_env = out.display().to_string();
    let gateway_args: Vec<&str> = gateway_args.iter().map(String::as_str).collect();
    let _gateway = Proc::spawn(
        &example("gateway"),
        &gateway_args,
        &[("TRIBUTARY_OUT", out_env.as_str())],
    );

    let agent_config = format!("{configs}/agent-to-gateway.yaml");
    let agent_args = [
        "--config".to_string(),
        agent_config,
        "--set".into(),
        format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{agent_grpc}"),
        "--set".into(),
        format!("receivers.otlp.protocols.http.endpoint=127.0.0.1:{agent_http}"),
        "--set".into(),
        "service.telemetry.metrics.level=none".into(),
    ];
    let agent_args: Vec<&str> = agent_args.iter().map(String::as_str).collect();
    let gateway_address = format!("127.0.0.1:{gateway_grpc}");
    let mut agent = Proc::spawn(
        &example("agent"),
        &agent_args,
        &[("TRIBUTARY_GATEWAY", gateway_address.as_str())],
    );
    wait_listening(
        format!("127.0.0.1:{agent_grpc}").parse().unwrap(),
        Duration::from_secs(20),
    );
    wait_listening(gateway_address.parse().unwrap(), Duration::from_secs(20));

    let (batches, per_batch) = (40, 50);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut client = TraceServiceClient::connect(format!("http://127.0.0.1:{agent_grpc}"))
            .await
            .unwrap();
        for batch in 0..batches {
            client
                .export(request(batch, per_batch))
                .await
                .expect("the agent accepts the batch");
        }
    });

    let total = batches * per_batch;
    let counts = eventually("every span at the gateway", Duration::from_secs(30), || {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for line in read_json_lines(&out) {
            for rs in line["resourceSpans"].as_array().into_iter().flatten() {
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    for span in ss["spans"].as_array().into_iter().flatten() {
                        *counts
                            .entry(span["name"].as_str().unwrap().to_string())
                            .or_default() += 1;
                    }
                }
            }
        }
        (counts.values().sum::<usize>() >= total).then_some(counts)
    });
    assert_eq!(counts.len(), total, "every span arrived");
    let duplicated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicated.is_empty(),
        "spans arrived more than once: {duplicated:?}"
    );
    assert!(agent.is_running());
}
