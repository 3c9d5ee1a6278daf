//! Framing of syslog over TCP (RFC 6587): octet counting (`<length> <message>`) or
//! non-transparent framing (messages ended by a trailer byte, LF or NUL).

use std::fmt;
use std::ops::Range;

/// How messages are delimited on a TCP stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// RFC 6587 §3.4.1: `<length> SP <message>`. A frame starting with `<` instead is
    /// read as a non-transparent LF-terminated one (RFC 6587 §3.4.2), as rsyslog's and
    /// syslog-ng's receivers do, so senders that mix the two are understood.
    OctetCounting,
    /// RFC 6587 §3.4.2: each message ends with this byte (`\n` or `\0`).
    Trailer(u8),
}

/// One frame found at the start of a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Bytes of the buffer this frame used, trailer included: drop them before looking
    /// for the next frame.
    pub consumed: usize,
    /// The frame's text as Go hands it to its parser: for octet counting the length
    /// prefix and the message, otherwise the message without its trailer.
    pub frame: Range<usize>,
    /// Where the message starts inside the buffer (after an octet-count prefix).
    pub message_start: usize,
    /// The octet count the sender declared, for octet counting.
    pub declared_length: Option<usize>,
}

/// The stream cannot be framed any further: the connection must be closed, since where
/// the next message starts is unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramingError {
    /// Octet counting expected, but the frame starts with neither a length nor `<`.
    NotOctetCounted,
    /// The declared length exceeds what the receiver buffers (`max_log_size`).
    TooLong {
        /// The declared length.
        declared: usize,
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::NotOctetCounted => {
                f.write_str("expecting an octet count (`<length> <message>`) or `<`")
            }
            FramingError::TooLong { declared, max } => write!(
                f,
                "a frame of {declared} octets exceeds max_log_size ({max} bytes)"
            ),
        }
    }
}

impl std::error::Error for FramingError {}

/// The longest octet count accepted: 10 digits is more than any limit allows.
const MAX_LENGTH_DIGITS: usize = 10;

/// Finds the first frame in `data`. `max` bounds a frame (`max_log_size`): a
/// non-transparent frame without its trailer after `max` bytes is cut there, as Go's
/// splitter does, and a longer octet count is an error. At the end of the stream
/// (`at_eof`) what remains is one last frame, as Go flushes it. `Ok(None)`: more data is
/// needed.
///
/// ```
/// use tributary_receivers::syslog::{Framing, next_frame};
///
/// let data = b"11 <13>1 - - -5 <13>";
/// let frame = next_frame(data, Framing::OctetCounting, 1024, false).unwrap().unwrap();
/// assert_eq!(&data[frame.frame.clone()], b"11 <13>1 - - -");
/// assert_eq!(&data[frame.message_start..frame.frame.end], b"<13>1 - - -");
/// // The second frame is not complete yet.
/// assert_eq!(next_frame(&data[frame.consumed..], Framing::OctetCounting, 1024, false), Ok(None));
/// ```
pub fn next_frame(
    data: &[u8],
    framing: Framing,
    max: usize,
    at_eof: bool,
) -> Result<Option<Frame>, FramingError> {
    let max = max.max(1);
    match framing {
        Framing::OctetCounting if data.first() != Some(&b'<') => octet_counted(data, max, at_eof),
        Framing::OctetCounting => Ok(terminated(data, b'\n', max, at_eof)),
        Framing::Trailer(trailer) => Ok(terminated(data, trailer, max, at_eof)),
    }
}

fn octet_counted(data: &[u8], max: usize, at_eof: bool) -> Result<Option<Frame>, FramingError> {
    let Some(first) = data.first() else {
        return Ok(None);
    };
    if !(b'1'..=b'9').contains(first) {
        return Err(FramingError::NotOctetCounted);
    }
    let digits = data.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > MAX_LENGTH_DIGITS {
        return Err(FramingError::NotOctetCounted);
    }
    let rest_of_stream = |data: &[u8]| {
        (at_eof && !data.is_empty()).then_some(Frame {
            consumed: data.len(),
            frame: 0..data.len(),
            message_start: 0,
            declared_length: None,
        })
    };
    let Some(separator) = data.get(digits) else {
        return Ok(rest_of_stream(data));
    };
    // Go's splitter takes any whitespace after the length.
    if !separator.is_ascii_whitespace() && *separator != 0x0b {
        return Err(FramingError::NotOctetCounted);
    }
    let declared: usize = std::str::from_utf8(&data[..digits])
        .ok()
        .and_then(|digits| digits.parse().ok())
        .ok_or(FramingError::NotOctetCounted)?;
    let message_start = digits + 1;
    if declared.saturating_add(message_start) > max {
        return Err(FramingError::TooLong { declared, max });
    }
    let end = message_start + declared;
    if end > data.len() {
        return Ok(rest_of_stream(data));
    }
    Ok(Some(Frame {
        consumed: end,
        frame: 0..end,
        message_start,
        declared_length: Some(declared),
    }))
}

fn terminated(data: &[u8], trailer: u8, max: usize, at_eof: bool) -> Option<Frame> {
    let window = &data[..data.len().min(max)];
    let (consumed, end) = match window.iter().position(|b| *b == trailer) {
        Some(end) => (end + 1, end),
        // No trailer within `max` bytes: cut there, as Go's splitter does at max_log_size.
        None if data.len() >= max => (max, max),
        None if at_eof && !data.is_empty() => (data.len(), data.len()),
        None => return None,
    };
    Some(Frame {
        consumed,
        frame: 0..end,
        message_start: 0,
        declared_length: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame of `data`, as text, with the stream ending after it.
    fn frames(data: &[u8], framing: Framing, max: usize) -> Result<Vec<String>, FramingError> {
        let mut out = Vec::new();
        let mut rest = data;
        while let Some(frame) = next_frame(rest, framing, max, true)? {
            out.push(String::from_utf8_lossy(&rest[frame.frame.clone()]).into_owned());
            rest = &rest[frame.consumed..];
        }
        Ok(out)
    }

    #[test]
    fn octet_counted_frames_keep_their_prefix_and_may_contain_newlines() {
        let data = b"5 ab\ncd3 xyz";
        assert_eq!(
            frames(data, Framing::OctetCounting, 100).unwrap(),
            ["5 ab\ncd", "3 xyz"]
        );
        let frame = next_frame(data, Framing::OctetCounting, 100, false)
            .unwrap()
            .unwrap();
        assert_eq!(frame.declared_length, Some(5));
        assert_eq!(frame.message_start, 2);
    }

    #[test]
    fn an_incomplete_octet_frame_waits_for_more_or_is_flushed_at_the_end() {
        for partial in [&b"1"[..], b"12", b"12 <13>1"] {
            assert_eq!(
                next_frame(partial, Framing::OctetCounting, 100, false),
                Ok(None)
            );
            let flushed = next_frame(partial, Framing::OctetCounting, 100, true)
                .unwrap()
                .unwrap();
            assert_eq!(flushed.consumed, partial.len());
        }
    }

    #[test]
    fn octet_counting_refuses_what_it_cannot_frame() {
        for bad in [&b"0 x"[..], b"x", b"12x", b" 12 x", b"12345678901 x"] {
            assert_eq!(
                next_frame(bad, Framing::OctetCounting, 100, false),
                Err(FramingError::NotOctetCounted),
                "{bad:?}"
            );
        }
        assert_eq!(
            next_frame(b"99 x", Framing::OctetCounting, 50, false),
            Err(FramingError::TooLong {
                declared: 99,
                max: 50
            })
        );
    }

    #[test]
    fn a_frame_starting_with_pri_under_octet_counting_is_newline_terminated() {
        assert_eq!(
            frames(b"<13>a\n4 <1>b", Framing::OctetCounting, 100).unwrap(),
            ["<13>a", "4 <1>b"]
        );
    }

    #[test]
    fn trailer_frames_and_the_cut_at_max() {
        assert_eq!(
            frames(b"a\nb\n\nc", Framing::Trailer(b'\n'), 100).unwrap(),
            ["a", "b", "", "c"]
        );
        assert_eq!(
            frames(b"a\nb\0c\0", Framing::Trailer(0), 100).unwrap(),
            ["a\nb", "c"]
        );
        assert_eq!(
            frames(b"abcdefg\nh", Framing::Trailer(b'\n'), 3).unwrap(),
            ["abc", "def", "g", "h"]
        );
        assert_eq!(
            next_frame(b"abc", Framing::Trailer(b'\n'), 10, false),
            Ok(None)
        );
    }
}
