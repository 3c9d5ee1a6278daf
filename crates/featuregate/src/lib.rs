//! Feature gates: named switches that let a behaviour ship before it is the default, and
//! let users opt in or out with `--feature-gates`.
//!
//! A gate has an ID (ASCII letters, digits and dots, such as `exporter.otlp.zstdDefault`),
//! a [`Stage`] that decides its default and which settings are allowed, the versions it
//! was introduced in and will be removed in, and a URL with details. Gates live in a
//! [`Registry`]: each collector instance owns one, and [`Registry::global`] is a
//! process-wide default. Code keeps the [`Gate`] handle that registration returns and asks
//! [`Gate::is_enabled`], a single atomic load; nothing else.
//!
//! | stage                  | default | setting it                                          |
//! |------------------------|---------|-----------------------------------------------------|
//! | [`Stage::Alpha`]       | off     | on or off                                           |
//! | [`Stage::Beta`]        | on      | on or off                                           |
//! | [`Stage::Stable`]      | on      | disabling is an error; enabling warns it will go    |
//! | [`Stage::Deprecated`]  | off     | enabling is an error; disabling warns it will go    |
//!
//! The rules and messages follow the Go Collector's `featuregate` package, with three
//! deliberate differences: a registry per collector rather than only a global one,
//! `--feature-gates` applied all or nothing (the Go Collector applies the good entries of
//! a partly bad flag), and warnings logged through `tracing` instead of printed to stdout.
//!
//! # Example
//!
//! ```
//! use tributary_featuregate::{GateSpec, Registry, Stage};
//!
//! let registry = Registry::new();
//! let zero_copy = registry.register(
//!     GateSpec::new("exporter.otlp.zeroCopy", Stage::Alpha)
//!         .description("Encode batches without an intermediate copy.")
//!         .from_version("v0.3.0")
//!         .reference_url("https://github.com/example/tributary/issues/42"),
//! )?;
//! registry.register(
//!     GateSpec::new("receiver.otlp.legacyPaths", Stage::Deprecated)
//!         .description("Also serve the pre-1.0 OTLP/HTTP paths.")
//!         .from_version("v0.1.0")
//!         .to_version("v0.6.0"),
//! )?;
//!
//! // The hot path: one atomic load.
//! assert!(!zero_copy.is_enabled());
//!
//! // `--feature-gates=exporter.otlp.zeroCopy,-receiver.otlp.legacyPaths`
//! registry.apply_flag("exporter.otlp.zeroCopy,-receiver.otlp.legacyPaths")?;
//! assert!(zero_copy.is_enabled());
//!
//! // A bad flag changes nothing and reports every bad entry at once.
//! let error = registry.apply_flag("-exporter.otlp.zeroCopy,exporter.otlp.zeroCopi,").unwrap_err();
//! assert_eq!(error.errors().len(), 2);
//! assert!(zero_copy.is_enabled());
//!
//! // What the `featuregate` subcommand lists, in ID order.
//! for gate in registry.gates() {
//!     let to = gate.to_version().map(|v| v.to_string()).unwrap_or_default();
//!     println!("{}\t{}\t{}\t{}\t{}", gate.id(), gate.is_enabled(), gate.stage(), to, gate.description());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod error;
mod flag;
mod gate;
mod registry;
mod stage;
#[cfg(test)]
mod test_support;
mod version;

pub use error::{
    FlagEntryError, FlagError, ParseVersionError, RegisterError, SetError, VersionField,
};
pub use flag::parse_flag;
pub use gate::{Gate, GateSpec};
pub use registry::Registry;
pub use stage::Stage;
pub use version::Version;
