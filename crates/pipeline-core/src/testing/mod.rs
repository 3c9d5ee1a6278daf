//! What a component's tests need (cargo feature `testing`): a scriptable [`Sink`] to
//! stand for the next consumer, a [`Discard`] consumer, [`settings`] for creating a
//! component outside a collector, [`eventually`], and the **conformance suite**
//! ([`check_receiver`], [`check_processor`], [`check_exporter`], [`check_extension`],
//! [`check_connector`]) that
//! every component runs with one line.
//!
//! A component crate takes it as a dev-dependency:
//!
//! ```toml
//! [dev-dependencies]
//! tributary-pipeline-core = { version = "0.1", features = ["testing"] }
//! ```
//!
//! A start is given [`Host::default()`](crate::component::Host): no extensions.

mod conformance;
mod sink;

use std::time::Duration;

pub use conformance::{
    check_connector, check_exporter, check_extension, check_processor, check_receiver,
};
pub use sink::{Discard, Reply, Sink, discard};

use crate::component::{CreateSettings, Kind};
use crate::pdata::SignalData;

/// Settings for creating the `T` instance of a component of `kind` named `id` (`otlp`,
/// `otlp/2`) outside a collector: fresh metrics, status and shared state
/// ([`CreateSettings::standalone`]).
///
/// ```
/// use tributary_pipeline_core::component::Kind;
/// use tributary_pipeline_core::pdata::Traces;
///
/// let settings = tributary_pipeline_core::testing::settings::<Traces>(Kind::Receiver, "lines");
/// assert_eq!(settings.id().to_string(), "lines");
/// ```
pub fn settings<T: SignalData>(kind: Kind, id: &str) -> CreateSettings {
    let id = id
        .parse()
        .unwrap_or_else(|e| panic!("{id:?} is not a component ID: {e}"));
    CreateSettings::standalone(kind, id, Some(T::SIGNAL))
}

/// Polls `check` until it gives a value, which it returns; panics naming `what` after
/// `timeout`. For conditions no notification announces (a file written, a port bound).
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
