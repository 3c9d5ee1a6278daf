//! The Thrift readers: what a Jaeger client writes reads back as the same batch; damaged
//! input is an error, never a panic or a large allocation.

use proptest::prelude::*;

use super::{binary_batch, binary_datagram, compact_datagram, sample_batch};
use crate::jaeger::model::Batch;
use crate::jaeger::{decode_agent_binary, decode_agent_compact, decode_batch_binary};

#[test]
fn every_framing_reads_back_the_batch_written() {
    let batch = sample_batch();
    assert_eq!(
        decode_agent_compact(&compact_datagram(&batch)).unwrap(),
        batch
    );
    assert_eq!(
        decode_agent_binary(&binary_datagram(&batch)).unwrap(),
        batch
    );
    assert_eq!(decode_batch_binary(&binary_batch(&batch)).unwrap(), batch);
}

#[test]
fn a_truncated_datagram_is_an_error() {
    let datagram = compact_datagram(&sample_batch());
    for len in 0..datagram.len() {
        assert!(
            decode_agent_compact(&datagram[..len]).is_err(),
            "{len} bytes"
        );
    }
}

#[test]
fn the_wrong_protocol_or_call_is_an_error() {
    let batch = sample_batch();
    assert!(decode_agent_compact(&binary_datagram(&batch)).is_err());
    assert!(decode_agent_binary(&compact_datagram(&batch)).is_err());
    // A body posted to /api/traces is a bare Batch, not a call.
    assert!(decode_agent_binary(&binary_batch(&batch)).is_err());
    let mut renamed = compact_datagram(&batch);
    // The name follows the protocol id, the version/type byte, the sequence number
    // varint and the name's length.
    let at = renamed.windows(9).position(|w| w == b"emitBatch").unwrap();
    renamed[at..at + 9].copy_from_slice(b"emitOther");
    let error = decode_agent_compact(&renamed).unwrap_err().to_string();
    assert!(error.contains("emitOther"), "{error}");
}

#[test]
fn a_span_without_its_required_fields_is_an_error() {
    // A Batch whose only span is empty: its required fields are missing.
    let mut empty_span = Vec::new();
    {
        use ::thrift::protocol::{TBinaryOutputProtocol, TOutputProtocol, TStructIdentifier};
        let mut p = TBinaryOutputProtocol::new(&mut empty_span, true);
        p.write_struct_begin(&TStructIdentifier::new("Batch"))
            .unwrap();
        p.write_field_begin(&::thrift::protocol::TFieldIdentifier::new(
            "spans",
            ::thrift::protocol::TType::List,
            2,
        ))
        .unwrap();
        p.write_list_begin(&::thrift::protocol::TListIdentifier::new(
            ::thrift::protocol::TType::Struct,
            1,
        ))
        .unwrap();
        p.write_field_stop().unwrap();
        p.write_list_end().unwrap();
        p.write_field_end().unwrap();
        p.write_field_stop().unwrap();
    }
    let error = decode_batch_binary(&empty_span).unwrap_err().to_string();
    assert!(error.contains("required traceIdLow"), "{error}");
}

#[test]
fn a_huge_declared_length_is_refused_before_allocating() {
    // A compact emitBatch call whose batch claims a process name of 4 GiB - 1 bytes.
    let mut datagram = compact_datagram(&sample_batch());
    let at = datagram.windows(8).position(|w| w == b"checkout").unwrap();
    // The length varint precedes the name: replace it with 0xFFFFFFFF as a varint.
    let mut forged = datagram[..at - 1].to_vec();
    forged.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
    forged.extend_from_slice(&datagram.split_off(at));
    let error = decode_agent_compact(&forged).unwrap_err().to_string();
    assert!(
        error.contains("exceeds") || error.contains("too long"),
        "{error}"
    );
}

#[test]
fn deep_nesting_is_refused() {
    // An unknown field holding structs nested 10 000 deep: skipped only to a depth limit.
    let mut body = Vec::new();
    for _ in 0..10_000 {
        // Binary protocol: field header (type 12 = struct, id 99).
        body.extend_from_slice(&[12, 0, 99]);
    }
    assert!(decode_batch_binary(&body).is_err());
}

/// The fewest bytes a span takes in the compact protocol: its eight required fields.
const MIN_SPAN_BYTES: usize = 16;

fn span_count_is_bounded(input: &[u8], batch: &Batch) {
    assert!(
        batch.spans.len() * MIN_SPAN_BYTES <= input.len(),
        "{} spans from {} bytes",
        batch.spans.len(),
        input.len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for decode in [decode_agent_compact, decode_agent_binary, decode_batch_binary] {
            if let Ok(batch) = decode(&input) {
                span_count_is_bounded(&input, &batch);
            }
        }
    }

    #[test]
    fn mutated_datagrams_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let batch = sample_batch();
        for (mut input, decode) in [
            (compact_datagram(&batch), decode_agent_compact as fn(&[u8]) -> _),
            (binary_datagram(&batch), decode_agent_binary),
            (binary_batch(&batch), decode_batch_binary),
        ] {
            for (at, byte) in &edits {
                let len = input.len();
                input[at % len] = *byte;
            }
            input.truncate(cut % (input.len() + 1));
            if let Ok(batch) = decode(&input) {
                span_count_is_bounded(&input, &batch);
                // Whatever decodes also translates or is refused, without panicking.
                let _ = crate::jaeger::translate::batches_to_otlp([batch]);
            }
        }
    }
}
