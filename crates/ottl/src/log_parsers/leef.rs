//! `ParseLEEF`: IBM Log Event Extended Format 1.0 and 2.0.

use super::{Map, text};
use crate::value::Value;

/// Parses a LEEF message (from its first `LEEF:`) into the `leef.*` map.
pub(super) fn leef(message: &str) -> Result<Map, String> {
    let start = message
        .find("LEEF:")
        .ok_or("invalid LEEF message: 'LEEF:' not found")?;
    let (version_field, rest) = message[start..]
        .split_once('|')
        .ok_or("invalid LEEF message: missing pipe delimiter in header")?;
    let version = version_field.strip_prefix("LEEF:").unwrap_or_default();
    if version != "1.0" && version != "2.0" {
        return Err(format!(
            "unsupported LEEF version: {version} (supported: 1.0, 2.0)"
        ));
    }
    let parts: Vec<&str> = rest
        .splitn(if version == "1.0" { 5 } else { 6 }, '|')
        .collect();
    if parts.len() < 4 {
        return Err(format!(
            "invalid LEEF {version} header: expected at least 4 fields (vendor, product, version, eventID), got {}",
            parts.len()
        ));
    }
    let (delimiter, attributes): (u8, &str) = if version == "1.0" {
        (b'\t', parts.get(4).copied().unwrap_or_default())
    } else {
        match parts.get(4) {
            None => (b'\t', ""),
            // No delimiter field: the fifth field is the first attribute.
            Some(spec) if spec.contains('=') => {
                (b'\t', rest.splitn(5, '|').nth(4).unwrap_or_default())
            }
            Some(spec) => (
                leef_delimiter(spec).map_err(|e| format!("invalid LEEF 2.0 delimiter: {e}"))?,
                parts.get(5).copied().unwrap_or_default(),
            ),
        }
    };
    let mut out = Map::default();
    out.put_str("leef.version", version);
    out.put_str("leef.vendor", parts[0]);
    out.put_str("leef.product.name", parts[1]);
    out.put_str("leef.product.version", parts[2]);
    out.put_str("leef.event.id", parts[3]);
    let mut pairs = Map::default();
    for pair in attributes.as_bytes().split(|b| *b == delimiter) {
        let pair = text(pair.to_vec());
        if let Some((key, value)) = pair.split_once('=')
            && !key.is_empty()
        {
            pairs.put_str(key, value);
        }
    }
    out.put("leef.attributes", Value::Map(pairs.0));
    Ok(out)
}

/// A LEEF 2.0 delimiter: one character, or one byte in `0x` hex; empty means tab.
fn leef_delimiter(spec: &str) -> Result<u8, String> {
    if spec.is_empty() {
        return Ok(b'\t');
    }
    if let Some(hex) = spec.strip_prefix("0x").or_else(|| spec.strip_prefix("0X")) {
        if hex.is_empty() {
            return Err("empty hex value".into());
        }
        let bytes = Some(hex)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(crate::context::decode_hex)
            .ok_or_else(|| format!("invalid hex delimiter {spec:?}"))?;
        return match bytes[..] {
            [byte] => Ok(byte),
            _ => Err(format!(
                "hex delimiter must decode to a single byte, got {} bytes",
                bytes.len()
            )),
        };
    }
    match spec.as_bytes() {
        [byte] => Ok(*byte),
        _ => Err(format!(
            "delimiter must be a single character or 0x-prefixed hex value, got {spec:?}"
        )),
    }
}
