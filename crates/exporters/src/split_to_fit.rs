//! Encoding a batch into messages no larger than a limit (a broker's message size), for
//! the exporters that publish whole batches as messages (`nats`, `kafka`).

use bytes::Bytes;
use tributary_pipeline_core::prelude::*;

/// Encodes `data` with `encode` into messages of at most `limit` bytes, halving a batch
/// (by items) until each part fits; the messages keep the items' order. A single item
/// larger than `limit` cannot be sent: a permanent error.
pub(crate) fn encode_within<T: SignalData>(
    data: T,
    limit: usize,
    encode: impl Fn(&T) -> Result<Bytes, ConsumeError>,
) -> Result<Vec<Bytes>, ConsumeError> {
    let mut pending = vec![data];
    let mut messages = Vec::new();
    while let Some(part) = pending.pop() {
        let bytes = encode(&part)?;
        if bytes.len() <= limit {
            messages.push(bytes);
            continue;
        }
        let items = part.item_count();
        if items <= 1 {
            return Err(ConsumeError::permanent(format!(
                "one {} encodes to {} bytes, over the {limit}-byte message limit",
                T::SIGNAL.item_name(),
                bytes.len()
            )));
        }
        // Split in halves and keep the order: the first half is sent first.
        let mut halves = part.split(items.div_ceil(2));
        halves.reverse();
        pending.extend(halves);
    }
    Ok(messages)
}

/// The batch as OTLP/JSON bytes.
pub(crate) fn otlp_json<T: JsonData>(data: &T) -> Result<Bytes, ConsumeError> {
    let mut out = Vec::with_capacity(data.encoded_len() * 2);
    data.write_otlp_json(&mut out)
        .map_err(|e| ConsumeError::permanent(format!("cannot encode as OTLP/JSON: {e}")))?;
    Ok(out.into())
}
