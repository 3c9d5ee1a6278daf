//! The transfer's "telnet" protocol (`socket_telnet.go`): one command per line,
//! `update <endpoint> <metric> <timestamp> <value> [type] [step]`, and `quit`.

use std::collections::BTreeMap;

use crate::model::{CounterType, FalconItem, fix_timestamp, parse_go_float};

/// The step of an `update` line that names none.
pub const DEFAULT_STEP: i64 = 60;

/// What one line of the telnet protocol says.
#[derive(Clone, Debug, PartialEq)]
pub enum TelnetLine {
    /// An `update` line that holds a valid item.
    Update(FalconItem),
    /// `quit`: the session ends and its items are forwarded.
    Quit,
    /// An empty line, a command other than `update`, or a line too short to be one:
    /// skipped silently, as Falcon does.
    Ignored,
    /// An `update` line that does not parse: skipped (and counted by the receiver).
    Invalid,
}

/// Reads one line (without its `\n`) as the transfer does: fields split on whitespace;
/// the type defaults to `COUNTER`; the step to 60 and may be written
/// `heartbeat:min:max:step`; no tags. Beyond Falcon, the item's timestamp is fixed as the
/// JSON routes fix it (`<= 0` or `> 2*now` becomes `now`) and `step <= 0` is invalid, so a
/// telnet item is held to the same rules as a pushed one.
///
/// ```
/// use tributary_translator_falcon::{CounterType, TelnetLine, parse_telnet_line};
///
/// let TelnetLine::Update(item) = parse_telnet_line("update host-01 df.used 1700000000 12.5 GAUGE 120:U:U:60", 1_700_000_000) else {
///     panic!()
/// };
/// assert_eq!((item.counter_type, item.step, item.value), (CounterType::Gauge, 60, 12.5));
/// assert_eq!(parse_telnet_line("quit", 0), TelnetLine::Quit);
/// assert_eq!(parse_telnet_line("update a b c d", 0), TelnetLine::Invalid);
/// assert_eq!(parse_telnet_line("get a", 0), TelnetLine::Ignored);
/// ```
pub fn parse_telnet_line(line: &str, now: i64) -> TelnetLine {
    // Go trims only '\n'; a "quit\r" is then not `quit` but a one-field line, ignored.
    let line = line.trim_matches('\n');
    if line == "quit" {
        return TelnetLine::Quit;
    }
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 2 || fields[0] != "update" {
        return TelnetLine::Ignored;
    }
    match update(&fields[1..], now) {
        Some(item) => TelnetLine::Update(item),
        None => TelnetLine::Invalid,
    }
}

fn update(fields: &[&str], now: i64) -> Option<FalconItem> {
    if !(4..=6).contains(&fields.len()) {
        return None;
    }
    let timestamp: i64 = fields[2].parse().ok()?;
    let value = parse_go_float(fields[3])?;
    let counter_type = match fields.get(4) {
        Some(name) => CounterType::parse(name)?,
        None => CounterType::Counter,
    };
    let step = match fields.get(5) {
        None => DEFAULT_STEP,
        Some(text) => {
            let parts: Vec<&str> = text.split(':').collect();
            match parts.as_slice() {
                [step] | [_, _, _, step] => step.parse().ok()?,
                _ => return None,
            }
        }
    };
    if step <= 0 || fields[0].is_empty() || fields[1].is_empty() {
        return None;
    }
    Some(FalconItem {
        endpoint: fields[0].to_owned(),
        metric: fields[1].to_owned(),
        tags: BTreeMap::new(),
        value,
        timestamp: fix_timestamp(timestamp, now),
        step,
        counter_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_line_parses_or_is_skipped(line in "\\PC{0,80}") {
            if let TelnetLine::Update(item) = parse_telnet_line(&line, 1_000) {
                prop_assert!(item.step > 0 && item.timestamp > 0 && item.timestamp <= 2_000);
            }
        }
    }

    #[test]
    fn defaults_and_refusals_follow_the_transfer() {
        let TelnetLine::Update(item) =
            parse_telnet_line("update h m 1700000000 3\n", 1_700_000_000)
        else {
            panic!("a minimal update line is valid")
        };
        assert_eq!(
            (item.counter_type, item.step),
            (CounterType::Counter, DEFAULT_STEP)
        );
        assert_eq!(parse_telnet_line("update h m x 3", 1), TelnetLine::Invalid);
        assert_eq!(
            parse_telnet_line("update h m 1 3 RATE", 1),
            TelnetLine::Invalid
        );
        assert_eq!(
            parse_telnet_line("update h m 1 3 GAUGE 1:2", 1),
            TelnetLine::Invalid
        );
        assert_eq!(
            parse_telnet_line("update h m 1 3 GAUGE 0", 1),
            TelnetLine::Invalid
        );
        assert_eq!(
            parse_telnet_line("update h m 1 3 GAUGE 60 extra", 1),
            TelnetLine::Invalid
        );
        assert_eq!(parse_telnet_line("quit\r", 1), TelnetLine::Ignored);
        assert_eq!(parse_telnet_line("", 1), TelnetLine::Ignored);
    }
}
