//! Configuration for Tributary: a tree resolved from URIs, with `${...}` expansion, strict
//! typed decoding and watching, following the OpenTelemetry Collector's `confmap`.
//!
//! # Resolving
//!
//! A [`Resolver`] takes configuration URIs and `--set` arguments, retrieves each URI from
//! the [`Provider`] of its scheme, merges them in order, expands references and runs the
//! [`Converter`]s:
//!
//! ```
//! use std::time::Duration;
//!
//! use serde::Deserialize;
//! use tributary_confmap::{Resolver, ResolverSettings};
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct OtlpExporter {
//!     endpoint: String,
//!     #[serde(with = "tributary_confmap::duration")]
//!     timeout: Duration,
//!     #[serde(default)]
//!     compression: Option<String>,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let base = dir.path().join("base.yaml");
//! std::fs::write(
//!     &base,
//!     "exporters:\n  otlp:\n    endpoint: ${env:DOC_OTLP_ENDPOINT:-localhost:4317}\n    timeout: 5s\n",
//! )?;
//!
//! let mut settings = ResolverSettings::new([
//!     base.display().to_string(),                                // a bare path is a file
//!     "yaml:exporters::otlp::compression: gzip".to_owned(),      // inline YAML
//! ]);
//! settings.set.push("exporters.otlp.timeout=30s".to_owned());   // --set, applied last
//! let resolver = Resolver::new(settings)?;
//!
//! let conf = resolver.resolve().await?;
//! let otlp: OtlpExporter = conf.decode_at("exporters::otlp")?;
//! assert_eq!(otlp.endpoint, "localhost:4317");
//! assert_eq!(otlp.timeout, Duration::from_secs(30));
//! assert_eq!(otlp.compression.as_deref(), Some("gzip"));
//!
//! // Errors name the full key path.
//! std::fs::write(&base, "exporters:\n  otlp:\n    endpoint: x\n    timout: 5s\n")?;
//! let error = resolver.resolve().await?.decode_at::<OtlpExporter>("exporters::otlp").unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "exporters::otlp::timout: unknown key; valid keys: `endpoint`, `timeout`, `compression`"
//! );
//!
//! resolver.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Merging: maps merge key by key, recursively; lists and scalars from a later source
//! replace earlier ones (so does null). `--set a.b=c` is the URI `yaml:a::b: c`, applied
//! after all others. A URI without a scheme (or with a one-letter one, a Windows drive) is
//! a file path.
//!
//! # Expansion
//!
//! After merging, string values may refer to other sources:
//!
//! | written | means |
//! |---|---|
//! | `${env:HOST}` | what the `env` provider retrieves for `env:HOST` |
//! | `${HOST}` | `${env:HOST}` (the [default scheme](ResolverSettings::default_scheme)) |
//! | `${env:HOST:-localhost}` | `HOST`, or `localhost` when it is unset |
//! | `${file:${env:DIR}/x.yaml}` | nested, resolved inside out |
//! | `$$` | a literal `$`: `$${env:HOST}` is the text `${env:HOST}` |
//! | `$HOST` | itself; only the braced form expands |
//!
//! A reference that is the whole value keeps the type of what it retrieves (a map, a list,
//! an int); a string field still receives the original text, so an env variable holding
//! `0123` is 83 for an int field and `"0123"` for a string field (see [`Expanded`]). A
//! reference inside a longer string inserts text and must retrieve a scalar. Retrieved
//! values are expanded in turn, loops are errors naming their URIs, and only values (never
//! keys) are expanded. The tokenizer is exact: unlike the Go Collector,
//! `$${A} ${env:B}` expands `${env:B}`.
//!
//! # Providers
//!
//! [`default_providers`] serves `file` ([`FileProvider`], watched), `env`
//! ([`EnvProvider`]), `yaml` ([`YamlProvider`]), and `http`/`https` ([`HttpProvider`],
//! optionally polled). Implement [`Provider`] for other sources.
//!
//! # Watching
//!
//! [`Resolver::watch`] returns a [`Changes`] receiver. When any watched source changes,
//! it yields a [`ChangeEvent`]; resolve again to get the new configuration.
//!
//! ```no_run
//! # async fn run(resolver: tributary_confmap::Resolver) -> Result<(), tributary_confmap::Error> {
//! let mut changes = resolver.watch();
//! while let Some(event) = changes.recv().await {
//!     println!("changed: {:?}", event.uris());
//!     let conf = resolver.resolve().await?;
//!     // ... build and swap in the new pipeline ...
//! #   drop(conf);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Decoding
//!
//! [`Conf::decode`], [`Conf::decode_at`] and [`Value::decode`] decode into serde types,
//! strictly: no weak typing, unknown keys rejected by `#[serde(deny_unknown_fields)]`, and
//! every [`DecodeError`] names the full key path (`a::b::0::c`). A null struct field keeps
//! its default. [`duration`] reads Go-style durations.
//!
//! ## Every problem at once
//!
//! Like the Go Collector's mapstructure ("3 error(s) decoding: ..."), a decoding reports
//! every problem it finds, not the first: every unknown key at every depth, every value
//! that does not decode (a bad value never hides a bad sibling), and every missing required
//! key, each with its full path, in document order. [`DecodeError::problems`] lists them;
//! the error displays one per line.
//!
//! serde's derive stops at the first error and there is no placeholder the decoder could
//! hand it instead of a bad value of any type, so the decoder retries: after a failure it
//! records the problem and decodes again with the offending entry left out (as if the user
//! had not written it), once per problem. An error that only leaving an entry out caused
//! (its required key now missing, a list now too short) is not reported. This is sound: an
//! entry is left out only after a problem was recorded, so a document without problems
//! decodes exactly as before, and one with any problem is refused with all of them. One
//! limit: a problem of a whole value (a custom `Deserialize` refusing a combination, a tuple
//! of the wrong length) is not reported when that value also holds a bad entry, since
//! leaving the entry out may be its cause. Since each problem costs a pass, a decoding stops
//! looking after 100 problems and says so in a last one.
//!
//! ```
//! use serde::Deserialize;
//! use tributary_confmap::Conf;
//!
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! struct Exporter {
//!     endpoint: String,
//!     compression: String,
//!     keepalive: Keepalive,
//! }
//!
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! struct Keepalive {
//!     permit_without_stream: bool,
//! }
//!
//! let conf = Conf::from_yaml(
//!     "compression: [on]\nca_file: x.pem\nkeepalive: {permit_without_stream: 1, tme: 2s}\n",
//! )?;
//! let error = conf.decode::<Exporter>().unwrap_err();
//! assert_eq!(error.path(), "compression");
//! assert_eq!(
//!     error.problems().map(|(path, _)| path).collect::<Vec<_>>(),
//!     [
//!         "compression",
//!         "ca_file",
//!         "keepalive::permit_without_stream",
//!         "keepalive::tme",
//!     ]
//! );
//! assert_eq!(error.to_string().lines().count(), 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Squashing
//!
//! A struct field whose serde name ends in `,squash` is *squashed*: its keys sit in its
//! parent's map, as Go's mapstructure embeds a struct tagged `,squash`. Settings that many
//! components share (the exporter helper's `timeout`, `retry_on_failure` and
//! `sending_queue`) are written once as a struct and squashed into each component's
//! config. Unlike `#[serde(flatten)]`, which buffers what it does not know and cannot be
//! combined with `deny_unknown_fields`, squashing keeps the rules of this decoder:
//!
//! - a key that neither the parent nor any squashed part accepts is an error naming its
//!   path, with the keys of every part;
//! - errors inside a squashed part name their real path (`exporters::otlp::timeout`), and
//!   its [`SecretString`]s and [`SecretUrl`]s are recorded where they sit;
//! - squashed parts may squash in turn, and a struct may squash several; a key goes to the
//!   first part that declares it, the parent's own fields first;
//! - a squashed map (`BTreeMap<String, Value>`) takes every key left, like `,remain`.
//!
//! A squashed field is always decoded, from the keys present (maybe none), so a key it
//! leaves out takes the default of the *squashed type*, not of the parent's `Default`. A
//! parent whose defaults differ decodes the part over them (`deserialize_with`), as the
//! exporter helper's `ExporterHelperConfig::deserialize_over` allows. The field name before
//! `,squash` only keeps the names of several squashed fields apart; no key is called so.
//! A struct with squashed fields rejects unknown keys, with or without
//! `deny_unknown_fields`.
//!
//! ```
//! use std::time::Duration;
//!
//! use serde::Deserialize;
//! use tributary_confmap::{Conf, SecretString};
//!
//! /// Shared by many exporters; written once.
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! struct Delivery {
//!     #[serde(with = "tributary_confmap::duration")]
//!     timeout: Duration,
//!     api_key: SecretString,
//! }
//!
//! #[derive(Debug, Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Exporter {
//!     endpoint: String,
//!     #[serde(rename = "delivery,squash")]
//!     delivery: Delivery,
//! }
//!
//! let conf = Conf::from_yaml("exporters:\n  otlp:\n    endpoint: h:4317\n    timeout: 5s\n    api_key: k3y\n")?;
//! let section = conf.get("exporters::otlp").unwrap();
//! let (exporter, secrets) = section.decode_with_secrets::<Exporter>()?;
//! assert_eq!(exporter.endpoint, "h:4317");
//! assert_eq!(exporter.delivery.timeout, Duration::from_secs(5));
//! assert_eq!(exporter.delivery.api_key.expose(), "k3y");
//! assert_eq!(secrets.iter().map(|(path, _)| path).collect::<Vec<_>>(), ["api_key"]);
//!
//! let typo = Conf::from_yaml("exporters:\n  otlp:\n    endpoint: h:4317\n    timout: 5s\n")?;
//! let error = typo.decode_at::<Exporter>("exporters::otlp").unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "exporters::otlp::timout: unknown key; valid keys: `endpoint`, `timeout`, `api_key`"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Null means present
//!
//! A null value (`key:` with nothing after it) normally leaves the field at its default. A
//! field whose serde name ends in `,present` (`#[serde(rename = "batch,present")]`) gets the
//! null instead, under its plain key: the Go Collector's `configoptional` keys, where
//! `sending_queue: { batch: }` turns batching on with its defaults, decode it with a
//! `deserialize_with` that makes null the default value.
//!
//! # Secrets
//!
//! Config types hold passwords, tokens and header values as [`SecretString`] and URLs that
//! may carry credentials as [`SecretUrl`]: their `Debug` and `Display` show `[REDACTED]`,
//! and [`Value::decode_with_secrets`] reports where they sit so a printed configuration
//! hides them. Decode errors show neither a secret nor the text of a value that a `${...}`
//! reference produced (it may be a secret in the wrong field); they name the reference's
//! scheme instead. See [`secret`].
//!
//! # YAML
//!
//! Documents are parsed with `serde-saphyr` (maintained, pure Rust, no `unsafe`) into this
//! crate's own tree. Errors carry line and column; documents over [`MAX_DOCUMENT_BYTES`] or
//! that expand through aliases beyond a node budget are refused.

#![warn(missing_docs)]

mod conf;
mod converter;
mod decode;
pub mod duration;
mod error;
mod error_chain;
mod expand;
mod path;
mod provider;
mod resolver;
pub mod secret;
mod uri;
mod value;
mod watch;
mod yaml;

pub use conf::Conf;
pub use converter::Converter;
pub use decode::DecodeError;
pub use error::{Error, ExpandError, ProviderError};
pub use error_chain::error_chain;
pub use path::KEY_DELIMITER;
pub use provider::{
    EnvProvider, FileProvider, FileProviderSettings, HttpProvider, HttpProviderSettings, Provider,
    Retrieved, YamlProvider, default_providers,
};
pub use resolver::{Resolver, ResolverSettings};
pub use secret::{
    REDACTED, Scrubber, SecretKind, SecretPaths, SecretString, SecretUrl, redact_userinfo,
};
pub use uri::is_valid_scheme;
pub use value::{Expanded, Map, Value};
pub use watch::{ChangeEvent, Changes, Watcher};
pub use yaml::{MAX_DOCUMENT_BYTES, YamlError};
