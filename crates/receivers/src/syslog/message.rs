//! A parsed syslog message, the same shape for both formats, and the pieces both parsers
//! share: the PRI header, the error type, and a byte cursor.

use std::fmt;

/// A syslog message as the parsers read it. Fields that were absent or the NILVALUE `-`
/// are `None`, as in Go's `go-syslog`, and so become no attribute at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyslogMessage {
    /// The PRI value (`facility * 8 + severity`, 0..=191); `None` when the header was
    /// skipped (`allow_skip_pri_header`).
    pub priority: Option<u8>,
    /// The RFC 5424 VERSION (1..=999); `None` for RFC 3164.
    pub version: Option<u16>,
    /// When the event happened, in nanoseconds since the Unix epoch.
    pub timestamp: Option<i64>,
    /// HOSTNAME.
    pub hostname: Option<String>,
    /// APP-NAME (RFC 5424) or the TAG (RFC 3164).
    pub appname: Option<String>,
    /// PROCID (RFC 5424) or the `[pid]` after the TAG (RFC 3164).
    pub proc_id: Option<String>,
    /// MSGID (RFC 5424).
    pub msg_id: Option<String>,
    /// STRUCTURED-DATA (RFC 5424): elements in order, each with its parameters in order.
    pub structured_data: Option<Vec<SdElement>>,
    /// MSG, without a leading byte-order mark.
    pub message: Option<String>,
}

impl SyslogMessage {
    /// The facility (`priority / 8`).
    pub fn facility(&self) -> Option<u8> {
        self.priority.map(|p| p / 8)
    }

    /// The severity (`priority % 8`): 0 emergency .. 7 debug.
    pub fn severity(&self) -> Option<u8> {
        self.priority.map(|p| p % 8)
    }
}

/// One STRUCTURED-DATA element: `[id name="value" ...]`, escapes resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdElement {
    /// SD-ID.
    pub id: String,
    /// SD-PARAMs in the order they came; a repeated name keeps its last value when the
    /// record is built, as Go's map does.
    pub params: Vec<(String, String)>,
}

/// Why a message could not be parsed, and where (byte offset), in `go-syslog`'s words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the first byte that did not fit.
    pub column: usize,
    /// What was expected there.
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [col {}]", self.reason, self.column)
    }
}

impl std::error::Error for ParseError {}

pub(super) const ERR_PRI: &str = "expecting a priority value within angle brackets";
pub(super) const ERR_PRIVAL: &str = "expecting a priority value in the range 1-191 or equal to 0";
pub(super) const ERR_TIMESTAMP: &str = "expecting a timestamp";

/// A position in the input, with the small steps both grammars are made of.
pub(super) struct Cursor<'a> {
    pub(super) text: &'a str,
    pub(super) at: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    pub(super) fn at_end(&self) -> bool {
        self.at >= self.text.len()
    }

    pub(super) fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    pub(super) fn fail<T>(&self, reason: &'static str) -> Result<T, ParseError> {
        Err(ParseError {
            column: self.at,
            reason,
        })
    }

    /// Consumes `byte` if it comes next.
    pub(super) fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `byte`, or fails with `reason`.
    pub(super) fn expect(&mut self, byte: u8, reason: &'static str) -> Result<(), ParseError> {
        if self.eat(byte) {
            Ok(())
        } else {
            self.fail(reason)
        }
    }

    /// Consumes the longest run (at most `max` bytes) of ASCII bytes accepted by `accept`.
    pub(super) fn take_while(&mut self, max: usize, accept: impl Fn(u8) -> bool) -> &'a str {
        let start = self.at;
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() && self.at - start < max && accept(bytes[self.at]) {
            self.at += 1;
        }
        // Only ASCII bytes are accepted, so the slice ends on a character boundary.
        &self.text[start..self.at]
    }

    /// Exactly `n` ASCII digits as a number.
    pub(super) fn digits(&mut self, n: usize, reason: &'static str) -> Result<u32, ParseError> {
        let start = self.at;
        let digits = self.take_while(n, |b| b.is_ascii_digit());
        if digits.len() != n {
            self.at = start;
            return self.fail(reason);
        }
        Ok(digits.bytes().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    }
}

/// PRINTUSASCII (RFC 5424): `%d33-126`.
pub(super) fn is_print_us_ascii(byte: u8) -> bool {
    (33..=126).contains(&byte)
}

/// Reads `<PRIVAL>`: 1 to 3 digits without a leading zero (but `0` itself), 0..=191.
pub(super) fn priority(cursor: &mut Cursor<'_>) -> Result<u8, ParseError> {
    cursor.expect(b'<', ERR_PRI)?;
    let start = cursor.at;
    let digits = cursor.take_while(3, |b| b.is_ascii_digit());
    let value: u32 = digits.parse().unwrap_or(u32::MAX);
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) || value > 191 {
        cursor.at = start;
        return cursor.fail(ERR_PRIVAL);
    }
    cursor.expect(b'>', ERR_PRI)?;
    Ok(value as u8)
}

/// Reads the PRI header, or nothing when it may be skipped and the message does not start
/// with `<` (Go's `allow_skip_pri_header`).
pub(super) fn optional_priority(
    cursor: &mut Cursor<'_>,
    allow_skip: bool,
) -> Result<Option<u8>, ParseError> {
    if allow_skip && cursor.peek() != Some(b'<') {
        return Ok(None);
    }
    priority(cursor).map(Some)
}

/// Days from 1970-01-01 to the civil date (proleptic Gregorian), as Howard Hinnant's
/// `days_from_civil`.
pub(super) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The number of days in `month` of `year`.
pub(super) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_accepts_0_to_191_without_leading_zeros() {
        for (text, expected) in [("<0>", Ok(0)), ("<13>", Ok(13)), ("<191>", Ok(191))] {
            assert_eq!(priority(&mut Cursor::new(text)), expected, "{text}");
        }
        for text in ["<192>", "<01>", "<>", "<1234>", "13>", "<13", "<a>"] {
            assert!(priority(&mut Cursor::new(text)).is_err(), "{text}");
        }
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2003, 10, 11), 12_336);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
    }
}
