//! The `loadbalancing` exporter: sends each trace (or service, resource, metric) to one
//! backend of a tier, chosen on a consistent-hash ring, over OTLP/gRPC.
//!
//! Backends running tail sampling or span metrics need every span of a trace (or of a
//! service); this exporter keeps them together while spreading the load.
//!
//! ```yaml
//! exporters:
//!   loadbalancing:
//!     routing_key: traceID
//!     protocol:
//!       otlp:                      # the otlp exporter's keys, endpoint excepted
//!         timeout: 1s
//!         tls:
//!           insecure: true
//!     resolver:
//!       static:
//!         hostnames: [gateway-1:4317, gateway-2:4317, gateway-3:4317]
//!     sending_queue:               # queue here, not per backend: see below
//!       enabled: true
//!       storage: file_storage
//!     retry_on_failure:
//!       enabled: true
//!   loadbalancing/dns:
//!     protocol:
//!       otlp: {tls: {insecure: true}}
//!     resolver:
//!       dns:
//!         hostname: gateways.internal   # every A/AAAA address is a backend
//!         port: "4317"
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `routing_key` | `traceID` | traces: `traceID`, `service`, `attributes`; logs: `traceID`, `service`; metrics: `service`, `resource`, `metric` |
//! | `routing_attributes` | `[]` | with `routing_key: attributes` (traces): the key is `name=value\|…` of these, looked up on the span, then its scope, then its resource; `span.kind` and `span.name` are the span's kind and name; a missing one is `name=\|` |
//! | `protocol::otlp` | the [`otlp`](crate::otlp) exporter's defaults | the client of every backend; `endpoint` is the backend's; `timeout` bounds each attempt to one backend |
//! | `resolver::static::hostnames` | | `host[:port]` per backend, port 4317 when left out |
//! | `resolver::dns::hostname` | | a name whose addresses are the backends |
//! | `resolver::dns::port` | `4317` | the backends' port |
//! | `resolver::dns::interval` | `5s` | how often the name is resolved again |
//! | `resolver::dns::timeout` | `1s` | how long one resolution may take |
//! | `resolver::k8s`, `resolver::aws_cloud_map` | | refused: Tributary has no Kubernetes or AWS client (use `dns` with a headless service or Cloud Map's DNS name) |
//! | `timeout`, `retry_on_failure`, `sending_queue` | all off | the [exporter helper](tributary_pipeline_core::exporterhelper) around the balancer |
//!
//! # The ring
//!
//! The consistent-hash ring is Go's (see [`ring`] for the algorithm): 36 000
//! positions, 100 per backend at `crc32(name ++ [i]) % 36000` (IEEE CRC-32), keys at
//! `crc32(key) % 36000`, owned by the first backend at or after them. A trace ID's key is
//! its 16 bytes, a service's its name, so Go and Tributary balancers given the same
//! backend list route `traceID` and `service` alike. A backend joining or leaving moves
//! about 1/n of the keys. `crc32fast` computes the checksum (already in the build through
//! flate2, SIMD-accelerated, and it is the IEEE polynomial Go's `crc32.NewIEEE` uses).
//!
//! # Start and resolution
//!
//! Start resolves the backends and makes one client per backend; nothing connects yet
//! (as with the `otlp` exporter), so backends that are down do not stop the collector. A
//! static backend whose client cannot be made (an unreadable TLS file) fails the start,
//! naming the backend. The `dns` resolver resolves again every `interval`; a failed
//! resolution keeps the current backends (at start: none, and exports fail retryably
//! until the name resolves). Each change is logged and counted.
//!
//! # Health-aware failover
//!
//! A backend whose export fails retryably (unreachable, `UNAVAILABLE`, no answer within
//! `protocol::otlp::timeout`) is left out for a cooldown (1s, doubled per failure in a
//! row, at most 30s); its share of the batch is sent at once to the next healthy backend
//! clockwise on the ring, so nothing is dropped and only the failed backend's keys move.
//! After the cooldown it gets its share again: the first export is the probe, and on
//! success it is healthy. When every backend is down, each key is tried on its owner
//! and the batch fails retryably, for the queue to keep.
//!
//! # Nothing queued is lost when the ring changes
//!
//! In Go each backend has its own exporter with its own queue, so data queued for a
//! backend that leaves the ring is lost with it (contrib #35378, #36717, #50436). Here the
//! backends have no queue: the one queue is the balancer's (`sending_queue`, persistent
//! with `storage`), and a batch is routed when it is sent, on the ring of that moment. A
//! batch waiting for retry after a failure is routed again on the ring as it is then. The
//! backends' own `sending_queue` and `retry_on_failure` under `protocol::otlp` are
//! accepted for compatibility and not used; `protocol::otlp::sending_queue::storage` is
//! refused, saying where the storage goes.
//!
//! While the ring is stable and backends are healthy, every span of a trace reaches one
//! backend. Failover sends the trace's spans that arrive during a backend's outage to
//! the next backend, as any balancer must to lose nothing.
//!
//! Delivery is at least once: a batch split over several backends, some of which took
//! their part while every other backend tried failed, is retried whole, and the parts
//! already delivered are sent again.
//!
//! # Differences from the Go Collector
//!
//! * One request per backend per batch (Go sends one per trace ID).
//! * Data is never bound to a backend's queue (above); Go's `protocol::otlp` queues are
//!   not used.
//! * Failover to the next healthy backend (Go keeps sending to a dead backend: contrib
//!   #32045).
//! * `routing_key: streamID` is refused (Tributary does not split metrics into data
//!   points for routing; use `metric` or `resource`); `attributes` routes traces only.
//! * `resource` routes by the resource's attributes sorted by name (`k=v|…`), `metric` by
//!   the metric's name; Go's identity hashes differ, so a mixed tier routes these keys
//!   differently (each balancer is still consistent with itself).
//! * Log records without a trace ID are spread over the backends in turn (Go picks at
//!   random).
//!
//! # Metrics
//!
//! `otelcol_loadbalancer_num_resolutions` (`resolver`, `success`),
//! `otelcol_loadbalancer_num_backends`, `otelcol_loadbalancer_num_backend_updates`,
//! `otelcol_loadbalancer_backend_outcome` (`endpoint`, `success`), all labelled with the
//! `exporter`.

mod balancer;
mod config;
mod factory;
mod resolver;
pub mod ring;
mod routing;

#[cfg(test)]
mod tests;

pub use balancer::{FIRST_COOLDOWN, MAX_COOLDOWN};
pub use config::{
    Config, DEFAULT_DNS_INTERVAL, DEFAULT_DNS_TIMEOUT, DEFAULT_PORT, DnsResolverConfig,
    ProtocolConfig, ResolverConfig, RoutingKey, StaticResolverConfig,
};
pub use factory::factory;
