//! What the processors cost per item, with a downstream stage that does nothing.
//!
//! `cargo bench -p tributary-processors`. Each run is on a current-thread runtime, so the
//! figure is CPU time per item, the number that stays stable on a shared machine.

use std::sync::Arc;
use std::time::Duration;

use divan::Bencher;
use divan::counter::ItemsCount;
use tokio::runtime::Runtime;
use tributary_pipeline_core::component::{ComponentConfig, CreateSettings, Host, Kind, Processor};
use tributary_pipeline_core::consumer::Consumer;
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::testing::discard;
use tributary_processors::{batch, memory_limiter};

fn main() {
    divan::main();
}

fn attribute(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

/// A request of `spans` spans with a few attributes each, like a traced service sends.
fn request(spans: usize) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![attribute("service.name", "checkout")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: (0..spans)
                    .map(|i| Span {
                        name: format!("GET /items/{i}"),
                        trace_id: vec![7; 16],
                        span_id: vec![9; 8],
                        attributes: vec![attribute("http.method", "GET")],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

fn settings(id: &str) -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, id.parse().unwrap(), None)
}

/// Sends `requests` requests of `spans` spans each to `next`, all callers at once.
fn send_all(rt: &Runtime, next: &Arc<dyn Consumer<Traces>>, inputs: Vec<Traces>) {
    rt.block_on(async {
        let callers: Vec<_> = inputs
            .into_iter()
            .map(|data| {
                let next = Arc::clone(next);
                tokio::spawn(async move { next.consume(data).await })
            })
            .collect();
        for caller in callers {
            caller.await.unwrap().unwrap();
        }
    })
}

/// Sends `requests` requests of `spans` spans each through a batch processor, all
/// callers at once (a caller waits for its batch, so fewer callers than a batch holds
/// would wait for the timeout); the totals are multiples of the batch size, so no batch
/// waits for the timeout.
fn run_batch(bencher: Bencher, config: batch::Config, requests: usize, spans: usize) {
    config.validate().unwrap();
    let rt = runtime();
    let processor: Arc<dyn Processor<Traces>> = batch::factory()
        .create(&settings("batch"), &config, discard())
        .unwrap();
    let next: Arc<dyn Consumer<Traces>> = processor;
    bencher
        .counter(ItemsCount::new(requests * spans))
        .with_inputs(|| (0..requests).map(|_| request(spans)).collect::<Vec<_>>())
        .bench_local_values(|inputs| send_all(&rt, &next, inputs));
}

/// The same requests straight to the next stage (spawning the callers, freeing the
/// data), for comparison with the batch benchmarks.
#[divan::bench(sample_count = 20)]
fn baseline_requests_unbatched(bencher: Bencher) {
    let rt = runtime();
    let next: Arc<dyn Consumer<Traces>> = discard();
    bencher
        .counter(ItemsCount::new(1024usize * 64))
        .with_inputs(|| (0..1024).map(|_| request(64)).collect::<Vec<_>>())
        .bench_local_values(|inputs| send_all(&rt, &next, inputs));
}

/// Requests of 64 spans into batches of 8192 (the defaults), no maximum.
#[divan::bench(sample_count = 20)]
fn batch_by_size(bencher: Bencher) {
    let config = batch::Config {
        timeout: Duration::from_secs(10),
        ..batch::Config::default()
    };
    run_batch(bencher, config, 1024, 64);
}

/// Requests of 100 spans into batches of exactly 1024: most batches end inside a request,
/// which is divided.
#[divan::bench(sample_count = 20)]
fn batch_cut_at_maximum(bencher: Bencher) {
    let config = batch::Config {
        send_batch_size: 1024,
        send_batch_max_size: 1024,
        timeout: Duration::from_secs(10),
        ..batch::Config::default()
    };
    run_batch(bencher, config, 1024, 100);
}

/// One request of 10 spans through an accepting memory limiter, per call.
#[divan::bench]
fn memory_limiter_accepting(bencher: Bencher) {
    let rt = runtime();
    let config = memory_limiter::Config {
        check_interval: Duration::from_secs(1),
        limit_mib: 1 << 20,
        ..memory_limiter::Config::default()
    };
    config.validate().unwrap();
    let processor: Arc<dyn Processor<Traces>> = rt.block_on(async {
        let processor = memory_limiter::factory()
            .create(&settings("memory_limiter"), &config, discard())
            .unwrap();
        processor.start(&Host::default()).await.unwrap();
        processor
    });
    let data = request(10);
    bencher.bench_local(|| rt.block_on(processor.consume(data.clone())).unwrap());
}

/// The same call straight to the next stage, for comparison.
#[divan::bench]
fn baseline_direct_call(bencher: Bencher) {
    let rt = runtime();
    let next: Arc<dyn Consumer<Traces>> = discard();
    let data = request(10);
    bencher.bench_local(|| rt.block_on(next.consume(data.clone())).unwrap());
}
