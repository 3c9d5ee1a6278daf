//! Attribute actions (Go's `internal/coreinternal/attraction`), shared by the `attributes`
//! and `resource` processors: `insert`, `update`, `upsert`, `delete`, `hash`, `extract`
//! and `convert`, applied in order to one attribute list.
//!
//! | key | used by | meaning |
//! |---|---|---|
//! | `key` | all (`delete`/`hash`: `key` or `pattern`) | the attribute acted on |
//! | `action` | all | `insert` (only if absent), `update` (only if present), `upsert` (either), `delete`, `hash` (SHA-256, hex), `extract`, `convert`; case-insensitive as in Go |
//! | `value` | insert, update, upsert | the value to write (string, number, bool, list or map) |
//! | `from_attribute` | insert, update, upsert | copy the value of this attribute of the same item |
//! | `from_context` | insert, update, upsert | the request's client metadata: `metadata.<header>` (or a bare header name); several values are joined with `;` |
//! | `default_value` | insert, update, upsert | written when `from_attribute` / `from_context` finds nothing |
//! | `pattern` | delete, hash, extract | delete/hash: every key matching it; extract: named groups `(?P<name>...)` read from the value of `key`, each written to the attribute `name` |
//! | `converted_type` | convert | `int`, `double` or `string`; a value that does not convert stays as it is |
//!
//! Exactly one of `value`, `from_attribute` and `from_context` is given to the three
//! writing actions. `from_context: auth.<...>` and `client.address` are refused: our
//! pipeline carries the client's metadata with the data, but not its authentication data
//! nor its address. Hashing follows Go: a string's bytes, an int or double's 8
//! little-endian bytes, a bool as one byte (1 or 0), written back as lower-case hex; lists,
//! maps, bytes and empty values become the empty string.

mod action;
mod config;

#[cfg(test)]
mod tests;

pub use action::Actions;
pub use config::ActionConfig;
