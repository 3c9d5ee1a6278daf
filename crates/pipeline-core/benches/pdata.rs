//! pdata hot paths on the load generator's realistic requests: decoding and encoding a
//! 100-span OTLP request, and the splitting and merging the batch processor and the
//! exporter helper do.
//!
//! `cargo bench -p tributary-pipeline-core --bench pdata`

use bytes::Bytes;
use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use prost::Message;
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;

/// The request shapes `telemetrygen` sends (traces, metrics, logs): the same file, so the
/// benchmarks measure what the load generator offers a pipeline. Only the traces builder is
/// used here.
#[allow(dead_code)]
#[path = "../../../examples/telemetrygen/payloads.rs"]
mod payloads;

/// Named by `payloads.rs`.
use tributary_pipeline_core::pdata::proto;

fn main() {
    divan::main();
}

/// Spans per request, as in BENCH.md's traces scenario.
const SPANS: usize = 100;

fn request(spans: usize) -> ExportTraceServiceRequest {
    payloads::traces(
        &mut payloads::Rng::new(42),
        spans,
        payloads::MAX_SPANS_PER_TRACE,
    )
}

fn encoded(spans: usize) -> Bytes {
    Bytes::from(request(spans).encode_to_vec())
}

/// A receiver's work: protobuf bytes to a payload. The bytes are checked and their items
/// counted in one walk, and kept; nothing is decoded yet.
#[divan::bench]
fn decode_100_spans(bencher: Bencher) {
    let bytes = encoded(SPANS);
    bencher
        .counter(BytesCount::new(bytes.len()))
        .bench(|| Traces::decode(divan::black_box(bytes.clone())))
}

/// prost's full decode of the same request (its drop is not timed): what
/// `decode_100_spans` cost before payloads were decoded lazily.
#[divan::bench]
fn prost_decode_100_spans(bencher: Bencher) {
    let bytes = encoded(SPANS);
    bencher
        .counter(BytesCount::new(bytes.len()))
        .bench(|| ExportTraceServiceRequest::decode(divan::black_box(bytes.clone())))
}

/// A receiver's walk plus the first read of the request by a processor (the lazy decode),
/// and dropping it: the whole cost of a payload that a processor reads.
#[divan::bench]
fn decode_then_read_100_spans(bencher: Bencher) {
    let bytes = encoded(SPANS);
    bencher.counter(BytesCount::new(bytes.len())).bench(|| {
        let traces = Traces::decode(divan::black_box(bytes.clone())).expect("valid request");
        traces.request().resource_spans.len()
    })
}

/// An exporter's work for a payload that was edited or built: encoding from scratch.
#[divan::bench]
fn encode_100_spans(bencher: Bencher) {
    let request = request(SPANS);
    bencher
        .counter(ItemsCount::new(SPANS))
        .with_inputs(|| Traces::new(request.clone()))
        .bench_refs(|traces| traces.encoded())
}

/// An exporter's work for a payload that arrived unchanged: the decoded bytes are re-used.
#[divan::bench]
fn encode_100_spans_unchanged(bencher: Bencher) {
    let traces = Traces::decode(encoded(SPANS)).expect("valid request");
    bencher.bench_local(|| traces.encoded())
}

/// Splitting a payload into pieces of at most `max` spans (the batch processor's
/// `send_batch_max_size`), for a 1,000-span batch.
#[divan::bench(args = [100, 512])]
fn split_1000_spans(bencher: Bencher, max: usize) {
    let traces = Traces::new(request(1000));
    bencher
        .counter(ItemsCount::new(1000usize))
        .with_inputs(|| Traces::new(traces.request().clone()))
        .bench_values(|traces| traces.split(max))
}

/// Splitting a received (undecoded) 1,000-span payload: its bytes are cut at resource
/// boundaries and only a resource crossing a cut is decoded (here the one resource is).
#[divan::bench(args = [100, 512])]
fn split_1000_spans_received(bencher: Bencher, max: usize) {
    let bytes = encoded(1000);
    bencher
        .counter(ItemsCount::new(1000usize))
        .with_inputs(|| Traces::decode(bytes.clone()).expect("valid request"))
        .bench_values(|traces| traces.split(max))
}

/// Merging `count` 100-span payloads into one batch, as the batch processor does. Received
/// payloads keep their bytes, so their merged encoding is a list of their encodings (a
/// rope), and nothing is decoded. (Compare the per-item rate at 10 and at 82 pieces: it
/// stays flat; merging used to copy the growing encoding every time.)
#[divan::bench(args = [10, 82])]
fn concat_decoded(bencher: Bencher, count: usize) {
    let pieces: Vec<Bytes> = (0..count).map(|_| encoded(SPANS)).collect();
    bencher
        .counter(ItemsCount::new(count * SPANS))
        .with_inputs(|| {
            pieces
                .iter()
                .map(|bytes| Traces::decode(bytes.clone()).expect("valid request"))
                .collect::<Vec<_>>()
        })
        .bench_values(Traces::concat)
}

/// The same merge for payloads that were built in memory (no encoding to join).
#[divan::bench(args = [10, 82])]
fn concat_built(bencher: Bencher, count: usize) {
    let request = request(SPANS);
    bencher
        .counter(ItemsCount::new(count * SPANS))
        .with_inputs(|| {
            (0..count)
                .map(|_| Traces::new(request.clone()))
                .collect::<Vec<_>>()
        })
        .bench_values(Traces::concat)
}

/// Merge then encode: what the batch processor and an OTLP exporter cost together per
/// 8,200-span batch of received requests (the rope is joined into one buffer once).
#[divan::bench]
fn concat_then_encode_82_decoded(bencher: Bencher) {
    let pieces: Vec<Bytes> = (0..82).map(|_| encoded(SPANS)).collect();
    bencher
        .counter(ItemsCount::new(82 * SPANS))
        .with_inputs(|| {
            pieces
                .iter()
                .map(|bytes| Traces::decode(bytes.clone()).expect("valid request"))
                .collect::<Vec<_>>()
        })
        .bench_values(|pieces| Traces::concat(pieces).encoded())
}
