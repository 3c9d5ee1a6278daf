//! The `opentsdb` receiver and exporter end to end, with the gateway binary. No OpenTSDB
//! server is installable here, so the TSD the exporter writes to is a server written below
//! from OpenTSDB's documented `/api/put` contract (204 when every point is stored, 400
//! with `details` naming each failed point, storage errors worth a retry):
//!
//! - `curl` puts JSON to the receiver's `/api/put?details`, one point of them bad: the
//!   answer is the TSD's 400 with the details, and the good points go on;
//! - a telnet client writes `put` lines (one bad, answered with the TSD's error line);
//! - the OpenTelemetry Python SDK sends OTLP metrics to the same gateway;
//! - the gateway's `opentsdb` exporter writes everything to the stand-in TSD, which fails
//!   one point with a storage error the first time: only that point is sent again, and
//!   every point is stored exactly once.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};

/// The stand-in TSD: every point stored, and each request's size.
#[derive(Default)]
struct Tsd {
    stored: Mutex<Vec<Value>>,
    requests: Mutex<Vec<usize>>,
    /// Points tagged `flaky=yes` fail with a storage error this many more times.
    flaky: Mutex<usize>,
}

impl Tsd {
    /// Serves `/api/put` on a free port, a thread per connection (the exporter keeps
    /// several keep-alive connections open at once), until the process ends.
    fn start() -> (Arc<Tsd>, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let tsd = Arc::new(Tsd {
            flaky: Mutex::new(1),
            ..Tsd::default()
        });
        let served = Arc::clone(&tsd);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let served = Arc::clone(&served);
                std::thread::spawn(move || served.serve(stream));
            }
        });
        (tsd, addr)
    }

    fn serve(&self, stream: TcpStream) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut stream = stream;
        loop {
            let mut request_line = String::new();
            if reader.read_line(&mut request_line)? == 0 {
                return Ok(());
            }
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header)?;
                let header = header.trim_end();
                if header.is_empty() {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            let (status, answer) = self.put(&request_line, &body);
            write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
                answer.len()
            )?;
        }
    }

    /// The TSD's `/api/put?details`: each point checked alone.
    fn put(&self, request_line: &str, body: &[u8]) -> (&'static str, String) {
        if !request_line.starts_with("POST /api/put?details ") {
            return ("404 Not Found", String::new());
        }
        let Ok(Value::Array(points)) = serde_json::from_slice::<Value>(body) else {
            return (
                "400 Bad Request",
                json!({"error": {"code": 400, "message": "Unable to parse the given JSON"}})
                    .to_string(),
            );
        };
        self.requests.lock().unwrap().push(points.len());
        let mut errors = Vec::new();
        for point in points {
            if point["tags"]["flaky"] == "yes" {
                let mut flaky = self.flaky.lock().unwrap();
                if *flaky > 0 {
                    *flaky -= 1;
                    errors.push(
                        json!({"datapoint": point, "error": "HBase error: region in transition"}),
                    );
                    continue;
                }
            }
            self.stored.lock().unwrap().push(point);
        }
        let success = self.stored.lock().unwrap().len();
        let summary = json!({"success": success, "failed": errors.len(), "errors": errors});
        if summary["failed"] == 0 {
            ("200 OK", summary.to_string())
        } else {
            ("400 Bad Request", summary.to_string())
        }
    }

    /// Stored points by metric name.
    fn stored(&self) -> BTreeMap<String, Vec<Value>> {
        let mut by_name: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for point in self.stored.lock().unwrap().iter() {
            by_name
                .entry(point["metric"].as_str().unwrap_or_default().to_string())
                .or_default()
                .push(point.clone());
        }
        by_name
    }
}

fn curl_put(port: u16, query: &str, body: &str) -> (u16, String) {
    let output = Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", "POST"])
        .args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            body,
        ])
        .arg(format!("http://127.0.0.1:{port}/api/put{query}"))
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').expect("curl's status line");
    (status.trim().parse().expect("a status"), body.to_string())
}

#[test]
fn clients_put_through_the_gateway_into_a_tsd() {
    let Some(python) = python_sdk() else { return };
    if program("curl").is_none() {
        return;
    }
    let (tsd, tsd_addr) = Tsd::start();
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let (http_port, telnet_port, otlp_port) = (free_port(), free_port(), free_port());
    let config = dir.path().join("gateway.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
receivers:
  opentsdb:
    endpoint: "127.0.0.1:{http_port}"
    telnet: {{ endpoint: "127.0.0.1:{telnet_port}" }}
  otlp:
    protocols: {{ http: {{ endpoint: "127.0.0.1:{otlp_port}" }} }}
exporters:
  file: {{ path: "{out}" }}
  file/rest: {{ path: "{rest}" }}
  opentsdb:
    endpoint: "http://{tsd_addr}"
    max_points_per_request: 2
    retry_on_failure: {{ initial_interval: 100ms, max_interval: 100ms }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    metrics: {{ receivers: [opentsdb, otlp], exporters: [file, opentsdb] }}
    # The SDK script also sends spans and logs; they are taken and set aside.
    traces: {{ receivers: [otlp], exporters: [file/rest] }}
    logs: {{ receivers: [otlp], exporters: [file/rest] }}
"#,
            out = out.display(),
            rest = dir.path().join("rest.jsonl").display()
        ),
    )
    .unwrap();
    let mut gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    wait_serving(
        &mut gateway,
        format!("127.0.0.1:{http_port}").parse().unwrap(),
        Duration::from_secs(30),
    );
    wait_listening(
        format!("127.0.0.1:{telnet_port}").parse().unwrap(),
        Duration::from_secs(30),
    );

    // HTTP: three good points (one to fail once at the TSD) and a bad one.
    let body = json!([
        {"metric": "sys.cpu.nice", "timestamp": 1_700_000_000, "value": 18, "tags": {"host": "web01", "dc": "lga"}},
        {"metric": "sys.cpu.nice", "timestamp": 1_700_000_001_500i64, "value": 9.5, "tags": {"host": "web02"}},
        {"metric": "sys.cpu.flaky", "timestamp": 1_700_000_000, "value": "7", "tags": {"flaky": "yes"}},
        {"metric": "sys.cpu.nice", "timestamp": 1_700_000_000, "value": "lots", "tags": {"host": "web03"}},
    ])
    .to_string();
    let (status, answer) = curl_put(http_port, "?details", &body);
    assert_eq!(status, 400, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["success"], 3, "{answer}");
    assert_eq!(answer["failed"], 1);
    assert_eq!(
        answer["errors"][0]["error"],
        "Unable to parse value to a number"
    );
    assert_eq!(answer["errors"][0]["datapoint"]["tags"]["host"], "web03");
    let (status, answer) = curl_put(
        http_port,
        "",
        r#"{"metric":"sys.ok","timestamp":1700000000,"value":1,"tags":{"a":"b"}}"#,
    );
    assert_eq!((status, answer.as_str()), (204, ""));
    let (status, _) = curl_put(http_port, "", "[{\"metric\":");
    assert_eq!(status, 400);

    // Telnet: two good lines and a bad one, answered as the TSD answers.
    let mut telnet = TcpStream::connect(("127.0.0.1", telnet_port)).unwrap();
    telnet
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    telnet
        .write_all(b"put sys.load1 1700000000 0.25 host=web01\nput sys.load1 1700000000 x host=web02\nput sys.load5 1700000000 3 host=web01\n")
        .unwrap();
    let mut reply = String::new();
    BufReader::new(telnet.try_clone().unwrap())
        .read_line(&mut reply)
        .unwrap();
    assert_eq!(reply, "put: invalid value: Invalid character 'x' in x\n");
    telnet.write_all(b"exit\n").unwrap();

    // The Python SDK over OTLP.
    run_python(
        &python,
        "send_otlp.py",
        &[
            "--protocol",
            "http",
            "--endpoint",
            &format!("127.0.0.1:{otlp_port}"),
            "--run-id",
            "tsdbe2e",
        ],
    );

    // Everything reached the TSD, each point once; the flaky point was sent twice, alone
    // the second time.
    let stored = eventually("every point in the TSD", Duration::from_secs(30), || {
        let stored = tsd.stored();
        let want = [
            "sys.cpu.nice",
            "sys.cpu.flaky",
            "sys.ok",
            "sys.load1",
            "sys.load5",
            "tsdbe2e.requests",
        ];
        // The SDK's counter points (one per route) may come in more than one batch, and a
        // cumulative counter exported twice repeats them: wait for all five routes.
        let all_routes = stored
            .get("tsdbe2e.requests")
            .is_some_and(|p| routes_of(p).len() >= 5);
        (want.iter().all(|m| stored.contains_key(*m)) && all_routes).then_some(stored)
    });
    assert_eq!(stored["sys.cpu.nice"].len(), 2);
    assert_eq!(stored["sys.cpu.flaky"].len(), 1);
    assert_eq!(
        stored["sys.cpu.nice"][0],
        json!({"metric": "sys.cpu.nice", "timestamp": 1_700_000_000, "value": 18, "tags": {"dc": "lga", "host": "web01"}})
    );
    assert_eq!(stored["sys.cpu.nice"][1]["timestamp"], 1_700_000_001_500i64);
    assert_eq!(stored["sys.cpu.nice"][1]["value"], 9.5);
    assert_eq!(stored["sys.load1"][0]["value"], 0.25);
    assert!(
        tsd.requests.lock().unwrap().contains(&1),
        "the failed point alone was sent again: {:?}",
        tsd.requests.lock().unwrap()
    );
    assert!(
        tsd.requests.lock().unwrap().iter().all(|n| *n <= 2),
        "max_points_per_request"
    );
    // The SDK's counter: one point per route, tagged with it.
    let requests = &stored["tsdbe2e.requests"];
    assert_eq!(routes_of(requests).len(), 5, "{requests:?}");
    let r2 = requests
        .iter()
        .find(|p| p["tags"]["route"] == "/r2")
        .expect("route /r2");
    assert_eq!(r2["value"], 3);

    // The file exporter saw the receiver's points as gauges with their tags.
    let lines = eventually(
        "the receiver's points in the file",
        Duration::from_secs(20),
        || {
            let lines = read_json_lines(&out);
            let text = serde_json::to_string(&lines).unwrap();
            (text.contains("sys.load5") && text.contains("sys.cpu.flaky")).then_some(text)
        },
    );
    assert!(
        lines.contains("\"tributary/opentsdb\""),
        "the receiver's scope"
    );
    assert!(!lines.contains("web03"), "the bad point was not delivered");
    drop(gateway);
}

/// The distinct `route` tags of stored points.
fn routes_of(points: &[serde_json::Value]) -> std::collections::BTreeSet<String> {
    points
        .iter()
        .filter_map(|p| p["tags"]["route"].as_str().map(str::to_string))
        .collect()
}
