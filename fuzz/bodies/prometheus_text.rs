//! Prometheus text 0.0.4 and OpenMetrics expositions (the `prometheus` receiver's parser)
//! and their translation to OTLP: never a panic, whatever the bytes, and never more
//! samples than lines.

use tributary_translator_prometheus::text::{Format, Limits, parse};
use tributary_translator_prometheus::to_otlp::{Options, StartTimeAdjuster, to_metrics};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    for format in [Format::Text, Format::OpenMetrics] {
        if let Ok(families) = parse(data, format, &Limits::default()) {
            let samples: usize = families.iter().map(|f| f.samples.len()).sum();
            assert!(samples <= data.split(|&b| b == b'\n').count());
            let _ = to_metrics(
                &families,
                &Options::default(),
                &mut StartTimeAdjuster::new(),
                0,
            );
        }
    }
}
