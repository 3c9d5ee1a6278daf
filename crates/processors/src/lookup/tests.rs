//! Table parsing (CSV, YAML, JSON; exact and CIDR keys), enrichment of every signal in
//! both contexts, reloads from a file and from an HTTP server, and the conformance suite.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tributary_pipeline_core::component::{ComponentConfig, Host, Kind, load_config};
use tributary_pipeline_core::pdata::attributes::{Attributes, key_value};
use tributary_pipeline_core::pdata::builder::{LogsBuilder, MetricsBuilder, TracesBuilder};
use tributary_pipeline_core::pdata::visit::HasAttributes;
use tributary_pipeline_core::pdata::{Logs, Metrics, SignalData, Traces};
use tributary_pipeline_core::testing::{Sink, check_processor, eventually, settings};

use super::{Config, TableFormat, factory, parse_table};

fn app(table: &super::Table, key: &str) -> Option<String> {
    let row = table.lookup(key)?;
    Some(row.get_str("app").unwrap_or("<none>").to_string())
}

#[test]
fn csv_rows_with_quotes_crlf_bom_and_blank_lines() {
    let text = "\u{feff}key,app,owner\r\n\
                10.1.2.3,billing,\"Ana, Ops\"\r\n\
                \r\n\
                host-01,\"say \"\"hi\"\"\",\n\
                host-02,\"multi\nline\",bob\n";
    let table = parse_table(text.as_bytes(), TableFormat::Csv, "key").unwrap();
    assert_eq!(table.len(), 3);
    let row = table.lookup("10.1.2.3").unwrap();
    assert_eq!(row.get_str("owner"), Some("Ana, Ops"));
    assert_eq!(app(&table, "host-01").as_deref(), Some("say \"hi\""));
    assert!(
        !table.lookup("host-01").unwrap().contains_key("owner"),
        "an empty cell adds nothing"
    );
    assert_eq!(app(&table, "host-02").as_deref(), Some("multi\nline"));
}

#[test]
fn csv_errors_say_what_and_where() {
    let no_key = parse_table(b"ip,app\n1,a\n", TableFormat::Csv, "key").unwrap_err();
    assert!(no_key.contains("no \"key\" column"), "{no_key}");
    let wide = parse_table(b"key,app\nh,a,extra\n", TableFormat::Csv, "key").unwrap_err();
    assert!(wide.contains("row 2"), "{wide}");
    let open = parse_table(b"key,app\nh,\"a\n", TableFormat::Csv, "key").unwrap_err();
    assert!(open.contains("unterminated"), "{open}");
    let empty_key = parse_table(b"key,app\n,a\n", TableFormat::Csv, "key").unwrap_err();
    assert!(empty_key.contains("empty key"), "{empty_key}");
    assert!(
        parse_table(b"", TableFormat::Csv, "key")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_exact_key_wins_then_the_longest_prefix() {
    let text = "key,app\n\
                0.0.0.0/0,internet\n\
                10.0.0.0/8,intranet\n\
                10.1.0.0/16,datacenter\n\
                10.1.2.99/24,rack\n\
                10.1.2.3,billing\n\
                2001:db8::/32,v6net\n\
                2001:db8:1::/48,v6lab\n";
    let table = parse_table(text.as_bytes(), TableFormat::Csv, "key").unwrap();
    assert_eq!(app(&table, "10.1.2.3").as_deref(), Some("billing"));
    assert_eq!(
        app(&table, "10.1.2.4").as_deref(),
        Some("rack"),
        "host bits of a block are ignored"
    );
    assert_eq!(app(&table, "10.1.9.9").as_deref(), Some("datacenter"));
    assert_eq!(app(&table, "10.200.0.1").as_deref(), Some("intranet"));
    assert_eq!(app(&table, "8.8.8.8").as_deref(), Some("internet"));
    assert_eq!(app(&table, "::ffff:10.1.2.3").as_deref(), Some("rack"));
    assert_eq!(app(&table, "2001:db8:1::5").as_deref(), Some("v6lab"));
    assert_eq!(app(&table, "2001:db8:2::5").as_deref(), Some("v6net"));
    assert_eq!(app(&table, "2001:db9::1"), None);
    assert_eq!(app(&table, "not-an-ip"), None);
}

#[test]
fn yaml_and_json_as_maps_or_lists_keep_scalar_types() {
    let yaml = "10.0.0.0/8: { app: intranet, tier: 2, critical: true, tags: [a, b] }\n";
    let table = parse_table(yaml.as_bytes(), TableFormat::Yaml, "key").unwrap();
    let row = table.lookup("10.3.3.3").unwrap();
    assert_eq!(row.get_int("tier"), Some(2));
    assert_eq!(row.get_bool("critical"), Some(true));
    assert_eq!(row.get_str("tags"), Some(r#"["a","b"]"#));
    let yaml = "- { ip: h1, app: one }\n- { ip: 7, app: seven, none: null }\n";
    let table = parse_table(yaml.as_bytes(), TableFormat::Yaml, "ip").unwrap();
    assert_eq!(app(&table, "h1").as_deref(), Some("one"));
    assert_eq!(app(&table, "7").as_deref(), Some("seven"));
    assert!(!table.lookup("7").unwrap().contains_key("none"));
    let json = r#"[{"key": "h1", "app": "one", "weight": 0.5}]"#;
    let table = parse_table(json.as_bytes(), TableFormat::Json, "key").unwrap();
    assert_eq!(table.lookup("h1").unwrap().get_double("weight"), Some(0.5));
    let json = r#"{"h1": {"app": "one"}, "h2": {"app": "two"}}"#;
    assert_eq!(
        parse_table(json.as_bytes(), TableFormat::Json, "key")
            .unwrap()
            .len(),
        2
    );
    for (bad, format) in [
        (&b"[1]"[..], TableFormat::Json),
        (b"{\"h\": 1}", TableFormat::Json),
        (b"[{\"app\": 1}]", TableFormat::Json),
        (b"\"text\"", TableFormat::Json),
        (b"{", TableFormat::Json),
        (b"a: [", TableFormat::Yaml),
    ] {
        assert!(parse_table(bad, format, "key").is_err());
    }
}

proptest! {
    #[test]
    fn csv_parsing_never_panics(text in "[a-z0-9,\"\r\n ./:]{0,200}") {
        let _ = parse_table(text.as_bytes(), TableFormat::Csv, "key");
    }

    #[test]
    fn quoted_csv_cells_read_back_as_written(cell in "[ -~\n]{0,30}") {
        let quoted = format!("\"{}\"", cell.replace('"', "\"\""));
        let text = format!("key,app\nh,{quoted}\n");
        let table = parse_table(text.as_bytes(), TableFormat::Csv, "key").unwrap();
        let row = table.lookup("h").unwrap();
        prop_assert_eq!(row.get_str("app").unwrap_or(""), cell.as_str());
    }
}

fn write(path: &std::path::Path, text: &str) {
    // Write beside and rename, so the poller never reads half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn table_file(text: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hosts.csv");
    write(&path, text);
    Fixture { _dir: dir, path }
}

fn config(yaml: &str) -> Config {
    let config: Config = load_config(yaml).unwrap_or_else(|e| panic!("{e}"));
    config.validate().unwrap();
    config
}

#[tokio::test]
async fn resources_are_enriched_and_misses_counted() {
    let file = table_file("key,app,region\n10.0.0.0/8,intranet,north\n10.1.2.3,billing,\n");
    let yaml = format!(
        "{{source: {{path: '{}'}}, key: host.ip}}",
        file.path.display()
    );
    let sink = Sink::<Traces>::new();
    let settings = settings::<Traces>(Kind::Processor, "lookup");
    let processor = factory()
        .create(&settings, &config(&yaml), sink.next())
        .unwrap();
    processor.start(&Host::default()).await.unwrap();
    let mut b = TracesBuilder::new();
    for (ip, app) in [
        ("10.1.2.3", Some("kept")),
        ("10.9.9.9", None),
        ("192.168.1.1", None),
    ] {
        let mut resource = vec![key_value("host.ip", ip)];
        if let Some(app) = app {
            resource.push(key_value("app", app));
        }
        b.resource(resource).scope("s", "");
        b.span("op", [1; 16], [1; 8]);
    }
    b.resource(vec![]).scope("s", "");
    b.span("no key", [1; 16], [2; 8]);
    processor.consume(b.build()).await.unwrap();
    processor.shutdown().await.unwrap();
    let out = &sink.accepted()[0];
    let resources: Vec<_> = out
        .request()
        .resource_spans
        .iter()
        .map(|rs| rs.attributes().to_vec())
        .collect();
    assert_eq!(resources[0].get_str("app"), Some("kept"), "no override");
    assert_eq!(
        resources[0].get_str("region"),
        None,
        "an empty cell adds nothing"
    );
    assert_eq!(resources[1].get_str("app"), Some("intranet"));
    assert_eq!(resources[1].get_str("region"), Some("north"));
    assert_eq!(resources[2].get_str("app"), None);
    let metrics = settings.metrics();
    assert_eq!(metrics.sum("otelcol_processor_lookup_hits", &[]), 2.0);
    assert_eq!(
        metrics.sum("otelcol_processor_lookup_misses", &[]),
        1.0,
        "192.168.1.1; the resource without a key is no miss"
    );
    assert_eq!(metrics.sum("otelcol_processor_lookup_table_rows", &[]), 2.0);
}

#[tokio::test]
async fn records_are_enriched_with_the_key_from_the_record_or_its_resource() {
    let file = table_file("key,app,peer\n10.0.0.0/8,intranet,yes\nh1,billing,no\n");
    let yaml = format!(
        "{{source: {{path: '{}'}}, key: net.peer.ip, context: record, override: true}}",
        file.path.display()
    );
    let sink = Sink::<Metrics>::new();
    let settings = settings::<Metrics>(Kind::Processor, "lookup");
    let processor = factory()
        .create(&settings, &config(&yaml), sink.next())
        .unwrap();
    processor.start(&Host::default()).await.unwrap();
    let mut b = MetricsBuilder::new();
    b.resource(vec![key_value("net.peer.ip", "h1")]);
    b.gauge("g", "")
        .double(
            vec![
                key_value("net.peer.ip", "10.4.4.4"),
                key_value("app", "old"),
            ],
            1,
            1.0,
        )
        .double(vec![], 1, 2.0);
    processor.consume(b.build()).await.unwrap();
    processor.shutdown().await.unwrap();
    let out = &sink.accepted()[0];
    let points: Vec<_> = out
        .data_points()
        .map(|(_, p)| p.attributes().to_vec())
        .collect();
    assert_eq!(points[0].get_str("app"), Some("intranet"), "overridden");
    assert_eq!(points[0].get_str("peer"), Some("yes"));
    assert_eq!(
        points[1].get_str("app"),
        Some("billing"),
        "the resource's key"
    );
    let resource = out.request().resource_metrics[0].attributes();
    assert!(
        !resource.contains_key("app"),
        "record context writes records"
    );
}

async fn logs_app(
    processor: &Arc<dyn tributary_pipeline_core::component::Processor<Logs>>,
    sink: &Sink<Logs>,
) -> Option<String> {
    let mut b = LogsBuilder::new();
    b.resource(vec![key_value("host.name", "h1")])
        .scope("s", "");
    b.record("line");
    processor.consume(b.build()).await.unwrap();
    let out = sink.accepted().pop().unwrap();
    let rl = &out.request().resource_logs[0];
    rl.attributes().get_str("app").map(str::to_string)
}

#[tokio::test]
async fn a_rewritten_file_is_reloaded_and_a_broken_one_keeps_the_table() {
    let file = table_file("key,app\nh1,one\n");
    let yaml = format!(
        "{{source: {{path: '{}', reload_interval: 20ms}}, key: host.name, override: true}}",
        file.path.display()
    );
    let sink = Sink::<Logs>::new();
    let settings = settings::<Logs>(Kind::Processor, "lookup");
    let processor = factory()
        .create(&settings, &config(&yaml), sink.next())
        .unwrap();
    processor.start(&Host::default()).await.unwrap();
    assert_eq!(logs_app(&processor, &sink).await.as_deref(), Some("one"));

    write(&file.path, "key,app\nh1,two\n");
    let loads = || {
        settings
            .metrics()
            .sum("otelcol_processor_lookup_table_loads", &[])
    };
    eventually("the rewritten table", Duration::from_secs(10), || {
        (loads() >= 2.0).then_some(())
    })
    .await;
    assert_eq!(logs_app(&processor, &sink).await.as_deref(), Some("two"));

    write(&file.path, "key,app\nh1,\"three\n");
    let failures = || {
        settings
            .metrics()
            .sum("otelcol_processor_lookup_table_load_failures", &[])
    };
    eventually("the failed reload", Duration::from_secs(10), || {
        (failures() >= 1.0).then_some(())
    })
    .await;
    assert_eq!(logs_app(&processor, &sink).await.as_deref(), Some("two"));
    std::fs::remove_file(&file.path).unwrap();
    eventually("the missing file", Duration::from_secs(10), || {
        (failures() >= 2.0).then_some(())
    })
    .await;
    assert_eq!(logs_app(&processor, &sink).await.as_deref(), Some("two"));

    write(&file.path, "key,app\nh1,four\n");
    eventually("the repaired table", Duration::from_secs(10), || {
        (loads() >= 3.0).then_some(())
    })
    .await;
    assert_eq!(logs_app(&processor, &sink).await.as_deref(), Some("four"));
    processor.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_missing_table_fails_the_start() {
    let yaml = "{source: {path: /nonexistent/hosts.csv}, key: host.name}";
    let settings = settings::<Logs>(Kind::Processor, "lookup");
    let processor = factory()
        .create(&settings, &config(yaml), Sink::<Logs>::new().next())
        .unwrap();
    let error = processor.start(&Host::default()).await.unwrap_err();
    assert!(
        error.to_string().contains("/nonexistent/hosts.csv"),
        "{error}"
    );
    processor.shutdown().await.unwrap();
}

/// A minimal HTTP/1.1 server answering every GET with the current body (or a 500 while
/// the body is `None`).
async fn table_server(body: Arc<Mutex<Option<String>>>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let current = body.lock().unwrap().clone();
                let response = match current {
                    Some(text) => format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                        text.len()
                    ),
                    None => "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_string(),
                };
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_table_from_a_url_is_polled_and_an_error_keeps_the_table() {
    let body = Arc::new(Mutex::new(Some(r#"{"h1": {"app": "one"}}"#.to_string())));
    let addr = table_server(body.clone()).await;
    let yaml = format!(
        "{{source: {{url: 'http://{addr}/hosts.json', reload_interval: 20ms}}, key: host.name, override: true}}"
    );
    let sink = Sink::<Logs>::new();
    let settings = settings::<Logs>(Kind::Processor, "lookup");
    let processor = factory()
        .create(&settings, &config(&yaml), sink.next())
        .unwrap();
    processor.start(&Host::default()).await.unwrap();
    assert_eq!(logs_app(&processor, &sink).await.as_deref(), Some("one"));
    *body.lock().unwrap() = None;
    let failures = || {
        settings
            .metrics()
            .sum("otelcol_processor_lookup_table_load_failures", &[])
    };
    eventually("the failed fetch", Duration::from_secs(10), || {
        (failures() >= 1.0).then_some(())
    })
    .await;
    assert_eq!(logs_app(&processor, &sink).await.as_deref(), Some("one"));
    *body.lock().unwrap() = Some(r#"{"h1": {"app": "two"}}"#.to_string());
    let loads = || {
        settings
            .metrics()
            .sum("otelcol_processor_lookup_table_loads", &[])
    };
    eventually("the new table", Duration::from_secs(10), || {
        (loads() >= 2.0).then_some(())
    })
    .await;
    assert_eq!(logs_app(&processor, &sink).await.as_deref(), Some("two"));
    processor.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_signals_share_one_table() {
    let file = table_file("key,app\nh1,one\n");
    let yaml = format!(
        "{{source: {{path: '{}'}}, key: host.name}}",
        file.path.display()
    );
    let config = config(&yaml);
    let settings = settings::<Logs>(Kind::Processor, "lookup");
    let logs = factory()
        .create(&settings, &config, Sink::<Logs>::new().next())
        .unwrap();
    let traces = factory()
        .create(
            &settings.for_signal(Traces::SIGNAL),
            &config,
            Sink::<Traces>::new().next(),
        )
        .unwrap();
    logs.start(&Host::default()).await.unwrap();
    traces.start(&Host::default()).await.unwrap();
    assert_eq!(
        settings
            .metrics()
            .sum("otelcol_processor_lookup_table_loads", &[]),
        1.0,
        "loaded once for both"
    );
    logs.shutdown().await.unwrap();
    traces.shutdown().await.unwrap();
}

#[test]
fn config_refusals_name_their_key() {
    for (yaml, at) in [
        ("{source: {path: a.csv}}", "key"),
        ("{key: k}", "source"),
        (
            "{key: k, source: {path: a.csv, url: 'http://x/a.csv'}}",
            "source",
        ),
        ("{key: k, source: {url: 'ftp://x/a.csv'}}", "source::url"),
        ("{key: k, source: {path: hosts.txt}}", "source::format"),
        (
            "{key: k, source: {path: hosts, format: xml}}",
            "source::format",
        ),
        ("{key: k, source: {path: a.csv}, context: span}", "context"),
    ] {
        let error = load_config::<Config>(yaml).unwrap_err().to_string();
        assert!(error.contains(at), "{yaml}: {error}");
    }
    let c = config("{key: k, source: {path: t.yml}}");
    assert_eq!(c.source.reload_interval, Duration::from_secs(10));
    assert_eq!(c.source.key_column, "key");
    assert!(!c.override_existing);
}

#[tokio::test]
async fn conformance() {
    let file = table_file("key,app\nh1,one\n");
    let yaml = format!("source:\n  path: '{}'\nkey: host.name", file.path.display());
    check_processor(factory(), &yaml).await;
}
