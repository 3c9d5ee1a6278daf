//! The lifecycle stage of a feature gate.

use std::fmt;

/// Where a feature gate is in its lifecycle; the stage decides the default and which
/// settings are allowed.
///
/// A gate normally moves Alpha → Beta → Stable and is then removed from the code. A gate
/// whose feature is being withdrawn moves to Deprecated instead, and is removed later.
///
/// | stage        | default | can be enabled      | can be disabled     |
/// |--------------|---------|---------------------|---------------------|
/// | `Alpha`      | off     | yes                 | yes                 |
/// | `Beta`       | on      | yes                 | yes                 |
/// | `Stable`     | on      | yes (with a warning)| **no**              |
/// | `Deprecated` | off     | **no**              | yes (with a warning)|
///
/// Its [`Display`](fmt::Display) is the capitalised name (`"Alpha"`, `"Beta"`, `"Stable"`,
/// `"Deprecated"`), the form the `featuregate` subcommand prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// A new, experimental feature: disabled unless asked for.
    Alpha,
    /// A feature believed ready: enabled unless turned off.
    Beta,
    /// A finished feature: always enabled; the gate only remains until its removal version.
    Stable,
    /// A withdrawn feature: always disabled; the gate only remains until its removal version.
    Deprecated,
}

impl Stage {
    /// Whether a gate in this stage is enabled when nobody has set it.
    pub const fn enabled_by_default(self) -> bool {
        match self {
            Stage::Alpha | Stage::Deprecated => false,
            Stage::Beta | Stage::Stable => true,
        }
    }

    /// Whether a gate in this stage must name the version that removes it.
    pub(crate) const fn requires_removal_version(self) -> bool {
        matches!(self, Stage::Stable | Stage::Deprecated)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Alpha => "Alpha",
            Stage::Beta => "Beta",
            Stage::Stable => "Stable",
            Stage::Deprecated => "Deprecated",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_and_deprecated_are_off_by_default_beta_and_stable_on() {
        assert!(!Stage::Alpha.enabled_by_default());
        assert!(Stage::Beta.enabled_by_default());
        assert!(Stage::Stable.enabled_by_default());
        assert!(!Stage::Deprecated.enabled_by_default());
    }

    #[test]
    fn only_stable_and_deprecated_require_a_removal_version() {
        assert!(!Stage::Alpha.requires_removal_version());
        assert!(!Stage::Beta.requires_removal_version());
        assert!(Stage::Stable.requires_removal_version());
        assert!(Stage::Deprecated.requires_removal_version());
    }

    #[test]
    fn displays_as_capitalised_name() {
        let shown: Vec<String> = [Stage::Alpha, Stage::Beta, Stage::Stable, Stage::Deprecated]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["Alpha", "Beta", "Stable", "Deprecated"]);
    }
}
