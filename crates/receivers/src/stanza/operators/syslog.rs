//! `syslog_parser`: RFC 5424 and RFC 3164 messages, parsed by the syslog receiver's
//! parsers, become the same attributes the syslog receiver gives its records.

use crate::syslog::{
    FACILITY_KEYWORDS, Location, SEVERITY_NUMBERS, SEVERITY_TEXTS, SyslogMessage, parse_rfc3164,
    parse_rfc5424,
};

use super::super::config::OperatorConfig;
use super::super::entry::Entry;
use super::super::pipeline::Transform;
use super::super::value::{Map, Value};
use super::parser::{Parse, Parser};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Rfc3164,
    Rfc5424,
}

/// Parses one syslog message per entry.
pub(crate) struct SyslogParser {
    protocol: Protocol,
    location: Location,
    octet_counting: bool,
    max_octets: usize,
    trailer: Option<char>,
    allow_skip_pri_header: bool,
    /// The last message's timestamp and severity, applied to the entry after parsing.
    last: Option<(Option<i64>, Option<u8>)>,
}

impl SyslogParser {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let protocol = match config.protocol.as_deref() {
            Some("rfc3164") => Protocol::Rfc3164,
            Some("rfc5424") => Protocol::Rfc5424,
            Some(other) => {
                return Err(format!(
                    "unsupported protocol `{other}`; use rfc3164 or rfc5424"
                ));
            }
            None => return Err("missing required key `protocol`".into()),
        };
        let location = Location::named(config.location.as_deref().unwrap_or("UTC"))
            .map_err(|e| format!("location: {e}"))?;
        let octet_counting = config.enable_octet_counting.unwrap_or(false);
        let trailer = match config.non_transparent_framing_trailer.as_deref() {
            None => None,
            Some("LF") => Some('\n'),
            Some("NUL") => Some('\0'),
            Some(other) => {
                return Err(format!(
                    "invalid non_transparent_framing_trailer `{other}`; use LF or NUL"
                ));
            }
        };
        if protocol == Protocol::Rfc3164 && (octet_counting || trailer.is_some()) {
            return Err(
                "enable_octet_counting and non_transparent_framing_trailer apply to rfc5424 only"
                    .into(),
            );
        }
        if octet_counting && trailer.is_some() {
            return Err(
                "only one of enable_octet_counting and non_transparent_framing_trailer can be set"
                    .into(),
            );
        }
        Ok(SyslogParser {
            protocol,
            location,
            octet_counting,
            max_octets: config.max_octets.unwrap_or(8192),
            trailer,
            allow_skip_pri_header: config.allow_skip_pri_header.unwrap_or(false),
            last: None,
        })
    }

    fn message(&self, text: &str) -> Result<SyslogMessage, String> {
        let mut text = text;
        if self.octet_counting {
            let (length, rest) = text
                .split_once(' ')
                .ok_or("expected an octet count before the message")?;
            let length: usize = length
                .parse()
                .map_err(|_| format!("invalid octet count `{length}`"))?;
            if length > self.max_octets {
                return Err(format!(
                    "message length {length} is over max_octets {}",
                    self.max_octets
                ));
            }
            if length != rest.len() {
                return Err(format!(
                    "the octet count {length} does not match the message length {}",
                    rest.len()
                ));
            }
            text = rest;
        }
        if let Some(trailer) = self.trailer {
            text = text.strip_suffix(trailer).unwrap_or(text);
        }
        let parsed = match self.protocol {
            Protocol::Rfc5424 => parse_rfc5424(text, self.allow_skip_pri_header),
            Protocol::Rfc3164 => parse_rfc3164(text, self.allow_skip_pri_header, &self.location),
        };
        parsed.map_err(|e| e.to_string())
    }
}

/// The attributes of a parsed message, as the syslog receiver writes them.
pub fn syslog_attributes(message: SyslogMessage) -> Map {
    let mut map = Map::new();
    let facility = message.facility();
    let text_fields = [
        ("appname", message.appname),
        ("hostname", message.hostname),
        ("message", message.message),
        ("msg_id", message.msg_id),
        ("proc_id", message.proc_id),
    ];
    for (key, value) in text_fields {
        if let Some(value) = value {
            map.insert(key.into(), Value::String(value));
        }
    }
    if let (Some(priority), Some(facility)) = (message.priority, facility) {
        map.insert("priority".into(), Value::Int(i64::from(priority)));
        map.insert("facility".into(), Value::Int(i64::from(facility)));
        map.insert(
            "facility_text".into(),
            FACILITY_KEYWORDS[usize::from(facility)].into(),
        );
    }
    if let Some(version) = message.version {
        map.insert("version".into(), Value::Int(i64::from(version)));
    }
    if let Some(elements) = message.structured_data {
        let mut data = Map::new();
        for element in elements {
            let params: Map = element
                .params
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            data.insert(element.id, Value::Map(params));
        }
        map.insert("structured_data".into(), Value::Map(data));
    }
    map
}

impl Parse for SyslogParser {
    fn parse(&mut self, value: &Value) -> Result<Value, String> {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            _ => return Err("type is not a string; cannot parse it as syslog".into()),
        };
        let message = self.message(&text)?;
        self.last = Some((message.timestamp, message.severity()));
        Ok(Value::Map(syslog_attributes(message)))
    }
}

/// A `syslog_parser`: the shared parser steps, then the message's time and severity.
pub(crate) struct Syslog {
    pub(crate) parser: Parser<SyslogParser>,
}

impl Transform for Syslog {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        self.parser.transform_with(
            entry,
            |syslog, value| syslog.parse(value),
            |syslog, entry| {
                let Some((timestamp, severity)) = syslog.last.take() else {
                    return;
                };
                if let Some(timestamp) = timestamp {
                    entry.timestamp = timestamp;
                }
                if let Some(severity) = severity {
                    let severity = usize::from(severity);
                    entry.severity = SEVERITY_NUMBERS[severity] as i32;
                    entry.severity_text = SEVERITY_TEXTS[severity].to_string();
                }
            },
        )
    }
}
