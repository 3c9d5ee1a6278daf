//! The pre-encoded request pool: every body a worker sends is built, encoded and (if asked)
//! compressed before the clock starts, so sending costs a reference-count increment.

use std::io::Write;

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

    /// Encodes a fresh request of `items` items (only points have formats other than OTLP).
    fn encode(self, format: Format, rng: &mut Rng, items: usize) -> Vec<u8> {
        match (self, format) {
            (Signal::Traces, _) => payloads::traces(rng, items).encode_to_vec(),
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
    items_per_request: usize,
    /// Mean protobuf size of one request before compression, in bytes.
    mean_encoded_len: usize,
}

impl RequestPool {
    /// Builds `size` distinct requests of `items_per_request` items each.
    pub fn build(
        signal: Signal,
        format: Format,
        protocol: Protocol,
        compression: Compression,
        items_per_request: usize,
        size: usize,
        rng: &mut Rng,
    ) -> std::io::Result<Self> {
        let size = size.max(1);
        let mut bodies = Vec::with_capacity(size);
        let mut encoded_total = 0;
        for _ in 0..size {
            let encoded = signal.encode(format, rng, items_per_request);
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
            items_per_request,
            mean_encoded_len: encoded_total / size,
        })
    }

    /// The `index`th body, wrapping around the pool.
    pub fn body(&self, index: usize) -> Bytes {
        self.bodies[index % self.bodies.len()].clone()
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
