//! Logs: item counting and splitting for `ExportLogsServiceRequest`.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

use super::Signal;
use super::payload::{OtlpRequest, Payload, sealed};
use super::split::{self, impl_branch, impl_single_item};

/// A batch of log records, shared copy-on-write. See [`Payload`].
pub type Logs = Payload<ExportLogsServiceRequest>;

impl_branch!(ResourceLogs { resource, schema_url } => scope_logs: ScopeLogs);
impl_branch!(ScopeLogs { scope, schema_url } => log_records: LogRecord);

impl_single_item!(LogRecord);

impl sealed::Sealed for ExportLogsServiceRequest {}

impl OtlpRequest for ExportLogsServiceRequest {
    const SIGNAL: Signal = Signal::Logs;

    fn item_count(&self) -> usize {
        self.resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .map(|sl| sl.log_records.len())
            .sum()
    }

    fn split_into(self, max_items: usize) -> Vec<Self> {
        split::chunk(self.resource_logs, max_items)
            .into_iter()
            .map(|resource_logs| ExportLogsServiceRequest { resource_logs })
            .collect()
    }

    fn split_front(&mut self, count: usize) -> Self {
        ExportLogsServiceRequest {
            resource_logs: split::take_front(&mut self.resource_logs, count),
        }
    }

    fn partition<K: Ord + Default>(
        self,
        keys: impl IntoIterator<Item = K>,
    ) -> std::collections::BTreeMap<K, Self> {
        split::partition(self.resource_logs, keys)
            .into_iter()
            .map(|(key, resource_logs)| (key, ExportLogsServiceRequest { resource_logs }))
            .collect()
    }

    fn append(&mut self, other: Self) {
        self.resource_logs.extend(other.resource_logs);
    }

    fn encode_once(&self) -> Vec<u8> {
        super::encode::encode_request(&self.resource_logs)
    }

    fn cut_resource(
        resource: &[u8],
        first: usize,
        then: usize,
    ) -> Result<Vec<(bytes::Bytes, usize)>, prost::DecodeError> {
        // Leaves of one item each are cut on the bytes; malformed bytes (never for a
        // checked payload) are left to the decoder, for its error.
        match split::cut_encoded_leaves(resource, first, then) {
            Some(pieces) => Ok(pieces),
            None => split::cut_encoded::<ResourceLogs, _, _>(resource, first, then),
        }
    }
}
