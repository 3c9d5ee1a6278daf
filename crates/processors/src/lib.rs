#![warn(missing_docs)]
//! Tributary's built-in processors, one module per processor, each behind a cargo feature
//! of the same name (all on by default).
//!
//! | processor | what it does |
//! |---|---|
//! | [`batch`] | groups telemetry into batches by size and time, optionally per tenant |
//! | [`memory_limiter`] | refuses data, retryably, while the process uses too much memory |
//! | [`attributes`] | inserts, updates, deletes, hashes, extracts and converts item attributes |
//! | [`resource`] | the same actions on resource attributes |
//! | [`redaction`] | keeps only allowed attribute keys and masks blocked values |
//! | [`transform`] | edits telemetry with OTTL statements |
//! | [`filter`] | drops spans, metrics, data points and log records by OTTL conditions or match properties |
//! | [`probabilistic_sampler`] | keeps a percentage of spans or logs, consistently by trace ID |
//! | [`tail_sampling`] | keeps or drops whole traces by policies, after waiting for their spans |
//! | [`metricstransform`] | renames metrics and labels, scales values, aggregates points |
//! | [`groupbyattrs`] | moves record attributes to the resource, regrouping records |
//! | [`interval`] | emits the last value of each cumulative stream once per interval |
//! | [`cumulativetodelta`] | turns cumulative sums and histograms into deltas |
//! | [`deltatocumulative`] | accumulates delta sums and histograms into cumulative ones |
//! | [`deltatorate`] | turns delta sums into per-second rates |
//! | [`metricstarttime`] | sets start times of cumulative points that have none |
//! | [`falcon_rate`] | Open-Falcon COUNTER semantics: counters to per-second rates, resets dropped |
//! | [`falcon_align`] | Open-Falcon step alignment of timestamps (`ts - ts % step`, `min_step`) |
//! | [`falcon_nodata`] | Open-Falcon nodata: a mock point or staleness marker for series that stop |
//! | [`lookup`] | adds attributes from a hot-reloaded table keyed by an attribute (exact or CIDR) |
//!
//! Each module offers `factory()`, to register on a collector's builder (or on
//! [`Factories`]), and its `Config`.

#[cfg(feature = "attraction")]
pub mod attraction;
#[cfg(feature = "attributes")]
pub mod attributes;
#[cfg(feature = "batch")]
pub mod batch;
#[cfg(any(feature = "filterconfig", feature = "attraction"))]
mod config_value;
#[cfg(feature = "cumulativetodelta")]
pub mod cumulativetodelta;
#[cfg(feature = "deltatocumulative")]
pub mod deltatocumulative;
#[cfg(feature = "deltatorate")]
pub mod deltatorate;
#[cfg(feature = "falcon_align")]
pub mod falcon_align;
#[cfg(feature = "falcon_nodata")]
pub mod falcon_nodata;
#[cfg(feature = "falcon_rate")]
pub mod falcon_rate;
#[cfg(any(
    feature = "falcon_rate",
    feature = "falcon_align",
    feature = "falcon_nodata"
))]
#[cfg_attr(
    not(all(
        feature = "falcon_rate",
        feature = "falcon_align",
        feature = "falcon_nodata"
    )),
    allow(dead_code)
)]
mod falcon_series;
#[cfg(feature = "filter")]
pub mod filter;
#[cfg(feature = "filterconfig")]
pub mod filterconfig;
#[cfg(feature = "groupbyattrs")]
pub mod groupbyattrs;
#[cfg(feature = "interval")]
pub mod interval;
#[cfg(feature = "lookup")]
pub mod lookup;
#[cfg(feature = "memory_limiter")]
pub mod memory_limiter;
#[cfg(feature = "metric_stream")]
#[cfg_attr(
    not(all(
        feature = "cumulativetodelta",
        feature = "deltatocumulative",
        feature = "metricstarttime"
    )),
    allow(dead_code)
)]
mod metric_stream;
#[cfg(feature = "metricstarttime")]
pub mod metricstarttime;
#[cfg(feature = "metricstransform")]
pub mod metricstransform;
#[cfg(feature = "probabilistic_sampler")]
pub mod probabilistic_sampler;
#[cfg(feature = "redaction")]
pub mod redaction;
#[cfg(feature = "resource")]
pub mod resource;
#[cfg(feature = "resourcedetection")]
pub mod resourcedetection;
#[cfg(any(feature = "probabilistic_sampler", feature = "tail_sampling"))]
pub mod sampling;
#[cfg(feature = "tail_sampling")]
pub mod tail_sampling;
#[cfg(feature = "transform")]
pub mod transform;

use tributary_pipeline_core::graph::Factories;

/// Every processor enabled in this build.
pub fn factories() -> Factories {
    #[allow(unused_mut)]
    let mut factories = Factories::new();
    #[cfg(feature = "batch")]
    factories.add_processor(batch::factory());
    #[cfg(feature = "memory_limiter")]
    factories.add_processor(memory_limiter::factory());
    #[cfg(feature = "resourcedetection")]
    factories.add_processor(resourcedetection::factory());
    #[cfg(feature = "attributes")]
    factories.add_processor(attributes::factory());
    #[cfg(feature = "resource")]
    factories.add_processor(resource::factory());
    #[cfg(feature = "redaction")]
    factories.add_processor(redaction::factory());
    #[cfg(feature = "transform")]
    factories.add_processor(transform::factory());
    #[cfg(feature = "filter")]
    factories.add_processor(filter::factory());
    #[cfg(feature = "probabilistic_sampler")]
    factories.add_processor(probabilistic_sampler::factory());
    #[cfg(feature = "tail_sampling")]
    factories.add_processor(tail_sampling::factory());
    #[cfg(feature = "metricstransform")]
    factories.add_processor(metricstransform::factory());
    #[cfg(feature = "groupbyattrs")]
    factories.add_processor(groupbyattrs::factory());
    #[cfg(feature = "interval")]
    factories.add_processor(interval::factory());
    #[cfg(feature = "cumulativetodelta")]
    factories.add_processor(cumulativetodelta::factory());
    #[cfg(feature = "deltatocumulative")]
    factories.add_processor(deltatocumulative::factory());
    #[cfg(feature = "deltatorate")]
    factories.add_processor(deltatorate::factory());
    #[cfg(feature = "metricstarttime")]
    factories.add_processor(metricstarttime::factory());
    #[cfg(feature = "falcon_rate")]
    factories.add_processor(falcon_rate::factory());
    #[cfg(feature = "falcon_align")]
    factories.add_processor(falcon_align::factory());
    #[cfg(feature = "falcon_nodata")]
    factories.add_processor(falcon_nodata::factory());
    #[cfg(feature = "lookup")]
    factories.add_processor(lookup::factory());
    factories
}
