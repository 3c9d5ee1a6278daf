//! The remote-write exporter's hot path on the scrape benchmark's load: node-exporter
//! expositions (the file `scripts/bench-peers` serves) of many targets, translated to
//! OTLP as the `prometheus` receiver does, then written as remote-write bodies from their
//! bytes with a warm series cache (the steady state of a scrape → remote write pipeline),
//! and the bodies' snappy compression.
//!
//! `cargo bench -p tributary-translator-prometheus --bench remote_write`

use divan::Bencher;
use divan::counter::ItemsCount;
use prost::Message;
use tributary_translator_prometheus::prompb::snappy_compress;
use tributary_translator_prometheus::remote_write::{FromOtlpSettings, SeriesCache, write_encoded};
use tributary_translator_prometheus::text::{Format, Limits, parse};
use tributary_translator_prometheus::to_otlp::{Options, StartTimeAdjuster, to_metrics};

fn main() {
    divan::main();
}

const EXPOSITION: &[u8] = include_bytes!("../../../scripts/bench-data/node-exporter-1.5.0.prom");

/// Targets scraped.
const TARGETS: usize = 192;

/// Targets in one exporter batch: the batch processor's 8192 points are ~16 scrapes.
const TARGETS_PER_BATCH: usize = 16;

/// One scrape of each of `count` targets, as encoded OTLP requests.
fn scrapes(count: usize) -> Vec<Vec<u8>> {
    let options = Options {
        scope_name:
            "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver"
                .into(),
        scope_version: "0.1.0".into(),
        ..Options::default()
    };
    (0..count)
        .map(|n| {
            let mut families = parse(EXPOSITION, Format::Text, &Limits::default()).unwrap();
            for sample in families.iter_mut().flat_map(|f| f.samples.iter_mut()) {
                sample.labels.push(("job".into(), "node".into()));
                sample.labels.push((
                    "instance".into(),
                    format!("10.0.{}.{}:9100", n / 250, n % 250),
                ));
            }
            let mut adjuster = StartTimeAdjuster::new();
            to_metrics(&families, &options, &mut adjuster, 1_700_000_000_000)
                .unwrap()
                .encode_to_vec()
        })
        .collect()
}

fn points(batch: &[Vec<u8>]) -> usize {
    use tributary_pipeline_core::pdata::data_point_count;
    use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
    batch
        .iter()
        .flat_map(|request| {
            ExportMetricsServiceRequest::decode(request.as_slice())
                .unwrap()
                .resource_metrics
        })
        .flat_map(|r| r.scope_metrics)
        .flat_map(|s| s.metrics)
        .map(|m| data_point_count(&m))
        .sum()
}

/// Batches of 16 targets' scrapes, 192 targets in turn (~100k series, as the gateway at
/// 100k samples/s scraped every second), written with the series cache warm: what each
/// batch costs in the steady state.
#[divan::bench]
fn write_known_series(bencher: Bencher) {
    let targets = scrapes(TARGETS);
    let batches: Vec<&[Vec<u8>]> = targets.chunks(TARGETS_PER_BATCH).collect();
    let settings = FromOtlpSettings::default();
    let mut cache = SeriesCache::default();
    for batch in &batches {
        write_encoded(batch, &settings, &mut cache, 1, 1 << 20).unwrap();
    }
    let mut next = 0;
    bencher
        .counter(ItemsCount::new(points(batches[0])))
        .bench_local(|| {
            next = (next + 1) % batches.len();
            write_encoded(batches[next], &settings, &mut cache, 1, 1 << 20).unwrap()
        });
}

/// The bodies of such a batch, compressed as the exporter sends them.
#[divan::bench]
fn snappy_bodies(bencher: Bencher) {
    let batch = scrapes(TARGETS_PER_BATCH);
    let settings = FromOtlpSettings::default();
    let mut cache = SeriesCache::default();
    let (shards, _) = write_encoded(&batch, &settings, &mut cache, 1, 1 << 20).unwrap();
    bencher
        .counter(ItemsCount::new(points(&batch)))
        .bench_local(|| {
            shards
                .iter()
                .flatten()
                .map(|body| snappy_compress(body).len())
                .sum::<usize>()
        });
}
