//! The `memory_limiter` processor: refuses data, retryably, while the process uses too
//! much memory, so the collector sheds load instead of being killed.
//!
//! Every `check_interval` the process's memory use (its resident set size) is measured
//! and compared with two limits: the *hard* limit (`limit_mib`, or `limit_percentage` of
//! the memory available) and the *soft* limit, the hard limit less the spike limit. At or
//! above the soft limit, data is refused with a **retryable** error, "data refused due to
//! high memory usage", carrying a retry hint of one `check_interval`; the OTLP receiver
//! answers 503 / `UNAVAILABLE` and clients retry later. Once use falls below the soft limit
//! again, data is accepted again. Nothing is dropped here: refused data stays with the
//! sender, so put this processor first in each pipeline.
//!
//! ```yaml
//! processors:
//!   memory_limiter:
//!     check_interval: 1s
//!     limit_mib: 4000
//!     spike_limit_mib: 800
//!   memory_limiter/in-container:
//!     check_interval: 1s
//!     limit_percentage: 80
//!     spike_limit_percentage: 20
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `check_interval` | none, required | time between measurements; 1s suits most |
//! | `limit_mib` | `0` | hard limit in MiB; takes precedence over `limit_percentage` |
//! | `spike_limit_mib` | 20% of `limit_mib` | headroom below the hard limit; less than `limit_mib` |
//! | `limit_percentage` | `0` | hard limit in percent of the memory available: the cgroup's memory limit (v2 or v1) if set, else the host's total |
//! | `spike_limit_percentage` | 20% of the limit | headroom in percent; less than `limit_percentage` |
//! | `min_gc_interval_when_soft_limited` | `10s` | least time between two attempts to return free memory to the OS while above the soft limit |
//! | `min_gc_interval_when_hard_limited` | `0s` | the same above the hard limit (`0`: every check) |
//!
//! One of `limit_mib` and `limit_percentage` is required. The keys and defaults are the
//! Go Collector's, so its configurations run unchanged. Rust has no garbage collector to
//! force where Go forces one: instead, above the soft limit the limiter asks the memory
//! allocator to hand back memory it keeps but no longer uses (glibc's `malloc_trim`), then
//! measures again. That is what the `min_gc_interval_*` keys pace.
//!
//! Like in Go, the limiter is **shared**: every pipeline (of any signal) that lists the
//! same memory limiter ID uses one limiter, with one measuring task that runs while at
//! least one of them runs. Checking a request costs one atomic load. While refusing, the
//! component reports `RecoverableError`, and `OK` again once it recovers; each change is
//! logged.
//!
//! Metrics, labelled `processor="<id>"`: `otelcol_processor_memory_limiter_accepted_<items>`
//! and `otelcol_processor_memory_limiter_refused_<items>`, where `<items>` is `spans`,
//! `metric_points` or `log_records`.
//!
//! A processor acts once a receiver has already decoded the request (Go #8632), and memory
//! can still grow within one `check_interval`: size the spike limit for the largest burst
//! expected in that time.
//!
//! ```
//! use tributary_pipeline_core::graph::Factories;
//! use tributary_processors::memory_limiter;
//!
//! let factory = memory_limiter::factory();
//! assert_eq!(factory.component_type(), "memory_limiter");
//!
//! let mut factories = Factories::new();
//! factories.add_processor(factory);
//! assert!(factories.problems().is_empty());
//! ```

mod available;
mod config;
mod factory;
mod limiter;
mod limits;
mod probe;
mod processor;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::{factory, factory_with_probe};
pub use probe::{MemoryProbe, ProcessMemory};
