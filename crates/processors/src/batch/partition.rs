//! Partitions: one batcher per distinct combination of `metadata_keys` values.
//!
//! Without `metadata_keys` there is a single partition. A partition lives while it is
//! used: it is removed once it has held no data for a while, so the number of partitions
//! tracks the tenants actually sending, and `metadata_cardinality_limit` bounds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::telemetry::Gauge;

use super::accumulator::Accumulator;

/// The values of the configured metadata keys in a request's client metadata, in key
/// order (a key absent from the metadata has no values).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PartitionKey(Vec<Vec<String>>);

impl PartitionKey {
    /// The key of data that arrived with `metadata`; `keys` are lower-case.
    pub fn of(keys: &[String], metadata: Option<&ClientMetadata>) -> Self {
        PartitionKey(
            keys.iter()
                .map(|key| metadata.map_or_else(Vec::new, |m| m.get(key).to_vec()))
                .collect(),
        )
    }

    /// The client metadata that batches of this partition carry: every key with its values.
    fn metadata(&self, keys: &[String]) -> ClientMetadata {
        let mut metadata = ClientMetadata::new();
        for (key, values) in keys.iter().zip(&self.0) {
            for value in values {
                metadata.insert(key, value.clone());
            }
        }
        metadata
    }
}

/// One partition: its pending data and the timer state its timer task acts on.
pub(crate) struct Partition<R> {
    key: PartitionKey,
    /// What its batches carry when their requests' own metadata differ: the partition's
    /// key values, or nothing without `metadata_keys`.
    pub metadata: Arc<ClientMetadata>,
    pub state: Mutex<PartitionState<R>>,
    /// Signalled when a batch opens, so the timer task sleeps until its deadline instead of
    /// until the partition goes idle.
    pub opened: Notify,
}

/// The mutable part of a partition.
pub(crate) struct PartitionState<R> {
    pub pending: Accumulator<R>,
    /// When the open batch must go out, if one is open.
    pub deadline: Option<Instant>,
    /// When data last arrived.
    pub last_used: Instant,
    /// Set when the partition was removed (idle, or shutdown); data must then go elsewhere.
    pub closed: bool,
}

impl<R> Partition<R> {
    pub fn state(&self) -> MutexGuard<'_, PartitionState<R>> {
        lock(&self.state)
    }
}

/// The outcome of looking up the partition for some data.
pub(crate) enum Lookup<R> {
    /// The partition exists.
    Found(Arc<Partition<R>>),
    /// The partition was created; its timer task must be started.
    Created(Arc<Partition<R>>),
    /// Creating it would exceed `metadata_cardinality_limit`.
    TooMany,
    /// The processor has shut down.
    ShutDown,
}

/// Every live partition of one processor.
pub(crate) struct Partitions<R> {
    map: Mutex<PartitionMap<R>>,
    keys: Vec<String>,
    /// 0: no limit.
    limit: usize,
    cardinality: Gauge,
}

struct PartitionMap<R> {
    partitions: HashMap<PartitionKey, Arc<Partition<R>>>,
    shut_down: bool,
}

impl<R> Partitions<R> {
    /// No partitions yet. `keys` are the lower-case metadata keys; `cardinality` counts
    /// the live partitions.
    pub fn new(keys: Vec<String>, limit: usize, cardinality: Gauge) -> Self {
        Partitions {
            map: Mutex::new(PartitionMap {
                partitions: HashMap::new(),
                shut_down: false,
            }),
            keys,
            limit,
            cardinality,
        }
    }

    /// The partition for data with this client metadata.
    pub fn key_of(&self, metadata: Option<&ClientMetadata>) -> PartitionKey {
        PartitionKey::of(&self.keys, metadata)
    }

    /// The partition for `key`, created (with `pending`) if needed.
    pub fn get_or_create(
        &self,
        key: &PartitionKey,
        pending: impl FnOnce() -> Accumulator<R>,
    ) -> Lookup<R> {
        let mut map = lock(&self.map);
        if map.shut_down {
            return Lookup::ShutDown;
        }
        if let Some(partition) = map.partitions.get(key) {
            return Lookup::Found(Arc::clone(partition));
        }
        if self.limit != 0 && map.partitions.len() >= self.limit {
            return Lookup::TooMany;
        }
        let partition = Arc::new(Partition {
            key: key.clone(),
            metadata: Arc::new(key.metadata(&self.keys)),
            state: Mutex::new(PartitionState {
                pending: pending(),
                deadline: None,
                last_used: Instant::now(),
                closed: false,
            }),
            opened: Notify::new(),
        });
        map.partitions.insert(key.clone(), Arc::clone(&partition));
        self.cardinality.add(1);
        Lookup::Created(partition)
    }

    /// Removes and closes `partition` if it holds no data and has not been used for
    /// `idle_after`. Returns whether it is closed (by this call or earlier).
    pub fn remove_if_idle(&self, partition: &Partition<R>, idle_after: Duration) -> bool {
        let mut map = lock(&self.map);
        let mut state = partition.state();
        if state.closed {
            return true;
        }
        if !state.pending.is_empty() || Instant::now() < state.last_used + idle_after {
            return false;
        }
        state.closed = true;
        map.partitions.remove(&partition.key);
        self.cardinality.add(-1);
        true
    }

    /// Removes every partition and refuses to create more; the caller closes and flushes
    /// the partitions returned.
    pub fn shut_down(&self) -> Vec<Arc<Partition<R>>> {
        let mut map = lock(&self.map);
        map.shut_down = true;
        let partitions: Vec<_> = map.partitions.drain().map(|(_, p)| p).collect();
        self.cardinality.add(-(partitions.len() as i64));
        partitions
    }
}

/// Locks a mutex, carrying on if a panic poisoned it: every critical section here leaves
/// the data consistent at each step.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_matched_case_insensitively_and_values_kept_in_order() {
        let keys = vec!["tenant".to_string(), "region".to_string()];
        let mut metadata = ClientMetadata::new();
        metadata.insert("Tenant", "a");
        metadata.insert("REGION", "eu");
        metadata.insert("region", "us");
        metadata.insert("authorization", "secret");
        let key = PartitionKey::of(&keys, Some(&metadata));
        assert_eq!(
            key,
            PartitionKey(vec![vec!["a".into()], vec!["eu".into(), "us".into()]])
        );
        let carried = key.metadata(&keys);
        assert_eq!(carried.get("region"), ["eu", "us"]);
        assert!(
            carried.get("authorization").is_empty(),
            "only the partition's keys are carried"
        );
        assert_eq!(
            PartitionKey::of(&keys, None),
            PartitionKey(vec![vec![], vec![]])
        );
    }
}
