//! The grouping key in a push URL: `/job/<JOB>{/<LABEL>/<VALUE>}` after the path prefix,
//! as the Pushgateway reads it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tributary_pipeline_core::confighttp::percent::{Plus, decode_strict};
use tributary_translator_prometheus::text::is_label_name;

/// The suffix of a label name whose value is written in base64url.
const BASE64_SUFFIX: &str = "@base64";

/// A group's labels, `job` first and the others sorted by name: the identity of a group
/// and the labels applied to every sample pushed into it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupingKey {
    labels: Vec<(String, String)>,
}

impl GroupingKey {
    /// The labels, `job` first.
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }

    /// The value of `name`, if the key carries it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The bytes of its names and values, for the record's bound.
    pub(crate) fn byte_size(&self) -> usize {
        self.labels.iter().map(|(n, v)| n.len() + v.len()).sum()
    }
}

impl fmt::Display for GroupingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, value)) in self.labels.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{name}={value:?}")?;
        }
        f.write_str("}")
    }
}

/// Why a push URL names no group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError(pub String);

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PathError {}

fn bad(message: impl Into<String>) -> PathError {
    PathError(message.into())
}

/// Reads the grouping key from the part of a URL path after the prefix
/// (`/job/backup/instance@base64/bXkvaG9zdA`). Each segment is percent-decoded; a label
/// name ending in `@base64` has a base64url value (padding optional; `=` alone is the empty
/// value); a plain value must not be empty. `required` names the labels the key must carry
/// besides `job`.
///
/// ```
/// use tributary_receivers::prometheus_push::parse_grouping_key;
///
/// let key = parse_grouping_key("/job/backup/path@base64/L3Zhci90bXA", &[]).unwrap();
/// assert_eq!(key.get("job"), Some("backup"));
/// assert_eq!(key.get("path"), Some("/var/tmp"));
/// assert!(parse_grouping_key("/job/backup/odd", &[]).is_err());
/// ```
pub fn parse_grouping_key(path: &str, required: &[String]) -> Result<GroupingKey, PathError> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(bad("the path must continue with /job/<JOB>"));
    };
    let mut segments: Vec<&str> = rest.split('/').collect();
    // One trailing slash is tolerated, as HTTP clients add them.
    if segments.len() > 1 && segments.last() == Some(&"") {
        segments.pop();
    }
    if !segments.len().is_multiple_of(2) {
        return Err(bad(format!(
            "the grouping key must be /job/<JOB> followed by label name and value pairs; \
             {path:?} has an odd number of segments"
        )));
    }
    let mut labels: Vec<(String, String)> = Vec::with_capacity(segments.len() / 2);
    for pair in segments.chunks_exact(2) {
        let raw_name = percent_decode(pair[0])?;
        let (name, encoded) = match raw_name.strip_suffix(BASE64_SUFFIX) {
            Some(name) => (name.to_owned(), true),
            None => (raw_name.clone(), false),
        };
        if labels.is_empty() && name != "job" {
            return Err(bad(format!(
                "the grouping key must start with /job/<JOB>, not /{raw_name}/"
            )));
        }
        if !is_label_name(&name) || name.starts_with("__") {
            return Err(bad(format!("improper label name {name:?}")));
        }
        if labels.iter().any(|(n, _)| *n == name) {
            return Err(bad(format!(
                "label {name:?} appears twice in the grouping key"
            )));
        }
        let value = if encoded {
            decode_base64(&name, pair[1])?
        } else {
            let value = percent_decode(pair[1])?;
            if value.is_empty() {
                return Err(bad(format!(
                    "empty value for label {name:?}: write an empty value as {name}@base64/="
                )));
            }
            value
        };
        if name == "job" && value.is_empty() {
            return Err(bad("the job name must not be empty"));
        }
        labels.push((name, value));
    }
    if labels.is_empty() {
        return Err(bad("the path must continue with /job/<JOB>"));
    }
    for name in required {
        if !labels.iter().any(|(n, _)| n == name) {
            return Err(bad(format!(
                "the grouping key must carry the label {name:?} (/{name}/<VALUE> in the path)"
            )));
        }
    }
    labels[1..].sort();
    Ok(GroupingKey { labels })
}

/// A base64url value, padded or not, as UTF-8.
fn decode_base64(name: &str, text: &str) -> Result<String, PathError> {
    let text = percent_decode(text)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|e| bad(format!("the value of {name:?} is not base64url: {e}")))?;
    String::from_utf8(bytes).map_err(|_| bad(format!("the value of {name:?} is not UTF-8")))
}

/// Undoes `%XX` escapes (a `+` stays a `+`, as in any URL path).
fn percent_decode(segment: &str) -> Result<String, PathError> {
    decode_strict(segment, Plus::Kept).ok_or_else(|| {
        bad(format!(
            "bad percent escape in {segment:?}, or not UTF-8 once decoded"
        ))
    })
}
