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
    // One lookup-or-insert under the registry's lock: two collectors built at once on one
    // registry must both get the gate, not race to register it.
    let reload_keeps_unchanged = match registry.get_or_register(spec) {
        Ok(gate) => gate,
        // The spec above is a constant that satisfies every registration rule; the
        // `registering_twice_concurrently_yields_one_gate` test builds it.
        Err(error) => panic!("the service's own feature gate spec is invalid: {error}"),
    };
    ServiceGates {
        reload_keeps_unchanged,
    }
}

#[cfg(test)]
mod tests {
    use std::thread;

    use super::*;

    #[test]
    fn registering_twice_concurrently_yields_one_gate() {
        let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
        let threads: Vec<_> = (0..4)
            .map(|_| thread::spawn(move || register(registry)))
            .collect();
        let gates: Vec<ServiceGates> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        registry.set(RELOAD_KEEPS_UNCHANGED, false).unwrap();
        assert!(gates.iter().all(|g| !g.reload_keeps_unchanged.is_enabled()));
        assert_eq!(registry.gates().len(), 1);
    }
}
