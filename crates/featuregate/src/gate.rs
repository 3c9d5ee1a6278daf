//! A feature gate: what to register ([`GateSpec`]) and the handle code asks ([`Gate`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{RegisterError, VersionField};
use crate::stage::Stage;
use crate::version::Version;

/// The description of a gate to register: its ID and stage, and optionally a description,
/// the versions it was introduced in and will be removed in, and a URL with more details.
///
/// Nothing is checked until [`Registry::register`](crate::Registry::register), which
/// reports every rule in one place:
///
/// * the ID is non-empty and made of ASCII letters, digits and dots (`^[0-9a-zA-Z.]+$`);
/// * a Stable or Deprecated gate has a `to_version`;
/// * versions parse as [`Version`] (`"v0.91.0"` or `"0.91.0"`), and `to_version` is not
///   earlier than `from_version`;
/// * the reference URL, if any, is absolute (`scheme://host...`).
///
/// ```
/// use tributary_featuregate::{GateSpec, Registry, Stage};
///
/// let registry = Registry::new();
/// let gate = registry.register(
///     GateSpec::new("receiver.otlp.strictUtf8", Stage::Beta)
///         .description("Reject spans whose attributes are not valid UTF-8.")
///         .from_version("v0.2.0")
///         .reference_url("https://github.com/example/tributary/issues/7"),
/// )?;
/// assert!(gate.is_enabled());
/// # Ok::<(), tributary_featuregate::RegisterError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a GateSpec does nothing until it is registered"]
pub struct GateSpec {
    id: String,
    stage: Stage,
    description: String,
    from_version: Option<String>,
    to_version: Option<String>,
    reference_url: Option<String>,
}

impl GateSpec {
    /// A gate with this ID and stage, no description, no versions and no reference URL.
    pub fn new(id: impl Into<String>, stage: Stage) -> Self {
        GateSpec {
            id: id.into(),
            stage,
            description: String::new(),
            from_version: None,
            to_version: None,
            reference_url: None,
        }
    }

    /// What the gate changes, in a sentence a user can act on.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// The release that introduced the gate, such as `"v0.3.0"`.
    pub fn from_version(mut self, version: impl Into<String>) -> Self {
        self.from_version = Some(version.into());
        self
    }

    /// The release that will remove the gate, such as `"v0.9.0"`; required for Stable and
    /// Deprecated gates.
    pub fn to_version(mut self, version: impl Into<String>) -> Self {
        self.to_version = Some(version.into());
        self
    }

    /// Where to read more: an issue, a design document, a changelog entry.
    pub fn reference_url(mut self, url: impl Into<String>) -> Self {
        self.reference_url = Some(url.into());
        self
    }

    /// The gate's ID, for the registry's duplicate check.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Checks every rule that does not depend on other gates and builds the gate, set to its
    /// stage's default.
    pub(crate) fn build(self) -> Result<Gate, RegisterError> {
        let GateSpec {
            id,
            stage,
            description,
            from_version,
            to_version,
            reference_url,
        } = self;
        if id.is_empty() {
            return Err(RegisterError::EmptyId);
        }
        if !is_valid_id(&id) {
            return Err(RegisterError::InvalidId { id });
        }
        let parse = |field, version: Option<String>| {
            version
                .map(|version| version.parse::<Version>())
                .transpose()
                .map_err(|error| RegisterError::InvalidVersion {
                    id: id.clone(),
                    field,
                    error,
                })
        };
        let from_version = parse(VersionField::From, from_version)?;
        let to_version = parse(VersionField::To, to_version)?;
        if stage.requires_removal_version() && to_version.is_none() {
            return Err(RegisterError::MissingRemovalVersion { id, stage });
        }
        if let (Some(from), Some(to)) = (from_version, to_version)
            && to < from
        {
            return Err(RegisterError::RemovedBeforeIntroduced { id, from, to });
        }
        if let Some(url) = &reference_url
            && !is_absolute_url(url)
        {
            return Err(RegisterError::InvalidReferenceUrl {
                id,
                url: url.clone(),
            });
        }
        Ok(Gate(Arc::new(GateState {
            enabled: AtomicBool::new(stage.enabled_by_default()),
            id,
            stage,
            description,
            from_version,
            to_version,
            reference_url,
        })))
    }
}

/// Whether `id` is a well-formed gate ID: non-empty, ASCII letters, digits and dots only.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
}

/// Whether `url` looks like an absolute URL: an RFC 3986 scheme, `://`, a non-empty
/// authority, and no whitespace or control characters anywhere.
///
/// This is a sanity check against typos and relative paths, not a full URL parser: the
/// reference URL is only ever shown to people.
fn is_absolute_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    let scheme_ok = scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    scheme_ok && !authority.is_empty() && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A registered feature gate: a cheap, shareable handle whose [`is_enabled`](Gate::is_enabled)
/// is a single atomic load.
///
/// Keep the handle that [`Registry::register`](crate::Registry::register) returns (in a
/// `static`, a component, a factory) and ask it on the hot path; cloning it clones an
/// [`Arc`]. Its state changes only through the registry, which enforces the stage rules.
#[derive(Clone)]
pub struct Gate(Arc<GateState>);

/// The shared state behind a [`Gate`] handle.
struct GateState {
    enabled: AtomicBool,
    id: String,
    stage: Stage,
    description: String,
    from_version: Option<Version>,
    to_version: Option<Version>,
    reference_url: Option<String>,
}

impl Gate {
    /// Whether the gate is currently enabled.
    #[inline]
    pub fn is_enabled(&self) -> bool {
        // Relaxed: the flag guards no other memory; readers only need to see the value
        // eventually, and each load is atomic.
        self.0.enabled.load(Ordering::Relaxed)
    }

    /// The gate's ID, such as `"exporter.otlp.compressLargeBatches"`.
    pub fn id(&self) -> &str {
        &self.0.id
    }

    /// The gate's stage.
    pub fn stage(&self) -> Stage {
        self.0.stage
    }

    /// What the gate changes; empty if none was given.
    pub fn description(&self) -> &str {
        &self.0.description
    }

    /// The release that introduced the gate, if given.
    pub fn from_version(&self) -> Option<Version> {
        self.0.from_version
    }

    /// The release that will remove the gate; always present for Stable and Deprecated gates.
    pub fn to_version(&self) -> Option<Version> {
        self.0.to_version
    }

    /// Where to read more about the gate, if given.
    pub fn reference_url(&self) -> Option<&str> {
        self.0.reference_url.as_deref()
    }

    /// Stores a setting the registry has already checked against the stage rules.
    pub(crate) fn store(&self, enabled: bool) {
        self.0.enabled.store(enabled, Ordering::Relaxed);
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("id", &self.0.id)
            .field("enabled", &self.is_enabled())
            .field("stage", &self.0.stage)
            .field("description", &self.0.description)
            .field("from_version", &self.0.from_version)
            .field("to_version", &self.0.to_version)
            .field("reference_url", &self.0.reference_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(spec: GateSpec) -> Result<Gate, RegisterError> {
        spec.build()
    }

    #[test]
    fn new_gate_has_its_stage_default() {
        for stage in [Stage::Alpha, Stage::Beta, Stage::Stable, Stage::Deprecated] {
            let gate = build(GateSpec::new("a", stage).to_version("v1.0.0")).unwrap();
            assert_eq!(gate.is_enabled(), stage.enabled_by_default(), "{stage}");
        }
    }

    #[test]
    fn accessors_return_what_was_registered() {
        let gate = build(
            GateSpec::new("pkg.myGate", Stage::Beta)
                .description("does a thing")
                .from_version("0.1.0")
                .to_version("v0.5.0")
                .reference_url("https://example.com/issues/1"),
        )
        .unwrap();
        assert_eq!(gate.id(), "pkg.myGate");
        assert_eq!(gate.stage(), Stage::Beta);
        assert_eq!(gate.description(), "does a thing");
        assert_eq!(gate.from_version(), Some(Version::new(0, 1, 0)));
        assert_eq!(gate.to_version(), Some(Version::new(0, 5, 0)));
        assert_eq!(gate.reference_url(), Some("https://example.com/issues/1"));
    }

    #[test]
    fn optional_fields_default_to_absent() {
        let gate = build(GateSpec::new("a", Stage::Alpha)).unwrap();
        assert_eq!(gate.description(), "");
        assert_eq!(gate.from_version(), None);
        assert_eq!(gate.to_version(), None);
        assert_eq!(gate.reference_url(), None);
    }

    #[test]
    fn clones_share_state() {
        let gate = build(GateSpec::new("a", Stage::Alpha)).unwrap();
        let clone = gate.clone();
        gate.store(true);
        assert!(clone.is_enabled());
    }

    #[test]
    fn id_allows_letters_digits_and_dots() {
        for id in ["a", "A.b.9", "0", "...", "exporter.otlp.v2Encoding"] {
            assert!(build(GateSpec::new(id, Stage::Alpha)).is_ok(), "{id:?}");
        }
    }

    #[test]
    fn empty_id_is_rejected() {
        assert_eq!(
            build(GateSpec::new("", Stage::Alpha)).unwrap_err(),
            RegisterError::EmptyId
        );
    }

    #[test]
    fn id_with_other_characters_is_rejected() {
        for id in ["a-b", "a_b", "a b", "a,b", "-a", "+a", "é", "a/b", " a"] {
            assert_eq!(
                build(GateSpec::new(id, Stage::Alpha)).unwrap_err(),
                RegisterError::InvalidId { id: id.into() },
                "{id:?}"
            );
        }
        assert_eq!(
            RegisterError::InvalidId { id: "a-b".into() }.to_string(),
            r#"invalid character(s) in feature gate ID "a-b": only ASCII letters, digits and dots are allowed"#
        );
    }

    #[test]
    fn stable_and_deprecated_need_a_removal_version() {
        for stage in [Stage::Stable, Stage::Deprecated] {
            let error = build(GateSpec::new("g", stage).from_version("v0.1.0")).unwrap_err();
            assert_eq!(
                error,
                RegisterError::MissingRemovalVersion {
                    id: "g".into(),
                    stage
                }
            );
        }
        let error = build(GateSpec::new("g", Stage::Stable)).unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"no removal version set for Stable gate "g": set its to_version"#
        );
    }

    #[test]
    fn alpha_and_beta_do_not_need_a_removal_version() {
        assert!(build(GateSpec::new("g", Stage::Alpha)).is_ok());
        assert!(build(GateSpec::new("g", Stage::Beta)).is_ok());
    }

    #[test]
    fn to_version_before_from_version_is_rejected_semantically() {
        let error = build(
            GateSpec::new("g", Stage::Alpha)
                .from_version("v0.10.0")
                .to_version("v0.9.0"),
        )
        .unwrap_err();
        assert_eq!(
            error,
            RegisterError::RemovedBeforeIntroduced {
                id: "g".into(),
                from: Version::new(0, 10, 0),
                to: Version::new(0, 9, 0),
            }
        );
        assert_eq!(
            error.to_string(),
            r#"feature gate "g": to_version v0.9.0 is earlier than from_version v0.10.0"#
        );
        // Lexically "v0.9.0" > "v0.10.0"; semantically it is earlier, so this is fine.
        assert!(
            build(
                GateSpec::new("g", Stage::Alpha)
                    .from_version("v0.9.0")
                    .to_version("0.10.0")
            )
            .is_ok()
        );
    }

    #[test]
    fn equal_from_and_to_versions_are_allowed() {
        let spec = GateSpec::new("g", Stage::Deprecated)
            .from_version("v1.0.0")
            .to_version("1.0.0");
        assert!(build(spec).is_ok());
    }

    #[test]
    fn garbage_versions_are_rejected_naming_the_field() {
        let error = build(GateSpec::new("g", Stage::Alpha).from_version("soon")).unwrap_err();
        assert!(matches!(
            error,
            RegisterError::InvalidVersion {
                field: VersionField::From,
                ..
            }
        ));
        assert_eq!(
            error.to_string(),
            r#"invalid from_version for feature gate "g": expected MAJOR.MINOR.PATCH with an optional leading "v" (such as "v0.91.0"), got "soon""#
        );
        let error = build(GateSpec::new("g", Stage::Stable).to_version("v1.x")).unwrap_err();
        assert!(matches!(
            error,
            RegisterError::InvalidVersion {
                field: VersionField::To,
                ..
            }
        ));
    }

    #[test]
    fn reference_url_must_be_absolute() {
        for url in [
            "https://github.com/example/tributary/issues/1",
            "http://localhost:8080",
            "https://example.com?q=1",
            "git+ssh://host/repo",
        ] {
            let spec = GateSpec::new("g", Stage::Alpha).reference_url(url);
            assert!(build(spec).is_ok(), "{url:?}");
        }
        for url in [
            "",
            "github.com/example",
            "/issues/1",
            "https://",
            "https:///path",
            "://host",
            "1http://host",
            "ht tp://host",
            "https://exa mple.com",
            "https://example.com/\n",
        ] {
            let spec = GateSpec::new("g", Stage::Alpha).reference_url(url);
            assert_eq!(
                build(spec).unwrap_err(),
                RegisterError::InvalidReferenceUrl {
                    id: "g".into(),
                    url: url.into()
                },
                "{url:?}"
            );
        }
    }

    #[test]
    fn debug_shows_id_and_current_state() {
        let gate = build(GateSpec::new("dbg", Stage::Alpha)).unwrap();
        let shown = format!("{gate:?}");
        assert!(shown.contains(r#"id: "dbg""#), "{shown}");
        assert!(shown.contains("enabled: false"), "{shown}");
    }
}
