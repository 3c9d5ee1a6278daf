//! The two importers whose tags are in the URL path: `/lookout/metrics/{k}/{v}...` (a
//! standard-protocol body) and `/prom/metrics/job/{job}/{k}/{v}...` (Prometheus text or
//! OpenMetrics). Reading the path's tags, the `step` among them, and the body's points,
//! as the receiver serves them and as the fuzz targets drive them.

use tributary_translator_prometheus::text::Format;

use super::point::{Point, sanitize_key};
use super::prom::parse_prometheus;
use super::standard::parse_standard;
use tributary_pipeline_core::confighttp::percent::{Plus, decode_lossy};

/// Which importer a tagged route feeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaggedImporter {
    /// `POST /lookout/metrics/{k}/{v}...`: the standard protocol.
    Lookout,
    /// `PUT|POST /prom/metrics/job/{job}/{k}/{v}...`: Prometheus text, OpenMetrics by
    /// `Content-Type`.
    Prometheus,
}

/// The tags a tagged route's path names, `step` taken out of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PathTags {
    /// In path order (`job` first on the Prometheus route): keys sanitised and unique,
    /// `app` among them.
    pub(crate) tags: Vec<(String, String)>,
    /// The seconds point times align to (and a delta counter spans); `-1`: no alignment.
    pub(crate) step: i64,
}

impl TaggedImporter {
    /// The tagged route a path's segments name, with its path's tags or why they are
    /// refused; `None` for every other path.
    pub(crate) fn route(segments: &[&str]) -> Option<(TaggedImporter, Result<PathTags, String>)> {
        match segments {
            ["lookout", "metrics", pairs @ ..] => {
                Some((TaggedImporter::Lookout, path_tags(Vec::new(), pairs)))
            }
            ["prom", "metrics", "job", job, pairs @ ..] => {
                let job = vec![("job".to_owned(), percent_decode(job))];
                Some((TaggedImporter::Prometheus, path_tags(job, pairs)))
            }
            _ => None,
        }
    }

    /// Reads a (decompressed) body into points; a measurement or sample without a time
    /// gets `now_ms`. The error is the message of the `400` it is refused with.
    pub(crate) fn decode(
        self,
        body: &[u8],
        content_type: Option<&str>,
        now_ms: i64,
    ) -> Result<Vec<Point>, String> {
        match self {
            TaggedImporter::Lookout => parse_standard(body, now_ms).map_err(|e| e.to_string()),
            TaggedImporter::Prometheus => {
                let format = content_type
                    .map(Format::from_content_type)
                    .unwrap_or(Format::Text);
                parse_prometheus(body, format, now_ms)
            }
        }
    }
}

/// A request to a tagged route as the receiver reads it, before its tags are merged into
/// the points.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq)]
pub struct TaggedRequest {
    /// The path's tags, in path order, `step` taken out: keys unique, `app` among them.
    pub tags: Vec<(String, String)>,
    /// The path's `step`: seconds (over 0), or `-1` for no alignment.
    pub step: i64,
    /// The body's points.
    pub points: Vec<Point>,
}

/// Reads a request to `/lookout/metrics/{k}/{v}...` or `/prom/metrics/job/{job}/{k}/{v}...`
/// as the receiver does, without HTTP: the URL path (percent-encoded, as on the request
/// line), the decompressed body and its `Content-Type`; a point without a time gets
/// `now_ms`. The error is the message the receiver refuses the request with.
// Exposed for the fuzz targets.
#[doc(hidden)]
pub fn read_tagged_request(
    path: &str,
    body: &[u8],
    content_type: Option<&str>,
    now_ms: i64,
) -> Result<TaggedRequest, String> {
    let segments = path_segments(path);
    let Some((importer, path_tags)) = TaggedImporter::route(&segments) else {
        return Err(format!(
            "{path:?} is neither /lookout/metrics/... nor /prom/metrics/job/..."
        ));
    };
    let PathTags { tags, step } = path_tags?;
    let points = importer.decode(body, content_type, now_ms)?;
    Ok(TaggedRequest { tags, step, points })
}

/// A URL path's segments, without the empty ones (doubled or trailing slashes).
pub(crate) fn path_segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// `tags` followed by the `{k}/{v}` pairs of `segments`, percent-decoded, keys sanitised
/// as tag keys; then the `step` taken out.
fn path_tags(mut tags: Vec<(String, String)>, segments: &[&str]) -> Result<PathTags, String> {
    if !segments.len().is_multiple_of(2) {
        return Err(format!(
            "the path has a label without a value: {:?}",
            segments.last().copied().unwrap_or_default()
        ));
    }
    for pair in segments.chunks(2) {
        let key = sanitize_key(&percent_decode(pair[0]));
        if tags.iter().any(|(k, _)| *k == key) {
            return Err(format!("the path names {key:?} twice"));
        }
        tags.push((key, percent_decode(pair[1])));
    }
    let step = take_step(&mut tags)?;
    Ok(PathTags { tags, step })
}

/// Removes the `step` tag and returns its value (seconds, `-1`: no alignment); `app` must
/// be there too, as Lookout requires.
pub(crate) fn take_step(tags: &mut Vec<(String, String)>) -> Result<i64, String> {
    if !tags.iter().any(|(k, v)| k == "app" && !v.is_empty()) {
        return Err("the app tag is required".to_owned());
    }
    let index = tags
        .iter()
        .position(|(k, _)| k == "step")
        .ok_or_else(|| "the step tag is required".to_owned())?;
    let (_, value) = tags.remove(index);
    match value.trim().parse::<i64>() {
        Ok(step) if step > 0 || step == -1 => Ok(step),
        _ => Err(format!("step {value:?} is not a number of seconds (or -1)")),
    }
}

/// A path segment (`+` stays a `+`); malformed escapes kept.
fn percent_decode(text: &str) -> String {
    decode_lossy(text.as_bytes(), Plus::Kept).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookout::PointValue;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_path_tagged_request_gives_its_tags_step_and_points() {
        let body = br#"{"time":1700000000000,"tags":{"host":"h"},"jvm.threads":12}"#;
        let request = read_tagged_request(
            "/lookout/metrics/app/demo/step/60/zone/z%201/",
            body,
            None,
            0,
        )
        .unwrap();
        assert_eq!(request.tags, tags(&[("app", "demo"), ("zone", "z 1")]));
        assert_eq!(request.step, 60);
        assert_eq!(request.points.len(), 1);
        assert_eq!(request.points[0].name, "jvm.threads");
        assert_eq!(request.points[0].value, PointValue::Gauge(12.0));
    }

    #[test]
    fn a_prometheus_push_reads_its_job_and_its_body_by_content_type() {
        let text = b"# TYPE jobs_total counter\njobs_total{queue=\"a\"} 3\n";
        let request = read_tagged_request(
            "/prom/metrics/job/batch%2Fnightly/app/demo/step/-1",
            text,
            Some("text/plain; version=0.0.4"),
            5,
        )
        .unwrap();
        assert_eq!(
            request.tags,
            tags(&[("job", "batch/nightly"), ("app", "demo")])
        );
        assert_eq!(request.step, -1);
        assert_eq!(request.points[0].value, PointValue::Cumulative(3.0));
        assert_eq!(request.points[0].time_ms, 5);
        let open_metrics = b"# TYPE up gauge\nup 1\n# EOF\n";
        let request = read_tagged_request(
            "/prom/metrics/job/j/app/a/step/10",
            open_metrics,
            Some("application/openmetrics-text; version=1.0.0"),
            0,
        )
        .unwrap();
        assert_eq!(request.points.len(), 1);
    }

    #[test]
    fn malformed_paths_are_refused_with_what_is_wrong() {
        for (path, message) in [
            ("/lookout/metrics/app/a/step", "a label without a value"),
            ("/lookout/metrics/step/10", "the app tag is required"),
            ("/lookout/metrics/app//step/10", "a label without a value"),
            ("/lookout/metrics/app/a", "the step tag is required"),
            ("/lookout/metrics/app/a/step/0", "not a number of seconds"),
            ("/lookout/metrics/app/a/step/ten", "not a number of seconds"),
            ("/lookout/metrics/app/a/app/b/step/1", "names \"app\" twice"),
            (
                "/lookout/metrics/app/a/st%65p/1/step/2",
                "names \"step\" twice",
            ),
            (
                "/prom/metrics/job/x/job/y/app/a/step/1",
                "names \"job\" twice",
            ),
            ("/prom/metrics/job", "neither"),
            ("/datas", "neither"),
        ] {
            let error = read_tagged_request(path, b"", None, 0).unwrap_err();
            assert!(error.contains(message), "{path}: {error}");
        }
    }

    #[test]
    fn a_body_the_importer_cannot_read_is_refused() {
        let path = "/lookout/metrics/app/a/step/10";
        let error = read_tagged_request(path, b"{not json", None, 0).unwrap_err();
        assert!(error.starts_with("measurement 1:"), "{error}");
        let path = "/prom/metrics/job/j/app/a/step/10";
        assert!(read_tagged_request(path, b"up{ 1\n", None, 0).is_err());
    }

    #[test]
    fn percent_escapes_decode_and_broken_ones_stay() {
        assert_eq!(percent_decode("a%20b%2f"), "a b/");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }
}
