//! Expansion of `${...}` references inside configuration values.
//!
//! - `${scheme:opaque}` is replaced by what the scheme's provider retrieves for
//!   `scheme:opaque`; `${VAR}` (no valid scheme before a `:`) means `${<default>:VAR}`,
//!   `${env:VAR}` with the default settings.
//! - A reference that is the whole value keeps the retrieved value's type: a map stays a map,
//!   `${env:PORT}` holding `4317` is an int for an int field and `"4317"` for a string field
//!   (see [`Expanded`]).
//! - A reference embedded in a longer string inserts the retrieved value's text; it must be
//!   a scalar.
//! - Every scalar a reference produced, whole or embedded, is marked as [`Expanded`] with the
//!   reference's scheme, so decode errors name where it came from instead of showing it.
//! - References nest and resolve inside out: `${file:${env:DIR}/x.yaml}`.
//! - Retrieved values are expanded in turn; a loop is an error naming its URIs, and chains
//!   are capped at [`MAX_DEPTH`].
//! - `$$` is a literal `$` (see [`token`]); only values are expanded, never keys.
//!
//! Each distinct URI is retrieved once per resolution.

pub(crate) mod token;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use token::{Reference, Token, tokenize};

use crate::conf::unflatten_value;
use crate::error::{Error, ExpandError};
use crate::path;
use crate::secret::redact_userinfo;
use crate::uri::split_scheme;
use crate::value::{Expanded, Map, Value};

/// The longest chain of references through retrieved values.
pub(crate) const MAX_DEPTH: usize = 100;

/// The most distinct URIs one resolution may refer to.
pub(crate) const MAX_REFERENCES: usize = 10_000;

/// The longest string expansion may build, in bytes.
pub(crate) const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;

/// A retrieved value and its text form.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fetched {
    pub(crate) value: Value,
    pub(crate) text: Option<String>,
}

/// Retrieves what a fully qualified URI (`scheme:opaque`) stands for.
#[async_trait::async_trait]
pub(crate) trait Fetch: Send {
    async fn fetch(&mut self, uri: &str) -> Result<Fetched, ExpandError>;
}

/// Expands the references in a configuration tree.
pub(crate) struct Expander<'f> {
    fetch: &'f mut dyn Fetch,
    default_scheme: &'f str,
    memo: HashMap<String, Fetched>,
}

/// An expansion failure on its way up: where it happened and the outermost reference it
/// happened in.
struct Failure {
    path: String,
    reference: String,
    source: ExpandError,
}

impl Failure {
    fn new(path: &str, source: ExpandError) -> Failure {
        Failure {
            path: path.to_owned(),
            reference: String::new(),
            source,
        }
    }

    /// Records the reference being expanded; outer references overwrite inner ones, so the
    /// error shows the reference as the user wrote it, less the credentials of a URL in it
    /// (`${https://user:password@host/x.yaml}`).
    fn in_reference(mut self, raw: &str) -> Failure {
        self.reference = if raw.contains("://") {
            redact_userinfo(raw).into_owned()
        } else {
            raw.to_owned()
        };
        self
    }

    fn into_error(self) -> Error {
        Error::Expand {
            path: self.path,
            reference: self.reference,
            source: self.source,
        }
    }
}

type Step<'a, T> = Pin<Box<dyn Future<Output = Result<T, Failure>> + Send + 'a>>;

impl<'f> Expander<'f> {
    pub(crate) fn new(fetch: &'f mut dyn Fetch, default_scheme: &'f str) -> Expander<'f> {
        Expander {
            fetch,
            default_scheme,
            memo: HashMap::new(),
        }
    }

    /// Expands every string value below `value`.
    pub(crate) async fn expand(&mut self, value: Value) -> Result<Value, Error> {
        let mut chain = Vec::new();
        self.expand_value(value, String::new(), &mut chain)
            .await
            .map_err(Failure::into_error)
    }

    fn expand_value<'a>(
        &'a mut self,
        value: Value,
        path: String,
        chain: &'a mut Vec<String>,
    ) -> Step<'a, Value> {
        Box::pin(async move {
            Ok(match value {
                Value::String(text) => self.expand_string(text, &path, chain).await?,
                Value::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (index, item) in items.into_iter().enumerate() {
                        let item_path = path::join(&path, &index.to_string());
                        out.push(self.expand_value(item, item_path, chain).await?);
                    }
                    Value::List(out)
                }
                Value::Map(map) => {
                    let mut out = Map::with_capacity(map.len());
                    for (key, item) in map {
                        let item_path = path::join(&path, &key);
                        out.insert(key, self.expand_value(item, item_path, chain).await?);
                    }
                    Value::Map(out)
                }
                other => other,
            })
        })
    }

    async fn expand_string(
        &mut self,
        text: String,
        path: &str,
        chain: &mut Vec<String>,
    ) -> Result<Value, Failure> {
        if !text.contains('$') {
            return Ok(Value::String(text));
        }
        let tokens = tokenize(&text).map_err(|source| Failure::new(path, source))?;
        if let [Token::Ref(reference)] = tokens.as_slice() {
            let (uri, fetched) = self
                .resolve(reference, path, chain)
                .await
                .map_err(|failure| failure.in_reference(&reference.raw))?;
            return Ok(whole_value(fetched, scheme_of(&uri)));
        }
        let mut out = String::with_capacity(text.len());
        // The first reference's scheme: what errors name in place of the text.
        let mut scheme = None;
        for token in &tokens {
            match token {
                Token::Text(literal) => out.push_str(literal),
                Token::Ref(reference) => {
                    let (uri, inserted) = self
                        .embedded(reference, path, chain)
                        .await
                        .map_err(|failure| failure.in_reference(&reference.raw))?;
                    scheme.get_or_insert_with(|| scheme_of(&uri).to_owned());
                    out.push_str(&inserted);
                }
            }
            if out.len() > MAX_EXPANDED_BYTES {
                return Err(Failure::new(
                    path,
                    ExpandError::TooLong {
                        limit: MAX_EXPANDED_BYTES,
                    },
                ));
            }
        }
        Ok(match scheme {
            Some(scheme) => {
                Value::from(Expanded::new(Value::from(out.clone()), out).with_scheme(scheme))
            }
            // Only `$$` escapes: the text is as written.
            None => Value::String(out),
        })
    }

    /// The text a reference inserts into a longer string, and the URI it came from.
    async fn embedded(
        &mut self,
        reference: &Reference,
        path: &str,
        chain: &mut Vec<String>,
    ) -> Result<(String, String), Failure> {
        let (uri, fetched) = self.resolve(reference, path, chain).await?;
        let text = embed(&uri, &fetched).map_err(|source| Failure::new(path, source))?;
        Ok((uri, text))
    }

    /// Resolves a reference: builds its URI (expanding nested references first), retrieves
    /// it and expands what came back.
    fn resolve<'a>(
        &'a mut self,
        reference: &'a Reference,
        path: &'a str,
        chain: &'a mut Vec<String>,
    ) -> Step<'a, (String, Fetched)> {
        Box::pin(async move {
            let mut content = String::new();
            for part in &reference.parts {
                match part {
                    Token::Text(literal) => content.push_str(literal),
                    Token::Ref(inner) => {
                        let (_, inserted) = self.embedded(inner, path, chain).await?;
                        content.push_str(&inserted);
                    }
                }
                if content.len() > MAX_EXPANDED_BYTES {
                    return Err(Failure::new(
                        path,
                        ExpandError::TooLong {
                            limit: MAX_EXPANDED_BYTES,
                        },
                    ));
                }
            }
            let uri = self.qualify(content);
            if let Some(start) = chain.iter().position(|seen| *seen == uri) {
                let mut cycle = shown(&chain[start..]);
                cycle.push(redact_userinfo(&uri).into_owned());
                return Err(Failure::new(path, ExpandError::Cycle { chain: cycle }));
            }
            if chain.len() >= MAX_DEPTH {
                let mut followed = shown(chain);
                followed.push(redact_userinfo(&uri).into_owned());
                return Err(Failure::new(
                    path,
                    ExpandError::TooDeep {
                        limit: MAX_DEPTH,
                        chain: followed,
                    },
                ));
            }
            if let Some(fetched) = self.memo.get(&uri) {
                return Ok((uri, fetched.clone()));
            }
            if self.memo.len() >= MAX_REFERENCES {
                return Err(Failure::new(
                    path,
                    ExpandError::TooMany {
                        limit: MAX_REFERENCES,
                    },
                ));
            }
            let fetched = self
                .fetch
                .fetch(&uri)
                .await
                .map_err(|source| Failure::new(path, source))?;
            chain.push(uri.clone());
            let value = self
                .expand_value(unflatten_value(fetched.value), path.to_owned(), chain)
                .await;
            chain.pop();
            let fetched = Fetched {
                value: value?,
                text: fetched.text,
            };
            self.memo.insert(uri.clone(), fetched.clone());
            Ok((uri, fetched))
        })
    }

    /// `scheme:opaque` stays; anything without a valid scheme gets the default one.
    fn qualify(&self, content: String) -> String {
        if split_scheme(&content).is_some() {
            content
        } else {
            format!("{}:{content}", self.default_scheme)
        }
    }
}

/// What a reference that is the whole value becomes: maps and lists as they are; scalars
/// wrapped with their text (so string fields get the text) and the reference's scheme (so
/// errors do not show them).
fn whole_value(fetched: Fetched, scheme: &str) -> Value {
    let expanded = match fetched.value {
        value @ (Value::Bool(_) | Value::Int(_) | Value::Float(_)) => {
            let text = fetched.text.unwrap_or_else(|| scalar_text(&value));
            Expanded::new(value, text)
        }
        Value::String(text) => Expanded::new(Value::String(text.clone()), text),
        Value::Null => match fetched.text {
            Some(text) => Expanded::new(Value::Null, text),
            None => return Value::Null,
        },
        // Already marked by the reference it came from; structure is configuration.
        other @ (Value::Expanded(_) | Value::List(_) | Value::Map(_)) => return other,
    };
    Value::from(expanded.with_scheme(scheme))
}

/// The scheme of a qualified URI (`env` of `env:HOST`).
fn scheme_of(uri: &str) -> &str {
    split_scheme(uri).map_or("", |(scheme, _)| scheme)
}

/// URIs as errors show them: without credentials.
fn shown(uris: &[String]) -> Vec<String> {
    uris.iter()
        .map(|uri| redact_userinfo(uri).into_owned())
        .collect()
}

/// The text a retrieved value inserts into a longer string: scalars only.
fn embed(uri: &str, fetched: &Fetched) -> Result<String, ExpandError> {
    let not_embeddable = |found| ExpandError::NotEmbeddable {
        uri: redact_userinfo(uri).into_owned(),
        found,
    };
    match &fetched.value {
        Value::String(text) => Ok(text.clone()),
        Value::Expanded(expanded) => Ok(expanded.original().to_owned()),
        value @ (Value::Bool(_) | Value::Int(_) | Value::Float(_)) => {
            Ok(fetched.text.clone().unwrap_or_else(|| scalar_text(value)))
        }
        Value::Null => fetched.text.clone().ok_or_else(|| not_embeddable("null")),
        value @ (Value::List(_) | Value::Map(_)) => Err(not_embeddable(value.kind_with_article())),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
