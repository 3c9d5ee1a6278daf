//! Every scraper against the fixture tree, error accounting, and the parsers.

use proptest::prelude::*;
use tributary_pipeline_core::component::{Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::common::v1::{KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    AggregationTemporality, metric::Data, number_data_point,
};

use super::fixture::{self, PID};
use crate::hostmetrics::receiver::Collector;
use crate::hostmetrics::{Config, count_tcp_states, parse_swaps};

/// One number point: its resource's and its own attributes (as text) and its value.
#[derive(Debug, Clone)]
struct Point {
    resource: Vec<(String, String)>,
    attributes: Vec<(String, String)>,
    value: f64,
    start: u64,
}

fn text(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

/// Every point of metric `name`.
fn points(metrics: &Metrics, name: &str) -> Vec<Point> {
    let mut found = Vec::new();
    for rm in &metrics.request().resource_metrics {
        let resource = text(&rm.resource.clone().unwrap_or_default().attributes);
        for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
            if metric.name != name {
                continue;
            }
            let data_points = match &metric.data {
                Some(Data::Sum(sum)) => &sum.data_points,
                Some(Data::Gauge(gauge)) => &gauge.data_points,
                _ => continue,
            };
            for p in data_points {
                let value = match p.value {
                    Some(number_data_point::Value::AsInt(i)) => i as f64,
                    Some(number_data_point::Value::AsDouble(d)) => d,
                    None => f64::NAN,
                };
                found.push(Point {
                    resource: resource.clone(),
                    attributes: text(&p.attributes),
                    value,
                    start: p.start_time_unix_nano,
                });
            }
        }
    }
    found
}

/// The value of the one point of `name` carrying every pair of `with`.
fn value(metrics: &Metrics, name: &str, with: &[(&str, &str)]) -> f64 {
    let matching: Vec<_> = points(metrics, name)
        .into_iter()
        .filter(|p| {
            with.iter().all(|(k, v)| {
                p.attributes
                    .iter()
                    .chain(&p.resource)
                    .any(|(pk, pv)| pk == k && pv == v)
            })
        })
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "one {name} point with {with:?}: {matching:#?}"
    );
    matching[0].value
}

const ALL_SCRAPERS: &str = "scrapers:
  cpu:
    metrics:
      system.cpu.logical.count: {enabled: true}
  load:
  memory:
    metrics:
      system.linux.memory.available: {enabled: true}
      system.linux.memory.dirty: {enabled: true}
  disk:
  filesystem:
  network:
  paging:
  processes:
  process:
  system:
";

fn collector(
    root: &std::path::Path,
    yaml: &str,
) -> (
    Collector,
    tributary_pipeline_core::component::CreateSettings,
) {
    let yaml = format!("root_path: {}\n{yaml}", root.display());
    let config: Config = load_config(&yaml).unwrap();
    let settings =
        tributary_pipeline_core::testing::settings::<Metrics>(Kind::Receiver, "hostmetrics");
    (Collector::new(&settings, &config).unwrap(), settings)
}

#[test]
fn every_scraper_reads_the_root_path() {
    let root = fixture::hostfs();
    let (collector, settings) = collector(root.path(), ALL_SCRAPERS);
    let m = collector.scrape(1);
    let boot = 1_600_000_000 * 1_000_000_000;
    // cpu: ticks / 100 per second.
    assert_eq!(
        value(&m, "system.cpu.time", &[("cpu", "cpu0"), ("state", "user")]),
        6.0
    );
    assert_eq!(
        value(&m, "system.cpu.time", &[("cpu", "cpu1"), ("state", "wait")]),
        0.2
    );
    assert!(
        points(&m, "system.cpu.time")
            .iter()
            .all(|p| p.start == boot)
    );
    assert_eq!(value(&m, "system.cpu.logical.count", &[]), 2.0);
    // load
    assert_eq!(value(&m, "system.cpu.load_average.1m", &[]), 7.25);
    assert_eq!(value(&m, "system.cpu.load_average.15m", &[]), 1.75);
    // memory (kB × 1024)
    assert_eq!(
        value(&m, "system.memory.usage", &[("state", "free")]),
        1_000_000.0 * 1024.0
    );
    assert_eq!(
        value(&m, "system.memory.usage", &[("state", "cached")]),
        3_300_000.0 * 1024.0
    );
    assert_eq!(
        value(&m, "system.memory.usage", &[("state", "used")]),
        3_500_000.0 * 1024.0
    );
    assert_eq!(
        value(&m, "system.linux.memory.available", &[]),
        5_000_000.0 * 1024.0
    );
    assert_eq!(value(&m, "system.linux.memory.dirty", &[]), 4242.0 * 1024.0);
    // disk: 512-byte sectors, milliseconds to seconds.
    assert_eq!(
        value(
            &m,
            "system.disk.io",
            &[("device", "fixturedisk"), ("direction", "read")]
        ),
        4096.0 * 512.0
    );
    assert_eq!(
        value(
            &m,
            "system.disk.operations",
            &[("device", "fixturedisk"), ("direction", "write")]
        ),
        5555.0
    );
    assert_eq!(
        value(&m, "system.disk.io_time", &[("device", "fixturedisk")]),
        0.888
    );
    assert_eq!(
        value(
            &m,
            "system.disk.pending_operations",
            &[("device", "fixturedisk")]
        ),
        2.0
    );
    // filesystem: the fixture's mount of "/", measured at root_path.
    let used = value(
        &m,
        "system.filesystem.usage",
        &[
            ("device", "/dev/fixture0"),
            ("mountpoint", "/"),
            ("type", "fixturefs"),
            ("mode", "rw"),
            ("state", "used"),
        ],
    );
    let stat = rustix::fs::statvfs(root.path()).unwrap();
    let expected = ((stat.f_blocks - stat.f_bfree) * stat.f_frsize) as f64;
    assert!(
        (used - expected).abs() <= expected * 0.05 + 64.0 * 1024.0 * 1024.0,
        "{used} vs {expected}"
    );
    assert!(
        points(&m, "system.filesystem.usage")
            .iter()
            .all(|p| !p.attributes.iter().any(|(_, v)| v == "proc")),
        "virtual file systems are left out"
    );
    // network
    assert_eq!(
        value(
            &m,
            "system.network.io",
            &[("device", "fixnet0"), ("direction", "receive")]
        ),
        4_242_000.0
    );
    assert_eq!(
        value(
            &m,
            "system.network.errors",
            &[("device", "fixnet0"), ("direction", "transmit")]
        ),
        3.0
    );
    assert_eq!(
        value(&m, "system.network.connections", &[("state", "LISTEN")]),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "system.network.connections",
            &[("state", "ESTABLISHED")]
        ),
        1.0
    );
    // paging
    assert_eq!(
        value(
            &m,
            "system.paging.usage",
            &[("device", "/fixture/swapfile"), ("state", "used")]
        ),
        97_148.0 * 1024.0
    );
    assert_eq!(
        value(&m, "system.paging.faults", &[("type", "major")]),
        42.0
    );
    assert_eq!(
        value(&m, "system.paging.faults", &[("type", "minor")]),
        4958.0
    );
    assert_eq!(
        value(
            &m,
            "system.paging.operations",
            &[("direction", "page_out"), ("type", "major")]
        ),
        12.0
    );
    // processes: running and blocked from /proc/stat, as Go on Linux.
    assert_eq!(value(&m, "system.processes.created", &[]), 123_456.0);
    assert_eq!(
        value(&m, "system.processes.count", &[("status", "running")]),
        3.0
    );
    assert_eq!(
        value(&m, "system.processes.count", &[("status", "sleeping")]),
        2.0
    );
    // process: the fixture's pid, owner from root_path's /etc/passwd.
    let pid = PID.to_string();
    let resource = [("process.pid", pid.as_str())];
    assert_eq!(
        value(&m, "process.cpu.time", &[resource[0], ("state", "user")]),
        1.5
    );
    assert_eq!(
        value(&m, "process.memory.usage", &resource),
        2560.0 * procfs::page_size() as f64
    );
    assert_eq!(
        value(&m, "process.memory.virtual", &resource),
        104_857_600.0
    );
    assert_eq!(
        value(
            &m,
            "process.disk.io",
            &[resource[0], ("direction", "write")]
        ),
        8_192_000.0
    );
    let process = points(&m, "process.memory.virtual")
        .into_iter()
        .find(|p| p.resource.contains(&("process.pid".into(), pid.clone())))
        .unwrap();
    let expect = |k: &str, v: &str| {
        assert!(
            process.resource.contains(&(k.into(), v.into())),
            "{k}={v} in {:?}",
            process.resource
        )
    };
    expect("process.executable.name", "fixture-daemon");
    expect("process.executable.path", "/usr/bin/fixture-daemon");
    expect("process.command", "/usr/bin/fixture-daemon");
    expect("process.command_line", "/usr/bin/fixture-daemon --flag");
    expect("process.owner", "fixtureuser");
    expect("process.parent_pid", "1");
    assert_eq!(process.start, (1_600_000_000 + 10) * 1_000_000_000);
    // system
    assert_eq!(value(&m, "system.uptime", &[]), 12345.67);
    // The vanished process was skipped and counted; nothing errored.
    let errors = |cause: &str| {
        settings.metrics().sum(
            "otelcol_receiver_hostmetrics_process_errors",
            &[("cause", cause)],
        )
    };
    assert_eq!(errors("vanished"), 1.0);
    assert_eq!(
        settings
            .metrics()
            .sum("otelcol_scraper_errored_metric_points", &[]),
        0.0
    );
    assert!(
        settings.metrics().sum(
            "otelcol_scraper_scraped_metric_points",
            &[("scraper", "process")]
        ) >= 4.0
    );
}

#[test]
fn go_metric_shapes_and_scope() {
    let root = fixture::hostfs();
    let (collector, _) = collector(root.path(), ALL_SCRAPERS);
    let m = collector.scrape(1);
    let mut seen = 0;
    for rm in &m.request().resource_metrics {
        for sm in &rm.scope_metrics {
            let scope = sm.scope.clone().unwrap_or_default().name;
            assert!(scope.starts_with("github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/"), "{scope}");
            for metric in &sm.metrics {
                seen += 1;
                let (unit, monotonic) = match metric.name.as_str() {
                    "system.cpu.time" | "process.cpu.time" | "system.disk.io_time" => {
                        ("s", Some(true))
                    }
                    "system.memory.usage" | "system.filesystem.usage" | "process.memory.usage" => {
                        ("By", Some(false))
                    }
                    "system.network.io" | "system.disk.io" | "process.disk.io" => {
                        ("By", Some(true))
                    }
                    "system.cpu.load_average.1m" => ("{thread}", None),
                    "system.uptime" => ("s", None),
                    "system.processes.count" => ("{processes}", Some(false)),
                    _ => continue,
                };
                assert_eq!(metric.unit, unit, "{}", metric.name);
                match (&metric.data, monotonic) {
                    (Some(Data::Sum(sum)), Some(monotonic)) => {
                        assert_eq!(sum.is_monotonic, monotonic, "{}", metric.name);
                        assert_eq!(
                            sum.aggregation_temporality,
                            AggregationTemporality::Cumulative as i32
                        );
                    }
                    (Some(Data::Gauge(_)), None) => {}
                    other => panic!("{}: {other:?}", metric.name),
                }
            }
        }
    }
    assert!(seen > 20);
    // Disabled by default, as Go.
    for name in [
        "system.cpu.utilization",
        "system.memory.utilization",
        "process.threads",
        "system.network.conntrack.count",
    ] {
        assert!(points(&m, name).is_empty(), "{name} is off by default");
    }
}

#[test]
fn filters_and_switches_apply() {
    let root = fixture::hostfs();
    let yaml = "scrapers:
  disk:
    exclude: {devices: ['^loop'], match_type: regexp}
  network:
    include: {interfaces: [lo], match_type: strict}
  load: {cpu_average: true}
  process:
    include: {names: [daemon], match_type: regexp}
    resource_attributes:
      process.command_line: {enabled: false}
    metrics:
      process.threads: {enabled: true}
      process.memory.virtual: {enabled: false}
";
    let (collector, _) = collector(root.path(), yaml);
    let m = collector.scrape(1);
    assert!(
        points(&m, "system.disk.io")
            .iter()
            .all(|p| !p.attributes.contains(&("device".into(), "loop0".into())))
    );
    assert!(!points(&m, "system.disk.io").is_empty());
    assert!(
        points(&m, "system.network.io")
            .iter()
            .all(|p| p.attributes.contains(&("device".into(), "lo".into())))
    );
    assert_eq!(value(&m, "system.cpu.load_average.1m", &[]), 7.25 / 2.0);
    let threads = points(&m, "process.threads");
    assert_eq!(threads.len(), 1, "only fixture-daemon matches: {threads:?}");
    assert_eq!(threads[0].value, 7.0);
    assert!(
        !threads[0]
            .resource
            .iter()
            .any(|(k, _)| k == "process.command_line")
    );
    assert!(points(&m, "process.memory.virtual").is_empty());
}

#[test]
fn a_failing_scraper_does_not_stop_the_others() {
    let root = fixture::hostfs();
    std::fs::remove_file(root.path().join("proc/loadavg")).unwrap();
    std::fs::remove_file(root.path().join(format!("proc/{PID}/io"))).unwrap();
    let (collector, settings) =
        collector(root.path(), "scrapers: {load: {}, memory: {}, process: {}}");
    let m = collector.scrape(1);
    assert!(points(&m, "system.cpu.load_average.1m").is_empty());
    assert!(!points(&m, "system.memory.usage").is_empty());
    assert_eq!(
        settings.metrics().sum(
            "otelcol_scraper_errored_metric_points",
            &[("scraper", "load")]
        ),
        1.0
    );
    // The process without readable I/O is still reported, without process.disk.io.
    let pid = PID.to_string();
    assert_eq!(
        value(
            &m,
            "process.memory.virtual",
            &[("process.pid", pid.as_str())]
        ),
        104_857_600.0
    );
    assert!(
        points(&m, "process.disk.io")
            .iter()
            .all(|p| !p.resource.contains(&("process.pid".into(), pid.clone())))
    );
    let io = settings.metrics().sum(
        "otelcol_receiver_hostmetrics_process_errors",
        &[("cause", "io")],
    );
    // The fixture's pid 1 has no io file either.
    assert_eq!(io, 2.0);
    // A second scrape counts again (and logs nothing new).
    collector.scrape(1);
    let io = settings.metrics().sum(
        "otelcol_receiver_hostmetrics_process_errors",
        &[("cause", "io")],
    );
    assert_eq!(io, 4.0);
}

#[test]
fn cpu_utilization_needs_two_scrapes() {
    let root = fixture::hostfs();
    let (collector, _) = collector(
        root.path(),
        "scrapers: {cpu: {metrics: {system.cpu.utilization: {enabled: true}}}}",
    );
    assert!(points(&collector.scrape(1), "system.cpu.utilization").is_empty());
    std::fs::write(
        root.path().join("proc/stat"),
        "cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 700 100 200 2100 30 4 5 6 0 0\ncpu1 400 100 100 2000 20 2 2 2 0 0\nbtime 1600000000\nctxt 1\nprocesses 1\n",
    )
    .unwrap();
    let m = collector.scrape(1);
    assert_eq!(
        value(
            &m,
            "system.cpu.utilization",
            &[("cpu", "cpu0"), ("state", "user")]
        ),
        0.5
    );
    assert_eq!(
        value(
            &m,
            "system.cpu.utilization",
            &[("cpu", "cpu0"), ("state", "idle")]
        ),
        0.5
    );
}

#[tokio::test]
async fn the_receiver_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_receiver(
        crate::hostmetrics::factory(),
        "collection_interval: 100ms\ninitial_delay: 0s\nscrapers: {cpu: {}, memory: {}, load: {}}\n",
    )
    .await;
}

#[test]
fn tcp_states_are_counted() {
    let mut counts = Default::default();
    count_tcp_states(
        "header\n 0: A:1 B:2 0A x\n 1: A:1 B:2 01 x\n 2: A:1 B:2 01 x\n",
        &mut counts,
    );
    assert_eq!(counts.get("LISTEN"), Some(&1));
    assert_eq!(counts.get("ESTABLISHED"), Some(&2));
}

proptest! {
    #[test]
    fn proc_text_parsers_never_panic(text in "\\PC{0,400}", noise in proptest::collection::vec(any::<u8>(), 0..400)) {
        for input in [text, String::from_utf8_lossy(&noise).into_owned()] {
            let mut counts = Default::default();
            count_tcp_states(&input, &mut counts);
            prop_assert!(counts.values().sum::<u64>() <= input.lines().count() as u64);
            let swaps = parse_swaps(&input);
            prop_assert!(swaps.len() <= input.lines().count());
        }
    }
}

#[tokio::test]
async fn the_running_receiver_sends_the_root_path_s_metrics_every_interval() {
    use std::time::Duration;
    use tributary_pipeline_core::component::Host;
    use tributary_pipeline_core::testing::Sink;

    let root = fixture::hostfs();
    let yaml = format!(
        "root_path: {}\ncollection_interval: 50ms\ninitial_delay: 0s\ntimeout: 5s\nscrapers: {{load: {{}}, process: {{}}}}\n",
        root.path().display()
    );
    let config: Config = load_config(&yaml).unwrap();
    let settings =
        tributary_pipeline_core::testing::settings::<Metrics>(Kind::Receiver, "hostmetrics");
    let sink = Sink::<Metrics>::new();
    let receiver = crate::hostmetrics::factory()
        .create(&settings, &config, sink.clone())
        .unwrap();
    receiver.start(&Host::default()).await.unwrap();
    tributary_pipeline_core::testing::eventually(
        "two collections",
        Duration::from_secs(10),
        || (sink.received().len() >= 2).then_some(()),
    )
    .await;
    receiver.shutdown().await.unwrap();
    for batch in sink.received() {
        assert_eq!(value(&batch, "system.cpu.load_average.5m", &[]), 3.5);
        let pid = PID.to_string();
        let resource = [("process.pid", pid.as_str())];
        assert_eq!(
            value(&batch, "process.memory.virtual", &resource),
            104_857_600.0
        );
    }
    let accepted = settings.metrics().sum(
        "otelcol_receiver_accepted_metric_points",
        &[("receiver", "hostmetrics")],
    );
    assert!(accepted >= 2.0, "{accepted}");
}

/// Counts warning events (the process scraper's per-cause log lines).
#[derive(Default)]
struct WarningCounter(std::sync::atomic::AtomicUsize);

impl tracing::Subscriber for WarningCounter {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Two processes whose executable cannot be read, scraped twice: skipped and counted each
/// time, logged once (or never when muted).
#[test]
fn unreadable_processes_are_counted_every_time_and_logged_once() {
    for (mute, warnings) in [("false", 1), ("true", 0)] {
        let root = fixture::hostfs();
        for pid in [5001, 5002] {
            let dir = root.path().join(format!("proc/{pid}"));
            std::fs::create_dir_all(&dir).unwrap();
            let stat =
                std::fs::read_to_string(root.path().join(format!("proc/{PID}/stat"))).unwrap();
            std::fs::write(
                dir.join("stat"),
                stat.replacen(&PID.to_string(), &pid.to_string(), 1),
            )
            .unwrap();
            std::fs::copy(
                root.path().join(format!("proc/{PID}/status")),
                dir.join("status"),
            )
            .unwrap();
        }
        // The fixture's pid 1 has no io file: that cause is muted to count only exe warnings.
        let yaml = format!(
            "scrapers: {{process: {{mute_process_exe_error: {mute}, mute_process_io_error: true}}}}"
        );
        let (collector, settings) = collector(root.path(), &yaml);
        let counter = std::sync::Arc::new(WarningCounter::default());
        tracing::subscriber::with_default(counter.clone(), || {
            collector.scrape(1);
            collector.scrape(1);
        });
        let exe = settings.metrics().sum(
            "otelcol_receiver_hostmetrics_process_errors",
            &[("cause", "exe")],
        );
        assert_eq!(exe, 4.0, "two processes, two scrapes (mute: {mute})");
        let logged = counter.0.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            logged, warnings,
            "warnings with mute_process_exe_error: {mute}"
        );
        // The readable ones are still reported.
        let m = collector.scrape(1);
        let pid = PID.to_string();
        assert!(!points(&m, "process.cpu.time").is_empty());
        assert!(
            points(&m, "process.cpu.time")
                .iter()
                .any(|p| p.resource.contains(&("process.pid".into(), pid.clone())))
        );
    }
}

#[test]
fn young_processes_wait_for_scrape_process_delay() {
    let root = fixture::hostfs();
    // The fixture's processes started in 2020: a delay of a century skips them all.
    let (old, _) = collector(
        root.path(),
        "scrapers: {process: {scrape_process_delay: 876000h}}",
    );
    assert!(points(&old.scrape(1), "process.cpu.time").is_empty());
    let (young, _) = collector(
        root.path(),
        "scrapers: {process: {scrape_process_delay: 1h}}",
    );
    assert!(!points(&young.scrape(1), "process.cpu.time").is_empty());
}

#[tokio::test]
async fn a_missing_root_path_fails_the_start() {
    use tributary_pipeline_core::component::Host;
    let config: Config = load_config("root_path: /nonexistent/hostfs\nscrapers: {cpu: }").unwrap();
    let settings =
        tributary_pipeline_core::testing::settings::<Metrics>(Kind::Receiver, "hostmetrics");
    let receiver = crate::hostmetrics::factory()
        .create(
            &settings,
            &config,
            tributary_pipeline_core::testing::discard::<Metrics>(),
        )
        .unwrap();
    let error = receiver.start(&Host::default()).await.unwrap_err();
    assert!(error.to_string().contains("root_path"), "{error}");
}

#[test]
fn virtual_file_systems_only_when_asked() {
    let root = fixture::hostfs();
    let (collector, _) = collector(
        root.path(),
        "scrapers: {filesystem: {include_virtual_filesystems: true}}",
    );
    let m = collector.scrape(1);
    let proc_mount = [("mountpoint", "/proc"), ("type", "proc"), ("state", "used")];
    value(&m, "system.filesystem.usage", &proc_mount);
}

#[test]
fn process_utilizations_are_relative_to_the_host() {
    let root = fixture::hostfs();
    let yaml = "scrapers: {process: {metrics: {process.cpu.utilization: {enabled: true}, process.memory.utilization: {enabled: true}}}}";
    let (collector, _) = collector(root.path(), yaml);
    let pid = PID.to_string();
    let resource = [("process.pid", pid.as_str())];
    let first = collector.scrape(1);
    let memory = value(&first, "process.memory.utilization", &resource);
    let expected = 2560.0 * procfs::page_size() as f64 / (8_000_000.0 * 1024.0);
    assert!((memory - expected).abs() < 1e-12, "{memory} vs {expected}");
    assert!(
        points(&first, "process.cpu.utilization").is_empty(),
        "none on the first scrape"
    );
    // One more second of user time (100 ticks) before the next scrape.
    let stat_path = root.path().join(format!("proc/{PID}/stat"));
    let stat = std::fs::read_to_string(&stat_path).unwrap();
    std::fs::write(&stat_path, stat.replacen(" 150 75 ", " 250 75 ", 1)).unwrap();
    let second = collector.scrape(1);
    assert!(
        value(
            &second,
            "process.cpu.utilization",
            &[resource[0], ("state", "user")]
        ) > 0.0
    );
    assert_eq!(
        value(
            &second,
            "process.cpu.utilization",
            &[resource[0], ("state", "system")]
        ),
        0.0
    );
}

#[test]
fn with_a_root_path_the_network_is_pid_1_s() {
    let root = fixture::hostfs();
    let host_net = root.path().join("proc/1/net");
    std::fs::create_dir_all(&host_net).unwrap();
    let dev = std::fs::read_to_string(root.path().join("proc/net/dev")).unwrap();
    std::fs::write(host_net.join("dev"), dev.replace("fixnet0", "hostnet0")).unwrap();
    let (collector, _) = collector(root.path(), "scrapers: {network: }");
    let m = collector.scrape(1);
    let io = [("device", "hostnet0"), ("direction", "receive")];
    assert_eq!(value(&m, "system.network.io", &io), 4_242_000.0);
    assert!(
        points(&m, "system.network.io")
            .iter()
            .all(|p| !p.attributes.contains(&("device".into(), "fixnet0".into())))
    );
}
