//! The line splitter and multiline rules.

use proptest::prelude::*;
use tributary_pipeline_core::pdata::proto::common::v1::any_value;

use super::super::{Encoding, Multiline, Splitter};

fn newline(max: usize) -> Splitter {
    Splitter::newline(Encoding::Utf8, max, false, false)
}

fn texts(tokens: Vec<&[u8]>) -> Vec<String> {
    tokens
        .into_iter()
        .map(|t| String::from_utf8_lossy(t).into_owned())
        .collect()
}

#[test]
fn lines_end_at_newlines_and_the_unterminated_rest_waits() {
    let (tokens, used) = newline(1 << 20).split_all(b"one\r\n  two \n\nthree", false);
    assert_eq!(texts(tokens), ["one", "two", "", "three"][..3]);
    assert_eq!(used, 13);
    let (tokens, used) = newline(1 << 20).split_all(b"one\nthree", true);
    assert_eq!(texts(tokens), ["one", "three"]);
    assert_eq!(used, 9);
}

#[test]
fn long_lines_are_cut_at_max_log_size() {
    let (tokens, used) = newline(4).split_all(b"abcdefghij\nxy\n", false);
    assert_eq!(texts(tokens), ["abcd", "efgh", "ij", "xy"]);
    assert_eq!(used, 14);
}

#[test]
fn whitespace_is_kept_when_asked() {
    let splitter = Splitter::newline(Encoding::Utf8, 100, true, true);
    let (tokens, _) = splitter.split_all(b"  a \n", false);
    assert_eq!(texts(tokens), ["  a "]);
}

#[test]
fn utf16_newlines_split_only_at_code_unit_boundaries() {
    let encoding = Encoding::parse("utf-16le").unwrap();
    let splitter = Splitter::newline(encoding, 100, false, false);
    // U+0A00 is "\0\n" in UTF-16LE, which a byte search would take for a newline.
    let data: Vec<u8> = "a\u{0a00}b\nc\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let (tokens, used) = splitter.split_all(&data, false);
    assert_eq!(used, data.len());
    let bodies: Vec<_> = tokens
        .iter()
        .map(|t| match encoding.body(t).value {
            Some(any_value::Value::StringValue(s)) => s,
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(bodies, ["a\u{0a00}b", "c"]);
}

#[test]
fn a_max_log_size_below_one_utf16_code_unit_still_cuts_whole_code_units() {
    // Found by the filelog_split fuzz target: `max_log_size: 1` with UTF-16LE. An entry
    // is one whole code unit then, never half of one.
    let encoding = Encoding::parse("utf-16le").unwrap();
    let splitter = Splitter::newline(encoding, 1, false, false);
    let (tokens, used) = splitter.split_all(&[0x20, 0x0a, 0x41, 0x00], true);
    assert_eq!(used, 4);
    assert!(tokens.iter().all(|t| t.len() == 2), "{tokens:?}");
}

#[test]
fn line_start_pattern_groups_continuation_lines() {
    let multiline = Multiline {
        line_start_pattern: r"^\d{4}-".into(),
        ..Default::default()
    };
    let splitter = multiline.build(1 << 20, false, false).unwrap();
    let data =
        b"junk before\n2024-01-01 first\n  at frame 1\n2024-01-02 second\n2024-01-03 third\n";
    let (tokens, used) = splitter.split_all(data, false);
    assert_eq!(
        texts(tokens),
        [
            "junk before",
            "2024-01-01 first\n  at frame 1",
            "2024-01-02 second"
        ]
    );
    // The last entry waits for the next start, or for a flush.
    let (tokens, _) = splitter.split_all(&data[used..], true);
    assert_eq!(texts(tokens), ["2024-01-03 third"]);
}

#[test]
fn line_end_pattern_and_omit_pattern() {
    let multiline = Multiline {
        line_end_pattern: "END".into(),
        omit_pattern: true,
        ..Default::default()
    };
    let splitter = multiline.build(1 << 20, false, false).unwrap();
    let (tokens, _) = splitter.split_all(b"a\nb END\nc END\nd", false);
    assert_eq!(texts(tokens), ["a\nb", "c"]);
}

#[test]
fn multiline_needs_exactly_one_valid_pattern() {
    assert!(Multiline::default().build(10, false, false).is_err());
    let both = Multiline {
        line_start_pattern: "a".into(),
        line_end_pattern: "b".into(),
        omit_pattern: false,
    };
    assert!(both.build(10, false, false).is_err());
    let invalid = Multiline {
        line_start_pattern: "(".into(),
        ..Default::default()
    };
    assert!(invalid.build(10, false, false).is_err());
}

proptest! {
    /// Any input: no panic, every entry within `max_log_size`, progress always made, and
    /// with newline splitting and preserved whitespace, joining the entries gives back
    /// the input's lines.
    #[test]
    fn splitting_is_bounded_and_loses_nothing(
        data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), Just(b' '), any::<u8>()], 0..400),
        max in 1usize..64,
        at_end in any::<bool>(),
        pattern in prop_oneof![Just(""), Just("^a"), Just("b$"), Just("x*"), Just("^")],
        start in any::<bool>(),
    ) {
        let splitter = Splitter::newline(Encoding::Utf8, max, true, true);
        let (tokens, used) = splitter.split_all(&data, at_end);
        prop_assert!(used <= data.len());
        prop_assert!(tokens.iter().all(|t| t.len() <= max));
        if at_end {
            prop_assert_eq!(used, data.len());
        }
        let joined: usize = tokens.iter().map(|t| t.len()).sum();
        let delimiters = data[..used].iter().filter(|b| **b == b'\n').count();
        prop_assert!(joined + delimiters <= used);
        if !pattern.is_empty() {
            let multiline = Multiline {
                line_start_pattern: if start { pattern.to_string() } else { String::new() },
                line_end_pattern: if start { String::new() } else { pattern.to_string() },
                omit_pattern: at_end,
            };
            let splitter = multiline.build(max, false, false).unwrap();
            let (tokens, used) = splitter.split_all(&data, at_end);
            prop_assert!(used <= data.len());
            prop_assert!(tokens.iter().all(|t| t.len() <= max));
            if at_end {
                prop_assert_eq!(used, data.len());
            }
        }
    }
}
