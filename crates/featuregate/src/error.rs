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
}
