//! The `env` detector: `OTEL_RESOURCE_ATTRIBUTES` (`key1=value1,key2=value2`, values
//! percent-decoded), as the Go detector reads it.

use tributary_pipeline_core::confighttp::percent::{Plus, decode_strict};
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

/// The variable the `env` detector reads.
pub const ENV_VAR: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// Why `OTEL_RESOURCE_ATTRIBUTES` could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// A pair without `=` or with an empty key.
    #[error("invalid resource format in attribute: {0:?}")]
    Pair(String),
    /// A value whose percent-encoding is broken or not UTF-8.
    #[error("invalid resource format in attribute: {0:?}, err: invalid percent-encoding")]
    Escape(String),
}

/// Parses the value of `OTEL_RESOURCE_ATTRIBUTES` (an empty value gives nothing). Keys
/// and values are trimmed; values are percent-decoded, as the OpenTelemetry
/// specification asks. One malformed pair fails the whole value, as in Go.
pub fn parse_resource_attributes(text: &str) -> Result<Vec<KeyValue>, EnvError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut attributes: Vec<KeyValue> = Vec::new();
    for pair in text.split(',') {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(EnvError::Pair(pair.to_string()));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(EnvError::Pair(pair.to_string()));
        }
        let value =
            percent_decode(value.trim()).ok_or_else(|| EnvError::Escape(pair.to_string()))?;
        // A repeated key: the last one wins, as Go's map assignment.
        attributes.retain(|kv| kv.key != key);
        attributes.push(key_value(key, value));
    }
    Ok(attributes)
}

/// Decodes `%XX` escapes; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    decode_strict(text, Plus::Kept)
}
