//! Shared end-to-end test harness: real collector processes, ports, HTTP probes, peers.
//!
//! Every test runs the programs a user runs (`examples/gateway`, `examples/agent`, ...)
//! as child processes on 127.0.0.1 with free ports, and kills them when it ends.

#![allow(dead_code)]

pub mod lifeline;
pub mod pki;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The directory cargo puts example binaries in, next to this test's own binary.
fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> → target/<profile>/examples
    exe.parent()
        .and_then(Path::parent)
        .expect("target directory")
        .join("examples")
}

/// The path of an example program, built first (once per test process) so the test never
/// runs a stale binary: `cargo test` builds examples under hashed names and does not
/// refresh `target/<profile>/examples/<name>`.
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .args(["build", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        // The profile `cargo test` built this binary with (no debug info): a dev-profile
        // build would add a second, larger copy of the workspace to target/.
        if cfg!(debug_assertions) {
            command.args(["--profile", "test"]);
        } else {
            command.arg("--release");
        }
        // The same features as this test binary: another set would rebuild the crates
        // (and the examples would lack the components the test needs).
        if cfg!(feature = "kafka") {
            command.args(["--features", "kafka"]);
        }
        let status = command.status().expect("run cargo build --examples");
        assert!(status.success(), "cargo build --examples failed");
    });
    let path = examples_dir().join(name);
    assert!(
        path.exists(),
        "example {name} not found at {}",
        path.display()
    );
    path
}

/// A port free right now on 127.0.0.1, and not handed out before by this process: the
/// kernel may give the same free port to two binds in a row, and a test asking for two
/// ports (say gRPC and HTTP) must get two.
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind 127.0.0.1:0");
        if GIVEN.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// A directory removed when the test ends.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A running child process whose stderr and stdout go to a log file; killed on drop.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proc {
    /// Starts `program` with `args` and extra environment variables.
    pub fn spawn(program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Proc {
        let dir = temp_dir();
        let log = dir.path().join("output.log");
        let out = std::fs::File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = Command::new(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        Proc {
            name: program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            child: Some(child),
            log,
            _dir: dir,
        }
    }

    /// Everything the process has written so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("process running").id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// Waits until the output contains `needle`; panics with the output if it does not
    /// within `timeout` or the process exits.
    pub fn wait_for_output(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.output().contains(needle) {
                return;
            }
            if !self.is_running() {
                panic!(
                    "{} exited before printing {needle:?}:\n{}",
                    self.name,
                    self.output()
                );
            }
            if Instant::now() > deadline {
                panic!(
                    "{} did not print {needle:?} within {timeout:?}:\n{}",
                    self.name,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal (`libc`-free: through the `kill` command).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the process to exit; panics with its output if it does not.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut().expect("process running");
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                let output = std::fs::read_to_string(&self.log).unwrap_or_default();
                panic!("{} did not exit within {timeout:?}:\n{output}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process at once (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process's resident memory high-water mark (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("--- output of {} ---\n{}", self.name, self.output());
        }
    }
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_listening(addr: SocketAddr, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {addr} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (up to 60 s) until `addr` accepts connections and answers `GET path` with `status`.
pub fn wait_http(addr: SocketAddr, path: &str, status: u16) {
    eventually(
        &format!("{addr}{path} answering {status}"),
        Duration::from_secs(60),
        || {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                .ok()
                .filter(|_| get(addr, path).status == status)
        },
    );
}

/// A minimal HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` and reads the whole response.
pub fn http(
    method: &str,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send request");
    stream.write_all(body).expect("send body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read response");
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    HttpResponse {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
    out
}

/// GET `path`, returning status and body text.
pub fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    http("GET", addr, path, &[], &[])
}

/// The value of one internal metric series in a Prometheus text page, summed over the
/// series whose labels contain every `label="value"` given.
pub fn metric(page: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    page.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.starts_with(name) && matches!(l.as_bytes().get(name.len()), Some(b'{') | Some(b' '))
        })
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The Python with the OpenTelemetry SDK that `scripts/test` installs. When it is missing,
/// the test fails under `scripts/test` (TRIBUTARY_E2E_REQUIRED=1) and is skipped otherwise.
pub fn python_sdk() -> Option<PathBuf> {
    let candidate = std::env::var_os("TRIBUTARY_E2E_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-venv/bin/python");
            venv.exists().then_some(venv)
        });
    let usable = candidate.filter(|python| {
        Command::new(python)
            .args(["-c", "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc, opentelemetry.exporter.otlp.proto.http"])
            .status()
            .is_ok_and(|s| s.success())
    });
    if usable.is_none() {
        required_or_skip(
            "the Python OpenTelemetry SDK is not installed; run scripts/test to install it",
        );
    }
    usable
}

/// The second Python environment `scripts/test` installs (tests/requirements-legacy.txt:
/// the Jaeger thrift and Zipkin protobuf exporters, which need an older SDK or protobuf 3).
/// Missing: as [`python_sdk`].
pub fn legacy_python() -> Option<PathBuf> {
    let candidate = std::env::var_os("TRIBUTARY_E2E_LEGACY_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let venv =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-venv-legacy/bin/python");
            venv.exists().then_some(venv)
        });
    let usable = candidate.filter(|python| {
        Command::new(python)
            .args(["-c", "import opentelemetry.sdk"])
            .status()
            .is_ok_and(|s| s.success())
    });
    if usable.is_none() {
        required_or_skip(
            "the legacy Python environment is not installed; run scripts/test to install it",
        );
    }
    usable
}

/// The path of a program from Debian's packages that `scripts/test` installs (`influxd`,
/// `carbon-cache`, `rsyslogd`, ...), looked up in `PATH`, `/usr/sbin` and `/sbin`. Missing:
/// as [`python_sdk`].
pub fn program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        required_or_skip(&format!(
            "{name} is not installed; run scripts/test to install it"
        ));
    }
    found
}

/// Fails the test under `scripts/test` (TRIBUTARY_E2E_REQUIRED=1), otherwise says it skips.
pub fn required_or_skip(message: &str) {
    if std::env::var_os("TRIBUTARY_E2E_REQUIRED").is_some() {
        panic!("{message}");
    }
    eprintln!("skipping: {message}");
}

/// What a sender script under `tests/python/` printed: its JSON report on stdout, and its
/// stderr (the SDK's own logs).
pub struct PythonRun {
    pub report: serde_json::Value,
    pub stderr: String,
}

/// Runs `tests/python/<script>` with `args` and the SDK's `python`; the script must exit 0
/// and print one JSON document.
pub fn run_python(python: &Path, script: &str, args: &[&str]) -> PythonRun {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let output = Command::new(python)
        .arg(&script)
        .args(args)
        .output()
        .expect("run the Python sender");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{} failed: {stderr}",
        script.display()
    );
    PythonRun {
        report: serde_json::from_slice(&output.stdout).expect("the sender's JSON report"),
        stderr,
    }
}

/// Reads a file exporter's JSON-lines output (missing file → nothing). A last line without
/// its newline is one the exporter is still writing: it is left for the next read.
pub fn read_json_lines(path: &Path) -> Vec<serde_json::Value> {
    let Ok(mut text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.truncate(text.rfind('\n').map_or(0, |end| end + 1));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
pub fn eventually<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------- OTLP backends and load
//
// Used by the persistent queue and exporter isolation tests: an OTLP/gRPC backend that can
// be healthy, refuse, flap, hang or be down; a backend that never answers; uniquely named
// spans; seeded randomness; the resident memory of a process.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tributary::pdata::proto::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use tributary::pdata::proto::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tributary::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

/// A small deterministic random generator (SplitMix64), so a failing run can be replayed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A duration between `low` and `high` milliseconds.
    pub fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.below(high - low + 1))
    }
}

/// The seed in the environment variable `var`, or a new one; printed so a run can be
/// replayed with `var=<seed>`.
pub fn seed_from_env(var: &str) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
                ^ u64::from(std::process::id())
        });
    println!("{var}={seed}");
    seed
}

/// The name of span number `id`.
pub fn span_name(id: u64) -> String {
    format!("span-{id}")
}

/// The number in a span name made by [`span_name`].
pub fn span_number(name: &str) -> Option<u64> {
    name.strip_prefix("span-")?.parse().ok()
}

/// One request with a span per id, named by [`span_name`]; each span carries `padding`
/// bytes of attribute value, to make requests as large as a test needs.
pub fn spans_request(
    ids: impl IntoIterator<Item = u64>,
    padding: usize,
) -> ExportTraceServiceRequest {
    let pad = "x".repeat(padding);
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: ids
                    .into_iter()
                    .map(|id| Span {
                        name: span_name(id),
                        trace_id: [id.to_le_bytes(), [7; 8]].concat(),
                        span_id: id.to_be_bytes().to_vec(),
                        attributes: if padding == 0 {
                            Vec::new()
                        } else {
                            vec![KeyValue {
                                key: "padding".into(),
                                value: Some(AnyValue {
                                    value: Some(any_value::Value::StringValue(pad.clone())),
                                }),
                                ..Default::default()
                            }]
                        },
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// The names of every span in a request.
pub fn span_names(request: &ExportTraceServiceRequest) -> impl Iterator<Item = &str> {
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.name.as_str())
}

/// How an [`OtlpBackend`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum BackendMode {
    /// Accepts and records everything.
    Healthy = 0,
    /// Answers every export with `UNAVAILABLE`, recording nothing.
    Refusing = 1,
    /// Per request, at random: accepts; refuses with `UNAVAILABLE`; or records the data
    /// and still answers `UNAVAILABLE` (an answer lost: the sender will send it again).
    Flapping = 2,
    /// Accepts connections and requests and never answers (until the mode changes, then
    /// answers `UNAVAILABLE` without recording).
    Hanging = 3,
    /// Not listening: connections are refused.
    Down = 4,
}

impl BackendMode {
    fn from_u8(value: u8) -> BackendMode {
        match value {
            0 => BackendMode::Healthy,
            1 => BackendMode::Refusing,
            2 => BackendMode::Flapping,
            3 => BackendMode::Hanging,
            _ => BackendMode::Down,
        }
    }
}

struct BackendShared {
    mode: AtomicU8,
    rng: Mutex<Rng>,
    /// Span name → how many times it was recorded.
    received: Mutex<HashMap<String, u32>>,
    /// Spans recorded and then refused (each is likely to arrive again).
    lost_answer_spans: AtomicU64,
    /// Export calls answered, by any mode.
    requests: AtomicU64,
}

impl BackendShared {
    fn mode(&self) -> BackendMode {
        BackendMode::from_u8(self.mode.load(Ordering::SeqCst))
    }

    fn record(&self, request: &ExportTraceServiceRequest) {
        let mut received = self.received.lock().unwrap();
        for name in span_names(request) {
            *received.entry(name.to_string()).or_default() += 1;
        }
    }
}

struct BackendService(Arc<BackendShared>);

#[tonic::async_trait]
impl TraceService for BackendService {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let shared = &self.0;
        shared.requests.fetch_add(1, Ordering::Relaxed);
        let request = request.into_inner();
        let ok = || Ok(tonic::Response::new(ExportTraceServiceResponse::default()));
        let refuse = || Err(tonic::Status::unavailable("the test backend refuses"));
        let mut hung = false;
        loop {
            let mode = shared.mode();
            if hung && mode != BackendMode::Hanging {
                // What hung is never recorded: its sender may be gone by now.
                return refuse();
            }
            match mode {
                BackendMode::Healthy => {
                    shared.record(&request);
                    return ok();
                }
                BackendMode::Refusing | BackendMode::Down => return refuse(),
                BackendMode::Flapping => {
                    let fate = shared.rng.lock().unwrap().below(8);
                    return match fate {
                        0..=3 => {
                            shared.record(&request);
                            ok()
                        }
                        4 | 5 => refuse(),
                        _ => {
                            shared.record(&request);
                            shared
                                .lost_answer_spans
                                .fetch_add(span_names(&request).count() as u64, Ordering::SeqCst);
                            refuse()
                        }
                    };
                }
                BackendMode::Hanging => {
                    hung = true;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

struct RunningServer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

/// An OTLP/gRPC trace backend on 127.0.0.1 that records span names, in a mode the test
/// switches at will. Going [`Down`](BackendMode::Down) stops the server (connections are
/// closed, the port refuses); leaving it listens again on the same address.
pub struct OtlpBackend {
    pub addr: SocketAddr,
    shared: Arc<BackendShared>,
    server: Mutex<Option<RunningServer>>,
    /// While down: the address, bound but not listening, so connections are refused and
    /// no one else (a `free_port` of another component) can take the port meanwhile.
    reserved: Mutex<Option<tokio::net::TcpSocket>>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// Binds `addr` (port 0: any) without listening.
fn reserve(addr: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

impl OtlpBackend {
    /// Starts a backend in `mode`; `seed` drives the flapping mode's choices.
    pub fn start(mode: BackendMode, seed: u64) -> OtlpBackend {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("backend runtime");
        let socket = reserve("127.0.0.1:0".parse().unwrap()).expect("bind the backend");
        let addr = socket.local_addr().expect("backend address");
        let shared = Arc::new(BackendShared {
            mode: AtomicU8::new(mode as u8),
            rng: Mutex::new(Rng::new(seed)),
            received: Mutex::new(HashMap::new()),
            lost_answer_spans: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        });
        let backend = OtlpBackend {
            addr,
            shared,
            server: Mutex::new(None),
            reserved: Mutex::new(Some(socket)),
            runtime: Some(runtime),
        };
        if mode != BackendMode::Down {
            backend.listen();
        }
        backend
    }

    /// The `endpoint` an `otlp` exporter uses to reach this backend.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("backend runtime")
    }

    /// Listens on the reserved address (binding it again if needed) and serves.
    fn listen(&self) {
        let reserved = self.reserved.lock().unwrap().take();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut socket = reserved.map(Ok).unwrap_or_else(|| reserve(self.addr));
        let listener = loop {
            let _entered = self.runtime().enter();
            match socket.and_then(|s| s.listen(1024)) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("backend: cannot listen on {} yet: {e}", self.addr);
                    std::thread::sleep(Duration::from_millis(100));
                    socket = reserve(self.addr);
                }
                Err(e) => panic!("backend: cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        use tonic::codec::CompressionEncoding::{Gzip, Zstd};
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let service = TraceServiceServer::new(BackendService(Arc::clone(&self.shared)))
            .accept_compressed(Gzip)
            .accept_compressed(Zstd)
            .max_decoding_message_size(256 << 20);
        let task = self.runtime().spawn(async move {
            let incoming = tonic::transport::server::TcpIncoming::from(listener);
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
        });
        *self.server.lock().unwrap() = Some(RunningServer { stop, task });
    }

    /// Switches how the backend answers from now on.
    pub fn set_mode(&self, mode: BackendMode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
        let mut server = self.server.lock().unwrap();
        match (mode, server.is_some()) {
            (BackendMode::Down, true) => {
                let running = server.take().expect("checked");
                let _ = running.stop.send(());
                let mut task = running.task;
                let finished = self.runtime().block_on(async {
                    tokio::time::timeout(Duration::from_secs(10), &mut task)
                        .await
                        .is_ok()
                });
                if !finished {
                    task.abort();
                }
                // Hold the port again at once (the server dropped its listener).
                *self.reserved.lock().unwrap() = reserve(self.addr).ok();
            }
            (BackendMode::Down, false) | (_, true) => {}
            (_, false) => {
                drop(server);
                self.listen();
            }
        }
    }

    /// How many times each span name arrived.
    pub fn received(&self) -> HashMap<String, u32> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Runs `f` on the received counts without copying them.
    pub fn with_received<R>(&self, f: impl FnOnce(&HashMap<String, u32>) -> R) -> R {
        f(&self.shared.received.lock().unwrap())
    }

    /// Spans recorded and then answered with an error (in the flapping mode).
    pub fn lost_answer_spans(&self) -> u64 {
        self.shared.lost_answer_spans.load(Ordering::SeqCst)
    }

    /// Export calls answered so far.
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }
}

impl Drop for OtlpBackend {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A TCP server that accepts connections, reads whatever is sent and never answers.
pub fn black_hole() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

/// A process's resident memory (VmRSS), in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Waits until `process` accepts TCP connections on `addr`; panics with its output if it
/// exits first or does not within `timeout`.
pub fn wait_serving(process: &mut Proc, addr: SocketAddr, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            process.is_running(),
            "{} exited before listening on {addr}:\n{}",
            process.name,
            process.output()
        );
        assert!(
            Instant::now() < deadline,
            "{} does not listen on {addr} after {timeout:?}:\n{}",
            process.name,
            process.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A blocking OTLP/gRPC trace client with its own runtime.
pub struct OtlpClient {
    runtime: tokio::runtime::Runtime,
    client: tributary::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient<
        tonic::transport::Channel,
    >,
}

impl OtlpClient {
    /// A client of the OTLP/gRPC receiver at `addr` (connects on first use; each request
    /// times out after 60 s).
    pub fn new(addr: SocketAddr) -> OtlpClient {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("client runtime");
        let channel = {
            let _entered = runtime.enter();
            tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
                .expect("endpoint")
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(60))
                .connect_lazy()
        };
        let client =
            tributary::pdata::proto::collector::trace::v1::trace_service_client::TraceServiceClient::new(channel)
                .max_decoding_message_size(64 << 20);
        OtlpClient { runtime, client }
    }

    /// Sends one request; `Ok` when the receiver accepted it.
    pub fn export(&mut self, request: ExportTraceServiceRequest) -> Result<(), tonic::Status> {
        self.runtime
            .block_on(self.client.export(request))
            .map(|_| ())
    }
}

/// Replaces a file's content the way editors save: writes a temporary file beside it, then
/// renames it over the original, so a watcher never reads a half-written file.
pub fn replace_file(path: &Path, text: &str) {
    let name = path.file_name().expect("a file name").to_string_lossy();
    let temp = path.with_file_name(format!(".{name}.swp"));
    std::fs::write(&temp, text).unwrap_or_else(|e| panic!("write {}: {e}", temp.display()));
    std::fs::rename(&temp, path).unwrap_or_else(|e| panic!("rename over {}: {e}", path.display()));
}

/// An OTLP trace export request with one span per name.
pub fn traces_request<I, S>(
    names: I,
) -> tributary::pdata::proto::collector::trace::v1::ExportTraceServiceRequest
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    use tributary::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};
    tributary::pdata::proto::collector::trace::v1::ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: names
                    .into_iter()
                    .map(|name| Span {
                        name: name.into(),
                        trace_id: vec![3; 16],
                        span_id: vec![4; 8],
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// How many times each span name occurs in a file exporter's JSON-lines output.
pub fn span_name_counts(path: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for line in read_json_lines(path) {
        for rs in line["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for span in ss["spans"].as_array().into_iter().flatten() {
                    let name = span["name"].as_str().unwrap_or_default().to_string();
                    *counts.entry(name).or_default() += 1;
                }
            }
        }
    }
    counts
}

/// `127.0.0.1` and a port free right now.
pub fn free_address() -> std::net::SocketAddr {
    format!("127.0.0.1:{}", free_port()).parse().unwrap()
}

/// Writes `text` to `dir/name`; returns the path.
pub fn write_config_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// The gateway example running `config`.
pub fn spawn_gateway(config: &Path) -> Proc {
    Proc::spawn(
        &example("gateway"),
        &["--config", config.to_str().unwrap()],
        &[],
    )
}

/// Waits until `gateway` listens on `addr`; panics with its output if it exits first or
/// does not listen within a minute.
pub fn wait_gateway(gateway: &mut Proc, addr: std::net::SocketAddr) {
    eventually(
        &format!("a gateway listening on {addr}"),
        Duration::from_secs(60),
        || {
            assert!(
                gateway.is_running(),
                "the gateway exited:\n{}",
                gateway.output()
            );
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200))
                .is_ok()
                .then_some(())
        },
    );
}

/// POSTs a JSON `body` to `path` until the answer is 200 (a minute at most).
pub fn post_json_until_ok(addr: std::net::SocketAddr, path: &str, body: &str) {
    eventually(&format!("{path} accepted"), Duration::from_secs(60), || {
        let response = http(
            "POST",
            addr,
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        (response.status == 200).then_some(())
    });
}

/// Sends `requests` OTLP/gRPC requests of 10 spans each (names [`span_name`] of 0, 1, …)
/// to `grpc` on a thread, each until it is accepted (two minutes at most), `pause` apart.
/// Returns the names acknowledged so far and the flag set when all were.
pub fn produce_spans(
    grpc: std::net::SocketAddr,
    requests: u64,
    pause: Duration,
) -> (
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let (names, finished) = (Arc::clone(&acknowledged), Arc::clone(&done));
    std::thread::spawn(move || {
        let mut client = OtlpClient::new(grpc);
        for r in 0..requests {
            let ids = r * 10..r * 10 + 10;
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while client.export(spans_request(ids.clone(), 64)).is_err() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "request {r} never accepted"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            names.lock().unwrap().extend(ids.map(span_name));
            std::thread::sleep(pause);
        }
        finished.store(true, Ordering::SeqCst);
    });
    (acknowledged, done)
}
