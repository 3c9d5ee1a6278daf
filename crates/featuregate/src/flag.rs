//! The `--feature-gates` flag: a comma-separated list of gate IDs to enable or disable.
//!
//! Each entry is a gate ID with an optional sign: `-id` disables the gate, `+id` or `id`
//! enables it, as in `--feature-gates=a,-b,+c`. Whitespace around the whole value and
//! around each entry is ignored, and an empty value sets nothing. Entries apply in order,
//! so when an ID appears twice the later entry wins.

use crate::error::{FlagEntryError, FlagError};
use crate::gate::is_valid_id;
use crate::registry::{Registry, apply_setting, check_setting};

/// One well-formed entry of a flag value.
struct FlagEntry<'a> {
    index: usize,
    id: &'a str,
    enabled: bool,
}

/// Splits a flag value into its entries, in order, each parsed or rejected on its own.
fn entries(value: &str) -> impl Iterator<Item = Result<FlagEntry<'_>, FlagEntryError>> {
    let value = value.trim();
    // `"".split(',')` yields one empty entry; an empty flag means "no entries" instead.
    let raw_entries = (!value.is_empty()).then(|| value.split(','));
    raw_entries
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, raw)| parse_entry(index, raw.trim()))
}

/// Parses one trimmed entry: an optional sign, then a gate ID.
fn parse_entry(index: usize, raw: &str) -> Result<FlagEntry<'_>, FlagEntryError> {
    let (id, enabled) = match raw.strip_prefix('-') {
        Some(id) => (id, false),
        None => (raw.strip_prefix('+').unwrap_or(raw), true),
    };
    if id.is_empty() {
        Err(FlagEntryError::EmptyId { index })
    } else if !is_valid_id(id) {
        Err(FlagEntryError::InvalidId {
            index,
            id: id.to_owned(),
        })
    } else {
        Ok(FlagEntry { index, id, enabled })
    }
}

/// Parses a `--feature-gates` value into `(id, enabled)` pairs, in order, without looking
/// at any registry.
///
/// ```
/// use tributary_featuregate::parse_flag;
///
/// let parsed = parse_flag("a, -b ,+c")?;
/// assert_eq!(
///     parsed,
///     [("a".to_owned(), true), ("b".to_owned(), false), ("c".to_owned(), true)],
/// );
/// assert_eq!(parse_flag("")?, []);
///
/// let error = parse_flag("a,,-,b-c").unwrap_err();
/// assert_eq!(error.errors().len(), 3);
/// # Ok::<(), tributary_featuregate::FlagError>(())
/// ```
///
/// # Errors
///
/// A [`FlagError`] holding every malformed entry: empty ones (`"a,,b"`, a lone `-` or `+`)
/// and IDs with characters other than ASCII letters, digits and dots.
pub fn parse_flag(value: &str) -> Result<Vec<(String, bool)>, FlagError> {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for entry in entries(value) {
        match entry {
            Ok(entry) => parsed.push((entry.id.to_owned(), entry.enabled)),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(FlagError::new(errors))
    }
}

impl Registry {
    /// Applies a `--feature-gates` value (see [`parse_flag`] for the syntax) to this
    /// registry, all or nothing.
    ///
    /// Every entry is checked before anything changes: if any entry is malformed, names an
    /// unknown gate, or breaks a stage rule (disabling a Stable gate, enabling a Deprecated
    /// one), no gate changes and the error lists **every** bad entry. Otherwise the entries
    /// are applied in order, with the same warnings as [`Registry::set`].
    ///
    /// The whole call holds the registry's write lock, so it does not interleave with other
    /// `set` or `apply_flag` calls; code reading [`Gate::is_enabled`](crate::Gate::is_enabled)
    /// concurrently may still observe some entries applied before others.
    ///
    /// ```
    /// use tributary_featuregate::{GateSpec, Registry, Stage};
    ///
    /// let registry = Registry::new();
    /// let a = registry.register(GateSpec::new("a", Stage::Alpha))?;
    /// let b = registry.register(GateSpec::new("b", Stage::Beta))?;
    /// registry.register(GateSpec::new("s", Stage::Stable).to_version("v1.0.0"))?;
    ///
    /// let error = registry.apply_flag("a,,-s,nope").unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "3 invalid feature gate entries:\n  \
    ///      empty feature gate identifier at index 1\n  \
    ///      feature gate \"s\" is stable, can not be disabled\n  \
    ///      no such feature gate \"nope\"; valid gates: a, b, s",
    /// );
    /// assert!(!a.is_enabled(), "nothing changes when any entry is bad");
    ///
    /// registry.apply_flag("a,-b")?;
    /// assert!(a.is_enabled());
    /// assert!(!b.is_enabled());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// A [`FlagError`] holding one [`FlagEntryError`] per bad entry, ordered by index.
    pub fn apply_flag(&self, value: &str) -> Result<(), FlagError> {
        let gates = self.write();
        let mut accepted = Vec::new();
        let mut errors = Vec::new();
        for entry in entries(value) {
            let checked = entry.and_then(|entry| {
                check_setting(&gates, entry.id, entry.enabled)
                    .map(|gate| (gate, entry.enabled))
                    .map_err(|error| FlagEntryError::Rejected {
                        index: entry.index,
                        error,
                    })
            });
            match checked {
                Ok(setting) => accepted.push(setting),
                Err(error) => errors.push(error),
            }
        }
        if !errors.is_empty() {
            return Err(FlagError::new(errors));
        }
        for (gate, enabled) in accepted {
            apply_setting(gate, enabled);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::error::SetError;
    use crate::gate::GateSpec;
    use crate::stage::Stage;
    use crate::test_support::capture_warnings;

    fn pairs(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|&(id, on)| (id.to_owned(), on)).collect()
    }

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

    fn state(registry: &Registry) -> Vec<(String, bool)> {
        registry
            .gates()
            .iter()
            .map(|g| (g.id().to_owned(), g.is_enabled()))
            .collect()
    }

    #[test]
    fn signs_select_enable_or_disable() {
        assert_eq!(
            parse_flag("a,-b,+c").unwrap(),
            pairs(&[("a", true), ("b", false), ("c", true)])
        );
    }

    #[test]
    fn whitespace_around_value_and_entries_is_ignored() {
        assert_eq!(
            parse_flag("  a , -b,\t+c \n").unwrap(),
            pairs(&[("a", true), ("b", false), ("c", true)])
        );
    }

    #[test]
    fn empty_or_blank_value_has_no_entries() {
        assert_eq!(parse_flag("").unwrap(), []);
        assert_eq!(parse_flag("   ").unwrap(), []);
    }

    #[test]
    fn empty_entries_are_reported_with_their_index() {
        let error = parse_flag(",a,,-,+,b,").unwrap_err();
        let indexes: Vec<usize> = error.errors().iter().map(FlagEntryError::index).collect();
        assert_eq!(indexes, [0, 2, 3, 4, 6]);
        assert!(
            error
                .errors()
                .iter()
                .all(|e| matches!(e, FlagEntryError::EmptyId { .. }))
        );
        assert_eq!(
            error.errors()[1].to_string(),
            "empty feature gate identifier at index 2"
        );
    }

    #[test]
    fn ids_with_invalid_characters_are_reported() {
        let error = parse_flag("a-b,ok,--c,+-d,a b").unwrap_err();
        assert_eq!(
            error.errors(),
            [
                FlagEntryError::InvalidId {
                    index: 0,
                    id: "a-b".into()
                },
                FlagEntryError::InvalidId {
                    index: 2,
                    id: "-c".into()
                },
                FlagEntryError::InvalidId {
                    index: 3,
                    id: "-d".into()
                },
                FlagEntryError::InvalidId {
                    index: 4,
                    id: "a b".into()
                },
            ]
        );
        assert_eq!(
            error.errors()[0].to_string(),
            r#"invalid character(s) in feature gate identifier "a-b" at index 0: only ASCII letters, digits and dots are allowed"#
        );
    }

    #[test]
    fn apply_sets_every_entry() {
        let registry = registry_with_all_stages();
        registry.apply_flag("alpha,-beta").unwrap();
        assert_eq!(registry.is_enabled("alpha"), Some(true));
        assert_eq!(registry.is_enabled("beta"), Some(false));
        registry.apply_flag("-alpha,+beta").unwrap();
        assert_eq!(registry.is_enabled("alpha"), Some(false));
        assert_eq!(registry.is_enabled("beta"), Some(true));
    }

    #[test]
    fn apply_later_entries_win() {
        let registry = registry_with_all_stages();
        registry.apply_flag("alpha,-alpha,beta,-beta").unwrap();
        assert_eq!(registry.is_enabled("alpha"), Some(false));
        assert_eq!(registry.is_enabled("beta"), Some(false));
    }

    #[test]
    fn apply_empty_value_changes_nothing() {
        let registry = registry_with_all_stages();
        let before = state(&registry);
        registry.apply_flag("").unwrap();
        assert_eq!(state(&registry), before);
    }

    #[test]
    fn apply_reports_every_bad_entry_together() {
        let registry = registry_with_all_stages();
        let error = registry
            .apply_flag("alpha,,-stable,nope,+deprecated,b_d,beta")
            .unwrap_err();
        let valid: Vec<String> = ["alpha", "beta", "deprecated", "stable"]
            .map(String::from)
            .into();
        assert_eq!(
            error.errors(),
            [
                FlagEntryError::EmptyId { index: 1 },
                FlagEntryError::Rejected {
                    index: 2,
                    error: SetError::StableCannotBeDisabled {
                        id: "stable".into()
                    }
                },
                FlagEntryError::Rejected {
                    index: 3,
                    error: SetError::UnknownGate {
                        id: "nope".into(),
                        valid
                    }
                },
                FlagEntryError::Rejected {
                    index: 4,
                    error: SetError::DeprecatedCannotBeEnabled {
                        id: "deprecated".into()
                    }
                },
                FlagEntryError::InvalidId {
                    index: 5,
                    id: "b_d".into()
                },
            ]
        );
        assert_eq!(
            error.to_string(),
            "5 invalid feature gate entries:\n  \
             empty feature gate identifier at index 1\n  \
             feature gate \"stable\" is stable, can not be disabled\n  \
             no such feature gate \"nope\"; valid gates: alpha, beta, deprecated, stable\n  \
             feature gate \"deprecated\" is deprecated, can not be enabled\n  \
             invalid character(s) in feature gate identifier \"b_d\" at index 5: only ASCII letters, digits and dots are allowed"
        );
    }

    #[test]
    fn apply_is_all_or_nothing() {
        let registry = registry_with_all_stages();
        let before = state(&registry);
        // Valid entries before and after the bad one must not be applied either.
        assert!(registry.apply_flag("alpha,-beta,-stable,alpha").is_err());
        assert_eq!(state(&registry), before);
    }

    #[test]
    fn apply_does_not_warn_when_rejected() {
        let registry = registry_with_all_stages();
        let warnings = capture_warnings(|| {
            assert!(registry.apply_flag("stable,nope").is_err());
        });
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn apply_warns_for_stable_enable_and_deprecated_disable() {
        let registry = registry_with_all_stages();
        let warnings = capture_warnings(|| registry.apply_flag("+stable,-deprecated").unwrap());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains(r#""stable""#), "{warnings:?}");
        assert!(warnings[1].contains(r#""deprecated""#), "{warnings:?}");
        assert_eq!(registry.is_enabled("stable"), Some(true));
        assert_eq!(registry.is_enabled("deprecated"), Some(false));
    }

    /// A flag entry as a user might write it: a valid ID, a sign style, and padding.
    fn rendered_entry() -> impl Strategy<Value = ((String, bool), String)> {
        (
            "[0-9a-zA-Z.]{1,16}",
            any::<bool>(),
            any::<bool>(),
            "[ \t]{0,2}",
            "[ \t]{0,2}",
        )
            .prop_map(|(id, enabled, explicit_plus, before, after)| {
                let sign = match (enabled, explicit_plus) {
                    (false, _) => "-",
                    (true, true) => "+",
                    (true, false) => "",
                };
                let rendered = format!("{before}{sign}{id}{after}");
                ((id, enabled), rendered)
            })
    }

    /// Gate IDs for the all-or-nothing property: one per stage, plus one unknown.
    const PROPERTY_IDS: [&str; 5] = ["alpha", "beta", "stable", "deprecated", "unknown"];

    proptest! {
        #[test]
        fn rendered_pairs_parse_back(entries in prop::collection::vec(rendered_entry(), 0..8)) {
            let (expected, rendered): (Vec<(String, bool)>, Vec<String>) =
                entries.into_iter().unzip();
            prop_assert_eq!(parse_flag(&rendered.join(",")), Ok(expected));
        }

        #[test]
        fn arbitrary_strings_never_panic(value in ".*") {
            let _ = parse_flag(&value);
            let _ = registry_with_all_stages().apply_flag(&value);
        }

        #[test]
        fn flag_like_strings_never_panic(value in "[-+, a-z.]{0,24}") {
            let _ = parse_flag(&value);
            let _ = registry_with_all_stages().apply_flag(&value);
        }

        #[test]
        fn apply_is_sequential_when_valid_and_a_no_op_when_not(
            settings in prop::collection::vec((0..PROPERTY_IDS.len(), any::<bool>()), 0..8)
        ) {
            let registry = registry_with_all_stages();
            let before = state(&registry);
            let value = settings
                .iter()
                .map(|&(i, on)| format!("{}{}", if on { "" } else { "-" }, PROPERTY_IDS[i]))
                .collect::<Vec<_>>()
                .join(",");
            let bad = settings.iter().filter(|&&(i, on)| {
                matches!((PROPERTY_IDS[i], on), ("unknown", _) | ("stable", false) | ("deprecated", true))
            }).count();

            match registry.apply_flag(&value) {
                Ok(()) => {
                    prop_assert_eq!(bad, 0);
                    let mut expected: BTreeMap<String, bool> = before.into_iter().collect();
                    for &(i, on) in &settings {
                        expected.insert(PROPERTY_IDS[i].to_owned(), on);
                    }
                    prop_assert_eq!(state(&registry), expected.into_iter().collect::<Vec<_>>());
                }
                Err(error) => {
                    prop_assert_eq!(error.errors().len(), bad);
                    prop_assert_eq!(state(&registry), before);
                }
            }
        }
    }
}
