//! Remote write ⇄ OTLP: OTLP metrics into request series (the `prometheusremotewrite`
//! exporter, [`from_otlp`], with the shared [`normalize`](crate::normalize) and
//! [`labels`](crate::labels) rules) and request series into OTLP metrics (the
//! `prometheusremotewrite` receiver: [`families`] groups float series into metric
//! families for the shared [`to_metrics`](crate::to_otlp::to_metrics); native histograms,
//! which families do not carry, go through [`natives_to_otlp`]).
//!
//! ```
//! use tributary_translator_prometheus::prompb::{Label, Sample, TimeSeries, WriteRequest};
//! use tributary_translator_prometheus::remote_write::families;
//! use tributary_translator_prometheus::to_otlp::{to_metrics, Options, StartTimeAdjuster};
//!
//! let request = WriteRequest {
//!     timeseries: vec![TimeSeries {
//!         labels: vec![
//!             Label::new("__name__", "http_requests_total"),
//!             Label::new("code", "200"),
//!             Label::new("job", "api"),
//!         ],
//!         samples: vec![Sample { value: 7.0, timestamp: 1_700_000_000_000 }],
//!         ..Default::default()
//!     }],
//!     ..Default::default()
//! };
//! let grouped = families(&request);
//! let mut adjuster = StartTimeAdjuster::new();
//! let metrics = to_metrics(&grouped.families, &Options::default(), &mut adjuster, 0).unwrap();
//! let metric = &metrics.resource_metrics[0].scope_metrics[0].metrics[0];
//! assert_eq!(metric.name, "http_requests_total");
//! ```

mod families;
mod from_encoded;
mod from_otlp;
mod natives;

#[cfg(test)]
mod tests;

pub use families::{Families, families};
pub use from_encoded::{SeriesCache, shard_bodies, write_encoded};
pub use from_otlp::{Dropped, FromOtlpSettings, Written, from_otlp};
pub use natives::{DEFAULT_SCOPE_NAME, Natives, natives_to_otlp};
