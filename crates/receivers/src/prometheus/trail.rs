//! The order a target lists its series in, kept from one scrape to the next.
//!
//! A target writes its exposition in the same order at every scrape. A [`SeriesTable`]
//! keeps the slots its last scrape took samples into, in the order taken (its *trail*),
//! and offered a sample checks the slot next on the trail before it looks the sample's
//! text up: a slot whose text and family are the sample's is the one the lookup would have
//! found (see `SeriesTable::take`). Most samples are then found without the lookup (a
//! random probe into a map no scrape left in the cache), and the slots are visited in the
//! order they were made, which is the order of memory.
//!
//! The trail only guesses: a guess the slot does not confirm costs one check, and the
//! lookup follows as before. Nothing on it is trusted, so nothing has to keep it current
//! when slots are freed, reused or change texts.
//!
//! [`SeriesTable`]: super::series::SeriesTable

/// Where a slot is on no trail.
pub(super) const OFF_TRAIL: u32 = u32::MAX;

/// The slots of the last scrape's taken samples in order, and this scrape's so far.
#[derive(Default)]
pub(super) struct Trail {
    /// The last scrape's slots, in the order their samples came.
    last: Vec<u32>,
    /// Where in `last` the next sample is expected.
    cursor: usize,
    /// This scrape's slots so far: the next scrape's `last`. Each slot once, so it is
    /// never longer than the table.
    next: Vec<u32>,
    /// Samples found on the trail this scrape (for tests).
    #[cfg_attr(not(test), allow(dead_code))]
    hits: usize,
}

impl Trail {
    /// Starts a scrape: the slots the last one took are the trail to follow.
    pub(super) fn begin(&mut self) {
        std::mem::swap(&mut self.last, &mut self.next);
        self.next.clear();
        self.cursor = 0;
        self.hits = 0;
    }

    /// The slot the next sample is expected in, unchecked.
    pub(super) fn expected(&self) -> Option<usize> {
        self.last.get(self.cursor).map(|&at| at as usize)
    }

    /// The next sample was in the expected slot.
    pub(super) fn hit(&mut self) {
        self.cursor += 1;
        self.hits += 1;
    }

    /// A sample was found off the trail in slot `at`, whose place on the last trail was
    /// `position` (as [`record`](Self::record) gave it): the trail is followed on from
    /// there, so that a series gone, added or moved costs a lookup or two rather than the
    /// rest of the scrape's. A `position` of an older trail is ignored.
    pub(super) fn rejoin(&mut self, at: usize, position: u32) {
        if self.last.get(position as usize) == Some(&(at as u32)) {
            self.cursor = position as usize + 1;
        }
    }

    /// This scrape took a sample into slot `at`, whose place on a trail was `position`;
    /// returns its place on this scrape's. A slot already on it keeps its place.
    pub(super) fn record(&mut self, at: usize, position: u32) -> u32 {
        if self.next.get(position as usize) == Some(&(at as u32)) {
            return position;
        }
        self.next.push(at as u32);
        (self.next.len() - 1) as u32
    }

    /// Forgets both trails (the table forgot its slots).
    pub(super) fn clear(&mut self) {
        self.last.clear();
        self.next.clear();
        self.cursor = 0;
    }

    /// Samples found on the trail this scrape (for tests).
    #[cfg(test)]
    pub(super) fn hits(&self) -> usize {
        self.hits
    }
}

/// A table following its trail answers every sample, writes every point and marks every
/// series stale exactly as one without a trail (that looks every text up), whatever the
/// scrapes: repeated, reordered, with series gone and back, moved to other families,
/// duplicated, dropped, read in full, or failed.
#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tributary_translator_prometheus::text::{Family, MetricType, Sample};
    use tributary_translator_prometheus::to_otlp::Options;

    use super::super::series::{Seen, SeriesTable, Taken, family_signature};

    /// What the scraper makes of a sample the table does not know.
    #[derive(Clone, Copy, Debug)]
    enum Fate {
        /// Taken from its text from now on (if its family makes a number metric).
        Fast,
        /// Read in full (an exemplar, its own scope or resource).
        General,
        /// Dropped by `metric_relabel_configs`.
        Dropped,
    }

    /// A sample line: series `series`, written as one of two texts (`variant`: its labels
    /// in another order), in family `family` of [`family`]. Its key is `k<key>`: the
    /// series' own, `key == series`, but where a test has a text lead to another series.
    #[derive(Clone, Debug)]
    struct Line {
        series: u8,
        key: u8,
        variant: bool,
        family: u8,
        value: f64,
        stamped: bool,
        fate: Fate,
    }

    /// A scrape: its lines, and whether it then fails (`sample_limit`); `None`: the
    /// target does not answer.
    type Scrape = Option<(Vec<Line>, bool)>;

    /// Family `n`: a counter, a gauge and an untyped one, the counter's name with other
    /// help, and a histogram (no number metric: never taken from its text).
    fn family(n: u8) -> Family {
        let (name, metric_type, help) = match n % 5 {
            0 => ("m", MetricType::Counter, None),
            1 => ("m", MetricType::Gauge, None),
            2 => ("n", MetricType::Unknown, None),
            3 => ("m", MetricType::Counter, Some("other")),
            _ => ("h", MetricType::Histogram, None),
        };
        Family {
            help: help.map(str::to_owned),
            ..Family::new(name, metric_type)
        }
    }

    /// Runs `scrapes` through `table` as the scrape loop does (every line offered while
    /// parsing, then the ones it did not take read in full), the trail forgotten at every
    /// scrape unless `follow`: everything the table answered, and the samples found on
    /// the trail in each scrape.
    fn run(table: &mut SeriesTable, scrapes: &[Scrape], follow: bool) -> (Vec<String>, Vec<usize>) {
        let options = Options::default();
        let mut log = Vec::new();
        let mut hits = Vec::new();
        for (i, scrape) in scrapes.iter().enumerate() {
            let time_ms = 1_700_000_000_000 + i as i64 * 1000;
            let Some((lines, fails)) = scrape else {
                log.push(format!("down: {:?}", table.fail(time_ms, false, false)));
                hits.push(0);
                continue;
            };
            table.begin();
            if !follow {
                table.forget_trail();
            }
            let raw =
                |line: &Line| format!("s{}{}", line.series, ["a", "b"][line.variant as usize]);
            let stamp = |line: &Line| line.stamped.then_some(time_ms - 500);
            let mut missed = Vec::new();
            for line in lines {
                let family = family_signature(&family(line.family));
                let taken = table.take(family, &raw(line), line.value, stamp(line), true, time_ms);
                log.push(format!("take {line:?}: {taken:?}"));
                if taken == Taken::Unknown {
                    missed.push(line);
                }
            }
            hits.push(table.trail_hits());
            for line in missed {
                let (family, raw) = (family(line.family), raw(line));
                let signature = family_signature(&family);
                if let Fate::Dropped = line.fate {
                    table.note_dropped(&raw, signature);
                    continue;
                }
                let (seen, at) = table.see(&format!("k{}", line.key), line.stamped);
                log.push(format!("see {line:?}: {seen:?} {at}"));
                if seen == Seen::Duplicate {
                    continue;
                }
                let sample = Sample {
                    name: family.name.clone(),
                    labels: vec![("k".into(), line.key.to_string())],
                    value: line.value,
                    timestamp_ms: Some(stamp(line).unwrap_or(time_ms)),
                    exemplar: None,
                };
                let fast = matches!(line.fate, Fate::Fast)
                    && table.fast(at, &raw, &family, signature, &sample, &options);
                if !fast {
                    table.general(at, &family.name, family.metric_type, &sample);
                }
            }
            let stale = if *fails {
                table.fail(time_ms, false, true)
            } else {
                table.end(time_ms, false)
            };
            log.push(format!("stale: {stale:?}"));
            log.push(format!("points: {:?}", table.take_metrics()));
            log.push(format!("texts: {}", table.known_texts()));
        }
        (log, hits)
    }

    /// Runs `scrapes` through a table following its trail and one not: the same answers.
    /// Returns the samples found on the trail in each scrape.
    fn same_with_and_without_trail(scrapes: &[Scrape]) -> Vec<usize> {
        let (followed, hits) = run(&mut SeriesTable::default(), scrapes, true);
        let (looked_up, none) = run(&mut SeriesTable::default(), scrapes, false);
        assert!(none.iter().all(|&n| n == 0));
        for (i, (a, b)) in followed.iter().zip(&looked_up).enumerate() {
            assert_eq!(a, b, "answer {i} differs");
        }
        assert_eq!(followed.len(), looked_up.len());
        hits
    }

    /// Gauge lines of `series`, in that order.
    fn gauges(series: impl IntoIterator<Item = u8>) -> Scrape {
        let lines = series
            .into_iter()
            .map(|series| Line {
                series,
                key: series,
                variant: false,
                family: 1,
                value: f64::from(series),
                stamped: false,
                fate: Fate::Fast,
            })
            .collect();
        Some((lines, false))
    }

    /// `scrape` with edits to its lines.
    fn edited(scrape: &Scrape, edit: impl FnOnce(&mut Vec<Line>)) -> Scrape {
        let mut scrape = scrape.clone();
        if let Some((lines, _)) = &mut scrape {
            edit(lines);
        }
        scrape
    }

    #[test]
    fn an_unchanged_scrape_is_followed_without_lookups() {
        let scrape = gauges(0..10);
        let hits = same_with_and_without_trail(&[scrape.clone(), scrape.clone(), scrape]);
        assert_eq!(hits, [0, 10, 10]);
    }

    #[test]
    fn reordered_series_are_found_and_followed_in_their_new_order() {
        let moved = gauges([0, 1, 2, 6, 7, 3, 4, 5, 8, 9]);
        let hits = same_with_and_without_trail(&[
            gauges(0..10),
            gauges((0..10).rev()),
            gauges(0..10),
            moved.clone(),
            moved,
        ]);
        // Backwards, no sample is where the trail expects it; a block moved costs a lookup
        // at each end of it.
        assert_eq!(hits, [0, 0, 0, 7, 10]);
    }

    #[test]
    fn a_series_gone_and_back_costs_a_lookup_or_two() {
        let hits = same_with_and_without_trail(&[
            gauges(0..10),
            gauges((0..10).filter(|&s| s != 4)),
            gauges(0..10),
            gauges(0..10),
            gauges(0..10),
        ]);
        // Back, 4 is new (read in full) and goes to the end of the trail: the next scrape
        // looks 4 and 5 up, and then the trail is in order again.
        assert_eq!(hits, [0, 8, 9, 8, 10]);
    }

    #[test]
    fn a_series_moved_to_another_family_is_not_taken_for_the_old_one() {
        let before = gauges(0..20);
        let retyped = edited(&before, |lines| lines[5].family = 0); // a counter of that name
        let helped = edited(&before, |lines| lines[5].family = 3); // and then other help
        let untyped = edited(&before, |lines| lines[5].family = 2); // another name
        let hits = same_with_and_without_trail(&[
            before,
            retyped.clone(),
            retyped,
            helped,
            untyped.clone(),
            untyped,
        ]);
        // Each change costs the series' own lookup and one more next to it, in the scrape
        // that has it and the one after (which finds it at the end of the trail).
        assert_eq!(hits, [0, 18, 18, 18, 19, 18]);
    }

    #[test]
    fn duplicate_series_in_one_scrape_keep_the_first() {
        // The last line is series 3 again with its labels in another order.
        let twice = edited(&gauges([0, 1, 1, 2, 3, 3]), |lines| lines[5].variant = true);
        let hits = same_with_and_without_trail(&[twice.clone(), twice.clone(), twice]);
        assert_eq!(hits, [0, 4, 4]);
    }

    #[test]
    fn slots_freed_and_reused_by_other_series_are_not_taken_for_the_old_ones() {
        let all = gauges(0..5);
        let hits = same_with_and_without_trail(&[
            all.clone(),
            // 2 goes (its slot is freed), 7 comes in its place, and takes the slot.
            gauges([0, 1, 3, 4]),
            gauges([0, 1, 7, 3, 4]),
            // 7 goes, 2 comes back (to a new slot), then 7 in 2's slot again.
            all.clone(),
            gauges([0, 1, 7, 3, 4]),
            // A series written with its labels in another order: a new text, the same slot.
            edited(&all, |lines| lines[3].variant = true),
            all.clone(),
            // A failed scrape forgets every slot; the next one makes them anew.
            all.clone().map(|(lines, _)| (lines, true)),
            gauges((0..5).rev()),
            all.clone(),
            all,
        ]);
        assert_eq!(hits.last(), Some(&5));
    }

    #[test]
    fn series_read_in_full_or_dropped_are_not_taken_from_the_trail() {
        let all = gauges(0..5);
        // Retyped to a histogram: read in full, its text leads nowhere.
        let general = edited(&all, |lines| lines[1].family = 4);
        // In another family, dropped by relabelling: its text is known as dropped.
        let dropped = edited(&all, |lines| {
            lines[3].family = 2;
            lines[3].fate = Fate::Dropped;
        });
        // Its text read in full: its slot is no longer fast.
        let full = edited(&all, |lines| {
            lines[2].family = 2;
            lines[2].fate = Fate::General;
        });
        let hits = same_with_and_without_trail(&[
            all.clone(),
            general.clone(),
            general,
            dropped.clone(),
            dropped,
            full.clone(),
            full,
            all.clone(),
            all.clone(),
            all,
        ]);
        assert_eq!(hits.last(), Some(&5));
    }

    fn line() -> impl Strategy<Value = Line> {
        (
            0u8..12,
            prop::option::weighted(0.05, 0u8..12),
            prop::bool::weighted(0.1),
            prop::sample::select(vec![0u8, 1, 1, 1, 2, 2, 3, 4]),
            0u8..4,
            prop::bool::weighted(0.1),
            prop::sample::select(vec![
                Fate::Fast,
                Fate::Fast,
                Fate::Fast,
                Fate::Fast,
                Fate::General,
                Fate::Dropped,
            ]),
        )
            .prop_map(
                |(series, key, variant, family, value, stamped, fate)| Line {
                    series,
                    key: key.unwrap_or(series),
                    variant,
                    family,
                    value: f64::from(value),
                    stamped,
                    fate,
                },
            )
    }

    /// Scrapes that mostly repeat the one before, with edits: a line gone, added,
    /// moved, changed.
    fn scrapes() -> impl Strategy<Value = Vec<Scrape>> {
        let edit = (
            0u8..6,
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            line(),
        );
        (
            prop::collection::vec(line(), 0..16),
            prop::collection::vec((prop::collection::vec(edit, 0..4), 0u8..20), 1..8),
        )
            .prop_map(|(first, steps)| {
                let mut lines = first;
                let mut scrapes = vec![Some((lines.clone(), false))];
                for (edits, outcome) in steps {
                    for (kind, a, b, new) in edits {
                        let n = lines.len();
                        match kind {
                            0 if n > 0 => {
                                lines.remove(a.index(n));
                            }
                            1 if n > 0 => {
                                let line = lines.remove(a.index(n));
                                lines.insert(b.index(n), line);
                            }
                            2 if n > 0 => lines[a.index(n)] = new,
                            3 => lines.reverse(),
                            _ => lines.insert(a.index(n + 1), new),
                        }
                    }
                    scrapes.push(match outcome {
                        0 => None,
                        1 => Some((lines.clone(), true)),
                        _ => Some((lines.clone(), false)),
                    });
                }
                scrapes
            })
    }

    proptest! {
        #[test]
        fn the_trail_changes_no_answer(scrapes in scrapes()) {
            same_with_and_without_trail(&scrapes);
        }
    }
}
