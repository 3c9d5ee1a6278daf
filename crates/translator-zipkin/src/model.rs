//! Zipkin's v2 span model, the form every wire format is read into and written from.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::DecodeError;

/// One Zipkin v2 span, whatever format it came in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// The trace ID; a 64-bit ID has its upper eight bytes zero.
    pub trace_id: [u8; 16],
    /// The span ID.
    pub id: [u8; 8],
    /// The parent span ID; `None` for a root span.
    pub parent_id: Option<[u8; 8]>,
    /// `CLIENT`, `SERVER`, `PRODUCER` or `CONSUMER`; `None` when absent or unknown.
    pub kind: Option<Kind>,
    /// The operation name.
    pub name: String,
    /// Start, in microseconds since the Unix epoch; `None` when absent.
    pub timestamp: Option<u64>,
    /// Duration in microseconds (0: absent).
    pub duration: u64,
    /// The service that recorded the span.
    pub local_endpoint: Option<Endpoint>,
    /// The other side of an RPC or message.
    pub remote_endpoint: Option<Endpoint>,
    /// Timestamped events.
    pub annotations: Vec<Annotation>,
    /// String tags.
    pub tags: BTreeMap<String, String>,
    /// Forces sampling.
    pub debug: bool,
    /// A server span sharing its ID with the client's (B3 single-host RPC).
    pub shared: bool,
}

/// A span kind as Zipkin names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `CLIENT`.
    Client,
    /// `SERVER`.
    Server,
    /// `PRODUCER`.
    Producer,
    /// `CONSUMER`.
    Consumer,
}

impl Kind {
    /// The JSON name (`CLIENT`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Client => "CLIENT",
            Kind::Server => "SERVER",
            Kind::Producer => "PRODUCER",
            Kind::Consumer => "CONSUMER",
        }
    }

    /// The kind a JSON name denotes; `None` for anything else, as Zipkin ignores it.
    pub fn from_name(name: &str) -> Option<Kind> {
        match name {
            "CLIENT" => Some(Kind::Client),
            "SERVER" => Some(Kind::Server),
            "PRODUCER" => Some(Kind::Producer),
            "CONSUMER" => Some(Kind::Consumer),
            _ => None,
        }
    }
}

/// A network endpoint: a service name and where it listens.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// The service's name (lower-case by Zipkin's convention; kept as sent).
    pub service_name: String,
    /// IPv4 address.
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address.
    pub ipv6: Option<Ipv6Addr>,
    /// Port (0: absent).
    pub port: u16,
}

impl Endpoint {
    /// Whether nothing is known of this endpoint.
    pub fn is_empty(&self) -> bool {
        self.service_name.is_empty() && self.ipv4.is_none() && self.ipv6.is_none() && self.port == 0
    }
}

/// A timestamped event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotation {
    /// Microseconds since the Unix epoch.
    pub timestamp: u64,
    /// What happened.
    pub value: String,
}

/// Reads a trace ID of 1 to 32 hex digits (shorter IDs are left-padded with zeros, as
/// Zipkin reads them).
pub(crate) fn trace_id_from_hex(text: &str) -> Result<[u8; 16], DecodeError> {
    let digits = hex_digits(text, "traceId", 32)?;
    // ASCII from here on, so the split falls between characters.
    let (high, low) = digits.split_at(digits.len().saturating_sub(16));
    let mut id = [0; 16];
    if !high.is_empty() {
        id[..8].copy_from_slice(&hex_u64(high, "traceId", text)?.to_be_bytes());
    }
    id[8..].copy_from_slice(&hex_u64(low, "traceId", text)?.to_be_bytes());
    Ok(id)
}

/// Reads a span ID of 1 to 16 hex digits.
pub(crate) fn span_id_from_hex(text: &str, field: &str) -> Result<[u8; 8], DecodeError> {
    Ok(hex_u64(hex_digits(text, field, 16)?, field, text)?.to_be_bytes())
}

/// `text`, when it is 1 to `max` hex digits and nothing else.
fn hex_digits<'a>(text: &'a str, field: &str, max: usize) -> Result<&'a str, DecodeError> {
    if text.is_empty() || text.len() > max {
        return Err(DecodeError::new(format!(
            "{field} {text:?} must be 1 to {max} hex digits"
        )));
    }
    // from_str_radix accepts a leading sign; an ID has none.
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(DecodeError::new(format!(
            "{field} {text:?} is not hexadecimal"
        )));
    }
    Ok(text)
}

/// Reads up to 16 hex digits (checked by [`hex_digits`]) of the ID `whole`.
fn hex_u64(digits: &str, field: &str, whole: &str) -> Result<u64, DecodeError> {
    u64::from_str_radix(digits, 16).map_err(|e| DecodeError::new(format!("{field} {whole:?}: {e}")))
}

/// Lower-case hex of `bytes`.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// The hex form of a trace ID as Zipkin writes it: 16 digits when the upper half is zero,
/// else 32.
pub(crate) fn trace_id_to_hex(id: &[u8; 16]) -> String {
    if id[..8] == [0; 8] {
        to_hex(&id[8..])
    } else {
        to_hex(id)
    }
}

/// Checks the IDs every span needs: OTLP has no place for an all-zero ID.
pub(crate) fn check_ids(span: &Span) -> Result<(), DecodeError> {
    if span.trace_id == [0; 16] {
        return Err(DecodeError::new("traceId is zero"));
    }
    if span.id == [0; 8] {
        return Err(DecodeError::new("span id is zero"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_like_zipkin_reads_them() {
        let id = trace_id_from_hex("463ac35c9f6413ad48485a3953bb6124").unwrap();
        assert_eq!(to_hex(&id), "463ac35c9f6413ad48485a3953bb6124");
        let short = trace_id_from_hex("48485a3953bb6124").unwrap();
        assert_eq!(trace_id_to_hex(&short), "48485a3953bb6124");
        assert_eq!(short[..8], [0; 8]);
        // Left-padded, as Zipkin does for IDs written without leading zeros.
        assert_eq!(
            trace_id_to_hex(&trace_id_from_hex("abc").unwrap()),
            "0000000000000abc"
        );
        // The last: 17 bytes whose 16-byte tail starts inside a two-byte character (a
        // fuzzer's find: the split panicked before the digits were checked).
        for bad in [
            "",
            "xyz",
            "+1",
            "-1",
            "463ac35c9f6413ad48485a3953bb61245",
            "ϛ0123456789abcde",
        ] {
            assert!(trace_id_from_hex(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            span_id_from_hex("00000000000004d2", "id").unwrap(),
            1234u64.to_be_bytes()
        );
        assert!(span_id_from_hex("00000000000004d2a", "id").is_err());
    }
}
