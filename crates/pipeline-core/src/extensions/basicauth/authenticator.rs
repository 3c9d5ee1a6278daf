//! The Basic authenticator: a server side over htpasswd users, a client side sending one
//! user's credentials.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};

use super::config::Config;
use super::htpasswd::{Hash, parse_into};
use crate::component::{Component, ComponentError, Extension, ExtensionCapabilities, Host};
use crate::configauth::{AuthError, ClientAuthenticator, ServerAuthenticator};
use crate::pdata::ClientMetadata;

/// The `basicauth` extension: a [`ServerAuthenticator`] when configured with `htpasswd`,
/// a [`ClientAuthenticator`] when configured with `client_auth`.
pub struct BasicAuth {
    config: Config,
    /// The htpasswd users, read at start.
    users: RwLock<Arc<HashMap<String, Hash>>>,
}

impl BasicAuth {
    /// The extension `config` describes; reads nothing until started.
    pub fn new(config: &Config) -> Self {
        BasicAuth {
            config: config.clone(),
            users: RwLock::default(),
        }
    }

    fn users(&self) -> Arc<HashMap<String, Hash>> {
        Arc::clone(&self.users.read().unwrap_or_else(PoisonError::into_inner))
    }
}

#[async_trait]
impl Component for BasicAuth {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let Some(htpasswd) = &self.config.htpasswd else {
            return Ok(());
        };
        let mut users = HashMap::new();
        if !htpasswd.file.is_empty() {
            let text = tokio::fs::read_to_string(&htpasswd.file)
                .await
                .map_err(|e| {
                    ComponentError::new(format!(
                        "htpasswd::file: cannot read {:?}: {e}",
                        htpasswd.file
                    ))
                })?;
            parse_into(&mut users, &text, &htpasswd.file)
                .map_err(|e| ComponentError::new(format!("htpasswd::file: {e}")))?;
        }
        parse_into(&mut users, htpasswd.inline.expose(), "inline")
            .map_err(|e| ComponentError::new(format!("htpasswd::inline: {e}")))?;
        *self.users.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(users);
        Ok(())
    }
}

impl Extension for BasicAuth {
    fn capabilities(self: Arc<Self>, offers: &mut ExtensionCapabilities) {
        if self.config.htpasswd.is_some() {
            offers.offer::<dyn ServerAuthenticator>(self);
        } else {
            offers.offer::<dyn ClientAuthenticator>(self);
        }
    }
}

/// The user and password of an `Authorization: Basic ...` header.
fn credentials(headers: &HeaderMap) -> Result<(String, String), AuthError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| AuthError::Missing("no authorization header".into()))?
        .as_bytes();
    let encoded = match value.split_at_checked(6) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"basic ") => rest,
        _ => return Err(AuthError::Invalid("not the Basic scheme".into())),
    };
    let decoded = STANDARD
        .decode(encoded.trim_ascii())
        .map_err(|_| AuthError::Invalid("Basic credentials are not base64".into()))?;
    let decoded = String::from_utf8(decoded)
        .map_err(|_| AuthError::Invalid("Basic credentials are not UTF-8".into()))?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| AuthError::Invalid("Basic credentials without ':'".into()))?;
    Ok((user.to_string(), password.to_string()))
}

#[async_trait]
impl ServerAuthenticator for BasicAuth {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<(), AuthError> {
        let (user, password) = credentials(headers)?;
        let users = self.users();
        let Some(hash) = users.get(&user).cloned() else {
            return Err(AuthError::Invalid("unknown user or wrong password".into()));
        };
        let matched = if hash.is_slow() {
            tokio::task::spawn_blocking(move || hash.verify(&password))
                .await
                .map_err(|e| AuthError::Unavailable(format!("password check failed: {e}")))?
        } else {
            hash.verify(&password)
        };
        if matched {
            Ok(())
        } else {
            Err(AuthError::Invalid("unknown user or wrong password".into()))
        }
    }
}

#[async_trait]
impl ClientAuthenticator for BasicAuth {
    async fn authorize(
        &self,
        headers: &mut HeaderMap,
        _metadata: Option<&ClientMetadata>,
    ) -> Result<(), AuthError> {
        let client = self
            .config
            .client_auth
            .as_ref()
            .ok_or_else(|| AuthError::Unavailable("no client_auth configured".into()))?;
        let encoded = STANDARD.encode(format!("{}:{}", client.username, client.password.expose()));
        let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
            .map_err(|_| AuthError::Unavailable("unsendable credentials".into()))?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        Ok(())
    }
}
