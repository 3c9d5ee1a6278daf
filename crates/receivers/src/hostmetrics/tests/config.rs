//! The configuration: Go's keys and defaults, and errors naming their key.

use std::time::Duration;

use tributary_pipeline_core::component::load_config;

use crate::hostmetrics::Config;

fn error(yaml: &str) -> String {
    match load_config::<Config>(yaml) {
        Ok(config) => panic!("{yaml:?} was accepted: {config:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_are_gos() {
    let config: Config = load_config("scrapers: {cpu: }").unwrap();
    assert_eq!(config.collection_interval, Duration::from_secs(60));
    assert_eq!(config.initial_delay, Duration::from_secs(1));
    assert_eq!(config.root_path, "");
    assert_eq!(
        config.metadata_collection_interval,
        Duration::from_secs(300)
    );
    assert!(config.scrapers.cpu.is_some());
    assert!(config.scrapers.memory.is_none());
}

#[test]
fn the_go_readme_example_loads() {
    let config: Config = load_config(include_str!("../testdata/config.yaml")).unwrap();
    let s = &config.scrapers;
    assert_eq!(config.collection_interval, Duration::from_secs(30));
    assert!(s.load.as_ref().unwrap().cpu_average);
    let process = s.process.as_ref().unwrap();
    assert!(process.mute_process_name_error);
    assert_eq!(process.scrape_process_delay, Duration::from_secs(10));
    assert_eq!(process.include.as_ref().unwrap().names, ["otelcol"]);
    assert!(s.filesystem.as_ref().unwrap().include_virtual_filesystems);
}

#[test]
fn go_s_regexp_cache_block_is_accepted() {
    let yaml = "scrapers: {process: {include: {names: [a], match_type: regexp, regexp: {cacheenabled: true, cachemaxnumentries: 100}}}}";
    let config: Config = load_config(yaml).unwrap();
    let include = config.scrapers.process.unwrap().include.unwrap();
    assert!(include.regexp.unwrap().cacheenabled);
}

#[test]
fn at_least_one_scraper() {
    assert!(error("").contains("must specify at least one scraper"));
}

#[test]
fn unknown_keys_and_metrics_are_refused_with_their_path() {
    let e = error("scrapers: {cpu: {metrics: {system.cpu.nonsense: {enabled: true}}}}");
    assert!(
        e.contains("scrapers::cpu::metrics::system.cpu.nonsense"),
        "{e}"
    );
    let e = error("scrapers: {process: {resource_attributes: {host.name: {enabled: true}}}}");
    assert!(
        e.contains("scrapers::process::resource_attributes::host.name"),
        "{e}"
    );
    let e = error("scrapers: {disk: {include: {devices: [sda], match_type: glob}}}");
    assert!(e.contains("scrapers::disk::include::match_type"), "{e}");
    assert!(e.contains("unrecognized match_type"), "{e}");
    let e = error("scrapers: {network: {exclude: {interfaces: ['('], match_type: regexp}}}");
    assert!(e.contains("scrapers::network::exclude::match_type"), "{e}");
    let e = error("scrapers: {memory: {colour: blue}}");
    assert!(e.contains("colour"), "{e}");
    let e = error("scrapers: {gpu: {}}");
    assert!(e.contains("gpu"), "{e}");
    let e = error("root_path: relative/dir\nscrapers: {cpu: }");
    assert!(e.contains("root_path"), "{e}");
    let e = error("collection_interval: 0s\nscrapers: {cpu: }");
    assert!(e.contains("collection_interval"), "{e}");
}
