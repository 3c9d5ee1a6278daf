//! The configuration: Go's keys and defaults, and errors naming their key.

use std::time::Duration;

use tributary_pipeline_core::component::{ConfigError, load_config};

use crate::statsd::{Config, Transport};

fn error(yaml: &str) -> String {
    match load_config::<Config>(yaml) {
        Ok(config) => panic!("{yaml:?} was accepted: {config:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_are_gos() {
    let config: Config = load_config("").unwrap();
    assert_eq!(config.endpoint(), "localhost:8125");
    assert_eq!(config.transport(), Transport::Udp(None));
    assert_eq!(config.aggregation_interval, Duration::from_secs(60));
    assert!(!config.enable_metric_type);
    assert!(!config.enable_simple_tags);
    assert!(!config.enable_ip_only_aggregation);
    assert!(!config.is_monotonic_counter);
    assert_eq!(config.socket_permissions, 0o622);
    let mappings: Vec<_> = config
        .timer_histogram_mapping
        .iter()
        .map(|m| (m.statsd_type.as_str(), m.observer_type.as_str()))
        .collect();
    assert_eq!(
        mappings,
        [
            ("timer", "gauge"),
            ("histogram", "gauge"),
            ("distribution", "gauge")
        ]
    );
    let unix: Config = load_config("transport: unixgram").unwrap();
    assert_eq!(unix.endpoint(), "/var/run/statsd-receiver.sock");
}

#[test]
fn the_go_readme_example_loads() {
    let config: Config = load_config(include_str!("../testdata/config.yaml")).unwrap();
    assert_eq!(config.endpoint(), "localhost:8127");
    assert_eq!(config.aggregation_interval, Duration::from_secs(70));
    assert!(config.enable_metric_type);
    assert_eq!(config.timer_histogram_mapping.len(), 3);
    assert_eq!(config.timer_histogram_mapping[1].histogram.max_size, 100);
    assert_eq!(
        config.timer_histogram_mapping[2].summary.percentiles,
        [0.0, 10.0, 50.0, 90.0, 95.0, 100.0]
    );
}

#[test]
fn every_transport_and_octal_permissions() {
    for (name, transport) in [
        ("udp", Transport::Udp(None)),
        ("udp4", Transport::Udp(Some(4))),
        ("udp6", Transport::Udp(Some(6))),
        ("tcp", Transport::Tcp(None)),
        ("tcp4", Transport::Tcp(Some(4))),
        ("tcp6", Transport::Tcp(Some(6))),
        ("unixgram", Transport::Unixgram),
    ] {
        let config: Config = load_config(&format!("transport: {name}")).unwrap();
        assert_eq!(config.transport(), transport);
    }
    let config: Config =
        load_config("transport: unixgram\nendpoint: /tmp/s.sock\nsocket_permissions: 0660")
            .unwrap();
    assert_eq!(config.socket_permissions, 0o660);
    assert_eq!(config.endpoint(), "/tmp/s.sock");
    // Go's dialer block is accepted.
    assert!(load_config::<Config>("dialer: { timeout: 5s }").is_ok());
}

#[test]
fn errors_name_their_key() {
    for (yaml, expected) in [
        (
            "transport: sctp",
            "transport: unsupported transport \"sctp\"",
        ),
        ("endpoint: nowhere", "endpoint:"),
        (
            "aggregation_interval: 0s",
            "aggregation_interval: must be a positive duration",
        ),
        ("socket_permissions: 4095", "socket_permissions:"),
        ("enable_everything: true", "enable_everything"),
        (
            "timer_histogram_mapping: [{statsd_type: timing}]",
            "timer_histogram_mapping::0: must specify statsd_type and observer_type",
        ),
        (
            "timer_histogram_mapping: [{statsd_type: meter, observer_type: gauge}]",
            "timer_histogram_mapping::0::statsd_type:",
        ),
        (
            "timer_histogram_mapping: [{statsd_type: timing, observer_type: gauge}, {statsd_type: timing, observer_type: average}]",
            "timer_histogram_mapping::1::observer_type:",
        ),
        (
            "timer_histogram_mapping: [{statsd_type: timing, observer_type: histogram, histogram: {max_size: 1}}]",
            "timer_histogram_mapping::0::histogram::max_size: 1 is out of range",
        ),
        (
            "timer_histogram_mapping: [{statsd_type: timing, observer_type: histogram, histogram: {max_size: 16385}}]",
            "histogram::max_size: 16385 is out of range",
        ),
        (
            "timer_histogram_mapping: [{statsd_type: timing, observer_type: summary, histogram: {max_size: 50}}]",
            "histogram: histogram configuration requires observer_type: histogram",
        ),
        (
            "timer_histogram_mapping: [{statsd_type: timing, observer_type: histogram, histogram: {explicit_buckets: [{matcher_pattern: \"a.*\", buckets: [1, 2]}]}}]",
            "histogram::explicit_buckets: not supported",
        ),
        (
            "timer_histogram_mapping: [{statsd_type: timing, observer_type: summary, summary: {percentiles: [50, 101]}}]",
            "summary::percentiles: 101 is not a percentile",
        ),
        (
            "timer_histogram_mapping: [{statsd_type: timing, observer_type: summary, summary: {quantiles: [0.5]}}]",
            "quantiles",
        ),
    ] {
        let error = error(yaml);
        assert!(error.contains(expected), "{yaml}: {error}");
    }
}

#[test]
fn histogram_sizes_at_the_limits_are_accepted() {
    for size in [0, 2, 16384] {
        let yaml = format!(
            "timer_histogram_mapping: [{{statsd_type: distribution, observer_type: histogram, histogram: {{max_size: {size}}}}}]"
        );
        load_config::<Config>(&yaml).unwrap_or_else(|e: ConfigError| panic!("{size}: {e}"));
    }
    // counter and gauge mappings are accepted and change nothing, as in Go.
    assert!(
        load_config::<Config>(
            "timer_histogram_mapping: [{statsd_type: counter, observer_type: gauge}]"
        )
        .is_ok()
    );
}
