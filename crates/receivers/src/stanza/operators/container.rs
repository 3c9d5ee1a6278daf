//! `container`: Docker json-file, CRI-O and containerd log lines, with partial lines
//! recombined and `k8s.*` resource attributes taken from the file path.

use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use super::super::config::OperatorConfig;
use super::super::entry::{Entry, Origin};
use super::super::expr::Expr;
use super::super::field::Field;
use super::super::pipeline::{Common, Emitted, Operator};
use super::super::value::{Map, Value};
use super::recombine::{Recombine, RecombineSettings};

/// `time stream logtag log` with an offset (`+00:00`), as CRI-O writes.
static CRIO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<time>[^ Z]+) (?P<stream>stdout|stderr) (?P<logtag>[^ ]*) ?(?P<log>.*)$")
        .expect("a valid pattern")
});
/// The same in UTC with a `Z`, as containerd writes.
static CONTAINERD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<time>[^ ^Z]+Z) (?P<stream>stdout|stderr) (?P<logtag>[^ ]*) ?(?P<log>.*)$")
        .expect("a valid pattern")
});
/// `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log`.
static POD_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^.*/(?P<namespace>[^_]+)_(?P<pod_name>[^_]+)_(?P<uid>[a-f0-9\-]+)/(?P<container_name>[^._]+)/(?P<restart_count>\d+)\.log$",
    )
    .expect("a valid pattern")
});

/// A container runtime's log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerFormat {
    /// Docker's json-file driver: `{"log":"…\n","stream":"stdout","time":"…"}`.
    Docker,
    /// CRI-O: `2024-04-13T07:59:37.505201169-05:00 stdout F message`.
    Crio,
    /// containerd: `2023-06-22T10:27:25.813799277Z stdout F message`.
    Containerd,
}

/// One parsed container log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerLine {
    /// The format it was read in.
    pub format: ContainerFormat,
    /// When the runtime wrote it, Unix ns.
    pub timestamp: i64,
    /// `stdout` or `stderr` (empty when Docker gave none).
    pub stream: String,
    /// Whether more of the same line follows (CRI `P`, Docker without a trailing newline).
    pub partial: bool,
    /// The CRI log tag (`F`, `P`); empty for Docker.
    pub logtag: String,
    /// The text.
    pub log: String,
}

fn rfc3339(text: &str) -> Result<i64, String> {
    let timestamp: jiff::Timestamp = text
        .parse()
        .map_err(|e| format!("invalid time `{text}`: {e}"))?;
    i64::try_from(timestamp.as_nanosecond()).map_err(|e| e.to_string())
}

/// Detects the format of `line` (as Go: `{` is Docker, then the CRI-O and containerd
/// patterns).
pub fn detect_container_format(line: &str) -> Result<ContainerFormat, String> {
    if line.starts_with('{') {
        Ok(ContainerFormat::Docker)
    } else if CRIO.is_match(line) {
        Ok(ContainerFormat::Crio)
    } else if CONTAINERD.is_match(line) {
        Ok(ContainerFormat::Containerd)
    } else {
        Err("entry cannot be parsed as container logs".into())
    }
}

/// Parses one line of a container log in `format` (detected when `None`).
pub fn parse_container_line(
    line: &str,
    format: Option<ContainerFormat>,
) -> Result<ContainerLine, String> {
    let format = match format {
        Some(format) => format,
        None => detect_container_format(line)?,
    };
    match format {
        ContainerFormat::Docker => {
            #[derive(serde::Deserialize)]
            struct DockerLog {
                #[serde(default)]
                log: String,
                #[serde(default)]
                stream: String,
                #[serde(default)]
                time: String,
            }
            let parsed: DockerLog =
                serde_json::from_str(line).map_err(|e| format!("Docker JSON parse: {e}"))?;
            if parsed.time.is_empty() {
                // Docker always writes `time`: without it this is an application's JSON.
                return Err("Docker JSON parse: missing required 'time' field".into());
            }
            let partial = !parsed.log.ends_with('\n');
            let log = parsed
                .log
                .strip_suffix('\n')
                .unwrap_or(&parsed.log)
                .to_string();
            Ok(ContainerLine {
                format,
                timestamp: rfc3339(&parsed.time)?,
                stream: parsed.stream,
                partial,
                logtag: String::new(),
                log,
            })
        }
        ContainerFormat::Crio | ContainerFormat::Containerd => {
            let regex = if format == ContainerFormat::Crio {
                &*CRIO
            } else {
                &*CONTAINERD
            };
            let captures = regex
                .captures(line)
                .ok_or_else(|| format!("the line does not match the {format:?} format"))?;
            let field = |name: &str| captures.name(name).map_or("", |m| m.as_str());
            Ok(ContainerLine {
                format,
                timestamp: rfc3339(field("time"))?,
                stream: field("stream").to_string(),
                partial: field("logtag") == "P",
                logtag: field("logtag").to_string(),
                log: field("log").to_string(),
            })
        }
    }
}

/// The `k8s.*` resource attributes a pod log path names.
pub fn k8s_metadata_from_path(path: &str) -> Option<Map> {
    let captures = POD_PATH.captures(path)?;
    let get = |name: &str| Value::String(captures[name].to_string());
    Some(Map::from([
        ("k8s.namespace.name".to_string(), get("namespace")),
        ("k8s.pod.name".to_string(), get("pod_name")),
        ("k8s.pod.uid".to_string(), get("uid")),
        ("k8s.container.name".to_string(), get("container_name")),
        (
            "k8s.container.restart_count".to_string(),
            get("restart_count"),
        ),
    ]))
}

/// The `container` operator.
pub(crate) struct Container {
    common: Common,
    format: Option<ContainerFormat>,
    parse_from: Field,
    add_metadata: bool,
    /// Joins partial lines per file; entries marked partial wait for their last part.
    recombine: Recombine,
    severity: Option<super::helpers::SeverityParser>,
}

/// The attribute that marks an entry as a partial line inside the operator.
const PARTIAL: &str = "tributary.container.partial";
/// The attribute that names an entry's source inside the operator: its file and stream,
/// since a runtime interleaves the parts of a long stdout line with stderr lines.
const SOURCE: &str = "tributary.container.source";

impl Container {
    pub(crate) fn new(common: Common, config: &OperatorConfig) -> Result<Self, String> {
        let format = match config.format.as_deref() {
            None | Some("") => None,
            Some("docker") => Some(ContainerFormat::Docker),
            Some("crio") => Some(ContainerFormat::Crio),
            Some("containerd") => Some(ContainerFormat::Containerd),
            Some(other) => {
                return Err(format!(
                    "invalid format `{other}`; use docker, crio or containerd"
                ));
            }
        };
        if let Some(parse_to) = &config.parse_to
            && *parse_to != Field::attributes()
        {
            return Err("container: `parse_to` can only be `attributes`".into());
        }
        let severity = config
            .severity
            .as_ref()
            .map(|block| {
                if block.parse_from.is_none() {
                    return Err("severity: missing required key `parse_from`".to_string());
                }
                super::helpers::SeverityParser::new(block).map_err(|e| format!("severity: {e}"))
            })
            .transpose()?;
        let settings = RecombineSettings {
            combine_field: Field::body(),
            combine_with: String::new(),
            // Bounds what one source holds even with `max_log_size: 0`.
            max_batch_size: 1000,
            max_unmatched_batch_size: 0,
            // Go's default: 1MiB.
            max_log_size: config.max_log_size.unwrap_or(1024 * 1024),
            max_sources: 1000,
            source_identifier: Field::attribute(SOURCE),
            force_flush_period: Duration::from_secs(5),
            overwrite_with_oldest: false,
        };
        let last = Expr::parse(&format!("attributes[\"{PARTIAL}\"] == false"))
            .map_err(|e| e.to_string())?;
        let inner = Common {
            id: common.id.clone(),
            condition: None,
            on_error: common.on_error,
        };
        Ok(Container {
            common,
            format,
            parse_from: config.parse_from.clone().unwrap_or_else(Field::body),
            add_metadata: config.add_metadata_from_filepath.unwrap_or(true),
            recombine: Recombine::with(inner, false, last, settings),
            severity,
        })
    }

    fn parse(&self, entry: &mut Entry) -> Result<(), String> {
        let line = match self.parse_from.get(entry) {
            Some(Value::String(line)) => line.clone(),
            Some(_) => {
                return Err("type is not a string; cannot parse it as a container log".into());
            }
            None => {
                return Err(format!(
                    "entry is missing the expected parse_from field `{}`",
                    self.parse_from
                ));
            }
        };
        let parsed = parse_container_line(&line, self.format)?;
        if self.add_metadata {
            let path = match entry.attributes.get("log.file.path") {
                Some(Value::String(path)) => path.clone(),
                _ => {
                    return Err(
                        "add_metadata_from_filepath needs the `log.file.path` attribute (include_file_path: true)"
                            .into(),
                    );
                }
            };
            let metadata = k8s_metadata_from_path(&path)
                .ok_or_else(|| format!("failed to detect a valid pod log path in `{path}`"))?;
            entry.resource.extend(metadata);
        }
        let path = match entry.attributes.get("log.file.path") {
            Some(Value::String(path)) => path.as_str(),
            _ => "",
        };
        let source = format!("{path}\n{}", parsed.stream);
        entry
            .attributes
            .insert(SOURCE.into(), Value::String(source));
        entry.timestamp = parsed.timestamp;
        entry.body = Value::String(parsed.log);
        if !parsed.stream.is_empty() {
            entry
                .attributes
                .insert("log.iostream".into(), Value::String(parsed.stream));
        }
        if parsed.format != ContainerFormat::Docker {
            entry
                .attributes
                .insert("logtag".into(), Value::String(parsed.logtag));
        }
        entry
            .attributes
            .insert(PARTIAL.into(), Value::Bool(parsed.partial));
        Ok(())
    }

    fn finish(&self, emitted: Emitted, out: &mut Emitted) {
        for (_, mut entry) in emitted {
            entry.attributes.remove(PARTIAL);
            entry.attributes.remove(SOURCE);
            if let Some(severity) = &self.severity
                && let Err(error) = severity.apply(&mut entry)
            {
                self.common
                    .failed(entry, &format!("severity parser: {error}"), out);
                continue;
            }
            out.push((0, entry));
        }
    }
}

impl Operator for Container {
    fn process(&mut self, mut entry: Entry, out: &mut Emitted) {
        if !self.common.applies(&entry) {
            out.push((0, entry));
            return;
        }
        let original = entry.clone();
        if let Err(error) = self.parse(&mut entry) {
            self.common.failed(original, &error, out);
            return;
        }
        let mut emitted = Vec::new();
        self.recombine.process(entry, &mut emitted);
        self.finish(emitted, out);
    }

    fn held(&self, origins: &mut Vec<Origin>) {
        self.recombine.held(origins);
    }

    fn flush(&mut self, now: i64, out: &mut Emitted) {
        let mut emitted = Vec::new();
        self.recombine.flush(now, &mut emitted);
        self.finish(emitted, out);
    }
}
