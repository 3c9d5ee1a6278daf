//! RFC 3164 (BSD) messages: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: CONTENT`, read as
//! Go's `go-syslog` reads them, the timestamp taken in the configured `location`.

use std::fmt;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::message::{
    Cursor, ERR_TIMESTAMP, ParseError, SyslogMessage, days_in_month, is_print_us_ascii,
    optional_priority,
};

const ERR_HOSTNAME: &str = "expecting an hostname (from 1 to max 255 US-ASCII characters)";
const ERR_SPACE: &str = "expecting a space";

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The time zone RFC 3164 timestamps are read in (they carry none): the receiver's
/// `location`, an IANA name looked up in the system's time zone database as Go's
/// `time.LoadLocation` does.
#[derive(Clone)]
pub struct Location {
    name: String,
    zone: TimeZone,
}

impl Location {
    /// UTC, the default.
    pub fn utc() -> Self {
        Location {
            name: "UTC".into(),
            zone: TimeZone::UTC,
        }
    }

    /// The zone named `name` (`America/New_York`, `UTC`, `Local`), or why it cannot be
    /// used.
    pub fn named(name: &str) -> Result<Self, String> {
        let zone = match name {
            "" | "UTC" => TimeZone::UTC,
            // Go's "Local" is the machine's zone.
            "Local" => TimeZone::try_system().map_err(|e| e.to_string())?,
            name => TimeZone::get(name).map_err(|e| e.to_string())?,
        };
        Ok(Location {
            name: name.to_string(),
            zone,
        })
    }

    /// The current year in this zone: RFC 3164 timestamps have none, and Go takes the
    /// current one.
    pub fn current_year(&self) -> i16 {
        jiff::Timestamp::now().to_zoned(self.zone.clone()).year()
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Location").field(&self.name).finish()
    }
}

/// Parses one RFC 3164 message; its timestamp is read in `location`, in the current year.
/// With `allow_skip_pri_header`, a message that does not start with `<` is read without a
/// PRI (Go's `allow_skip_pri_header`).
///
/// ```
/// use tributary_receivers::syslog::{Location, parse_rfc3164};
///
/// let message = parse_rfc3164(
///     "<34>Oct 11 22:14:15 mymachine su[42]: 'su root' failed for lonvick on /dev/pts/8",
///     false,
///     &Location::utc(),
/// )
/// .unwrap();
/// assert_eq!(message.priority, Some(34));
/// assert_eq!(message.hostname.as_deref(), Some("mymachine"));
/// assert_eq!(message.appname.as_deref(), Some("su"));
/// assert_eq!(message.proc_id.as_deref(), Some("42"));
/// assert_eq!(message.message.as_deref(), Some("'su root' failed for lonvick on /dev/pts/8"));
/// ```
pub fn parse_rfc3164(
    text: &str,
    allow_skip_pri_header: bool,
    location: &Location,
) -> Result<SyslogMessage, ParseError> {
    parse_in_year(
        text,
        allow_skip_pri_header,
        location,
        location.current_year(),
    )
}

/// [`parse_rfc3164`] with the year given.
pub(super) fn parse_in_year(
    text: &str,
    allow_skip_pri_header: bool,
    location: &Location,
    year: i16,
) -> Result<SyslogMessage, ParseError> {
    let mut cursor = Cursor::new(text);
    let priority = optional_priority(&mut cursor, allow_skip_pri_header)?;
    let timestamp = timestamp(&mut cursor, location, year)?;
    cursor.expect(b' ', ERR_SPACE)?;
    let hostname = cursor.take_while(255, is_print_us_ascii);
    if hostname.is_empty() {
        return cursor.fail(ERR_HOSTNAME);
    }
    let hostname = Some(hostname.to_string());
    let mut message = SyslogMessage {
        priority,
        timestamp: Some(timestamp),
        hostname,
        ..Default::default()
    };
    if cursor.at_end() {
        return Ok(message);
    }
    cursor.expect(b' ', ERR_HOSTNAME)?;
    let (appname, proc_id, content) = tag(cursor.rest());
    message.appname = appname.map(str::to_string);
    message.proc_id = proc_id.map(str::to_string);
    message.message = (!content.is_empty()).then(|| content.to_string());
    Ok(message)
}

/// `Mmm dd hh:mm:ss` (the day space-padded, zero-padded or bare), in `location`.
fn timestamp(cursor: &mut Cursor<'_>, location: &Location, year: i16) -> Result<i64, ParseError> {
    let start = cursor.at;
    let parsed = (|| {
        let month = MONTHS
            .iter()
            .position(|name| cursor.rest().starts_with(name))
            .ok_or(())?;
        cursor.at += 3;
        if !cursor.eat(b' ') {
            return Err(());
        }
        cursor.eat(b' ');
        let day = cursor.take_while(2, |b| b.is_ascii_digit());
        let day: u32 = day.parse().map_err(|_| ())?;
        let month = month as u32 + 1;
        if day == 0 || day > days_in_month(i64::from(year), month) || !cursor.eat(b' ') {
            return Err(());
        }
        let hour = cursor.digits(2, ERR_TIMESTAMP).map_err(|_| ())?;
        let ok = cursor.eat(b':');
        let minute = cursor.digits(2, ERR_TIMESTAMP).map_err(|_| ())?;
        let ok = ok && cursor.eat(b':');
        let second = cursor.digits(2, ERR_TIMESTAMP).map_err(|_| ())?;
        if !ok || hour > 23 || minute > 59 || second > 59 {
            return Err(());
        }
        let civil = DateTime::new(
            year,
            month as i8,
            day as i8,
            hour as i8,
            minute as i8,
            second as i8,
            0,
        )
        .map_err(|_| ())?;
        let zoned = civil.to_zoned(location.zone.clone()).map_err(|_| ())?;
        i64::try_from(zoned.timestamp().as_nanosecond()).map_err(|_| ())
    })();
    parsed.or_else(|()| {
        cursor.at = start;
        cursor.fail(ERR_TIMESTAMP)
    })
}

/// Splits `TAG[PID]: CONTENT` (the TAG 1 to 32 printable characters other than SP, `:`
/// and `[`; the PID 1 to 128 printable characters other than `]`); text without that
/// shape is all content.
fn tag(text: &str) -> (Option<&str>, Option<&str>, &str) {
    let printable = |b: u8| (32..=126).contains(&b);
    let mut cursor = Cursor::new(text);
    let tag = cursor.take_while(32, |b| printable(b) && !matches!(b, b' ' | b':' | b'['));
    if tag.is_empty() {
        return (None, None, text);
    }
    let mut proc_id = None;
    if cursor.eat(b'[') {
        let pid = cursor.take_while(128, |b| printable(b) && b != b']');
        if pid.is_empty() || !cursor.eat(b']') {
            return (None, None, text);
        }
        proc_id = Some(pid);
    }
    if !cursor.eat(b':') {
        return (None, None, text);
    }
    if cursor.at_end() || cursor.eat(b' ') {
        (Some(tag), proc_id, cursor.rest())
    } else {
        (None, None, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, location: &Location) -> SyslogMessage {
        parse_in_year(text, false, location, 2003).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn rfc_3164_example() {
        let message = parse(
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
            &Location::utc(),
        );
        assert_eq!(
            message,
            SyslogMessage {
                priority: Some(34),
                timestamp: Some(1_065_910_455_000_000_000),
                hostname: Some("mymachine".into()),
                appname: Some("su".into()),
                message: Some("'su root' failed for lonvick on /dev/pts/8".into()),
                ..Default::default()
            }
        );
    }

    #[test]
    fn the_timestamp_is_read_in_the_location_with_its_daylight_saving_time() {
        let detroit = Location::named("America/Detroit").expect("the system's tz database");
        // October: EDT, UTC-4.
        let message = parse("<34>Oct 11 22:14:15 host app: x", &detroit);
        assert_eq!(message.timestamp, Some(1_065_924_855_000_000_000));
        // January: EST, UTC-5; a space-padded day.
        let message = parse("<34>Jan  5 00:00:00 host app: x", &detroit);
        assert_eq!(message.timestamp, Some(1_041_742_800_000_000_000));
        assert!(Location::named("Mars/Olympus_Mons").is_err());
    }

    #[test]
    fn tag_pid_and_content() {
        let utc = Location::utc();
        let message = parse(
            "<13>Feb  1 01:02:03 10.0.0.1 sshd[4242]: Accepted key",
            &utc,
        );
        assert_eq!(message.hostname.as_deref(), Some("10.0.0.1"));
        assert_eq!(message.appname.as_deref(), Some("sshd"));
        assert_eq!(message.proc_id.as_deref(), Some("4242"));
        assert_eq!(message.message.as_deref(), Some("Accepted key"));
        // No tag: everything after the host is the message.
        let message = parse("<13>Feb 01 01:02:03 host just some text", &utc);
        assert_eq!(message.appname, None);
        assert_eq!(message.message.as_deref(), Some("just some text"));
        // Nothing after the host.
        let message = parse("<13>Feb 1 01:02:03 host", &utc);
        assert_eq!((message.appname, message.message), (None, None));
        assert_eq!(message.version, None);
    }

    #[test]
    fn malformed_messages_are_refused() {
        let utc = Location::utc();
        for bad in [
            "",
            "Oct 11 22:14:15 host app: x",
            "<34>",
            "<34>oct 11 22:14:15 host app: x",
            "<34>Oct 32 22:14:15 host app: x",
            "<34>Feb 29 22:14:15 host app: x",
            "<34>Oct 11 24:14:15 host app: x",
            "<34>Oct 11 22:14 host app: x",
            "<34>Oct 11 22:14:15",
            "<34>Oct 11 22:14:15 ",
            "<34>2003-10-11T22:14:15Z host app: x",
        ] {
            assert!(parse_in_year(bad, false, &utc, 2003).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_pri_may_be_skipped_when_allowed() {
        let message =
            parse_in_year("Oct 11 22:14:15 host app: x", true, &Location::utc(), 2003).unwrap();
        assert_eq!(message.priority, None);
        assert_eq!(message.appname.as_deref(), Some("app"));
    }
}
