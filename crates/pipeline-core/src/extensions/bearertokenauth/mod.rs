//! `bearertokenauth`: a bearer token checked on a server's requests, or sent with a
//! client's, as the Go Collector's `bearertokenauth` extension.
//!
//! ```yaml
//! extensions:
//!   bearertokenauth/server:
//!     filename: /run/secrets/otlp-tokens    # one token per line; re-read when it changes
//!   bearertokenauth/client:
//!     scheme: Bearer
//!     token: ${env:BACKEND_TOKEN}
//! receivers:
//!   otlp:
//!     protocols:
//!       grpc:
//!         auth:
//!           authenticator: bearertokenauth/server
//! exporters:
//!   otlp:
//!     endpoint: backend:4317
//!     auth:
//!       authenticator: bearertokenauth/client
//! service:
//!   extensions: [bearertokenauth/server, bearertokenauth/client]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `header` | `Authorization` | the header (gRPC metadata key) carrying the token |
//! | `scheme` | `Bearer` | the word before the token; empty sends and expects the bare token |
//! | `token` | unset | the token; a secret, never shown |
//! | `tokens` | `[]` | several accepted tokens (a client sends the first); not with `token` |
//! | `filename` | unset | a file holding the token(s), one per line; wins over `token`/`tokens`, re-read when it changes |
//!
//! A server accepts a request whose header is `<scheme> <token>` for any configured token
//! (the scheme compared without regard to case, as HTTP defines it; the token in constant
//! time), and answers anything else 401 / `UNAUTHENTICATED`. A client sets the header on
//! every request. The same extension serves both roles.
//!
//! The file is checked for changes once a second (modification time and size) and read
//! again when it changed; a file that cannot be read, or holds no token, keeps the tokens
//! read before and logs a warning. It must be readable at start.

mod authenticator;
mod config;
mod factory;

#[cfg(test)]
mod tests;

pub use authenticator::BearerTokenAuth;
pub use config::Config;
pub use factory::factory;
