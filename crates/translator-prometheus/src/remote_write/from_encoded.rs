//! OTLP metrics → remote-write request bodies straight from the OTLP encoding.
//!
//! [`from_otlp`](super::from_otlp) decodes a request into owned structs, builds each
//! point's label set (a `String` per name and value), and [`prost`] encodes the series
//! again: a dozen allocations per sample, and most of the exporter's CPU. Here the request
//! is read on its bytes and a [`SeriesCache`], kept across batches, maps what decides a
//! series' labels (its resource, scope, metric name and the point's attribute bytes) to
//! the labels already encoded. A point of a known gauge, cumulative sum or summary (each of
//! a summary's quantiles, `_sum` and `_count` a series) costs a hash of its metric's
//! identity and attribute bytes, a comparison with the key its scope had at the same place
//! the last time (a [`Trail`]; a map lookup when that differs) and a copy. The batch refers
//! to a known series by its slot in the cache and merges a series' samples by it, so no
//! label bytes are hashed or compared per point.
//!
//! Other metrics (histograms, points with exemplars, names that cannot be
//! translated, sums that are not cumulative) are decoded one by one and written by the
//! general path's code into the same batch. A request with delta monotonic sums (which
//! the exporter makes cumulative over the whole request) or options this path does not
//! take (`resource_to_telemetry`, `send_metadata`, `export_created`) gives `None`, and the
//! caller converts it the general way. The bodies written are byte for byte what
//! `from_otlp` and [`shard_bodies`] write (a property test holds them to it).

use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use prost::Message;
use prost::encoding::{encode_varint, encoded_len_varint};
use smallvec::SmallVec;
use tributary_pipeline_core::pdata::encoded::{WireField, fields};
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{AggregationTemporality, Metric};
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

use super::from_otlp::{
    Base, Dropped, FromOtlpSettings, SeriesSet, finish, float_text, kind_of, ms, value_or_stale,
    write_metric,
};
use crate::labels::{LabelOptions, ScopeRef, SharedLabels, target_info_labels};
use crate::normalize::{self, MetricNamer};
use crate::prompb::{Exemplar, Histogram, Label, Sample, TimeSeries};

/// Hashes a series' labels to its shard: a fixed seed, so a series goes to the same shard
/// in every batch.
const SHARD_HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0);

/// The hash a series is sharded by.
fn shard_hash(labels: &[Label]) -> u64 {
    SHARD_HASHER.hash_one(labels)
}

/// Splits `series` into shards by a hash of their labels (so a series is in one shard,
/// and its samples keep their order) and cuts each shard into requests of at most
/// `max_bytes` of protobuf (a single larger series goes alone). There are as many shards
/// as the batch needs requests by its size, at most `parallelism`: a batch that fits one
/// request is one request, as in Go's exporter.
/// Returns the unframed protobuf bodies per shard.
pub fn shard_bodies(
    series: Vec<TimeSeries>,
    parallelism: usize,
    max_bytes: usize,
) -> Vec<Vec<Vec<u8>>> {
    let mut batch = Batch {
        series: series.into_iter().map(BatchSeries::from).collect(),
        ..Batch::default()
    };
    encode_bodies(&mut batch, &[], parallelism, max_bytes)
}

/// How many shards a batch of `total` bytes of protobuf is split into: as many as it
/// needs requests of at most `max_bytes`, at most `parallelism`, at least one. As in Go's
/// exporter, a batch that fits one request is one request: splitting it further buys no
/// speed (the shards of one batch are sent together and waited for before the next batch,
/// so order never depended on the count) and costs a request's overhead per shard.
fn shard_count(total: usize, parallelism: usize, max_bytes: usize) -> usize {
    total
        .div_ceil(max_bytes.max(1))
        .clamp(1, parallelism.max(1))
}

/// The size of a message of `len` bytes as a field of its parent: key, length, message.
fn field_len(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

/// A series' labels, encoded as the `labels` fields of a `TimeSeries`.
struct EncodedLabels {
    bytes: Box<[u8]>,
    shard_hash: u64,
}

impl EncodedLabels {
    fn new(labels: &[Label]) -> EncodedLabels {
        let mut bytes = Vec::new();
        for label in labels {
            prost::encoding::message::encode(1, label, &mut bytes);
        }
        EncodedLabels {
            bytes: bytes.into_boxed_slice(),
            shard_hash: shard_hash(labels),
        }
    }
}

/// A resource seen before: its attributes, and its `target_info` series (by its slot) if
/// it has one.
struct ResourceEntry {
    id: u32,
    attributes: Vec<KeyValue>,
    target_info: Option<u32>,
    used: u32,
}

/// A scope of a resource seen before.
struct ScopeEntry {
    id: u32,
    scope: Arc<Scope>,
    used: u32,
    /// The keys and slots of the series its gauges, sums and summaries wrote the last
    /// time, in order.
    trail: Trail,
}

/// A scope's series in the order its points came the last time: a scrape's exposition
/// lists its series in the same order every time, so the next point's key is checked
/// against the next entry first. That reads memory in order (the keys here, and slots
/// made in the same order) instead of probing the cache's map at random, a cache miss or
/// two per point. An entry is trusted only with its full key and only until the next sweep
/// (which empties every trail): until then the series map does not change what a key
/// maps to, so a trail's slot is the map's.
type Trail = Vec<(KeyId, u32)>;

/// What the metrics of one scope share.
struct Scope {
    /// The labels the scope and its resource give every point.
    shared: SharedLabels,
    /// The scope as decoded and its schema URL, for metrics written the general way.
    decoded: Option<(InstrumentationScope, String)>,
}

/// A metric of a scope seen before: its translated name.
struct MetricEntry {
    name: Arc<str>,
    used: u32,
}

/// What identifies a gauge, sum or summary: its scope (by the cache's id), type, name and
/// unit.
struct MetricKey<'a> {
    scope_id: u32,
    kind: normalize::MetricType,
    name: &'a str,
    unit: &'a str,
}

impl MetricKey<'_> {
    /// The key of its series with the encoded `attributes`; `part` tells a summary's
    /// series apart (a quantile by its bits, `_sum`, `_count`), `()` otherwise (which
    /// hashes nothing).
    fn series_key(
        &self,
        cache: &SeriesCache,
        attributes: &[u8],
        part: impl std::hash::Hash + Copy,
    ) -> KeyId {
        cache.key_id((
            self.scope_id,
            self.kind as u8,
            self.name,
            self.unit,
            attributes,
            part,
        ))
    }
}

/// A series the cache knows, at most one per label set: its labels, and where it is in the
/// batch being written.
struct SeriesSlot {
    labels: EncodedLabels,
    /// The sweep epoch it was last used in.
    used: u32,
    /// The batch (by [`SeriesCache::batch_number`]) it was last written in, and its index
    /// among that batch's series.
    batch: u32,
    at: u32,
}

type ByteMap<V> = foldhash::HashMap<Box<[u8]>, V>;

/// A metric's or series' key as two 64-bit hashes of independent random seeds: the maps
/// of the two (one entry per metric and per series of every source, a hundred thousand
/// and more) hold it inline, so a lookup reads the map's own memory and not a key on the
/// heap too (a cache miss per sample, most of a lookup's cost). Two keys sharing both
/// hashes (odds about n²/2¹²⁹ for n entries; the seeds are random per process, so they
/// cannot be aimed at) would have one series written with the other's labels.
type KeyId = crate::hash_id::HashId;

type IdMap<V> = std::collections::HashMap<KeyId, V, foldhash::fast::RandomState>;

/// Time between sweeps of the cache: an entry not used since the sweep before is
/// dropped, so a series that stopped is kept for one to two periods (Prometheus marks a
/// series stale after five minutes). A series sent less often is built again each time.
const SWEEP_INTERVAL: Duration = Duration::from_secs(300);

/// The most series the cache holds (about 450 bytes each for a scrape's series); past
/// it, it starts afresh, so a peer sending ever new series costs CPU, not memory.
const MAX_SERIES: usize = 1 << 20;

/// What [`write_encoded`] remembers across batches: resources and scopes (with the order
/// their series came in last) by their bytes, each series' encoded labels in a slot, found
/// by a 128-bit hash (two 64-bit hashes of random seeds) of its scope, metric name, unit
/// and type and its attribute bytes, and metrics' translated names by a 128-bit hash of
/// theirs (looked up only to build a series' labels).
/// Holds the series seen in the last five to ten minutes (a series unused since the
/// sweep before is dropped at each five-minute sweep), at most 2^20 of them (past that it
/// starts afresh).
#[derive(Default)]
pub struct SeriesCache {
    /// For the options the entries were made with: other options start afresh.
    settings: Option<FromOtlpSettings>,
    resources: ByteMap<ResourceEntry>,
    scopes: ByteMap<ScopeEntry>,
    metrics: IdMap<MetricEntry>,
    /// A gauge's, sum's or summary's series by its key (see [`KeyId`]), as its slot.
    /// Series of different keys with the same labels (from resources that differ only in
    /// attributes that make no label) share a slot.
    series: IdMap<u32>,
    /// The series, by slot; freed slots are `None` and reused.
    slots: Vec<Option<SeriesSlot>>,
    free_slots: Vec<u32>,
    /// Slots by a [`KeyId`] of their label bytes, so that a label set has one slot.
    by_labels: IdMap<u32>,
    /// Counts batches, from one: a slot records the one it was last written in.
    batch_number: u32,
    /// The seeds of [`KeyId`]s.
    seeds: crate::hash_id::HashIdSeeds,
    next_id: u32,
    /// Counts sweeps; an entry records the one it was last used in.
    epoch: u32,
    last_sweep: Option<Instant>,
    /// Series whose labels were built (not found in the cache).
    misses: u64,
    /// Points whose series was the next on their scope's trail (for tests).
    #[cfg(test)]
    trail_hits: u64,
    /// Scratch: the key being looked up.
    key: Vec<u8>,
    /// The last batch's buffers, for the next.
    batch: Batch,
}

impl SeriesCache {
    /// How many series the cache knows.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether the cache knows no series.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// How many times a series' labels had to be built: the series was new, or forgotten.
    pub fn misses(&self) -> u64 {
        self.misses
    }

    fn clear(&mut self) {
        self.resources.clear();
        self.scopes.clear();
        self.metrics.clear();
        self.series.clear();
        self.slots.clear();
        self.free_slots.clear();
        self.by_labels.clear();
        self.next_id = 0;
    }

    /// Slots holding a series.
    fn live_slots(&self) -> usize {
        self.slots.len() - self.free_slots.len()
    }

    /// The slot of a series with `labels` if the cache has one (its bytes compared: two
    /// label sets sharing a [`KeyId`] are told apart).
    fn slot_with(&self, key: KeyId, labels: &EncodedLabels) -> Option<u32> {
        let slot = *self.by_labels.get(&key)?;
        let known = self.slots[slot as usize].as_ref()?;
        (known.labels.bytes == labels.bytes).then_some(slot)
    }

    /// A slot for `labels`: the one holding them, or a new one.
    fn slot_for(&mut self, labels: EncodedLabels) -> u32 {
        let key = self.key_id(&labels.bytes[..]);
        if let Some(slot) = self.slot_with(key, &labels) {
            return slot;
        }
        let slot = SeriesSlot {
            labels,
            used: self.epoch,
            batch: 0,
            at: 0,
        };
        let at = match self.free_slots.pop() {
            Some(at) => {
                self.slots[at as usize] = Some(slot);
                at
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as u32
            }
        };
        // A key taken by other labels (odds as for series keys) leaves this set out of
        // the index: it is then not merged with equal labels of another series.
        self.by_labels.entry(key).or_insert(at);
        at
    }

    /// The attributes of the resource encoded as `key`, which this batch has seen.
    fn resource_attributes(&self, key: &[u8]) -> &[KeyValue] {
        self.resources
            .get(key)
            .map(|r| r.attributes.as_slice())
            .unwrap_or_default()
    }

    fn key_id(&self, key: impl std::hash::Hash + Copy) -> KeyId {
        self.seeds.id(key)
    }

    fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Starts a batch at `now`: forgets what the last sweep period did not use.
    fn start(&mut self, settings: &FromOtlpSettings, now: Instant) {
        if self.settings.as_ref() != Some(settings)
            || self.next_id > u32::MAX / 2
            || self.series.len() > MAX_SERIES
            || self.live_slots() > MAX_SERIES
        {
            self.clear();
            self.settings = Some(settings.clone());
        }
        let last = *self.last_sweep.get_or_insert(now);
        if now.duration_since(last) >= SWEEP_INTERVAL {
            let epoch = self.epoch;
            let slots = &mut self.slots;
            let used = |slot: &u32| {
                slots[*slot as usize]
                    .as_ref()
                    .is_some_and(|s| s.used == epoch)
            };
            self.series.retain(|_, slot| used(slot));
            self.by_labels.retain(|_, slot| used(slot));
            for (at, slot) in slots.iter_mut().enumerate() {
                if slot.as_ref().is_some_and(|s| s.used != epoch) {
                    *slot = None;
                    self.free_slots.push(at as u32);
                }
            }
            self.resources.retain(|_, e| e.used == epoch);
            // Freed slots are reused: no trail may point at them.
            self.scopes.retain(|_, e| {
                e.trail.clear();
                e.used == epoch
            });
            self.metrics.retain(|_, e| e.used == epoch);
            self.epoch = epoch.wrapping_add(1);
            self.last_sweep = Some(now);
        }
        self.batch_number = self.batch_number.wrapping_add(1);
        if self.batch_number == 0 {
            // Wrapped: no slot may claim to be in this batch.
            for slot in self.slots.iter_mut().flatten() {
                slot.batch = 0;
            }
            self.batch_number = 1;
        }
    }
}

/// A series of one batch.
struct BatchSeries {
    labels: BatchLabels,
    /// Mostly one (a batch holds one scrape of a target), kept inline.
    samples: SmallVec<[Sample; 1]>,
    /// Exemplars and histograms, from metrics written the general way (boxed: most series
    /// have none, and a batch moves its series).
    extra: Option<Box<Extra>>,
}

#[derive(Default)]
struct Extra {
    exemplars: Vec<Exemplar>,
    histograms: Vec<Histogram>,
}

impl From<TimeSeries> for BatchSeries {
    fn from(series: TimeSeries) -> Self {
        let extra = (!series.exemplars.is_empty() || !series.histograms.is_empty()).then(|| {
            Box::new(Extra {
                exemplars: series.exemplars,
                histograms: series.histograms,
            })
        });
        BatchSeries {
            labels: BatchLabels::Owned(EncodedLabels::new(&series.labels)),
            samples: SmallVec::from_vec(series.samples),
            extra,
        }
    }
}

/// A batch series' labels.
enum BatchLabels {
    /// A cached series', in its slot.
    Cached(u32),
    /// Built for this batch (series written the general way, [`shard_bodies`]'s).
    Owned(EncodedLabels),
}

impl BatchLabels {
    fn get<'a>(&'a self, slots: &'a [Option<SeriesSlot>]) -> &'a EncodedLabels {
        match self {
            BatchLabels::Cached(slot) => {
                &slots[*slot as usize]
                    .as_ref()
                    .expect("a batch's slots are not freed before it is written")
                    .labels
            }
            BatchLabels::Owned(labels) => labels,
        }
    }
}

/// The most series whose buffers a [`Batch`] keeps for the next batch (eight times the
/// batch processor's default of 8192 points).
const KEPT_BATCH_SERIES: usize = 1 << 16;

/// The series of one batch, in the order first seen, merged by label set. Kept in the
/// cache between batches, emptied, so that its buffers (a megabyte for a batch of 8192
/// points) are not allocated and faulted in again for every batch.
#[derive(Default)]
struct Batch {
    series: Vec<BatchSeries>,
    /// The series with [`BatchLabels::Owned`] labels that no slot has, by a [`KeyId`] of
    /// their label bytes.
    owned: IdMap<usize>,
    /// Scratch of [`encode_bodies`]: each series' shard and encoded length.
    placed: Vec<(usize, usize)>,
}

impl Batch {
    /// Empties the batch, keeping its buffers unless they were grown for more than
    /// [`KEPT_BATCH_SERIES`] series (a rare huge batch does not pin its memory).
    fn clear(&mut self) {
        if self.series.capacity() > KEPT_BATCH_SERIES {
            *self = Batch::default();
        }
        self.series.clear();
        self.owned.clear();
        self.placed.clear();
    }

    /// The index of the series in `slot` (of `cache`), added if new to the batch.
    fn cached(&mut self, cache: &mut SeriesCache, slot: u32) -> usize {
        let number = cache.batch_number;
        let known = cache.slots[slot as usize]
            .as_mut()
            .expect("a slot written to is live");
        known.used = cache.epoch;
        if known.batch == number {
            return known.at as usize;
        }
        let at = self.series.len();
        known.batch = number;
        known.at = at as u32;
        self.series.push(BatchSeries {
            labels: BatchLabels::Cached(slot),
            samples: SmallVec::new(),
            extra: None,
        });
        at
    }

    fn sample(&mut self, cache: &mut SeriesCache, slot: u32, value: f64, timestamp: i64) {
        let at = self.cached(cache, slot);
        self.series[at].samples.push(Sample { value, timestamp });
    }

    /// The slot of a new series with `labels` (found by them, or made), merged with an
    /// uncached series of this batch with the same labels.
    fn new_slot(&mut self, cache: &mut SeriesCache, labels: EncodedLabels) -> u32 {
        let key = cache.key_id(&labels.bytes[..]);
        let slot = cache.slot_for(labels);
        if let Some(at) = self.owned.remove(&key) {
            let known = cache.slots[slot as usize]
                .as_mut()
                .expect("a slot just made is live");
            if let BatchLabels::Owned(owned) = &self.series[at].labels
                && owned.bytes == known.labels.bytes
                && known.batch != cache.batch_number
            {
                known.batch = cache.batch_number;
                known.at = at as u32;
                self.series[at].labels = BatchLabels::Cached(slot);
            } else {
                self.owned.insert(key, at); // other labels of the same key
            }
        }
        slot
    }

    /// A series the general way wrote: merged with the batch's of the same labels.
    fn add(&mut self, cache: &mut SeriesCache, series: TimeSeries) {
        let series = BatchSeries::from(series);
        let BatchLabels::Owned(labels) = &series.labels else {
            unreachable!("a series from TimeSeries owns its labels")
        };
        let key = cache.key_id(&labels.bytes[..]);
        let at = if let Some(slot) = cache.slot_with(key, labels) {
            self.cached(cache, slot)
        } else {
            let same = |at: &usize| match &self.series[*at].labels {
                BatchLabels::Owned(owned) => owned.bytes == labels.bytes,
                BatchLabels::Cached(_) => false,
            };
            match self.owned.get(&key) {
                Some(at) if same(at) => *at,
                found => {
                    if found.is_none() {
                        self.owned.insert(key, self.series.len());
                    }
                    self.series.push(series);
                    return;
                }
            }
        };
        let into = &mut self.series[at];
        into.samples.extend(series.samples);
        if let Some(extra) = series.extra {
            let into = into.extra.get_or_insert_default();
            into.exemplars.extend(extra.exemplars);
            into.histograms.extend(extra.histograms);
        }
    }
}

/// Why the fast path gave up: the caller converts the request the general way.
struct Unsupported;

/// OTLP fields this path reads.
mod tag {
    pub const RESOURCE_METRICS: u32 = 1;
    pub const RESOURCE: u32 = 1;
    pub const SCOPE_METRICS: u32 = 2;
    pub const SCOPE: u32 = 1;
    pub const METRICS: u32 = 2;
    pub const SCHEMA_URL: u32 = 3;
    pub const NAME: u32 = 1;
    pub const DESCRIPTION: u32 = 2;
    pub const UNIT: u32 = 3;
    pub const GAUGE: u32 = 5;
    pub const SUM: u32 = 7;
    pub const HISTOGRAM: u32 = 9;
    pub const EXPONENTIAL_HISTOGRAM: u32 = 10;
    pub const SUMMARY: u32 = 11;
    pub const METADATA: u32 = 12;
    pub const DATA_POINTS: u32 = 1;
    pub const TEMPORALITY: u32 = 2;
    pub const MONOTONIC: u32 = 3;
    pub const START_TIME: u32 = 2;
    pub const TIME: u32 = 3;
    pub const AS_DOUBLE: u32 = 4;
    pub const EXEMPLARS: u32 = 5;
    pub const AS_INT: u32 = 6;
    pub const ATTRIBUTES: u32 = 7;
    pub const FLAGS: u32 = 8;
    pub const SUMMARY_COUNT: u32 = 4;
    pub const SUMMARY_SUM: u32 = 5;
    pub const QUANTILE_VALUES: u32 = 6;
    pub const QUANTILE: u32 = 1;
    pub const QUANTILE_VALUE: u32 = 2;
}

/// The value after a field's key: a varint, or 8 little-endian bytes.
fn scalar(field: &WireField<'_>) -> Result<u64, Unsupported> {
    // Past the key as written: prost takes keys in more bytes than they need.
    let mut rest = field.encoded;
    prost::encoding::decode_varint(&mut rest).map_err(|_| Unsupported)?;
    match field.wire_type {
        0 => prost::encoding::decode_varint(&mut rest).map_err(|_| Unsupported),
        1 => Ok(u64::from_le_bytes(
            rest.get(..8)
                .and_then(|b| b.try_into().ok())
                .ok_or(Unsupported)?,
        )),
        _ => Err(Unsupported),
    }
}

/// A varint field's value (the wire type prost requires, else the general path decides).
fn varint(field: &WireField<'_>) -> Result<u64, Unsupported> {
    if field.wire_type != 0 {
        return Err(Unsupported);
    }
    scalar(field)
}

/// A fixed64 field's value.
fn fixed64(field: &WireField<'_>) -> Result<u64, Unsupported> {
    if field.wire_type != 1 {
        return Err(Unsupported);
    }
    scalar(field)
}

fn text<'a>(field: &WireField<'a>) -> Result<&'a str, Unsupported> {
    if field.wire_type != 2 {
        return Err(Unsupported);
    }
    std::str::from_utf8(field.value).map_err(|_| Unsupported)
}

/// The remote-write bodies of a batch, per shard (protobuf, not yet snappy-compressed),
/// and the points left out, as [`from_otlp`](super::from_otlp) reports them.
pub type EncodedWrite = (Vec<Vec<Vec<u8>>>, Vec<Dropped>);

/// Writes the remote-write bodies of an encoded OTLP metrics request given as `parts`
/// (whose concatenation is the request), sharded and cut as [`shard_bodies`] does.
/// Gauges and cumulative sums without exemplars are written from their bytes; other
/// metrics are decoded and written the general way. `None` when the whole request needs
/// the general conversion (see the module docs).
pub fn write_encoded<P: AsRef<[u8]>>(
    parts: &[P],
    settings: &FromOtlpSettings,
    cache: &mut SeriesCache,
    parallelism: usize,
    max_bytes: usize,
) -> Option<EncodedWrite> {
    write_encoded_at(
        parts,
        settings,
        cache,
        parallelism,
        max_bytes,
        Instant::now(),
    )
}

/// [`write_encoded`] at `now` (for sweeping the cache).
fn write_encoded_at<P: AsRef<[u8]>>(
    parts: &[P],
    settings: &FromOtlpSettings,
    cache: &mut SeriesCache,
    parallelism: usize,
    max_bytes: usize,
    now: Instant,
) -> Option<EncodedWrite> {
    if settings.resource_to_telemetry || settings.send_metadata || settings.export_created {
        return None;
    }
    cache.start(settings, now);
    let mut batch = std::mem::take(&mut cache.batch);
    batch.clear();
    let mut writer = Writer {
        settings,
        options: LabelOptions {
            resource_to_telemetry: false,
            scope_labels: !settings.disable_scope_info,
            utf8_allowed: !settings.strategy.escapes(),
        },
        namer: MetricNamer::new(settings.namespace.clone(), settings.strategy),
        cache,
        batch,
        dropped: Vec::new(),
        points: Vec::new(),
        attribute_bytes: Vec::new(),
        walk: Walk::default(),
        summary_points: Vec::new(),
        quantiles: Vec::new(),
    };
    for part in parts {
        for field in fields(part.as_ref()) {
            let field = field.ok()?;
            if field.tag != tag::RESOURCE_METRICS || field.wire_type != 2 {
                return None;
            }
            writer.resource_metrics(field.value).ok()?;
        }
    }
    let bodies = encode_bodies(
        &mut writer.batch,
        &writer.cache.slots,
        parallelism,
        max_bytes,
    );
    writer.cache.batch = writer.batch;
    Some((bodies, writer.dropped))
}

/// Where the metrics being written are: the resource (by its bytes) and the scope.
struct Context<'a> {
    resource_key: &'a [u8],
    scope: &'a Scope,
}

struct Writer<'a> {
    settings: &'a FromOtlpSettings,
    options: LabelOptions,
    namer: MetricNamer,
    cache: &'a mut SeriesCache,
    batch: Batch,
    dropped: Vec<Dropped>,
    /// Scratch for one metric: its points, and their attribute fields.
    points: Vec<ParsedPoint>,
    attribute_bytes: Vec<u8>,
    /// The scope being written, along its trail.
    walk: Walk,
    /// Scratch for one summary: its points, and their quantiles and values.
    summary_points: Vec<SummaryPoint>,
    quantiles: Vec<(f64, f64)>,
}

/// A series of a summary's point.
#[derive(Clone, Copy)]
enum Part {
    /// A quantile, and its value.
    Quantile(f64, f64),
    Sum,
    Count,
}

/// A scope's series keys as its points are written, checked against its [`Trail`].
#[derive(Default)]
struct Walk {
    trail: Trail,
    /// Entries of `trail` the walk has followed so far.
    followed: usize,
    /// Empty while on the trail; once off it, the keys and slots written so far (the
    /// next trail).
    walked: Trail,
}

impl Walk {
    /// Starts a scope's walk along its `trail`.
    fn start(&mut self, trail: Trail) {
        self.trail = trail;
        self.followed = 0;
        self.walked.clear();
    }

    /// Ends the walk: what it wrote, in order, is the scope's trail for the next.
    fn finish(&mut self) -> Trail {
        if self.walked.is_empty() {
            let mut trail = std::mem::take(&mut self.trail);
            trail.truncate(self.followed);
            trail
        } else {
            std::mem::replace(&mut self.walked, std::mem::take(&mut self.trail))
        }
    }

    /// The slot of `key` if it is the trail's next entry.
    fn follow(&mut self, key: KeyId) -> Option<u32> {
        if !self.walked.is_empty() {
            return None; // off the trail
        }
        let &(next, slot) = self.trail.get(self.followed)?;
        if next != key {
            return None;
        }
        self.followed += 1;
        Some(slot)
    }

    /// Notes the slot of `key`, which [`Walk::follow`] did not give: the walk leaves the
    /// trail (it is not looked for again in this walk; the next follows this one).
    fn stray(&mut self, key: KeyId, slot: u32) {
        if self.walked.is_empty() {
            self.walked.extend_from_slice(&self.trail[..self.followed]);
        }
        self.walked.push((key, slot));
    }
}

impl Writer<'_> {
    fn resource_metrics(&mut self, message: &[u8]) -> Result<(), Unsupported> {
        let mut resource: Option<&[u8]> = None;
        for field in fields(message) {
            let field = field.map_err(|_| Unsupported)?;
            if field.tag == tag::RESOURCE {
                if resource.is_some() || field.wire_type != 2 {
                    return Err(Unsupported); // prost would merge the two
                }
                resource = Some(field.value);
            }
        }
        let resource_key = resource.unwrap_or_default();
        let batch = self.cache.epoch;
        let (resource_id, target_info) = match self.cache.resources.get_mut(resource_key) {
            Some(entry) => {
                entry.used = batch;
                if let Some(slot) = entry.target_info {
                    // Swept with the resource, not before.
                    if let Some(known) = self.cache.slots[slot as usize].as_mut() {
                        known.used = batch;
                    }
                }
                (entry.id, entry.target_info)
            }
            None => {
                let attributes = Resource::decode(resource_key)
                    .map_err(|_| Unsupported)?
                    .attributes;
                let target_info = if self.settings.target_info {
                    target_info_labels(&attributes, self.options.utf8_allowed).map(|labels| {
                        let name = if self.settings.namespace.is_empty() {
                            "target_info".to_string()
                        } else {
                            format!("{}_target_info", self.settings.namespace)
                        };
                        EncodedLabels::new(&finish(
                            labels,
                            &name,
                            None,
                            &self.settings.external_labels,
                        ))
                    })
                } else {
                    None
                };
                let target_info = target_info.map(|labels| self.batch.new_slot(self.cache, labels));
                let id = self.cache.id();
                self.cache.resources.insert(
                    resource_key.into(),
                    ResourceEntry {
                        id,
                        attributes,
                        target_info,
                        used: batch,
                    },
                );
                (id, target_info)
            }
        };
        let mut latest = 0;
        for field in fields(message) {
            let field = field.map_err(|_| Unsupported)?;
            if field.tag == tag::SCOPE_METRICS {
                if field.wire_type != 2 {
                    return Err(Unsupported);
                }
                latest = latest.max(self.scope_metrics(resource_id, resource_key, field.value)?);
            }
        }
        if latest > 0
            && let Some(slot) = target_info
        {
            self.batch.sample(self.cache, slot, 1.0, latest);
        }
        Ok(())
    }

    /// Returns the latest point time (ms) written.
    fn scope_metrics(
        &mut self,
        resource_id: u32,
        resource_key: &[u8],
        message: &[u8],
    ) -> Result<i64, Unsupported> {
        let mut scope: Option<&[u8]> = None;
        let mut schema_url: &[u8] = &[];
        for field in fields(message) {
            let field = field.map_err(|_| Unsupported)?;
            match field.tag {
                tag::SCOPE => {
                    if scope.is_some() || field.wire_type != 2 {
                        return Err(Unsupported);
                    }
                    scope = Some(field.value);
                }
                tag::SCHEMA_URL => {
                    text(&field)?;
                    schema_url = field.value;
                }
                _ => {}
            }
        }
        let key = &mut self.cache.key;
        key.clear();
        key.extend_from_slice(&resource_id.to_le_bytes());
        key.push(u8::from(scope.is_some()));
        put_bytes(key, scope.unwrap_or_default());
        key.extend_from_slice(schema_url);
        let batch = self.cache.epoch;
        let (scope_id, scope, trail) = match self.cache.scopes.get_mut(key.as_slice()) {
            Some(entry) => {
                entry.used = batch;
                let trail = std::mem::take(&mut entry.trail);
                (entry.id, Arc::clone(&entry.scope), trail)
            }
            None => {
                let decoded = match scope {
                    Some(bytes) => {
                        Some(InstrumentationScope::decode(bytes).map_err(|_| Unsupported)?)
                    }
                    None => None,
                };
                let schema_url = std::str::from_utf8(schema_url).map_err(|_| Unsupported)?;
                let scope_ref = decoded.as_ref().map(|scope| ScopeRef {
                    name: &scope.name,
                    version: &scope.version,
                    schema_url,
                    attributes: &scope.attributes,
                });
                let resource = self.cache.resource_attributes(resource_key);
                let shared = SharedLabels::new(resource, scope_ref.as_ref(), &self.options)
                    .ok_or(Unsupported)?;
                let scope = Arc::new(Scope {
                    shared,
                    decoded: decoded.map(|scope| (scope, schema_url.to_owned())),
                });
                let id = self.cache.id();
                let key = self.cache.key.as_slice().into();
                self.cache.scopes.insert(
                    key,
                    ScopeEntry {
                        id,
                        scope: Arc::clone(&scope),
                        used: batch,
                        trail: Trail::new(),
                    },
                );
                (id, scope, Trail::new())
            }
        };
        self.walk.start(trail);
        let context = Context {
            resource_key,
            scope: &scope,
        };
        let mut latest = 0;
        for field in fields(message) {
            let field = field.map_err(|_| Unsupported)?;
            if field.tag == tag::METRICS {
                if field.wire_type != 2 {
                    return Err(Unsupported);
                }
                latest = latest.max(self.metric(scope_id, &context, field.value)?);
            }
        }
        let trail = self.walk.finish();
        if let Some(entry) = self.cache.scopes.get_mut(self.cache.key.as_slice()) {
            entry.trail = trail;
        }
        Ok(latest)
    }

    /// Writes a metric's points; returns the latest point time (ms).
    fn metric(
        &mut self,
        scope_id: u32,
        context: &Context<'_>,
        message: &[u8],
    ) -> Result<i64, Unsupported> {
        let (mut name, mut unit): (&str, &str) = ("", "");
        let mut data: Option<WireField<'_>> = None;
        for field in fields(message) {
            let field = field.map_err(|_| Unsupported)?;
            match field.tag {
                tag::NAME => name = text(&field)?,
                tag::UNIT => unit = text(&field)?,
                tag::DESCRIPTION => {
                    text(&field)?;
                }
                tag::GAUGE
                | tag::SUM
                | tag::HISTOGRAM
                | tag::EXPONENTIAL_HISTOGRAM
                | tag::SUMMARY => {
                    if data.is_some() || field.wire_type != 2 {
                        return Err(Unsupported); // prost keeps the last, or merges
                    }
                    data = Some(field);
                }
                tag::METADATA => {}
                _ => {}
            }
        }
        let Some(data) = data else {
            return Ok(0); // a metric without data writes nothing
        };
        if data.tag == tag::SUMMARY {
            let metric = MetricKey {
                scope_id,
                kind: normalize::MetricType::Summary,
                name,
                unit,
            };
            return self.summary(&metric, context, data.value, message);
        }
        if !matches!(data.tag, tag::GAUGE | tag::SUM) {
            return self.general(context, message);
        }
        // One pass over the data: a sum's temporality and monotonicity, and the points.
        let (mut temporality, mut monotonic) = (0, false);
        let mut points = std::mem::take(&mut self.points);
        points.clear();
        self.attribute_bytes.clear();
        for field in fields(data.value) {
            let field = field.map_err(|_| Unsupported)?;
            match field.tag {
                tag::TEMPORALITY if data.tag == tag::SUM => temporality = varint(&field)?,
                tag::MONOTONIC if data.tag == tag::SUM => monotonic = varint(&field)? != 0,
                tag::DATA_POINTS => {
                    if field.wire_type != 2 {
                        return Err(Unsupported);
                    }
                    match parse_point(field.value, &mut self.attribute_bytes)? {
                        Some(point) => points.push(point),
                        None => return self.general(context, message), // exemplars
                    }
                }
                _ => {}
            }
        }
        let kind = if data.tag == tag::GAUGE {
            normalize::MetricType::Gauge
        } else if monotonic && temporality == AggregationTemporality::Delta as u64 {
            // The exporter makes these cumulative over the whole request.
            return Err(Unsupported);
        } else if temporality != AggregationTemporality::Cumulative as u64 {
            return self.general(context, message);
        } else if monotonic {
            normalize::MetricType::MonotonicCounter
        } else {
            normalize::MetricType::NonMonotonicCounter
        };
        // One lookup per point: a series is keyed by its metric's identity and its
        // attributes, and the metric's name is only looked up to build a series' labels.
        let metric = MetricKey {
            scope_id,
            kind,
            name,
            unit,
        };
        let mut built_name: Option<Arc<str>> = None;
        let (mut latest, mut refused) = (0, false);
        for (at, point) in points.iter().enumerate() {
            let attributes = &self.attribute_bytes[point.attributes.clone()];
            let key = metric.series_key(self.cache, attributes, ());
            let found = self.slot(key, |writer| {
                let metric_name = match &built_name {
                    Some(built) => Arc::clone(built),
                    None => match writer.metric_name(&metric) {
                        Some(built) => Arc::clone(built_name.insert(built)),
                        None => return Ok(None),
                    },
                };
                writer
                    .series_labels(
                        &metric_name,
                        &context.scope.shared,
                        &writer.attribute_bytes[point.attributes.clone()],
                        None,
                    )
                    .map(Some)
            })?;
            let slot = match found {
                Some(slot) => slot,
                // The namer refuses this metric; the general way reports it. It refuses
                // every time (names depend on the settings only, and other settings empty
                // the cache), so no point of it was written from a cached series.
                None if at == 0 => {
                    refused = true;
                    break;
                }
                None => return Err(Unsupported),
            };
            let value = value_or_stale(point.flags, point.value);
            self.batch
                .sample(self.cache, slot, value, ms(point.time_ns));
            latest = latest.max(ms(point.time_ns));
        }
        // A metric without points is still named, so that one the namer refuses is
        // reported as the general way reports it.
        refused |= points.is_empty() && self.metric_name(&metric).is_none();
        self.points = points;
        if refused {
            return self.general(context, message);
        }
        Ok(latest)
    }

    /// The slot of the series `key`: the next on the scope's trail, else the cache's, else
    /// one made with the labels `labels` builds (`None` when the namer refuses the metric,
    /// which is then given back).
    fn slot(
        &mut self,
        key: KeyId,
        labels: impl FnOnce(&mut Self) -> Result<Option<EncodedLabels>, Unsupported>,
    ) -> Result<Option<u32>, Unsupported> {
        if let Some(slot) = self.walk.follow(key) {
            #[cfg(test)]
            {
                self.cache.trail_hits += 1;
            }
            return Ok(Some(slot));
        }
        let slot = match self.cache.series.get(&key).copied() {
            Some(slot) => slot,
            None => {
                let Some(labels) = labels(self)? else {
                    return Ok(None);
                };
                self.cache.misses += 1;
                let slot = self.batch.new_slot(self.cache, labels);
                self.cache.series.insert(key, slot);
                slot
            }
        };
        self.walk.stray(key, slot);
        Ok(Some(slot))
    }

    /// Writes a summary's points as [`from_otlp`](super::from_otlp) does: per point its
    /// quantiles (a `quantile` label each), then `_sum` and `_count`; returns the latest
    /// point time (ms).
    fn summary(
        &mut self,
        metric: &MetricKey<'_>,
        context: &Context<'_>,
        data: &[u8],
        message: &[u8],
    ) -> Result<i64, Unsupported> {
        let Some(name) = self.metric_name(metric) else {
            return self.general(context, message); // which reports the refusal
        };
        let mut points = std::mem::take(&mut self.summary_points);
        points.clear();
        self.quantiles.clear();
        self.attribute_bytes.clear();
        for field in fields(data) {
            let field = field.map_err(|_| Unsupported)?;
            if field.tag == tag::DATA_POINTS {
                if field.wire_type != 2 {
                    return Err(Unsupported);
                }
                points.push(parse_summary_point(
                    field.value,
                    &mut self.attribute_bytes,
                    &mut self.quantiles,
                )?);
            }
        }
        let mut latest = 0;
        for point in &points {
            let time = ms(point.time_ns);
            latest = latest.max(time);
            let value = |v: f64| value_or_stale(point.flags, v);
            let quantiles = point.quantiles.len();
            for at in 0..quantiles + 2 {
                let part = match at.checked_sub(quantiles) {
                    None => {
                        let (q, v) = self.quantiles[point.quantiles.start + at];
                        Part::Quantile(q, v)
                    }
                    Some(0) => Part::Sum,
                    Some(_) => Part::Count,
                };
                let attributes = &self.attribute_bytes[point.attributes.clone()];
                let key = metric.series_key(
                    self.cache,
                    attributes,
                    match part {
                        Part::Quantile(q, _) => (0u8, q.to_bits()),
                        Part::Sum => (1, 0),
                        Part::Count => (2, 0),
                    },
                );
                let found = self.slot(key, |writer| {
                    let (series_name, extra) = match part {
                        Part::Quantile(q, _) => {
                            (name.to_string(), Some(("quantile", float_text(q))))
                        }
                        Part::Sum => (format!("{name}_sum"), None),
                        Part::Count => (format!("{name}_count"), None),
                    };
                    writer
                        .series_labels(
                            &series_name,
                            &context.scope.shared,
                            &writer.attribute_bytes[point.attributes.clone()],
                            extra,
                        )
                        .map(Some)
                })?;
                let slot = found.ok_or(Unsupported)?;
                let sample = match part {
                    Part::Quantile(_, v) => value(v),
                    Part::Sum => value(point.sum),
                    Part::Count => value(point.count as f64),
                };
                self.batch.sample(self.cache, slot, sample, time);
            }
        }
        self.summary_points = points;
        Ok(latest)
    }

    /// The remote-write name of a gauge or sum, from the cache or built; `None` when the
    /// namer refuses it.
    fn metric_name(&mut self, metric: &MetricKey<'_>) -> Option<Arc<str>> {
        let key = self
            .cache
            .key_id((metric.scope_id, metric.kind as u8, metric.name, metric.unit));
        let batch = self.cache.epoch;
        if let Some(entry) = self.cache.metrics.get_mut(&key) {
            entry.used = batch;
            return Some(Arc::clone(&entry.name));
        }
        let built: Arc<str> = self
            .namer
            .build(metric.name, metric.unit, metric.kind)
            .ok()?
            .into();
        self.cache.metrics.insert(
            key,
            MetricEntry {
                name: Arc::clone(&built),
                used: batch,
            },
        );
        Some(built)
    }

    /// The encoded labels of a series of `metric_name` with the encoded `attributes` (and
    /// `extra`, a summary's `quantile`).
    fn series_labels(
        &self,
        metric_name: &str,
        shared: &SharedLabels,
        attributes: &[u8],
        extra: Option<(&str, String)>,
    ) -> Result<EncodedLabels, Unsupported> {
        let mut decoded = Vec::new();
        for field in fields(attributes) {
            let field = field.map_err(|_| Unsupported)?;
            decoded.push(KeyValue::decode(field.value).map_err(|_| Unsupported)?);
        }
        Ok(EncodedLabels::new(&finish(
            shared.point_labels(&decoded, self.options.utf8_allowed),
            metric_name,
            extra,
            &self.settings.external_labels,
        )))
    }

    /// Decodes a metric and writes it as [`from_otlp`](super::from_otlp) does: histograms,
    /// summaries, exemplars, and what that path drops and reports.
    fn general(&mut self, context: &Context<'_>, message: &[u8]) -> Result<i64, Unsupported> {
        let metric = Metric::decode(message).map_err(|_| Unsupported)?;
        let Some(kind) = kind_of(&metric) else {
            return Ok(0);
        };
        let name = match self.namer.build(&metric.name, &metric.unit, kind) {
            Ok(name) => name,
            Err(e) => {
                self.dropped.push(Dropped {
                    metric: metric.name.clone(),
                    points: tributary_pipeline_core::pdata::data_point_count(&metric),
                    reason: e.to_string(),
                });
                return Ok(0);
            }
        };
        let resource = self.cache.resource_attributes(context.resource_key);
        let base = Base {
            settings: self.settings,
            options: self.options.clone(),
            resource,
            scope: context
                .scope
                .decoded
                .as_ref()
                .map(|(scope, schema_url)| ScopeRef {
                    name: &scope.name,
                    version: &scope.version,
                    schema_url,
                    attributes: &scope.attributes,
                }),
            resource_labels: Vec::new(),
            shared: Some(context.scope.shared.clone()),
        };
        let mut set = SeriesSet::default();
        let found = write_metric(&metric, &name, &base, &mut set, &mut self.dropped);
        for series in set.series {
            self.batch.add(self.cache, series);
        }
        Ok(found.map_or(0, |found| found.latest))
    }
}

/// A number point as read from its bytes.
struct ParsedPoint {
    time_ns: u64,
    value: f64,
    flags: u32,
    /// Its attribute fields as encoded, in a buffer of the metric's points.
    attributes: Range<usize>,
}

/// Reads a number point, appending its attribute fields to `attribute_bytes`; `None` for
/// a point with exemplars (written the general way).
fn parse_point(
    message: &[u8],
    attribute_bytes: &mut Vec<u8>,
) -> Result<Option<ParsedPoint>, Unsupported> {
    let start = attribute_bytes.len();
    let mut common = CommonFields::default();
    let mut value = 0f64;
    for field in fields(message) {
        let field = field.map_err(|_| Unsupported)?;
        match field.tag {
            tag::AS_DOUBLE => value = f64::from_bits(fixed64(&field)?),
            tag::AS_INT => value = fixed64(&field)? as i64 as f64,
            tag::EXEMPLARS => return Ok(None),
            _ => common.read(&field, attribute_bytes)?,
        }
    }
    Ok(Some(ParsedPoint {
        time_ns: common.time_ns,
        value,
        flags: common.flags(),
        attributes: start..attribute_bytes.len(),
    }))
}

/// The fields number and summary points share.
#[derive(Default)]
struct CommonFields {
    time_ns: u64,
    flags: u64,
}

impl CommonFields {
    /// Reads `field` if it is a start or end time, the flags or an attribute (appended to
    /// `attribute_bytes` as encoded); another field is skipped.
    #[inline]
    fn read(
        &mut self,
        field: &WireField<'_>,
        attribute_bytes: &mut Vec<u8>,
    ) -> Result<(), Unsupported> {
        match field.tag {
            tag::START_TIME => {
                fixed64(field)?;
            }
            tag::TIME => self.time_ns = fixed64(field)?,
            tag::FLAGS => self.flags = varint(field)?,
            tag::ATTRIBUTES => {
                if field.wire_type != 2 {
                    return Err(Unsupported);
                }
                attribute_bytes.extend_from_slice(field.encoded);
            }
            _ => {}
        }
        Ok(())
    }

    fn flags(&self) -> u32 {
        // prost reads a uint32 varint truncated to 32 bits.
        self.flags as u32
    }
}

/// A summary point as read from its bytes.
struct SummaryPoint {
    time_ns: u64,
    flags: u32,
    sum: f64,
    count: u64,
    /// Its quantiles and values, in a buffer of the metric's points.
    quantiles: Range<usize>,
    /// Its attribute fields as encoded, in a buffer of the metric's points.
    attributes: Range<usize>,
}

/// Reads a summary point (`SummaryDataPoint`), appending its attribute fields to
/// `attribute_bytes` and its quantiles to `quantiles`.
fn parse_summary_point(
    message: &[u8],
    attribute_bytes: &mut Vec<u8>,
    quantiles: &mut Vec<(f64, f64)>,
) -> Result<SummaryPoint, Unsupported> {
    let (attributes_start, quantiles_start) = (attribute_bytes.len(), quantiles.len());
    let mut common = CommonFields::default();
    let (mut count, mut sum) = (0u64, 0f64);
    for field in fields(message) {
        let field = field.map_err(|_| Unsupported)?;
        match field.tag {
            tag::SUMMARY_COUNT => count = fixed64(&field)?,
            tag::SUMMARY_SUM => sum = f64::from_bits(fixed64(&field)?),
            tag::QUANTILE_VALUES => {
                if field.wire_type != 2 {
                    return Err(Unsupported);
                }
                let (mut quantile, mut value) = (0f64, 0f64);
                for field in fields(field.value) {
                    let field = field.map_err(|_| Unsupported)?;
                    match field.tag {
                        tag::QUANTILE => quantile = f64::from_bits(fixed64(&field)?),
                        tag::QUANTILE_VALUE => value = f64::from_bits(fixed64(&field)?),
                        _ => {}
                    }
                }
                quantiles.push((quantile, value));
            }
            _ => common.read(&field, attribute_bytes)?,
        }
    }
    Ok(SummaryPoint {
        time_ns: common.time_ns,
        flags: common.flags(),
        sum,
        count,
        quantiles: quantiles_start..quantiles.len(),
        attributes: attributes_start..attribute_bytes.len(),
    })
}

/// Appends `bytes` with its length first, so that keys built of several parts are
/// unambiguous.
fn put_bytes(key: &mut Vec<u8>, bytes: &[u8]) {
    encode_varint(bytes.len() as u64, key);
    key.extend_from_slice(bytes);
}

/// The batch's series (their cached labels in `slots`) as request bodies, sharded and cut
/// as [`shard_bodies`] says; each body allocated once, at its final size.
fn encode_bodies(
    batch: &mut Batch,
    slots: &[Option<SeriesSlot>],
    parallelism: usize,
    max_bytes: usize,
) -> Vec<Vec<Vec<u8>>> {
    use prost::encoding::message::{encode, encoded_len_repeated};
    let placed = &mut batch.placed;
    placed.clear();
    let mut total = 0;
    for series in &mut batch.series {
        if series.samples.len() > 1 {
            series.samples.sort_by_key(|s| s.timestamp);
        }
        let labels = series.labels.get(slots);
        let mut len = labels.bytes.len() + encoded_len_repeated(2, &series.samples);
        if let Some(extra) = &mut series.extra {
            extra.histograms.sort_by_key(|h| h.timestamp);
            len += encoded_len_repeated(3, &extra.exemplars)
                + encoded_len_repeated(4, &extra.histograms);
        }
        total += field_len(len);
        placed.push((0, len));
    }
    let shards = shard_count(total, parallelism, max_bytes);
    let mut totals = vec![0usize; shards];
    if shards == 1 {
        totals[0] = total;
    } else {
        for (series, (shard, len)) in batch.series.iter().zip(placed.iter_mut()) {
            *shard = (series.labels.get(slots).shard_hash % shards as u64) as usize;
            totals[*shard] += field_len(*len);
        }
    }
    let bodies = (0..shards)
        .map(|shard| {
            let mut bodies = Vec::new();
            let mut remaining = totals[shard];
            let mut body: Vec<u8> = Vec::with_capacity(remaining.min(max_bytes));
            for (series, &(_, len)) in batch
                .series
                .iter()
                .zip(placed.iter())
                .filter(|(_, (at, _))| *at == shard)
            {
                let field = field_len(len);
                if !body.is_empty() && body.len() + field > max_bytes {
                    let next = Vec::with_capacity(remaining.min(max_bytes).max(field));
                    bodies.push(std::mem::replace(&mut body, next));
                }
                remaining -= field;
                body.push(0x0a); // WriteRequest.timeseries
                encode_varint(len as u64, &mut body);
                body.extend_from_slice(&series.labels.get(slots).bytes);
                for sample in &series.samples {
                    encode(2, sample, &mut body);
                }
                if let Some(extra) = &series.extra {
                    for exemplar in &extra.exemplars {
                        encode(3, exemplar, &mut body);
                    }
                    for histogram in &extra.histograms {
                        encode(4, histogram, &mut body);
                    }
                }
            }
            if !body.is_empty() {
                bodies.push(body);
            }
            bodies
        })
        .collect();
    batch.series.clear();
    bodies
}

#[cfg(test)]
mod tests;
