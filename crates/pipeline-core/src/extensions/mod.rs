//! The extensions the framework provides, bound to its internals: components beside the
//! pipelines that others find through the [`Host`](crate::component::Host).
//!
//! * [`health_check`]: serves the collector's health over HTTP, healthy only while every
//!   pipeline runs and makes progress.
//! * [`file_storage`]: keeps exporters' sending queues on disk, so queued data survives
//!   restarts and crashes.
//! * [`bearertokenauth`], [`basicauth`]: server and client authenticators
//!   ([`configauth`](crate::configauth)); [`headers_setter`]: client headers from the
//!   metadata of the data being sent.
//! * [`memory_ballast`]: accepted for old Go configurations; has no effect (no garbage
//!   collector to tune).
//! * `pprof` (cargo feature `pprof`): CPU profiles in pprof's format over HTTP.
//! * [`zpages`]: HTML pages about the running collector: service, pipelines, extensions,
//!   feature gates, and its own spans.

pub mod basicauth;
pub mod bearertokenauth;
pub mod file_storage;
pub mod headers_setter;
pub mod health_check;
pub mod memory_ballast;
#[cfg(feature = "pprof")]
pub mod pprof;
pub mod zpages;

use crate::graph::Factories;

/// Every extension the framework provides.
pub fn factories() -> Factories {
    let mut factories = Factories::new();
    factories.add_extension(basicauth::factory());
    factories.add_extension(bearertokenauth::factory());
    factories.add_extension(file_storage::factory());
    factories.add_extension(headers_setter::factory());
    factories.add_extension(health_check::factory());
    factories.add_extension(memory_ballast::factory());
    factories.add_extension(zpages::factory());
    #[cfg(feature = "pprof")]
    factories.add_extension(pprof::factory());
    factories
}

#[cfg(test)]
mod tests {
    use crate::testing::check_extension;

    #[tokio::test]
    async fn file_storage_passes_the_conformance_suite() {
        check_extension(super::file_storage::factory(), "directory: \"{dir}\"").await;
    }

    #[tokio::test]
    async fn health_check_passes_the_conformance_suite() {
        check_extension(
            super::health_check::factory(),
            "endpoint: \"127.0.0.1:{port}\"",
        )
        .await;
    }

    #[cfg(feature = "pprof")]
    #[tokio::test]
    async fn pprof_passes_the_conformance_suite() {
        check_extension(super::pprof::factory(), "endpoint: \"127.0.0.1:{port}\"").await;
    }

    #[tokio::test]
    async fn zpages_passes_the_conformance_suite() {
        check_extension(super::zpages::factory(), "endpoint: \"127.0.0.1:{port}\"").await;
    }
}
