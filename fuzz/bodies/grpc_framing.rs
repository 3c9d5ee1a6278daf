//! The OTLP/gRPC receiver's framing of a call's body: one length-prefixed message (a
//! compression flag, a big-endian u32 length, the message), its bytes arriving in chunks
//! cut anywhere. Never a panic; a body it accepts is exactly one whole message within the
//! limit; and how the body was cut never changes whether it is accepted.

use bytes::Bytes;
use tributary_receivers::otlp::frame_grpc_message;

/// The receiver's `max_recv_msg_size_mib`, small enough for the fuzzer to cross.
const MAX_MESSAGE: usize = 1024;

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let whole = frame_grpc_message([Bytes::copy_from_slice(body)], MAX_MESSAGE);
    let chunks = body
        .chunks(usize::from(cut) + 1)
        .map(Bytes::copy_from_slice);
    let in_chunks = frame_grpc_message(chunks, MAX_MESSAGE);
    assert_eq!(
        whole.is_ok(),
        in_chunks.is_ok(),
        "{whole:?} / {in_chunks:?}"
    );
    if let (Ok(message), Ok(joined)) = (whole, in_chunks) {
        assert_eq!(message, body);
        assert_eq!(joined, body);
        let length = u32::from_be_bytes([message[1], message[2], message[3], message[4]]);
        let length = usize::try_from(length).expect("a u32 fits in usize");
        assert!(length <= MAX_MESSAGE);
        assert_eq!(message.len(), 5 + length);
    }
}
