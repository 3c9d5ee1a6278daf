//! Text encodings (`encoding`): Go's names, decoded with `encoding_rs` (the WHATWG
//! encodings Firefox uses; Go's `ianaindex` names the same ones).

use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, any_value};

/// How a file's bytes become an entry's body.
#[derive(Debug, Clone, Copy)]
pub enum Encoding {
    /// `nop`: the bytes, as a bytes body.
    Nop,
    /// `utf-8`, `utf8-raw`, `ascii`: UTF-8, invalid sequences replaced by U+FFFD.
    Utf8,
    /// `utf-16le`.
    Utf16Le,
    /// `utf-16be`.
    Utf16Be,
    /// Another ASCII-compatible encoding (`big5`, `shift_jis`, `iso-8859-1`, ...).
    Other(&'static encoding_rs::Encoding),
}

impl Encoding {
    /// The encoding Go's `encoding` key names, or why it is refused.
    pub fn parse(name: &str) -> Result<Encoding, String> {
        let lower = name.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "nop" => Encoding::Nop,
            "" | "utf-8" | "utf8" | "utf8-raw" | "ascii" | "us-ascii" => Encoding::Utf8,
            "utf-16le" => Encoding::Utf16Le,
            "utf-16be" => Encoding::Utf16Be,
            _ => match encoding_rs::Encoding::for_label(lower.as_bytes()) {
                Some(e) if e == encoding_rs::UTF_8 => Encoding::Utf8,
                Some(e) if e == encoding_rs::UTF_16LE => Encoding::Utf16Le,
                Some(e) if e == encoding_rs::UTF_16BE => Encoding::Utf16Be,
                Some(e) if e.is_ascii_compatible() => Encoding::Other(e),
                Some(e) => {
                    return Err(format!(
                        "encoding {name:?} ({}) is not supported: its newlines are not single bytes",
                        e.name()
                    ));
                }
                None => return Err(format!("unknown encoding {name:?}")),
            },
        })
    }

    /// Whether a newline is the byte `\n` and other ASCII bytes mean themselves.
    pub fn ascii_compatible(&self) -> bool {
        !matches!(self, Encoding::Utf16Le | Encoding::Utf16Be)
    }

    /// The encoded newline and the width of a code unit (entries split only at offsets
    /// that are a multiple of it).
    pub fn newline(&self) -> (&'static [u8], usize) {
        match self {
            Encoding::Utf16Le => (b"\n\0", 2),
            Encoding::Utf16Be => (b"\0\n", 2),
            _ => (b"\n", 1),
        }
    }

    /// The body of an entry made of `token`.
    pub fn body(&self, token: &[u8]) -> AnyValue {
        let value = match self {
            Encoding::Nop => any_value::Value::BytesValue(token.to_vec()),
            Encoding::Utf8 => {
                any_value::Value::StringValue(String::from_utf8_lossy(token).into_owned())
            }
            Encoding::Utf16Le => decode(encoding_rs::UTF_16LE, token),
            Encoding::Utf16Be => decode(encoding_rs::UTF_16BE, token),
            Encoding::Other(encoding) => decode(encoding, token),
        };
        AnyValue { value: Some(value) }
    }
}

fn decode(encoding: &'static encoding_rs::Encoding, token: &[u8]) -> any_value::Value {
    let (text, _) = encoding.decode_without_bom_handling(token);
    any_value::Value::StringValue(text.into_owned())
}
