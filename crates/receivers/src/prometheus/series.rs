//! A target's series from one scrape to the next: which it had (for `scrape_series_added`,
//! duplicates and staleness markers), and a cache of what each series' text became.
//!
//! Prometheus keeps a scrape cache keyed by a series' text as written (`name{labels}`): a
//! line it has seen before is not parsed, labelled or relabelled again. So does this table:
//! the parser offers each text 0.0.4 line to it before reading the labels
//! ([`KnownSeries`](tributary_translator_prometheus::text::KnownSeries)), and a known
//! counter, gauge or untyped series (nearly all of a node exporter's) has its OTLP point
//! written straight from the line's value, after attributes encoded once when the series
//! was first seen. Such series are *fast*; the others
//! (histograms, summaries, OpenMetrics, a series with its own scope or resource) are read in
//! full and translated by `to_otlp` as before, and only tracked here by their identity.
//!
//! The fast points are written as `Metric` messages and joined to the rest of the scrape's
//! request in its target's resource and default scope ([`merge`]).
//!
//! A fast sample's text is looked up in the order of the last scrape first (its
//! [`Trail`]): a target lists its series in the same order every time.

use std::collections::HashMap;
use std::hash::BuildHasher;

use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use smallvec::SmallVec;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{InstrumentationScope, KeyValue};
use tributary_pipeline_core::pdata::proto::metrics::v1::{Metric, metric::Data};
use tributary_translator_prometheus::hash_id::{HashId, HashIdSeeds};
use tributary_translator_prometheus::text::{Family, MetricType, Sample, stale_nan};
use tributary_translator_prometheus::to_otlp::{
    Options, StartTimeAdjuster, number_metric, number_metric_name, point_key_values, start_key,
};

use super::relabel::Labels;
use super::trail::{OFF_TRAIL, Trail};

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The identity of a family as far as its series' translation goes (name, type, help,
/// unit), hashed with fixed keys so that it compares across scrapes.
pub(crate) fn family_signature(family: &Family) -> u64 {
    foldhash::fast::FixedState::with_seed(0x7472_6962).hash_one((
        &family.name,
        family.metric_type,
        &family.help,
        &family.unit,
    ))
}

/// A series text (or a series' identity), by two 64-bit hashes of independent random
/// seeds: the table keeps no copy of the text, and a lookup compares 16 bytes held in the
/// map rather than the text on the heap (a cold cache line per sample, most of a lookup's
/// cost). Two texts of one target sharing both hashes (odds about n²/2¹²⁹ for n series,
/// and the seeds are random per process) would have one's points written with the
/// other's labels.
type TextId = HashId;

/// What a known series text stands for.
enum RawTarget {
    /// The series in this slot (a fast one).
    Series(u32),
    /// Nothing: `metric_relabel_configs` drop it (or leave it no name). `generation` is the
    /// last scrape that had it.
    Dropped { generation: u64 },
}

struct RawEntry {
    /// The [`family_signature`] it was read in: another family makes it unknown again.
    family: u64,
    target: RawTarget,
}

/// Dead attribute bytes worth a compaction (any in tests, so that every test compacts).
const MIN_DEAD_ATTR_BYTES: usize = if cfg!(test) { 1 } else { 4096 };

/// Where a fast series' encoded attributes are in [`SeriesTable::attr_bytes`].
#[derive(Clone, Copy)]
struct AttrRange {
    start: usize,
    len: usize,
}

/// A fast counter's run: what the [`StartTimeAdjuster`] would hold for it, kept here
/// while the series is fast and handed back to the adjuster when it stops being so.
struct CounterRun {
    /// Its key in the adjuster.
    key: Box<str>,
    /// Taken from the adjuster at its first point with a value.
    known: bool,
    start_ns: u64,
    last: f64,
    seen_ns: u64,
}

/// A series read in full: what its staleness marker needs.
struct GeneralSeen {
    family: String,
    metric_type: MetricType,
    sample: String,
    labels: Labels,
}

/// How a series' points are written.
enum Kind {
    /// By the table, into metric `metric` with the encoded attributes `attrs` of the
    /// table's buffer (field 7 of a `NumberDataPoint`, each attribute); a counter has its
    /// run.
    Fast {
        metric: u32,
        attrs: AttrRange,
        run: Option<Box<CounterRun>>,
    },
    /// By `to_otlp`, from a sample; this is what its staleness marker needs (boxed: most
    /// series are fast, and the slot stays small). `None` until the caller describes it.
    General(Option<Box<GeneralSeen>>),
}

struct Slot {
    /// The series' identity: its name and sorted labels (see `series_key`), as a
    /// [`TextId`] (a copy of the key would be the largest part of a series' memory).
    key: TextId,
    /// Its text in the exposition (as its [`TextId`]), for a fast series: exactly when
    /// `by_raw` has this text leading to this slot, in family `family`.
    raw: Option<TextId>,
    /// The [`family_signature`] `raw` was read in (that of its entry in `by_raw`).
    family: u64,
    /// Its place on the trail of the last scrape that took it, if any ([`OFF_TRAIL`]).
    trail: u32,
    /// The last scrape that had it.
    generation: u64,
    /// The scrape that first had it (never delivered before if it is the current one).
    born: u64,
    /// Its sample carried its own timestamp (no marker unless `track_timestamps_staleness`).
    timestamped: bool,
    kind: Kind,
}

/// A metric fast points are written into.
struct FastMetric {
    /// The [`family_signature`] it is for.
    family: u64,
    /// The `Metric` message's fields but its data (name, description, unit, metadata).
    header: Vec<u8>,
    /// A cumulative monotonic sum (a counter); else a gauge.
    sum: bool,
    /// Where this scrape's points are in [`SeriesTable::point_bytes`]: one run, as a
    /// family's lines come together (more if they do not).
    runs: SmallVec<[(usize, usize); 1]>,
    /// Live fast series writing into it.
    users: usize,
}

/// What the table made of a sample it was offered.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Not a known text: read it in full.
    Unknown,
    /// Known, dropped by relabelling.
    Dropped,
    /// A series this scrape had already: dropped, as Prometheus keeps the first.
    Duplicate,
    /// Written as a point.
    Point,
}

/// What [`SeriesTable::see`] found for a series read in full.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    /// This scrape had it already.
    Duplicate,
    /// The last scrape had it too.
    Again,
    /// A new series.
    New,
}

/// A target's series (see the module docs).
#[derive(Default)]
pub(crate) struct SeriesTable {
    generation: u64,
    slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    by_key: Map<TextId, u32>,
    by_raw: Map<TextId, RawEntry>,
    /// The seeds of [`TextId`]s.
    text_seeds: HashIdSeeds,
    /// How many of `by_raw` are [`RawTarget::Dropped`].
    dropped: usize,
    metrics: Vec<FastMetric>,
    free_metrics: Vec<u32>,
    metric_index: Map<u64, u32>,
    /// Metrics with points this scrape, in the order of their first.
    touched: Vec<u32>,
    /// This scrape's points, each a whole `NumberDataPoint` field (tag 1 of a metric's
    /// data), in the order written: one buffer for all metrics, kept across scrapes.
    point_bytes: Vec<u8>,
    /// Fast points this scrape.
    points: usize,
    /// The encoded attributes of fast series (field 7 of a `NumberDataPoint`, each
    /// attribute), one after another in the order the series became fast, which is the
    /// order a scrape reads them in: one buffer read in order, not a small allocation per
    /// series wherever the allocator put it.
    attr_bytes: Vec<u8>,
    /// Bytes of `attr_bytes` no series refers to any more (compacted at a scrape's start
    /// once they outweigh the live ones).
    dead_attr_bytes: usize,
    /// The slots of the last scrape's fast points, in order: where the next is looked for.
    trail: Trail,
    /// Start times of counters that are not fast (and of fast ones that went away).
    pub(crate) adjuster: StartTimeAdjuster,
}

/// The least room past its length a vector gives back (see [`fit`]).
const FIT_MIN_BYTES: usize = 4096;

/// Gives back the room a vector's doubling left past its length when it is over a quarter
/// of the length (and [`FIT_MIN_BYTES`]), keeping an eighth: a target's tables and buffers
/// keep their size from scrape to scrape, so what doubling over-allocated (up to half: 520
/// series sit in room for 1,024) would stay allocated for good, per target. (Resident
/// only where the allocator hands out memory written before. The benchmark's node
/// exporter, 507 series, fits its 512 slots: the scrape benchmarks showed no RSS change.)
fn fit<T>(vector: &mut Vec<T>) {
    let (len, spare) = (vector.len(), vector.capacity() - vector.len());
    if spare > len / 4 && spare * size_of::<T>() >= FIT_MIN_BYTES {
        vector.shrink_to(len + len / 8);
    }
}

/// One point's fields after its attributes: start and time (fixed64, left out at 0 as
/// prost does), the value (a double) or, for a staleness marker, the no-recorded-value flag.
fn write_point(out: &mut Vec<u8>, attrs: &[u8], start_ns: u64, time_ns: u64, value: Option<f64>) {
    let mut body = [0u8; 3 * 9 + 2];
    let mut len = 0;
    for (tag, v) in [(2u32, start_ns), (3, time_ns)] {
        if v != 0 {
            body[len] = (tag << 3 | WireType::SixtyFourBit as u32) as u8;
            body[len + 1..len + 9].copy_from_slice(&v.to_le_bytes());
            len += 9;
        }
    }
    match value {
        Some(value) => {
            body[len] = (4 << 3 | WireType::SixtyFourBit as u32) as u8;
            body[len + 1..len + 9].copy_from_slice(&value.to_le_bytes());
            len += 9;
        }
        None => {
            // flags (8) = FLAG_NO_RECORDED_VALUE.
            body[len] = (8 << 3) as u8;
            body[len + 1] = 1;
            len += 2;
        }
    }
    encode_key(1, WireType::LengthDelimited, out);
    encode_varint((attrs.len() + len) as u64, out);
    out.extend_from_slice(attrs);
    out.extend_from_slice(&body[..len]);
}

pub(super) fn ms_to_ns(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

impl SeriesTable {
    /// Starts a scrape: forgets the last one's points.
    pub(crate) fn begin(&mut self) {
        self.generation += 1;
        self.drop_points();
        self.compact_attrs();
        self.trail.begin();
    }

    /// Copies the live attributes into a new buffer when the dead ones outweigh them.
    fn compact_attrs(&mut self) {
        let live = self.attr_bytes.len() - self.dead_attr_bytes;
        if self.dead_attr_bytes < MIN_DEAD_ATTR_BYTES || self.dead_attr_bytes < live {
            return;
        }
        let mut compacted = Vec::with_capacity(live);
        for slot in self.slots.iter_mut().flatten() {
            if let Kind::Fast { attrs, .. } = &mut slot.kind {
                let start = compacted.len();
                compacted.extend_from_slice(&self.attr_bytes[attrs.start..attrs.start + attrs.len]);
                attrs.start = start;
            }
        }
        self.attr_bytes = compacted;
        self.dead_attr_bytes = 0;
    }

    /// Forgets the points written so far (and frees the metrics nothing writes into).
    /// Called after every scrape: the table's buffers are fitted to what it used.
    pub(crate) fn drop_points(&mut self) {
        // A scrape that wrote no fast points (a failed one, or the call at a scrape's
        // start) says nothing about what the next will write.
        if !self.point_bytes.is_empty() {
            fit(&mut self.point_bytes);
        }
        fit(&mut self.slots);
        fit(&mut self.attr_bytes);
        self.point_bytes.clear();
        for m in std::mem::take(&mut self.touched) {
            let fast = &mut self.metrics[m as usize];
            fast.runs.clear();
            if fast.users == 0 && !fast.header.is_empty() {
                self.metric_index.remove(&fast.family);
                fast.header = Vec::new();
                self.free_metrics.push(m);
            }
        }
        self.points = 0;
    }

    fn text_id(&self, raw: &str) -> TextId {
        self.text_seeds.id(raw)
    }

    /// How many series texts it knows (for tests).
    #[cfg(test)]
    pub(crate) fn known_texts(&self) -> usize {
        self.by_raw.len()
    }

    /// The slots' length and capacity (for tests of [`fit`]).
    #[cfg(test)]
    pub(crate) fn slot_room(&self) -> (usize, usize) {
        (self.slots.len(), self.slots.capacity())
    }

    /// Samples this scrape found on the trail (for tests).
    #[cfg(test)]
    pub(crate) fn trail_hits(&self) -> usize {
        self.trail.hits()
    }

    /// Forgets the trail, as if no scrape had gone before (for tests that hold a table
    /// following its trail to one that does not).
    #[cfg(test)]
    pub(crate) fn forget_trail(&mut self) {
        self.trail.clear();
    }

    /// Whether series text `id`, read in family `family`, leads to slot `at`: what
    /// `by_raw` says of it, read from the slot (`raw` and `family` of a slot are exactly
    /// its entry in `by_raw`, see `Slot::raw`) rather than looked up.
    fn leads_to(&self, at: usize, id: TextId, family: u64) -> bool {
        let leads = matches!(
            self.slots.get(at),
            Some(Some(slot)) if slot.raw == Some(id) && slot.family == family
        );
        debug_assert!(
            !leads
                || matches!(
                    self.by_raw.get(&id),
                    Some(RawEntry { family: f, target: RawTarget::Series(s) })
                        if *f == family && *s as usize == at
                ),
            "slot {at} claims a text that by_raw does not lead to it"
        );
        leads
    }

    /// A sample offered by the parser: its series text `raw`, read in the family of
    /// signature `family`, with `value` and `timestamp_ms`; `default_ms` is the scrape's time.
    pub(crate) fn take(
        &mut self,
        family: u64,
        raw: &str,
        value: f64,
        timestamp_ms: Option<i64>,
        honor_timestamps: bool,
        default_ms: i64,
    ) -> Taken {
        let id = self.text_id(raw);
        // The slot the trail expects, if it is the one `by_raw` would give; else the lookup.
        let (at, on_trail) = match self.trail.expected() {
            Some(at) if self.leads_to(at, id, family) => {
                self.trail.hit();
                (at, true)
            }
            _ => {
                let Some(entry) = self.by_raw.get_mut(&id) else {
                    return Taken::Unknown;
                };
                if entry.family != family {
                    return Taken::Unknown;
                }
                match &mut entry.target {
                    RawTarget::Dropped { generation } => {
                        *generation = self.generation;
                        return Taken::Dropped;
                    }
                    RawTarget::Series(at) => (*at as usize, false),
                }
            }
        };
        let Some(slot) = self.slots[at].as_mut() else {
            return Taken::Unknown;
        };
        if slot.generation == self.generation {
            return Taken::Duplicate;
        }
        if !on_trail {
            self.trail.rejoin(at, slot.trail);
        }
        slot.trail = self.trail.record(at, slot.trail);
        slot.generation = self.generation;
        slot.timestamped = timestamp_ms.is_some() && honor_timestamps;
        let time_ms = match timestamp_ms {
            Some(ms) if honor_timestamps => ms,
            _ => default_ms,
        };
        self.point_of(at, ms_to_ns(time_ms), value);
        Taken::Point
    }

    /// Writes the point of fast slot `at`.
    fn point_of(&mut self, at: usize, time_ns: u64, value: f64) {
        let Some(Slot {
            kind: Kind::Fast { metric, attrs, run },
            ..
        }) = self.slots[at].as_mut()
        else {
            return;
        };
        let stale = tributary_translator_prometheus::text::is_stale_nan(value);
        let start_ns = match run {
            None => 0,
            Some(_) if stale => 0,
            Some(run) if !run.known => {
                run.start_ns = self.adjuster.start_str(&run.key, time_ns, value, 0.0);
                run.known = true;
                run.last = value;
                run.seen_ns = time_ns;
                run.start_ns
            }
            Some(run) => {
                if value < run.last {
                    run.start_ns = time_ns; // a reset: this point starts a new run
                }
                run.last = value;
                run.seen_ns = time_ns;
                run.start_ns
            }
        };
        let fast = &mut self.metrics[*metric as usize];
        if fast.runs.is_empty() {
            self.touched.push(*metric);
        }
        let start = self.point_bytes.len();
        write_point(
            &mut self.point_bytes,
            &self.attr_bytes[attrs.start..attrs.start + attrs.len],
            start_ns,
            time_ns,
            (!stale).then_some(value),
        );
        let end = self.point_bytes.len();
        match fast.runs.last_mut() {
            Some((_, run_end)) if *run_end == start => *run_end = end,
            _ => fast.runs.push((start, end)),
        }
        self.points += 1;
    }

    /// Remembers that series text `raw` of family `family` is dropped by relabelling.
    pub(crate) fn note_dropped(&mut self, raw: &str, family: u64) {
        let target = RawTarget::Dropped {
            generation: self.generation,
        };
        let id = self.text_id(raw);
        match self.by_raw.get_mut(&id) {
            Some(entry) => {
                if let RawTarget::Series(at) = entry.target {
                    // The series it stood for stays, as any other, until a scrape lacks it.
                    if let Some(slot) = self.slots[at as usize].as_mut() {
                        slot.raw = None;
                    }
                    self.dropped += 1;
                }
                *entry = RawEntry { family, target };
            }
            None => {
                self.dropped += 1;
                self.by_raw.insert(id, RawEntry { family, target });
            }
        }
    }

    /// A series read in full, by its `key`: a duplicate, one the last scrape had, or new.
    /// It is marked as this scrape's; [`general`](Self::general) or [`fast`](Self::fast)
    /// then says how its points are written (the latter writes this one).
    pub(crate) fn see(&mut self, key: &str, timestamped: bool) -> (Seen, usize) {
        let key = self.text_id(key);
        if let Some(&at) = self.by_key.get(&key) {
            let slot = self.slots[at as usize]
                .as_mut()
                .unwrap_or_else(|| unreachable!("by_key names live slots"));
            if slot.generation == self.generation {
                return (Seen::Duplicate, at as usize);
            }
            slot.generation = self.generation;
            slot.timestamped = timestamped;
            return (Seen::Again, at as usize);
        }
        let slot = Slot {
            key,
            raw: None,
            family: 0,
            trail: OFF_TRAIL,
            generation: self.generation,
            born: self.generation,
            timestamped,
            kind: Kind::General(None),
        };
        let at = match self.free.pop() {
            Some(at) => {
                self.slots[at as usize] = Some(slot);
                at
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as u32
            }
        };
        self.by_key.insert(key, at);
        (Seen::New, at as usize)
    }

    /// Slot `at`'s points are written by `to_otlp` from `sample` of `family` (which the
    /// caller passes on); its staleness marker needs this copy.
    pub(crate) fn general(
        &mut self,
        at: usize,
        family: &str,
        metric_type: MetricType,
        sample: &Sample,
    ) {
        self.unfast(at);
        if let Some(slot) = self.slots[at].as_mut() {
            match &mut slot.kind {
                Kind::General(Some(seen))
                    if seen.family == family
                        && seen.metric_type == metric_type
                        && seen.sample == sample.name
                        && seen.labels == sample.labels => {}
                kind => {
                    *kind = Kind::General(Some(Box::new(GeneralSeen {
                        family: family.to_owned(),
                        metric_type,
                        sample: sample.name.clone(),
                        labels: sample.labels.clone(),
                    })))
                }
            }
        }
    }

    /// Stops slot `at` from being fast (its text no longer leads to it, its metric loses
    /// a user).
    fn unfast(&mut self, at: usize) {
        let Some(slot) = self.slots[at].as_mut() else {
            return;
        };
        if let Some(id) = slot.raw.take()
            && let Some(entry) = self.by_raw.get(&id)
            && matches!(entry.target, RawTarget::Series(s) if s as usize == at)
        {
            self.by_raw.remove(&id);
        }
        // A general slot keeps what its staleness marker needs (`general` compares it rather
        // than copying the sample again at every scrape).
        if matches!(slot.kind, Kind::Fast { .. })
            && let Kind::Fast { metric, attrs, run } =
                std::mem::replace(&mut slot.kind, Kind::General(None))
        {
            self.dead_attr_bytes += attrs.len;
            if let Some(run) = run.filter(|run| run.known) {
                self.adjuster
                    .remember(run.key.into(), run.start_ns, run.last, run.seen_ns);
            }
            self.release_metric(metric);
        }
    }

    fn release_metric(&mut self, metric: u32) {
        let fast = &mut self.metrics[metric as usize];
        fast.users -= 1;
        if fast.users == 0 && fast.runs.is_empty() {
            self.metric_index.remove(&fast.family);
            fast.header = Vec::new();
            self.free_metrics.push(metric);
        }
    }

    /// Slot `at` becomes (or stays) fast: text `raw` of `family` (of signature
    /// `family_sig`) leads to it, and its points are those `to_otlp` makes of `sample` (a
    /// counter, gauge or untyped one of the target's resource and default scope, its
    /// timestamp set) with `options`: the family's metric, the sample's attributes encoded
    /// once, a counter's start times under the adjuster's key. Writes this scrape's point;
    /// `false` (nothing written) for a family that makes no number metric.
    pub(crate) fn fast(
        &mut self,
        at: usize,
        raw: &str,
        family: &Family,
        family_sig: u64,
        sample: &Sample,
        options: &Options,
    ) -> bool {
        let metric = match self.metric_index.get(&family_sig) {
            Some(&metric) => metric,
            None => {
                let Some(metric) = number_metric(family, &sample.name, options) else {
                    return false;
                };
                let sum = matches!(metric.data, Some(Data::Sum(_)));
                let header = Metric {
                    data: None,
                    ..metric
                }
                .encode_to_vec();
                let fast = FastMetric {
                    family: family_sig,
                    header,
                    sum,
                    runs: SmallVec::new(),
                    users: 0,
                };
                let at = match self.free_metrics.pop() {
                    Some(at) => {
                        self.metrics[at as usize] = fast;
                        at
                    }
                    None => {
                        self.metrics.push(fast);
                        (self.metrics.len() - 1) as u32
                    }
                };
                self.metric_index.insert(family_sig, at);
                at
            }
        };
        // Counted before `unfast`, which may release the same metric.
        self.metrics[metric as usize].users += 1;
        self.unfast(at);
        let attrs_start = self.attr_bytes.len();
        for kv in point_key_values(&sample.labels) {
            prost::encoding::message::encode(7, &kv, &mut self.attr_bytes);
        }
        let attrs = AttrRange {
            start: attrs_start,
            len: self.attr_bytes.len() - attrs_start,
        };
        let start_key = (family.metric_type == MetricType::Counter).then(|| {
            let metric = number_metric_name(family, &sample.name, options);
            start_key(metric, &sample.labels)
        });
        let id = self.text_id(raw);
        let Some(slot) = self.slots[at].as_mut() else {
            self.dead_attr_bytes += attrs.len;
            return false;
        };
        slot.kind = Kind::Fast {
            metric,
            attrs,
            run: start_key.map(|key| {
                Box::new(CounterRun {
                    key: key.into(),
                    known: false,
                    start_ns: 0,
                    last: 0.0,
                    seen_ns: 0,
                })
            }),
        };
        slot.raw = Some(id);
        slot.family = family_sig;
        slot.trail = self.trail.record(at, slot.trail);
        let before = self.by_raw.insert(
            id,
            RawEntry {
                family: family_sig,
                target: RawTarget::Series(at as u32),
            },
        );
        match before {
            Some(RawEntry {
                target: RawTarget::Dropped { .. },
                ..
            }) => self.dropped -= 1,
            // The text led to another series (`unfast` above took this one's entry): that
            // one no longer has it, as `Slot::raw` says (what the trail relies on).
            Some(RawEntry {
                target: RawTarget::Series(other),
                ..
            }) if other as usize != at => {
                if let Some(other) = self.slots[other as usize].as_mut()
                    && other.raw == Some(id)
                {
                    other.raw = None;
                }
            }
            _ => {}
        }
        let time_ns = sample.timestamp_ms.map_or(0, ms_to_ns);
        self.point_of(at, time_ns, sample.value);
        true
    }

    /// Ends a scrape: the series it lacked get their staleness markers (fast ones written
    /// here, the others returned as samples of their families) unless they carried their
    /// own timestamps (and `track_timestamps_staleness` is off), and are forgotten.
    pub(crate) fn end(&mut self, time_ms: i64, track_timestamps_staleness: bool) -> Vec<Family> {
        let generation = self.generation;
        let families = self.stale_where(time_ms, track_timestamps_staleness, |slot| {
            slot.generation != generation
        });
        if self.dropped > 0 {
            let before = self.by_raw.len();
            self.by_raw.retain(|_, entry| match entry.target {
                RawTarget::Dropped { generation: g } => g == generation,
                RawTarget::Series(_) => true,
            });
            self.dropped -= before - self.by_raw.len();
        }
        families
    }

    /// A failed scrape (`in_scrape`), or the target gone: every series delivered before
    /// gets its marker (not those the failed scrape found first), and the table forgets
    /// everything (the next scrape starts anew, as after a marker).
    pub(crate) fn fail(
        &mut self,
        time_ms: i64,
        track_timestamps_staleness: bool,
        in_scrape: bool,
    ) -> Vec<Family> {
        self.drop_points();
        let generation = self.generation;
        let families = self.stale_where(time_ms, track_timestamps_staleness, |slot| {
            !in_scrape || slot.born != generation
        });
        for at in 0..self.slots.len() {
            self.forget(at);
        }
        self.by_raw.clear();
        self.dropped = 0;
        self.trail.clear();
        families
    }

    /// Markers for (and forgets) the slots `stale` picks.
    fn stale_where(
        &mut self,
        time_ms: i64,
        track_timestamps_staleness: bool,
        stale: impl Fn(&Slot) -> bool,
    ) -> Vec<Family> {
        let mut families: Vec<Family> = Vec::new();
        let mut index: HashMap<(String, MetricType), usize> = HashMap::new();
        let time_ns = ms_to_ns(time_ms);
        for at in 0..self.slots.len() {
            let Some(slot) = self.slots[at].as_ref() else {
                continue;
            };
            if !stale(slot) {
                continue;
            }
            let marked = !slot.timestamped || track_timestamps_staleness;
            if marked {
                match &slot.kind {
                    Kind::Fast { .. } => self.point_of(at, time_ns, stale_nan()),
                    Kind::General(None) => {}
                    Kind::General(Some(seen)) => {
                        let key = (seen.family.clone(), seen.metric_type);
                        let at = *index.entry(key).or_insert_with(|| {
                            families.push(Family::new(seen.family.clone(), seen.metric_type));
                            families.len() - 1
                        });
                        families[at].samples.push(Sample {
                            name: seen.sample.clone(),
                            labels: seen.labels.clone(),
                            value: stale_nan(),
                            timestamp_ms: Some(time_ms),
                            exemplar: None,
                        });
                    }
                }
            }
            self.forget(at);
        }
        families
    }

    /// Forgets slot `at` (a metric its marker was just written into stays until the
    /// points are taken).
    fn forget(&mut self, at: usize) {
        self.unfast(at);
        if let Some(slot) = self.slots[at].take() {
            self.by_key.remove(&slot.key);
            self.free.push(at as u32);
        }
    }

    /// Fast points of this scrape, as `Metric` messages (each a whole field 2 of a
    /// `ScopeMetrics`), and how many points they hold. Metrics left without users are
    /// freed once their points are out.
    #[cfg(test)]
    pub(crate) fn take_metrics(&mut self) -> (Vec<u8>, usize) {
        let fast = self.fast_metrics();
        let mut out = Vec::with_capacity(fast.len());
        fast.write(&mut out);
        let points = self.points;
        self.drop_points();
        (out, points)
    }

    /// This scrape's fast points as `Metric` messages, for [`merge`] to write; then
    /// [`drop_points`](Self::drop_points).
    pub(crate) fn fast_metrics(&self) -> FastMetrics<'_> {
        let len = self
            .touched
            .iter()
            .map(|&m| {
                let metric_len = self.metrics[m as usize].encoded_len();
                prost::encoding::key_len(2)
                    + prost::encoding::encoded_len_varint(metric_len as u64)
                    + metric_len
            })
            .sum();
        FastMetrics { table: self, len }
    }

    /// Fast points this scrape.
    pub(crate) fn fast_points(&self) -> usize {
        self.points
    }
}

impl FastMetric {
    /// This scrape's points' length, in `point_bytes`.
    fn points_len(&self) -> usize {
        self.runs.iter().map(|(a, b)| b - a).sum()
    }

    /// Its data field: gauge (5) or sum (7), and the data's length: { data_points (1) ...,
    /// temporality (2), monotonic (3) }.
    fn data(&self) -> (u32, usize) {
        if self.sum {
            (7, self.points_len() + 4)
        } else {
            (5, self.points_len())
        }
    }

    /// The `Metric` message's length with this scrape's points.
    fn encoded_len(&self) -> usize {
        let (data_tag, data_len) = self.data();
        self.header.len()
            + prost::encoding::key_len(data_tag)
            + prost::encoding::encoded_len_varint(data_len as u64)
            + data_len
    }
}

/// What [`merge`] adds to the default scope: whole `Metric` fields (2 of a `ScopeMetrics`).
pub(crate) trait ScopeTail {
    /// The bytes [`ScopeTail::write`] writes.
    fn len(&self) -> usize;
    fn write(&self, out: &mut Vec<u8>);
}

/// A scrape's fast points as `Metric` messages (each a whole field 2 of a `ScopeMetrics`),
/// written by [`merge`] from the table's buffer where they go: one copy.
pub(crate) struct FastMetrics<'a> {
    table: &'a SeriesTable,
    len: usize,
}

/// Encoded `Metric` fields as they are (for tests).
#[cfg(test)]
impl ScopeTail for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

impl ScopeTail for FastMetrics<'_> {
    fn len(&self) -> usize {
        self.len
    }

    fn write(&self, out: &mut Vec<u8>) {
        let table = self.table;
        for &m in &table.touched {
            let fast = &table.metrics[m as usize];
            let (data_tag, data_len) = fast.data();
            encode_key(2, WireType::LengthDelimited, out);
            encode_varint(fast.encoded_len() as u64, out);
            out.extend_from_slice(&fast.header);
            encode_key(data_tag, WireType::LengthDelimited, out);
            encode_varint(data_len as u64, out);
            for &(a, b) in &fast.runs {
                out.extend_from_slice(&table.point_bytes[a..b]);
            }
            if fast.sum {
                // AGGREGATION_TEMPORALITY_CUMULATIVE (2), is_monotonic true.
                out.extend_from_slice(&[2 << 3, 2, 3 << 3, 1]);
            }
        }
    }
}

/// `request` encoded with `metrics` (whole `ScopeMetrics` field-2 entries) joined to the
/// scope `scope` of the first resource whose attributes begin with `resource` (both made
/// if missing). Lengths are summed first, so everything is written once, in place.
pub(crate) fn merge(
    request: &ExportMetricsServiceRequest,
    resource: &[KeyValue],
    scope: &InstrumentationScope,
    metrics: &(impl ScopeTail + ?Sized),
) -> Vec<u8> {
    use prost::encoding::{encoded_len_varint, key_len, message};
    // A field of `len` bytes: key, length, bytes.
    let field_len = |tag, len: usize| key_len(tag) + encoded_len_varint(len as u64) + len;
    let header = |tag, len: usize, out: &mut Vec<u8>| {
        encode_key(tag, WireType::LengthDelimited, out);
        encode_varint(len as u64, out);
    };
    // A string field but empty, as prost writes it (field 3, `schema_url`, of both).
    let schema_len = |url: &str| {
        if url.is_empty() {
            0
        } else {
            field_len(3, url.len())
        }
    };
    let write_schema = |url: &str, out: &mut Vec<u8>| {
        if !url.is_empty() {
            header(3, url.len(), out);
            out.extend_from_slice(url.as_bytes());
        }
    };
    // The default scope's `ScopeMetrics`: its scope, existing metrics, then the fast ones.
    let joined_len = |scope: &InstrumentationScope, existing: &[Metric], schema_url: &str| {
        message::encoded_len(1, scope)
            + existing
                .iter()
                .map(|m| message::encoded_len(2, m))
                .sum::<usize>()
            + metrics.len()
            + schema_len(schema_url)
    };
    let write_joined =
        |scope: &InstrumentationScope, existing: &[Metric], schema_url: &str, out: &mut Vec<u8>| {
            header(2, joined_len(scope, existing, schema_url), out);
            message::encode(1, scope, out);
            for metric in existing {
                message::encode(2, metric, out);
            }
            metrics.write(out);
            write_schema(schema_url, out);
        };
    let mut out = Vec::with_capacity(request.encoded_len() + metrics.len() + 256);
    let target = request.resource_metrics.iter().position(|rm| {
        rm.resource
            .as_ref()
            .is_some_and(|r| r.attributes.starts_with(resource))
    });
    for (at, rm) in request.resource_metrics.iter().enumerate() {
        if Some(at) != target {
            message::encode(1, rm, &mut out);
            continue;
        }
        // The first scope of the default's name and version takes the fast metrics.
        let default = rm.scope_metrics.iter().enumerate().find_map(|(i, sm)| {
            sm.scope
                .as_ref()
                .filter(|s| s.name == scope.name && s.version == scope.version)
                .map(|s| (i, s))
        });
        let mut body_len = rm
            .resource
            .as_ref()
            .map_or(0, |r| message::encoded_len(1, r));
        for (i, sm) in rm.scope_metrics.iter().enumerate() {
            body_len += match default {
                Some((at, own)) if at == i => {
                    field_len(2, joined_len(own, &sm.metrics, &sm.schema_url))
                }
                _ => message::encoded_len(2, sm),
            };
        }
        if default.is_none() {
            body_len += field_len(2, joined_len(scope, &[], ""));
        }
        body_len += schema_len(&rm.schema_url);
        header(1, body_len, &mut out);
        if let Some(r) = &rm.resource {
            message::encode(1, r, &mut out);
        }
        for (i, sm) in rm.scope_metrics.iter().enumerate() {
            match default {
                Some((at, own)) if at == i => {
                    write_joined(own, &sm.metrics, &sm.schema_url, &mut out);
                }
                _ => message::encode(2, sm, &mut out),
            }
        }
        if default.is_none() {
            write_joined(scope, &[], "", &mut out);
        }
        write_schema(&rm.schema_url, &mut out);
    }
    if target.is_none() {
        let r = tributary_pipeline_core::pdata::proto::resource::v1::Resource {
            attributes: resource.to_vec(),
            ..Default::default()
        };
        let body_len = message::encoded_len(1, &r) + field_len(2, joined_len(scope, &[], ""));
        header(1, body_len, &mut out);
        message::encode(1, &r, &mut out);
        write_joined(scope, &[], "", &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use tributary_pipeline_core::pdata::attributes::key_value;
    use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
    use tributary_pipeline_core::pdata::proto::common::v1::InstrumentationScope;
    use tributary_pipeline_core::pdata::proto::metrics::v1::{
        Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric,
    };
    use tributary_pipeline_core::pdata::proto::resource::v1::Resource;

    use super::{FIT_MIN_BYTES, fit, merge};

    /// A vector doubled past its length gives the room back, keeping an eighth; one with
    /// little room, or room of a few bytes, is left alone (no reallocation per scrape).
    #[test]
    fn fit_gives_back_what_doubling_left() {
        let mut slots: Vec<[u8; 96]> = Vec::new();
        for _ in 0..517 {
            slots.push([0; 96]);
        }
        assert_eq!(slots.capacity(), 1024);
        fit(&mut slots);
        assert_eq!(slots.capacity(), 517 + 517 / 8);
        fit(&mut slots);
        assert_eq!(slots.capacity(), 517 + 517 / 8, "fitted once");
        let mut small: Vec<u8> = Vec::with_capacity(FIT_MIN_BYTES - 1);
        small.push(1);
        fit(&mut small);
        assert_eq!(small.capacity(), FIT_MIN_BYTES - 1);
        let mut roomy: Vec<u8> = vec![0; 8000];
        roomy.reserve_exact(1000);
        let capacity = roomy.capacity();
        fit(&mut roomy);
        assert_eq!(roomy.capacity(), capacity, "an eighth of room is kept");
    }

    fn gauge(name: &str) -> Metric {
        Metric {
            name: name.into(),
            data: Some(metric::Data::Gauge(Gauge {
                data_points: vec![NumberDataPoint::default()],
            })),
            ..Default::default()
        }
    }

    fn scope(name: &str, metrics: &[&str], schema_url: &str) -> ScopeMetrics {
        ScopeMetrics {
            scope: Some(InstrumentationScope {
                name: name.into(),
                ..Default::default()
            }),
            metrics: metrics.iter().map(|m| gauge(m)).collect(),
            schema_url: schema_url.into(),
        }
    }

    fn resource(instance: &str, scopes: Vec<ScopeMetrics>, schema_url: &str) -> ResourceMetrics {
        ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    key_value("service.instance.id", instance),
                    key_value("extra", "1"),
                ],
                ..Default::default()
            }),
            scope_metrics: scopes,
            schema_url: schema_url.into(),
        }
    }

    /// `merge` writes, byte for byte, the request with the fast metrics added to the
    /// first scope of the default's name in the first resource that begins with the
    /// target's attributes: a new scope (at its end) or resource (at the end) if none.
    #[test]
    fn merge_joins_the_fast_metrics_to_the_default_scope() {
        let fast = [gauge("fast_a"), gauge("fast_b")];
        let fast_bytes: Vec<u8> = fast
            .iter()
            .flat_map(|m| {
                let mut field = Vec::new();
                prost::encoding::message::encode(2, m, &mut field);
                field
            })
            .collect();
        let target = [key_value("service.instance.id", "t")];
        let default = InstrumentationScope {
            name: "default".into(),
            ..Default::default()
        };
        let cases = [
            vec![],
            vec![resource("other", vec![scope("default", &["x"], "")], "")],
            vec![
                resource("other", vec![], ""),
                resource("t", vec![scope("s", &["y"], "u1")], "u2"),
                resource("t", vec![scope("default", &["z"], "")], ""),
            ],
            vec![resource(
                "t",
                vec![
                    scope("s", &["y"], ""),
                    scope("default", &["y", "z"], "u3"),
                    scope("default", &["w"], ""),
                ],
                "u4",
            )],
            vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: target.to_vec(),
                    ..Default::default()
                }),
                ..Default::default()
            }],
        ];
        for resources in cases {
            let request = ExportMetricsServiceRequest {
                resource_metrics: resources,
            };
            let mut expected = request.clone();
            match expected.resource_metrics.iter_mut().find(|rm| {
                rm.resource
                    .as_ref()
                    .is_some_and(|r| r.attributes.starts_with(&target))
            }) {
                Some(rm) => match rm
                    .scope_metrics
                    .iter_mut()
                    .find(|sm| sm.scope.as_ref() == Some(&default))
                {
                    Some(sm) => sm.metrics.extend(fast.iter().cloned()),
                    None => rm.scope_metrics.push(ScopeMetrics {
                        scope: Some(default.clone()),
                        metrics: fast.to_vec(),
                        ..Default::default()
                    }),
                },
                None => expected.resource_metrics.push(ResourceMetrics {
                    resource: Some(Resource {
                        attributes: target.to_vec(),
                        ..Default::default()
                    }),
                    scope_metrics: vec![ScopeMetrics {
                        scope: Some(default.clone()),
                        metrics: fast.to_vec(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            }
            let merged = merge(&request, &target, &default, fast_bytes.as_slice());
            assert_eq!(merged, expected.encode_to_vec(), "{request:?}");
        }
    }
}
