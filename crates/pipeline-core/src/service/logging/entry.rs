//! One log entry and its two encodings, zap's `console` and `json`.

use std::time::SystemTime;

use serde_json::{Map, Value};

/// A log entry as the outputs see it.
pub(crate) struct Entry<'a> {
    pub time: SystemTime,
    /// zap's level name: `debug`, `info`, `warn`, `error`.
    pub level: &'static str,
    /// `file:line`, unless `disable_caller`.
    pub caller: Option<String>,
    pub message: &'a str,
    /// Initial fields, then the fields of the enclosing spans, then the entry's own.
    pub fields: &'a [(String, Value)],
    pub stacktrace: Option<String>,
}

fn timestamp(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

impl Entry<'_> {
    /// zap's console encoding: time, level, caller and message separated by tabs, then the
    /// fields as one JSON object, then the stack trace on the following lines.
    pub(crate) fn console(&self) -> String {
        let mut line = format!("{}\t{}", timestamp(self.time), self.level);
        if let Some(caller) = &self.caller {
            line.push('\t');
            line.push_str(caller);
        }
        line.push('\t');
        line.push_str(self.message);
        if !self.fields.is_empty() {
            let fields: Map<String, Value> = self.fields.iter().cloned().collect();
            line.push('\t');
            line.push_str(&Value::Object(fields).to_string());
        }
        if let Some(trace) = &self.stacktrace {
            line.push('\n');
            line.push_str(trace.trim_end());
        }
        line.push('\n');
        line
    }

    /// zap's JSON encoding: `level`, `ts`, `caller`, `msg`, the fields, `stacktrace`.
    pub(crate) fn json(&self) -> String {
        let mut object = Map::new();
        object.insert("level".into(), self.level.into());
        object.insert("ts".into(), timestamp(self.time).into());
        if let Some(caller) = &self.caller {
            object.insert("caller".into(), caller.clone().into());
        }
        object.insert("msg".into(), self.message.into());
        for (key, value) in self.fields {
            object.insert(key.clone(), value.clone());
        }
        if let Some(trace) = &self.stacktrace {
            object.insert("stacktrace".into(), trace.clone().into());
        }
        let mut line = Value::Object(object).to_string();
        line.push('\n');
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(fields: &[(String, Value)]) -> Entry<'_> {
        Entry {
            time: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_500),
            level: "info",
            caller: Some("service/collector.rs:12".into()),
            message: "Everything is ready.",
            fields,
            stacktrace: None,
        }
    }

    #[test]
    fn console_is_tab_separated_with_json_fields() {
        let fields = [("region".to_string(), Value::from("eu-1"))];
        assert_eq!(
            entry(&fields).console(),
            "1970-01-01T00:00:01.500Z\tinfo\tservice/collector.rs:12\tEverything is ready.\t{\"region\":\"eu-1\"}\n"
        );
    }

    #[test]
    fn json_has_zaps_keys() {
        let fields = [("n".to_string(), Value::from(3))];
        let line = entry(&fields).json();
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["level"], "info");
        assert_eq!(parsed["ts"], "1970-01-01T00:00:01.500Z");
        assert_eq!(parsed["caller"], "service/collector.rs:12");
        assert_eq!(parsed["msg"], "Everything is ready.");
        assert_eq!(parsed["n"], 3);
    }
}
