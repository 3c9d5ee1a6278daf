//! The `opentsdb` receiver: OpenTSDB's write APIs, the HTTP `/api/put` and the telnet
//! `put` command, so tcollector, scollector, Telegraf's `outputs.opentsdb`, Falcon's
//! transfer and any OpenTSDB client can write here unchanged. There is no Go Collector
//! receiver for OpenTSDB; the contract is the TSD's own (opentsdb.net `api_http/put`,
//! `api_telnet/put`, and its `PutDataPointRpc`).
//!
//! ```yaml
//! receivers:
//!   opentsdb:
//!     endpoint: 0.0.0.0:4242
//!     telnet:
//!       endpoint: 0.0.0.0:4243
//! service:
//!   pipelines:
//!     metrics: { receivers: [opentsdb], exporters: [debug] }
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `localhost:4242` | where the HTTP API listens |
//! | `tls`, `auth`, `max_request_body_size`, `compression_algorithms`, `include_metadata`, `read_timeout`, `write_timeout`, ... | as [`confighttp`](tributary_pipeline_core::confighttp) | the HTTP server block; `write_timeout` bounds the wait for the pipeline |
//! | `cors` | unset | refused: browsers do not put data points |
//! | `telnet.endpoint` | unset (off) | where the telnet listener listens |
//! | `telnet.max_connections` | as the TCP server block | telnet connections served at once; more are closed |
//! | `max_tags` | `8` | the most tags a point may carry (the TSD's `tsd.storage.max_tags`) |
//!
//! A TSD serves HTTP and telnet on one port and tells them apart by the first bytes; here
//! they are two listeners, so a telnet sender is pointed at `telnet.endpoint`.
//!
//! # `/api/put`
//!
//! `POST /api/put` with one data point object or an array of them,
//! `{"metric":"sys.cpu.nice","timestamp":1346846400,"value":18,"tags":{"host":"web01"}}`.
//! Each point is checked alone, as the TSD checks it, and the good ones are delivered
//! even when others fail:
//!
//! | case | answer |
//! |---|---|
//! | every point delivered | `204`; with `?summary` `200 {"success":N,"failed":0}`; with `?details` also `"errors":[]` |
//! | some points failed (the good ones are delivered) | `400 {"error":{"code":400,"message":"One or more data points had errors",...}}`; with `?summary` `400 {"success":S,"failed":F}`; with `?details` also `"errors":[{"datapoint":{...},"error":"..."}]` |
//! | empty body, not JSON, not objects, an empty array | `400` with the TSD's error object (`Missing message content`, `Unable to parse the given JSON`, `No datapoints found in content`); nothing delivered |
//! | the pipeline refuses permanently | as a failure of every good point (`400`) |
//! | the pipeline refuses retryably / throttled, or does not answer within `sync_timeout` (ms) or `write_timeout` | `503` / `429` with `Retry-After`; nothing was taken, send again |
//! | body over `max_request_body_size` (before or after `Content-Encoding: gzip`, ...) | `413` |
//! | another method / path | `405` / `404` |
//!
//! The answer always waits for the pipeline, so `?sync` is how every request is served;
//! `sync_timeout` bounds the wait. `GET /api/version` answers `{"version": ...}`.
//!
//! The checks, in the TSD's order and words: `Metric name was empty`, `Invalid timestamp`
//! (missing or `<= 0`), `Empty value`, `Missing tags`, `Unable to parse value to a number`,
//! then `value is NaN or Infinite`, `bad timestamp=...` (a timestamp that fits 32 bits is
//! seconds, else it must be 13 digits of milliseconds), `Too many tags`, and names with
//! characters other than ASCII letters and digits, `-_./` and Unicode letters. Fields the
//! TSD does not know are ignored, as it ignores them.
//!
//! # Telnet
//!
//! `put <metric> <timestamp> <value> <tagk=tagv> [...]`, one per line. Success is
//! silent; a bad line is answered `put: illegal argument: ...` or `put: invalid value:
//! ...` (the TSD's words) and the connection stays open; `version`, `help` and `exit`
//! work; another command gets ``unknown command: X.  Try `help'.``. A timestamp with a
//! dot (`1356998400.123`) is milliseconds. The points of each read's complete lines go to
//! the pipeline together and the next read waits for its answer, so a slow pipeline slows
//! the sender; a refusal is answered `put: storage error: ...` (the TSD's `put: HBase
//! error:`). A line longer than 64 KiB closes the connection.
//!
//! # From data points to metrics
//!
//! Each point is a gauge named by its metric, its tags as the point's attributes (all
//! strings), in the scope `tributary/opentsdb`; integer values stay integers. The TSD
//! stores floats as 32-bit floats; here they keep their 64 bits.
//!
//! [`decode_put_body`] and [`parse_telnet_line`] are the decoders alone (for fuzzing).

mod config;
mod factory;
mod point;
mod put_json;
mod receiver;
mod telnet;

#[cfg(test)]
mod tests;

pub use config::{Config, DEFAULT_ENDPOINT};
pub use factory::factory;
pub use point::{DEFAULT_MAX_TAGS, DataPoint, PointValue, SCOPE_NAME};
pub use put_json::{BodyError, PointFailure, PutBody, decode_put_body};
pub use receiver::PUT_PATH;
pub use telnet::{TelnetCommand, parse_telnet_line};
