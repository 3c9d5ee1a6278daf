//! JSON-RPC 1.0 as Go's `net/rpc/jsonrpc` speaks it over raw TCP: a stream of JSON objects
//! (the Go encoder ends each with a newline; the decoder needs nothing between them),
//! requests `{"method":"Service.Method","params":[arg],"id":N}` and responses
//! `{"id":N,"result":R,"error":null}` or `{"id":N,"result":null,"error":"message"}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// Why a stream cannot be read further: the connection is closed, as Go's server does.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A value is larger than the limit.
    #[error("a JSON-RPC message exceeds {0} bytes")]
    TooLarge(usize),
    /// The stream holds something other than a JSON object.
    #[error("not a JSON-RPC message: expected '{{', found {0:?}")]
    NotAnObject(char),
    /// A closing bracket that does not match the one opened (`{]`).
    #[error("not a JSON-RPC message: {0:?} closes a bracket it did not open")]
    Unbalanced(char),
}

/// Splits a byte stream into whole top-level JSON objects, without decoding them: it tracks
/// nesting, strings and escapes, so a message can be cut wherever the reads fall.
///
/// ```
/// use tributary_translator_falcon::FrameSplitter;
///
/// let mut frames = FrameSplitter::new(1024);
/// frames.extend(b"{\"id\":1,\"params\":[\"}\"]}\n{\"id\"");
/// assert_eq!(frames.next_frame().unwrap().as_deref(), Some(&b"{\"id\":1,\"params\":[\"}\"]}"[..]));
/// assert_eq!(frames.next_frame().unwrap(), None);
/// frames.extend(b":2}");
/// assert_eq!(frames.next_frame().unwrap().as_deref(), Some(&b"{\"id\":2}"[..]));
/// ```
#[derive(Debug)]
pub struct FrameSplitter {
    buffer: Vec<u8>,
    /// Where scanning resumes in `buffer`.
    scanned: usize,
    /// Where the current object starts, once its `{` was seen.
    start: Option<usize>,
    /// The closing brackets the open ones need, innermost last.
    closers: Vec<u8>,
    in_string: bool,
    escaped: bool,
    limit: usize,
}

impl FrameSplitter {
    /// A splitter that refuses objects larger than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        FrameSplitter {
            buffer: Vec::new(),
            scanned: 0,
            start: None,
            closers: Vec::new(),
            in_string: false,
            escaped: false,
            limit,
        }
    }

    /// Appends bytes read from the stream.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Whether bytes of an unfinished message are held (other than whitespace).
    pub fn has_partial(&self) -> bool {
        self.buffer[self.scanned.min(self.buffer.len())..]
            .iter()
            .any(|b| !b.is_ascii_whitespace())
            || self.start.is_some()
    }

    /// The next whole object, if the bytes so far hold one; an error when the stream can
    /// no longer be read (the caller closes the connection).
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        while self.scanned < self.buffer.len() {
            let byte = self.buffer[self.scanned];
            let at = self.scanned;
            self.scanned += 1;
            let Some(start) = self.start else {
                match byte {
                    b if b.is_ascii_whitespace() => continue,
                    b'{' => {
                        self.start = Some(at);
                        self.closers.clear();
                        self.closers.push(b'}');
                        continue;
                    }
                    other => return Err(FrameError::NotAnObject(other as char)),
                }
            };
            if self.in_string {
                match byte {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
            } else {
                match byte {
                    b'"' => self.in_string = true,
                    b'{' => self.closers.push(b'}'),
                    b'[' => self.closers.push(b']'),
                    b'}' | b']' => {
                        if self.closers.pop() != Some(byte) {
                            return Err(FrameError::Unbalanced(byte as char));
                        }
                        if self.closers.is_empty() {
                            let frame = self.buffer[start..self.scanned].to_vec();
                            self.buffer.drain(..self.scanned);
                            self.scanned = 0;
                            self.start = None;
                            return Ok(Some(frame));
                        }
                    }
                    _ => {}
                }
            }
            if self.scanned - start > self.limit {
                return Err(FrameError::TooLarge(self.limit));
            }
        }
        // Only whitespace before an object: nothing to keep.
        if self.start.is_none() {
            self.buffer.clear();
            self.scanned = 0;
        }
        Ok(None)
    }
}

/// A request as the server reads it; `params` stays raw until the method is known.
#[derive(Debug, Deserialize)]
pub struct Request {
    /// `Service.Method`.
    #[serde(default)]
    pub method: String,
    /// The arguments: a one-element array in Go's codec.
    #[serde(default)]
    pub params: Option<Box<RawValue>>,
    /// Echoed in the response as it was written.
    #[serde(default)]
    pub id: Option<Box<RawValue>>,
}

impl Request {
    /// The single argument Go's codec expects (`params[0]`); an error text as Go's server
    /// answers it otherwise.
    pub fn argument(&self) -> Result<Value, String> {
        let Some(params) = &self.params else {
            return Err("jsonrpc: request body missing params".into());
        };
        let params: Vec<Value> =
            serde_json::from_str(params.get()).map_err(|e| format!("json: {e}"))?;
        match <[Value; 1]>::try_from(params) {
            Ok([argument]) => Ok(argument),
            Err(_) => {
                Err("json: cannot unmarshal array into Go value of type [1]interface {}".into())
            }
        }
    }
}

/// Decodes a frame (from [`FrameSplitter`]) as a request; an error when it is not one
/// (Go's server then closes the connection).
pub fn parse_request(frame: &[u8]) -> Result<Request, serde_json::Error> {
    serde_json::from_slice(frame)
}

/// Writes a response: `result` on success, the error message otherwise; `id` echoed.
pub fn response(id: Option<&RawValue>, outcome: Result<Value, String>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Response<'a> {
        id: Option<&'a RawValue>,
        result: Value,
        error: Option<String>,
    }
    let (result, error) = match outcome {
        Ok(result) => (result, None),
        Err(message) => (Value::Null, Some(message)),
    };
    let mut bytes = serde_json::to_vec(&Response { id, result, error }).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Writes a request, as Go's client does: `params` is `[argument]`.
pub fn request<T: Serialize>(
    method: &str,
    argument: &T,
    id: u64,
) -> Result<Vec<u8>, serde_json::Error> {
    #[derive(Serialize)]
    struct Request<'a, T> {
        method: &'a str,
        params: [&'a T; 1],
        id: u64,
    }
    let mut bytes = serde_json::to_vec(&Request {
        method,
        params: [argument],
        id,
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A response as a client reads it.
#[derive(Debug, Deserialize)]
pub struct Response {
    /// The request's ID.
    #[serde(default)]
    pub id: Value,
    /// The result, when no error.
    #[serde(default)]
    pub result: Value,
    /// The error message, if the call failed.
    #[serde(default)]
    pub error: Value,
}

impl Response {
    /// The result, or the error message as text.
    pub fn into_result(self) -> Result<Value, String> {
        match self.error {
            Value::Null => Ok(self.result),
            Value::String(message) => Err(message),
            other => Err(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn non_objects_and_oversized_frames_are_refused() {
        let mut frames = FrameSplitter::new(8);
        frames.extend(b"  [1]");
        assert_eq!(frames.next_frame(), Err(FrameError::NotAnObject('[')));
        let mut frames = FrameSplitter::new(8);
        frames.extend(b"{\"aaaaaaaaaaaa\":1}");
        assert_eq!(frames.next_frame(), Err(FrameError::TooLarge(8)));
        // Found by the falcon_jsonrpc fuzz target: a `]` used to close the `{`.
        let mut frames = FrameSplitter::new(8);
        frames.extend(b"{]{");
        assert_eq!(frames.next_frame(), Err(FrameError::Unbalanced(']')));
        let mut frames = FrameSplitter::new(64);
        frames.extend(b"{\"a\":[{}]}");
        assert_eq!(frames.next_frame(), Ok(Some(b"{\"a\":[{}]}".to_vec())));
    }

    #[test]
    fn arguments_and_responses_have_go_shapes() {
        let request: Request =
            serde_json::from_str(r#"{"method":"Transfer.Update","params":[[1]],"id":7}"#).unwrap();
        assert_eq!(request.argument().unwrap(), serde_json::json!([1]));
        let id = request.id.as_deref();
        assert_eq!(
            response(id, Ok(serde_json::json!({"code":0}))),
            b"{\"id\":7,\"result\":{\"code\":0},\"error\":null}\n"
        );
        assert_eq!(
            response(id, Err("boom".into())),
            b"{\"id\":7,\"result\":null,\"error\":\"boom\"}\n"
        );
        let missing: Request =
            serde_json::from_str(r#"{"method":"Transfer.Ping","id":1}"#).unwrap();
        assert!(missing.argument().is_err());
    }

    proptest! {
        #[test]
        fn any_split_of_a_stream_gives_the_same_frames(cut in 0usize..60, values in proptest::collection::vec("[a-z{}\\[\\]\"\\\\ ]{0,6}", 1..4)) {
            let mut stream = Vec::new();
            let mut expected = Vec::new();
            for value in &values {
                let frame = serde_json::to_vec(&serde_json::json!({"method": value, "params": [[value]]})).unwrap();
                stream.extend_from_slice(&frame);
                stream.push(b'\n');
                expected.push(frame);
            }
            let cut = cut.min(stream.len());
            let mut frames = FrameSplitter::new(1 << 20);
            let mut got = Vec::new();
            for part in [&stream[..cut], &stream[cut..]] {
                frames.extend(part);
                while let Some(frame) = frames.next_frame().unwrap() {
                    got.push(frame);
                }
            }
            prop_assert_eq!(got, expected);
        }
    }
}
