//! The set of gates a collector knows, and the rules for changing them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{RegisterError, SetError};
use crate::gate::{Gate, GateSpec};
use crate::stage::Stage;

/// The gates in a registry, keyed (and so ordered) by ID.
pub(crate) type Gates = BTreeMap<String, Gate>;

/// The feature gates of one collector instance: registration, settings, and listing in ID
/// order.
///
/// A collector owns its registry, so two collectors in one process can run with different
/// settings; [`Registry::global`] is a process-wide default for code that has no registry at
/// hand. All methods take `&self` and the registry is `Send + Sync`, so it can be shared
/// freely. Code on the hot path keeps the [`Gate`] handle from [`register`](Registry::register)
/// and asks [`Gate::is_enabled`], which takes no lock.
///
/// Settings are checked against the gate's [`Stage`]: a Stable gate can not be disabled and
/// a Deprecated gate can not be enabled. Setting a Stable gate on or a Deprecated gate off
/// is allowed but pointless, so it succeeds and logs a `tracing` warning (at `WARN`, target
/// `tributary_featuregate::registry`) that the gate will be removed; nothing is printed to
/// stdout.
///
/// ```
/// use tributary_featuregate::{GateSpec, Registry, Stage};
///
/// let registry = Registry::new();
/// let gate = registry.register(GateSpec::new("processor.batch.exactSize", Stage::Alpha))?;
/// registry.register(
///     GateSpec::new("exporter.legacyJson", Stage::Deprecated).to_version("v0.8.0"),
/// )?;
///
/// registry.set("processor.batch.exactSize", true)?;
/// assert!(gate.is_enabled());
/// assert_eq!(registry.is_enabled("processor.batch.exactSize"), Some(true));
///
/// let error = registry.set("exporter.legacyJson", true).unwrap_err();
/// assert_eq!(error.to_string(), r#"feature gate "exporter.legacyJson" is deprecated, can not be enabled"#);
///
/// let ids: Vec<String> = registry.gates().iter().map(|g| g.id().to_owned()).collect();
/// assert_eq!(ids, ["exporter.legacyJson", "processor.batch.exactSize"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Registry {
    // The lock guards the map, not the gates' values, which are atomics. Registration takes
    // it for writing; so do `set` and `apply_flag`, so that a flag is applied as one step
    // with respect to other writers.
    gates: RwLock<Gates>,
}

/// The process-wide default registry.
static GLOBAL: Registry = Registry::new();

impl Registry {
    /// An empty registry.
    pub const fn new() -> Self {
        Registry {
            gates: RwLock::new(BTreeMap::new()),
        }
    }

    /// The process-wide default registry.
    ///
    /// Convenient for gates declared in `static`s by code that has no registry passed to it;
    /// a collector that embeds Tributary alongside others should prefer its own
    /// [`Registry::new`].
    pub fn global() -> &'static Registry {
        &GLOBAL
    }

    /// Registers a gate, set to its stage's default, and returns its handle.
    ///
    /// # Errors
    ///
    /// Every rule listed on [`GateSpec`] is checked, and an ID already in this registry is
    /// refused with [`RegisterError::AlreadyRegistered`]; on error the registry is unchanged.
    pub fn register(&self, spec: GateSpec) -> Result<Gate, RegisterError> {
        let mut gates = self.write();
        if gates.contains_key(spec.id()) {
            return Err(RegisterError::AlreadyRegistered {
                id: spec.id().to_owned(),
            });
        }
        let gate = spec.build()?;
        gates.insert(gate.id().to_owned(), gate.clone());
        Ok(gate)
    }

    /// The gate `spec.id()` if it is already registered, otherwise registers `spec` — as one
    /// step under the registry's lock, so concurrent callers with the same spec all get the
    /// same gate and none sees "already registered".
    ///
    /// This is how code that may run more than once in a process (building two collectors
    /// that share a registry, say) registers its gates. A gate found in the registry is
    /// returned as it is, with its current setting, even if `spec` differs from the spec it
    /// was registered with.
    ///
    /// ```
    /// use tributary_featuregate::{GateSpec, Registry, Stage};
    ///
    /// let registry = Registry::new();
    /// let first = registry.get_or_register(GateSpec::new("exporter.retry", Stage::Alpha))?;
    /// registry.set("exporter.retry", true)?;
    /// let again = registry.get_or_register(GateSpec::new("exporter.retry", Stage::Alpha))?;
    /// assert!(first.is_enabled() && again.is_enabled());
    /// assert_eq!(registry.gates().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Every rule listed on [`GateSpec`] is checked even when the gate exists, so a spec that
    /// [`register`](Registry::register) would refuse is refused here too; on error the
    /// registry is unchanged.
    pub fn get_or_register(&self, spec: GateSpec) -> Result<Gate, RegisterError> {
        let built = spec.build()?;
        let mut gates = self.write();
        Ok(gates.entry(built.id().to_owned()).or_insert(built).clone())
    }

    /// Registers a gate like [`register`](Registry::register), panicking on error.
    ///
    /// Meant for gates declared once in code, typically in a `static` initialised with
    /// [`LazyLock`](std::sync::LazyLock), where a bad spec or a duplicate ID is a
    /// programmer error that every test run would hit. Never use it with IDs or versions
    /// that come from users or configuration.
    ///
    /// ```
    /// use std::sync::LazyLock;
    /// use tributary_featuregate::{Gate, GateSpec, Registry, Stage};
    ///
    /// static EXACT_SIZE: LazyLock<Gate> = LazyLock::new(|| {
    ///     Registry::global().must_register(
    ///         GateSpec::new("doc.example.exactSize", Stage::Beta)
    ///             .description("Split batches at exactly send_batch_max_size."),
    ///     )
    /// });
    ///
    /// assert!(EXACT_SIZE.is_enabled());
    /// ```
    ///
    /// # Panics
    ///
    /// If [`register`](Registry::register) returns an error; the panic message is the error.
    #[track_caller]
    pub fn must_register(&self, spec: GateSpec) -> Gate {
        match self.register(spec) {
            Ok(gate) => gate,
            Err(error) => panic!("{error}"),
        }
    }

    /// Enables or disables the gate `id`.
    ///
    /// Enabling a Stable gate or disabling a Deprecated gate changes nothing, succeeds, and
    /// logs a warning that the gate will be removed.
    ///
    /// # Errors
    ///
    /// [`SetError::UnknownGate`] (listing the registered IDs) if there is no such gate,
    /// [`SetError::StableCannotBeDisabled`] and [`SetError::DeprecatedCannotBeEnabled`] for
    /// the stage rules; on error nothing changes.
    pub fn set(&self, id: &str, enabled: bool) -> Result<(), SetError> {
        let gates = self.write();
        let gate = check_setting(&gates, id, enabled)?;
        apply_setting(gate, enabled);
        Ok(())
    }

    /// Whether the gate `id` is enabled, or `None` if no such gate is registered.
    ///
    /// This looks the gate up under a lock; code that asks repeatedly should keep the
    /// [`Gate`] handle instead.
    pub fn is_enabled(&self, id: &str) -> Option<bool> {
        self.read().get(id).map(Gate::is_enabled)
    }

    /// The handle of the gate `id`, or `None` if no such gate is registered.
    pub fn get(&self, id: &str) -> Option<Gate> {
        self.read().get(id).cloned()
    }

    /// Every registered gate, ordered by ID (byte-wise, so `"B"` sorts before `"a"`).
    ///
    /// The list is a snapshot of which gates exist; each handle still shows its gate's
    /// current state. This is what the `featuregate` subcommand prints.
    pub fn gates(&self) -> Vec<Gate> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> RwLockReadGuard<'_, Gates> {
        // Nothing panics while holding the lock, and the map is never left half-updated,
        // so a poisoned lock still guards a consistent map.
        self.gates.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The map, locked for writing; also serialises settings against each other.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Gates> {
        self.gates.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("gates", &self.read().values().collect::<Vec<_>>())
            .finish()
    }
}

/// Finds the gate `id` and checks that it may be set to `enabled`, without changing it.
pub(crate) fn check_setting<'g>(
    gates: &'g Gates,
    id: &str,
    enabled: bool,
) -> Result<&'g Gate, SetError> {
    let Some(gate) = gates.get(id) else {
        return Err(SetError::UnknownGate {
            id: id.to_owned(),
            valid: gates.keys().cloned().collect(),
        });
    };
    match (gate.stage(), enabled) {
        (Stage::Stable, false) => Err(SetError::StableCannotBeDisabled { id: id.to_owned() }),
        (Stage::Deprecated, true) => Err(SetError::DeprecatedCannotBeEnabled { id: id.to_owned() }),
        _ => Ok(gate),
    }
}

/// Applies a setting that [`check_setting`] accepted. On a Stable or Deprecated gate the
/// setting can only be the value the gate already has, so it changes nothing and warns
/// instead that the gate is going away.
pub(crate) fn apply_setting(gate: &Gate, enabled: bool) {
    let state = match gate.stage() {
        Stage::Alpha | Stage::Beta => {
            gate.store(enabled);
            return;
        }
        Stage::Stable => "stable and already enabled",
        Stage::Deprecated => "deprecated and already disabled",
    };
    // Registration guarantees a removal version for these stages.
    let removal = gate
        .to_version()
        .map_or_else(|| "a future version".to_owned(), |v| v.to_string());
    tracing::warn!(
        feature_gate = gate.id(),
        "feature gate {:?} is {state}; it will be removed in {removal}, and setting it after \
         that version will be an error",
        gate.id(),
    );
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;

    use super::*;
    use crate::test_support::capture_warnings;

    fn registry_with_all_stages() -> Registry {
        let registry = Registry::new();
        registry
            .register(GateSpec::new("alpha", Stage::Alpha))
            .unwrap();
        registry
            .register(GateSpec::new("beta", Stage::Beta))
            .unwrap();
        registry
            .register(GateSpec::new("stable", Stage::Stable).to_version("v0.5.0"))
            .unwrap();
        registry
            .register(GateSpec::new("deprecated", Stage::Deprecated).to_version("v0.6.0"))
            .unwrap();
        registry
    }

    #[test]
    fn registry_is_send_and_sync_and_gate_handles_too() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Registry>();
        assert_send_sync::<Gate>();
    }

    #[test]
    fn register_returns_a_handle_at_the_stage_default() {
        let registry = registry_with_all_stages();
        assert_eq!(registry.is_enabled("alpha"), Some(false));
        assert_eq!(registry.is_enabled("beta"), Some(true));
        assert_eq!(registry.is_enabled("stable"), Some(true));
        assert_eq!(registry.is_enabled("deprecated"), Some(false));
        assert_eq!(registry.is_enabled("missing"), None);
    }

    #[test]
    fn duplicate_id_is_rejected_and_the_first_gate_kept() {
        let registry = Registry::new();
        let first = registry
            .register(GateSpec::new("dup", Stage::Alpha).description("first"))
            .unwrap();
        let error = registry
            .register(GateSpec::new("dup", Stage::Beta).description("second"))
            .unwrap_err();
        assert_eq!(error, RegisterError::AlreadyRegistered { id: "dup".into() });
        assert_eq!(
            error.to_string(),
            r#"feature gate "dup" is already registered"#
        );
        let kept = registry.get("dup").unwrap();
        assert_eq!(kept.description(), "first");
        assert!(!first.is_enabled());
    }

    #[test]
    fn invalid_spec_leaves_the_registry_unchanged() {
        let registry = Registry::new();
        assert!(
            registry
                .register(GateSpec::new("bad-id", Stage::Alpha))
                .is_err()
        );
        assert!(
            registry
                .register(GateSpec::new("s", Stage::Stable))
                .is_err()
        );
        assert!(registry.gates().is_empty());
    }

    #[test]
    fn set_changes_alpha_and_beta_gates_seen_through_the_handle() {
        let registry = Registry::new();
        let alpha = registry
            .register(GateSpec::new("alpha", Stage::Alpha))
            .unwrap();
        let beta = registry
            .register(GateSpec::new("beta", Stage::Beta))
            .unwrap();
        registry.set("alpha", true).unwrap();
        registry.set("beta", false).unwrap();
        assert!(alpha.is_enabled());
        assert!(!beta.is_enabled());
        registry.set("alpha", false).unwrap();
        registry.set("beta", true).unwrap();
        assert!(!alpha.is_enabled());
        assert!(beta.is_enabled());
    }

    #[test]
    fn set_unknown_gate_lists_valid_gates_in_order() {
        let registry = Registry::new();
        for id in ["c", "a", "b"] {
            registry.register(GateSpec::new(id, Stage::Alpha)).unwrap();
        }
        let error = registry.set("x", true).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"no such feature gate "x"; valid gates: a, b, c"#
        );
    }

    #[test]
    fn stable_gate_can_not_be_disabled() {
        let registry = registry_with_all_stages();
        let error = registry.set("stable", false).unwrap_err();
        assert_eq!(
            error,
            SetError::StableCannotBeDisabled {
                id: "stable".into()
            }
        );
        assert_eq!(
            error.to_string(),
            r#"feature gate "stable" is stable, can not be disabled"#
        );
        assert_eq!(registry.is_enabled("stable"), Some(true));
    }

    #[test]
    fn deprecated_gate_can_not_be_enabled() {
        let registry = registry_with_all_stages();
        let error = registry.set("deprecated", true).unwrap_err();
        assert_eq!(
            error,
            SetError::DeprecatedCannotBeEnabled {
                id: "deprecated".into()
            }
        );
        assert_eq!(
            error.to_string(),
            r#"feature gate "deprecated" is deprecated, can not be enabled"#
        );
        assert_eq!(registry.is_enabled("deprecated"), Some(false));
    }

    #[test]
    fn enabling_stable_succeeds_with_a_removal_warning() {
        let registry = registry_with_all_stages();
        let warnings = capture_warnings(|| registry.set("stable", true).unwrap());
        assert_eq!(
            warnings,
            [
                r#"feature gate "stable" is stable and already enabled; it will be removed in v0.5.0, and setting it after that version will be an error"#
            ]
        );
        assert_eq!(registry.is_enabled("stable"), Some(true));
    }

    #[test]
    fn disabling_deprecated_succeeds_with_a_removal_warning() {
        let registry = registry_with_all_stages();
        let warnings = capture_warnings(|| registry.set("deprecated", false).unwrap());
        assert_eq!(
            warnings,
            [
                r#"feature gate "deprecated" is deprecated and already disabled; it will be removed in v0.6.0, and setting it after that version will be an error"#
            ]
        );
        assert_eq!(registry.is_enabled("deprecated"), Some(false));
    }

    #[test]
    fn setting_alpha_and_beta_does_not_warn() {
        let registry = registry_with_all_stages();
        let warnings = capture_warnings(|| {
            registry.set("alpha", true).unwrap();
            registry.set("beta", false).unwrap();
        });
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn gates_are_listed_in_id_order_with_all_their_fields() {
        let registry = Registry::new();
        registry
            .register(
                GateSpec::new("z.last", Stage::Deprecated)
                    .description("old")
                    .from_version("v0.1.0")
                    .to_version("v0.3.0")
                    .reference_url("https://example.com/z"),
            )
            .unwrap();
        registry
            .register(GateSpec::new("a.first", Stage::Alpha))
            .unwrap();
        registry
            .register(GateSpec::new("B.upper", Stage::Beta))
            .unwrap();
        registry
            .register(GateSpec::new("m.middle", Stage::Beta))
            .unwrap();
        registry.set("m.middle", false).unwrap();

        let listed: Vec<(String, bool, String)> = registry
            .gates()
            .iter()
            .map(|g| (g.id().to_owned(), g.is_enabled(), g.stage().to_string()))
            .collect();
        let expected = [
            ("B.upper", true, "Beta"),
            ("a.first", false, "Alpha"),
            ("m.middle", false, "Beta"),
            ("z.last", false, "Deprecated"),
        ]
        .map(|(id, on, stage)| (id.to_owned(), on, stage.to_owned()));
        assert_eq!(listed, expected);

        let last = registry.get("z.last").unwrap();
        assert_eq!(last.description(), "old");
        assert_eq!(last.from_version().unwrap().to_string(), "v0.1.0");
        assert_eq!(last.to_version().unwrap().to_string(), "v0.3.0");
        assert_eq!(last.reference_url(), Some("https://example.com/z"));
    }

    #[test]
    fn registries_are_independent() {
        let one = Registry::new();
        let two = Registry::new();
        let gate_one = one
            .register(GateSpec::new("shared.id", Stage::Alpha))
            .unwrap();
        let gate_two = two
            .register(GateSpec::new("shared.id", Stage::Alpha))
            .unwrap();
        one.set("shared.id", true).unwrap();
        assert!(gate_one.is_enabled());
        assert!(!gate_two.is_enabled());
    }

    #[test]
    fn global_is_one_process_wide_registry() {
        assert!(std::ptr::eq(Registry::global(), Registry::global()));
        // A test-unique ID: other tests may use the global registry concurrently.
        let gate = Registry::global()
            .register(GateSpec::new(
                "tributary.featuregate.test.globalRegistry",
                Stage::Alpha,
            ))
            .unwrap();
        Registry::global()
            .set("tributary.featuregate.test.globalRegistry", true)
            .unwrap();
        assert!(gate.is_enabled());
    }

    #[test]
    fn get_or_register_returns_the_registered_gate_with_its_setting() {
        let registry = Registry::new();
        let first = registry
            .get_or_register(GateSpec::new("once", Stage::Alpha).description("first"))
            .unwrap();
        registry.set("once", true).unwrap();
        let second = registry
            .get_or_register(GateSpec::new("once", Stage::Alpha).description("second"))
            .unwrap();
        assert!(first.is_enabled() && second.is_enabled());
        assert_eq!(second.description(), "first");
        assert_eq!(registry.gates().len(), 1);
    }

    #[test]
    fn get_or_register_refuses_an_invalid_spec_even_if_the_id_exists() {
        let registry = Registry::new();
        registry
            .register(GateSpec::new("s", Stage::Stable).to_version("v0.5.0"))
            .unwrap();
        assert!(
            registry
                .get_or_register(GateSpec::new("s", Stage::Stable))
                .is_err()
        );
    }

    #[test]
    fn concurrent_get_or_register_yields_one_gate() {
        let registry = Arc::new(Registry::new());
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let registry = Arc::clone(&registry);
                thread::spawn(move || {
                    registry
                        .get_or_register(GateSpec::new("raced", Stage::Alpha))
                        .unwrap()
                })
            })
            .collect();
        let gates: Vec<Gate> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        registry.set("raced", true).unwrap();
        assert!(gates.iter().all(Gate::is_enabled));
        assert_eq!(registry.gates().len(), 1);
    }

    #[test]
    fn must_register_returns_the_gate() {
        let registry = Registry::new();
        let gate = registry.must_register(GateSpec::new("ok", Stage::Beta));
        assert!(gate.is_enabled());
    }

    #[test]
    #[should_panic(expected = r#"feature gate "dup" is already registered"#)]
    fn must_register_panics_with_the_error() {
        let registry = Registry::new();
        registry.must_register(GateSpec::new("dup", Stage::Alpha));
        registry.must_register(GateSpec::new("dup", Stage::Alpha));
    }

    #[test]
    fn concurrent_readers_see_settings_without_locking() {
        let registry = Arc::new(Registry::new());
        let gate = registry
            .register(GateSpec::new("hot", Stage::Alpha))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let (gate, stop) = (gate.clone(), Arc::clone(&stop));
                thread::spawn(move || {
                    let mut saw_enabled = false;
                    while !stop.load(Ordering::Relaxed) {
                        saw_enabled |= gate.is_enabled();
                    }
                    saw_enabled | gate.is_enabled()
                })
            })
            .collect();
        let writers: Vec<_> = (0..2)
            .map(|n| {
                let registry = Arc::clone(&registry);
                thread::spawn(move || {
                    for i in 0..200 {
                        registry.set("hot", (i + n) % 2 == 0).unwrap();
                        registry
                            .register(GateSpec::new(format!("w{n}.g{i}"), Stage::Alpha))
                            .unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().unwrap();
        }
        registry.set("hot", true).unwrap();
        stop.store(true, Ordering::Relaxed);
        for reader in readers {
            assert!(reader.join().unwrap());
        }
        assert_eq!(registry.gates().len(), 401);
    }

    #[test]
    fn default_is_empty_and_debug_lists_gates() {
        let registry = Registry::default();
        assert!(registry.gates().is_empty());
        registry
            .register(GateSpec::new("shown", Stage::Alpha))
            .unwrap();
        let shown = format!("{registry:?}");
        assert!(shown.starts_with("Registry"), "{shown}");
        assert!(shown.contains(r#""shown""#), "{shown}");
    }
}
