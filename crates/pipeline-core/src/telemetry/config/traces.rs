//! `service::telemetry::traces`: the level, propagators and span processors.

use serde::Deserialize;

use super::export::validate_processors;
use super::{ExportProcessor, MetricsLevel, TelemetryConfigError, error};

/// `service::telemetry::traces`: the collector's own spans.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracesTelemetryConfig {
    /// `none` records no spans; any other level (default `basic`) records them.
    pub level: MetricsLevel,
    /// Context propagators (`tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger`, ...).
    /// The collector starts no spans from incoming context, so these are accepted as Go
    /// does and have no effect.
    pub propagators: Vec<String>,
    /// Processors exporting the spans.
    pub processors: Vec<ExportProcessor>,
}

impl Default for TracesTelemetryConfig {
    fn default() -> Self {
        TracesTelemetryConfig {
            level: MetricsLevel::Basic,
            propagators: Vec::new(),
            processors: Vec::new(),
        }
    }
}

const PROPAGATORS: [&str; 7] = [
    "tracecontext",
    "baggage",
    "b3",
    "b3multi",
    "jaeger",
    "xray",
    "ottrace",
];

impl TracesTelemetryConfig {
    pub(super) fn validate(&self, errors: &mut Vec<TelemetryConfigError>) {
        for (i, p) in self.propagators.iter().enumerate() {
            if !PROPAGATORS.contains(&p.as_str()) {
                errors.push(error(
                    format!("traces::propagators::{i}"),
                    format!(
                        "unknown propagator {p:?}; expected one of {}",
                        PROPAGATORS.join(", ")
                    ),
                ));
            }
        }
        validate_processors("traces::processors", &self.processors, errors);
    }
}
