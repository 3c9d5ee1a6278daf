//! Shared end-to-end test harness: real collector processes, ports, HTTP probes, peers.
//!
//! Every test runs the programs a user runs (`examples/gateway`, `examples/agent`, ...)
//! as child processes on 127.0.0.1 with free ports, and kills them when it ends.

#![allow(dead_code)]

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

/// The path of an example program, building it first if this test run did not.
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let path = examples_dir().join(name);
    if !path.exists() {
        BUILT.get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--examples"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build --examples");
            assert!(status.success(), "cargo build --examples failed");
        });
    }
    assert!(
        path.exists(),
        "example {name} not found at {}",
        path.display()
    );
    path
}

/// A port free right now on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
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
        let message =
            "the Python OpenTelemetry SDK is not installed; run scripts/test to install it";
        if std::env::var_os("TRIBUTARY_E2E_REQUIRED").is_some() {
            panic!("{message}");
        }
        eprintln!("skipping: {message}");
    }
    usable
}

/// Reads a file exporter's JSON-lines output (missing file → nothing).
pub fn read_json_lines(path: &Path) -> Vec<serde_json::Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
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

/// An OTLP/gRPC trace backend on 127.0.0.1: a tonic server that records the name of every
/// span it receives (gzip, zstd or uncompressed). Stops serving when dropped.
pub struct TraceBackend {
    pub addr: SocketAddr,
    spans: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Clone)]
struct RecordingTraceService(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

#[tonic::async_trait]
impl tributary::pdata::proto::collector::trace::v1::trace_service_server::TraceService
    for RecordingTraceService
{
    async fn export(
        &self,
        request: tonic::Request<
            tributary::pdata::proto::collector::trace::v1::ExportTraceServiceRequest,
        >,
    ) -> Result<
        tonic::Response<tributary::pdata::proto::collector::trace::v1::ExportTraceServiceResponse>,
        tonic::Status,
    > {
        let names = request
            .into_inner()
            .resource_spans
            .into_iter()
            .flat_map(|rs| rs.scope_spans)
            .flat_map(|ss| ss.spans)
            .map(|span| span.name);
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(names);
        Ok(tonic::Response::new(Default::default()))
    }
}

/// A port on 127.0.0.1 reserved for a trace backend that is down: the socket is bound but
/// not listening, so connections to it are refused and no other process takes the port
/// before [`start`](Self::start) brings the backend up on it.
pub struct DownBackend {
    pub port: u16,
    socket: tokio::net::TcpSocket,
}

impl DownBackend {
    /// Reserves a free port.
    pub fn reserve() -> DownBackend {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind 127.0.0.1:0");
        let port = socket.local_addr().expect("bound address").port();
        DownBackend { port, socket }
    }

    /// Brings the backend up: it listens on the reserved port from now on.
    pub fn start(self) -> TraceBackend {
        TraceBackend::serve(self.socket)
    }
}

impl TraceBackend {
    /// Starts serving on `127.0.0.1:port`; panics if the port cannot be bound.
    pub fn start(port: u16) -> TraceBackend {
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if let Err(error) = socket.bind(addr) {
            panic!("the trace backend cannot bind {addr}: {error}");
        }
        TraceBackend::serve(socket)
    }

    /// Listens on the bound `socket` and serves on a thread of its own.
    fn serve(socket: tokio::net::TcpSocket) -> TraceBackend {
        use tributary::pdata::proto::collector::trace::v1::trace_service_server::TraceServiceServer;
        let addr = socket.local_addr().expect("bound address");
        let spans = std::sync::Arc::default();
        let service = TraceServiceServer::new(RecordingTraceService(std::sync::Arc::clone(&spans)))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .accept_compressed(tonic::codec::CompressionEncoding::Zstd);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (listening, is_listening) = std::sync::mpsc::channel::<std::io::Result<()>>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = match socket.listen(1024) {
                    Ok(listener) => listener,
                    Err(error) => {
                        let _ = listening.send(Err(error));
                        return;
                    }
                };
                let _ = listening.send(Ok(()));
                let _ = tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming_shutdown(
                        tonic::transport::server::TcpIncoming::from(listener),
                        async {
                            let _ = stopped.await;
                        },
                    )
                    .await;
            });
        });
        match is_listening.recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => panic!("the trace backend cannot listen on {addr}: {error}"),
            Err(_) => panic!("the trace backend's thread ended before listening"),
        }
        TraceBackend {
            addr,
            spans,
            stop: Some(stop),
        }
    }

    /// The names of the spans received so far, in arrival order.
    pub fn span_names(&self) -> Vec<String> {
        self.spans.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for TraceBackend {
    fn drop(&mut self) {
        // The server stops gracefully on its own thread; nothing waits for it.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The path of an example program, built by `cargo build --examples` once per test process
/// first, so a test never runs a binary older than the sources (`cargo test --test NAME`
/// builds no examples itself).
pub fn current_example(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--examples"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --examples");
        assert!(status.success(), "cargo build --examples failed");
    });
    example(name)
}
