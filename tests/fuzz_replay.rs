//! Replays every fuzz target's committed seeds (`fuzz/seeds/<target>/`, the inputs that once
//! crashed a target among them) through the target's body (`fuzz/bodies/<target>.rs`, the
//! code the fuzz binary runs), as ordinary tests: a fixed crash stays fixed, and the bodies
//! keep compiling with the workspace. Fuzzing itself is `scripts/fuzz` (nightly, cargo-fuzz).

use std::collections::BTreeSet;
use std::fs;
use std::panic;
use std::path::{Path, PathBuf};

#[path = "../fuzz/bodies/attributes_processors.rs"]
mod attributes_processors;
#[path = "../fuzz/bodies/carbon_plaintext.rs"]
mod carbon_plaintext;
#[path = "../fuzz/bodies/collectd_json.rs"]
mod collectd_json;
#[path = "../fuzz/bodies/config_loader.rs"]
mod config_loader;
#[path = "../fuzz/bodies/elasticsearch_bulk_response.rs"]
mod elasticsearch_bulk_response;
#[path = "../fuzz/bodies/falcon_jsonrpc.rs"]
mod falcon_jsonrpc;
#[path = "../fuzz/bodies/falcon_push.rs"]
mod falcon_push;
#[path = "../fuzz/bodies/falcon_telnet.rs"]
mod falcon_telnet;
#[path = "../fuzz/bodies/filelog_split.rs"]
mod filelog_split;
#[path = "../fuzz/bodies/grpc_framing.rs"]
mod grpc_framing;
#[path = "../fuzz/bodies/hostmetrics_proc_text.rs"]
mod hostmetrics_proc_text;
#[path = "../fuzz/bodies/http_decompression.rs"]
mod http_decompression;
#[path = "../fuzz/bodies/influx_line_protocol.rs"]
mod influx_line_protocol;
#[path = "../fuzz/bodies/jaeger_proto.rs"]
mod jaeger_proto;
#[path = "../fuzz/bodies/jaeger_thrift_binary.rs"]
mod jaeger_thrift_binary;
#[path = "../fuzz/bodies/jaeger_thrift_compact.rs"]
mod jaeger_thrift_compact;
#[path = "../fuzz/bodies/lookout_bulk.rs"]
mod lookout_bulk;
#[path = "../fuzz/bodies/lookout_standard.rs"]
mod lookout_standard;
#[path = "../fuzz/bodies/lookout_tagged_routes.rs"]
mod lookout_tagged_routes;
#[path = "../fuzz/bodies/lookup_table.rs"]
mod lookup_table;
#[path = "../fuzz/bodies/nats_message.rs"]
mod nats_message;
#[path = "../fuzz/bodies/opentsdb_put_json.rs"]
mod opentsdb_put_json;
#[path = "../fuzz/bodies/opentsdb_telnet.rs"]
mod opentsdb_telnet;
#[path = "../fuzz/bodies/otel_resource_attributes.rs"]
mod otel_resource_attributes;
#[path = "../fuzz/bodies/otlp_json_traces.rs"]
mod otlp_json_traces;
#[path = "../fuzz/bodies/otlp_proto_retain.rs"]
mod otlp_proto_retain;
#[path = "../fuzz/bodies/otlp_proto_traces.rs"]
mod otlp_proto_traces;
#[path = "../fuzz/bodies/ottl_log_parsers.rs"]
mod ottl_log_parsers;
#[path = "../fuzz/bodies/ottl_statement.rs"]
mod ottl_statement;
#[path = "../fuzz/bodies/prometheus_accept.rs"]
mod prometheus_accept;
#[path = "../fuzz/bodies/prometheus_push.rs"]
mod prometheus_push;
#[path = "../fuzz/bodies/prometheus_remote_write.rs"]
mod prometheus_remote_write;
#[path = "../fuzz/bodies/prometheus_remote_write_encoded.rs"]
mod prometheus_remote_write_encoded;
#[path = "../fuzz/bodies/prometheus_text.rs"]
mod prometheus_text;
#[path = "../fuzz/bodies/sampling_tracestate.rs"]
mod sampling_tracestate;
#[path = "../fuzz/bodies/stanza_container.rs"]
mod stanza_container;
#[path = "../fuzz/bodies/stanza_expr.rs"]
mod stanza_expr;
#[path = "../fuzz/bodies/statsd.rs"]
mod statsd;
#[path = "../fuzz/bodies/syslog_octet_framing.rs"]
mod syslog_octet_framing;
#[path = "../fuzz/bodies/syslog_rfc3164.rs"]
mod syslog_rfc3164;
#[path = "../fuzz/bodies/syslog_rfc5424.rs"]
mod syslog_rfc5424;
#[path = "../fuzz/bodies/zipkin_json_v1.rs"]
mod zipkin_json_v1;
#[path = "../fuzz/bodies/zipkin_json_v2.rs"]
mod zipkin_json_v2;
#[path = "../fuzz/bodies/zipkin_proto.rs"]
mod zipkin_proto;

/// A `#[test]` per target replaying its seeds, and the list of targets replayed.
macro_rules! replay_tests {
    ($($target:ident,)*) => {
        const REPLAYED: &[&str] = &[$(stringify!($target)),*];
        $(
            #[test]
            fn $target() {
                replay(stringify!($target), $target::run);
            }
        )*
    };
}

replay_tests! {
    attributes_processors,
    carbon_plaintext,
    collectd_json,
    config_loader,
    elasticsearch_bulk_response,
    falcon_jsonrpc,
    falcon_push,
    falcon_telnet,
    filelog_split,
    grpc_framing,
    hostmetrics_proc_text,
    http_decompression,
    influx_line_protocol,
    jaeger_proto,
    jaeger_thrift_binary,
    jaeger_thrift_compact,
    lookout_bulk,
    lookout_standard,
    lookout_tagged_routes,
    lookup_table,
    nats_message,
    opentsdb_put_json,
    opentsdb_telnet,
    otel_resource_attributes,
    otlp_json_traces,
    otlp_proto_retain,
    otlp_proto_traces,
    ottl_log_parsers,
    ottl_statement,
    prometheus_accept,
    prometheus_push,
    prometheus_remote_write,
    prometheus_remote_write_encoded,
    prometheus_text,
    sampling_tracestate,
    stanza_container,
    stanza_expr,
    statsd,
    syslog_octet_framing,
    syslog_rfc3164,
    syslog_rfc5424,
    zipkin_json_v1,
    zipkin_json_v2,
    zipkin_proto,
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Runs `run` on every seed of `target`; fails naming each seed it panicked on.
fn replay(target: &str, run: fn(&[u8])) {
    let dir = fuzz_dir().join("seeds").join(target);
    let mut seeds: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "{} holds no seeds", dir.display());
    let mut panicked = Vec::new();
    for seed in &seeds {
        let data = fs::read(seed).unwrap_or_else(|e| panic!("cannot read {}: {e}", seed.display()));
        if panic::catch_unwind(|| run(&data)).is_err() {
            eprintln!("{target} panicked on {} (message above)", seed.display());
            panicked.push(seed.display().to_string());
        }
    }
    assert!(
        panicked.is_empty(),
        "{target} panicked on {} of {} seeds: {panicked:?}; reproduce one with \
         `cargo +nightly fuzz run {target} <seed>` in fuzz/",
        panicked.len(),
        seeds.len()
    );
}

/// The names of the `.rs` files (or of the directories) in `dir`.
fn stems(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .collect()
}

#[test]
fn every_fuzz_target_has_a_body_seeds_and_a_replay() {
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let bins: BTreeSet<String> = manifest
        .split("[[bin]]")
        .skip(1)
        .map(|section| {
            section
                .lines()
                .find_map(|line| line.strip_prefix("name = "))
                .expect("a [[bin]] with a name")
                .trim_matches('"')
                .to_owned()
        })
        .collect();
    let replayed: BTreeSet<String> = REPLAYED.iter().map(|t| t.to_string()).collect();
    assert_eq!(
        bins, replayed,
        "fuzz/Cargo.toml's [[bin]]s and the targets replayed here"
    );
    assert_eq!(
        stems(&fuzz_dir().join("fuzz_targets")),
        bins,
        "fuzz/fuzz_targets/"
    );
    assert_eq!(stems(&fuzz_dir().join("bodies")), bins, "fuzz/bodies/");
    assert_eq!(stems(&fuzz_dir().join("seeds")), bins, "fuzz/seeds/");
}
