//! The Prometheus text parser on the scrape benchmark's exposition (the node-exporter
//! scrape `scripts/bench-peers` serves, 507 samples): read in full (a target's first
//! scrape), and with every series text known (the steady state of the `prometheus`
//! receiver's scrape cache, which takes known samples from their text; here a set of the
//! texts stands in for the receiver's table).
//!
//! `cargo bench -p tributary-translator-prometheus --bench text`

use std::collections::HashSet;
use std::ops::Range;

use divan::Bencher;
use divan::counter::ItemsCount;
use tributary_translator_prometheus::text::{
    Family, Format, KnownSeries, Limits, parse, parse_with,
};

fn main() {
    divan::main();
}

const EXPOSITION: &[u8] = include_bytes!("../../../scripts/bench-data/node-exporter-1.5.0.prom");

fn samples() -> usize {
    parse(EXPOSITION, Format::Text, &Limits::default())
        .unwrap()
        .iter()
        .map(|family| family.samples.len())
        .sum()
}

/// Takes every series text it was told of (through `missed`) in an earlier parse.
#[derive(Default)]
struct KnownTexts {
    texts: HashSet<String, foldhash::fast::RandomState>,
    missed: Vec<Range<usize>>,
}

impl KnownSeries for KnownTexts {
    fn take(&mut self, _: &Family, _: usize, series: &str, value: f64, _: Option<i64>) -> bool {
        self.texts.contains(series) && divan::black_box(value).is_finite()
    }

    fn missed(&mut self, series: Option<Range<usize>>) {
        self.missed.extend(series);
    }
}

/// A first scrape: every sample read in full.
#[divan::bench]
fn parse_in_full(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(samples()))
        .bench(|| parse(EXPOSITION, Format::Text, &Limits::default()).unwrap());
}

/// A later scrape: every sample's series text known, so taken from its line.
#[divan::bench]
fn parse_taking_known_series(bencher: Bencher) {
    let mut known = KnownTexts::default();
    parse_with(
        EXPOSITION,
        Format::Text,
        &Limits::default(),
        Some(&mut known),
    )
    .unwrap();
    let text = std::str::from_utf8(EXPOSITION).unwrap();
    known.texts = known
        .missed
        .drain(..)
        .map(|range| text[range].to_owned())
        .collect();
    bencher.counter(ItemsCount::new(samples())).bench_local(|| {
        let families = parse_with(
            EXPOSITION,
            Format::Text,
            &Limits::default(),
            Some(&mut known),
        )
        .unwrap();
        assert!(known.missed.is_empty(), "every sample is taken");
        families
    });
}
