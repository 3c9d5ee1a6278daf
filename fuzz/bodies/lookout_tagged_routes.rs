//! The lookout receiver's routes with tags in the path, `/lookout/metrics/{k}/{v}...`
//! (standard-protocol body) and `/prom/metrics/job/{job}/{k}/{v}...` (Prometheus text or
//! OpenMetrics): the first line is the URL path, the rest the body. Never a panic; an
//! accepted request has one tag per path pair (`job` first on the Prometheus route), keys
//! unique and sanitised, `app` set, `step` taken out and over 0 or -1, no more points
//! than the body has bytes; and the path's tags never depend on the body.

use tributary_receivers::lookout::read_tagged_request;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let split = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let (path, body) = data.split_at(split);
    let body = body.get(1..).unwrap_or_default();
    let path = String::from_utf8_lossy(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let prometheus = segments.starts_with(&["prom", "metrics", "job"]);
    for content_type in [None, Some("application/openmetrics-text; version=1.0.0")] {
        let Ok(request) = read_tagged_request(&path, body, content_type, 1) else {
            continue;
        };
        assert!(
            request.step > 0 || request.step == -1,
            "step {}",
            request.step
        );
        assert!(request.points.len() <= body.len());
        // The pairs after `/lookout/metrics` or `/prom/metrics/job/{job}`, less `step`,
        // plus `job`.
        let expected = if prometheus {
            (segments.len() - 4) / 2
        } else {
            (segments.len() - 2) / 2 - 1
        };
        assert_eq!(request.tags.len(), expected, "{:?}", request.tags);
        if prometheus {
            assert_eq!(request.tags[0].0, "job");
        }
        for (i, (key, value)) in request.tags.iter().enumerate() {
            assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
            assert_ne!(key, "step");
            assert!(
                request.tags[..i].iter().all(|(k, _)| k != key),
                "{key} twice"
            );
            if key == "app" {
                assert!(!value.is_empty());
            }
        }
        assert!(request.tags.iter().any(|(k, _)| k == "app"));
        for point in &request.points {
            assert!(point.name.starts_with(|c: char| c.is_ascii_alphabetic()));
        }
        // An empty body (no measurement, or an empty text exposition) is never refused.
        match read_tagged_request(&path, b"", None, 1) {
            Ok(empty) => assert_eq!((empty.tags, empty.step), (request.tags, request.step)),
            Err(e) => panic!("the path was accepted with a body, refused without: {e}"),
        }
    }
}
