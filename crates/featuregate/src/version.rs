//! Release versions named by a gate (`from_version`, `to_version`), compared semantically.

use std::fmt;
use std::str::FromStr;

use crate::error::ParseVersionError;

/// A release version `MAJOR.MINOR.PATCH`, as written in a gate's `from_version` and
/// `to_version`.
///
/// Parsing accepts an optional leading `v` (`"v0.91.0"` and `"0.91.0"` are the same
/// version) and rejects anything else that is not three decimal numbers separated by dots:
/// missing or extra components, signs, spaces, leading zeros (`"v0.09.0"`), and
/// pre-release or build suffixes (`"v1.0.0-rc.1"`). Versions compare numerically, component
/// by component, so `v0.9.0 < v0.10.0`. [`Display`](fmt::Display) always writes the
/// leading `v`, as the Go Collector does.
///
/// ```
/// use tributary_featuregate::Version;
///
/// let old: Version = "v0.9.0".parse()?;
/// let new: Version = "0.10.0".parse()?;
/// assert!(old < new);
/// assert_eq!(new.to_string(), "v0.10.0");
/// assert!("0.10".parse::<Version>().is_err());
/// # Ok::<(), tributary_featuregate::ParseVersionError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    // Field order matters: the derived `Ord` compares major, then minor, then patch.
    major: u64,
    minor: u64,
    patch: u64,
}

impl Version {
    /// The version `major.minor.patch`.
    pub const fn new(major: u64, minor: u64, patch: u64) -> Self {
        Version {
            major,
            minor,
            patch,
        }
    }

    /// The major component.
    pub const fn major(&self) -> u64 {
        self.major
    }

    /// The minor component.
    pub const fn minor(&self) -> u64 {
        self.minor
    }

    /// The patch component.
    pub const fn patch(&self) -> u64 {
        self.patch
    }
}

impl FromStr for Version {
    type Err = ParseVersionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let numbers = input.strip_prefix('v').unwrap_or(input);
        let mut components = numbers.split('.');
        let (Some(major), Some(minor), Some(patch), None) = (
            components.next(),
            components.next(),
            components.next(),
            components.next(),
        ) else {
            return Err(ParseVersionError::Malformed {
                input: input.to_owned(),
            });
        };
        Ok(Version {
            major: parse_component(input, major)?,
            minor: parse_component(input, minor)?,
            patch: parse_component(input, patch)?,
        })
    }
}

/// Parses one decimal component of `input`.
fn parse_component(input: &str, component: &str) -> Result<u64, ParseVersionError> {
    // `u64::from_str` alone would also accept a leading `+`; only plain digits are a version.
    if component.is_empty() || !component.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseVersionError::Malformed {
            input: input.to_owned(),
        });
    }
    if component.len() > 1 && component.starts_with('0') {
        return Err(ParseVersionError::LeadingZero {
            input: input.to_owned(),
            component: component.to_owned(),
        });
    }
    component.parse().map_err(|_| ParseVersionError::TooLarge {
        input: input.to_owned(),
        component: component.to_owned(),
    })
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn accepts_with_and_without_leading_v() {
        assert_eq!(v("v1.2.3"), Version::new(1, 2, 3));
        assert_eq!(v("1.2.3"), Version::new(1, 2, 3));
        assert_eq!(v("v0.0.0"), Version::new(0, 0, 0));
    }

    #[test]
    fn compares_numerically_not_lexically() {
        assert!(v("v0.9.0") < v("v0.10.0"));
        assert!(v("v0.10.0") < v("v1.0.0"));
        assert!(v("v1.2.9") < v("1.2.10"));
        assert!(v("v2.0.0") > v("v1.99.99"));
        assert_eq!(v("v0.10.0"), v("0.10.0"));
    }

    #[test]
    fn displays_with_leading_v() {
        assert_eq!(v("0.91.0").to_string(), "v0.91.0");
        assert_eq!(Version::new(1, 2, 3).to_string(), "v1.2.3");
    }

    #[test]
    fn rejects_garbage() {
        for input in [
            "",
            "v",
            "garbage",
            "1",
            "1.2",
            "1.2.3.4",
            "v1..3",
            "1.2.",
            ".1.2",
            "vv1.2.3",
            "V1.2.3",
            " 1.2.3",
            "1.2.3 ",
            "+1.2.3",
            "1.-2.3",
            "1.2.3-rc.1",
            "1.2.3+build",
            "1.2.x",
            "１.2.3",
        ] {
            assert!(
                matches!(
                    input.parse::<Version>(),
                    Err(ParseVersionError::Malformed { .. })
                ),
                "{input:?} should be rejected as malformed"
            );
        }
    }

    #[test]
    fn rejects_leading_zeros_and_overflow_with_specific_errors() {
        assert_eq!(
            "v0.09.0".parse::<Version>(),
            Err(ParseVersionError::LeadingZero {
                input: "v0.09.0".into(),
                component: "09".into()
            })
        );
        let huge = "1.99999999999999999999.0";
        assert_eq!(
            huge.parse::<Version>(),
            Err(ParseVersionError::TooLarge {
                input: huge.into(),
                component: "99999999999999999999".into()
            })
        );
    }

    #[test]
    fn error_message_says_what_is_expected() {
        let message = "garbage".parse::<Version>().unwrap_err().to_string();
        assert_eq!(
            message,
            r#"expected MAJOR.MINOR.PATCH with an optional leading "v" (such as "v0.91.0"), got "garbage""#
        );
    }

    proptest! {
        #[test]
        fn display_parses_back(major: u64, minor: u64, patch: u64) {
            let version = Version::new(major, minor, patch);
            prop_assert_eq!(version.to_string().parse::<Version>(), Ok(version));
        }

        #[test]
        fn order_matches_tuple_order(a: (u64, u64, u64), b: (u64, u64, u64)) {
            let (va, vb) = (Version::new(a.0, a.1, a.2), Version::new(b.0, b.1, b.2));
            prop_assert_eq!(va.cmp(&vb), a.cmp(&b));
        }

        #[test]
        fn arbitrary_input_never_panics(input in ".*") {
            let _ = input.parse::<Version>();
        }
    }
}
