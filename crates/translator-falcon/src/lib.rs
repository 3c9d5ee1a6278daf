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
//!
//! # The mapping
//!
//! | Falcon | OTLP |
//! |---|---|
//! | `metric` | metric name |
//! | `counterType: GAUGE` | gauge |
//! | `counterType: COUNTER` or `DERIVE` | cumulative monotonic sum, start time unknown (0) |
//! | `value` | double value |
//! | `timestamp` (s) | time (ns) |
//! | `endpoint` | data point attribute `endpoint` |
//! | `step` | data point attribute `step` (int, seconds) |
//! | `tags` | data point attributes (strings) |
//!
//! `step` stays on each point so that the rate, alignment and nodata processors can read
//! the declared reporting period. A tag named `endpoint` or `step` is overwritten by the
//! item's own.
//!
//! Back to Falcon ([`metrics_to_items`]): gauges and sums (of any temporality) become items; a
//! cumulative monotonic sum is a `COUNTER`, anything else a `GAUGE`. The endpoint is the
//! point's `endpoint` attribute, else the resource's `host.name`; a point with neither is
//! left out (and counted). The step is the `step` attribute (an int, or a string of
//! digits), else the default given. Other point attributes become tags: their text (as
//! [`as_string`](tributary_pipeline_core::pdata::value_text::as_string)), with spaces removed and `,` (and `=` in keys) replaced by `_`, so the
//! tag string reads back to the same tags. Histograms, exponential histograms and
//! summaries have no Falcon form and are left out (and counted).

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
