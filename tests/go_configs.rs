//! Go Collector configurations, run unchanged: every file under `tests/go_configs/` goes
//! through the gateway's `validate` and must end as its header says; a handful are also
//! started for real and fed OTLP.
//!
//! Each file starts with a header:
//!
//! ```text
//! # source: <repo>/<path>[@commit] | <URL>
//! # expect: valid
//! # expect: refused: <substring of the error> — <documented reason>
//! # expect: blocked: <component type>, <component type>, ...
//! ```
//!
//! * `valid`: `validate` exits 0.
//! * `refused`: `validate` fails and its output contains the substring.
//! * `blocked`: `validate` fails **only** because the named component types are not built:
//!   the list must be exactly the file's types that the gateway does not register, and every
//!   error line must be about one of them. When a component lands, the file's check fails
//!   and names the header to write instead.
//!
//! Every run prints a summary table (`cargo test --test go_configs -- --nocapture`).
//! The environment variables the originals reference are set for every run ([`ENV`]).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// What the configurations reference with `${env:X}` / `${X}`: a pod's IP, the demo's host
/// and ports, API keys.
const ENV: &[(&str, &str)] = &[
    ("MY_POD_IP", "127.0.0.1"),
    ("OTEL_COLLECTOR_HOST", "127.0.0.1"),
    ("OTEL_COLLECTOR_PORT_GRPC", "4317"),
    ("OTEL_COLLECTOR_PORT_HTTP", "4318"),
    ("ENVOY_PORT", "8080"),
    ("CORALOGIX_PRIVATE_KEY", "not-a-key"),
    ("CORALOGIX_PRIVATE_KEY_AP2", "not-a-key"),
    ("CORALOGIX_PRIVATE_KEY_EU2", "not-a-key"),
    ("CORALOGIX_PRIVATE_KEY_US2", "not-a-key"),
];

/// The component sections of a configuration, as `components` lists them.
const KINDS: &[&str] = &[
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
];

/// What a file's header promises.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Valid,
    Refused { needle: String },
    Blocked(BTreeSet<String>),
}

/// One configuration file of the corpus.
struct Case {
    /// `snippets/x.yaml` or `full/y.yaml`.
    name: String,
    path: PathBuf,
    expect: Expect,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go_configs")
}

/// Every file of the corpus with its parsed header; panics naming a file whose header is
/// missing or malformed.
fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for part in ["snippets", "full"] {
        let dir = corpus_dir().join(part);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|entry| entry.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        paths.sort();
        for path in paths {
            let name = format!("{part}/{}", path.file_name().unwrap().to_string_lossy());
            let text = std::fs::read_to_string(&path).expect("read config");
            let expect = parse_header(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            cases.push(Case { name, path, expect });
        }
    }
    cases
}

/// Reads the `# source:` and `# expect:` lines at the top of a file.
fn parse_header(text: &str) -> Result<Expect, String> {
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
    let field = |key: &str| {
        header
            .iter()
            .find_map(|l| l.strip_prefix(&format!("# {key}:")))
            .map(str::trim)
    };
    match field("source") {
        Some(source) if !source.is_empty() => {}
        _ => return Err("the header has no `# source:` line".into()),
    }
    let expect = field("expect").ok_or("the header has no `# expect:` line")?;
    if expect == "valid" {
        return Ok(Expect::Valid);
    }
    if let Some(rest) = expect.strip_prefix("refused:") {
        let (needle, reason) = rest
            .split_once(" — ")
            .ok_or("`refused:` needs `<error substring> — <documented reason>`")?;
        if needle.trim().is_empty() || reason.trim().is_empty() {
            return Err("`refused:` needs a non-empty substring and reason".into());
        }
        return Ok(Expect::Refused {
            needle: needle.trim().to_owned(),
        });
    }
    if let Some(rest) = expect.strip_prefix("blocked:") {
        let types: BTreeSet<String> = rest
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if types.is_empty() {
            return Err("`blocked:` needs the component types".into());
        }
        return Ok(Expect::Blocked(types));
    }
    Err(format!("unknown expectation {expect:?}"))
}

/// The component types (names and aliases) the gateway registers, by section.
fn registered() -> BTreeMap<String, BTreeSet<String>> {
    let output = Command::new(example("gateway"))
        .arg("components")
        .output()
        .expect("run gateway components");
    assert!(output.status.success(), "gateway components failed");
    let listing: Value =
        tributary::confmap::Conf::from_yaml(&String::from_utf8_lossy(&output.stdout))
            .expect("components prints YAML")
            .decode()
            .expect("components decodes");
    KINDS
        .iter()
        .map(|kind| {
            let names = listing[*kind]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|c| {
                    let aliases = c["aliases"].as_array().cloned().unwrap_or_default();
                    std::iter::once(c["name"].clone()).chain(aliases)
                })
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect();
            (kind.to_string(), names)
        })
        .collect()
}

/// The component types a configuration declares that the gateway does not register.
fn missing_types(path: &Path, registered: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).expect("read config");
    let config: Value = tributary::confmap::Conf::from_yaml(&text)
        .unwrap_or_else(|e| panic!("{}: not YAML: {e}", path.display()))
        .decode()
        .expect("decode as JSON values");
    let mut missing = BTreeSet::new();
    for kind in KINDS {
        let Some(section) = config[*kind].as_object() else {
            continue;
        };
        for id in section.keys() {
            let component_type = id.split('/').next().unwrap_or(id);
            if !registered[*kind].contains(component_type) {
                missing.insert(component_type.to_owned());
            }
        }
    }
    missing
}

/// How one `validate` run ended.
struct Outcome {
    success: bool,
    /// The problems reported, one per line.
    errors: Vec<String>,
}

fn validate(path: &Path) -> Outcome {
    let dir = temp_dir();
    let output = Command::new(example("gateway"))
        .args(["validate", "--config"])
        .arg(path)
        .envs(ENV.iter().copied())
        .current_dir(dir.path())
        .output()
        .expect("run gateway validate");
    let stderr = String::from_utf8_lossy(&output.stderr);
    Outcome {
        success: output.status.success(),
        errors: stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("Error: invalid configuration"))
            .map(str::to_owned)
            .collect(),
    }
}

/// Whether an error line is about one of the `missing` component types: in its section
/// (`exporters::logging/2: ...`), the refused `connectors` section, or a pipeline's
/// reference to it (`references exporter "spanmetrics"`).
fn about_missing(line: &str, missing: &BTreeSet<String>) -> bool {
    let path = line.split(": ").next().unwrap_or(line);
    if path == "connectors" {
        return true;
    }
    missing.iter().any(|t| {
        KINDS.iter().any(|kind| {
            path == format!("{kind}::{t}") || path.starts_with(&format!("{kind}::{t}/"))
        }) || line.contains(&format!("\"{t}\""))
            || line.contains(&format!("\"{t}/"))
    })
}

fn joined(types: &BTreeSet<String>) -> String {
    types.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// What a header should say instead, for a run that did not match it.
fn suggestion(outcome: &Outcome, missing: &BTreeSet<String>) -> String {
    if outcome.success {
        "# expect: valid".into()
    } else if !missing.is_empty() && outcome.errors.iter().all(|l| about_missing(l, missing)) {
        format!("# expect: blocked: {}", joined(missing))
    } else {
        let first = outcome
            .errors
            .iter()
            .find(|l| !about_missing(l, missing))
            .or(outcome.errors.first())
            .map(String::as_str)
            .unwrap_or("");
        format!("# expect: refused: {first} — <why>")
    }
}

/// Checks one run against its header: `Ok(summary)` or `Err(what to change)`.
fn check(case: &Case, outcome: &Outcome, missing: &BTreeSet<String>) -> Result<String, String> {
    let errors = outcome.errors.join("\n    ");
    let change = || {
        format!(
            "change its header to `{}`, or fix what the errors say",
            suggestion(outcome, missing)
        )
    };
    match &case.expect {
        Expect::Valid if outcome.success => Ok("accepted".into()),
        Expect::Valid => Err(format!(
            "expected valid, but:\n    {errors}\n  {}",
            change()
        )),
        Expect::Refused { .. } if outcome.success => Err(format!(
            "expected refused, but it validates now: {}",
            change()
        )),
        Expect::Refused { needle } => {
            if errors.contains(needle.as_str()) {
                let line = outcome
                    .errors
                    .iter()
                    .find(|l| l.contains(needle.as_str()))
                    .cloned()
                    .unwrap_or_default();
                Ok(format!("refused: {line}"))
            } else {
                Err(format!(
                    "expected a refusal containing {needle:?}, got:\n    {errors}\n  {}",
                    change()
                ))
            }
        }
        Expect::Blocked(declared) => {
            if declared != missing {
                return Err(format!(
                    "declared blocked by [{}], but the types not built now are [{}]: {}",
                    joined(declared),
                    joined(missing),
                    change()
                ));
            }
            if outcome.success {
                return Err(format!("expected blocked, but it validates: {}", change()));
            }
            let other: Vec<&String> = outcome
                .errors
                .iter()
                .filter(|l| !about_missing(l, missing))
                .collect();
            if !other.is_empty() {
                return Err(format!(
                    "blocked by [{}], but it also fails for other reasons:\n    {}\n  {}",
                    joined(missing),
                    other
                        .iter()
                        .map(|l| l.as_str())
                        .collect::<Vec<_>>()
                        .join("\n    "),
                    change()
                ));
            }
            Ok(format!("blocked by {}", joined(missing)))
        }
    }
}

#[test]
fn every_go_config_ends_as_its_header_says() {
    let cases = corpus();
    let snippets = cases
        .iter()
        .filter(|c| c.name.starts_with("snippets/"))
        .count();
    let full = cases.len() - snippets;
    assert!(
        snippets >= 60,
        "the corpus needs at least 60 snippets, has {snippets}"
    );
    assert!(
        full >= 10,
        "the corpus needs at least 10 full configs, has {full}"
    );

    let registered = registered();
    // One process per file, four at a time: each run is a fresh `validate`, as a user's.
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let chunks: Vec<_> = cases
            .chunks(cases.len().div_ceil(4))
            .map(|chunk| {
                scope.spawn(move || chunk.iter().map(|c| validate(&c.path)).collect::<Vec<_>>())
            })
            .collect();
        chunks
            .into_iter()
            .flat_map(|h| h.join().expect("validate thread"))
            .collect()
    });

    let mut table = String::new();
    let mut failures = Vec::new();
    let mut blocking: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let (mut accepted, mut refused, mut blocked) = (0, 0, 0);
    for (case, outcome) in cases.iter().zip(&outcomes) {
        let missing = missing_types(&case.path, &registered);
        let verdict = match check(case, outcome, &missing) {
            Ok(summary) => {
                match &case.expect {
                    Expect::Valid => accepted += 1,
                    Expect::Refused { .. } => refused += 1,
                    Expect::Blocked(types) => {
                        blocked += 1;
                        for t in types {
                            blocking.entry(t.clone()).or_default().push(&case.name);
                        }
                    }
                }
                format!("ok    {summary}")
            }
            Err(problem) => {
                failures.push(format!("{}: {problem}", case.name));
                "FAIL  see below".to_owned()
            }
        };
        let verdict: String = verdict.chars().take(150).collect();
        writeln!(table, "{:<58} {verdict}", case.name).unwrap();
    }
    writeln!(
        table,
        "\n{} files: {accepted} accepted, {refused} refused with a reason, {blocked} blocked, {} failing",
        cases.len(),
        failures.len()
    )
    .unwrap();
    writeln!(table, "\nblocking components → configs:").unwrap();
    for (component, files) in &blocking {
        writeln!(table, "  {component:<16} {}", files.join(", ")).unwrap();
    }
    println!("{table}");
    assert!(
        failures.is_empty(),
        "{} configs do not end as their headers say:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// `--set` arguments for a gateway: each `key=value`, after `--set`.
fn sets(pairs: &[String]) -> Vec<&str> {
    pairs.iter().flat_map(|p| ["--set", p.as_str()]).collect()
}

/// Starts the gateway on a corpus file with the given overrides (listen endpoints moved
/// to free ports, internal metrics on a free port).
fn start(file: &str, overrides: &[String]) -> Proc {
    let path = corpus_dir().join(file);
    let mut args = vec!["--config".to_owned(), path.to_string_lossy().into_owned()];
    let mut all = overrides.to_vec();
    all.push(format!(
        "service.telemetry.metrics.address=127.0.0.1:{}",
        free_port()
    ));
    args.extend(sets(&all).into_iter().map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Proc::spawn(&example("gateway"), &args, ENV)
}

/// One OTLP/JSON trace request with a single span.
fn json_span(name: &str) -> Vec<u8> {
    serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": [{
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": name,
        "kind": 1,
        "startTimeUnixNano": "1544712660000000000",
        "endTimeUnixNano": "1544712661000000000"
    }]}]}]})
    .to_string()
    .into_bytes()
}

/// The opentelemetry.io agent example: OTLP/HTTP in, `otlp/jaeger` with
/// `sending_queue: {batch:}` out — a span posted with curl reaches an OTLP backend.
#[test]
fn the_docs_agent_example_forwards_a_curl_span_to_its_backend() {
    let backend = OtlpBackend::start(BackendMode::Healthy, 13);
    let http = free_port();
    let mut gateway = start(
        "full/docs-agent-traces.yaml",
        &[
            format!("receivers.otlp.protocols.http.endpoint=127.0.0.1:{http}"),
            format!("exporters.otlp/jaeger.endpoint={}", backend.endpoint()),
        ],
    );
    let addr = format!("127.0.0.1:{http}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));
    let dir = temp_dir();
    let body = dir.path().join("span.json");
    std::fs::write(&body, json_span("from-the-docs")).unwrap();
    let curl = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(format!("@{}", body.display()))
        .arg(format!("http://{addr}/v1/traces"))
        .output()
        .expect("run curl");
    assert_eq!(
        String::from_utf8_lossy(&curl.stdout),
        "200",
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    eventually("the span at the backend", Duration::from_secs(60), || {
        (backend.received().get("from-the-docs") == Some(&1)).then_some(())
    });
}

/// The agent page's logs example: OTLP/HTTP in, the file exporter with `rotation:` out;
/// an application's logs, sent by the Python SDK, land in the file.
#[test]
fn the_docs_agent_logs_example_writes_the_sdks_logs_to_its_file() {
    let Some(python) = python_sdk() else { return };
    let dir = temp_dir();
    let file = dir.path().join("app42_example.log");
    let http = free_port();
    let mut gateway = start(
        "full/docs-agent-logs-file.yaml",
        &[
            format!("receivers.otlp.protocols.http.endpoint=127.0.0.1:{http}"),
            format!("exporters.file.path={}", file.display()),
        ],
    );
    let addr = format!("127.0.0.1:{http}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));
    // The SDK sends traces and metrics too; this configuration has only a logs pipeline.
    let endpoint = addr.to_string();
    let sent = run_python(
        &python,
        "send_otlp.py",
        &[
            "--protocol",
            "http",
            "--endpoint",
            &endpoint,
            "--run-id",
            "agent-page",
            "--count",
            "3",
        ],
    )
    .report;
    let bodies: Vec<String> = sent["logs"]
        .as_array()
        .expect("logs sent")
        .iter()
        .map(|b| b.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(bodies.len(), 3);
    eventually(
        "every log body in the file",
        Duration::from_secs(60),
        || {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            bodies
                .iter()
                .all(|b| text.contains(b.as_str()))
                .then_some(())
        },
    );
}

/// The debug exporter's testdata `output_paths: [stderr]` with `use_internal_logger:
/// false`: each batch's summary line goes to standard error, undecorated.
#[test]
fn the_debug_testdata_prints_batches_to_its_output_path() {
    let grpc = free_port();
    let mut gateway = start(
        "snippets/debug-testdata-output-paths.yaml",
        &[format!(
            "receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{grpc}"
        )],
    );
    let addr = format!("127.0.0.1:{grpc}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));
    OtlpClient::new(addr)
        .export(traces_request(["one", "two"]))
        .expect("the span is accepted");
    gateway.wait_for_output(
        "Traces\t{\"resource spans\": 1, \"spans\": 2}\n",
        Duration::from_secs(60),
    );
}

/// The helm chart's health_check (`endpoint: ${env:MY_POD_IP}:13133`) answers, with the
/// chart's otlp receiver on gRPC.
#[test]
fn the_helm_health_check_serves_health() {
    let (health, grpc) = (free_port(), free_port());
    let mut gateway = start(
        "snippets/health-check-helm.yaml",
        &[
            format!("extensions.health_check.endpoint=127.0.0.1:{health}"),
            format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{grpc}"),
        ],
    );
    let addr = format!("127.0.0.1:{health}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));
    let body = eventually("a healthy collector", Duration::from_secs(60), || {
        let response = get(addr, "/");
        (response.status == 200).then(|| response.text())
    });
    assert!(body.contains("Server available"), "{body}");
    let mut client = OtlpClient::new(format!("127.0.0.1:{grpc}").parse().unwrap());
    client
        .export(traces_request(["through-helm"]))
        .expect("the chart's receiver accepts a gRPC export");
}

/// The exporterhelper README's persistent queue: its `file_storage/otc` (with Go's
/// `timeout`) opens the exporter's queue on disk, and a span sent while the backend is
/// away is stored there.
#[test]
fn the_readme_persistent_queue_stores_what_it_cannot_send() {
    let storage = temp_dir();
    let grpc = free_port();
    let mut gateway = start(
        "snippets/exporterhelper-readme-persistent-queue-fixed.yaml",
        &[
            format!("receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{grpc}"),
            format!(
                "extensions.file_storage/otc.directory={}",
                storage.path().display()
            ),
            format!("exporters.otlp.endpoint=http://{}", black_hole()),
        ],
    );
    let addr = format!("127.0.0.1:{grpc}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));
    let mut client = OtlpClient::new(addr);
    client
        .export(traces_request(["kept-on-disk"]))
        .expect("the span is accepted into the persistent queue");
    let queue = storage.path().join("exporter.otlp.traces");
    eventually(
        "the span in the queue's files",
        Duration::from_secs(60),
        || {
            let stored = std::fs::read_dir(&queue).ok()?.flatten().any(|entry| {
                entry.path().extension().is_some_and(|e| e == "seg")
                    && std::fs::read(entry.path())
                        .is_ok_and(|bytes| bytes.windows(12).any(|w| w == b"kept-on-disk"))
            });
            stored.then_some(())
        },
    );
}

/// The memory_limiter (percentages of the machine's memory) and batch of the chart, in
/// front of the debug exporter, pass a span.
#[test]
fn the_helm_processors_pass_a_span() {
    let grpc = free_port();
    let mut gateway = start(
        "snippets/memory-limiter-helm-percentage.yaml",
        &[format!(
            "receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{grpc}"
        )],
    );
    let addr = format!("127.0.0.1:{grpc}").parse().unwrap();
    wait_serving(&mut gateway, addr, Duration::from_secs(60));
    OtlpClient::new(addr)
        .export(traces_request(["through-the-limiter"]))
        .expect("memory_limiter and batch pass the span");
}

#[test]
fn headers_are_parsed_strictly() {
    assert_eq!(
        parse_header("# source: x\n# expect: valid\nreceivers:\n"),
        Ok(Expect::Valid)
    );
    assert_eq!(
        parse_header("# source: x\n# expect: refused: a::b — because\n"),
        Ok(Expect::Refused {
            needle: "a::b".into()
        })
    );
    assert_eq!(
        parse_header("# source: x\n# expect: blocked: zpages, pprof\n"),
        Ok(Expect::Blocked(
            ["pprof".to_owned(), "zpages".to_owned()].into()
        ))
    );
    assert!(parse_header("# expect: valid\n").is_err(), "no source");
    assert!(parse_header("# source: x\n# expect: refused: no reason\n").is_err());
    assert!(parse_header("# source: x\n# expect: maybe\n").is_err());
}
