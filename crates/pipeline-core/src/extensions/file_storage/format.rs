//! The bytes of a segment file: a header, then records.
//!
//! ```text
//! segment header (16 bytes):  "TRIBSEG1"  segment id (u64 LE)
//! record (24-byte header + payload):
//!   magic u32 LE  0x31515254 ("TRQ1")
//!   len   u32 LE  payload length
//!   crc   u32 LE  CRC-32C of len, seq, items and payload
//!   seq   u64 LE  sequence number, increasing through the queue
//!   items u32 LE  items in the payload (for the `items` sizer)
//!   payload
//! ```
//!
//! A record is valid when its magic matches, its length fits, and its CRC matches. After
//! an invalid record, [`scan`] looks for the next valid one byte by byte (the magic and the
//! CRC make a false match vanishingly unlikely), so one damaged record costs only itself.

/// The segment header's first bytes.
pub(super) const SEGMENT_MAGIC: &[u8; 8] = b"TRIBSEG1";
/// Size of the segment header.
pub(super) const SEGMENT_HEADER_LEN: u64 = 16;
/// The record header's first bytes.
const RECORD_MAGIC: u32 = u32::from_le_bytes(*b"TRQ1");
/// Size of a record header.
pub(super) const RECORD_HEADER_LEN: usize = 24;
/// The largest payload stored in one record.
pub(super) const MAX_PAYLOAD_LEN: usize = 1 << 30;

/// The header of a segment file.
pub(super) fn segment_header(id: u64) -> [u8; SEGMENT_HEADER_LEN as usize] {
    let mut header = [0u8; SEGMENT_HEADER_LEN as usize];
    header[..8].copy_from_slice(SEGMENT_MAGIC);
    header[8..].copy_from_slice(&id.to_le_bytes());
    header
}

/// Whether `bytes` start with a valid header for segment `id`.
pub(super) fn is_segment_header(bytes: &[u8], id: u64) -> bool {
    bytes.len() >= SEGMENT_HEADER_LEN as usize
        && bytes[..8] == SEGMENT_MAGIC[..]
        && bytes[8..16] == id.to_le_bytes()
}

/// The header of a record whose payload is the concatenation of `payload`'s parts.
pub(super) fn record_header(seq: u64, items: u32, payload: &[&[u8]]) -> [u8; RECORD_HEADER_LEN] {
    let len: usize = payload.iter().map(|part| part.len()).sum();
    debug_assert!(len <= MAX_PAYLOAD_LEN);
    let mut header = [0u8; RECORD_HEADER_LEN];
    header[0..4].copy_from_slice(&RECORD_MAGIC.to_le_bytes());
    header[4..8].copy_from_slice(&(len as u32).to_le_bytes());
    header[12..20].copy_from_slice(&seq.to_le_bytes());
    header[20..24].copy_from_slice(&items.to_le_bytes());
    let mut crc = crc32c::crc32c(&header[4..8]);
    crc = crc32c::crc32c_append(crc, &header[12..24]);
    for part in payload {
        crc = crc32c::crc32c_append(crc, part);
    }
    header[8..12].copy_from_slice(&crc.to_le_bytes());
    header
}

/// Appends a complete record to `out`.
pub(super) fn encode_record(out: &mut Vec<u8>, seq: u64, items: u32, payload: &[&[u8]]) {
    out.extend_from_slice(&record_header(seq, items, payload));
    for part in payload {
        out.extend_from_slice(part);
    }
}

/// The fields of a record header, not yet checked against its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RecordHeader {
    /// Payload length.
    pub len: usize,
    /// The CRC stored in the header.
    crc: u32,
    /// Sequence number.
    pub seq: u64,
    /// Items in the payload.
    pub items: u32,
}

impl RecordHeader {
    /// Parses a header; `None` if the magic is wrong or the length impossible.
    pub fn parse(bytes: &[u8]) -> Option<RecordHeader> {
        let bytes: &[u8; RECORD_HEADER_LEN] = bytes.get(..RECORD_HEADER_LEN)?.try_into().ok()?;
        let word = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        if word(0) != RECORD_MAGIC {
            return None;
        }
        let len = word(4) as usize;
        if len > MAX_PAYLOAD_LEN {
            return None;
        }
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&bytes[12..20]);
        Some(RecordHeader {
            len,
            crc: word(8),
            seq: u64::from_le_bytes(seq),
            items: word(20),
        })
    }

    /// Whether `header_bytes` (this header as stored) and `payload` match the stored CRC.
    pub fn checks(&self, header_bytes: &[u8], payload: &[u8]) -> bool {
        let mut crc = crc32c::crc32c(&header_bytes[4..8]);
        crc = crc32c::crc32c_append(crc, &header_bytes[12..24]);
        crc = crc32c::crc32c_append(crc, payload);
        crc == self.crc
    }

    /// Size of the whole record on disk.
    pub fn record_len(&self) -> u64 {
        (RECORD_HEADER_LEN + self.len) as u64
    }
}

/// One step of reading a segment's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Scanned {
    /// A valid record at `offset`; its payload is `bytes[offset + 24 .. end]`.
    Record {
        /// Where the record starts.
        offset: u64,
        /// Where the record ends (the next record's offset).
        end: u64,
        /// The record's header fields.
        header: RecordHeader,
    },
    /// Bytes from `offset` to `resume` are not a valid record, and a valid record starts
    /// at `resume`.
    Corrupt {
        /// Where the damage starts.
        offset: u64,
        /// Where the next valid record starts.
        resume: u64,
    },
    /// No valid record starts at or after `offset`: the valid data ends there. `trailing`
    /// tells whether bytes follow (a torn or damaged tail) or the data simply ends.
    End {
        /// Where the valid data ends.
        offset: u64,
        /// Whether there are bytes after `offset`.
        trailing: bool,
    },
}

/// The valid record at `offset` in `bytes` (a whole segment, offsets from its start), if
/// there is one.
pub(super) fn record_at(bytes: &[u8], offset: u64) -> Option<(RecordHeader, u64)> {
    let start = usize::try_from(offset).ok()?;
    let header_bytes = bytes.get(start..start.checked_add(RECORD_HEADER_LEN)?)?;
    let header = RecordHeader::parse(header_bytes)?;
    let payload_start = start + RECORD_HEADER_LEN;
    let payload = bytes.get(payload_start..payload_start.checked_add(header.len)?)?;
    header
        .checks(header_bytes, payload)
        .then(|| (header, offset + header.record_len()))
}

/// Reads the record at `offset` in a segment's `bytes`, or finds the damage there and
/// where valid records resume.
pub(super) fn scan(bytes: &[u8], offset: u64) -> Scanned {
    let len = bytes.len() as u64;
    if offset >= len {
        return Scanned::End {
            offset,
            trailing: false,
        };
    }
    if let Some((header, end)) = record_at(bytes, offset) {
        return Scanned::Record {
            offset,
            end,
            header,
        };
    }
    match next_valid(bytes, offset + 1) {
        Some(resume) => Scanned::Corrupt { offset, resume },
        None => Scanned::End {
            offset,
            trailing: true,
        },
    }
}

/// The first offset at or after `from` where a valid record starts.
fn next_valid(bytes: &[u8], from: u64) -> Option<u64> {
    let magic = RECORD_MAGIC.to_le_bytes();
    let mut at = usize::try_from(from).ok()?;
    while at + RECORD_HEADER_LEN <= bytes.len() {
        let found = bytes[at..].windows(4).position(|w| w == magic)?;
        at += found;
        if record_at(bytes, at as u64).is_some() {
            return Some(at as u64);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn segment(records: &[(u64, &[u8])]) -> Vec<u8> {
        let mut out = segment_header(7).to_vec();
        for (seq, payload) in records {
            encode_record(&mut out, *seq, payload.len() as u32, &[payload]);
        }
        out
    }

    fn all(bytes: &[u8]) -> Vec<Scanned> {
        let mut out = Vec::new();
        let mut at = SEGMENT_HEADER_LEN;
        loop {
            let step = scan(bytes, at);
            out.push(step.clone());
            match step {
                Scanned::Record { end, .. } => at = end,
                Scanned::Corrupt { resume, .. } => at = resume,
                Scanned::End { .. } => return out,
            }
        }
    }

    fn seqs(steps: &[Scanned]) -> Vec<u64> {
        steps
            .iter()
            .filter_map(|s| match s {
                Scanned::Record { header, .. } => Some(header.seq),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn reads_back_what_was_written() {
        let bytes = segment(&[(1, b"one"), (2, b""), (3, b"three")]);
        assert!(is_segment_header(&bytes, 7));
        assert!(!is_segment_header(&bytes, 8));
        let steps = all(&bytes);
        assert_eq!(seqs(&steps), [1, 2, 3]);
        assert_eq!(
            steps.last(),
            Some(&Scanned::End {
                offset: bytes.len() as u64,
                trailing: false
            })
        );
    }

    #[test]
    fn a_split_payload_has_the_same_crc_as_a_whole_one() {
        let mut whole = Vec::new();
        encode_record(&mut whole, 9, 2, &[b"prefix-body"]);
        let mut split = Vec::new();
        encode_record(&mut split, 9, 2, &[b"prefix-", b"body"]);
        assert_eq!(whole, split);
    }

    #[test]
    fn a_torn_tail_ends_the_data_where_the_last_whole_record_ends() {
        let bytes = segment(&[(1, b"one"), (2, b"two")]);
        let whole_end = (SEGMENT_HEADER_LEN as usize) + RECORD_HEADER_LEN + 3;
        for cut in whole_end + 1..bytes.len() {
            let steps = all(&bytes[..cut]);
            assert_eq!(seqs(&steps), [1]);
            assert_eq!(
                steps.last(),
                Some(&Scanned::End {
                    offset: whole_end as u64,
                    trailing: true
                })
            );
        }
    }

    #[test]
    fn a_damaged_record_is_skipped_and_the_next_one_found() {
        let mut bytes = segment(&[(1, b"one"), (2, b"two"), (3, b"three")]);
        let second = (SEGMENT_HEADER_LEN as usize) + RECORD_HEADER_LEN + 3;
        bytes[second + RECORD_HEADER_LEN + 1] ^= 0x40;
        let steps = all(&bytes);
        assert_eq!(seqs(&steps), [1, 3]);
        assert!(steps.contains(&Scanned::Corrupt {
            offset: second as u64,
            resume: (second + RECORD_HEADER_LEN + 3) as u64
        }));
    }

    proptest! {
        /// Whatever bytes are flipped, scanning terminates, never invents a record, and
        /// returns every record whose bytes were not touched.
        #[test]
        fn flipped_bytes_lose_only_the_records_they_touch(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..12),
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..4),
        ) {
            let records: Vec<(u64, &[u8])> = payloads.iter().enumerate().map(|(i, p)| (i as u64 + 1, p.as_slice())).collect();
            let mut bytes = segment(&records);
            let mut spans = Vec::new();
            let mut at = SEGMENT_HEADER_LEN as usize;
            for (_, p) in &records {
                spans.push(at..at + RECORD_HEADER_LEN + p.len());
                at += RECORD_HEADER_LEN + p.len();
            }
            let original = bytes.clone();
            for (index, mask) in &flips {
                let at = SEGMENT_HEADER_LEN as usize + index.index(bytes.len() - SEGMENT_HEADER_LEN as usize);
                bytes[at] ^= mask;
            }
            let touched: Vec<bool> = spans.iter().map(|span| bytes[span.clone()] != original[span.clone()]).collect();
            let found = seqs(&all(&bytes));
            for (i, (seq, _)) in records.iter().enumerate() {
                if !touched[i] {
                    prop_assert!(found.contains(seq), "record {} untouched but lost", seq);
                } else {
                    prop_assert!(!found.contains(seq), "record {} damaged but accepted", seq);
                }
            }
        }
    }
}
