//! The configuration: Go's defaults, and what is refused.

use tributary_pipeline_core::component::{ComponentConfig, load_config};

use super::super::Config;

fn check(yaml: &str) -> Result<Config, String> {
    let config: Config = load_config(yaml).map_err(|e| e.to_string())?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

#[test]
fn defaults_are_go_defaults() {
    let config = check("include: [/var/log/*.log]").unwrap();
    assert_eq!(config.start_at, "end");
    assert_eq!(config.poll_interval.as_millis(), 200);
    assert_eq!(config.fingerprint_size, 1000);
    assert_eq!(config.max_log_size, 1 << 20);
    assert_eq!(config.max_concurrent_files, 1024);
    assert_eq!(config.encoding, "utf-8");
    assert_eq!(config.force_flush_period.as_millis(), 500);
    assert!(config.include_file_name);
    assert!(!config.include_file_path);
    assert!(!config.retry_on_failure.enabled);
    assert_eq!(config.retry_on_failure.initial_interval.as_secs(), 1);
    assert_eq!(config.retry_on_failure.max_interval.as_secs(), 30);
    assert_eq!(config.retry_on_failure.max_elapsed_time.as_secs(), 300);
}

#[test]
fn sizes_take_stanza_units() {
    let config = check("include: [a]\nfingerprint_size: 2KiB\nmax_log_size: 1mb").unwrap();
    assert_eq!(config.fingerprint_size, 2048);
    assert_eq!(config.max_log_size, 1_000_000);
    assert!(check("include: [a]\nfingerprint_size: 2 parsecs").is_err());
}

#[test]
fn what_cannot_be_honoured_is_refused_with_its_key() {
    for (yaml, key) in [
        ("exclude: [a]", "include"),
        ("include: [a]\nstart_at: middle", "start_at"),
        ("include: [a]\nfingerprint_size: 8", "fingerprint_size"),
        ("include: ['a[']", "include"),
        ("include: [a]\nencoding: klingon", "encoding"),
        (
            "include: [a]\nencoding: utf-16le\nmultiline: {line_start_pattern: x}",
            "multiline",
        ),
        (
            "include: [a]\nmultiline: {line_start_pattern: '('}",
            "multiline",
        ),
        ("include: [a]\ncompression: zstd", "compression"),
        ("include: [a]\ndelete_after_read: true", "delete_after_read"),
        (
            "include: [a]\nordering_criteria: {top_n: 0}",
            "ordering_criteria::top_n",
        ),
        (
            "include: [a]\nordering_criteria: {regex: 'x', sort_by: [{sort_type: numeric, regex_key: n}]}",
            "ordering_criteria::sort_by[0]::regex_key",
        ),
        (
            "include: [a]\nordering_criteria: {sort_by: [{sort_type: timestamp, regex_key: t}]}",
            "ordering_criteria::sort_by[0]::layout",
        ),
        ("include: [a]\nheader: {pattern: x}", "header"),
        (
            "include: [a]\noperators: [{type: no_such_operator}]",
            "operators",
        ),
        (
            "include: [a]\nattributes: {k: 'EXPR(len(body))'}",
            "attributes::k",
        ),
        ("include: [a]\nstorage: 'bad id!'", "storage"),
        ("include: [a]\nunknown_key: 1", "unknown_key"),
    ] {
        let error = check(yaml).expect_err(yaml);
        assert!(error.contains(key), "{yaml}: {error}");
    }
}

#[test]
fn go_encodings_are_known() {
    for name in [
        "nop",
        "utf-8",
        "utf8-raw",
        "ascii",
        "utf-16le",
        "utf-16be",
        "big5",
        "shift_jis",
        "iso-8859-1",
    ] {
        check(&format!("include: [a]\nencoding: {name}")).expect(name);
    }
}
