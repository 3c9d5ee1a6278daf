//! `configauth`: authentication of servers' clients and of clients' requests by
//! authenticator extensions, the Go Collector's way.
//!
//! A server or client config names an extension under `auth`; the component resolves it
//! at start through the [`Host`] ([`AuthConfig::server`], [`AuthConfig::client`]), which
//! finds what the extension offers as `dyn` [`ServerAuthenticator`] or `dyn`
//! [`ClientAuthenticator`] ([`Extension::capabilities`](crate::component::Extension::capabilities)).
//! A missing extension, or one that offers no authenticator of the kind asked for, is a
//! start error naming it.
//!
//! ```yaml
//! extensions:
//!   bearertokenauth/in:
//!     token: ${env:INGEST_TOKEN}
//! receivers:
//!   otlp:
//!     protocols:
//!       http:
//!         auth:
//!           authenticator: bearertokenauth/in
//! service:
//!   extensions: [bearertokenauth/in]
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `auth::authenticator` | required | the ID of the authenticator extension (`type[/name]`) |
//!
//! The framework's authenticators are [`bearertokenauth`](crate::extensions::bearertokenauth),
//! [`basicauth`](crate::extensions::basicauth) and
//! [`headers_setter`](crate::extensions::headers_setter) (client side only). A third-party
//! extension offers its own by implementing these traits.
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use tributary_pipeline_core::configauth::{AuthError, ServerAuthenticator};
//!
//! /// Lets in requests carrying `x-api-key: open-sesame`.
//! struct ApiKey;
//!
//! #[async_trait]
//! impl ServerAuthenticator for ApiKey {
//!     async fn authenticate(&self, headers: &http::HeaderMap) -> Result<(), AuthError> {
//!         match headers.get("x-api-key") {
//!             Some(key) if key == "open-sesame" => Ok(()),
//!             Some(_) => Err(AuthError::Invalid("wrong API key".into())),
//!             None => Err(AuthError::Missing("x-api-key".into())),
//!         }
//!     }
//! }
//! // In the extension: offers.offer::<dyn ServerAuthenticator>(Arc::new(ApiKey));
//! # let _: Arc<dyn ServerAuthenticator> = Arc::new(ApiKey);
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use http::HeaderMap;
use serde::Deserialize;

use crate::component::{ComponentError, ComponentId, ConfigError, Host, SecretString};
use crate::pdata::ClientMetadata;

/// `auth`: the authenticator extension a server or client config uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The ID of the authenticator extension, `type[/name]`.
    pub authenticator: String,
}

impl AuthConfig {
    /// An `auth` block naming `authenticator`.
    pub fn new(authenticator: impl Into<String>) -> Self {
        AuthConfig {
            authenticator: authenticator.into(),
        }
    }

    /// Checks that `authenticator` is a component ID; errors name `authenticator`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.id().map(|_| ())
    }

    /// The authenticator's component ID.
    pub fn id(&self) -> Result<ComponentId, ConfigError> {
        if self.authenticator.is_empty() {
            return Err(ConfigError::at(
                "authenticator",
                "name an authenticator extension, such as bearertokenauth",
            ));
        }
        self.authenticator
            .parse()
            .map_err(|e| ConfigError::at("authenticator", format!("{e}")))
    }

    /// The server authenticator the named extension offers.
    pub fn server(&self, host: &Host) -> Result<Arc<dyn ServerAuthenticator>, ComponentError> {
        self.resolve::<dyn ServerAuthenticator>(host, "server")
    }

    /// The client authenticator the named extension offers.
    pub fn client(&self, host: &Host) -> Result<Arc<dyn ClientAuthenticator>, ComponentError> {
        self.resolve::<dyn ClientAuthenticator>(host, "client")
    }

    fn resolve<C: ?Sized + Send + Sync + 'static>(
        &self,
        host: &Host,
        kind: &str,
    ) -> Result<Arc<C>, ComponentError> {
        let id = self
            .id()
            .map_err(|e| ComponentError::new(format!("auth::{e}")))?;
        if host.extension(&id).is_none() {
            return Err(ComponentError::new(format!(
                "auth::authenticator: no extension {id:?} is running; declare it under \
                 `extensions` and list it in `service::extensions`",
                id = id.to_string()
            )));
        }
        host.capability::<C>(&id).ok_or_else(|| {
            ComponentError::new(format!(
                "auth::authenticator: extension \"{id}\" is not a {kind} authenticator"
            ))
        })
    }
}

/// `auth` on a server: the Go Collector's `authenticator`, or Tributary's `bearer_token`
/// shorthand for a `bearertokenauth` with that one token (kept for configs written before
/// authenticator extensions).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerAuthConfig {
    /// `authenticator`: the extension that checks each request.
    #[serde(rename = "auth,squash")]
    pub auth: AuthConfig,
    /// The token clients must send as `Authorization: Bearer <token>`; a secret, never
    /// shown. Not with `authenticator`.
    pub bearer_token: Option<SecretString>,
}

impl ServerAuthConfig {
    /// Checks the keys; errors name `authenticator` or `bearer_token`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match &self.bearer_token {
            None => self.auth.validate(),
            Some(_) if !self.auth.authenticator.is_empty() => Err(ConfigError::at(
                "bearer_token",
                "set either authenticator or bearer_token, not both",
            )),
            Some(token) if token.is_empty() => {
                Err(ConfigError::at("bearer_token", "must not be empty"))
            }
            Some(token) if http::HeaderValue::from_str(token.expose()).is_err() => Err(
                ConfigError::at("bearer_token", "must consist of visible ASCII characters"),
            ),
            Some(_) => Ok(()),
        }
    }

    /// The authenticator checking requests: the named extension, found on `host`, or the
    /// `bearer_token` check. Errors are prefixed with `path` (the server's config path; empty
    /// at the top of a component's config).
    pub fn authenticator(
        &self,
        host: &Host,
        path: &str,
    ) -> Result<Arc<dyn ServerAuthenticator>, ComponentError> {
        match &self.bearer_token {
            Some(token) => Ok(Arc::new(StaticBearer(token.expose().as_bytes().into()))),
            None => self.auth.server(host).map_err(|e| match path {
                "" => e,
                path => ComponentError::new(format!("{path}::{e}")),
            }),
        }
    }

    /// Whether a refusal answers with the `WWW-Authenticate: Bearer` challenge (the
    /// `bearer_token` shorthand, as before authenticator extensions).
    pub fn bearer_challenge(&self) -> bool {
        self.bearer_token.is_some()
    }
}

/// `bearer_token`: `Authorization: Bearer <token>`, the scheme in any case, the token
/// compared in constant time.
struct StaticBearer(Box<[u8]>);

#[async_trait]
impl ServerAuthenticator for StaticBearer {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let value = headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(|| AuthError::Missing("no authorization header".into()))?
            .as_bytes();
        match value.split_at_checked(7) {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case(b"bearer ") && constant_time_eq(token, &self.0) =>
            {
                Ok(())
            }
            _ => Err(AuthError::Invalid("missing or invalid bearer token".into())),
        }
    }
}

/// Why an authenticator refused a request or could not authorize one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The credentials the authenticator looks for are absent (names where it looked).
    #[error("missing credentials: {0}")]
    Missing(String),
    /// Credentials were present but wrong.
    #[error("invalid credentials: {0}")]
    Invalid(String),
    /// The authenticator cannot decide now (its credential source is unreadable).
    #[error("authenticator unavailable: {0}")]
    Unavailable(String),
}

/// Checks the credentials of a server's incoming requests: HTTP headers, or gRPC
/// metadata (the same map, names lower-case).
///
/// A refusal is answered HTTP 401 / gRPC `UNAUTHENTICATED`; the data is not read further.
#[async_trait]
pub trait ServerAuthenticator: Send + Sync {
    /// `Ok` when `headers` carry valid credentials.
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), AuthError>;
}

/// Adds credentials to a client's outgoing requests: HTTP headers, or gRPC metadata.
///
/// `metadata` is the client metadata of the data being sent
/// ([`Payload::metadata`](crate::pdata::Payload::metadata), kept by a receiver with
/// `include_metadata`), so an authenticator can forward a tenant's credentials.
#[async_trait]
pub trait ClientAuthenticator: Send + Sync {
    /// Sets this request's credentials in `headers`.
    async fn authorize(
        &self,
        headers: &mut HeaderMap,
        metadata: Option<&ClientMetadata>,
    ) -> Result<(), AuthError>;
}

/// Compares two byte strings in time that depends only on their lengths, so a client
/// cannot guess a secret byte by byte from response times.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::component::{Component, Extension, ExtensionCapabilities};

    struct Open;

    #[async_trait]
    impl ServerAuthenticator for Open {
        async fn authenticate(&self, _: &HeaderMap) -> Result<(), AuthError> {
            Ok(())
        }
    }

    struct OpenExtension;

    #[async_trait]
    impl Component for OpenExtension {
        async fn start(&self, _: &Host) -> Result<(), ComponentError> {
            Ok(())
        }
        async fn shutdown(&self) -> Result<(), ComponentError> {
            Ok(())
        }
    }

    impl Extension for OpenExtension {
        fn capabilities(self: Arc<Self>, offers: &mut ExtensionCapabilities) {
            offers.offer::<dyn ServerAuthenticator>(Arc::new(Open));
        }
    }

    fn host() -> Host {
        Host::new([(
            "open/x".parse().unwrap(),
            Arc::new(OpenExtension) as Arc<dyn Extension>,
        )])
    }

    #[test]
    fn resolves_the_named_authenticator_of_the_asked_kind() {
        assert!(AuthConfig::new("open/x").server(&host()).is_ok());
        let wrong_kind = AuthConfig::new("open/x").client(&host()).err().unwrap();
        assert!(
            wrong_kind
                .to_string()
                .contains("\"open/x\" is not a client authenticator"),
            "{wrong_kind}"
        );
        let missing = AuthConfig::new("open/y").server(&host()).err().unwrap();
        assert!(
            missing.to_string().contains("no extension \"open/y\""),
            "{missing}"
        );
    }

    #[test]
    fn validate_names_the_key() {
        assert_eq!(
            AuthConfig::default().validate().unwrap_err().path(),
            "authenticator"
        );
        assert!(AuthConfig::new("not an id!").validate().is_err());
        assert!(AuthConfig::new("bearertokenauth/in").validate().is_ok());
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
