//! The filelog receiver's line splitter: newline, `line_start_pattern` and
//! `line_end_pattern` splitting never panics, whatever the bytes; every entry fits in
//! `max_log_size`, or is one code unit when `max_log_size` is smaller than one (an
//! entry is never cut inside a UTF-16 code unit); and with the rest flushed, all input
//! is used up.

use tributary_receivers::filelog::{Config, Multiline, split_entries};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let max_log_size = 1 + usize::from(mode >> 2);
    // The width of a code unit of the encoding (utf-16le for mode 3).
    let unit = if mode & 3 == 3 { 2 } else { 1 };
    let mut config = Config {
        max_log_size,
        ..Config::default()
    };
    config.multiline = match mode & 3 {
        1 => Some(Multiline {
            line_start_pattern: r"^\d{4}".into(),
            ..Multiline::default()
        }),
        2 => Some(Multiline {
            line_end_pattern: r"\}$".into(),
            omit_pattern: true,
            ..Multiline::default()
        }),
        3 => {
            config.encoding = "utf-16le".into();
            None
        }
        _ => None,
    };
    for at_end in [false, true] {
        let entries = split_entries(&config, data, at_end).expect("a valid configuration");
        assert!(entries.iter().all(|e| e.len() <= max_log_size.max(unit)));
    }
}
