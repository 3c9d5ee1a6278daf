//! Counting the items in an encoded OTLP request by walking the protobuf wire format: the
//! sink reads field tags and lengths and skips everything else, so counting costs a small
//! fraction of a decode and allocates nothing.

use crate::requests::Signal;

/// The encoding is not valid protobuf.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(&'static str);

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed protobuf: {}", self.0)
    }
}

/// One field as found on the wire; only length-delimited fields keep their bytes.
enum Field<'a> {
    Bytes(&'a [u8]),
    Other,
}

struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { rest: buf }
    }

    fn varint(&mut self) -> Result<u64, Malformed> {
        let mut value = 0u64;
        for (index, byte) in self.rest.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                self.rest = &self.rest[index + 1..];
                return Ok(value);
            }
        }
        Err(Malformed("truncated or overlong varint"))
    }

    fn skip(&mut self, len: usize) -> Result<&'a [u8], Malformed> {
        if self.rest.len() < len {
            return Err(Malformed("field runs past the end"));
        }
        let (field, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(field)
    }

    /// The next field's number and content, or `None` at the end.
    fn next_field(&mut self) -> Result<Option<(u64, Field<'a>)>, Malformed> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        let field = match key & 7 {
            0 => {
                self.varint()?;
                Field::Other
            }
            1 => {
                self.skip(8)?;
                Field::Other
            }
            2 => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| Malformed("length does not fit in memory"))?;
                Field::Bytes(self.skip(len)?)
            }
            5 => {
                self.skip(4)?;
                Field::Other
            }
            _ => return Err(Malformed("unsupported wire type")),
        };
        Ok(Some((number, field)))
    }
}

/// Calls `each` with the bytes of every length-delimited field `number` in `buf`.
fn each_message<'a>(
    buf: &'a [u8],
    number: u64,
    mut each: impl FnMut(&'a [u8]) -> Result<(), Malformed>,
) -> Result<(), Malformed> {
    let mut fields = Fields::new(buf);
    while let Some((found, field)) = fields.next_field()? {
        if found == number {
            match field {
                Field::Bytes(bytes) => each(bytes)?,
                Field::Other => return Err(Malformed("message field with a scalar wire type")),
            }
        }
    }
    Ok(())
}

/// Number of fields `number` in `buf`.
fn count_fields(buf: &[u8], number: u64) -> Result<u64, Malformed> {
    let mut count = 0;
    let mut fields = Fields::new(buf);
    while let Some((found, _)) = fields.next_field()? {
        if found == number {
            count += 1;
        }
    }
    Ok(count)
}

/// Calls `each` with every scope-level message (ScopeSpans, ScopeMetrics, ScopeLogs): in
/// every export request, resources are field 1 and each resource's scopes are field 2.
fn each_scope<'a>(
    request: &'a [u8],
    each: &mut impl FnMut(&'a [u8]) -> Result<(), Malformed>,
) -> Result<(), Malformed> {
    each_message(request, 1, |resource| each_message(resource, 2, &mut *each))
}

/// Metric fields holding data points: gauge, sum, histogram, exponential histogram, summary.
/// Each of those messages keeps its data points in field 1.
const METRIC_DATA_FIELDS: [u64; 5] = [5, 7, 9, 10, 11];

/// Number of items (spans, metric data points or log records) in an encoded export request.
pub fn count_items(signal: Signal, request: &[u8]) -> Result<u64, Malformed> {
    let mut total = 0;
    match signal {
        // ScopeSpans.spans and ScopeLogs.log_records are field 2.
        Signal::Traces | Signal::Logs => each_scope(request, &mut |scope| {
            total += count_fields(scope, 2)?;
            Ok(())
        })?,
        // ScopeMetrics.metrics is field 2.
        Signal::Metrics | Signal::Points => each_scope(request, &mut |scope| {
            each_message(scope, 2, |metric| {
                let mut fields = Fields::new(metric);
                while let Some((number, field)) = fields.next_field()? {
                    if let (true, Field::Bytes(data)) =
                        (METRIC_DATA_FIELDS.contains(&number), field)
                    {
                        total += count_fields(data, 1)?;
                    }
                }
                Ok(())
            })
        })?,
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::payloads::{self, Rng};
    use crate::proto::metrics::v1::{ExponentialHistogram, Metric, Summary, metric};

    #[test]
    fn counts_what_a_decode_counts() {
        let mut rng = Rng::new(7);
        for items in [0, 1, 7, 100, 1000] {
            let traces = payloads::traces(&mut rng, items, payloads::MAX_SPANS_PER_TRACE);
            let metrics = payloads::metrics(&mut rng, items);
            let logs = payloads::logs(&mut rng, items);
            let expected = items as u64;
            assert_eq!(
                count_items(Signal::Traces, &traces.encode_to_vec()),
                Ok(expected)
            );
            assert_eq!(
                count_items(Signal::Metrics, &metrics.encode_to_vec()),
                Ok(expected)
            );
            assert_eq!(
                count_items(Signal::Logs, &logs.encode_to_vec()),
                Ok(expected)
            );
        }
    }

    #[test]
    fn counts_every_metric_kind() {
        let mut request = payloads::metrics(&mut Rng::new(1), 0);
        let scope = &mut request.resource_metrics[0].scope_metrics;
        scope.push(Default::default());
        scope[0].metrics.extend([
            Metric {
                data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
                    data_points: vec![Default::default(); 3],
                    ..Default::default()
                })),
                ..Default::default()
            },
            Metric {
                data: Some(metric::Data::Summary(Summary {
                    data_points: vec![Default::default(); 2],
                })),
                ..Default::default()
            },
        ]);
        assert_eq!(
            count_items(Signal::Metrics, &request.encode_to_vec()),
            Ok(5)
        );
    }

    #[test]
    fn concatenated_requests_add_up() {
        // An exporter may merge requests by concatenating their encodings.
        let mut rng = Rng::new(3);
        let mut bytes =
            payloads::traces(&mut rng, 10, payloads::MAX_SPANS_PER_TRACE).encode_to_vec();
        bytes.extend(payloads::traces(&mut rng, 15, payloads::MAX_SPANS_PER_TRACE).encode_to_vec());
        assert_eq!(count_items(Signal::Traces, &bytes), Ok(25));
    }

    #[test]
    fn rejects_truncated_input() {
        let bytes =
            payloads::traces(&mut Rng::new(5), 10, payloads::MAX_SPANS_PER_TRACE).encode_to_vec();
        assert!(count_items(Signal::Traces, &bytes[..bytes.len() - 3]).is_err());
        assert!(count_items(Signal::Traces, &[0xff; 11]).is_err());
    }
}
