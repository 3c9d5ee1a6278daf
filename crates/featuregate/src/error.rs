//! The errors of registering, setting and parsing feature gates.
//!
//! Each error carries the gate ID or flag entry it is about, and its message says what to
//! do. Where one error wraps another (an invalid version inside a registration error, a
//! stage violation inside a flag error), the outer message already includes the inner one,
//! so the inner one is a plain field rather than an [`Error::source`](std::error::Error::source)
//! that a report would print twice.

use std::fmt;

use thiserror::Error;

use crate::stage::Stage;
use crate::version::Version;

/// Why a version string could not be parsed as a [`Version`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseVersionError {
    /// The input is not three dot-separated decimal numbers with an optional leading `v`.
    #[error(
        r#"expected MAJOR.MINOR.PATCH with an optional leading "v" (such as "v0.91.0"), got {input:?}"#
    )]
    Malformed {
        /// The rejected input.
        input: String,
    },
    /// A component has a leading zero (`"v0.09.0"`), which would make the version ambiguous.
    #[error("version {input:?} has a leading zero in component {component:?}")]
    LeadingZero {
        /// The rejected input.
        input: String,
        /// The offending component.
        component: String,
    },
    /// A component does not fit in a `u64`.
    #[error("version {input:?} has a component too large to be a version number: {component:?}")]
    TooLarge {
        /// The rejected input.
        input: String,
        /// The offending component.
        component: String,
    },
}

/// Which version field of a gate an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionField {
    /// The version the gate was introduced in (`from_version`).
    From,
    /// The version the gate will be removed in (`to_version`).
    To,
}

impl fmt::Display for VersionField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VersionField::From => "from_version",
            VersionField::To => "to_version",
        })
    }
}

/// Why [`Registry::register`](crate::Registry::register) refused a gate.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegisterError {
    /// The ID is the empty string.
    #[error("feature gate ID is empty")]
    EmptyId,
    /// The ID contains something other than ASCII letters, digits and dots.
    #[error(
        "invalid character(s) in feature gate ID {id:?}: only ASCII letters, digits and dots are allowed"
    )]
    InvalidId {
        /// The rejected ID.
        id: String,
    },
    /// A gate with this ID is already in the registry.
    #[error("feature gate {id:?} is already registered")]
    AlreadyRegistered {
        /// The duplicate ID.
        id: String,
    },
    /// A Stable or Deprecated gate has no `to_version`: such a gate only exists until it is
    /// removed, and users need to know when that is.
    #[error("no removal version set for {stage} gate {id:?}: set its to_version")]
    MissingRemovalVersion {
        /// The gate's ID.
        id: String,
        /// The gate's stage (Stable or Deprecated).
        stage: Stage,
    },
    /// `from_version` or `to_version` is not a version.
    #[error("invalid {field} for feature gate {id:?}: {error}")]
    InvalidVersion {
        /// The gate's ID.
        id: String,
        /// Which of the two versions is invalid.
        field: VersionField,
        /// Why it does not parse.
        error: ParseVersionError,
    },
    /// `to_version` is earlier than `from_version`.
    #[error("feature gate {id:?}: to_version {to} is earlier than from_version {from}")]
    RemovedBeforeIntroduced {
        /// The gate's ID.
        id: String,
        /// The version the gate was introduced in.
        from: Version,
        /// The version the gate will be removed in, earlier than `from`.
        to: Version,
    },
    /// The reference URL is not an absolute URL.
    #[error(
        "invalid reference URL for feature gate {id:?}: {url:?} is not an absolute URL (expected scheme://host/...)"
    )]
    InvalidReferenceUrl {
        /// The gate's ID.
        id: String,
        /// The rejected URL.
        url: String,
    },
}

/// Why [`Registry::set`](crate::Registry::set) refused a setting.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SetError {
    /// No gate with this ID is registered.
    #[error("no such feature gate {id:?}; {}", ValidGates(.valid))]
    UnknownGate {
        /// The ID asked for.
        id: String,
        /// Every registered ID, in order, to help spot a typo.
        valid: Vec<String>,
    },
    /// The gate is Stable, so it is always on.
    #[error("feature gate {id:?} is stable, can not be disabled")]
    StableCannotBeDisabled {
        /// The gate's ID.
        id: String,
    },
    /// The gate is Deprecated, so it is always off.
    #[error("feature gate {id:?} is deprecated, can not be enabled")]
    DeprecatedCannotBeEnabled {
        /// The gate's ID.
        id: String,
    },
}

/// Renders the list of valid gate IDs for [`SetError::UnknownGate`].
struct ValidGates<'a>(&'a [String]);

impl fmt::Display for ValidGates<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("no feature gates are registered")
        } else {
            write!(f, "valid gates: {}", self.0.join(", "))
        }
    }
}

/// One bad entry of a `--feature-gates` value. `index` is the entry's 0-based position in
/// the comma-separated list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FlagEntryError {
    /// The entry is empty (`"a,,b"`, a trailing comma) or only a sign (`"-"`, `"+"`).
    #[error("empty feature gate identifier at index {index}")]
    EmptyId {
        /// The entry's position.
        index: usize,
    },
    /// The entry's ID contains something other than ASCII letters, digits and dots.
    #[error(
        "invalid character(s) in feature gate identifier {id:?} at index {index}: only ASCII letters, digits and dots are allowed"
    )]
    InvalidId {
        /// The entry's position.
        index: usize,
        /// The rejected ID, without its sign.
        id: String,
    },
    /// The registry refused the entry: an unknown gate or a stage violation.
    #[error("{error}")]
    Rejected {
        /// The entry's position.
        index: usize,
        /// Why the registry refused it.
        error: SetError,
    },
}

impl FlagEntryError {
    /// The 0-based position of the bad entry in the comma-separated list.
    pub fn index(&self) -> usize {
        match self {
            FlagEntryError::EmptyId { index }
            | FlagEntryError::InvalidId { index, .. }
            | FlagEntryError::Rejected { index, .. } => *index,
        }
    }
}

/// Every bad entry of a `--feature-gates` value, in the order they appear.
///
/// Its message lists them all, so a user fixes the flag in one go: a single error is shown
/// as is; several are shown as a count followed by one line each.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct FlagError {
    errors: Vec<FlagEntryError>,
}

impl FlagError {
    /// Wraps the errors found; `errors` must not be empty.
    pub(crate) fn new(errors: Vec<FlagEntryError>) -> Self {
        debug_assert!(!errors.is_empty(), "a FlagError needs at least one error");
        FlagError { errors }
    }

    /// The individual errors, ordered by entry index; never empty.
    pub fn errors(&self) -> &[FlagEntryError] {
        &self.errors
    }
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errors.as_slice() {
            [only] => write!(f, "{only}"),
            all => {
                write!(f, "{} invalid feature gate entries:", all.len())?;
                for error in all {
                    write!(f, "\n  {error}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_gate_lists_valid_gates() {
        let error = SetError::UnknownGate {
            id: "x".into(),
            valid: vec!["a".into(), "b".into(), "c".into()],
        };
        assert_eq!(
            error.to_string(),
            r#"no such feature gate "x"; valid gates: a, b, c"#
        );
    }

    #[test]
    fn unknown_gate_in_empty_registry_says_so() {
        let error = SetError::UnknownGate {
            id: "x".into(),
            valid: vec![],
        };
        assert_eq!(
            error.to_string(),
            r#"no such feature gate "x"; no feature gates are registered"#
        );
    }

    #[test]
    fn flag_error_with_one_entry_is_that_entry() {
        let error = FlagError::new(vec![FlagEntryError::EmptyId { index: 2 }]);
        assert_eq!(
            error.to_string(),
            "empty feature gate identifier at index 2"
        );
    }

    #[test]
    fn flag_error_lists_every_entry() {
        let error = FlagError::new(vec![
            FlagEntryError::EmptyId { index: 0 },
            FlagEntryError::Rejected {
                index: 1,
                error: SetError::StableCannotBeDisabled { id: "s".into() },
            },
        ]);
        assert_eq!(
            error.to_string(),
            "2 invalid feature gate entries:\n  empty feature gate identifier at index 0\n  \
             feature gate \"s\" is stable, can not be disabled"
        );
    }

    #[test]
    fn entry_error_reports_its_index() {
        assert_eq!(FlagEntryError::EmptyId { index: 3 }.index(), 3);
        let invalid = FlagEntryError::InvalidId {
            index: 4,
            id: "a b".into(),
        };
        assert_eq!(invalid.index(), 4);
        let rejected = FlagEntryError::Rejected {
            index: 5,
            error: SetError::DeprecatedCannotBeEnabled { id: "d".into() },
        };
        assert_eq!(rejected.index(), 5);
    }
}
