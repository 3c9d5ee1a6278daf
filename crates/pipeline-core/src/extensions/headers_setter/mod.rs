//! `headers_setter`: request headers a client sets from the metadata of the data it sends
//! (or from fixed values), as the Go Collector's `headers_setter` extension — typically to
//! forward a tenant header received by a receiver with `include_metadata: true`.
//!
//! ```yaml
//! receivers:
//!   otlp:
//!     protocols:
//!       http:
//!         include_metadata: true
//! extensions:
//!   headers_setter:
//!     headers:
//!       - action: upsert
//!         key: X-Scope-OrgID
//!         from_context: x-tenant
//!         default_value: anonymous
//!       - key: X-Source
//!         value: gateway
//!       - action: delete
//!         key: X-Debug
//! exporters:
//!   otlp_http:
//!     endpoint: https://backend:4318
//!     auth:
//!       authenticator: headers_setter
//! service:
//!   extensions: [headers_setter]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `headers` | required | the headers to set, in order |
//! | `headers::*::key` | required | the header name |
//! | `headers::*::action` | `upsert` | `insert` (only when absent), `update` (only when present), `upsert` (always), `delete` |
//! | `headers::*::value` | | a fixed value (a secret) |
//! | `headers::*::from_context` | | the client-metadata key whose first value is used |
//! | `headers::*::default_value` | unset | used when `from_context` finds nothing (a secret) |
//! | `headers::*::from_attribute` | | refused: see below |
//!
//! Except for `delete`, each header takes exactly one of `value` and `from_context`. A
//! header whose value is not found (and has no `default_value`) is left as it was. The
//! metadata is that of the request the data arrived in; the exporter helper's batching
//! keeps requests of different metadata apart (the Go Collector loses it there, #14795).
//!
//! `from_attribute` reads attributes a Go server authenticator attaches to the request
//! (`client.Info.Auth`); Tributary's server authenticators attach none, so it is refused
//! at validation rather than silently never set.
//!
//! This extension is a client authenticator only.

mod config;
mod factory;
mod setter;

#[cfg(test)]
mod tests;

pub use config::{Action, Config, HeaderConfig};
pub use factory::factory;
pub use setter::HeadersSetter;
