//! The `lookup` processor: enriches telemetry with attributes from a table keyed by an
//! attribute — MetaFlow/DeepFlow-style auto-tagging by IP, Open-Falcon's host groups.
//!
//! Each item's `key` attribute (say `host.ip`) is looked up in the table, and the row's
//! attributes (`app`, `region`, `owner`...) are added to the same attributes the key was
//! read from: the resource's (`context: resource`) or each span's, log record's or data
//! point's (`context: record`; the key is read from the record, else from its resource).
//! Attributes the item already has are kept unless `override: true`.
//!
//! **Keys**: a table key that parses as a CIDR block (`10.0.0.0/8`, `2001:db8::/32`)
//! matches every address inside it; any other key matches its exact text. An exact key
//! wins, then the block with the longest prefix. Keys are compared as text (an int
//! attribute `42` matches the key `42`); IPv4-mapped IPv6 addresses match IPv4 blocks.
//!
//! **Tables**: CSV with a header row (the `key_column` column is the key, every other
//! column an attribute; empty cells add nothing), or YAML/JSON written either as a map
//! from key to attributes or as a list of rows with a `key_column` field. YAML/JSON
//! scalars keep their types; lists and maps become their JSON text. A later row with the
//! same key replaces an earlier one.
//!
//! ```csv
//! key,app,region
//! 10.0.0.0/8,intranet,cn-north
//! 10.1.2.3,billing,cn-north
//! ```
//!
//! ```yaml
//! 10.0.0.0/8: { app: intranet, region: cn-north }
//! 10.1.2.3: { app: billing, tier: 2 }
//! ```
//!
//! **Reloading**: the table is loaded at start (a failure fails the start: there is no
//! table yet) and re-read every `reload_interval`, from the file or with an HTTP GET, in
//! the processor's own task; when the content changed it is parsed off the runtime's
//! threads and swapped in whole, without stopping the pipeline. A load that fails (the
//! file missing or half-written, a bad row, an HTTP error, a table over `max_bytes`)
//! keeps the table in use, is logged once per content and counted. Polling, rather than
//! file-system events, is what works alike for files, mounted ConfigMaps (symlink swaps)
//! and URLs; a content hash keeps unchanged polls cheap. Tables are parsed by hand for
//! CSV (RFC 4180), with `serde_json` for JSON and `serde-saphyr` (the workspace's YAML
//! parser) for YAML; HTTP uses `reqwest`, as the rest of the workspace.
//!
//! Own metrics (label `processor`): `otelcol_processor_lookup_hits`, `_misses` (items with
//! a key attribute not in the table; items without one are not counted),
//! `_table_loads`, `_table_load_failures`, and the gauge `_table_rows`.
//!
//! ```yaml
//! processors:
//!   lookup:
//!     source:
//!       path: /etc/tributary/hosts.csv
//!       reload_interval: 10s
//!     key: host.ip
//!     context: resource
//!     override: false
//!   lookup/peers:
//!     source:
//!       url: http://cmdb.internal/hosts.json
//!       reload_interval: 1m
//!     key: net.peer.ip
//!     context: record
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `source::path` | | the table's file (this or `url`) |
//! | `source::url` | | the table's `http://` or `https://` URL (this or `path`) |
//! | `source::format` | from the extension | `csv`, `yaml` (`yml`) or `json` |
//! | `source::key_column` | `key` | the CSV key column, or the key field of a list of rows |
//! | `source::reload_interval` | `10s` | how often the source is re-read; `0s`: only at start |
//! | `source::timeout` | `5s` | timeout of one HTTP fetch |
//! | `source::max_bytes` | `67108864` | largest table accepted (64 MiB) |
//! | `key` | required | the attribute whose value is looked up |
//! | `context` | `resource` | `resource` or `record`: where the key is read and the attributes written |
//! | `override` | `false` | replace attributes the item already has |

mod config;
mod factory;
mod processor;
mod source;
mod table;
#[cfg(test)]
mod tests;

pub use config::{Config, Context, Source, TableFormat};
pub use factory::factory;
pub use table::{Table, parse_table};
