//! The `resourcedetection` processor: adds the host's identity to every resource of
//! traces, metrics and logs.
//!
//! It takes the Go Collector contrib `resourcedetectionprocessor`'s keys and defaults for
//! the two detectors that make sense off-cloud:
//!
//! - `env`: the attributes of `OTEL_RESOURCE_ATTRIBUTES` (`k1=v1,k2=v2`, values
//!   percent-decoded; one malformed pair fails the detector, as in Go).
//! - `system`: `host.name` from the first `hostname_sources` entry that answers (`dns`:
//!   the FQDN from `/etc/hosts` or the resolver's canonical name; `os`: the kernel's host
//!   name; `lookup`: reverse DNS of the host's addresses; `cname`: the canonical name),
//!   `os.type`, and when enabled `host.id` (`/etc/machine-id`, else
//!   `/var/lib/dbus/machine-id`), `host.arch`, `os.description` (`PRETTY_NAME` of
//!   os-release and `uname -srvm`), `os.name`, `os.version`, `os.build.id`, `host.ip`,
//!   `host.mac` and `host.cpu.*` (`/proc/cpuinfo`).
//!
//! Detection runs once when the processor starts (so again after a reload that replaces
//! it), on a blocking thread bounded by `timeout`. A detector that fails is logged and the
//! others still apply; when two detectors give the same attribute, the earlier one in
//! `detectors` wins. Each resource then gets the detected attributes: with `override:
//! true` (the default) they replace the resource's own values, otherwise only missing
//! ones are added. A resource that already carries the result is not copied.
//!
//! The cloud and platform detectors of the Go processor (`ec2`, `gcp`, `azure`, `docker`,
//! `k8snode`, ...) are not built: naming one in `detectors`, or configuring its settings
//! block, is refused at validation with a message saying so. Go's `refresh_interval`
//! (periodic re-detection) is refused unless `0s`.
//!
//! Crates: `rustix` for `uname` (no `unsafe` of ours), `dns-lookup` for the resolver
//! (`getaddrinfo` with `AI_CANONNAME`, `getnameinfo`), both already in the workspace.
//!
//! # Example
//!
//! ```yaml
//! processors:
//!   resourcedetection:
//!     detectors: [env, system]
//!     timeout: 2s
//!     override: false
//!     system:
//!       hostname_sources: [os]
//!       resource_attributes:
//!         host.id: {enabled: true}
//!         host.arch: {enabled: true}
//!         os.description: {enabled: true}
//! ```
//!
//! # Configuration
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `detectors` | `[env]` | `env` and/or `system`, in precedence order |
//! | `attributes` | all | Go's deprecated allow-list of detected attributes to add |
//! | `override` | `true` | detected values replace the data's own |
//! | `timeout` | `5s` | how long detection may take at start |
//! | `refresh_interval` | `0s` | only `0s` is accepted |
//! | `system::hostname_sources` | `[dns, os]` | `dns`, `os`, `lookup`, `cname`, tried in order |
//! | `system::resource_attributes::<name>::enabled` | `host.name` and `os.type` on, the rest off | switch an attribute |

mod config;
mod env;
mod factory;
mod processor;
mod system;

#[cfg(test)]
mod tests;

pub use config::{
    BUILT_DETECTORS, Config, NOT_BUILT_DETECTORS, SYSTEM_ATTRIBUTES, SystemConfig, Toggle,
};
pub use env::{ENV_VAR, EnvError, parse_resource_attributes};
pub use factory::factory;
pub use processor::merge_attributes;
