//! A push body: the exposition text read into families, with the group's labels applied
//! to every sample.

use std::fmt;

use tributary_translator_prometheus::text::{Family, Format, Limits, parse};

use super::path::GroupingKey;
use super::protobuf::parse_delimited;

/// The names the receiver writes itself for every group; a push may not carry them.
pub(crate) const PUSH_TIME: &str = "push_time_seconds";
/// See [`PUSH_TIME`].
pub(crate) const PUSH_FAILURE_TIME: &str = "push_failure_time_seconds";

/// Why a push body was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyError {
    /// The content type names a format the receiver does not read (protobuf that is not
    /// delimited): answered `415`.
    Unsupported(String),
    /// The body is not a valid exposition, or carries a name the receiver reserves:
    /// answered `400`.
    Malformed(String),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Unsupported(m) | BodyError::Malformed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for BodyError {}

/// Reads a push body (already decompressed) of `content_type` into families and applies
/// `group`'s labels to every sample, replacing same-named labels as the Pushgateway does.
/// `application/openmetrics-text` is read as OpenMetrics;
/// `application/vnd.google.protobuf; ...; encoding=delimited` as delimited `MetricFamily`
/// messages (Go's `push` package sends these), another protobuf encoding is refused;
/// anything else, or no content type, is the text format 0.0.4 (curl's `--data-binary`
/// sends a form type).
///
/// ```
/// use tributary_receivers::prometheus_push::{parse_grouping_key, parse_push_body};
/// use tributary_translator_prometheus::text::Limits;
///
/// let group = parse_grouping_key("/job/backup", &[]).unwrap();
/// let body = b"# TYPE done gauge\ndone{job=\"other\"} 1\n";
/// let families = parse_push_body(body, None, &group, &Limits::default()).unwrap();
/// assert_eq!(families[0].samples[0].label("job"), Some("backup"));
/// ```
pub fn parse_push_body(
    body: &[u8],
    content_type: Option<&str>,
    group: &GroupingKey,
    limits: &Limits,
) -> Result<Vec<Family>, BodyError> {
    let content_type = content_type.unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    let mut families = if media.eq_ignore_ascii_case("application/vnd.google.protobuf") {
        let delimited = content_type.split(';').skip(1).any(|param| {
            param
                .split_once('=')
                .is_some_and(|(k, v)| k.trim() == "encoding" && v.trim() == "delimited")
        });
        if !delimited {
            return Err(BodyError::Unsupported(
                "protobuf bodies must be delimited (encoding=delimited), as the Prometheus \
                 clients push them"
                    .into(),
            ));
        }
        parse_delimited(body, limits)
            .map_err(|e| BodyError::Malformed(format!("delimited protobuf: {e}")))?
    } else {
        let format = Format::from_content_type(content_type);
        parse(body, format, limits).map_err(|e| BodyError::Malformed(e.to_string()))?
    };
    for family in &mut families {
        for sample in &mut family.samples {
            if sample.name == PUSH_TIME || sample.name == PUSH_FAILURE_TIME {
                return Err(BodyError::Malformed(format!(
                    "pushed metrics must not be named {}: the receiver adds it to every group",
                    sample.name
                )));
            }
            for (name, value) in group.labels() {
                match sample.labels.iter_mut().find(|(n, _)| n == name) {
                    Some(label) => label.1.clone_from(value),
                    None => sample.labels.push((name.clone(), value.clone())),
                }
            }
        }
    }
    Ok(families)
}
