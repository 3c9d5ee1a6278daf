//! RFC 6587 framing of a TCP stream (octet counting, LF and NUL trailers): every frame is
//! within the stream and within the limit, and framing always advances.

use tributary_receivers::syslog::{Framing, next_frame};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    const MAX: usize = 256;
    for framing in [
        Framing::OctetCounting,
        Framing::Trailer(b'\n'),
        Framing::Trailer(0),
    ] {
        for at_eof in [false, true] {
            let mut rest = data;
            while let Ok(Some(frame)) = next_frame(rest, framing, MAX, at_eof) {
                assert!(frame.consumed > 0 && frame.consumed <= rest.len());
                assert!(frame.frame.end <= frame.consumed && frame.frame.len() <= MAX);
                assert!(frame.message_start <= frame.frame.end);
                rest = &rest[frame.consumed..];
            }
        }
    }
}
