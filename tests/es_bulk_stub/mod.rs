//! An Elasticsearch bulk server for the end-to-end tests: no Elasticsearch or OpenSearch
//! is installable from the registries here, so this implements the `_bulk` contract of
//! Elastic's API docs — NDJSON action/source pairs (`delete` without a source), `200`
//! with `errors` and one item per action in request order, whole-request `413` over a
//! size limit — with scripted failures (per-item statuses, whole-request statuses) to
//! show what a client does with them. Plain threads and HTTP/1.1 keep-alive.

// Each test uses the parts it needs.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One stored document.
#[derive(Clone, Debug)]
pub struct Stored {
    pub action: String,
    pub index: String,
    pub source: Value,
}

/// What the next bulk request is answered with.
#[derive(Clone, Debug)]
pub enum Script {
    /// `200`, items with these statuses in order (the rest `201`).
    Items(Vec<u16>),
    /// The whole request gets this status.
    Whole(u16),
}

#[derive(Default)]
struct State {
    stored: Vec<Stored>,
    requests: usize,
    script: VecDeque<Script>,
}

/// A running stub; it serves until the test process ends.
#[derive(Clone)]
pub struct BulkStub {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl BulkStub {
    pub fn start() -> BulkStub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        BulkStub { addr, state }
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Script>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    pub fn stored(&self) -> Vec<Stored> {
        self.state.lock().unwrap().stored.clone()
    }

    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().requests
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let (status, answer) = if path.split('?').next().unwrap_or("").ends_with("/_bulk") {
            bulk(&body, state)
        } else {
            (
                200,
                json!({"version": {"number": "8.14.0"}, "tagline": "You Know, for Search"}),
            )
        };
        let text = answer.to_string();
        let response = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}",
            text.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn bulk(body: &[u8], state: &Mutex<State>) -> (u16, Value) {
    let mut state = state.lock().unwrap();
    state.requests += 1;
    let text = String::from_utf8_lossy(body);
    if !text.ends_with('\n') {
        return error(
            400,
            "The bulk request must be terminated by a newline [\\n]",
        );
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let mut pairs = Vec::new();
    while let Some(line) = lines.next() {
        let Ok(Value::Object(action)) = serde_json::from_str::<Value>(line) else {
            return error(400, "Malformed action/metadata line");
        };
        let Some((name, meta)) = action.into_iter().next() else {
            return error(400, "Malformed action/metadata line");
        };
        let index = meta["_index"].as_str().unwrap_or_default().to_owned();
        let source = if name == "delete" {
            Value::Null
        } else {
            match lines.next().map(serde_json::from_str::<Value>) {
                Some(Ok(source)) => source,
                _ => return error(400, "the action has no valid source line"),
            }
        };
        pairs.push((name, index, source));
    }
    let statuses = match state.script.pop_front() {
        Some(Script::Whole(status)) => {
            return error(status, "scripted whole-request failure");
        }
        Some(Script::Items(statuses)) => statuses,
        None => Vec::new(),
    };
    let mut items = Vec::new();
    for (i, (action, index, source)) in pairs.into_iter().enumerate() {
        let status = statuses.get(i).copied().unwrap_or(201);
        let mut result = json!({"_index": index, "status": status});
        if status < 300 {
            result["result"] = "created".into();
            state.stored.push(Stored {
                action: action.clone(),
                index,
                source,
            });
        } else {
            let kind = if status == 429 {
                "es_rejected_execution_exception"
            } else {
                "mapper_parsing_exception"
            };
            result["error"] = json!({"type": kind, "reason": "scripted"});
        }
        items.push(json!({ action: result }));
    }
    let errors = statuses.iter().any(|s| *s >= 300);
    (200, json!({"took": 1, "errors": errors, "items": items}))
}

fn error(status: u16, reason: &str) -> (u16, Value) {
    (
        status,
        json!({"error": {"type": "illegal_argument_exception", "reason": reason}, "status": status}),
    )
}
