//! RFC 5424 messages: `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP
//! MSGID SP STRUCTURED-DATA [SP MSG]`, read as strictly as Go's `go-syslog` reads them.

use super::message::{
    Cursor, ERR_TIMESTAMP, ParseError, SdElement, SyslogMessage, days_from_civil, days_in_month,
    is_print_us_ascii, optional_priority,
};

const ERR_VERSION: &str = "expecting a version value in the range 1-999";
const ERR_SPACE: &str = "expecting a space";
const ERR_HOSTNAME: &str =
    "expecting an hostname (from 1 to max 255 US-ASCII characters) or a nil value";
const ERR_APPNAME: &str =
    "expecting an app-name (from 1 to max 48 US-ASCII characters) or a nil value";
const ERR_PROCID: &str =
    "expecting a procid (from 1 to max 128 US-ASCII characters) or a nil value";
const ERR_MSGID: &str = "expecting a msgid (from 1 to max 32 US-ASCII characters) or a nil value";
const ERR_STRUCTURED_DATA: &str = "expecting a structured data section containing one or more \
     elements (`[id( key=\"value\")*]+`) or a nil value";
const ERR_SDID: &str = "expecting a structured data element id (from 1 to max 32 US-ASCII \
     characters; except `=`, ` `, `]`, and `\"`";
const ERR_SDID_DUPLICATED: &str = "duplicate structured data element id";
const ERR_SDPARAM: &str = "expecting a structured data parameter (`key=\"value\"`, both part \
     from 1 to max 32 US-ASCII characters; key cannot contain `=`, ` `, `]`, and `\"`, while \
     value cannot contain `]`, backslash, and `\"` unless escaped)";
const ERR_ESCAPE: &str = "expecting chars `]`, `\"`, and `\\` to be escaped within param value";

/// The UTF-8 byte-order mark RFC 5424 allows at the start of MSG.
const BOM: char = '\u{feff}';

/// Parses one RFC 5424 message (without framing). With `allow_skip_pri_header`, a message
/// that does not start with `<` is read without a PRI (Go's `allow_skip_pri_header`).
///
/// ```
/// use tributary_receivers::syslog::parse_rfc5424;
///
/// let message = parse_rfc5424(
///     r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event"#,
///     false,
/// )
/// .unwrap();
/// assert_eq!(message.priority, Some(165));
/// assert_eq!(message.appname.as_deref(), Some("evntslog"));
/// assert_eq!(message.proc_id, None);
/// assert_eq!(message.message.as_deref(), Some("An application event"));
/// assert!(parse_rfc5424("<165>1 yesterday host app - - - text", false).is_err());
/// ```
pub fn parse_rfc5424(text: &str, allow_skip_pri_header: bool) -> Result<SyslogMessage, ParseError> {
    let mut cursor = Cursor::new(text);
    let priority = optional_priority(&mut cursor, allow_skip_pri_header)?;
    let version = version(&mut cursor)?;
    cursor.expect(b' ', ERR_SPACE)?;
    let timestamp = timestamp(&mut cursor)?;
    cursor.expect(b' ', ERR_SPACE)?;
    let hostname = header_field(&mut cursor, 255, ERR_HOSTNAME)?;
    cursor.expect(b' ', ERR_SPACE)?;
    let appname = header_field(&mut cursor, 48, ERR_APPNAME)?;
    cursor.expect(b' ', ERR_SPACE)?;
    let proc_id = header_field(&mut cursor, 128, ERR_PROCID)?;
    cursor.expect(b' ', ERR_SPACE)?;
    let msg_id = header_field(&mut cursor, 32, ERR_MSGID)?;
    cursor.expect(b' ', ERR_SPACE)?;
    let structured_data = structured_data(&mut cursor)?;
    let message = if cursor.at_end() {
        None
    } else {
        cursor.expect(b' ', ERR_STRUCTURED_DATA)?;
        let message = cursor.rest();
        let message = message.strip_prefix(BOM).unwrap_or(message);
        (!message.is_empty()).then(|| message.to_string())
    };
    Ok(SyslogMessage {
        priority,
        version: Some(version),
        timestamp,
        hostname,
        appname,
        proc_id,
        msg_id,
        structured_data,
        message,
    })
}

/// VERSION: a nonzero digit and up to two more.
fn version(cursor: &mut Cursor<'_>) -> Result<u16, ParseError> {
    let start = cursor.at;
    let digits = cursor.take_while(3, |b| b.is_ascii_digit());
    if digits.is_empty() || digits.starts_with('0') {
        cursor.at = start;
        return cursor.fail(ERR_VERSION);
    }
    Ok(digits.parse().unwrap_or_default())
}

/// A header field: NILVALUE (`None`) or 1 to `max` PRINTUSASCII characters.
fn header_field(
    cursor: &mut Cursor<'_>,
    max: usize,
    reason: &'static str,
) -> Result<Option<String>, ParseError> {
    let start = cursor.at;
    let value = cursor.take_while(max, is_print_us_ascii);
    if value.is_empty() || !matches!(cursor.peek(), None | Some(b' ')) {
        cursor.at = start;
        return cursor.fail(reason);
    }
    Ok((value != "-").then(|| value.to_string()))
}

/// TIMESTAMP: NILVALUE or `YYYY-MM-DDTHH:MM:SS[.1-6 digits](Z|±HH:MM)`, as nanoseconds
/// since the Unix epoch.
fn timestamp(cursor: &mut Cursor<'_>) -> Result<Option<i64>, ParseError> {
    if cursor.rest().starts_with("- ") || cursor.rest() == "-" {
        cursor.at += 1;
        return Ok(None);
    }
    let start = cursor.at;
    // An error names where the timestamp starts: it is one token.
    full_timestamp(cursor).map(Some).or_else(|_| {
        cursor.at = start;
        cursor.fail(ERR_TIMESTAMP)
    })
}

fn full_timestamp(cursor: &mut Cursor<'_>) -> Result<i64, ParseError> {
    let in_range = |value: u32, low: u32, high: u32| (low..=high).contains(&value);
    let year = i64::from(cursor.digits(4, ERR_TIMESTAMP)?);
    cursor.expect(b'-', ERR_TIMESTAMP)?;
    let month = cursor.digits(2, ERR_TIMESTAMP)?;
    cursor.expect(b'-', ERR_TIMESTAMP)?;
    let day = cursor.digits(2, ERR_TIMESTAMP)?;
    if !in_range(month, 1, 12) || !in_range(day, 1, days_in_month(year, month)) {
        return cursor.fail(ERR_TIMESTAMP);
    }
    cursor.expect(b'T', ERR_TIMESTAMP)?;
    let hour = cursor.digits(2, ERR_TIMESTAMP)?;
    cursor.expect(b':', ERR_TIMESTAMP)?;
    let minute = cursor.digits(2, ERR_TIMESTAMP)?;
    cursor.expect(b':', ERR_TIMESTAMP)?;
    let second = cursor.digits(2, ERR_TIMESTAMP)?;
    if hour > 23 || minute > 59 || second > 59 {
        return cursor.fail(ERR_TIMESTAMP);
    }
    let mut nanos = 0i64;
    if cursor.eat(b'.') {
        let fraction = cursor.take_while(6, |b| b.is_ascii_digit());
        if fraction.is_empty() {
            return cursor.fail(ERR_TIMESTAMP);
        }
        let scale = 10i64.pow(9 - fraction.len() as u32);
        nanos = fraction.parse::<i64>().unwrap_or_default() * scale;
    }
    let offset_seconds = if cursor.eat(b'Z') {
        0
    } else {
        let sign = match cursor.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return cursor.fail(ERR_TIMESTAMP),
        };
        cursor.at += 1;
        let hours = cursor.digits(2, ERR_TIMESTAMP)?;
        cursor.expect(b':', ERR_TIMESTAMP)?;
        let minutes = cursor.digits(2, ERR_TIMESTAMP)?;
        if hours > 23 || minutes > 59 {
            return cursor.fail(ERR_TIMESTAMP);
        }
        sign * i64::from(hours * 3600 + minutes * 60)
    };
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_seconds;
    // Years 0000..=9999 fit in i64 seconds; nanoseconds only from 1677 to 2262.
    match seconds
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(nanos))
    {
        Some(total) => Ok(total),
        None => cursor.fail(ERR_TIMESTAMP),
    }
}

/// STRUCTURED-DATA: NILVALUE or one or more `[SD-ID *(SP SD-PARAM)]`.
fn structured_data(cursor: &mut Cursor<'_>) -> Result<Option<Vec<SdElement>>, ParseError> {
    if cursor.eat(b'-') {
        return Ok(None);
    }
    if cursor.peek() != Some(b'[') {
        return cursor.fail(ERR_STRUCTURED_DATA);
    }
    let mut elements: Vec<SdElement> = Vec::new();
    while cursor.eat(b'[') {
        let id_at = cursor.at;
        let id = sd_name(cursor, ERR_SDID)?;
        if elements.iter().any(|element| element.id == id) {
            cursor.at = id_at;
            return cursor.fail(ERR_SDID_DUPLICATED);
        }
        let mut params = Vec::new();
        while cursor.eat(b' ') {
            let name = sd_name(cursor, ERR_SDPARAM)?;
            cursor.expect(b'=', ERR_SDPARAM)?;
            cursor.expect(b'"', ERR_SDPARAM)?;
            params.push((name, param_value(cursor)?));
        }
        cursor.expect(b']', ERR_SDPARAM)?;
        elements.push(SdElement { id, params });
    }
    Ok(Some(elements))
}

/// SD-NAME: 1 to 32 PRINTUSASCII characters except `=`, SP, `]` and `"`.
fn sd_name(cursor: &mut Cursor<'_>, reason: &'static str) -> Result<String, ParseError> {
    let name = cursor.take_while(32, |b| {
        is_print_us_ascii(b) && !matches!(b, b'=' | b' ' | b']' | b'"')
    });
    if name.is_empty() {
        return cursor.fail(reason);
    }
    Ok(name.to_string())
}

/// PARAM-VALUE up to and including its closing quote: UTF-8 in which `"`, `\` and `]` are
/// escaped with a backslash; the escapes are resolved.
fn param_value(cursor: &mut Cursor<'_>) -> Result<String, ParseError> {
    let mut value = String::new();
    let mut chars = cursor.rest().char_indices();
    let start = cursor.at;
    while let Some((offset, c)) = chars.next() {
        match c {
            '"' => {
                cursor.at = start + offset + 1;
                return Ok(value);
            }
            '\\' => match chars.next() {
                Some((_, escaped @ ('"' | '\\' | ']'))) => value.push(escaped),
                _ => {
                    cursor.at = start + offset;
                    return cursor.fail(ERR_ESCAPE);
                }
            },
            ']' => {
                cursor.at = start + offset;
                return cursor.fail(ERR_ESCAPE);
            }
            c => value.push(c),
        }
    }
    cursor.at = cursor.text.len();
    cursor.fail(ERR_SDPARAM)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SyslogMessage {
        parse_rfc5424(text, false).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    fn sd(id: &str, params: &[(&str, &str)]) -> SdElement {
        SdElement {
            id: id.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn rfc_5424_example_1_without_structured_data() {
        let message = parse(
            "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8",
        );
        assert_eq!(
            message,
            SyslogMessage {
                priority: Some(34),
                version: Some(1),
                timestamp: Some(1_065_910_455_003_000_000),
                hostname: Some("mymachine.example.com".into()),
                appname: Some("su".into()),
                proc_id: None,
                msg_id: Some("ID47".into()),
                structured_data: None,
                message: Some("'su root' failed for lonvick on /dev/pts/8".into()),
            }
        );
        assert_eq!((message.facility(), message.severity()), (Some(4), Some(2)));
    }

    #[test]
    fn rfc_5424_example_2_offsets_and_microseconds() {
        let message = parse(
            "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
        );
        // 2003-08-24T12:14:15.000003Z
        assert_eq!(message.timestamp, Some(1_061_727_255_000_003_000));
        assert_eq!(message.proc_id.as_deref(), Some("8710"));
        assert_eq!(
            message.message.as_deref(),
            Some("%% It's time to make the do-nuts.")
        );
    }

    #[test]
    fn rfc_5424_examples_3_and_4_structured_data() {
        let message = parse(
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]"#,
        );
        assert_eq!(
            message.structured_data,
            Some(vec![
                sd(
                    "exampleSDID@32473",
                    &[
                        ("iut", "3"),
                        ("eventSource", "Application"),
                        ("eventID", "1011")
                    ]
                ),
                sd("examplePriority@32473", &[("class", "high")]),
            ])
        );
        assert_eq!(message.message, None);
    }

    #[test]
    fn escapes_in_param_values_are_resolved_and_unescaped_delimiters_refused() {
        let message = parse(r#"<13>1 - - - - - [id a="q\"b\\s\]e" empty=""] m"#);
        assert_eq!(
            message.structured_data,
            Some(vec![sd("id", &[("a", r#"q"b\s]e"#), ("empty", "")])])
        );
        for bad in [
            r#"<13>1 - - - - - [id a="x]y"]"#,
            r#"<13>1 - - - - - [id a="x\ny"]"#,
            r#"<13>1 - - - - - [id a="open"#,
            r#"<13>1 - - - - - [id a=x]"#,
            r#"<13>1 - - - - - [id a="1"][id b="2"]"#,
            r#"<13>1 - - - - - [ a="1"]"#,
            r#"<13>1 - - - - - [id]x"#,
        ] {
            assert!(parse_rfc5424(bad, false).is_err(), "{bad}");
        }
        assert_eq!(
            parse_rfc5424(r#"<13>1 - - - - - [id a="1"][id b="2"]"#, false)
                .unwrap_err()
                .reason,
            ERR_SDID_DUPLICATED
        );
    }

    #[test]
    fn nil_values_everywhere_leave_fields_unset() {
        let message = parse("<0>1 - - - - - -");
        assert_eq!(
            message,
            SyslogMessage {
                priority: Some(0),
                version: Some(1),
                ..Default::default()
            }
        );
        // UTF-8 in the message, and a structured data element without parameters.
        let message = parse("<13>999 - - - - - [x] héllo wörld");
        assert_eq!(message.version, Some(999));
        assert_eq!(message.structured_data, Some(vec![sd("x", &[])]));
        assert_eq!(message.message.as_deref(), Some("héllo wörld"));
    }

    #[test]
    fn malformed_headers_are_refused_with_the_place() {
        let cases = [
            ("", 0),
            ("13>1 - - - - - -", 0),
            ("<192>1 - - - - - -", 1),
            ("<13>0 - - - - - -", 4),
            ("<13>1 2003-13-11T22:14:15Z - - - - -", 6),
            ("<13>1 2003-02-29T22:14:15Z - - - - -", 6),
            ("<13>1 2003-10-11T24:14:15Z - - - - -", 6),
            ("<13>1 2003-10-11T22:14:15.1234567Z - - - - -", 6),
            ("<13>1 2003-10-11T22:14:15 - - - - -", 6),
            ("<13>1 2003-10-11 - - - - -", 6),
            ("<13>1 - - - - -", 15),
            (
                "<13>1 - - appnameappnameappnameappnameappnameappnameappnameappname - - -",
                10,
            ),
        ];
        for (text, column) in cases {
            let error = parse_rfc5424(text, false).expect_err(text);
            assert_eq!(error.column, column, "{text}: {error}");
        }
    }

    #[test]
    fn the_pri_may_be_skipped_when_allowed() {
        let message = parse_rfc5424("1 - host app - - - text", true).unwrap();
        assert_eq!(message.priority, None);
        assert_eq!(message.hostname.as_deref(), Some("host"));
        assert!(parse_rfc5424("1 - host app - - - text", false).is_err());
        assert_eq!(
            parse_rfc5424("<13>1 - host app - - - text", true)
                .unwrap()
                .priority,
            Some(13)
        );
    }
}
