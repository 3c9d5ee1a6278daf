//! The balancer against in-memory backends that can be failed and healed, and the
//! factory against real gRPC servers.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tributary_pipeline_core::component::{
    ComponentConfig, CreateSettings, Host, Kind, load_config,
};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
use tributary_pipeline_core::pdata::{Signal, Traces};

use super::balancer::{Backend, BackendFactory, Balancer, OtlpBackends};
use super::ring::HashRing;
use super::*;

/// An in-memory backend: records what it took, fails while told to.
#[derive(Default)]
struct FakeBackend {
    down: AtomicBool,
    received: Mutex<Vec<Traces>>,
}

#[async_trait]
impl Backend<Traces> for FakeBackend {
    async fn send(&self, data: Traces) -> Result<(), ConsumeError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ConsumeError::retryable("connection refused"));
        }
        self.received.lock().unwrap().push(data);
        Ok(())
    }
}

#[derive(Default)]
struct FakeBackends(Mutex<HashMap<String, Arc<FakeBackend>>>);

impl FakeBackends {
    fn get(&self, endpoint: &str) -> Arc<FakeBackend> {
        self.0
            .lock()
            .unwrap()
            .entry(endpoint.to_string())
            .or_default()
            .clone()
    }

    /// Trace ID first byte(s) → backend endpoint, of everything received.
    fn where_traces_went(&self) -> BTreeMap<Vec<u8>, Vec<String>> {
        let mut out: BTreeMap<Vec<u8>, Vec<String>> = BTreeMap::new();
        for (endpoint, backend) in self.0.lock().unwrap().iter() {
            for traces in backend.received.lock().unwrap().iter() {
                for rs in &traces.request().resource_spans {
                    for ss in &rs.scope_spans {
                        for s in &ss.spans {
                            let list = out.entry(s.trace_id.clone()).or_default();
                            if !list.contains(endpoint) {
                                list.push(endpoint.clone());
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn spans_at(&self, endpoint: &str) -> usize {
        self.get(endpoint)
            .received
            .lock()
            .unwrap()
            .iter()
            .map(|t| t.item_count())
            .sum()
    }
}

#[async_trait]
impl BackendFactory<Traces> for Arc<FakeBackends> {
    async fn create(
        &self,
        endpoint: &str,
        _host: &Host,
    ) -> Result<Arc<dyn Backend<Traces>>, String> {
        Ok(self.get(endpoint))
    }
}

fn trace_id(n: u64) -> Vec<u8> {
    let a = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut id = a.to_be_bytes().to_vec();
    id.extend_from_slice(&a.rotate_left(17).to_le_bytes());
    id
}

fn service(name: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![key_value("service.name", name)],
        ..Default::default()
    })
}

/// One span for each of `traces`, under service `svc`.
fn batch(svc: &str, traces: impl IntoIterator<Item = u64>) -> Traces {
    Traces::new(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: service(svc),
            scope_spans: vec![ScopeSpans {
                spans: traces
                    .into_iter()
                    .map(|t| Span {
                        trace_id: trace_id(t),
                        name: format!("span-{t}"),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    })
}

/// `data` as a receiver hands it over: its encoding, not decoded.
fn received<R: tributary_pipeline_core::pdata::OtlpRequest>(
    data: &tributary_pipeline_core::pdata::Payload<R>,
) -> tributary_pipeline_core::pdata::Payload<R> {
    tributary_pipeline_core::pdata::Payload::decode(data.encoded()).unwrap()
}

fn config(yaml: &str) -> Config {
    let config: Config = load_config(yaml).expect("config decodes");
    config.validate().expect("config is valid");
    config
}

const THREE: &str = "resolver: {static: {hostnames: [gw-1:4317, gw-2:4317, gw-3:4317]}}";

async fn balancer(yaml: &str) -> (Balancer<Traces>, Arc<FakeBackends>) {
    let backends = Arc::new(FakeBackends::default());
    let settings = CreateSettings::standalone(
        Kind::Exporter,
        "loadbalancing".parse().unwrap(),
        Some(Signal::Traces),
    );
    let balancer = Balancer::new(&settings, &config(yaml), Arc::new(backends.clone())).unwrap();
    balancer.start(&Host::default()).await.unwrap();
    (balancer, backends)
}

#[tokio::test]
async fn spans_of_one_trace_reach_one_backend_across_many_batches() {
    let (balancer, backends) = balancer(THREE).await;
    // 200 traces, each spread over 10 batches, batches mixing traces.
    for round in 0..10u64 {
        balancer
            .export(batch("checkout", (0..200).map(|t| (t + round * 7) % 200)))
            .await
            .unwrap();
    }
    let went = backends.where_traces_went();
    assert_eq!(went.len(), 200);
    assert!(
        went.values().all(|b| b.len() == 1),
        "every trace on one backend"
    );
    let ring = HashRing::new(&balancer.backends());
    for (id, endpoints) in &went {
        let owner = ring.owner(id).unwrap();
        assert_eq!(endpoints[0], ring.backends()[owner], "the ring's owner");
    }
    for gw in ["gw-1:4317", "gw-2:4317", "gw-3:4317"] {
        assert!(backends.spans_at(gw) > 200, "{gw} took a share");
    }
}

#[tokio::test]
async fn a_batch_for_one_backend_is_forwarded_as_it_is() {
    let (balancer, backends) = balancer(THREE).await;
    let one = batch("svc", [7, 7, 7]);
    balancer.export(one.clone()).await.unwrap();
    let owner = HashRing::new(&balancer.backends())
        .owner(&trace_id(7))
        .unwrap();
    let received = backends
        .get(&balancer.backends()[owner])
        .received
        .lock()
        .unwrap()
        .clone();
    assert_eq!(received.len(), 1);
    assert!(
        received[0].shares_request_with(&one),
        "no copy, no re-encoding"
    );
}

#[tokio::test]
async fn a_failed_backends_share_moves_to_the_next_on_the_ring_and_comes_back() {
    let (balancer, backends) = balancer(THREE).await;
    let ring = HashRing::new(&balancer.backends());
    let names = balancer.backends();
    let down = &names[1];
    backends.get(down).down.store(true, Ordering::SeqCst);

    balancer.export(batch("svc", 0..300)).await.unwrap();
    assert_eq!(backends.spans_at(down), 0);
    let went = backends.where_traces_went();
    assert_eq!(went.len(), 300, "nothing dropped");
    for (id, endpoints) in &went {
        let owner = ring.owner(id).unwrap();
        if names[owner] == *down {
            let next = ring.owner_where(id, |b| names[b] != *down).unwrap();
            assert_eq!(
                endpoints,
                &vec![names[next].clone()],
                "the next backend clockwise"
            );
        } else {
            assert_eq!(
                endpoints,
                &vec![names[owner].clone()],
                "others keep their keys"
            );
        }
    }

    // Healed: after its cooldown it gets its share again.
    backends.get(down).down.store(false, Ordering::SeqCst);
    tokio::time::sleep(FIRST_COOLDOWN).await;
    balancer.export(batch("svc", 1000..1300)).await.unwrap();
    assert!(backends.spans_at(down) > 0, "back on the ring");
}

#[tokio::test]
async fn with_every_backend_down_the_batch_fails_retryably_and_nothing_is_taken() {
    let (balancer, backends) = balancer(THREE).await;
    for name in balancer.backends() {
        backends.get(&name).down.store(true, Ordering::SeqCst);
    }
    let error = balancer.export(batch("svc", 0..50)).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    // The retry, once a backend is back, delivers everything to the healthy ones.
    let back = &balancer.backends()[0];
    backends.get(back).down.store(false, Ordering::SeqCst);
    tokio::time::sleep(FIRST_COOLDOWN).await;
    balancer.export(batch("svc", 0..50)).await.unwrap();
    assert_eq!(backends.where_traces_went().len(), 50);
    assert_eq!(backends.spans_at(back), 50);
}

#[tokio::test]
async fn routing_by_service_keeps_a_service_on_one_backend() {
    let (balancer, backends) = balancer(&format!("routing_key: service\n{THREE}")).await;
    for svc in ["a", "b", "c", "d", "e", "f"] {
        balancer.export(batch(svc, 0..20)).await.unwrap();
    }
    let ring = HashRing::new(&balancer.backends());
    for svc in ["a", "b", "c", "d", "e", "f"] {
        let owner = &balancer.backends()[ring.owner(svc.as_bytes()).unwrap()];
        let got: usize = backends
            .get(owner)
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|t| t.request().resource_spans[0].resource == service(svc))
            .map(|t| t.item_count())
            .sum();
        assert_eq!(got, 20, "service {svc} whole on {owner}");
    }
    // A resource without service.name cannot be routed by service: permanent.
    let mut nameless = batch("x", 0..1);
    nameless.make_mut().resource_spans[0].resource = None;
    assert!(balancer.export(nameless).await.unwrap_err().is_permanent());
}

#[tokio::test]
async fn routing_by_attributes_builds_gos_composite_key() {
    let (balancer, backends) = balancer(&format!(
        "routing_key: attributes\nrouting_attributes: [service.name, span.name]\n{THREE}"
    ))
    .await;
    balancer.export(batch("svc", [1, 2, 3])).await.unwrap();
    let ring = HashRing::new(&balancer.backends());
    for t in [1, 2, 3] {
        let key = format!("service.name=svc|span.name=span-{t}|");
        let owner = &balancer.backends()[ring.owner(key.as_bytes()).unwrap()];
        let spans: Vec<String> = backends
            .get(owner)
            .received
            .lock()
            .unwrap()
            .iter()
            .flat_map(|t| t.request().resource_spans[0].scope_spans[0].spans.clone())
            .map(|s| s.name)
            .collect();
        assert!(spans.contains(&format!("span-{t}")), "{key} on {owner}");
    }
}

#[tokio::test]
async fn client_metadata_follows_every_part() {
    use tributary_pipeline_core::pdata::ClientMetadata;
    let (balancer, backends) = balancer(THREE).await;
    let mut metadata = ClientMetadata::new();
    metadata.insert("tenant", "a");
    let metadata = Arc::new(metadata);
    balancer
        .export(batch("svc", 0..100).with_metadata(metadata.clone()))
        .await
        .unwrap();
    for name in balancer.backends() {
        for t in backends.get(&name).received.lock().unwrap().iter() {
            assert_eq!(t.metadata(), Some(&metadata));
        }
    }
}

#[test]
fn config_defaults_and_refusals() {
    let c = config(THREE);
    assert_eq!(c.routing_key().unwrap(), None);
    assert!(!c.helper.sending_queue.enabled, "off unless set, as Go");
    assert!(!c.helper.retry_on_failure.enabled);
    assert!(c.helper.timeout.is_zero());
    let c = config("resolver: {dns: {hostname: gateways, port: 55690}}");
    assert_eq!(
        c.resolver.dns.unwrap().port,
        "55690",
        "a number, as Go's decoder takes"
    );
    let c = config("resolver: {dns: {hostname: gateways}}");
    let dns = c.resolver.dns.unwrap();
    assert_eq!(
        (dns.port.as_str(), dns.interval, dns.timeout),
        ("4317", DEFAULT_DNS_INTERVAL, DEFAULT_DNS_TIMEOUT)
    );

    let refused = |yaml: &str| -> String {
        let config: Config = match load_config(yaml) {
            Ok(c) => c,
            Err(e) => return e.to_string(),
        };
        config.validate().unwrap_err().to_string()
    };
    assert!(refused("protocol: {otlp: {}}").contains("no resolver"));
    assert!(refused(&format!("{THREE}\nrouting_key: spanID")).contains("routing_key"));
    assert!(
        refused(&format!("{THREE}\nrouting_key: streamID")).contains("streamID is not supported")
    );
    assert!(refused(&format!("{THREE}\nrouting_key: attributes")).contains("routing_attributes"));
    assert!(refused("resolver: {k8s: {service: lb.ns}}").contains("resolver::k8s"));
    assert!(
        refused("resolver: {aws_cloud_map: {namespace: n, service_name: s}}")
            .contains("resolver::aws_cloud_map")
    );
    assert!(
        refused("resolver: {static: {hostnames: [a]}, dns: {hostname: b}}")
            .contains("only one resolver")
    );
    assert!(refused(&format!("{THREE}\nprotocol: {{otlp: {{nope: 1}}}}")).contains("nope"));
    assert!(
        refused(&format!(
            "{THREE}\nprotocol: {{otlp: {{sending_queue: {{storage: file_storage}}}}}}"
        ))
        .contains("loadbalancing level")
    );
}

#[test]
fn routing_keys_are_checked_per_signal() {
    use tributary_pipeline_core::pdata::{Logs, Metrics};
    let settings = |signal| {
        CreateSettings::standalone(
            Kind::Exporter,
            "loadbalancing".parse().unwrap(),
            Some(signal),
        )
    };
    let c = config(&format!("routing_key: metric\n{THREE}"));
    let factory = Arc::new(OtlpBackends::new(&settings(Signal::Traces), &c));
    assert!(Balancer::<Traces>::new(&settings(Signal::Traces), &c, factory.clone()).is_err());
    assert!(Balancer::<Metrics>::new(&settings(Signal::Metrics), &c, factory.clone()).is_ok());
    let c = config(THREE);
    assert!(Balancer::<Logs>::new(&settings(Signal::Logs), &c, factory.clone()).is_ok());
    assert!(
        Balancer::<Metrics>::new(&settings(Signal::Metrics), &c, factory.clone()).is_ok(),
        "left out, metrics route by service"
    );
    let c = config(&format!("routing_key: traceID\n{THREE}"));
    assert!(Balancer::<Metrics>::new(&settings(Signal::Metrics), &c, factory).is_err());
}

#[tokio::test]
async fn the_dns_resolver_makes_a_backend_of_each_address() {
    let (balancer, _) = balancer("resolver: {dns: {hostname: localhost, port: 4999}}").await;
    let backends = balancer.backends();
    assert!(
        backends.contains(&"127.0.0.1:4999".to_string()),
        "localhost resolves to 127.0.0.1: {backends:?}"
    );
    assert!(backends.windows(2).all(|w| w[0] < w[1]), "sorted");
}

/// Go contrib #35378 / #36717 / #50436: data queued while its backend leaves the ring.
#[tokio::test]
async fn data_queued_for_a_backend_that_left_the_ring_goes_to_the_new_ring() {
    use tributary_pipeline_core::exporterhelper;

    use super::resolver::Resolver;

    let backends = Arc::new(FakeBackends::default());
    let list = Arc::new(Mutex::new(vec![
        "old-1:4317".to_string(),
        "old-2:4317".to_string(),
    ]));
    for old in ["old-1:4317", "old-2:4317"] {
        backends.get(old).down.store(true, Ordering::SeqCst);
    }
    let settings = CreateSettings::standalone(
        Kind::Exporter,
        "loadbalancing".parse().unwrap(),
        Some(Signal::Traces),
    );
    let config = config(&format!(
        "{THREE}\nsending_queue: {{enabled: true}}\nretry_on_failure: {{enabled: true, initial_interval: 10ms, max_interval: 50ms}}"
    ));
    let balancer = Balancer::with_resolver(
        &settings,
        &config,
        RoutingKey::TraceId,
        Resolver::Manual(list.clone()),
        Arc::new(backends.clone()),
    )
    .unwrap();
    let exporter = exporterhelper::build(&settings, &config.helper, balancer).unwrap();
    exporter.start(&Host::default()).await.unwrap();
    for n in 0..5 {
        exporter
            .consume(batch("svc", n * 10..n * 10 + 10))
            .await
            .unwrap();
    }
    // Queued and retrying: the old backends are down.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(backends.where_traces_went().len(), 0);

    // Scale event: the old backends leave, a new one joins.
    *list.lock().unwrap() = vec!["new-1:4317".to_string()];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while backends.spans_at("new-1:4317") < 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "queued data re-routed in time"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(backends.where_traces_went().len(), 50, "nothing lost");
    exporter.shutdown().await.unwrap();
}

mod splitting {
    use proptest::prelude::*;
    use tributary_pipeline_core::pdata::Logs;
    use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
    use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

    use super::super::routing::{Routable, Router};
    use super::*;

    /// Resources × scopes × spans, each span's trace ID one of a few.
    fn traces_strategy() -> impl Strategy<Value = Traces> {
        let span = (0u64..12).prop_map(|t| Span {
            trace_id: trace_id(t),
            name: format!("s{t}"),
            ..Default::default()
        });
        let scope = prop::collection::vec(span, 0..6).prop_map(|spans| ScopeSpans {
            spans,
            ..Default::default()
        });
        let resource =
            (prop::collection::vec(scope, 0..3), "[a-c]").prop_map(|(scope_spans, svc)| {
                ResourceSpans {
                    resource: service(&svc),
                    scope_spans,
                    ..Default::default()
                }
            });
        prop::collection::vec(resource, 0..4)
            .prop_map(|resource_spans| Traces::new(ExportTraceServiceRequest { resource_spans }))
    }

    /// Each span's resource and trace ID, in order.
    type SpanKeys = Vec<(Option<Resource>, Vec<u8>)>;

    fn spans(t: &Traces) -> SpanKeys {
        let mut out = Vec::new();
        for rs in &t.request().resource_spans {
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    out.push((rs.resource.clone(), s.trace_id.clone()));
                }
            }
        }
        out
    }

    proptest! {
        /// Every span lands in exactly one part, the part of its key's backend, with its
        /// resource; nothing is lost, added or reordered within a backend.
        #[test]
        fn split_parts_hold_every_span_once_on_its_backend(
            data in traces_strategy(),
            down in prop::collection::vec(any::<bool>(), 3),
        ) {
            let ring = HashRing::new(&["a:1".into(), "b:1".into(), "c:1".into()]);
            let router = Router { key: RoutingKey::TraceId, attributes: Vec::new() };
            let any_up = down.contains(&false);
            let mut choose = |key: &[u8]| {
                if any_up { ring.owner_where(key, |b| !down[b]) } else { ring.owner(key) }
            };
            let parts = data.clone().route(&router, &mut choose).unwrap();
            let total: usize = parts.iter().map(|(_, p)| p.item_count()).sum();
            prop_assert_eq!(total, data.item_count());
            // The same batch as received (bytes, split on its encoding): the same parts.
            let on_bytes = received(&data).route(&router, &mut choose).unwrap();
            prop_assert!(on_bytes.iter().all(|(_, p)| !p.is_decoded()), "split without decoding");
            let spans_per_part = |parts: &[(usize, Traces)]| -> Vec<(usize, SpanKeys)> {
                parts.iter().map(|(b, p)| (*b, spans(p))).collect()
            };
            prop_assert_eq!(spans_per_part(&on_bytes), spans_per_part(&parts));
            let mut seen = Vec::new();
            for (backend, part) in &parts {
                prop_assert!(!any_up || !down[*backend], "only healthy backends, while any is");
                for (resource, id) in spans(part) {
                    let expected = if any_up {
                        ring.owner_where(&id, |b| !down[b])
                    } else {
                        ring.owner(&id)
                    };
                    prop_assert_eq!(Some(*backend), expected);
                    seen.push((resource, id));
                }
            }
            // The same spans, each with its own resource.
            let key = |(r, id): &(Option<Resource>, Vec<u8>)| (id.clone(), format!("{r:?}"));
            let mut all: Vec<_> = spans(&data).iter().map(key).collect();
            let mut seen: Vec<_> = seen.iter().map(key).collect();
            all.sort();
            seen.sort();
            prop_assert_eq!(all, seen);
            prop_assert!(parts.windows(2).all(|w| w[0].0 < w[1].0), "one part per backend");
        }

        /// Logs by trace ID: the same guarantees, and records without a trace ID are
        /// still delivered.
        #[test]
        fn logs_split_keeps_every_record(ids in prop::collection::vec(prop::option::of(0u64..8), 0..30)) {
            let logs = Logs::new(ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    scope_logs: vec![ScopeLogs {
                        log_records: ids
                            .iter()
                            .map(|id| LogRecord {
                                trace_id: id.map(trace_id).unwrap_or_default(),
                                ..Default::default()
                            })
                            .collect(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            });
            let ring = HashRing::new(&["a:1".into(), "b:1".into()]);
            let router = Router { key: RoutingKey::TraceId, attributes: Vec::new() };
            for logs in [received(&logs), logs] {
                let parts = logs.route(&router, &mut |key: &[u8]| ring.owner(key)).unwrap();
                let total: usize = parts.iter().map(|(_, p)| p.item_count()).sum();
                prop_assert_eq!(total, ids.len());
                for (backend, part) in &parts {
                    for r in &part.request().resource_logs[0].scope_logs[0].log_records {
                        // Records without a trace ID (none, or all zeros) are spread.
                        if r.trace_id.iter().any(|b| *b != 0) {
                            prop_assert_eq!(ring.owner(&r.trace_id), Some(*backend));
                        }
                    }
                }
            }
        }
    }
}

mod metrics_and_logs {
    use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
    use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
    use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use tributary_pipeline_core::pdata::proto::metrics::v1::{
        Metric, ResourceMetrics, ScopeMetrics,
    };
    use tributary_pipeline_core::pdata::{Logs, Metrics};

    use tributary_pipeline_core::pdata::{OtlpRequest, Payload};

    use super::super::routing::{Routable, Router};
    use super::*;

    fn ring() -> HashRing {
        HashRing::new(&["a:1".into(), "b:1".into(), "c:1".into()])
    }

    /// Two resources (services `x` and `y`, one more attribute each), ten metrics each.
    fn metrics() -> Metrics {
        let resource = |svc: &str| ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![key_value("service.name", svc), key_value("host.name", "h1")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: (0..10)
                    .map(|i| Metric {
                        name: format!("m{i}"),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        Metrics::new(ExportMetricsServiceRequest {
            resource_metrics: vec![resource("x"), resource("y")],
        })
    }

    /// Routes `data` decoded, and as received (bytes); both ways give the same parts.
    fn route<R: OtlpRequest>(data: Payload<R>, key: RoutingKey) -> Vec<(usize, Payload<R>)>
    where
        Payload<R>: Routable,
    {
        let ring = ring();
        let router = Router {
            key,
            attributes: Vec::new(),
        };
        let on_bytes = received(&data)
            .route(&router, &mut |k: &[u8]| ring.owner(k))
            .unwrap();
        let decoded = data.route(&router, &mut |k: &[u8]| ring.owner(k)).unwrap();
        assert_eq!(on_bytes, decoded, "routing the received bytes agrees");
        decoded
    }

    #[test]
    fn metrics_route_by_metric_name() {
        let ring = ring();
        for (backend, part) in route(metrics(), RoutingKey::Metric) {
            for rm in &part.request().resource_metrics {
                for m in &rm.scope_metrics[0].metrics {
                    assert_eq!(ring.owner(m.name.as_bytes()), Some(backend), "{}", m.name);
                }
            }
        }
    }

    #[test]
    fn metrics_route_by_service_and_by_resource() {
        let ring = ring();
        for (backend, part) in route(metrics(), RoutingKey::Service) {
            for rm in &part.request().resource_metrics {
                let svc = as_text(&rm.resource.as_ref().unwrap().attributes[0]);
                assert_eq!(ring.owner(svc.as_bytes()), Some(backend));
                assert_eq!(
                    rm.scope_metrics[0].metrics.len(),
                    10,
                    "a resource stays whole"
                );
            }
        }
        for (backend, part) in route(metrics(), RoutingKey::Resource) {
            for rm in &part.request().resource_metrics {
                let svc = as_text(&rm.resource.as_ref().unwrap().attributes[0]);
                let identity = format!("host.name=h1|service.name={svc}|");
                assert_eq!(ring.owner(identity.as_bytes()), Some(backend));
            }
        }
    }

    fn as_text(kv: &tributary_pipeline_core::pdata::proto::common::v1::KeyValue) -> String {
        tributary_pipeline_core::pdata::value_text::as_string(kv.value.as_ref())
    }

    #[test]
    fn logs_route_by_trace_id_and_by_service() {
        let logs = Logs::new(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: service("svc"),
                scope_logs: vec![ScopeLogs {
                    log_records: (0..40)
                        .map(|t| LogRecord {
                            trace_id: trace_id(t % 8 + 1),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        });
        let ring = ring();
        let parts = route(logs.clone(), RoutingKey::TraceId);
        assert!(parts.len() > 1, "eight traces spread");
        for (backend, part) in parts {
            for r in &part.request().resource_logs[0].scope_logs[0].log_records {
                assert_eq!(ring.owner(&r.trace_id), Some(backend));
            }
        }
        let parts = route(logs, RoutingKey::Service);
        assert_eq!(parts.len(), 1);
        assert_eq!(Some(parts[0].0), ring.owner(b"svc"));
        assert_eq!(parts[0].1.item_count(), 40);
    }
}

#[tokio::test]
async fn internal_metrics_count_backends_and_outcomes() {
    let backends = Arc::new(FakeBackends::default());
    let settings = CreateSettings::standalone(
        Kind::Exporter,
        "loadbalancing".parse().unwrap(),
        Some(Signal::Traces),
    );
    let balancer = Balancer::new(&settings, &config(THREE), Arc::new(backends.clone())).unwrap();
    balancer.start(&Host::default()).await.unwrap();
    let labels = [("exporter", "loadbalancing"), ("resolver", "static")];
    let metrics = settings.metrics();
    assert_eq!(
        metrics.value("otelcol_loadbalancer_num_backends", &labels),
        Some(3.0)
    );
    assert_eq!(
        metrics.value("otelcol_loadbalancer_num_backend_updates", &labels),
        Some(1.0)
    );
    backends.get("gw-2:4317").down.store(true, Ordering::SeqCst);
    balancer.export(batch("svc", 0..100)).await.unwrap();
    let outcome = |endpoint: &str, success: &str| {
        metrics.sum(
            "otelcol_loadbalancer_backend_outcome",
            &[("endpoint", endpoint), ("success", success)],
        )
    };
    assert_eq!(outcome("gw-2:4317", "false"), 1.0);
    assert_eq!(outcome("gw-2:4317", "true"), 0.0);
    assert!(outcome("gw-1:4317", "true") + outcome("gw-3:4317", "true") >= 2.0);
}

#[tokio::test]
async fn a_backend_whose_client_cannot_be_made_fails_the_start_naming_it() {
    let settings = CreateSettings::standalone(
        Kind::Exporter,
        "loadbalancing".parse().unwrap(),
        Some(Signal::Traces),
    );
    let config = config(
        "protocol: {otlp: {tls: {ca_file: /nonexistent/ca.pem}}}\nresolver: {static: {hostnames: [gw-1:4317]}}",
    );
    let exporter = factory().create::<Traces>(&settings, &config).unwrap();
    let error = exporter
        .start(&Host::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("gw-1:4317"), "{error}");
}
