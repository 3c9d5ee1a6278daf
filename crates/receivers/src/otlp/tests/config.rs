//! Configuration: defaults, presence-enables, the Go Collector's keys, and errors that
//! name the key they concern.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::otlp::{GrpcConfig, HttpConfig};
use tributary_pipeline_core::component::parse_endpoint;

#[test]
fn a_protocol_key_alone_enables_it_with_defaults() {
    let grpc_only = config("protocols:\n  grpc:\n");
    let grpc = grpc_only.protocols.grpc.expect("gRPC enabled");
    assert!(grpc_only.protocols.http.is_none());
    assert_eq!(grpc.server.endpoint, "127.0.0.1:4317");
    assert_eq!(grpc.server.max_message_size(), 4 << 20);

    let both = config("protocols: {grpc: , http: }");
    assert_eq!(
        both.protocols.grpc.unwrap().server.endpoint,
        "127.0.0.1:4317"
    );
    let http = both.protocols.http.expect("HTTP enabled");
    assert_eq!(http.server.endpoint, "127.0.0.1:4318");
    assert_eq!(http.server.max_body_size(), 20 << 20);
    assert_eq!(
        [
            http.traces_url_path,
            http.metrics_url_path,
            http.logs_url_path
        ],
        ["/v1/traces", "/v1/metrics", "/v1/logs"]
    );
    // 32 and 8 MiB per core, up to otel-arrow's 128 and 32 MiB.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    assert_eq!(
        both.admission.request_limit_mib,
        (32 * cores).clamp(32, 128)
    );
    assert_eq!(both.admission.waiting_limit_mib, (8 * cores).clamp(8, 32));
    // Whatever the cores, the default admits the largest request either protocol allows.
    assert!(both.admission.request_limit_mib << 20 >= http.server.max_body_size() as u64);
}

#[test]
fn zero_sizes_mean_the_defaults() {
    let mut grpc = GrpcConfig::default();
    grpc.server.max_recv_msg_size_mib = 0;
    assert_eq!(grpc.server.max_message_size(), 4 << 20);
    let mut http = HttpConfig::default();
    http.server.max_request_body_size = 0;
    assert_eq!(http.server.max_body_size(), 20 << 20);
}

#[test]
fn without_a_protocol_the_error_names_protocols() {
    for yaml in [
        "",
        "protocols:",
        "protocols: {}",
        "admission: {request_limit_mib: 0}",
    ] {
        assert_eq!(
            try_config(yaml).unwrap_err(),
            "protocols: must enable at least one protocol: grpc or http",
            "{yaml:?}"
        );
    }
}

#[test]
fn the_go_collector_keys_decode() {
    let yaml = std::fs::read_to_string(testdata("config.yaml")).unwrap();
    let parsed = config(&yaml);
    let grpc = parsed.protocols.grpc.as_ref().unwrap();
    assert_eq!(grpc.server.endpoint, "0.0.0.0:4317");
    assert_eq!(grpc.server.max_message_size(), 16 << 20);
    assert_eq!(grpc.server.max_concurrent_streams, 100);
    assert!(grpc.server.include_metadata);
    let parameters = grpc.server.keepalive_parameters().unwrap();
    assert_eq!(parameters.time, Some(Duration::from_secs(30)));
    assert_eq!(parameters.timeout, Some(Duration::from_secs(5)));
    assert_eq!(parameters.max_connection_age, Some(Duration::from_secs(12)));
    assert_eq!(
        parameters.max_connection_age_grace,
        Some(Duration::from_secs(13))
    );
    let tls = grpc.server.tls.as_ref().unwrap();
    assert_eq!(tls.client_ca_file, "/etc/otel/ca.pem");
    assert_eq!(
        tls.versions(),
        (
            tributary_pipeline_core::configtls::TlsVersion::V1_2,
            tributary_pipeline_core::configtls::TlsVersion::V1_3
        )
    );
    assert_eq!(
        grpc.server
            .auth
            .as_ref()
            .unwrap()
            .bearer_token
            .as_ref()
            .unwrap()
            .expose(),
        "${env:OTLP_TOKEN}"
    );

    let http = parsed.protocols.http.as_ref().unwrap();
    assert_eq!(
        parse_endpoint(&http.server.endpoint),
        Ok("127.0.0.1:4318".parse().unwrap())
    );
    assert_eq!(http.server.transport, "tcp");
    assert_eq!(http.traces_url_path, "/otlp/v1/traces");
    assert_eq!(http.server.max_body_size(), 10 << 20);
    let cors = http.server.cors.as_ref().unwrap();
    assert_eq!(cors.allowed_origins.len(), 2);
    assert_eq!(cors.max_age, 7200);
    assert_eq!(parsed.admission.request_limit(), Some(64 << 20));
    assert_eq!(parsed.admission.waiting_limit(), 16 << 20);
}

#[test]
fn endpoints_parse_like_the_go_collector() {
    let ok = |endpoint: &str, expected: &str| {
        assert_eq!(
            parse_endpoint(endpoint),
            Ok(expected.parse::<SocketAddr>().unwrap()),
            "{endpoint}"
        );
    };
    ok("127.0.0.1:4317", "127.0.0.1:4317");
    ok("localhost:4317", "127.0.0.1:4317");
    ok(":4317", "0.0.0.0:4317");
    ok("0.0.0.0:4318", "0.0.0.0:4318");
    ok("[::1]:4317", "[::1]:4317");
    for bad in [
        "x",
        "localhost",
        "collector.internal:4317",
        "127.0.0.1:99999",
        "127.0.0.1:",
    ] {
        let error = parse_endpoint(bad).unwrap_err();
        assert!(
            error.starts_with(&format!("invalid socket address {bad:?}")),
            "{error}"
        );
    }
}

#[test]
fn errors_name_the_key_they_concern() {
    // The default budget follows the cores this test may use.
    let default_too_small = format!(
        "admission::request_limit_mib: {} MiB cannot admit the largest request protocols::http::max_request_body_size allows",
        crate::otlp::AdmissionConfig::default().request_limit_mib
    );
    let cases = [
        (
            "protocols: {grpc: {endpoint: x}}",
            "protocols::grpc::endpoint: invalid socket address \"x\"",
        ),
        (
            "protocols: {http: {endpoint: \"example_com:80\"}}",
            "protocols::http::endpoint: invalid socket address \"example_com:80\"",
        ),
        ("protocols: {grpc: {endpiont: x}}", "protocols::grpc"),
        ("protocols: {thrift: }", "protocols"),
        (
            "protocols: {grpc: {keepalive: {server_parameters: {time: soon}}}}",
            "protocols::grpc::keepalive::server_parameters::time: ",
        ),
        (
            "protocols: {grpc: {max_recv_msg_size_mib: big}}",
            "protocols::grpc::max_recv_msg_size_mib: ",
        ),
        (
            "protocols: {grpc: {transport: udp}}",
            "protocols::grpc::transport: unsupported transport \"udp\"",
        ),
        (
            "protocols: {http: {transport: udp4}}",
            "protocols::http::transport: unsupported transport \"udp4\"",
        ),
        (
            "protocols: {http: {tls: {cert_file: a.pem}}}",
            "protocols::http::tls::key_file: is required to serve TLS",
        ),
        (
            "protocols: {grpc: {tls: {cert_file: a, key_file: b, min_version: \"1.1\"}}}",
            "protocols::grpc::tls::min_version: TLS 1.1 is not supported: rustls does not support TLS 1.0/1.1",
        ),
        (
            "protocols: {grpc: {tls: {cert_file: a, key_file: b, min_version: \"1.3\", max_version: \"1.2\"}}}",
            "protocols::grpc::tls::max_version: must not be lower than min_version",
        ),
        (
            "protocols: {grpc: {auth: {bearer_token: \"\"}}}",
            "protocols::grpc::auth::bearer_token: must not be empty",
        ),
        (
            "protocols: {http: {auth: {authenticator: \"not an id\"}}}",
            "protocols::http::auth::authenticator: ",
        ),
        (
            "protocols: {http: {cors: {allowed_origins: [\"https://*.*.example.com\"]}}}",
            "protocols::http::cors::allowed_origins::0: ",
        ),
        (
            "protocols: {http: {cors: {allowed_origins: [\"*\"], allowed_headers: [\"bad header\"]}}}",
            "protocols::http::cors::allowed_headers::0: ",
        ),
        (
            "protocols: {http: {metrics_url_path: v1/traces}}",
            "protocols::http::metrics_url_path: \"/v1/traces\" is already used by traces_url_path",
        ),
        (
            "protocols: {http: {logs_url_path: \"/v1/logs?x=1\"}}",
            "protocols::http::logs_url_path: invalid URL path",
        ),
        (
            "protocols: {grpc: {endpoint: \"127.0.0.1:5000\"}, http: {endpoint: \"127.0.0.1:5000\"}}",
            "protocols::http::endpoint: \"127.0.0.1:5000\" is already the gRPC endpoint",
        ),
        (
            "protocols: {http: {max_request_body_size: 209715200}}",
            default_too_small.as_str(),
        ),
        (
            "protocols: {grpc: }\nadmission: {request_limit_mib: 2}",
            "admission::request_limit_mib: 2 MiB cannot admit the largest request protocols::grpc::max_recv_msg_size_mib allows",
        ),
        ("protocols: {grpc: }\nadmission: {limit: 2}", "admission"),
    ];
    for (yaml, expected) in cases {
        let error = try_config(yaml).expect_err(yaml);
        assert!(
            error.starts_with(expected),
            "{yaml}\n  got: {error}\n  expected: {expected}"
        );
    }
}

#[test]
fn admission_can_be_disabled() {
    let disabled = config(
        "protocols: {http: {max_request_body_size: 209715200}}\nadmission: {request_limit_mib: 0}",
    );
    assert_eq!(disabled.admission.request_limit(), None);
}

#[test]
fn the_bearer_token_is_never_printed() {
    let with_token = config("protocols: {grpc: {auth: {bearer_token: hunter2}}}");
    assert!(!format!("{with_token:?}").contains("hunter2"));
}

/// Issue 13: host names in listen addresses (`mysite.local:55690`, from the Go
/// Collector's testdata) were refused; Go resolves them when it listens, and so does the
/// receiver now, at start.
#[test]
fn host_names_are_accepted_as_endpoints() {
    let parsed = config(
        "protocols: {grpc: {endpoint: \"mysite.local:55690\"}, http: {endpoint: \"collector:4318\"}}",
    );
    assert_eq!(
        parsed.protocols.grpc.unwrap().server.endpoint,
        "mysite.local:55690"
    );
}
