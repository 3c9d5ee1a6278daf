//! The redaction itself: which keys go, which values are masked, and the summary kept.

use std::collections::HashSet;

use hmac::{Hmac, Mac};
use md5::Md5;
use regex::Regex;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use sha3::Sha3_256;
use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value::Value};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::pdata::visit::layout::Items;
use tributary_pipeline_core::pdata::{Logs, Metrics, Payload, Traces};

use super::Config;
use tributary_pipeline_core::pdata::value_text::as_string;

/// What replaces masked text.
#[derive(Clone, Debug)]
enum Mask {
    Stars,
    Md5,
    Sha1,
    Sha3,
    HmacSha256(Vec<u8>),
    HmacSha512(Vec<u8>),
}

impl Mask {
    fn apply(&self, text: &str) -> String {
        let bytes = text.as_bytes();
        match self {
            Mask::Stars => "****".to_string(),
            Mask::Md5 => hex::encode(Md5::digest(bytes)),
            Mask::Sha1 => hex::encode(Sha1::digest(bytes)),
            Mask::Sha3 => hex::encode(Sha3_256::digest(bytes)),
            Mask::HmacSha256(key) => {
                // HMAC accepts a key of any length, so `new_from_slice` cannot fail.
                let mut mac =
                    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
                mac.update(bytes);
                hex::encode(mac.finalize().into_bytes())
            }
            Mask::HmacSha512(key) => {
                let mut mac =
                    <Hmac<Sha512> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
                mac.update(bytes);
                hex::encode(mac.finalize().into_bytes())
            }
        }
    }
}

/// Which summary attributes are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Summary {
    Silent,
    Info,
    Debug,
}

/// The summary attributes, Go's names.
const REDACTED_KEYS: &str = "redaction.redacted.keys";
const REDACTED_COUNT: &str = "redaction.redacted.count";
const MASKED_KEYS: &str = "redaction.masked.keys";
const MASKED_COUNT: &str = "redaction.masked.count";
const ALLOWED_KEYS: &str = "redaction.allowed.keys";
const ALLOWED_COUNT: &str = "redaction.allowed.count";
const IGNORED_COUNT: &str = "redaction.ignored.count";
const BODY_REDACTED_KEYS: &str = "redaction.body.redacted.keys";
const BODY_REDACTED_COUNT: &str = "redaction.body.redacted.count";
const BODY_MASKED_KEYS: &str = "redaction.body.masked.keys";
const BODY_MASKED_COUNT: &str = "redaction.body.masked.count";
const BODY_ALLOWED_KEYS: &str = "redaction.body.allowed.keys";
const BODY_ALLOWED_COUNT: &str = "redaction.body.allowed.count";
const BODY_IGNORED_COUNT: &str = "redaction.body.ignored.count";

/// The summary attributes are always allowed, so that a second redaction processor keeps
/// (and adds to) what the first wrote, as Go does.
const SUMMARY_KEYS: [&str; 14] = [
    REDACTED_KEYS,
    REDACTED_COUNT,
    MASKED_KEYS,
    MASKED_COUNT,
    ALLOWED_KEYS,
    ALLOWED_COUNT,
    IGNORED_COUNT,
    BODY_REDACTED_KEYS,
    BODY_REDACTED_COUNT,
    BODY_MASKED_KEYS,
    BODY_MASKED_COUNT,
    BODY_ALLOWED_KEYS,
    BODY_ALLOWED_COUNT,
    BODY_IGNORED_COUNT,
];

/// The keys one pass found, by what happened to them.
#[derive(Default)]
struct Outcome {
    redacted: Vec<String>,
    masked: Vec<String>,
    allowed: Vec<String>,
    ignored: Vec<String>,
}

/// A `redaction` configuration compiled: key sets, patterns and the mask.
#[derive(Clone, Debug)]
pub(crate) struct Redactor {
    allow_all_keys: bool,
    allowed_keys: HashSet<String>,
    ignored_keys: HashSet<String>,
    ignored_key_patterns: Vec<Regex>,
    redact_all_types: bool,
    blocked_key_patterns: Vec<Regex>,
    blocked_values: Vec<Regex>,
    allowed_values: Vec<Regex>,
    /// Go masks a blocked key's value by replacing every match of `.*` in it.
    whole_value: Regex,
    mask: Mask,
    summary: Summary,
}

fn compile_all(key: &str, patterns: &[String]) -> Result<Vec<Regex>, ConfigError> {
    patterns
        .iter()
        .enumerate()
        .map(|(index, pattern)| {
            Regex::new(pattern).map_err(|error| {
                ConfigError::at(
                    format!("{key}::{index}"),
                    format!("invalid regular expression {pattern:?}: {error}"),
                )
            })
        })
        .collect()
}

impl Redactor {
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        config.check_supported()?;
        let hmac_key = || {
            if config.hmac_key.is_empty() {
                Err(ConfigError::at(
                    "hmac_key",
                    format!("required with hash_function {:?}", config.hash_function),
                ))
            } else {
                Ok(config.hmac_key.as_bytes().to_vec())
            }
        };
        // Go's documented minimum key lengths: the hash's block-sized security.
        let hmac_key_of = |least: usize| {
            let key = hmac_key()?;
            if key.len() < least {
                return Err(ConfigError::at(
                    "hmac_key",
                    format!(
                        "must be at least {least} bytes for hash_function {:?}",
                        config.hash_function
                    ),
                ));
            }
            Ok(key)
        };
        let mask = match config.hash_function.to_ascii_lowercase().as_str() {
            "" => Mask::Stars,
            "md5" => Mask::Md5,
            "sha1" => Mask::Sha1,
            "sha3" => Mask::Sha3,
            "hmac-sha256" => Mask::HmacSha256(hmac_key_of(32)?),
            "hmac-sha512" => Mask::HmacSha512(hmac_key_of(64)?),
            other => {
                return Err(ConfigError::at(
                    "hash_function",
                    format!(
                        "unknown hash function {other:?}: use md5, sha1, sha3, hmac-sha256 or hmac-sha512"
                    ),
                ));
            }
        };
        let summary = match config.summary.as_str() {
            "" | "silent" => Summary::Silent,
            "info" => Summary::Info,
            "debug" => Summary::Debug,
            other => {
                return Err(ConfigError::at(
                    "summary",
                    format!("unknown summary {other:?}: use debug, info or silent"),
                ));
            }
        };
        Ok(Redactor {
            allow_all_keys: config.allow_all_keys,
            allowed_keys: config
                .allowed_keys
                .iter()
                .cloned()
                .chain(SUMMARY_KEYS.iter().map(|key| key.to_string()))
                .collect(),
            ignored_keys: config.ignored_keys.iter().cloned().collect(),
            ignored_key_patterns: compile_all(
                "ignored_key_patterns",
                &config.ignored_key_patterns,
            )?,
            redact_all_types: config.redact_all_types,
            blocked_key_patterns: compile_all(
                "blocked_key_patterns",
                &config.blocked_key_patterns,
            )?,
            blocked_values: compile_all("blocked_values", &config.blocked_values)?,
            allowed_values: compile_all("allowed_values", &config.allowed_values)?,
            whole_value: Regex::new(".*").map_err(|e| ConfigError::new(e.to_string()))?,
            mask,
            summary,
        })
    }

    fn mask_matches(&self, text: &str, pattern: &Regex) -> String {
        pattern
            .replace_all(text, |captures: &regex::Captures<'_>| {
                self.mask.apply(&captures[0])
            })
            .into_owned()
    }

    fn is_ignored(&self, key: &str) -> bool {
        self.ignored_keys.contains(key)
            || self.ignored_key_patterns.iter().any(|re| re.is_match(key))
    }

    fn is_redacted(&self, key: &str) -> bool {
        !self.allow_all_keys && !self.allowed_keys.contains(key)
    }

    fn is_masked_key(&self, key: &str) -> bool {
        self.blocked_key_patterns.iter().any(|re| re.is_match(key))
    }

    fn is_allowed_value(&self, text: &str) -> bool {
        self.allowed_values.iter().any(|re| re.is_match(text))
    }

    /// Masks every `blocked_values` match, pattern after pattern.
    fn mask_blocked(&self, text: &str) -> String {
        let mut current = text.to_string();
        for pattern in &self.blocked_values {
            if pattern.is_match(&current) {
                current = self.mask_matches(&current, pattern);
            }
        }
        current
    }

    /// A value's text for the checks: Go's `Str()` (empty for a non-string), or its
    /// `AsString()` with `redact_all_types`.
    fn text_of(&self, value: Option<&AnyValue>) -> String {
        match value.and_then(|v| v.value.as_ref()) {
            Some(Value::StringValue(s)) => s.clone(),
            _ if self.redact_all_types => as_string(value),
            _ => String::new(),
        }
    }

    /// Redacts one attribute list and adds the summary, as Go's `processAttrs`.
    pub fn attributes(&self, attributes: &mut Vec<KeyValue>) {
        let mut outcome = Outcome::default();
        for kv in attributes.iter_mut() {
            if self.is_ignored(&kv.key) {
                outcome.ignored.push(kv.key.clone());
                continue;
            }
            if self.is_redacted(&kv.key) {
                outcome.redacted.push(kv.key.clone());
                continue;
            }
            let text = self.text_of(kv.value.as_ref());
            if self.is_allowed_value(&text) {
                outcome.allowed.push(kv.key.clone());
                continue;
            }
            if self.is_masked_key(&kv.key) {
                set_string(kv, self.mask_matches(&text, &self.whole_value));
                outcome.masked.push(kv.key.clone());
                continue;
            }
            let masked = self.mask_blocked(&text);
            if masked != text {
                set_string(kv, masked);
                outcome.masked.push(kv.key.clone());
            }
        }
        if !outcome.redacted.is_empty() {
            let gone: HashSet<&str> = outcome.redacted.iter().map(String::as_str).collect();
            attributes.retain(|kv| !gone.contains(kv.key.as_str()));
        }
        self.summarize(attributes, outcome.redacted, REDACTED_KEYS, REDACTED_COUNT);
        self.summarize(attributes, outcome.masked, MASKED_KEYS, MASKED_COUNT);
        self.summarize(attributes, outcome.allowed, ALLOWED_KEYS, ALLOWED_COUNT);
        self.summarize(attributes, outcome.ignored, "", IGNORED_COUNT);
    }

    /// Redacts a log body as Go's `processLogBody`: a map's keys as attributes (nested
    /// keys named by their path, `a.b`, `a.[0]`), other values by `blocked_values`; the
    /// summary goes to the record's attributes under `redaction.body.*`.
    fn log_body(&self, record: &mut LogRecord) {
        let mut outcome = Outcome::default();
        let Some(body) = record.body.as_mut() else {
            return;
        };
        match body.value.as_mut() {
            Some(Value::KvlistValue(map)) => self.body_map(None, &mut map.values, &mut outcome),
            Some(Value::ArrayValue(array)) => {
                for (index, item) in array.values.iter_mut().enumerate() {
                    self.body_value(format!("[{index}]"), item, &mut outcome);
                }
            }
            _ => {
                let text = as_string(Some(body));
                if self.is_allowed_value(&text) {
                    return;
                }
                let masked = self.mask_blocked(&text);
                if masked != text {
                    outcome.masked.push("body".to_string());
                    *body = string_value(masked);
                }
            }
        }
        let attributes = &mut record.attributes;
        self.summarize(
            attributes,
            outcome.redacted,
            BODY_REDACTED_KEYS,
            BODY_REDACTED_COUNT,
        );
        self.summarize(
            attributes,
            outcome.masked,
            BODY_MASKED_KEYS,
            BODY_MASKED_COUNT,
        );
        self.summarize(
            attributes,
            outcome.allowed,
            BODY_ALLOWED_KEYS,
            BODY_ALLOWED_COUNT,
        );
        self.summarize(attributes, outcome.ignored, "", BODY_IGNORED_COUNT);
    }

    fn body_map(&self, path: Option<&str>, entries: &mut Vec<KeyValue>, outcome: &mut Outcome) {
        let named = |key: &str| path.map_or_else(|| key.to_string(), |p| format!("{p}.{key}"));
        let mut gone = Vec::new();
        for kv in entries.iter_mut() {
            if self.is_ignored(&kv.key) {
                outcome.ignored.push(named(&kv.key));
            } else if self.is_redacted(&kv.key) {
                gone.push(kv.key.clone());
            } else if self.is_masked_key(&kv.key) {
                outcome.masked.push(named(&kv.key));
                let text = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(Value::StringValue(s)) => s.clone(),
                    _ => String::new(),
                };
                set_string(kv, self.mask_matches(&text, &self.whole_value));
            } else {
                let value = kv.value.get_or_insert_with(AnyValue::default);
                self.body_value(named(&kv.key), value, outcome);
            }
        }
        if !gone.is_empty() {
            entries.retain(|kv| !gone.contains(&kv.key));
            outcome.redacted.extend(gone.iter().map(|key| named(key)));
        }
    }

    // Recursion follows the body's nesting, which the OTLP decoders already bound (prost
    // refuses messages nested deeper than 100 levels, serde_json deeper than 128).
    fn body_value(&self, path: String, value: &mut AnyValue, outcome: &mut Outcome) {
        match value.value.as_mut() {
            Some(Value::KvlistValue(map)) => self.body_map(Some(&path), &mut map.values, outcome),
            Some(Value::ArrayValue(array)) => {
                for (index, item) in array.values.iter_mut().enumerate() {
                    self.body_value(format!("{path}.[{index}]"), item, outcome);
                }
            }
            _ => {
                let text = as_string(Some(value));
                if self.is_allowed_value(&text) {
                    outcome.allowed.push(path);
                    return;
                }
                let masked = self.mask_blocked(&text);
                if masked != text {
                    outcome.masked.push(path);
                    *value = string_value(masked);
                }
            }
        }
    }

    /// Go's `addMetaAttrs`: `debug` writes the sorted keys (joined with `,`, merged with
    /// a list already there) and the count; `info` the count (added to one already there).
    fn summarize(
        &self,
        attributes: &mut Vec<KeyValue>,
        mut keys: Vec<String>,
        keys_attr: &str,
        count_attr: &str,
    ) {
        if keys.is_empty() || self.summary == Summary::Silent {
            return;
        }
        let count = keys.len() as i64;
        if self.summary == Summary::Debug && !keys_attr.is_empty() {
            if let Some(existing) =
                attributes
                    .iter()
                    .find(|kv| kv.key == keys_attr)
                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        Value::StringValue(s) if !s.is_empty() => Some(s.clone()),
                        _ => None,
                    })
            {
                keys.extend(existing.split(',').map(str::to_string));
            }
            keys.sort();
            put(attributes, keys_attr, Value::StringValue(keys.join(",")));
        }
        add_count(attributes, count_attr, count);
    }

    /// Resource, scope, span and span event attributes.
    pub fn traces(&self, traces: &mut Traces) {
        self.resources_and_scopes(traces);
        traces.update_records(
            |_, _| true,
            |_, span| {
                self.attributes(&mut span.attributes);
                for event in &mut span.events {
                    self.attributes(&mut event.attributes);
                }
            },
        );
    }

    /// Resource, scope and log record attributes, and log bodies.
    pub fn logs(&self, logs: &mut Logs) {
        self.resources_and_scopes(logs);
        logs.update_records(
            |_, _| true,
            |_, record| {
                self.attributes(&mut record.attributes);
                self.log_body(record);
            },
        );
    }

    /// Resource, scope and data point attributes.
    pub fn metrics(&self, metrics: &mut Metrics) {
        self.resources_and_scopes(metrics);
        metrics.update_item_attributes(|_, _| true, |_, attributes| self.attributes(attributes));
    }

    fn resources_and_scopes<R: Items>(&self, data: &mut Payload<R>) {
        // A batch without a resource or scope has no attributes of theirs to redact.
        data.update_resources(
            |resource| !resource.attributes.is_empty(),
            |resource| self.attributes(&mut resource.attributes),
        );
        data.update_scopes(
            |origin| !origin.scope_attributes().is_empty(),
            |scope| self.attributes(&mut scope.attributes),
        );
    }
}

fn string_value(text: String) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(text)),
    }
}

fn set_string(kv: &mut KeyValue, text: String) {
    kv.value = Some(string_value(text));
}

fn put(attributes: &mut Vec<KeyValue>, key: &str, value: Value) {
    let value = Some(AnyValue { value: Some(value) });
    match attributes.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => attributes.push(KeyValue {
            key: key.to_string(),
            value,
            ..Default::default()
        }),
    }
}

fn add_count(attributes: &mut Vec<KeyValue>, key: &str, count: i64) {
    let existing = attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::IntValue(i) => Some(*i),
            _ => None,
        })
        .unwrap_or(0);
    put(
        attributes,
        key,
        Value::IntValue(existing.saturating_add(count)),
    );
}
