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
use tributary_pipeline_core::pdata::visit::layout::Items;
use tributary_pipeline_core::pdata::{Logs, Metrics, Payload, Traces};

use super::Config;

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

/// A `redaction` configuration compiled: key sets, patterns and the mask.
#[derive(Clone, Debug)]
pub(crate) struct Redactor {
    allow_all_keys: bool,
    allowed_keys: HashSet<String>,
    ignored_keys: HashSet<String>,
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
        let mask = match config.hash_function.to_ascii_lowercase().as_str() {
            "" => Mask::Stars,
            "md5" => Mask::Md5,
            "sha1" => Mask::Sha1,
            "sha3" => Mask::Sha3,
            "hmac-sha256" => Mask::HmacSha256(hmac_key()?),
            "hmac-sha512" => Mask::HmacSha512(hmac_key()?),
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
            allowed_keys: config.allowed_keys.iter().cloned().collect(),
            ignored_keys: config.ignored_keys.iter().cloned().collect(),
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

    /// Redacts one attribute list and adds the summary, as Go's `processAttrs`.
    pub fn attributes(&self, attributes: &mut Vec<KeyValue>) {
        let mut redacted = Vec::new();
        let mut masked = Vec::new();
        let mut allowed = Vec::new();
        let mut ignored = 0_i64;
        for kv in attributes.iter_mut() {
            if self.ignored_keys.contains(&kv.key) {
                ignored += 1;
                continue;
            }
            if !self.allow_all_keys && !self.allowed_keys.contains(&kv.key) {
                redacted.push(kv.key.clone());
                continue;
            }
            // Go reads values with `Str()`: a value of another type reads as "".
            let text = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(Value::StringValue(s)) => s.clone(),
                _ => String::new(),
            };
            if self.allowed_values.iter().any(|re| re.is_match(&text)) {
                allowed.push(kv.key.clone());
                continue;
            }
            if self
                .blocked_key_patterns
                .iter()
                .any(|re| re.is_match(&kv.key))
            {
                set_string(kv, self.mask_matches(&text, &self.whole_value));
                masked.push(kv.key.clone());
                continue;
            }
            let mut current = text;
            let mut changed = false;
            for pattern in &self.blocked_values {
                if pattern.is_match(&current) {
                    current = self.mask_matches(&current, pattern);
                    changed = true;
                }
            }
            if changed {
                set_string(kv, current);
                masked.push(kv.key.clone());
            }
        }
        if !redacted.is_empty() {
            let gone: HashSet<&str> = redacted.iter().map(String::as_str).collect();
            attributes.retain(|kv| !gone.contains(kv.key.as_str()));
        }
        self.summarize(attributes, redacted, REDACTED_KEYS, REDACTED_COUNT);
        self.summarize(attributes, masked, MASKED_KEYS, MASKED_COUNT);
        self.summarize(attributes, allowed, ALLOWED_KEYS, ALLOWED_COUNT);
        if ignored > 0 && self.summary != Summary::Silent {
            add_count(attributes, IGNORED_COUNT, ignored);
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
        if self.summary == Summary::Debug {
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

    /// Resource, span and span event attributes.
    pub fn traces(&self, traces: &mut Traces) {
        self.resources(traces);
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

    /// Resource and log record attributes.
    pub fn logs(&self, logs: &mut Logs) {
        self.resources(logs);
        logs.update_item_attributes(|_, _| true, |_, attributes| self.attributes(attributes));
    }

    /// Resource and data point attributes.
    pub fn metrics(&self, metrics: &mut Metrics) {
        self.resources(metrics);
        metrics.update_item_attributes(|_, _| true, |_, attributes| self.attributes(attributes));
    }

    fn resources<R: Items>(&self, data: &mut Payload<R>) {
        // A batch without a resource has no attributes to redact.
        data.update_resources(
            |resource| !resource.attributes.is_empty(),
            |resource| self.attributes(&mut resource.attributes),
        );
    }
}

fn set_string(kv: &mut KeyValue, text: String) {
    kv.value = Some(AnyValue {
        value: Some(Value::StringValue(text)),
    });
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
