//! Component and pipeline identifiers: `type[/name]` and `signal[/name]`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::pdata::Signal;

/// Why a component type, component ID or pipeline ID is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The type part does not match `^[a-zA-Z][0-9a-zA-Z_]{0,62}$`.
    #[error(
        "invalid component type {0:?}: it must start with a letter and contain only letters, digits and '_' (at most 63 characters)"
    )]
    InvalidType(String),
    /// One side of the `/` is empty.
    #[error("invalid ID {0:?}: the part before and the part after '/' must not be empty")]
    EmptyPart(String),
    /// The name part has a separator, control character or symbol, or is too long.
    #[error(
        "invalid name {0:?}: it must be at most 1024 bytes without spaces, control characters or symbols"
    )]
    InvalidName(String),
    /// The pipeline's signal is not `traces`, `metrics` or `logs`.
    #[error("unknown pipeline signal {0:?}: expected one of traces, metrics, logs")]
    UnknownSignal(String),
}

/// The type of a component, the part of its ID before `/` (`otlp`, `batch`, ...).
///
/// Valid types match `^[a-zA-Z][0-9a-zA-Z_]{0,62}$`, as in the Go Collector.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentType(Arc<str>);

impl ComponentType {
    /// Checks and wraps a type name.
    pub fn new(name: &str) -> Result<Self, IdError> {
        let mut chars = name.chars();
        let valid = name.len() <= 63
            && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(IdError::InvalidType(name.to_string()));
        }
        Ok(ComponentType(name.into()))
    }

    /// The type name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ComponentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ComponentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// Checks the name part of an ID: not empty, at most 1024 bytes, and no Unicode separators,
/// control or format characters, or symbols (the Go Collector's `^[^\pZ\pC\pS]+$`). ASCII is
/// classified exactly; beyond ASCII, whitespace, controls, common format characters,
/// private-use characters and the main symbol blocks are refused.
fn check_name(name: &str) -> Result<Arc<str>, IdError> {
    let refused = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~')
            || matches!(c as u32,
                0x00A2..=0x00A9 | 0x00AC | 0x00AE..=0x00B1 | 0x00B4 | 0x00B8 | 0x00D7 | 0x00F7
                | 0x00AD | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0xFEFF
                | 0x20A0..=0x20CF | 0x2100..=0x214F | 0x2190..=0x2BFF
                | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0x1F000..=0x1FAFF)
    };
    if name.is_empty() || name.len() > 1024 || name.chars().any(refused) {
        return Err(IdError::InvalidName(name.to_string()));
    }
    Ok(name.into())
}

/// Splits `type[/name]` at the first `/`, trimming both parts.
fn split_id(text: &str) -> Result<(&str, Option<&str>), IdError> {
    match text.split_once('/') {
        None => Ok((text.trim(), None)),
        Some((ty, name)) => {
            let (ty, name) = (ty.trim(), name.trim());
            if ty.is_empty() || name.is_empty() {
                return Err(IdError::EmptyPart(text.to_string()));
            }
            Ok((ty, Some(name)))
        }
    }
}

/// A component's ID, `type[/name]`, as written under `receivers:`, `processors:`,
/// `exporters:` and `extensions:` (`otlp`, `otlp/internal`).
///
/// ```
/// use tributary_pipeline_core::component::ComponentId;
/// let id: ComponentId = "otlp/internal".parse().unwrap();
/// assert_eq!(id.component_type().as_str(), "otlp");
/// assert_eq!(id.name(), Some("internal"));
/// assert!("otlp/".parse::<ComponentId>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId {
    ty: ComponentType,
    name: Option<Arc<str>>,
}

impl ComponentId {
    /// The ID of the unnamed instance of a type.
    pub fn new(ty: ComponentType) -> Self {
        ComponentId { ty, name: None }
    }

    /// The ID of a named instance.
    pub fn with_name(ty: ComponentType, name: &str) -> Result<Self, IdError> {
        Ok(ComponentId {
            ty,
            name: Some(check_name(name)?),
        })
    }

    /// The type part.
    pub fn component_type(&self) -> &ComponentType {
        &self.ty
    }

    /// The name part, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl FromStr for ComponentId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (ty, name) = split_id(text)?;
        let ty = ComponentType::new(ty)?;
        match name {
            None => Ok(ComponentId::new(ty)),
            Some(name) => ComponentId::with_name(ty, name),
        }
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            None => write!(f, "{}", self.ty),
            Some(name) => write!(f, "{}/{}", self.ty, name),
        }
    }
}

impl fmt::Debug for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// A pipeline's ID, `signal[/name]`, as written under `service::pipelines`
/// (`traces`, `metrics/internal`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PipelineId {
    signal: Signal,
    name: Option<Arc<str>>,
}

impl PipelineId {
    /// The unnamed pipeline of a signal.
    pub fn new(signal: Signal) -> Self {
        PipelineId { signal, name: None }
    }

    /// A named pipeline.
    pub fn with_name(signal: Signal, name: &str) -> Result<Self, IdError> {
        Ok(PipelineId {
            signal,
            name: Some(check_name(name)?),
        })
    }

    /// The signal the pipeline carries.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// The name part, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl FromStr for PipelineId {
    type Err = IdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (signal, name) = split_id(text)?;
        let signal: Signal = signal
            .parse()
            .map_err(|_| IdError::UnknownSignal(signal.to_string()))?;
        match name {
            None => Ok(PipelineId::new(signal)),
            Some(name) => PipelineId::with_name(signal, name),
        }
    }
}

impl fmt::Display for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            None => write!(f, "{}", self.signal),
            Some(name) => write!(f, "{}/{}", self.signal, name),
        }
    }
}

impl fmt::Debug for PipelineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

macro_rules! serde_via_text {
    ($ty:ty, $what:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$ty, E> {
                        text.parse().map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}
serde_via_text!(ComponentId, "a component ID, type[/name]");
serde_via_text!(PipelineId, "a pipeline ID, signal[/name]");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_types() {
        for ok in ["otlp", "a", "otlp_http", "A1_b2", &"x".repeat(63)] {
            assert!(ComponentType::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1otlp",
            "_x",
            "otlp-http",
            "ot lp",
            "é",
            &"x".repeat(64),
        ] {
            assert!(ComponentType::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn component_ids() {
        let id: ComponentId = " otlp / in ".parse().unwrap();
        assert_eq!(id.to_string(), "otlp/in");
        let id: ComponentId = "otlp/a/b".parse().unwrap();
        assert_eq!(id.name(), Some("a/b"), "split at the first '/'");
        assert_eq!("batch".parse::<ComponentId>().unwrap().name(), None);
        for bad in [
            "/x",
            "x/",
            "x/ ",
            "",
            "x/a b",
            "x/a$b",
            "x/a\u{7}",
            "x/😀",
            "x/a\u{200b}",
        ] {
            assert!(bad.parse::<ComponentId>().is_err(), "{bad:?}");
        }
        for ok in ["x/a-b.c_d:e@f#1", "x/ünïcode", "x/日本"] {
            assert!(ok.parse::<ComponentId>().is_ok(), "{ok:?}");
        }
        assert!(
            format!("x/{}", "n".repeat(1025))
                .parse::<ComponentId>()
                .is_err()
        );
    }

    #[test]
    fn pipeline_ids() {
        let id: PipelineId = "traces/edge".parse().unwrap();
        assert_eq!((id.signal(), id.name()), (Signal::Traces, Some("edge")));
        assert_eq!(
            "profiles".parse::<PipelineId>(),
            Err(IdError::UnknownSignal("profiles".into()))
        );
        assert!("logs/".parse::<PipelineId>().is_err());
    }
}
