//! The YAML form of the match properties: Go's keys, names and defaults.

use serde::{Deserialize, Deserializer};

/// How the string properties compare: Go's `match_type`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchType {
    /// Not given; refused when the block is compiled, as Go does.
    #[default]
    #[serde(rename = "")]
    Unset,
    /// Exact equality.
    Strict,
    /// A regular expression that matches anywhere in the text.
    Regexp,
}

/// Go's `filterconfig.MatchProperties`: one `include` or `exclude` block. See the
/// [module docs](super) for what each key matches.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatchProperties {
    /// `strict` or `regexp`; required.
    pub match_type: MatchType,
    /// Go's regexp cache settings; accepted, without effect on results.
    pub regexp: Option<RegexpCache>,
    /// Matched against the resource's `service.name` (spans).
    pub services: Vec<String>,
    /// Matched against span names.
    pub span_names: Vec<String>,
    /// Matched against span kinds spelled `SPAN_KIND_SERVER`, ...
    pub span_kinds: Vec<String>,
    /// Matched against metric names.
    pub metric_names: Vec<String>,
    /// Matched against log bodies as strings.
    pub log_bodies: Vec<String>,
    /// Matched against log severity texts.
    pub log_severity_texts: Vec<String>,
    /// A lower bound on log severity numbers.
    pub log_severity_number: Option<SeverityNumberProperties>,
    /// Item attributes that must all match.
    pub attributes: Vec<AttributeProperty>,
    /// Resource attributes that must all match.
    pub resources: Vec<AttributeProperty>,
    /// Instrumentation scopes, one of which must match.
    pub libraries: Vec<LibraryProperty>,
}

/// Go's `regexp:` block of a match: cache settings of its regexp filter set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegexpCache {
    /// Whether Go caches match results.
    pub cacheenabled: bool,
    /// The size of Go's cache.
    pub cachemaxnumentries: u64,
}

/// One `{key, value}` entry of `attributes` or `resources`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributeProperty {
    /// The attribute's key; required.
    pub key: String,
    /// The value to compare with; absent means the key's presence is enough. With
    /// `regexp` it must be a string (the pattern).
    pub value: Option<serde_json::Value>,
}

/// One entry of `libraries`: an instrumentation scope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LibraryProperty {
    /// The scope's name (or pattern).
    pub name: String,
    /// The scope's version (or pattern); absent matches any version.
    pub version: Option<String>,
}

/// Go's `log_severity_number` block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeverityNumberProperties {
    /// The lowest severity number that matches: a number (1–24) or a name such as
    /// `INFO`, `warn2` (case-insensitive), as Go's `plog.SeverityNumber` reads it.
    #[serde(deserialize_with = "severity_number")]
    pub min: i32,
    /// Whether records without a severity number (0) match.
    pub match_undefined: bool,
}

const SEVERITY_NAMES: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/// Reads a severity number from its OTLP name (`INFO`, `INFO2` ... `INFO4`), as Go's
/// `SeverityNumber.UnmarshalText` does.
pub(crate) fn parse_severity_name(text: &str) -> Option<i32> {
    let upper = text.trim().to_ascii_uppercase();
    SEVERITY_NAMES.iter().enumerate().find_map(|(index, name)| {
        let rest = upper.strip_prefix(name)?;
        let step: i32 = match rest {
            "" => 1,
            "2" => 2,
            "3" => 3,
            "4" => 4,
            _ => return None,
        };
        Some(index as i32 * 4 + step)
    })
}

fn severity_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrName {
        Number(i64),
        Name(String),
    }
    let invalid = |what: String| {
        serde::de::Error::custom(format!(
            "{what} is not a severity number: use 1 to 24 or a name such as INFO or WARN2"
        ))
    };
    match NumberOrName::deserialize(deserializer)? {
        NumberOrName::Number(number) if (0..=24).contains(&number) => Ok(number as i32),
        NumberOrName::Number(number) => Err(invalid(number.to_string())),
        NumberOrName::Name(name) => {
            parse_severity_name(&name).ok_or_else(|| invalid(format!("{name:?}")))
        }
    }
}
