//! The `resourcedetection` processor: configuration, the `env` parser, the `system`
//! detector on a fixture tree, the merge with and without `override`, the three signals,
//! and the conformance suite. (Against this machine's `hostname`, `/etc/machine-id` and
//! `uname`, and with `OTEL_RESOURCE_ATTRIBUTES` set, see `tests/hostmetrics.rs`.)

use std::path::Path;

use proptest::prelude::*;
use tributary_pipeline_core::component::{CreateSettings, Host, Kind, load_config};
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{LogsBuilder, MetricsBuilder, TracesBuilder};
use tributary_pipeline_core::pdata::proto::common::v1::{KeyValue, any_value};
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};
use tributary_pipeline_core::testing::Sink;

use super::processor::detect_all;
use super::system::{self, HostFiles};
use super::{Config, EnvError, factory, merge_attributes, parse_resource_attributes};

fn error(yaml: &str) -> String {
    match load_config::<Config>(yaml) {
        Ok(config) => panic!("{yaml:?} was accepted: {config:?}"),
        Err(e) => e.to_string(),
    }
}

fn strings(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| {
            let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                Some(any_value::Value::IntValue(i)) => i.to_string(),
                Some(any_value::Value::ArrayValue(a)) => format!(
                    "{:?}",
                    a.values.iter().map(|v| v.value.clone()).collect::<Vec<_>>()
                ),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), value)
        })
        .collect()
}

fn get(attributes: &[KeyValue], key: &str) -> Option<String> {
    strings(attributes)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[test]
fn defaults_are_gos() {
    let config: Config = load_config("").unwrap();
    assert_eq!(config.detectors, ["env"]);
    assert!(config.attributes.is_none());
    assert!(config.override_);
    assert_eq!(config.timeout, std::time::Duration::from_secs(5));
    assert_eq!(config.system.hostname_sources, ["dns", "os"]);
    assert!(config.system.enabled("host.name"));
    assert!(config.system.enabled("os.type"));
    for off in [
        "host.id",
        "host.arch",
        "host.ip",
        "host.mac",
        "os.description",
        "host.cpu.family",
    ] {
        assert!(!config.system.enabled(off), "{off} is off by default");
    }
}

#[test]
fn what_is_not_built_is_refused_with_the_reason() {
    let e = error("detectors: [env, ec2]");
    assert!(e.contains("detectors::1") && e.contains("not built"), "{e}");
    let e = error("detectors: [system]\ngcp: {}\n");
    assert!(e.starts_with("gcp") && e.contains("not built"), "{e}");
    let e = error("detectors: [nonsense]");
    assert!(e.contains("invalid detector key"), "{e}");
    let e = error("overide: false");
    assert!(e.contains("overide") && e.contains("unknown key"), "{e}");
    let e = error("refresh_interval: 5m");
    assert!(e.contains("refresh_interval"), "{e}");
    let e = error("system: {hostname_sources: [dns, nis]}");
    assert!(e.contains("system::hostname_sources::1"), "{e}");
    let e = error("system: {resource_attributes: {cloud.region: {enabled: true}}}");
    assert!(
        e.contains("system::resource_attributes::cloud.region"),
        "{e}"
    );
}

#[test]
fn env_values_are_percent_decoded() {
    let parsed =
        parse_resource_attributes(" service.name=checkout , note=a%20b%2Cc%3Dd,k=x,k=y").unwrap();
    assert_eq!(
        strings(&parsed),
        [
            ("service.name".to_string(), "checkout".to_string()),
            ("note".into(), "a b,c=d".into()),
            ("k".into(), "y".into()),
        ]
    );
    assert!(parse_resource_attributes("").unwrap().is_empty());
    assert!(matches!(
        parse_resource_attributes("novalue"),
        Err(EnvError::Pair(_))
    ));
    assert!(matches!(
        parse_resource_attributes("=v"),
        Err(EnvError::Pair(_))
    ));
    assert!(matches!(
        parse_resource_attributes("k=%zz"),
        Err(EnvError::Escape(_))
    ));
    assert!(matches!(
        parse_resource_attributes("k=%ff"),
        Err(EnvError::Escape(_))
    ));
}

proptest! {
    #[test]
    fn the_env_parser_never_panics_and_bounds_its_output(text in "\\PC{0,300}") {
        if let Ok(attributes) = parse_resource_attributes(&text) {
            prop_assert!(attributes.len() <= text.matches(',').count() + 1);
            let bytes: usize = strings(&attributes).iter().map(|(k, v)| k.len() + v.len()).sum();
            prop_assert!(bytes <= text.len());
        }
    }
}

/// A host tree with values only the fixture has.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |relative: &str, text: &str| {
        let path = dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("var/lib/dbus/machine-id", "0123456789abcdeffixture\n");
    write(
        "etc/os-release",
        "NAME=\"Fixture Linux\"\nVERSION_ID=\"42.1\"\nPRETTY_NAME=\"Fixture Linux 42.1 (Test)\"\nBUILD_ID=rolling\n",
    );
    write(
        "proc/cpuinfo",
        "processor\t: 0\nvendor_id\t: FixtureVendor\ncpu family\t: 25\nmodel\t\t: 33\nmodel name\t: Fixture CPU 9000\nstepping\t: 7\ncache size\t: 512 KB\n\nprocessor\t: 1\nvendor_id\t: Other\n",
    );
    write("sys/class/net/fix0/address", "ac:de:48:23:45:67\n");
    write("sys/class/net/lo/address", "00:00:00:00:00:00\n");
    write(
        "proc/net/fib_trie",
        "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.42.0.7\n        /32 host LOCAL\n     |-- 127.0.0.1\n        /32 host LOCAL\n",
    );
    write(
        "proc/net/if_inet6",
        "fe800000000000000000000000000001 02 40 20 80 fix0\n20010db8000000000000000000000042 02 40 00 80 fix0\n",
    );
    write(
        "etc/hosts",
        "127.0.0.1 localhost\n10.42.0.7 fixturehost.example.org fixturehost\n",
    );
    dir
}

#[test]
fn the_system_detector_reads_the_host() {
    let root = fixture();
    let yaml = "system:
  hostname_sources: [os]
  resource_attributes:
    host.id: {enabled: true}
    host.arch: {enabled: true}
    host.ip: {enabled: true}
    host.mac: {enabled: true}
    os.description: {enabled: true}
    os.name: {enabled: true}
    os.version: {enabled: true}
    os.build.id: {enabled: true}
    host.cpu.vendor.id: {enabled: true}
    host.cpu.family: {enabled: true}
    host.cpu.model.id: {enabled: true}
    host.cpu.model.name: {enabled: true}
    host.cpu.stepping: {enabled: true}
    host.cpu.cache.l2.size: {enabled: true}
";
    let config: Config = load_config(yaml).unwrap();
    let found = system::detect(&config.system, &HostFiles { root: root.path() }).unwrap();
    let uname = rustix::system::uname();
    assert_eq!(
        get(&found, "host.name").unwrap(),
        uname.nodename().to_string_lossy()
    );
    assert_eq!(get(&found, "host.id").unwrap(), "0123456789abcdeffixture");
    assert_eq!(get(&found, "os.type").unwrap(), "linux");
    assert_eq!(get(&found, "os.name").unwrap(), "Fixture Linux");
    assert_eq!(get(&found, "os.version").unwrap(), "42.1");
    assert_eq!(get(&found, "os.build.id").unwrap(), "rolling");
    let description = get(&found, "os.description").unwrap();
    assert!(
        description.starts_with("Fixture Linux 42.1 (Test) (Linux "),
        "{description}"
    );
    assert_eq!(get(&found, "host.cpu.vendor.id").unwrap(), "FixtureVendor");
    assert_eq!(get(&found, "host.cpu.family").unwrap(), "25");
    assert_eq!(get(&found, "host.cpu.model.id").unwrap(), "33");
    assert_eq!(
        get(&found, "host.cpu.model.name").unwrap(),
        "Fixture CPU 9000"
    );
    assert_eq!(get(&found, "host.cpu.stepping").unwrap(), "7");
    assert_eq!(get(&found, "host.cpu.cache.l2.size").unwrap(), "524288");
    let ips = get(&found, "host.ip").unwrap();
    assert!(
        ips.contains("10.42.0.7") && ips.contains("2001:db8::42"),
        "{ips}"
    );
    assert!(!ips.contains("127.0.0.1") && !ips.contains("fe80"), "{ips}");
    let macs = get(&found, "host.mac").unwrap();
    assert!(
        macs.contains("AC-DE-48-23-45-67") && !macs.contains("00-00"),
        "{macs}"
    );
    // Only what is enabled is detected.
    let defaults: Config = load_config("system: {hostname_sources: [os]}").unwrap();
    let found = system::detect(&defaults.system, &HostFiles { root: root.path() }).unwrap();
    let keys: Vec<_> = strings(&found).into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, ["host.name", "os.type"]);
}

#[test]
fn the_dns_source_takes_the_fqdn_from_etc_hosts() {
    let root = fixture();
    let nodename = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    std::fs::write(
        root.path().join("etc/hosts"),
        format!("10.42.0.7 {nodename}.fixture.example {nodename}\n"),
    )
    .unwrap();
    let config: Config = load_config("system: {hostname_sources: [dns]}").unwrap();
    let found = system::detect(&config.system, &HostFiles { root: root.path() }).unwrap();
    assert_eq!(
        get(&found, "host.name").unwrap(),
        format!("{nodename}.fixture.example")
    );
}

#[test]
fn a_failing_detector_leaves_the_others() {
    // No hostname source: the system detector fails as a whole; env still applies.
    let config: Config =
        load_config("detectors: [system, env]\nsystem: {hostname_sources: []}\n").unwrap();
    let root = fixture();
    let detected = detect_all(
        &config,
        root.path(),
        Some("team=core"),
        &tracing::Span::none(),
    );
    assert_eq!(
        strings(&detected),
        [("team".to_string(), "core".to_string())]
    );
    // A malformed env value fails env only; an earlier detector wins a shared key.
    let config: Config =
        load_config("detectors: [env, system]\nsystem: {hostname_sources: [os]}\n").unwrap();
    let detected = detect_all(
        &config,
        root.path(),
        Some("os.type=plan9"),
        &tracing::Span::none(),
    );
    assert_eq!(get(&detected, "os.type").unwrap(), "plan9");
    let detected = detect_all(&config, root.path(), Some("broken"), &tracing::Span::none());
    assert_eq!(get(&detected, "os.type").unwrap(), "linux");
    // The deprecated `attributes` allow-list keeps only what it names.
    let config: Config = load_config(
        "detectors: [env, system]\nattributes: [team]\nsystem: {hostname_sources: [os]}\n",
    )
    .unwrap();
    let detected = detect_all(
        &config,
        root.path(),
        Some("team=core,tier=1"),
        &tracing::Span::none(),
    );
    assert_eq!(
        strings(&detected),
        [("team".to_string(), "core".to_string())]
    );
}

#[test]
fn override_decides_who_wins() {
    let detected = vec![
        key_value("host.name", "detected"),
        key_value("os.type", "linux"),
    ];
    let mut own = vec![key_value("host.name", "own")];
    merge_attributes(&mut own, &detected, false);
    assert_eq!(get(&own, "host.name").unwrap(), "own");
    assert_eq!(get(&own, "os.type").unwrap(), "linux");
    let mut own = vec![key_value("host.name", "own")];
    merge_attributes(&mut own, &detected, true);
    assert_eq!(get(&own, "host.name").unwrap(), "detected");
}

fn settings() -> CreateSettings {
    CreateSettings::standalone(Kind::Processor, "resourcedetection".parse().unwrap(), None)
}

#[tokio::test]
async fn every_signal_s_resources_get_the_host() {
    let config: Config =
        load_config("detectors: [system]\nsystem: {hostname_sources: [os]}\noverride: false\n")
            .unwrap();
    let nodename = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();

    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create(&settings(), &config, sink.clone())
        .unwrap();
    processor.start(&Host::default()).await.unwrap();
    let mut builder = MetricsBuilder::new();
    builder
        .resource(vec![key_value("host.name", "kept")])
        .scope("s", "");
    builder.gauge("g", "1").int(vec![], 1, 1);
    builder.resource(vec![]).scope("s", "");
    builder.gauge("g", "1").int(vec![], 1, 1);
    processor.consume(builder.build()).await.unwrap();
    let received = sink.received();
    let resources = &received[0].request().resource_metrics;
    let attrs = |i: usize| resources[i].resource.clone().unwrap_or_default().attributes;
    assert_eq!(
        get(&attrs(0), "host.name").unwrap(),
        "kept",
        "override: false keeps the data's own"
    );
    assert_eq!(get(&attrs(0), "os.type").unwrap(), "linux");
    assert_eq!(get(&attrs(1), "host.name").unwrap(), nodename);

    let sink = Sink::<Traces>::new();
    let processor = factory()
        .create(&settings(), &config, sink.clone())
        .unwrap();
    processor.start(&Host::default()).await.unwrap();
    let mut builder = TracesBuilder::new();
    builder.resource(vec![]).scope("s", "");
    builder.span("x", [1; 16], [1; 8]);
    processor.consume(builder.build()).await.unwrap();
    let traces = sink.received();
    let resource = traces[0].request().resource_spans[0]
        .resource
        .clone()
        .unwrap_or_default();
    assert_eq!(
        resource.attributes.get_str("host.name"),
        Some(nodename.as_str())
    );

    let sink = Sink::<Logs>::new();
    let processor = factory()
        .create(&settings(), &config, sink.clone())
        .unwrap();
    processor.start(&Host::default()).await.unwrap();
    let mut builder = LogsBuilder::new();
    builder.resource(vec![]).scope("s", "");
    builder.record("hello");
    processor.consume(builder.build()).await.unwrap();
    let logs = sink.received();
    let resource = logs[0].request().resource_logs[0]
        .resource
        .clone()
        .unwrap_or_default();
    assert_eq!(resource.attributes.get_str("os.type"), Some("linux"));
}

#[tokio::test]
async fn the_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "detectors: [env, system]\n")
        .await;
}

#[test]
fn fixture_paths_are_under_the_root() {
    // HostFiles never reads outside its root (the fixture proves values; this proves the join).
    let root = Path::new("/nonexistent-root");
    let config: Config = load_config(
        "system: {hostname_sources: [os], resource_attributes: {host.id: {enabled: true}}}",
    )
    .unwrap();
    let found = system::detect(&config.system, &HostFiles { root }).unwrap();
    assert!(get(&found, "host.id").is_none());
}
