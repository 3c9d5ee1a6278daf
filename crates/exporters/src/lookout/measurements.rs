//! Flat samples as the standard protocol's measurements (the relay form of §2.8): one
//! JSON object per time, tag set and name prefix, joined by TAB.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::flat_samples::FlatSample;

/// The body: `{"time":<ms>,"tags":{..},"<prefix>":{"<last segment>":v,..}}` per group,
/// joined by TAB. A name without `.` is a top-level number. A measurement of delta sums
/// is tagged `_type_: c`, so a gateway reads its `count` back as a delta counter.
pub(crate) fn encode(samples: &[FlatSample]) -> (String, usize) {
    type Key<'a> = (i64, Vec<(&'a str, &'a str)>, bool);
    let mut groups: BTreeMap<Key<'_>, Map<String, Value>> = BTreeMap::new();
    for sample in samples {
        let mut tags: Vec<(&str, &str)> = sample
            .tags
            .iter()
            .filter(|(k, _)| k != "_type_")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        tags.sort();
        let entries = groups
            .entry((sample.time_ms, tags, sample.delta))
            .or_default();
        let Some(number) = serde_json::Number::from_f64(sample.value) else {
            continue;
        };
        match sample.name.rsplit_once('.') {
            Some((prefix, last)) if !prefix.is_empty() && !last.is_empty() => {
                let slot = entries
                    .entry(prefix.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                match slot {
                    Value::Object(inner) => {
                        inner.insert(last.to_owned(), Value::Number(number));
                    }
                    // `a` as a number and `a.b` in one measurement: `a.b` goes alone.
                    _ => {
                        entries.insert(sample.name.clone(), Value::Number(number));
                    }
                }
            }
            _ => {
                entries.insert(sample.name.clone(), Value::Number(number));
            }
        }
    }
    let count = groups.len();
    let mut body = String::new();
    for ((time_ms, tags, delta), entries) in groups {
        if !body.is_empty() {
            body.push('\t');
        }
        let mut tag_map: Map<String, Value> = tags
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        if delta {
            tag_map.insert("_type_".into(), Value::String("c".into()));
        }
        let mut object = Map::new();
        object.insert("time".into(), Value::from(time_ms));
        object.insert("tags".into(), Value::Object(tag_map));
        object.extend(entries);
        body.push_str(&Value::Object(object).to_string());
    }
    (body, count)
}
