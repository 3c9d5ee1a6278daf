//! The memory limiter's behaviour, driven by a probe the tests set, on a paused clock.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tributary_pipeline_core::component::{
    ComponentStatus, CreateSettings, Host, Kind, Processor, StatusRegistry, StatusSource,
};
use tributary_pipeline_core::consumer::ErrorKind;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::pdata::{Metrics, Traces};

use super::limiter::{Limiter, REFUSED};
use super::limits::{MIB, Pressure};
use super::{Config, MemoryProbe, factory_with_probe};
use tributary_pipeline_core::testing::{Sink, discard};

/// Memory figures the test sets; counts what the limiter asks.
#[derive(Default)]
struct FakeMemory {
    used: AtomicU64,
    total: AtomicU64,
    unreadable: AtomicBool,
    /// What `reclaim` brings usage down to (0: it frees nothing).
    reclaim_to: AtomicU64,
    reads: AtomicUsize,
    reclaims: AtomicUsize,
}

impl FakeMemory {
    fn using(mib: u64) -> Arc<Self> {
        let memory = Arc::new(FakeMemory::default());
        memory.set_used(mib);
        memory
    }

    fn set_used(&self, mib: u64) {
        self.used.store(mib * MIB, Ordering::SeqCst);
    }

    fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    fn reclaims(&self) -> usize {
        self.reclaims.load(Ordering::SeqCst)
    }
}

impl MemoryProbe for Arc<FakeMemory> {
    fn used_bytes(&self) -> io::Result<u64> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.unreadable.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no /proc here"));
        }
        Ok(self.used.load(Ordering::SeqCst))
    }

    fn total_bytes(&self) -> io::Result<u64> {
        Ok(self.total.load(Ordering::SeqCst))
    }

    fn reclaim(&self) {
        self.reclaims.fetch_add(1, Ordering::SeqCst);
        let to = self.reclaim_to.load(Ordering::SeqCst);
        if to > 0 {
            self.used.store(to, Ordering::SeqCst);
        }
    }
}

fn spans(n: usize) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span::default(); n],
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

const SECOND: Duration = Duration::from_secs(1);
/// Tests look between checks: a check that reclaims memory runs on a blocking thread,
/// during which the paused clock does not advance, so by mid-interval it has finished.
const HALF: Duration = Duration::from_millis(500);

/// Limit 100 MiB, spike 20 MiB: refusing from 80 MiB on, checked every second.
fn config() -> Config {
    Config {
        check_interval: SECOND,
        limit_mib: 100,
        spike_limit_mib: 20,
        ..Config::default()
    }
}

fn settings(id: &str) -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, id.parse().unwrap(), None)
}

/// Builds and starts a traces processor; returns half an interval after its first check.
async fn started(
    memory: &Arc<FakeMemory>,
    settings: &CreateSettings,
    config: &Config,
) -> (Arc<dyn Processor<Traces>>, Arc<Sink<Traces>>) {
    let sink = Sink::<Traces>::new();
    let processor = factory_with_probe(Arc::clone(memory))
        .create(settings, config, sink.next())
        .unwrap();
    processor.start(&Host::default()).await.unwrap();
    tokio::time::sleep(HALF).await;
    (processor, sink)
}

fn counted(settings: &CreateSettings, name: &str) -> f64 {
    settings
        .metrics()
        .value(name, &[("processor", "memory_limiter")])
        .unwrap_or(0.0)
}

#[tokio::test(start_paused = true)]
async fn data_is_refused_retryably_above_the_soft_limit_and_accepted_again_below_it() {
    let memory = FakeMemory::using(50);
    let settings = settings("memory_limiter");
    let (processor, sink) = started(&memory, &settings, &config()).await;
    processor.consume(spans(3)).await.unwrap();
    assert_eq!(sink.accepted_items(), 3);

    memory.set_used(80);
    tokio::time::sleep(SECOND).await;
    let error = processor.consume(spans(4)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Retryable);
    assert_eq!(error.message(), REFUSED);
    assert_eq!(error.retry_after(), Some(SECOND), "retry after one check");
    assert_eq!(sink.accepted_items(), 3, "refused data is not passed on");

    memory.set_used(79);
    tokio::time::sleep(SECOND).await;
    processor.consume(spans(5)).await.unwrap();
    assert_eq!(sink.accepted_items(), 8);

    assert_eq!(
        counted(&settings, "otelcol_processor_memory_limiter_accepted_spans"),
        8.0
    );
    assert_eq!(
        counted(&settings, "otelcol_processor_memory_limiter_refused_spans"),
        4.0
    );
    processor.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn the_hard_limit_refuses_too() {
    let memory = FakeMemory::using(150);
    let settings = settings("memory_limiter");
    let (processor, _sink) = started(&memory, &settings, &config()).await;
    let error = processor.consume(spans(1)).await.unwrap_err();
    assert!(error.is_retryable());

    // Below the hard limit but above the soft one: still refusing.
    memory.set_used(90);
    tokio::time::sleep(SECOND).await;
    assert!(processor.consume(spans(1)).await.is_err());
    processor.shutdown().await.unwrap();
}

/// A limiter built directly, reporting its status where the test can read it.
fn limiter(memory: &Arc<FakeMemory>, config: &Config) -> (Arc<Limiter>, StatusRegistry) {
    let settings = settings("memory_limiter");
    let registry = StatusRegistry::default();
    let status = registry.reporter(Kind::Processor, settings.id());
    let limiter = Limiter::new(&settings, config, Arc::new(Arc::clone(memory)), status).unwrap();
    (Arc::new(limiter), registry)
}

fn status(registry: &StatusRegistry) -> Option<ComponentStatus> {
    let source = StatusSource::Component(Kind::Processor, "memory_limiter".parse().unwrap());
    registry
        .snapshot()
        .into_iter()
        .find(|(s, _)| *s == source)
        .map(|(_, entry)| entry.status)
}

#[tokio::test(start_paused = true)]
async fn the_status_is_a_recoverable_error_while_refusing() {
    let memory = FakeMemory::using(50);
    let (limiter, registry) = limiter(&memory, &config());
    limiter.check().await;
    assert_eq!(limiter.pressure(), Pressure::Normal);
    assert_eq!(
        status(&registry),
        None,
        "nothing to report while all is well"
    );

    memory.set_used(85);
    limiter.check().await;
    assert_eq!(limiter.pressure(), Pressure::Soft);
    let Some(ComponentStatus::RecoverableError(message)) = status(&registry) else {
        panic!("expected a recoverable error, got {:?}", status(&registry));
    };
    assert_eq!(
        message,
        "data refused due to high memory usage: 85 MiB in use, soft limit 80 MiB, hard limit 100 MiB"
    );

    memory.set_used(120);
    limiter.check().await;
    assert_eq!(limiter.pressure(), Pressure::Hard);
    assert!(limiter.is_refusing());

    memory.set_used(10);
    limiter.check().await;
    assert_eq!(status(&registry), Some(ComponentStatus::Ok));
    assert!(!limiter.is_refusing());
}

#[tokio::test(start_paused = true)]
async fn a_pipeline_started_while_refusing_does_not_leave_the_status_ok() {
    let memory = FakeMemory::using(85);
    let (limiter, registry) = limiter(&memory, &config());
    limiter.attach();
    tokio::time::sleep(HALF).await;
    assert!(matches!(
        status(&registry),
        Some(ComponentStatus::RecoverableError(_))
    ));

    // Another pipeline's instance starts; the framework reports the component OK.
    limiter.attach();
    registry
        .reporter(Kind::Processor, &"memory_limiter".parse().unwrap())
        .report(ComponentStatus::Ok);
    tokio::time::sleep(SECOND).await;
    assert!(
        matches!(
            status(&registry),
            Some(ComponentStatus::RecoverableError(_))
        ),
        "the next check restores the real status"
    );
    limiter.detach().await;
    limiter.detach().await;
}

#[tokio::test(start_paused = true)]
async fn pipelines_listing_one_id_share_one_limiter() {
    let memory = FakeMemory::using(50);
    let settings = settings("memory_limiter");
    let (traces, _) = started(&memory, &settings, &config()).await;
    let metrics_sink = Sink::<Metrics>::new();
    let metrics: Arc<dyn Processor<Metrics>> = factory_with_probe(Arc::clone(&memory))
        .create(&settings, &config(), metrics_sink.next())
        .unwrap();
    metrics.start(&Host::default()).await.unwrap();

    let before = memory.reads();
    tokio::time::sleep(3 * SECOND).await;
    assert_eq!(
        memory.reads() - before,
        3,
        "one measurement per interval, not one per pipeline"
    );

    memory.set_used(90);
    tokio::time::sleep(SECOND).await;
    assert!(traces.consume(spans(1)).await.is_err());
    assert!(metrics.consume(Metrics::default()).await.is_err());

    // The ticker runs while any of them runs.
    traces.shutdown().await.unwrap();
    let before = memory.reads();
    tokio::time::sleep(2 * SECOND).await;
    assert_eq!(memory.reads() - before, 2);
    metrics.shutdown().await.unwrap();
    let before = memory.reads();
    tokio::time::sleep(5 * SECOND).await;
    assert_eq!(memory.reads(), before, "stopped with the last pipeline");
}

#[tokio::test(start_paused = true)]
async fn limiters_of_different_ids_are_independent() {
    let memory = FakeMemory::using(90);
    let strict = settings("memory_limiter");
    let relaxed = settings("memory_limiter/relaxed");
    let (strict, _) = started(&memory, &strict, &config()).await;
    let (relaxed, _) = started(
        &memory,
        &relaxed,
        &Config {
            limit_mib: 1000,
            spike_limit_mib: 0,
            ..config()
        },
    )
    .await;
    assert!(strict.consume(spans(1)).await.is_err());
    assert!(relaxed.consume(spans(1)).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn percentages_are_computed_from_the_memory_available() {
    let memory = FakeMemory::using(399);
    memory.total.store(1000 * MIB, Ordering::SeqCst);
    let config = Config {
        check_interval: SECOND,
        limit_percentage: 50,
        spike_limit_percentage: 10,
        ..Config::default()
    };
    // Hard limit 500 MiB, soft 400 MiB.
    let (processor, _) = started(&memory, &settings("memory_limiter"), &config).await;
    assert!(processor.consume(spans(1)).await.is_ok());
    memory.set_used(400);
    tokio::time::sleep(SECOND).await;
    assert!(processor.consume(spans(1)).await.is_err());
    processor.shutdown().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn free_memory_is_reclaimed_at_the_configured_pace() {
    let memory = FakeMemory::using(85);
    let config = Config {
        min_gc_interval_when_soft_limited: Duration::from_secs(10),
        min_gc_interval_when_hard_limited: Duration::ZERO,
        ..config()
    };
    let (limiter, _) = limiter(&memory, &config);
    for _ in 0..10 {
        limiter.check().await;
        tokio::time::sleep(SECOND).await;
    }
    assert_eq!(memory.reclaims(), 1, "once per 10s above the soft limit");
    limiter.check().await;
    assert_eq!(memory.reclaims(), 2);

    memory.set_used(150);
    for _ in 0..3 {
        limiter.check().await;
    }
    assert_eq!(memory.reclaims(), 5, "at every check above the hard limit");
}

#[tokio::test(start_paused = true)]
async fn reclaiming_enough_memory_avoids_a_refusal() {
    let memory = FakeMemory::using(85);
    memory.reclaim_to.store(60 * MIB, Ordering::SeqCst);
    let (limiter, registry) = limiter(&memory, &config());
    limiter.check().await;
    assert_eq!(memory.reclaims(), 1);
    assert!(!limiter.is_refusing());
    assert_eq!(status(&registry), None);
}

#[tokio::test(start_paused = true)]
async fn an_unreadable_usage_keeps_the_last_verdict() {
    let memory = FakeMemory::using(85);
    let (limiter, _) = limiter(&memory, &config());
    limiter.check().await;
    assert!(limiter.is_refusing());
    memory.unreadable.store(true, Ordering::SeqCst);
    memory.set_used(10);
    limiter.check().await;
    assert!(limiter.is_refusing());
    memory.unreadable.store(false, Ordering::SeqCst);
    limiter.check().await;
    assert!(!limiter.is_refusing());
}

#[test]
fn creation_fails_if_memory_cannot_be_read() {
    let memory = FakeMemory::using(10);
    memory.unreadable.store(true, Ordering::SeqCst);
    let error = factory_with_probe(memory)
        .create(&settings("memory_limiter"), &config(), discard::<Traces>())
        .err()
        .expect("a limiter that cannot measure is refused");
    assert!(
        error
            .to_string()
            .starts_with("cannot read the process's memory usage"),
        "{error}"
    );
}

#[tokio::test]
async fn the_memory_limiter_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(
        super::factory(),
        "check_interval: 1s\nlimit_mib: 4000\nspike_limit_mib: 800\n",
    )
    .await;
}
