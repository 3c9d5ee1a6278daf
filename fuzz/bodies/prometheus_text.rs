//! Prometheus text 0.0.4 and OpenMetrics expositions (the `prometheus` receiver's parser)
//! and their translation to OTLP: never a panic, whatever the bytes, and never more
//! samples than lines. A text exposition parsed again knowing every series text of the
//! first read (the receiver's scrape cache) reads the same: it succeeds, and the samples
//! taken from their text plus those read in full are the first read's, values and
//! timestamps alike, in order.

use std::collections::HashSet;
use std::ops::Range;

use tributary_translator_prometheus::text::{
    Family, Format, KnownSeries, Limits, parse, parse_with,
};
use tributary_translator_prometheus::to_otlp::{Options, StartTimeAdjuster, to_metrics};

/// Learns the text of each sample read in full; takes the samples whose text it knows.
struct Cache<'a> {
    input: &'a [u8],
    known: HashSet<Vec<u8>>,
    learned: Vec<Vec<u8>>,
    /// Each sample, in order: (taken, value bits, timestamp).
    seen: Vec<(bool, u64, Option<i64>)>,
}

impl KnownSeries for Cache<'_> {
    fn take(&mut self, _: &Family, _: usize, series: &str, value: f64, ts: Option<i64>) -> bool {
        let taken = self.known.contains(series.as_bytes());
        if taken {
            self.seen.push((true, value.to_bits(), ts));
        }
        taken
    }

    fn missed(&mut self, series: Option<Range<usize>>) {
        self.seen.push((false, 0, None));
        if let Some(text) = series.and_then(|r| self.input.get(r)) {
            self.learned.push(text.to_vec());
        }
    }
}

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    for format in [Format::Text, Format::OpenMetrics] {
        if let Ok(families) = parse(data, format, &Limits::default()) {
            let samples: usize = families.iter().map(|f| f.samples.len()).sum();
            assert!(samples <= data.split(|&b| b == b'\n').count());
            let _ = to_metrics(
                &families,
                &Options::default(),
                &mut StartTimeAdjuster::new(),
                0,
            );
            if format == Format::Text {
                check_known(data, &families);
            }
        }
    }
}

fn check_known(data: &[u8], families: &[Family]) {
    let limits = Limits::default();
    let mut first = Cache {
        input: data,
        known: HashSet::new(),
        learned: Vec::new(),
        seen: Vec::new(),
    };
    parse_with(data, Format::Text, &limits, Some(&mut first)).expect("parse read it");
    let mut second = Cache {
        input: data,
        known: first.learned.into_iter().collect(),
        learned: Vec::new(),
        seen: Vec::new(),
    };
    let left = parse_with(data, Format::Text, &limits, Some(&mut second))
        .expect("knowing its texts reads what parse read");
    let all: Vec<_> = families.iter().flat_map(|f| &f.samples).collect();
    let mut read_in_full = left.iter().flat_map(|f| &f.samples);
    assert_eq!(second.seen.len(), all.len());
    for ((taken, value, ts), sample) in second.seen.iter().zip(&all) {
        if *taken {
            assert_eq!((*value, *ts), (sample.value.to_bits(), sample.timestamp_ms));
        } else {
            let full = read_in_full.next().expect("a sample read in full");
            let key = |s: &tributary_translator_prometheus::text::Sample| {
                (
                    s.name.clone(),
                    s.labels.clone(),
                    s.value.to_bits(),
                    s.timestamp_ms,
                )
            };
            assert_eq!(key(full), key(sample));
        }
    }
    assert_eq!(read_in_full.next(), None);
}
