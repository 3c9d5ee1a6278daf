//! `basicauth`: HTTP Basic authentication, checked against an htpasswd list on a server,
//! or sent by a client, as the Go Collector's `basicauth` extension.
//!
//! ```yaml
//! extensions:
//!   basicauth/server:
//!     htpasswd:
//!       file: /etc/otelcol/.htpasswd
//!       inline: |
//!         ${env:BASIC_AUTH_USERNAME}:${env:BASIC_AUTH_PASSWORD}
//!   basicauth/client:
//!     client_auth:
//!       username: collector
//!       password: ${env:BACKEND_PASSWORD}
//! receivers:
//!   otlp:
//!     protocols:
//!       http:
//!         auth:
//!           authenticator: basicauth/server
//! exporters:
//!   otlp_http:
//!     endpoint: https://backend:4318
//!     auth:
//!       authenticator: basicauth/client
//! service:
//!   extensions: [basicauth/server, basicauth/client]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `htpasswd::file` | unset | an htpasswd file, read at start |
//! | `htpasswd::inline` | unset | htpasswd lines in the config (a secret); they win over the file's for the same user |
//! | `client_auth::username` | unset | the user a client sends |
//! | `client_auth::password` | unset | its password; a secret |
//!
//! One of `htpasswd` (a server authenticator) and `client_auth` (a client authenticator)
//! is required; a config with both is refused, since an extension instance plays one
//! role. Naming it under `auth` of the other side is a start error.
//!
//! htpasswd lines are `user:hash`; blank lines and `#` comments are skipped. The hashes
//! the Go Collector's htpasswd library accepts by default are checked: bcrypt (`$2a$`,
//! `$2b$`, `$2y$`), `{SHA}`, `{SSHA}`, MD5-crypt (`$apr1$`, `$1$`), and a plain password
//! (what the inline `${env:USER}:${env:PASSWORD}` form gives). Other `$id$` schemes
//! (SHA-crypt `$5$`/`$6$`) are refused at start naming the line. A server answers a
//! request without `Authorization: Basic ...`, or with a wrong user or password, 401 /
//! `UNAUTHENTICATED`. bcrypt is slow on purpose (tens of milliseconds a check): it runs
//! on the blocking pool, never on a runtime thread.
//!
//! Crates: `bcrypt`, `sha1` and `md-5` (RustCrypto), with MD5-crypt written here from its
//! definition (no maintained crate offers it alone).

mod authenticator;
mod config;
mod factory;
mod htpasswd;

#[cfg(test)]
mod tests;

pub use authenticator::BasicAuth;
pub use config::{ClientAuthSettings, Config, HtpasswdSettings};
pub use factory::factory;
