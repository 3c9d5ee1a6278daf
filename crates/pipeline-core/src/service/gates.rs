//! The service's feature gates.

use tributary_featuregate::{Gate, GateSpec, Registry, Stage};

/// ID of the gate that lets a reload take over unchanged components.
pub const RELOAD_KEEPS_UNCHANGED: &str = "service.reloadKeepsUnchangedComponents";

/// The service's gates, registered in a collector's registry.
#[derive(Clone)]
pub(crate) struct ServiceGates {
    /// When on (Beta, the default), a reload keeps every component whose configuration did
    /// not change running (exporter queues keep their contents, receivers their sockets).
    /// When off, a reload rebuilds every component, as the Go Collector does — still
    /// transactionally: the new graph starts before the old one stops.
    pub reload_keeps_unchanged: Gate,
}

/// Registers the service's gates in `registry`, or finds them there if already registered.
pub(crate) fn register(registry: &'static Registry) -> ServiceGates {
    let spec = GateSpec::new(RELOAD_KEEPS_UNCHANGED, Stage::Beta)
        .description(
            "A configuration reload keeps components whose configuration did not change running \
             (exporter queues keep their contents, receivers their sockets); off: every component is \
             rebuilt on reload, still without stopping the running pipelines first.",
        )
        .from_version("v0.1.0");
    let reload_keeps_unchanged = registry
        .get(RELOAD_KEEPS_UNCHANGED)
        .unwrap_or_else(|| registry.must_register(spec));
    ServiceGates {
        reload_keeps_unchanged,
    }
}
