//! `pprof`: CPU profiles of the running collector over HTTP, in the format `go tool pprof`
//! reads, as the Go Collector's pprof extension serves them (behind the `pprof` cargo
//! feature).
//!
//! ```yaml
//! extensions:
//!   pprof:                        # 127.0.0.1:1777
//!   pprof/all-run:
//!     endpoint: 127.0.0.1:1778
//!     save_to_file: /tmp/collector.pprof
//! service:
//!   extensions: [pprof]
//! ```
//!
//! ```sh
//! go tool pprof http://127.0.0.1:1777/debug/pprof/profile?seconds=10
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `endpoint` | `127.0.0.1:1777` | where to listen: `ip:port`, `[ipv6]:port`, `host-name:port`, or `:port` |
//! | `block_profile_fraction` | `0` | Go's block profile rate: only `0` is accepted (a Go runtime feature) |
//! | `mutex_profile_fraction` | `0` | Go's mutex profile fraction: only `0` is accepted (a Go runtime feature) |
//! | `save_to_file` | none | write a CPU profile of the whole run (from start to shutdown) to this file |
//!
//! | path | answer |
//! |---|---|
//! | `/debug/pprof/` | an index |
//! | `/debug/pprof/profile?seconds=N` | a CPU profile of N seconds (default 30, at most 600), gzip-compressed `perftools.profiles.Profile` protobuf sampled at 100 Hz, samples labelled with their thread; 500 while another CPU profile runs (one profiler per process, as in Go) |
//! | `/debug/pprof/cmdline` | the command line, NUL-separated |
//! | `/debug/pprof/heap`, `allocs` | 501: heap profiles need a profiling allocator and this collector uses the system allocator |
//! | `/debug/pprof/block`, `mutex`, `goroutine`, `threadcreate`, `trace` | 501: Go runtime features |
//!
//! Profiles are sampled by the [`pprof`](https://docs.rs/pprof) crate (tikv's, maintained;
//! SIGPROF and a frame-pointer-free unwinder) and encoded with our own prost, without the
//! crate's codec features, which would add a second prost and a protobuf build step.

mod config;
mod extension;
mod factory;
mod profile;

pub use config::{Config, DEFAULT_ENDPOINT};
pub use extension::Pprof;
pub use factory::factory;
pub use profile::{CpuProfile, ProfileError, cpu_profile};
