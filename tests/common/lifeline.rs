//! A peer server (Prometheus, influxd, node-exporter...) that lives as long as the test
//! process, however that process ends.
//!
//! The server is started by `sh`, which holds a pipe from this process (the "lifeline").
//! When the test binary exits, even by a panic or a signal, the pipe closes, `read` returns
//! and `sh` kills the server, waits for it and deletes its directory. A `Drop` could not do
//! this: statics shared by a test binary's tests are never dropped.

use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

/// A running server tied to this process by the lifeline pipe; dropping it (or exiting)
/// stops the server.
pub struct Lifeline {
    /// The shell and the write end of its pipe (in a `Mutex` so a `static` can hold it).
    _shell: Mutex<(Child, ChildStdin)>,
}

impl Lifeline {
    /// Runs `program args...` with `dir` as its working files, its output to `dir/log`;
    /// `dir` is removed when the server stops.
    pub fn start(program: &Path, args: &[String], dir: &Path, log: &str) -> Lifeline {
        let mut child = Command::new("sh")
            .args([
                "-c",
                r#"dir="$1"; log="$2"; shift 2; "$@" >"$dir/$log" 2>&1 & server=$!; read -r _; kill $server; wait $server 2>/dev/null; rm -rf "$dir""#,
                "sh",
            ])
            .arg(dir)
            .arg(log)
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
        let stdin = child.stdin.take().expect("the lifeline pipe");
        Lifeline {
            _shell: Mutex::new((child, stdin)),
        }
    }
}
