//! The `resource` processor: applies attribute actions to the resource of every span, log
//! record and metric batch.
//!
//! ```yaml
//! processors:
//!   resource:
//!     attributes:
//!       - {key: cloud.availability_zone, value: zone-1, action: upsert}
//!       - {key: k8s.cluster.name, from_attribute: k8s-cluster, action: insert}
//!       - {key: redundant-attribute, action: delete}
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `attributes` | none, at least one | the actions, applied in order to each resource; the same actions and keys as the `attributes` processor (see [`attraction`](crate::attraction)) |
//!
//! As Go's `resourceprocessor`, every resource is acted on (there is no `include` /
//! `exclude`); a batch without a resource gets one when an action writes to it.
//!
//! ```
//! use tributary_processors::resource;
//!
//! assert_eq!(resource::factory().component_type(), "resource");
//! ```

mod config;
mod factory;

#[cfg(test)]
mod tests;

pub use config::Config;
pub use factory::factory;
