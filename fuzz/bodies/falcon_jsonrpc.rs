//! Falcon's JSON-RPC 1.0 framing (the falcon receiver's TCP listener): the splitter never
//! panics whatever the bytes and however the reads cut them, never yields a frame larger
//! than its limit, and every frame it yields is one balanced JSON object; requests decoded
//! from frames give an argument or an error, never a panic.

use tributary_translator_falcon::FrameSplitter;
use tributary_translator_falcon::jsonrpc::parse_request;

const LIMIT: usize = 4096;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let (cut, stream) = match data.split_first() {
        Some((cut, stream)) => (usize::from(*cut), stream),
        None => return,
    };
    let cut = cut.min(stream.len());
    let mut frames = FrameSplitter::new(LIMIT);
    for part in [&stream[..cut], &stream[cut..]] {
        frames.extend(part);
        loop {
            match frames.next_frame() {
                Ok(Some(frame)) => {
                    assert!(frame.len() <= LIMIT + 1);
                    assert_eq!(frame.first(), Some(&b'{'));
                    assert_eq!(frame.last(), Some(&b'}'));
                    if let Ok(request) = parse_request(&frame) {
                        let _ = request.argument();
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}
