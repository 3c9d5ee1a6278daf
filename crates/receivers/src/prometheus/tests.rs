//! The receiver against a small scripted HTTP target: what a scrape delivers, staleness,
//! limits, authentication, relabelling, file discovery, and the configuration's checks.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Component, ComponentConfig, Host, Kind};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::common::v1::{KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::metrics::v1::{metric::Data, number_data_point};
use tributary_pipeline_core::testing::{Sink, eventually, settings};

use super::receiver::PrometheusReceiver;
use super::*;

const WAIT: Duration = Duration::from_secs(20);

/// What the scripted target answers, and the requests it saw.
#[derive(Clone)]
struct Script {
    status: u16,
    content_type: String,
    body: Vec<u8>,
    gzip: bool,
    /// How long to wait before answering.
    delay: Duration,
    /// Keep the connection open after an answer (else `Connection: close`).
    keep_alive: bool,
    /// Answer `/metrics` with a redirect here.
    redirect_to: Option<String>,
}

struct FakeTarget {
    addr: std::net::SocketAddr,
    script: Arc<Mutex<Script>>,
    requests: Arc<Mutex<Vec<String>>>,
    /// Connections accepted so far.
    connections: Arc<AtomicUsize>,
}

impl FakeTarget {
    async fn start(body: &str) -> FakeTarget {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(Script {
            status: 200,
            content_type: "text/plain; version=0.0.4".into(),
            body: body.as_bytes().to_vec(),
            gzip: false,
            delay: Duration::ZERO,
            keep_alive: true,
            redirect_to: None,
        }));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (Arc::clone(&script), Arc::clone(&requests));
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::Relaxed);
                let (s, r) = (Arc::clone(&s), Arc::clone(&r));
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let end = buffer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                        let request: Vec<u8> = buffer.drain(..end).collect();
                        let request = String::from_utf8_lossy(&request).into_owned();
                        r.lock().unwrap().push(request.clone());
                        let script = s.lock().unwrap().clone();
                        tokio::time::sleep(script.delay).await;
                        if let Some(location) = script
                            .redirect_to
                            .as_deref()
                            .filter(|_| request.starts_with("GET /metrics "))
                        {
                            let head = format!(
                                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
                            );
                            let _ = stream.write_all(head.as_bytes()).await;
                            continue;
                        }
                        let body = if script.gzip {
                            let mut encoder = flate2::write::GzEncoder::new(
                                Vec::new(),
                                flate2::Compression::fast(),
                            );
                            encoder.write_all(&script.body).unwrap();
                            encoder.finish().unwrap()
                        } else {
                            script.body.clone()
                        };
                        let head = format!(
                            "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}{}\r\n",
                            script.status,
                            script.content_type,
                            body.len(),
                            if script.gzip {
                                "Content-Encoding: gzip\r\n"
                            } else {
                                ""
                            },
                            if script.keep_alive {
                                ""
                            } else {
                                "Connection: close\r\n"
                            }
                        );
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(&body).await;
                        if !script.keep_alive {
                            return;
                        }
                    }
                });
            }
        });
        FakeTarget {
            addr,
            script,
            requests,
            connections,
        }
    }

    fn set(&self, edit: impl FnOnce(&mut Script)) {
        edit(&mut self.script.lock().unwrap());
    }

    fn last_request(&self) -> String {
        self.requests
            .lock()
            .unwrap()
            .last()
            .cloned()
            .unwrap_or_default()
    }
}

/// One data point as the tests look at it.
#[derive(Clone, Debug, PartialEq)]
struct Point {
    job: String,
    instance: String,
    name: String,
    attrs: BTreeMap<String, String>,
    value: Option<f64>,
    stale: bool,
}

fn attrs(kvs: &[KeyValue]) -> BTreeMap<String, String> {
    kvs.iter()
        .filter_map(|kv| match &kv.value.as_ref()?.value {
            Some(any_value::Value::StringValue(s)) => Some((kv.key.clone(), s.clone())),
            _ => None,
        })
        .collect()
}

fn points(batches: &[Metrics]) -> Vec<Point> {
    let mut out = Vec::new();
    for batch in batches {
        for rm in &batch.request().resource_metrics {
            let resource = attrs(&rm.resource.as_ref().unwrap().attributes);
            let job = resource.get("service.name").cloned().unwrap_or_default();
            let instance = resource
                .get("service.instance.id")
                .cloned()
                .unwrap_or_default();
            for metric in rm.scope_metrics.iter().flat_map(|s| &s.metrics) {
                let mut push = |a: &[KeyValue], value: Option<f64>, flags: u32| {
                    out.push(Point {
                        job: job.clone(),
                        instance: instance.clone(),
                        name: metric.name.clone(),
                        attrs: attrs(a),
                        value,
                        stale: flags & 1 == 1,
                    })
                };
                let number = |v: &Option<number_data_point::Value>| match v {
                    Some(number_data_point::Value::AsDouble(d)) => Some(*d),
                    Some(number_data_point::Value::AsInt(i)) => Some(*i as f64),
                    None => None,
                };
                match &metric.data {
                    Some(Data::Gauge(g)) => {
                        for p in &g.data_points {
                            push(&p.attributes, number(&p.value), p.flags)
                        }
                    }
                    Some(Data::Sum(s)) => {
                        for p in &s.data_points {
                            push(&p.attributes, number(&p.value), p.flags)
                        }
                    }
                    Some(Data::Histogram(h)) => {
                        for p in &h.data_points {
                            push(&p.attributes, Some(p.count as f64), p.flags)
                        }
                    }
                    Some(Data::Summary(s)) => {
                        for p in &s.data_points {
                            push(&p.attributes, Some(p.count as f64), p.flags)
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

/// The receiver `yaml` configures, delivering into `sink` (not started), and its config.
fn receiver(yaml: &str, sink: &Arc<Sink<Metrics>>) -> (PrometheusReceiver, Config) {
    let config: Config = Conf::from_yaml(yaml).unwrap().decode().unwrap();
    config.validate().unwrap();
    let receiver = PrometheusReceiver::new(
        &settings::<Metrics>(Kind::Receiver, "prometheus"),
        &config,
        sink.next(),
    );
    (receiver, config)
}

async fn start(yaml: &str, sink: &Arc<Sink<Metrics>>) -> PrometheusReceiver {
    let (receiver, _) = receiver(yaml, sink);
    receiver.start(&Host::default()).await.unwrap();
    receiver
}

fn job_yaml(addr: std::net::SocketAddr, extra: &str) -> String {
    format!(
        "config:\n  scrape_configs:\n    - job_name: app\n      scrape_interval: 200ms\n      scrape_timeout: 200ms\n      static_configs: [{{targets: ['{addr}'], labels: {{env: test}}}}]\n{extra}"
    )
}

/// The points named `name` among everything delivered so far.
fn named(sink: &Sink<Metrics>, name: &str) -> Vec<Point> {
    points(&sink.accepted())
        .into_iter()
        .filter(|p| p.name == name)
        .collect()
}

const EXPOSITION: &str = concat!(
    "# HELP reqs_total Requests.\n# TYPE reqs_total counter\n",
    "reqs_total{code=\"200\"} 10\nreqs_total{code=\"500\"} 1\n",
    "# TYPE temp gauge\ntemp 21.5\n",
    "# TYPE lat histogram\nlat_bucket{le=\"1\"} 2\nlat_bucket{le=\"+Inf\"} 3\nlat_sum 2.5\nlat_count 3\n",
);

#[tokio::test]
async fn scrapes_a_target_with_report_series() {
    let target = FakeTarget::start(EXPOSITION).await;
    let sink = Sink::new();
    let receiver = start(&job_yaml(target.addr, "      params: {a: [b]}\n"), &sink).await;
    let up = eventually("up", WAIT, || named(&sink, "up").into_iter().next()).await;
    assert_eq!(up.value, Some(1.0));
    assert_eq!(up.job, "app");
    assert_eq!(up.instance, target.addr.to_string());
    assert_eq!(up.attrs.get("env").map(String::as_str), Some("test"));
    let reqs = named(&sink, "reqs_total");
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    assert_eq!(reqs[0].attrs.get("code").map(String::as_str), Some("200"));
    assert_eq!(named(&sink, "lat")[0].value, Some(3.0));
    for report in [
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    ] {
        assert!(!named(&sink, report).is_empty(), "{report}");
    }
    assert_eq!(named(&sink, "scrape_samples_scraped")[0].value, Some(7.0));
    let request = target.last_request();
    assert!(request.starts_with("GET /metrics?a=b "), "{request}");
    let lower = request.to_ascii_lowercase();
    assert!(
        lower.contains("accept: application/openmetrics-text;version=1.0.0;q=0.5,"),
        "{request}"
    );
    assert!(
        lower.contains("x-prometheus-scrape-timeout-seconds: 0.2"),
        "{request}"
    );
    receiver.shutdown().await.unwrap();
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn vanished_series_and_failed_scrapes_go_stale() {
    let target = FakeTarget::start(EXPOSITION).await;
    let sink = Sink::new();
    let receiver = start(&job_yaml(target.addr, ""), &sink).await;
    eventually("a first scrape", WAIT, || {
        named(&sink, "temp").first().cloned()
    })
    .await;
    target.set(|s| s.body = b"# TYPE temp gauge\ntemp 3\n".to_vec());
    let stale = eventually("reqs_total marked stale", WAIT, || {
        named(&sink, "reqs_total").into_iter().find(|p| p.stale)
    })
    .await;
    assert_eq!(stale.value, None);
    let stale_lat = named(&sink, "lat").into_iter().filter(|p| p.stale).count();
    assert_eq!(
        stale_lat, 1,
        "one stale point for the histogram, not one per bucket"
    );
    target.set(|s| s.status = 500);
    eventually("up 0", WAIT, || {
        named(&sink, "up")
            .into_iter()
            .find(|p| p.value == Some(0.0))
    })
    .await;
    eventually("temp stale", WAIT, || {
        named(&sink, "temp").into_iter().find(|p| p.stale)
    })
    .await;
    assert!(receiver.failed_scrapes() >= 1);
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn limits_fail_the_scrape_cleanly() {
    for (extra, what) in [
        ("      sample_limit: 3\n", "sample_limit"),
        ("      body_size_limit: 100B\n", "body_size_limit"),
        ("      label_limit: 1\n", "label_limit"),
        (
            "      label_value_length_limit: 2\n",
            "label_value_length_limit",
        ),
    ] {
        let target = FakeTarget::start(EXPOSITION).await;
        let sink = Sink::new();
        let receiver = start(&job_yaml(target.addr, extra), &sink).await;
        let up = eventually(what, WAIT, || named(&sink, "up").into_iter().next()).await;
        assert_eq!(up.value, Some(0.0), "{what}");
        assert!(
            named(&sink, "reqs_total").is_empty(),
            "{what}: nothing of the scrape"
        );
        assert!(receiver.failed_scrapes() >= 1);
        receiver.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn target_limit_and_duplicate_series() {
    let (a, b) = (
        FakeTarget::start("x 1\nx 2\n").await,
        FakeTarget::start("x 1\n").await,
    );
    let yaml = format!(
        "config:\n  scrape_configs:\n    - job_name: many\n      scrape_interval: 200ms\n      scrape_timeout: 200ms\n      target_limit: 1\n      static_configs: [{{targets: ['{}', '{}']}}]\n    - job_name: dup\n      scrape_interval: 200ms\n      scrape_timeout: 200ms\n      static_configs: [{{targets: ['{}']}}]\n",
        a.addr, b.addr, a.addr
    );
    let sink = Sink::new();
    let receiver = start(&yaml, &sink).await;
    let up = |job: &'static str| {
        let sink = Arc::clone(&sink);
        move || named(&sink, "up").into_iter().find(|p| p.job == job)
    };
    assert_eq!(
        eventually("many: up", WAIT, up("many")).await.value,
        Some(0.0)
    );
    assert_eq!(
        eventually("dup: up", WAIT, up("dup")).await.value,
        Some(1.0)
    );
    // The duplicate `x` is dropped: the first value stays, one point per scrape.
    let x: Vec<_> = named(&sink, "x")
        .into_iter()
        .filter(|p| p.job == "dup")
        .collect();
    assert!(
        !x.is_empty() && x.iter().all(|p| p.value == Some(1.0)),
        "{x:?}"
    );
    let post = eventually("report", WAIT, || {
        named(&sink, "scrape_samples_post_metric_relabeling")
            .into_iter()
            .find(|p| p.job == "dup")
    })
    .await;
    assert_eq!(post.value, Some(1.0));
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_slow_target_times_out() {
    let target = FakeTarget::start(EXPOSITION).await;
    target.set(|s| s.delay = Duration::from_secs(5));
    let sink = Sink::new();
    let receiver = start(&job_yaml(target.addr, ""), &sink).await;
    let up = eventually("up", WAIT, || named(&sink, "up").into_iter().next()).await;
    assert_eq!(up.value, Some(0.0));
    let duration = named(&sink, "scrape_duration_seconds")[0].value.unwrap();
    assert!(
        duration < 5.0,
        "the scrape gave up at its timeout, not the target's pace"
    );
    receiver.shutdown().await.unwrap();
}

/// A plain-`http` target keeps one connection from scrape to scrape (it is driven in the
/// scrape loop, see `direct`), gets a new one after closing it, and is scraped through
/// reqwest once it redirects (or fails the scrape, with `follow_redirects: false`).
#[tokio::test]
async fn scrapes_keep_their_connection_and_follow_redirects() {
    let target = FakeTarget::start(EXPOSITION).await;
    let sink = Sink::new();
    let mut scrapes = scrape_loop(&job_yaml(target.addr, ""), &sink);
    let ups = |sink: &Sink<Metrics>| -> Vec<f64> {
        named(sink, "up").iter().filter_map(|p| p.value).collect()
    };
    for _ in 0..3 {
        scrapes.scrape_once().await;
    }
    assert_eq!(ups(&sink), [1.0; 3]);
    assert_eq!(target.connections.load(Ordering::Relaxed), 1);
    // On the target's own connection, not reqwest's pool (which would also keep one).
    assert_eq!(scrapes.direct_connects(), Some(1));
    assert!(
        target
            .last_request()
            .starts_with("GET /metrics HTTP/1.1\r\n"),
        "{}",
        target.last_request()
    );
    let request = target.last_request().to_ascii_lowercase();
    for header in [
        format!("host: {}\r\n", target.addr),
        "user-agent: tributary/".into(),
        "x-prometheus-scrape-timeout-seconds: 0.2\r\n".into(),
        "accept: application/openmetrics-text".into(),
    ] {
        assert!(request.contains(&header), "{header} in {request}");
    }

    // The kept connection's answer says `Connection: close`; each next scrape connects.
    target.set(|s| s.keep_alive = false);
    for _ in 0..3 {
        scrapes.scrape_once().await;
    }
    assert_eq!(ups(&sink), [1.0; 6]);
    assert_eq!(target.connections.load(Ordering::Relaxed), 3);
    assert_eq!(scrapes.direct_connects(), Some(3));

    target.set(|s| {
        s.keep_alive = true;
        s.redirect_to = Some("/moved".into());
    });
    scrapes.scrape_once().await;
    scrapes.scrape_once().await;
    assert_eq!(ups(&sink), [1.0; 8]);
    assert!(target.last_request().starts_with("GET /moved "));
    assert_eq!(scrapes.direct_connects(), None, "moved to reqwest");

    let sink = Sink::new();
    let extra = "      follow_redirects: false\n";
    let mut scrapes = scrape_loop(&job_yaml(target.addr, extra), &sink);
    scrapes.scrape_once().await;
    assert_eq!(ups(&sink), [0.0]);
}

#[tokio::test]
async fn gzip_and_openmetrics_bodies() {
    let target = FakeTarget::start("").await;
    target.set(|s| {
        s.body = b"# TYPE c counter\nc_total 4\nc_created 1000.5\n# EOF\n".to_vec();
        s.content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8".into();
        s.gzip = true;
    });
    let sink = Sink::new();
    let receiver = start(&job_yaml(target.addr, ""), &sink).await;
    let c = eventually("c_total", WAIT, || {
        named(&sink, "c_total").into_iter().next()
    })
    .await;
    assert_eq!(c.value, Some(4.0));
    assert!(
        target
            .last_request()
            .to_ascii_lowercase()
            .contains("accept-encoding: gzip")
    );
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn authentication_headers() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let target = FakeTarget::start(EXPOSITION).await;
    let sink = Sink::new();
    let extra = format!(
        "      authorization: {{credentials_file: '{}'}}\n",
        token.display()
    );
    let receiver = start(&job_yaml(target.addr, &extra), &sink).await;
    eventually("a scrape", WAIT, || named(&sink, "up").into_iter().next()).await;
    assert!(
        target
            .last_request()
            .contains("authorization: Bearer s3cret"),
        "{}",
        target.last_request()
    );
    receiver.shutdown().await.unwrap();

    let sink = Sink::new();
    let extra = "      basic_auth: {username: u, password: p}\n";
    let receiver = start(&job_yaml(target.addr, extra), &sink).await;
    eventually("a scrape", WAIT, || named(&sink, "up").into_iter().next()).await;
    // base64("u:p")
    assert!(
        target.last_request().contains("authorization: Basic dTpw"),
        "{}",
        target.last_request()
    );
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn labels_honor_and_metric_relabelling() {
    let target = FakeTarget::start("temp{job=\"inner\",env=\"\",x=\"1\"} 1\ndropme 2\n").await;
    let sink = Sink::new();
    let extra = concat!(
        "      metric_relabel_configs:\n",
        "        - {source_labels: [__name__], regex: dropme, action: drop}\n",
        "        - {source_labels: [x], target_label: y, replacement: 'was_$${1}'}\n",
        "        - {regex: x, action: labeldrop}\n",
    )
    .replace("$$", "$");
    let receiver = start(&job_yaml(target.addr, &extra), &sink).await;
    let temp = eventually("temp", WAIT, || named(&sink, "temp").into_iter().next()).await;
    assert_eq!(temp.job, "app");
    assert_eq!(
        temp.attrs.get("exported_job").map(String::as_str),
        Some("inner")
    );
    assert_eq!(temp.attrs.get("env").map(String::as_str), Some("test"));
    assert_eq!(temp.attrs.get("y").map(String::as_str), Some("was_1"));
    assert!(!temp.attrs.contains_key("x"));
    assert!(named(&sink, "dropme").is_empty());
    let post = eventually("report", WAIT, || {
        named(&sink, "scrape_samples_post_metric_relabeling")
            .into_iter()
            .next()
    })
    .await;
    assert_eq!(post.value, Some(1.0));
    receiver.shutdown().await.unwrap();

    let sink = Sink::new();
    let receiver = start(&job_yaml(target.addr, "      honor_labels: true\n"), &sink).await;
    let temp = eventually("temp", WAIT, || named(&sink, "temp").into_iter().next()).await;
    assert_eq!(temp.job, "inner");
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn file_discovery_follows_the_files() {
    let (a, b) = (
        FakeTarget::start("from_a 1\n").await,
        FakeTarget::start("from_b 1\n").await,
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.json");
    std::fs::write(
        &file,
        format!(
            "[{{\"targets\": [\"{}\"], \"labels\": {{\"team\": \"x\"}}}}]",
            a.addr
        ),
    )
    .unwrap();
    let yaml = format!(
        "config:\n  scrape_configs:\n    - job_name: files\n      scrape_interval: 200ms\n      scrape_timeout: 200ms\n      file_sd_configs: [{{files: ['{}/*.json']}}]\n",
        dir.path().display()
    );
    let sink = Sink::new();
    let receiver = start(&yaml, &sink).await;
    let from_a = eventually("target a", WAIT, || {
        named(&sink, "from_a").into_iter().next()
    })
    .await;
    assert_eq!(from_a.attrs.get("team").map(String::as_str), Some("x"));
    // Replaced by rename, as editors and config tools do.
    let temp = dir.path().join("next.tmp");
    std::fs::write(&temp, format!("[{{\"targets\": [\"{}\"]}}]", b.addr)).unwrap();
    std::fs::rename(&temp, &file).unwrap();
    eventually("target b", WAIT, || {
        named(&sink, "from_b").into_iter().next()
    })
    .await;
    eventually("a's series stale", WAIT, || {
        named(&sink, "from_a").into_iter().find(|p| p.stale)
    })
    .await;
    eventually("a's up stale", WAIT, || {
        named(&sink, "up")
            .into_iter()
            .find(|p| p.stale && p.instance == a.addr.to_string())
    })
    .await;
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn start_time_metric_suffix_trimming_and_extra_report() {
    let target = FakeTarget::start(concat!(
        "process_start_time_seconds 1700000000\n",
        "# TYPE http_seconds_total counter\nhttp_seconds_total 5 1000\n",
    ))
    .await;
    let sink = Sink::new();
    let extra = "trim_metric_suffixes: true\nuse_start_time_metric: true\nreport_extra_scrape_metrics: true\n";
    let yaml = format!(
        "{}      honor_timestamps: false\n{extra}",
        job_yaml(target.addr, "")
    );
    let receiver = start(&yaml, &sink).await;
    eventually("the counter", WAIT, || {
        named(&sink, "http_seconds").into_iter().next()
    })
    .await;
    let batch = sink.accepted().into_iter().find(|b| {
        points(std::slice::from_ref(b))
            .iter()
            .any(|p| p.name == "http_seconds")
    });
    let request = batch.unwrap();
    let metric = request
        .request()
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .find(|m| m.name == "http_seconds")
        .cloned()
        .unwrap();
    let Some(Data::Sum(sum)) = metric.data else {
        panic!("a sum")
    };
    let point = &sum.data_points[0];
    assert_eq!(point.start_time_unix_nano, 1_700_000_000_000_000_000);
    // honor_timestamps: false puts the scrape's time, not the exposition's 1000 ms.
    assert!(point.time_unix_nano > 1_000_000_000_000_000_000);
    for name in [
        "scrape_timeout_seconds",
        "scrape_sample_limit",
        "scrape_body_size_bytes",
    ] {
        eventually(name, WAIT, || named(&sink, name).into_iter().next()).await;
    }
    assert_eq!(named(&sink, "scrape_timeout_seconds")[0].value, Some(0.2));
    receiver.shutdown().await.unwrap();
}

#[tokio::test]
async fn http_discovery_follows_the_endpoint() {
    let app = FakeTarget::start("from_http_sd 1\n").await;
    let sd = FakeTarget::start("").await;
    let groups =
        |addr: &str| format!("[{{\"targets\": [\"{addr}\"], \"labels\": {{\"via\": \"http\"}}}}]");
    sd.set(|s| {
        s.content_type = "application/json".into();
        s.body = groups(&app.addr.to_string()).into_bytes();
    });
    let yaml = format!(
        "config:\n  scrape_configs:\n    - job_name: http\n      scrape_interval: 200ms\n      scrape_timeout: 200ms\n      http_sd_configs: [{{url: 'http://{}/sd', refresh_interval: 200ms, authorization: {{credentials: t}}}}]\n",
        sd.addr
    );
    let sink = Sink::new();
    let receiver = start(&yaml, &sink).await;
    let point = eventually("the discovered target", WAIT, || {
        named(&sink, "from_http_sd").into_iter().next()
    })
    .await;
    assert_eq!(point.attrs.get("via").map(String::as_str), Some("http"));
    assert!(
        sd.requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.starts_with("GET /sd ") && r.contains("authorization: Bearer t"))
    );
    sd.set(|s| s.body = b"[]".to_vec());
    eventually("its series stale once it is gone", WAIT, || {
        named(&sink, "from_http_sd").into_iter().find(|p| p.stale)
    })
    .await;
    // An endpoint that fails keeps the last groups (none now) and is logged.
    sd.set(|s| s.status = 500);
    receiver.shutdown().await.unwrap();
}

#[test]
fn configuration_checks() {
    let decode = |yaml: &str| Conf::from_yaml(yaml).unwrap().decode::<Config>();
    let unknown =
        decode("config:\n  scrape_configs:\n    - job_name: a\n      scrape_intervall: 1s\n")
            .unwrap_err();
    assert!(
        unknown.to_string().contains("scrape_intervall"),
        "{unknown}"
    );
    let invalid = |yaml: &str| decode(yaml).unwrap().validate().unwrap_err().to_string();
    assert!(
        invalid("config:\n  remote_write: [{url: x}]\n  scrape_configs: [{job_name: a}]\n")
            .contains("remote_write")
    );
    assert!(
        invalid(
            "config:\n  scrape_configs: [{job_name: a, scrape_interval: 5s, scrape_timeout: 10s}]\n"
        )
        .contains("greater than")
    );
    assert!(
        invalid("config:\n  scrape_configs: [{job_name: a}, {job_name: a}]\n").contains("multiple")
    );
    assert!(
        invalid(
            "config:\n  scrape_configs: [{job_name: a, scrape_protocols: [PrometheusProto]}]\n"
        )
        .contains("PrometheusProto")
    );
    assert!(
        invalid(
            "config:\n  scrape_configs: [{job_name: a, http_sd_configs: [{url: 'ftp://x'}]}]\n"
        )
        .contains("http_sd_configs::0::url")
    );
    assert!(invalid("config:\n  scrape_configs: [{job_name: a, relabel_configs: [{action: hashmod, target_label: x}]}]\n").contains("relabel_configs::0"));
    assert!(
        invalid("target_allocator: {endpoint: x}\nconfig:\n  scrape_configs: [{job_name: a}]\n")
            .contains("target_allocator")
    );
    let ok = decode("config:\n  global: {scrape_interval: 15s}\n  scrape_configs: [{job_name: a, body_size_limit: 10MB}]\n").unwrap();
    ok.validate().unwrap();
    let job = &ok.jobs().unwrap()[0];
    assert_eq!(
        (job.interval, job.timeout),
        (Duration::from_secs(15), Duration::from_secs(10))
    );
    assert_eq!(job.body_size_limit, 10 << 20);
    assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
    assert_eq!(parse_duration("30m1h"), None);
    assert_eq!(parse_bytes("1KB"), Some(1024));
}

#[tokio::test]
async fn conformance() {
    tributary_pipeline_core::testing::check_receiver(
        factory(),
        "config:\n  scrape_configs:\n    - job_name: x\n      static_configs: [{targets: ['127.0.0.1:{port}']}]",
    )
    .await;
}

/// Every point of `batch` but the scrape's duration, written out with everything its
/// translation decides (resource, scope, metric head, attributes in order, start, time,
/// value, flags), sorted: two deliveries of the same scrape compare equal.
fn described(batch: &Metrics) -> Vec<String> {
    let mut out = Vec::new();
    for rm in &batch.request().resource_metrics {
        let resource = attrs(&rm.resource.as_ref().unwrap().attributes);
        for sm in &rm.scope_metrics {
            let scope = sm.scope.as_ref().unwrap();
            for m in &sm.metrics {
                if m.name == "scrape_duration_seconds" {
                    continue;
                }
                // A staleness marker of a series read in full has no description (its
                // family's help is not kept); a taken series' keeps it: not compared.
                let head = |flags: u32| {
                    let description = if flags & 1 == 1 { "" } else { &m.description };
                    format!(
                        "{resource:?} {}/{}/{:?} {} {description:?} {:?} {:?}",
                        scope.name, scope.version, scope.attributes, m.name, m.unit, m.metadata
                    )
                };
                match &m.data {
                    Some(Data::Gauge(g)) => {
                        for p in &g.data_points {
                            out.push(format!("{} gauge {p:?}", head(p.flags)));
                        }
                    }
                    Some(Data::Sum(s)) => {
                        for p in &s.data_points {
                            out.push(format!(
                                "{} sum {} {} {p:?}",
                                head(p.flags),
                                s.aggregation_temporality,
                                s.is_monotonic
                            ));
                        }
                    }
                    other => out.push(format!("{} {other:?}", head(0))),
                }
            }
        }
    }
    out.sort();
    out
}

/// A scrape's answer: `text` in the text 0.0.4 format.
fn text_body(text: &str) -> super::scrape::Body {
    super::scrape::Body {
        bytes: text.as_bytes().to_vec(),
        format: tributary_translator_prometheus::text::Format::Text,
    }
}

/// A loop scraping the first target of `yaml`'s first job, delivering into `sink`.
fn scrape_loop(yaml: &str, sink: &Arc<Sink<Metrics>>) -> super::scrape::ScrapeLoop {
    let (receiver, config) = receiver(yaml, sink);
    let job = config.jobs().unwrap().remove(0);
    let target =
        super::discovery::build_targets(&job, &super::discovery::static_groups(&job)).remove(0);
    let runtime = Arc::new(receiver.runtime(job).unwrap());
    super::scrape::ScrapeLoop::new(runtime, target)
}

/// Known series taken from their text (the fast path) deliver what reading every sample in
/// full and translating it with `to_otlp` delivers, scrape after scrape: new, repeated,
/// reordered, reset, vanished, retyped, relabelled, duplicated and timestamped series,
/// resource and scope labels, histograms and summaries among them, a failed scrape and the
/// recovery.
#[tokio::test]
async fn series_taken_from_their_text_match_series_read_in_full() {
    let base = concat!(
        "# HELP reqs_total Requests.\n# TYPE reqs_total counter\n",
        "reqs_total{code=\"200\",path=\"/a\"} 10\nreqs_total{path=\"/b\",code=\"500\"} 1\n",
        "reqs_total{code=\"200\",path=\"/a\"} 99\n",
        "# TYPE temp gauge\ntemp 21.5\ntemp{ instance = \"other:1\" , x=\"a\\\"}\" } 3\n",
        "untyped_thing{a=\"1\"} 7\nuntyped_thing{a=\"2\"} 8 1700000000000\n",
        "# TYPE lat histogram\nlat_bucket{le=\"1\"} 2\nlat_bucket{le=\"+Inf\"} 3\nlat_sum 2.5\nlat_count 3\n",
        "# TYPE rpc summary\nrpc{quantile=\"0.5\"} 1\nrpc_sum 4\nrpc_count 2\n",
        "# TYPE started counter\nstarted 5\nstarted_created 1700000000\n",
        "target_info{region=\"eu\"} 1\n",
        "scoped{otel_scope_name=\"lib\",otel_scope_version=\"2\"} 5\n",
        "# TYPE dropme gauge\ndropme 2\n",
        "# TYPE renamed_from gauge\nrenamed_from{k=\"v\"} 4\n",
        "job_overridden{job=\"inner\"} 1\n",
    );
    let steps: Vec<Option<String>> = vec![
        Some(base.to_owned()),
        Some(
            base.replace(" 10\n", " 12\n")
                .replace("temp 21.5", "temp 22"),
        ),
        // The same series in another order: a family moved to the end, two lines swapped.
        Some({
            let (first, rest) = base.split_at(base.find("# TYPE temp").unwrap());
            let untyped = "untyped_thing{a=\"1\"} 7\nuntyped_thing{a=\"2\"} 8 1700000000000\n";
            let swapped = "untyped_thing{a=\"2\"} 8 1700000000000\nuntyped_thing{a=\"1\"} 7\n";
            format!("{rest}{first}").replace(untyped, swapped)
        }),
        // A counter reset, and a series gone.
        Some(
            base.replace(" 10\n", " 3\n")
                .replace("untyped_thing{a=\"1\"} 7\n", ""),
        ),
        // New series; a family retyped; a help text changed.
        Some(
            base.replace("# TYPE temp gauge", "# TYPE temp counter")
                .replace("Requests.", "All requests.")
                + "fresh{n=\"1\"} 1\nfresh{n=\"2\"} 2\n",
        ),
        // A body that does not parse: the scrape fails, everything goes stale.
        Some(format!("{base}broken{{ 1\n")),
        Some(base.to_owned()),
        Some(base.replace("dropme 2", "dropme 3")),
        // The target fails to answer.
        None,
        Some(base.to_owned()),
    ];
    for extra in [
        "",
        "      honor_labels: true\n      honor_timestamps: false\n",
        concat!(
            "      metric_relabel_configs:\n",
            "        - {source_labels: [__name__], regex: dropme, action: drop}\n",
            "        - {source_labels: [__name__], regex: renamed_from, target_label: __name__, replacement: renamed_to}\n",
            "        - {source_labels: [code], regex: '500', action: drop}\n",
        ),
    ] {
        let yaml = job_yaml("127.0.0.1:9".parse().unwrap(), extra);
        let (fast_sink, full_sink) = (Sink::new(), Sink::new());
        let mut fast = scrape_loop(&yaml, &fast_sink);
        let mut full = scrape_loop(&yaml, &full_sink);
        // Near now: the start-time adjuster forgets series not seen for minutes.
        let now_ms = super::scrape::now_ms();
        for (i, step) in steps.iter().enumerate() {
            let start_ms = now_ms + i as i64 * 1000;
            let body = || match step {
                Some(text) => Ok(text_body(text)),
                None => Err(super::scrape::ScrapeError("connection refused".into())),
            };
            fast.scrape_fetched(body(), start_ms, true).await;
            full.scrape_fetched(body(), start_ms, false).await;
            if i == 1 {
                // The counters, gauges and untyped series the rules keep: 6 to 9 of them,
                // each found where the first scrape had it.
                assert!(
                    fast.taken_points() >= 6,
                    "the second scrape took {} points from their text ({extra:?})",
                    fast.taken_points()
                );
                assert_eq!(fast.trail_hits(), fast.taken_points(), "{extra:?}");
            }
            assert_eq!(full.taken_points(), 0);
            let (a, b) = (fast_sink.accepted(), full_sink.accepted());
            let (a, b) = (described(a.last().unwrap()), described(b.last().unwrap()));
            let only_fast: Vec<_> = a.iter().filter(|p| !b.contains(p)).collect();
            let only_full: Vec<_> = b.iter().filter(|p| !a.contains(p)).collect();
            assert!(
                a == b,
                "step {i} with {extra:?}:\nonly taken from text: {only_fast:#?}\nonly read in full: {only_full:#?}"
            );
        }
        assert!(
            fast.known_texts() > 5,
            "the fast path took known series ({extra:?})"
        );
        assert_eq!(full.known_texts(), 0);
    }
}

/// From the second scrape of a node exporter on, every counter, gauge and untyped sample
/// (all but the one summary's 7) is taken from its text, found in the order the last
/// scrape had it.
#[tokio::test]
async fn a_node_exporter_scrape_is_taken_from_its_text_after_the_first() {
    let node = include_str!("../../../../scripts/bench-data/node-exporter-1.5.0.prom");
    let sink = Sink::new();
    let mut scrape = scrape_loop(&job_yaml("127.0.0.1:9".parse().unwrap(), ""), &sink);
    let families = tributary_translator_prometheus::text::parse(
        node.as_bytes(),
        tributary_translator_prometheus::text::Format::Text,
        &Default::default(),
    )
    .unwrap();
    let summary: usize = families
        .iter()
        .filter(|f| f.metric_type == tributary_translator_prometheus::text::MetricType::Summary)
        .map(|f| f.samples.len())
        .sum();
    let all: usize = families.iter().map(|f| f.samples.len()).sum();
    assert_eq!((all, summary), (507, 7));
    let now_ms = super::scrape::now_ms();
    for (i, expected) in [0, all - summary, all - summary].into_iter().enumerate() {
        scrape
            .scrape_fetched(Ok(text_body(node)), now_ms + i as i64 * 1000, true)
            .await;
        assert_eq!(scrape.taken_points(), expected, "scrape {i}");
        assert_eq!(scrape.trail_hits(), expected, "scrape {i}");
        assert_eq!(sink.accepted()[i].item_count(), all + 5 - summary + 1);
    }
}

/// A target's table that grew past a doubling (520 series in room for 1,024 slots) is
/// fitted after the scrape, and stays so at the next.
#[tokio::test]
async fn a_grown_series_table_is_fitted_after_the_scrape() {
    let sink = Sink::new();
    let mut scrape = scrape_loop(&job_yaml("127.0.0.1:9".parse().unwrap(), ""), &sink);
    let mut body = String::from("# TYPE g gauge\n");
    for i in 0..520 {
        body.push_str(&format!("g{{i=\"{i}\"}} 1\n"));
    }
    let now_ms = super::scrape::now_ms();
    for i in 0..2 {
        scrape
            .scrape_fetched(Ok(text_body(&body)), now_ms + i * 1000, true)
            .await;
        let (len, capacity) = scrape.slot_room();
        assert!(len >= 520, "{len} slots");
        assert!(
            capacity <= len + len / 4,
            "scrape {i}: {len} slots in {capacity}"
        );
    }
}

/// A target whose series change at every scrape (new label values, some dropped by
/// relabelling) leaves the scrape cache holding one scrape's worth, not every scrape's.
#[tokio::test]
async fn the_scrape_cache_holds_one_scrape_of_churning_series() {
    let extra = concat!(
        "      metric_relabel_configs:\n",
        "        - {source_labels: [__name__], regex: dropped, action: drop}\n",
    );
    let sink = Sink::new();
    let mut scrape = scrape_loop(&job_yaml("127.0.0.1:9".parse().unwrap(), extra), &sink);
    let now_ms = super::scrape::now_ms();
    for round in 0..40 {
        let mut body = String::from("# TYPE churn gauge\n");
        for i in 0..50 {
            body.push_str(&format!("churn{{round=\"{round}\",i=\"{i}\"}} 1\n"));
            body.push_str(&format!("dropped{{round=\"{round}\",i=\"{i}\"}} 1\n"));
        }
        scrape
            .scrape_fetched(Ok(text_body(&body)), now_ms + round * 1000, true)
            .await;
        assert!(
            scrape.known_texts() <= 100,
            "round {round}: {} texts known",
            scrape.known_texts()
        );
    }
    // Every round's 50 series went stale in the next one.
    let stale = points(&sink.accepted())
        .into_iter()
        .filter(|p| p.name == "churn" && p.stale)
        .count();
    assert_eq!(stale, 39 * 50);
}
