#![warn(missing_docs)]
//! Open-Falcon's wire formats and their mapping to OTLP metrics: what the `falcon`
//! receiver and exporter share (as the Go Collector keeps protocol code in
//! `pkg/translator`).
//!
//! | piece | Falcon source | here |
//! |---|---|---|
//! | `MetricValue` JSON, per-item validation, timestamp rule | `common/model/metric.go`, `transfer/receiver/rpc/rpc_transfer.go` | [`decode_push`], [`FalconItem`] |
//! | tag strings, sorted tags, primary key | `common/utils` | [`parse_tags`], [`sorted_tags`], [`primary_key`] |
//! | JSON-RPC 1.0 over TCP (Go `net/rpc/jsonrpc`) | Go standard library | [`FrameSplitter`], [`jsonrpc`] |
//! | telnet `update` lines | `transfer/receiver/socket/socket_telnet.go` | [`parse_telnet_line`] |
//! | consistent-hash ring | `toolkits/consistent`, `transfer/sender/node_rings.go` | [`HashRing`] |
//! | `GraphItem`, `JudgeItem`, replies | `common/model`, `transfer/sender/sender.go` | [`GraphItem`], [`JudgeItem`], [`TransferResponse`] |
//! | items ⇄ OTLP | — | [`items_to_metrics`], [`metrics_to_items`] |
//!
//! Crates: `serde_json` reads the JSON (its value tree lets the decoder follow Go's rules:
//! case-insensitive keys, the first value only); `crc32fast` computes the ring's CRC32-IEEE
//! (the checksum Go's `hash/crc32` computes; it is the crate `flate2` already uses).

pub mod jsonrpc;
mod metrics;
mod model;
mod ring;
mod tags;
mod telnet;

pub use jsonrpc::{FrameError, FrameSplitter};
pub use metrics::{
    ENDPOINT_ATTRIBUTE, HOST_NAME_ATTRIBUTE, STEP_ATTRIBUTE, items_to_metrics, metrics_to_items,
};
pub use model::{
    CounterType, DecodeError, FalconItem, GraphItem, JudgeItem, MAX_METRIC_AND_TAGS, MetricValue,
    Push, SimpleRpcResponse, TransferResponse, decode_push, fix_timestamp, parse_go_float,
    push_from_value,
};
pub use ring::{DEFAULT_REPLICAS, HashRing, crc32_ieee};
pub use tags::{parse_tags, primary_key, sanitize_tag, sorted_tags};
pub use telnet::{DEFAULT_STEP, TelnetLine, parse_telnet_line};
