//! Remote write ⇄ OTLP: OTLP metrics into request series (the `prometheusremotewrite`
//! exporter, [`from_otlp`], with the shared [`normalize`](crate::normalize) and
//! [`labels`](crate::labels) rules) and request series into OTLP metrics (the
//! `prometheusremotewrite` receiver, [`to_otlp`]).
//!
//! ```
//! use tributary_translator_prometheus::prompb::{Label, Sample, TimeSeries, WriteRequest};
//! use tributary_translator_prometheus::remote_write::to_otlp;
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
//! let converted = to_otlp(&request);
//! let metric = &converted.resource_metrics[0].scope_metrics[0].metrics[0];
//! assert_eq!(metric.name, "http_requests_total");
//! ```

mod from_otlp;
mod to_otlp;

#[cfg(test)]
mod tests;

pub use from_otlp::{Dropped, FromOtlpSettings, Written, from_otlp};
pub use to_otlp::{Converted, DEFAULT_SCOPE_NAME, to_otlp};
