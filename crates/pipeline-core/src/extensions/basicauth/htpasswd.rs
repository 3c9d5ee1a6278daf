//! htpasswd lists: `user:hash` lines and the hash schemes the Go Collector accepts.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};
use sha1::Sha1;

use crate::configauth::constant_time_eq;

/// One user's password hash, by scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    /// `$2a$`, `$2b$`, `$2x$`, `$2y$`.
    Bcrypt(String),
    /// `{SHA}base64(sha1(password))`.
    Sha(Vec<u8>),
    /// `{SSHA}base64(sha1(password + salt) + salt)`.
    Ssha { digest: Vec<u8>, salt: Vec<u8> },
    /// `$apr1$salt$...` or `$1$salt$...`: MD5-crypt with that magic.
    Md5Crypt {
        magic: &'static str,
        salt: String,
        whole: String,
    },
    /// A password written as is.
    Plain(String),
}

impl Hash {
    fn parse(text: &str) -> Result<Hash, String> {
        if ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .any(|p| text.starts_with(p))
        {
            return Ok(Hash::Bcrypt(text.to_string()));
        }
        if let Some(encoded) = text.strip_prefix("{SHA}") {
            let digest = STANDARD
                .decode(encoded)
                .map_err(|e| format!("invalid {{SHA}} hash: {e}"))?;
            return Ok(Hash::Sha(digest));
        }
        if let Some(encoded) = text.strip_prefix("{SSHA}") {
            let mut digest = STANDARD
                .decode(encoded)
                .map_err(|e| format!("invalid {{SSHA}} hash: {e}"))?;
            if digest.len() <= 20 {
                return Err("invalid {SSHA} hash: no salt".into());
            }
            let salt = digest.split_off(20);
            return Ok(Hash::Ssha { digest, salt });
        }
        for magic in ["$apr1$", "$1$"] {
            if let Some(rest) = text.strip_prefix(magic) {
                let salt = rest.split('$').next().unwrap_or("");
                return Ok(Hash::Md5Crypt {
                    magic,
                    salt: salt.chars().take(8).collect(),
                    whole: text.to_string(),
                });
            }
        }
        if let Some(id) = text
            .strip_prefix('$')
            .and_then(|rest| rest.split_once('$'))
            .map(|(id, _)| id)
            .filter(|id| {
                !id.is_empty() && id.len() <= 8 && id.bytes().all(|b| b.is_ascii_alphanumeric())
            })
        {
            return Err(format!(
                "unsupported hash scheme ${id}$: use bcrypt (htpasswd -B), {{SHA}}, {{SSHA}}, \
                 $apr1$ (htpasswd -m) or a plain password"
            ));
        }
        Ok(Hash::Plain(text.to_string()))
    }

    /// Whether `password` matches. bcrypt is slow on purpose: call off the runtime.
    pub(crate) fn verify(&self, password: &str) -> bool {
        match self {
            Hash::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            Hash::Sha(digest) => constant_time_eq(&Sha1::digest(password.as_bytes()), digest),
            Hash::Ssha { digest, salt } => {
                let mut sha = Sha1::new();
                sha.update(password.as_bytes());
                sha.update(salt);
                constant_time_eq(&sha.finalize(), digest)
            }
            Hash::Md5Crypt { magic, salt, whole } => constant_time_eq(
                md5_crypt(password, salt, magic).as_bytes(),
                whole.as_bytes(),
            ),
            Hash::Plain(expected) => constant_time_eq(password.as_bytes(), expected.as_bytes()),
        }
    }

    /// Whether checking costs enough to move off the async runtime.
    pub(crate) fn is_slow(&self) -> bool {
        matches!(self, Hash::Bcrypt(_))
    }
}

/// Parses htpasswd `text` into `users`, later lines winning; errors name the line
/// (`source:line`).
pub(crate) fn parse_into(
    users: &mut HashMap<String, Hash>,
    text: &str,
    source: &str,
) -> Result<(), String> {
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((user, hash)) = line.split_once(':') else {
            return Err(format!("{source}:{}: expected user:hash", number + 1));
        };
        let hash = Hash::parse(hash).map_err(|e| format!("{source}:{}: {e}", number + 1))?;
        users.insert(user.to_string(), hash);
    }
    Ok(())
}

/// The alphabet of crypt's base-64 encoding.
const CRYPT64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// MD5-crypt (Poul-Henning Kamp's; `$apr1$` is Apache's with another magic): the whole
/// `magic salt $ hash` string for `password`.
pub(crate) fn md5_crypt(password: &str, salt: &str, magic: &str) -> String {
    let password = password.as_bytes();
    let salt = salt.as_bytes();
    let alternate = Md5::new()
        .chain_update(password)
        .chain_update(salt)
        .chain_update(password)
        .finalize();
    let mut context = Md5::new()
        .chain_update(password)
        .chain_update(magic.as_bytes())
        .chain_update(salt);
    let mut left = password.len();
    while left > 0 {
        let take = left.min(16);
        context.update(&alternate[..take]);
        left -= take;
    }
    let mut bits = password.len();
    while bits > 0 {
        if bits & 1 == 1 {
            context.update([0u8]);
        } else {
            context.update(&password[..1]);
        }
        bits >>= 1;
    }
    let mut digest = context.finalize();
    for round in 0..1000 {
        let mut next = Md5::new();
        if round & 1 == 1 {
            next.update(password);
        } else {
            next.update(digest);
        }
        if round % 3 != 0 {
            next.update(salt);
        }
        if round % 7 != 0 {
            next.update(password);
        }
        if round & 1 == 1 {
            next.update(digest);
        } else {
            next.update(password);
        }
        digest = next.finalize();
    }
    let mut out = format!("{magic}{}$", String::from_utf8_lossy(salt));
    let mut push = |value: u32, count: usize| {
        let mut value = value;
        for _ in 0..count {
            out.push(char::from(CRYPT64[(value & 0x3f) as usize]));
            value >>= 6;
        }
    };
    for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
        push(
            u32::from(digest[a]) << 16 | u32::from(digest[b]) << 8 | u32::from(digest[c]),
            4,
        );
    }
    push(u32::from(digest[11]), 2);
    out
}
