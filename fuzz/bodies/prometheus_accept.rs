//! What a scraper sends the `prometheus` exporter: its `Accept` header, negotiated into a
//! format; and names and units from OTLP peers, translated into Prometheus names.

use tributary_translator_prometheus::exposition::Format;
use tributary_translator_prometheus::labels::normalize_label_name;
use tributary_translator_prometheus::normalize::{
    MetricNamer, MetricType, TranslationStrategy, trim_metric_suffixes, unit_name,
};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = Format::negotiate(Some(&text), true);
    let (name, unit) = text.split_once('\n').unwrap_or((&text, ""));
    for strategy in TranslationStrategy::ALL {
        let _ = MetricNamer::new("ns", strategy).build(name, unit, MetricType::MonotonicCounter);
    }
    let _ = unit_name(unit);
    let _ = normalize_label_name(name);
    let _ = trim_metric_suffixes(name, true, unit);
}
