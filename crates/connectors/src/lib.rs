#![warn(missing_docs)]
//! Tributary's built-in connectors, one module per connector, each behind a cargo
//! feature of the same name (all on by default). A connector joins pipelines: it is an
//! exporter of one and a receiver of another, possibly of another signal.
//!
//! | connector | from → to | what it does |
//! |---|---|---|
//! | [`count`] | traces, metrics, logs → metrics | counts spans, span events, metrics, data points, log records |
//! | [`spanmetrics`] | traces → metrics | request, error and duration (R.E.D.) metrics from spans |

#[cfg(feature = "count")]
pub mod count;
#[cfg(feature = "spanmetrics")]
pub mod spanmetrics;
#[cfg(any(feature = "count", feature = "spanmetrics"))]
mod value_text;
