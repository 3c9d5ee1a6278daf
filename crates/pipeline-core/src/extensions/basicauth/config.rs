//! The `basicauth` configuration: the Go Collector's keys.

use serde::Deserialize;

use crate::component::{ComponentConfig, ConfigError, SecretString};

/// The `basicauth` extension's configuration: `htpasswd` for a server, `client_auth`
/// for a client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The users a server accepts.
    pub htpasswd: Option<HtpasswdSettings>,
    /// The credentials a client sends.
    pub client_auth: Option<ClientAuthSettings>,
}

/// `htpasswd`: where the accepted users and their password hashes are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HtpasswdSettings {
    /// An htpasswd file.
    pub file: String,
    /// htpasswd lines; they win over the file's for the same user.
    pub inline: SecretString,
}

/// `client_auth`: the user and password a client sends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientAuthSettings {
    /// The user name; it may not contain `:`.
    pub username: String,
    /// The password.
    pub password: SecretString,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        match (&self.htpasswd, &self.client_auth) {
            (None, None) => Err(ConfigError::new(
                "set htpasswd (to check clients) or client_auth (to send credentials)",
            )),
            (Some(_), Some(_)) => Err(ConfigError::at(
                "client_auth",
                "htpasswd and client_auth cannot both be set: an instance is either a \
                 server or a client authenticator; declare two (basicauth/server, \
                 basicauth/client)",
            )),
            (Some(htpasswd), None) => {
                if htpasswd.file.is_empty() && htpasswd.inline.is_empty() {
                    return Err(ConfigError::at("htpasswd", "set file or inline"));
                }
                Ok(())
            }
            (None, Some(client)) => {
                if client.username.contains(':') {
                    return Err(ConfigError::at(
                        "client_auth::username",
                        "must not contain ':' (Basic authentication joins user and password with it)",
                    ));
                }
                Ok(())
            }
        }
    }
}
