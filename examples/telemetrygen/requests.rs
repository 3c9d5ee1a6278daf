//! The pre-encoded request pool: every body a worker sends is built, encoded and (if asked)
//! compressed before the clock starts, so sending costs a reference-count increment.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{BufMut, Bytes, BytesMut};
use clap::ValueEnum;
use flate2::Compression as GzipLevel;
use flate2::write::GzEncoder;
use prost::Message;

use crate::payloads::{self, Rng};
use crate::points;
use tributary_translator_prometheus::prompb;

/// The kind of telemetry sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
    /// Plain gauge and counter points (`points.rs`), in OTLP, line protocol or StatsD.
    Points,
}

impl Signal {
    /// The gRPC method's path.
    pub fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics | Signal::Points => {
                "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
            }
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }

    /// The default OTLP/HTTP path.
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics | Signal::Points => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    /// What one item is called.
    pub fn items(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics | Signal::Points => "data points",
            Signal::Logs => "log records",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
            Signal::Points => "points",
        }
    }

    /// Encodes a fresh request of `items` items (only points have formats other than OTLP),
    /// with the distinct trace IDs it carries when `shape` asks for fresh ones.
    fn encode(
        self,
        format: Format,
        shape: TraceShape,
        rng: &mut Rng,
        items: usize,
    ) -> (Vec<u8>, Vec<Vec<u8>>) {
        let encoded = match (self, format) {
            (Signal::Traces, _) => {
                let request = payloads::traces(rng, items, shape.max_spans_per_trace);
                let mut ids: Vec<Vec<u8>> = Vec::new();
                let spans = request
                    .resource_spans
                    .iter()
                    .flat_map(|rs| &rs.scope_spans)
                    .flat_map(|ss| &ss.spans);
                for span in spans.filter(|_| shape.fresh_trace_ids) {
                    if !ids.contains(&span.trace_id) {
                        ids.push(span.trace_id.clone());
                    }
                }
                return (request.encode_to_vec(), ids);
            }
            (Signal::Metrics, _) => payloads::metrics(rng, items).encode_to_vec(),
            (Signal::Logs, _) => payloads::logs(rng, items).encode_to_vec(),
            (Signal::Points, Format::Otlp) => {
                points::otlp(&points::points(rng, items), false).encode_to_vec()
            }
            (Signal::Points, Format::OtlpCumulative) => {
                points::otlp(&points::points(rng, items), true).encode_to_vec()
            }
            // Snappy-compressed already: remote write has no uncompressed form.
            (Signal::Points, Format::Prw) => {
                prompb::encode_request(&points::remote_write(&points::points(rng, items)))
            }
            (Signal::Points, Format::Influx) => points::line_protocol(&points::points(rng, items)),
            (Signal::Points, Format::Statsd) => points::statsd(&points::points(rng, items)),
        };
        (encoded, Vec::new())
    }
}

/// How trace requests are shaped, beyond their number of spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceShape {
    /// Each trace has 1 to this many spans.
    pub max_spans_per_trace: usize,
    /// Every body handed out carries trace IDs that no other body handed out carried, so
    /// a tail sampler sees new traces rather than the pool's few thousand over and over.
    pub fresh_trace_ids: bool,
}

impl Default for TraceShape {
    fn default() -> Self {
        TraceShape {
            max_spans_per_trace: payloads::MAX_SPANS_PER_TRACE,
            fresh_trace_ids: false,
        }
    }
}

/// The OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// OTLP/gRPC (HTTP/2 without TLS).
    Grpc,
    /// OTLP/HTTP with protobuf bodies, or line protocol (HTTP/1.1 without TLS).
    Http,
    /// One datagram per request, no answer (StatsD).
    Udp,
}

/// How the items of a request are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// OTLP protobuf.
    Otlp,
    /// OTLP protobuf with counters as cumulative sums (for exporters that drop delta sums,
    /// such as `prometheusremotewrite`).
    OtlpCumulative,
    /// Prometheus Remote-Write 1.0: a snappy-compressed `WriteRequest` (over HTTP).
    Prw,
    /// InfluxDB line protocol (over HTTP).
    Influx,
    /// DogStatsD lines (over UDP).
    Statsd,
}

impl Format {
    /// The HTTP `Content-Type` of a body.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Otlp | Format::OtlpCumulative | Format::Prw => "application/x-protobuf",
            Format::Influx | Format::Statsd => "text/plain; charset=utf-8",
        }
    }
}

/// Compression of request bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Compression {
    None,
    Gzip,
}

/// Request bodies ready to send, framed for the protocol and compressed as asked.
pub struct RequestPool {
    bodies: Vec<Bytes>,
    /// With fresh trace IDs: per body, where each trace ID starts in it (every occurrence).
    trace_id_offsets: Vec<Vec<usize>>,
    /// Bodies handed out with fresh trace IDs so far: each gets its own number.
    stamps: AtomicU64,
    items_per_request: usize,
    /// Mean protobuf size of one request before compression, in bytes.
    mean_encoded_len: usize,
}

impl RequestPool {
    /// Builds `size` distinct requests of `items_per_request` items each. Fresh trace IDs
    /// need uncompressed bodies (they are rewritten as they are handed out).
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        signal: Signal,
        format: Format,
        protocol: Protocol,
        compression: Compression,
        shape: TraceShape,
        items_per_request: usize,
        size: usize,
        rng: &mut Rng,
    ) -> std::io::Result<Self> {
        let fresh = shape.fresh_trace_ids && signal == Signal::Traces;
        if fresh && compression != Compression::None {
            return Err(std::io::Error::other(
                "fresh trace IDs are written into each body as it is sent: they need uncompressed bodies",
            ));
        }
        let size = size.max(1);
        let mut bodies = Vec::with_capacity(size);
        let mut trace_id_offsets = Vec::new();
        let mut encoded_total = 0;
        for _ in 0..size {
            let (encoded, trace_ids) = signal.encode(format, shape, rng, items_per_request);
            if fresh {
                let prefix = if protocol == Protocol::Grpc { 5 } else { 0 };
                trace_id_offsets.push(
                    occurrences(&encoded, &trace_ids)
                        .into_iter()
                        .map(|at| at + prefix)
                        .collect(),
                );
            }
            encoded_total += encoded.len();
            let message = match compression {
                Compression::None => encoded,
                Compression::Gzip => gzip(&encoded)?,
            };
            bodies.push(match protocol {
                Protocol::Grpc => grpc_frame(&message, compression == Compression::Gzip),
                Protocol::Http | Protocol::Udp => Bytes::from(message),
            });
        }
        Ok(RequestPool {
            bodies,
            trace_id_offsets,
            stamps: AtomicU64::new(0),
            items_per_request,
            mean_encoded_len: encoded_total / size,
        })
    }

    /// The `index`th body, wrapping around the pool; with fresh trace IDs, a copy whose
    /// trace IDs no other body handed out had.
    pub fn body(&self, index: usize) -> Bytes {
        let index = index % self.bodies.len();
        let body = &self.bodies[index];
        let Some(offsets) = self.trace_id_offsets.get(index) else {
            return body.clone();
        };
        let stamp = self.stamps.fetch_add(1, Ordering::Relaxed) + 1;
        let mut fresh = BytesMut::from(&body[..]);
        for &at in offsets {
            // The ID's last eight bytes XORed with a number no other body got: all spans of
            // a trace keep one ID, and no two bodies (nor two sends of one) share an ID,
            // short of two random IDs differing by exactly the two numbers.
            let tail = &mut fresh[at + 8..at + 16];
            let value = u64::from_le_bytes((&*tail).try_into().expect("eight bytes")) ^ stamp;
            tail.copy_from_slice(&value.to_le_bytes());
        }
        fresh.freeze()
    }

    /// Number of distinct bodies.
    pub fn size(&self) -> usize {
        self.bodies.len()
    }

    pub fn items_per_request(&self) -> usize {
        self.items_per_request
    }

    pub fn mean_encoded_len(&self) -> usize {
        self.mean_encoded_len
    }
}

/// Where each of the 16-byte `ids` occurs in `encoded` (as the bytes of a `trace_id`
/// field; random IDs occur nowhere else).
fn occurrences(encoded: &[u8], ids: &[Vec<u8>]) -> Vec<usize> {
    let mut found = Vec::new();
    for id in ids.iter().filter(|id| id.len() == 16) {
        let mut from = 0;
        while let Some(at) = encoded[from..]
            .windows(16)
            .position(|window| window == id.as_slice())
        {
            found.push(from + at);
            from += at + 16;
        }
    }
    found
}

/// Compresses with gzip at the default level, as OTLP exporters do.
pub fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 4), GzipLevel::default());
    encoder.write_all(data)?;
    encoder.finish()
}

/// A gRPC length-prefixed message: a compressed flag, a big-endian length, the message.
pub fn grpc_frame(message: &[u8], compressed: bool) -> Bytes {
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(u8::from(compressed));
    frame.put_u32(message.len() as u32);
    frame.put_slice(message);
    frame.freeze()
}
