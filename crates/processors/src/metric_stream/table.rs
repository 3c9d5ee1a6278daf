//! [`StreamTable`]: per-stream state bounded by a stream limit and by staleness.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use super::StreamId;

/// Per-stream values, each with the time its stream was last seen.
#[derive(Debug)]
pub(crate) struct StreamTable<V> {
    streams: HashMap<StreamId, Tracked<V>>,
    max_streams: usize,
    max_stale: Option<Duration>,
    sweep_every: Duration,
    last_sweep: Instant,
}

#[derive(Debug)]
struct Tracked<V> {
    value: V,
    seen: Instant,
}

/// What [`StreamTable::entry`] found.
pub(crate) enum Admission<'a, V> {
    /// The stream is tracked; its value.
    Known(&'a mut V),
    /// The stream is new and was admitted: the caller stores its first value.
    New(NewStream<'a, V>),
    /// The stream is new and the table is full of streams that are not stale.
    Full,
}

/// A slot for a new stream's first value.
pub(crate) struct NewStream<'a, V> {
    entry: std::collections::hash_map::VacantEntry<'a, StreamId, Tracked<V>>,
    seen: Instant,
}

impl<'a, V> NewStream<'a, V> {
    /// Starts tracking the stream with `value`.
    pub fn insert(self, value: V) -> &'a mut V {
        &mut self
            .entry
            .insert(Tracked {
                value,
                seen: self.seen,
            })
            .value
    }
}

impl<V> StreamTable<V> {
    /// A table of at most `max_streams` streams (0: no limit) whose streams expire after
    /// `max_stale` without data (`None`: never), swept at most every `sweep_every`.
    pub fn new(max_streams: usize, max_stale: Option<Duration>, sweep_every: Duration) -> Self {
        StreamTable {
            streams: HashMap::new(),
            max_streams,
            max_stale,
            sweep_every,
            last_sweep: Instant::now(),
        }
    }

    /// How many streams are tracked.
    pub fn len(&self) -> usize {
        self.streams.len()
    }

    /// Forgets streams not seen for `max_stale`, if a sweep is due at `now`; returns how
    /// many were forgotten.
    pub fn sweep_if_due(&mut self, now: Instant) -> usize {
        if now.saturating_duration_since(self.last_sweep) < self.sweep_every {
            return 0;
        }
        self.sweep(now)
    }

    /// Forgets streams not seen for `max_stale`; returns how many.
    pub fn sweep(&mut self, now: Instant) -> usize {
        self.last_sweep = now;
        let Some(max_stale) = self.max_stale else {
            return 0;
        };
        let before = self.streams.len();
        self.streams
            .retain(|_, tracked| now.saturating_duration_since(tracked.seen) < max_stale);
        before - self.streams.len()
    }

    /// The stream `id` seen at `now`: its value, a slot for it, or [`Admission::Full`].
    /// A full table is swept first, so stale streams make room for new ones.
    pub fn entry(&mut self, id: StreamId, now: Instant) -> Admission<'_, V> {
        if self.max_streams != 0
            && self.streams.len() >= self.max_streams
            && !self.streams.contains_key(&id)
        {
            self.sweep(now);
            if self.streams.len() >= self.max_streams {
                return Admission::Full;
            }
        }
        match self.streams.entry(id) {
            Entry::Occupied(occupied) => {
                let tracked = occupied.into_mut();
                tracked.seen = now;
                Admission::Known(&mut tracked.value)
            }
            Entry::Vacant(entry) => Admission::New(NewStream { entry, seen: now }),
        }
    }
}
