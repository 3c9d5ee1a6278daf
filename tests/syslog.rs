//! The syslog receiver fed by Debian's real `rsyslogd`: the test sends messages to
//! rsyslog's UDP input, and rsyslog forwards each with `omfwd` to five syslog receivers of
//! the gateway — TCP octet-counted and TCP newline-framed in RFC 5424
//! (`RSYSLOG_SyslogProtocol23Format`), UDP in RFC 5424, UDP and TCP in RFC 3164
//! (`RSYSLOG_TraditionalForwardFormat`) — whose records the file exporter writes.
//!
//! rsyslogd runs in the foreground (`-n`) with its own configuration, pid file and work
//! directory under a temporary directory, on free ports, and only the inputs it is given
//! (no `imuxsock`, no `imklog`); it is killed when the test ends (the `Proc` guard).

mod common;

use std::collections::BTreeMap;
use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// The receivers: name → (protocol, transport, rsyslog `omfwd` parameters).
const ROUTES: [(&str, &str, &str, &str); 5] = [
    (
        "octet",
        "rfc5424",
        "tcp",
        r#"protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format""#,
    ),
    (
        "lf",
        "rfc5424",
        "tcp",
        r#"protocol="tcp" template="RSYSLOG_SyslogProtocol23Format""#,
    ),
    (
        "udp5424",
        "rfc5424",
        "udp",
        r#"protocol="udp" template="RSYSLOG_SyslogProtocol23Format""#,
    ),
    (
        "udp3164",
        "rfc3164",
        "udp",
        r#"protocol="udp" template="RSYSLOG_TraditionalForwardFormat""#,
    ),
    (
        "tcp3164",
        "rfc3164",
        "tcp",
        r#"protocol="tcp" template="RSYSLOG_TraditionalForwardFormat""#,
    ),
];

fn gateway_config(ports: &[u16], out: &Path) -> String {
    let mut receivers = String::new();
    for ((name, protocol, transport, _), port) in ROUTES.iter().zip(ports) {
        let octet = if *name == "octet" {
            "enable_octet_counting: true, "
        } else {
            ""
        };
        receivers.push_str(&format!(
            "  syslog/{name}: {{ protocol: {protocol}, {octet}{transport}: {{ listen_address: \
             \"127.0.0.1:{port}\", add_attributes: true }}, attributes: {{ via: {name} }} }}\n"
        ));
    }
    let names: Vec<String> = ROUTES
        .iter()
        .map(|(name, ..)| format!("syslog/{name}"))
        .collect();
    format!(
        r#"
receivers:
{receivers}
exporters:
  file: {{ path: "{}" }}
service:
  telemetry: {{ metrics: {{ level: none }} }}
  pipelines:
    logs: {{ receivers: [{}], exporters: [file] }}
"#,
        out.display(),
        names.join(", ")
    )
}

fn rsyslog_config(work: &Path, input: u16, ports: &[u16]) -> String {
    let mut actions = String::new();
    for ((_, _, _, forward), port) in ROUTES.iter().zip(ports) {
        actions.push_str(&format!(
            "  action(type=\"omfwd\" target=\"127.0.0.1\" port=\"{port}\" {forward})\n"
        ));
    }
    format!(
        r#"global(workDirectory="{}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{input}" ruleset="forward")
ruleset(name="forward") {{
{actions}}}
"#,
        work.display()
    )
}

/// One record as the file exporter wrote it: body, severity, time and attributes (lists
/// and maps flattened to JSON).
#[derive(Debug)]
struct Record {
    body: String,
    severity_text: String,
    time: u64,
    attributes: BTreeMap<String, Value>,
}

impl Record {
    fn str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key)?["stringValue"].as_str()
    }

    fn int(&self, key: &str) -> Option<i64> {
        let value = &self.attributes.get(key)?["intValue"];
        value
            .as_i64()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
    }
}

fn records(out: &Path) -> Vec<Record> {
    let mut records = Vec::new();
    for line in read_json_lines(out) {
        for resource in line["resourceLogs"].as_array().into_iter().flatten() {
            for scope in resource["scopeLogs"].as_array().into_iter().flatten() {
                for record in scope["logRecords"].as_array().into_iter().flatten() {
                    let attributes = record["attributes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|kv| {
                            Some((kv["key"].as_str()?.to_string(), kv["value"].clone()))
                        })
                        .collect();
                    let time = &record["timeUnixNano"];
                    records.push(Record {
                        body: record["body"]["stringValue"].as_str().unwrap_or("").into(),
                        severity_text: record["severityText"].as_str().unwrap_or("").into(),
                        time: time
                            .as_u64()
                            .or_else(|| time.as_str().and_then(|s| s.parse().ok()))
                            .unwrap_or(0),
                        attributes,
                    });
                }
            }
        }
    }
    records
}

/// The record that came through `via` whose message contains `needle`.
fn find<'a>(records: &'a [Record], via: &str, needle: &str) -> Option<&'a Record> {
    records.iter().find(|record| {
        record.str("via") == Some(via)
            && record
                .str("message")
                .is_some_and(|message| message.contains(needle))
    })
}

#[test]
fn rsyslog_forwards_to_every_framing_and_format() {
    let Some(rsyslogd) = program("rsyslogd") else {
        return;
    };
    let dir = temp_dir();
    let out = dir.path().join("out.jsonl");
    let ports: Vec<u16> = ROUTES.iter().map(|_| free_port()).collect();
    let config = dir.path().join("gateway.yaml");
    std::fs::write(&config, gateway_config(&ports, &out)).unwrap();
    let _gateway = Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    );
    for ((_, _, transport, _), port) in ROUTES.iter().zip(&ports) {
        if *transport == "tcp" {
            wait_listening(
                format!("127.0.0.1:{port}").parse().unwrap(),
                Duration::from_secs(30),
            );
        }
    }

    let work = dir.path().join("rsyslog");
    std::fs::create_dir(&work).unwrap();
    let input = free_port();
    let rsyslog_conf = dir.path().join("rsyslog.conf");
    std::fs::write(&rsyslog_conf, rsyslog_config(&work, input, &ports)).unwrap();
    let pid_file = dir.path().join("rsyslogd.pid");
    let _rsyslog = Proc::spawn(
        &rsyslogd,
        &[
            "-n",
            "-f",
            rsyslog_conf.to_str().unwrap(),
            "-i",
            pid_file.to_str().unwrap(),
        ],
        // Timestamps without a zone (RFC 3164) are read in UTC on both sides.
        &[("TZ", "UTC")],
    );

    // rsyslog's input and our UDP receivers give no sign of readiness: probe until a
    // message has come through every route.
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut probe = 0;
    eventually(
        "a probe through every route",
        Duration::from_secs(60),
        || {
            probe += 1;
            let message = format!("<14>Jan  2 03:04:05 probehost probe: probe {probe}");
            client
                .send_to(message.as_bytes(), ("127.0.0.1", input))
                .unwrap();
            std::thread::sleep(Duration::from_millis(200));
            let records = records(&out);
            ROUTES
                .iter()
                .all(|(via, ..)| find(&records, via, "probe ").is_some())
                .then_some(())
        },
    );

    // An RFC 3164 message: local4.notice (165) with a tag and a PID.
    client
        .send_to(
            "<165>Mar  7 08:09:10 testhost myapp[123]: hello syslog, ünïcode".as_bytes(),
            ("127.0.0.1", input),
        )
        .unwrap();
    // An RFC 5424 message with a MSGID, structured data (an escaped `]`) and fractions.
    client
        .send_to(
            br#"<11>1 2024-05-01T10:00:00.123456+02:00 host5424 app5424 77 ID9 [ex@32473 k="v\]x" n="1"] structured hello"#,
            ("127.0.0.1", input),
        )
        .unwrap();
    let records = eventually(
        "both messages through every route",
        Duration::from_secs(30),
        || {
            let records = records(&out);
            ROUTES
                .iter()
                .all(|(via, ..)| {
                    find(&records, via, "hello syslog").is_some()
                        && find(&records, via, "structured hello").is_some()
                })
                .then_some(records)
        },
    );

    for (via, protocol, transport, _) in ROUTES {
        let what = format!("{via} ({protocol} over {transport})");
        let record = find(&records, via, "hello syslog").unwrap();
        assert_eq!(
            record.str("hostname"),
            Some("testhost"),
            "{what}: {record:?}"
        );
        assert_eq!(record.str("appname"), Some("myapp"), "{what}: {record:?}");
        assert_eq!(record.str("proc_id"), Some("123"), "{what}: {record:?}");
        assert_eq!(
            record.str("message").map(str::trim),
            Some("hello syslog, ünïcode")
        );
        assert_eq!(record.int("priority"), Some(165), "{what}");
        assert_eq!(record.int("facility"), Some(20), "{what}");
        assert_eq!(record.str("facility_text"), Some("local4"), "{what}");
        assert_eq!(record.severity_text, "notice", "{what}");
        assert!(
            record.body.contains("hello syslog, ünïcode"),
            "{what}: {record:?}"
        );
        assert_eq!(
            record.str("net.transport"),
            Some(if transport == "tcp" {
                "IP.TCP"
            } else {
                "IP.UDP"
            })
        );
        assert_eq!(record.str("net.peer.ip"), Some("127.0.0.1"), "{what}");
        assert!(record.time > 0, "{what}");

        let record = find(&records, via, "structured hello").unwrap();
        assert_eq!(record.str("hostname"), Some("host5424"), "{what}");
        assert_eq!(record.severity_text, "err", "{what}");
        if protocol == "rfc5424" {
            assert_eq!(record.str("appname"), Some("app5424"), "{what}");
            assert_eq!(record.int("version"), Some(1), "{what}");
            assert_eq!(record.str("proc_id"), Some("77"), "{what}");
            assert_eq!(record.str("msg_id"), Some("ID9"), "{what}");
            // 2024-05-01T08:00:00.123456Z
            assert_eq!(record.time, 1_714_550_400_123_456_000, "{what}");
            let sd = &record.attributes["structured_data"]["kvlistValue"]["values"];
            assert_eq!(sd[0]["key"], "ex@32473", "{what}: {sd}");
            let params = &sd[0]["value"]["kvlistValue"]["values"];
            let param = |name: &str| {
                params
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|kv| kv["key"] == name)
                    .and_then(|kv| kv["value"]["stringValue"].as_str())
                    .map(String::from)
            };
            assert_eq!(param("k").as_deref(), Some("v]x"), "{what}: {params}");
            assert_eq!(param("n").as_deref(), Some("1"), "{what}: {params}");
        } else {
            // rsyslog's traditional format writes an RFC 5424 message's tag without the
            // colon (`app5424[77] structured hello`), so, as in Go, there is no TAG: all
            // of it is the message.
            assert_eq!(record.str("appname"), None, "{what}");
            assert_eq!(
                record.str("message"),
                Some("app5424[77] structured hello"),
                "{what}"
            );
            assert!(!record.attributes.contains_key("structured_data"), "{what}");
        }
        if via == "octet" {
            // Go keeps the octet count in the body.
            let (count, rest) = record.body.split_once(' ').unwrap();
            assert!(
                count.parse::<usize>().is_ok() && rest.starts_with("<11>1 "),
                "{}",
                record.body
            );
        }
    }
}
