//! Frames to log records, as Go's stanza syslog parser makes them: the body is the frame
//! as received, the parsed fields become attributes, the PRI the severity.

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::LogsBuilder;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, KeyValue, KeyValueList, any_value,
};
use tributary_pipeline_core::pdata::proto::logs::v1::SeverityNumber;

use super::config::{Config, Protocol};
use super::message::{ParseError, SdElement, SyslogMessage};
use super::rfc3164::{Location, parse_rfc3164};
use super::rfc5424::parse_rfc5424;

/// Stanza's severity for each syslog severity (0 emergency .. 7 debug).
pub(crate) const SEVERITY_NUMBERS: [SeverityNumber; 8] = [
    SeverityNumber::Fatal,
    SeverityNumber::Error3,
    SeverityNumber::Error2,
    SeverityNumber::Error,
    SeverityNumber::Warn,
    SeverityNumber::Info2,
    SeverityNumber::Info,
    SeverityNumber::Debug,
];

/// Stanza's severity text for each syslog severity.
pub(crate) const SEVERITY_TEXTS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// RFC 5427 facility keywords (`facility_text`), as go-syslog names them.
pub(crate) const FACILITY_KEYWORDS: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "security", "console", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// How whitespace around each message is trimmed (stanza's `preserve_*_whitespaces`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Trim {
    pub(super) keep_leading: bool,
    pub(super) keep_trailing: bool,
}

impl Trim {
    fn apply(self, text: &str) -> &str {
        let text = if self.keep_leading {
            text
        } else {
            text.trim_start()
        };
        if self.keep_trailing {
            text
        } else {
            text.trim_end()
        }
    }
}

/// What a frame carries, besides its bytes: where the message starts in it and the octet
/// count declared for it.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct FrameInfo {
    pub(super) message_start: usize,
    pub(super) declared_length: Option<usize>,
}

/// Turns frames into records: the parser settings and the attributes every record gets.
pub(super) struct RecordMaker {
    protocol: Protocol,
    location: Location,
    allow_skip_pri_header: bool,
    max_octets: usize,
    attributes: Vec<KeyValue>,
    resource: Vec<KeyValue>,
}

/// The outcome of [`RecordMaker::add`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Added {
    /// A parsed record.
    Parsed,
    /// A record with the raw body only: the frame could not be parsed (Go's default
    /// `on_error: send` forwards it so).
    Unparsed,
    /// Nothing: the frame was empty once trimmed.
    Empty,
}

impl RecordMaker {
    /// For a validated `config`.
    pub(super) fn new(config: &Config) -> Result<Self, String> {
        let pairs = |map: &std::collections::BTreeMap<String, String>| {
            map.iter()
                .map(|(key, value)| key_value(key.as_str(), value.as_str()))
                .collect()
        };
        Ok(RecordMaker {
            protocol: config.protocol().map_err(|e| e.to_string())?,
            location: config.location().map_err(|e| e.to_string())?,
            allow_skip_pri_header: config.allow_skip_pri_header,
            max_octets: config.max_octets,
            attributes: pairs(&config.attributes),
            resource: pairs(&config.resource),
        })
    }

    /// A batch to add records to, in the configured resource.
    pub(super) fn batch(&self) -> LogsBuilder {
        let mut batch = LogsBuilder::new();
        batch.resource(self.resource.clone()).scope("", "");
        batch
    }

    /// Parses `text` as one message.
    pub(super) fn parse(&self, text: &str) -> Result<SyslogMessage, ParseError> {
        match self.protocol {
            Protocol::Rfc5424 => parse_rfc5424(text, self.allow_skip_pri_header),
            Protocol::Rfc3164 => parse_rfc3164(text, self.allow_skip_pri_header, &self.location),
        }
    }

    /// Adds the record of one frame to `batch`: `frame` is the frame's bytes (an octet
    /// count included), `net` the connection's `net.*` attributes, `now` the observed
    /// time.
    pub(super) fn add(
        &self,
        batch: &mut LogsBuilder,
        frame: &[u8],
        info: FrameInfo,
        trim: Trim,
        net: &[KeyValue],
        now: u64,
    ) -> Added {
        let body = String::from_utf8_lossy(frame);
        let body = trim.apply(&body);
        if body.is_empty() {
            return Added::Empty;
        }
        let message = String::from_utf8_lossy(&frame[info.message_start.min(frame.len())..]);
        let too_long = info
            .declared_length
            .is_some_and(|length| length > self.max_octets);
        let parsed = if too_long {
            None
        } else {
            self.parse(trim.apply(&message)).ok()
        };
        let mut record = batch.record(body);
        record
            .observed_time(now)
            .attributes(net.iter().cloned())
            .attributes(self.attributes.iter().cloned());
        let Some(parsed) = parsed else {
            return Added::Unparsed;
        };
        if let Some(time) = parsed.timestamp.and_then(|t| u64::try_from(t).ok()) {
            record.time(time);
        }
        if let Some(severity) = parsed.severity() {
            let severity = usize::from(severity);
            record.severity(SEVERITY_NUMBERS[severity], SEVERITY_TEXTS[severity]);
        }
        let facility = parsed.facility();
        let text_fields = [
            ("appname", parsed.appname),
            ("hostname", parsed.hostname),
            ("message", parsed.message),
            ("msg_id", parsed.msg_id),
            ("proc_id", parsed.proc_id),
        ];
        for (key, value) in text_fields {
            if let Some(value) = value {
                record.attribute(key, value);
            }
        }
        if let (Some(priority), Some(facility)) = (parsed.priority, facility) {
            record
                .attribute("priority", i64::from(priority))
                .attribute("facility", i64::from(facility))
                .attribute("facility_text", FACILITY_KEYWORDS[usize::from(facility)]);
        }
        if let Some(version) = parsed.version {
            record.attribute("version", i64::from(version));
        }
        if let Some(elements) = parsed.structured_data {
            record.attribute("structured_data", structured_data(elements));
        }
        Added::Parsed
    }
}

/// STRUCTURED-DATA as Go's map of maps: element ID → parameter name → value (a repeated
/// parameter keeps its last value).
fn structured_data(elements: Vec<SdElement>) -> AnyValue {
    let map = |values: Vec<KeyValue>| AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList { values })),
    };
    map(elements
        .into_iter()
        .map(|element| {
            let mut params: Vec<KeyValue> = Vec::with_capacity(element.params.len());
            for (name, value) in element.params {
                params.retain(|param| param.key != name);
                params.push(key_value(name, value));
            }
            key_value(element.id, map(params))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::component::load_config;
    use tributary_pipeline_core::pdata::attributes::{AnyValueExt, Attributes};
    use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;

    use super::*;

    fn maker(yaml: &str) -> RecordMaker {
        let yaml = format!("{yaml}\nudp: {{listen_address: \"127.0.0.1:1\"}}");
        RecordMaker::new(&load_config::<Config>(&yaml).unwrap()).unwrap()
    }

    fn one(maker: &RecordMaker, frame: &str, info: FrameInfo) -> (Added, LogRecord) {
        let mut batch = maker.batch();
        let added = maker.add(&mut batch, frame.as_bytes(), info, Trim::default(), &[], 7);
        let request = batch.build().into_request();
        let record = request.resource_logs[0].scope_logs[0]
            .log_records
            .first()
            .cloned()
            .unwrap_or_default();
        (added, record)
    }

    #[test]
    fn a_rfc5424_record_has_go_s_attributes() {
        let maker = maker("protocol: rfc5424\nattributes: {env: prod}");
        let text = r#"<86>1 2015-08-05T21:58:59.693Z 192.168.2.132 SecureAuth0 23108 ID52020 [SecureAuth@27389 UserHostAddress="192.168.2.132" Realm="SecureAuth0" UserID="Tester2" PEN="27389"] Found the user for retrieving user's profile"#;
        let (added, record) = one(&maker, &format!("  {text}\n"), FrameInfo::default());
        assert_eq!(added, Added::Parsed);
        assert_eq!(record.body.as_ref().and_then(|b| b.as_str()), Some(text));
        assert_eq!(record.time_unix_nano, 1_438_811_939_693_000_000);
        assert_eq!(record.observed_time_unix_nano, 7);
        assert_eq!(record.severity_number, SeverityNumber::Info as i32);
        assert_eq!(record.severity_text, "info");
        let attributes = &record.attributes;
        assert_eq!(attributes.get_str("appname"), Some("SecureAuth0"));
        assert_eq!(attributes.get_str("hostname"), Some("192.168.2.132"));
        assert_eq!(
            attributes.get_str("message"),
            Some("Found the user for retrieving user's profile")
        );
        assert_eq!(attributes.get_str("msg_id"), Some("ID52020"));
        assert_eq!(attributes.get_str("proc_id"), Some("23108"));
        assert_eq!(attributes.get_int("priority"), Some(86));
        assert_eq!(attributes.get_int("facility"), Some(10));
        assert_eq!(attributes.get_str("facility_text"), Some("authpriv"));
        assert_eq!(attributes.get_int("version"), Some(1));
        assert_eq!(attributes.get_str("env"), Some("prod"));
        let sd = attributes
            .get_value("structured_data")
            .expect("structured data");
        let Some(any_value::Value::KvlistValue(elements)) = &sd.value else {
            panic!("{sd:?}")
        };
        let Some(any_value::Value::KvlistValue(params)) =
            &elements.values[0].value.as_ref().unwrap().value
        else {
            panic!()
        };
        assert_eq!(elements.values[0].key, "SecureAuth@27389");
        assert_eq!(params.values.get_str("UserID"), Some("Tester2"));
        assert_eq!(params.values.len(), 4);
    }

    #[test]
    fn an_octet_counted_frame_keeps_its_prefix_in_the_body_as_in_go() {
        let maker = maker("protocol: rfc5424\nmax_octets: 20");
        let info = FrameInfo {
            message_start: 3,
            declared_length: Some(16),
        };
        let (added, record) = one(&maker, "16 <13>1 - - - - - -", info);
        assert_eq!(added, Added::Parsed);
        assert_eq!(
            record.body.as_ref().and_then(|b| b.as_str()),
            Some("16 <13>1 - - - - - -")
        );
        assert_eq!(record.severity_text, "notice");
        // Longer than max_octets: kept unparsed.
        let info = FrameInfo {
            message_start: 3,
            declared_length: Some(21),
        };
        let (added, record) = one(&maker, "21 <13>1 - - - - - - abcde", info);
        assert_eq!(added, Added::Unparsed);
        assert!(record.attributes.is_empty());
    }

    #[test]
    fn an_unparsable_frame_keeps_its_body_and_nothing_else() {
        let maker = maker("protocol: rfc3164\nattributes: {env: prod}");
        let (added, record) = one(&maker, "not syslog at all", FrameInfo::default());
        assert_eq!(added, Added::Unparsed);
        assert_eq!(
            record.body.as_ref().and_then(|b| b.as_str()),
            Some("not syslog at all")
        );
        assert_eq!(record.severity_number, 0);
        assert_eq!(record.attributes.len(), 1, "only the configured attributes");
        let (added, _) = one(&maker, " \n ", FrameInfo::default());
        assert_eq!(added, Added::Empty);
    }

    #[test]
    fn without_a_pri_there_is_no_severity_priority_or_facility() {
        let maker = maker("protocol: rfc3164\nallow_skip_pri_header: true");
        let (added, record) = one(&maker, "Oct 11 22:14:15 host app: x", FrameInfo::default());
        assert_eq!(added, Added::Parsed);
        assert_eq!(record.severity_number, 0);
        assert_eq!(record.attributes.get_int("priority"), None);
        assert_eq!(record.attributes.get_str("appname"), Some("app"));
    }
}
