//! The `falcon` receiver: Open-Falcon's ingress, so that Falcon agents, scripts and
//! client libraries push to Tributary unchanged, as they would to a Falcon agent or
//! transfer. Falcon is not an OpenTelemetry Collector component; the listeners, routes,
//! replies and rules are those of falcon-plus `modules/agent` and `modules/transfer`.
//!
//! ```yaml
//! receivers:
//!   falcon:
//!     protocols:
//!       http:                      # the agent's /v1/push and the transfer's /api/push
//!         endpoint: 0.0.0.0:6060
//!       rpc:                       # the transfer's JSON-RPC (agents' transfer.addrs)
//!         endpoint: 0.0.0.0:8433
//!       telnet:
//!         endpoint: 0.0.0.0:4444
//! service:
//!   pipelines:
//!     metrics: { receivers: [falcon], exporters: [debug] }
//! ```
//!
//! ```
//! use tributary_confmap::Conf;
//! use tributary_pipeline_core::component::ComponentConfig;
//! use tributary_receivers::falcon::Config;
//!
//! let config: Config = Conf::from_yaml("protocols: { rpc: , http: { endpoint: 0.0.0.0:1988 } }")?.decode()?;
//! config.validate()?;
//! assert!(config.protocols.telnet.is_none());
//! assert_eq!(config.protocols.rpc.unwrap().max_request_size, 20 * 1024 * 1024);
//! assert!(Conf::from_yaml("protocols: { udp: }")?.decode::<Config>().is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Configuration
//!
//! Each listener is served when its key is present under `protocols` (even empty); at
//! least one is required.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `protocols::http` | off | HTTP push; `confighttp`'s server keys (`endpoint` default `localhost:6060`, the transfer's port; an agent listens on `:1988`), `tls`, `auth`, `max_request_body_size`, `include_metadata`, timeouts; `cors` is refused |
//! | `protocols::rpc::endpoint` | `localhost:8433` | the transfer's JSON-RPC listener |
//! | `protocols::rpc::max_request_size` | 20 MiB | the largest JSON-RPC message; a larger one closes the connection (Go has no limit) |
//! | `protocols::rpc::max_connections`, `protocols::telnet::max_connections` | 4096 | connections served at once |
//! | `protocols::telnet::endpoint` | `localhost:4444` | the transfer's telnet listener |
//! | `protocols::telnet::timeout` | `3600s` | a session ends when no line arrived for this long (the transfer's `socket.timeout`) |
//! | `protocols::telnet::max_held_items` | 10000 | items a session holds before they are forwarded early (Falcon holds them all) |
//!
//! # The routes and their answers
//!
//! | request | answer |
//! |---|---|
//! | `POST /v1/push`, a JSON array of `MetricValue` (any method, any content type) | `200 success`; empty body `400 body is blank`; not a JSON array `400 connot decode body` (sic) |
//! | `POST /api/push`, the same body | `200 {"msg":"success","data":{"Message":"ok","Total":n,"Invalid":k,"Latency":ms}}`; `400 blank body` / `400 decode error` |
//! | JSON-RPC `Transfer.Update` with `params: [[MetricValue...]]` | `{"id":N,"result":{"Message":"ok","Total":n,"Invalid":k,"Latency":ms},"error":null}` |
//! | JSON-RPC `Transfer.Ping` | `{"id":N,"result":{"code":0},"error":null}`; any other method gets Go's `rpc: can't find ...` error |
//! | telnet `update <endpoint> <metric> <ts> <value> [type] [step]`, `quit` | nothing; items are forwarded when the session ends |
//!
//! Each item is validated as the transfer does: an invalid item (null, `kernel.hostname`,
//! empty metric or endpoint, an unknown `counterType`, a value that is not a number or a
//! numeric string, `step <= 0`, `len(metric)+len(tags) > 510`) is counted in `Invalid`
//! (and in `otelcol_receiver_failed_metric_points`), and the others are taken. A timestamp
//! `<= 0` or `> 2×now` becomes now. A JSON-RPC message that is not a JSON object closes the
//! connection, as Go's server does; a request whose params do not decode gets an error
//! reply and the connection stays open.
//!
//! # Backpressure
//!
//! Every push returns once the pipeline took its items. When it refuses: HTTP answers
//! `503` (`429` when throttled) with `Retry-After`, or `400` when retrying cannot help; a
//! JSON-RPC call gets an error reply (`try again later: ...`), on which a Falcon agent
//! tries its next transfer; telnet has no answer, so the refusal is counted. Falcon's agent
//! answers `success` whatever happens downstream.
//!
//! # From Falcon to metrics
//!
//! `GAUGE` becomes a gauge, `COUNTER` and `DERIVE` a cumulative monotonic sum (start time
//! unknown); the endpoint, the tags and the `step` (an int, seconds) become data point
//! attributes `endpoint`, each tag's key and `step`. The rate, alignment and nodata
//! processors read `step`. See `tributary_translator_falcon` for the whole mapping.
//!
//! # Where Tributary differs
//!
//! - Telnet items are held to the JSON routes' rules (timestamp fix, `step > 0`); Falcon
//!   forwards them unchecked. A session holds at most `max_held_items` at once.
//! - String values are parsed as Rust's `f64` parser reads them, which is Go's
//!   `ParseFloat` except for hexadecimal floats and `_` separators.
//! - An `/v1/push` with a body of `Transfer-Encoding: chunked` and no bytes answers
//!   `body is blank` (Go: `connot decode body`).

mod config;
mod factory;
mod http;
mod receiver;
mod rpc;
mod telnet;

#[cfg(test)]
mod tests;

pub use config::{
    Config, DEFAULT_HTTP_ENDPOINT, DEFAULT_MAX_HELD_ITEMS, DEFAULT_MAX_REQUEST_SIZE,
    DEFAULT_RPC_ENDPOINT, DEFAULT_TELNET_ENDPOINT, DEFAULT_TELNET_TIMEOUT, HttpConfig, Protocols,
    RpcConfig, TelnetConfig,
};
pub use factory::factory;
