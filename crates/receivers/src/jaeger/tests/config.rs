//! The configuration: Go's keys and defaults, unknown keys and bad values refused with
//! their path.

use tributary_pipeline_core::component::{ComponentConfig, load_config};

use crate::jaeger::Config;

fn load(yaml: &str) -> Result<Config, String> {
    load_config::<Config>(yaml).map_err(|e| e.to_string())
}

#[test]
fn present_protocols_take_go_defaults() {
    let config =
        load("protocols:\n  grpc:\n  thrift_http:\n  thrift_compact:\n  thrift_binary:\n").unwrap();
    let protocols = config.protocols;
    assert_eq!(protocols.grpc.unwrap().server.endpoint, "localhost:14250");
    assert_eq!(
        protocols.thrift_http.unwrap().server.endpoint,
        "localhost:14268"
    );
    let compact = protocols.thrift_compact.unwrap();
    assert_eq!(compact.endpoint, "");
    assert_eq!(
        (
            compact.queue_size,
            compact.max_packet_size,
            compact.workers,
            compact.socket_buffer_size
        ),
        (1000, 65000, 10, 0)
    );
    assert_eq!(protocols.thrift_binary.unwrap(), compact);
}

#[test]
fn at_least_one_protocol_is_required() {
    let error = load("protocols: {}").unwrap_err();
    assert!(
        error.contains("protocols") && error.contains("at least one"),
        "{error}"
    );
    assert!(Config::default().validate().is_err());
}

#[test]
fn unknown_keys_are_refused_with_their_path() {
    let error = load("protocols:\n  thrift_udp: {}\n").unwrap_err();
    assert!(error.contains("thrift_udp"), "{error}");
    let error = load("protocols:\n  thrift_compact:\n    queue: 5\n").unwrap_err();
    assert!(
        error.contains("protocols::thrift_compact") && error.contains("queue"),
        "{error}"
    );
    let error = load("protocols:\n  grpc:\n    endpoint: localhost:1\n  remote_sampling: {}\n");
    assert!(error.is_err());
    let error = load("remote_sampling:\n  host_endpoint: localhost:5778\nprotocols:\n  grpc:\n")
        .unwrap_err();
    assert!(error.contains("remote_sampling"), "{error}");
}

#[test]
fn unsupported_udp_settings_say_why() {
    let error = load("protocols:\n  thrift_binary:\n    socket_buffer_size: 65536\n").unwrap_err();
    assert!(
        error.contains("protocols::thrift_binary::socket_buffer_size")
            && error.contains("not supported"),
        "{error}"
    );
    for key in ["queue_size", "workers", "max_packet_size"] {
        let error = load(&format!("protocols:\n  thrift_compact:\n    {key}: 0\n")).unwrap_err();
        assert!(
            error.contains(&format!("protocols::thrift_compact::{key}")),
            "{error}"
        );
    }
    let error = load("protocols:\n  thrift_compact:\n    max_packet_size: 70000\n").unwrap_err();
    assert!(error.contains("65535"), "{error}");
    let error = load("protocols:\n  thrift_compact:\n    endpoint: nowhere\n").unwrap_err();
    assert!(
        error.contains("protocols::thrift_compact::endpoint"),
        "{error}"
    );
}

#[test]
fn server_blocks_are_the_shared_ones() {
    let config = load(
        "protocols:\n  grpc:\n    endpoint: 0.0.0.0:14250\n    max_recv_msg_size_mib: 16\n  thrift_http:\n    endpoint: 0.0.0.0:14268\n    max_request_body_size: 1000\n",
    )
    .unwrap();
    assert_eq!(
        config.protocols.grpc.unwrap().server.max_message_size(),
        16 << 20
    );
    assert_eq!(
        config.protocols.thrift_http.unwrap().server.max_body_size(),
        1000
    );
    let error =
        load("protocols:\n  thrift_http:\n    middlewares: []\n    bogus: 1\n").unwrap_err();
    assert!(error.contains("protocols::thrift_http"), "{error}");
}
