//! The pipeline, fields, config decoding and the operators, with cases from the upstream
//! operator docs (`pkg/stanza/docs/operators/*.md`). Helpers here; tests by concern.

use serde::Deserialize;
use tributary_confmap::Conf;

use super::*;

mod multiline;
mod parsers;
mod pipeline;
mod transformers;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Receiver {
    operators: Vec<OperatorConfig>,
}

/// Decodes an `operators:` list as a receiver would.
pub(super) fn decode(yaml: &str) -> Result<Vec<OperatorConfig>, String> {
    let conf = Conf::from_yaml(yaml).map_err(|e| e.to_string())?;
    conf.decode::<Receiver>()
        .map(|r| r.operators)
        .map_err(|e| e.to_string())
}

pub(super) fn pipeline(yaml: &str) -> Pipeline {
    Pipeline::build(&decode(yaml).unwrap()).unwrap()
}

pub(super) fn build_error(yaml: &str) -> String {
    Pipeline::build(&decode(yaml).unwrap())
        .unwrap_err()
        .to_string()
}

/// Runs one entry through and returns what comes out.
pub(super) fn run(pipeline: &mut Pipeline, entry: Entry) -> Vec<Entry> {
    let mut out = Vec::new();
    pipeline.process(entry, &mut out);
    out
}

pub(super) fn one(yaml: &str, entry: Entry) -> Entry {
    let mut out = run(&mut pipeline(yaml), entry);
    assert_eq!(out.len(), 1, "{out:?}");
    out.remove(0)
}

pub(super) fn map(pairs: &[(&str, Value)]) -> Map {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub(super) fn body_map(pairs: &[(&str, Value)]) -> Entry {
    Entry {
        body: Value::Map(map(pairs)),
        ..Entry::default()
    }
}

pub(super) fn bodies(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(|e| e.body.to_text()).collect()
}

pub(super) fn feed(p: &mut Pipeline, lines: &[&str]) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in lines {
        p.process(Entry::new(*line), &mut out);
    }
    p.flush(i64::MAX, &mut out);
    out
}

pub(super) const POD_LOG: &str = "/var/log/pods/some_kube-controller-kind-control-plane_49cc7c1fd3702c40b2686ea7486091d6/kube-controller/1.log";

/// Entries for each line of a `testdata/` file, as filelog would read them from a pod log.
pub(super) fn pod_log_entries(name: &str) -> Vec<Entry> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/stanza/testdata")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .map(|line| {
            let mut entry = Entry::new(line);
            entry
                .attributes
                .insert("log.file.path".into(), POD_LOG.into());
            entry
        })
        .collect()
}

pub(super) fn run_all(p: &mut Pipeline, entries: Vec<Entry>) -> Vec<Entry> {
    let mut out = Vec::new();
    for entry in entries {
        p.process(entry, &mut out);
    }
    p.flush(i64::MAX, &mut out);
    out
}
