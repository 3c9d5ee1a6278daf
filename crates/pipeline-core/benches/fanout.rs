//! The fanout's cost per delivery: one payload to 1 or 3 read-only consumers, and to three
//! where one edits (and so copies) the data.
//!
//! `cargo bench -p tributary-pipeline-core --bench fanout`
//!
//! Each iteration drives the delivery to completion on a current-thread tokio runtime, so
//! the figures include one `block_on` (tens of nanoseconds).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use divan::Bencher;
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Fanout, Next};
use tributary_pipeline_core::pdata::Traces;

#[allow(dead_code)]
#[path = "../../../examples/telemetrygen/payloads.rs"]
mod payloads;

/// Named by `payloads.rs`.
use tributary_pipeline_core::pdata::proto;

fn main() {
    divan::main();
}

/// Counts the spans it is given, like an exporter that only reads.
#[derive(Default)]
struct Reader(AtomicUsize);

#[async_trait]
impl Consumer<Traces> for Reader {
    async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
        self.0.fetch_add(data.item_count(), Ordering::Relaxed);
        Ok(())
    }
}

/// Edits every payload: renames its spans, which copies the data while it is shared.
struct Editor;

#[async_trait]
impl Consumer<Traces> for Editor {
    async fn consume(&self, mut data: Traces) -> Result<(), ConsumeError> {
        for resource in &mut data.make_mut().resource_spans {
            for scope in &mut resource.scope_spans {
                for span in &mut scope.spans {
                    span.name.push('!');
                }
            }
        }
        Ok(())
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn traces() -> Traces {
    Traces::new(payloads::traces(
        &mut payloads::Rng::new(42),
        100,
        payloads::MAX_SPANS_PER_TRACE,
    ))
}

fn deliver(bencher: Bencher, branches: Vec<Next<Traces>>) {
    let runtime = runtime();
    let consumer = Fanout::new(
        branches
            .into_iter()
            .enumerate()
            .map(|(index, branch)| (format!("exporter/{index}"), branch)),
    )
    .into_consumer();
    let data = traces();
    bencher.bench_local(|| runtime.block_on(consumer.consume(data.clone())))
}

/// A 100-span payload to `readers` read-only consumers (with one, the fanout steps aside).
#[divan::bench(args = [1, 3])]
fn to_readers(bencher: Bencher, readers: usize) {
    let branches = (0..readers)
        .map(|_| Arc::new(Reader::default()) as Next<Traces>)
        .collect();
    deliver(bencher, branches);
}

/// A 100-span payload to two readers and one editor: the editor's first edit copies.
#[divan::bench]
fn to_two_readers_and_an_editor(bencher: Bencher) {
    let branches = vec![
        Arc::new(Reader::default()) as Next<Traces>,
        Arc::new(Reader::default()),
        Arc::new(Editor),
    ];
    deliver(bencher, branches);
}
