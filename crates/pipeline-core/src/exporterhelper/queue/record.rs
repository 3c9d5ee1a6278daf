//! How a request is framed in a persistent queue record.
//!
//! ```text
//! format u8 (1)  signal u8 (1 traces, 2 metrics, 3 logs)  flags u8 (bit 0: has metadata)
//! metadata_len u32 LE  metadata
//! the request's OTLP protobuf encoding (to the end of the record)
//! metadata: keys u32, then per key: len u32, key, values u32, then per value: len u32, value
//! ```
//! The protobuf bytes are the payload's own cached encoding, written as a second part of
//! the record, so framing copies only the metadata.

use std::sync::Arc;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::exporterhelper::NewRecord;
use crate::pdata::{ClientMetadata, Signal, SignalData};

const FORMAT: u8 = 1;
const HAS_METADATA: u8 = 1;

fn signal_byte(signal: Signal) -> u8 {
    match signal {
        Signal::Traces => 1,
        Signal::Metrics => 2,
        Signal::Logs => 3,
    }
}

/// Frames `data` as a record, keeping `data` itself as the record's cached value.
pub(crate) fn encode_record<T: SignalData>(data: &T) -> NewRecord {
    let mut metadata = BytesMut::new();
    if let Some(md) = data.metadata() {
        let entries: Vec<(&str, &[String])> = md.iter().collect();
        metadata.put_u32_le(entries.len() as u32);
        for (key, values) in entries {
            metadata.put_u32_le(key.len() as u32);
            metadata.put_slice(key.as_bytes());
            metadata.put_u32_le(values.len() as u32);
            for value in values {
                metadata.put_u32_le(value.len() as u32);
                metadata.put_slice(value.as_bytes());
            }
        }
    }
    let mut prefix = BytesMut::with_capacity(7 + metadata.len());
    prefix.put_u8(FORMAT);
    prefix.put_u8(signal_byte(T::SIGNAL));
    prefix.put_u8(if data.metadata().is_some() {
        HAS_METADATA
    } else {
        0
    });
    prefix.put_u32_le(metadata.len() as u32);
    prefix.put_slice(&metadata);
    NewRecord {
        prefix: prefix.freeze(),
        body: data.encoded(),
        items: u32::try_from(data.item_count()).unwrap_or(u32::MAX),
        cached: Some(Arc::new(data.clone())),
    }
}

/// Reads back a record written by [`encode_record`].
pub(crate) fn decode_record<T: SignalData>(mut bytes: Bytes) -> Result<T, String> {
    let short = || "record too short".to_string();
    if bytes.remaining() < 7 {
        return Err(short());
    }
    let format = bytes.get_u8();
    if format != FORMAT {
        return Err(format!("unknown record format {format}"));
    }
    let signal = bytes.get_u8();
    if signal != signal_byte(T::SIGNAL) {
        return Err(format!(
            "record holds signal {signal}, not {}",
            T::SIGNAL.as_str()
        ));
    }
    let flags = bytes.get_u8();
    let metadata_len = bytes.get_u32_le() as usize;
    if bytes.remaining() < metadata_len {
        return Err(short());
    }
    let mut metadata_bytes = bytes.split_to(metadata_len);
    let metadata = if flags & HAS_METADATA != 0 {
        Some(Arc::new(
            read_metadata(&mut metadata_bytes)
                .ok_or_else(|| "damaged client metadata".to_string())?,
        ))
    } else {
        None
    };
    let data = T::decode(bytes).map_err(|e| e.to_string())?;
    Ok(match metadata {
        Some(metadata) => data.with_metadata(metadata),
        None => data,
    })
}

fn read_metadata(bytes: &mut Bytes) -> Option<ClientMetadata> {
    fn string(bytes: &mut Bytes) -> Option<String> {
        if bytes.remaining() < 4 {
            return None;
        }
        let len = bytes.get_u32_le() as usize;
        if bytes.remaining() < len {
            return None;
        }
        String::from_utf8(bytes.split_to(len).to_vec()).ok()
    }
    let mut metadata = ClientMetadata::new();
    if bytes.remaining() < 4 {
        return None;
    }
    let keys = bytes.get_u32_le();
    for _ in 0..keys {
        let key = string(bytes)?;
        if bytes.remaining() < 4 {
            return None;
        }
        let values = bytes.get_u32_le();
        for _ in 0..values {
            metadata.insert(&key, string(bytes)?);
        }
    }
    Some(metadata)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::exporterhelper::testing::numbered;
    use crate::pdata::{Logs, Traces};

    fn stored<T: SignalData>(data: &T) -> Bytes {
        let record = encode_record(data);
        let mut bytes = record.prefix.to_vec();
        bytes.extend_from_slice(&record.body);
        bytes.into()
    }

    proptest! {
        #[test]
        fn round_trips_data_and_metadata(
            ids in proptest::collection::vec(any::<u64>(), 0..20),
            metadata in proptest::option::of(proptest::collection::btree_map("[a-z-]{1,8}", proptest::collection::vec(".{0,8}", 1..3), 0..4)),
        ) {
            let mut data = numbered(ids);
            if let Some(entries) = &metadata {
                let mut md = ClientMetadata::new();
                for (key, values) in entries {
                    for value in values {
                        md.insert(key, value.clone());
                    }
                }
                data = data.with_metadata(Arc::new(md));
            }
            let back: Traces = decode_record(stored(&data)).unwrap();
            prop_assert_eq!(&back, &data);
            prop_assert_eq!(back.metadata(), data.metadata());
        }
    }

    #[test]
    fn refuses_another_signal_and_damaged_framing() {
        let bytes = stored(&numbered([1, 2]));
        assert!(decode_record::<Logs>(bytes.clone()).is_err());
        assert!(decode_record::<Traces>(bytes.slice(..3)).is_err());
        let mut bad = bytes.to_vec();
        bad[0] = 9;
        assert!(decode_record::<Traces>(bad.into()).is_err());
    }
}
