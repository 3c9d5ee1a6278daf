//! The `syslog` receiver: RFC 5424 and RFC 3164 messages over TCP (RFC 6587 octet
//! counting or non-transparent framing, optionally TLS) or UDP, as log records — the Go
//! contrib `syslogreceiver`'s configuration and records.
//!
//! ```yaml
//! receivers:
//!   syslog/tcp:
//!     protocol: rfc5424
//!     enable_octet_counting: true
//!     tcp:
//!       listen_address: "0.0.0.0:54526"
//!       add_attributes: true
//!   syslog/udp:
//!     protocol: rfc3164
//!     location: Europe/Berlin
//!     udp:
//!       listen_address: "0.0.0.0:54527"
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `protocol` | required | `rfc5424` or `rfc3164` |
//! | `location` | `UTC` | IANA time zone of RFC 3164 timestamps (the system's database) |
//! | `enable_octet_counting` | `false` | RFC 6587 octet counting on TCP (`rfc5424` only) |
//! | `non_transparent_framing_trailer` | unset | `LF` or `NUL`: the byte ending each TCP message (`rfc5424` only); unset is `LF` |
//! | `allow_skip_pri_header` | `false` | accept messages without `<PRI>` (no severity, `priority`, `facility` then); not with octet counting |
//! | `max_octets` | `8192` | longest octet-counted message; a longer one is kept unparsed |
//! | `attributes`, `resource` | `{}` | literal attributes for every record and its resource |
//! | `tcp` / `udp` | one required | where and how to listen, below |
//! | `retry_on_failure` | `enabled: false`, `1s`, `30s`, `5m` | retry retryable refusals of the pipeline (`initial_interval`, `max_interval`, `max_elapsed_time`); the connection is not read meanwhile |
//! | `operators` | `[]` | refused unless empty: stanza operators are not supported yet |
//! | `storage` | unset | refused: syslog keeps no state to persist |
//!
//! | `tcp` key | default | meaning |
//! |---|---|---|
//! | `listen_address` | required | `host:port` |
//! | `max_log_size` | `1MiB` | longest frame (bytes or `64KiB`-style sizes; at least 64 KiB) |
//! | `tls` | unset | serve TLS (the Go Collector's `configtls` server keys) |
//! | `add_attributes` | `false` | `net.transport`, `net.peer.{ip,port,name}`, `net.host.{ip,port,name}` |
//! | `one_log_per_packet` | `false` | the whole connection is one message |
//! | `encoding` | `utf-8` | only UTF-8 (invalid bytes become U+FFFD) |
//! | `preserve_leading_whitespaces`, `preserve_trailing_whitespaces` | `false` | keep whitespace around messages |
//! | `multiline` | unset | refused when set: framing is by octet count or trailer |
//!
//! `udp` has `listen_address`, `one_log_per_packet` (otherwise a datagram is split at
//! newlines, as in Go), `add_attributes`, `encoding`, the `preserve_*` keys and
//! `multiline` as above; `async` is refused (one task reads the socket).
//!
//! # Records
//!
//! As Go's stanza syslog parser makes them: the body is the frame as received, trimmed
//! (with an octet count, its prefix included, as in Go); the attributes `appname`,
//! `hostname`, `message`, `msg_id`, `proc_id` (strings, absent when NILVALUE),
//! `priority`, `facility`, `facility_text`, `version` (RFC 5424) and `structured_data` (a
//! map of element ID to a map of parameters); the severity from the PRI (`emerg` →
//! FATAL ... `debug` → DEBUG, texts `emerg` .. `debug`); the timestamp; the observed time
//! of arrival. A message that does not parse is forwarded with its body and nothing
//! parsed (Go's default `on_error: send`) and counted in
//! `otelcol_receiver_failed_log_records`.
//!
//! Where we differ from Go on purpose: a byte-order mark is removed from `message` (it
//! marks the encoding; the body keeps it); with `non_transparent_framing_trailer: NUL`,
//! TCP messages are split at NUL (Go splits at newlines whatever the trailer, and keeps
//! only the last of several NUL-framed messages); under octet counting a frame starting
//! with `<` is read as newline-terminated (RFC 6587 §3.4.2), and a stream that is neither
//! is closed, counted as one failure; the octet count delimits the message exactly, so a
//! sender's trailing newline inside the count (rsyslog's `RSYSLOG_SyslogProtocol23Format`)
//! parses; a NILVALUE timestamp leaves the time unset; empty messages make no record;
//! `tcp` and `udp` together are refused (Go silently ignores `udp`); connections are
//! limited to 4096 at once.
//!
//! # Bounds
//!
//! A TCP connection buffers at most `max_log_size` (plus an octet count): a longer
//! non-transparent frame is cut there as Go cuts it, a longer octet count closes the
//! connection. A datagram is at most 64 KiB. Each read's complete frames, and each
//! datagram's messages, go to the pipeline as one batch before the next read, so a slow
//! pipeline slows the senders instead of growing memory.
//!
//! # Dependencies
//!
//! `jiff` reads the system's IANA time zone database for `location` (as Go's
//! `time.LoadLocation`), with daylight saving rules; `dns-lookup` gives `getnameinfo` for
//! the `net.*.name` attributes without `unsafe` here. The parsers are our own, following
//! the RFCs and go-syslog's strictness.

mod config;
mod factory;
mod framing;
mod message;
mod peer;
mod receiver;
mod record;
mod rfc3164;
mod rfc5424;
#[cfg(test)]
mod tests;

#[cfg(feature = "stanza")]
pub(crate) use config::byte_size;
pub use config::{
    Config, DEFAULT_MAX_LOG_SIZE, DEFAULT_MAX_OCTETS, MIN_MAX_LOG_SIZE, Multiline, Protocol,
    RetryOnFailure, TcpConfig, UdpConfig,
};
pub use factory::factory;
pub use framing::{Frame, Framing, FramingError, next_frame};
pub use message::{ParseError, SdElement, SyslogMessage};
#[cfg(feature = "stanza")]
pub(crate) use record::{FACILITY_KEYWORDS, SEVERITY_NUMBERS, SEVERITY_TEXTS};
pub use rfc3164::{Location, parse_rfc3164};
pub use rfc5424::parse_rfc5424;
