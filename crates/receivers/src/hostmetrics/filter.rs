//! Go's `filterset` for the scrapers' include/exclude blocks: `strict` (equal names) or
//! `regexp` (Go's `regexp.MatchString`: unanchored).

use regex::RegexSet;
use tributary_pipeline_core::component::ConfigError;

/// A compiled list of names or patterns.
#[derive(Debug, Clone)]
pub(crate) enum Filter {
    /// `match_type: strict`.
    Strict(Vec<String>),
    /// `match_type: regexp`.
    Regexp(RegexSet),
}

impl Filter {
    /// Compiles `items` as `match_type` says; the error names the offending key.
    pub(crate) fn new(items: &[String], match_type: &str) -> Result<Filter, ConfigError> {
        match match_type {
            "strict" => Ok(Filter::Strict(items.to_vec())),
            "regexp" => RegexSet::new(items)
                .map(Filter::Regexp)
                .map_err(|e| ConfigError::at("match_type", format!("error creating filter: {e}"))),
            other => Err(ConfigError::at(
                "match_type",
                format!("unrecognized match_type: {other:?}, valid types are: [regexp strict]"),
            )),
        }
    }

    /// Whether `name` matches one of the items.
    pub(crate) fn matches(&self, name: &str) -> bool {
        match self {
            Filter::Strict(items) => items.iter().any(|item| item == name),
            Filter::Regexp(set) => set.is_match(name),
        }
    }
}
