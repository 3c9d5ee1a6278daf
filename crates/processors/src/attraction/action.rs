//! Actions compiled once (regular expressions, values) and applied to attribute lists.

use regex::Regex;
use sha2::{Digest, Sha256};
use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::ClientMetadata;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value::Value};

use super::config::ActionConfig;
use crate::config_value::from_config;
use tributary_pipeline_core::pdata::value_text::as_string;

/// Where a writing action takes its value from.
#[derive(Clone, Debug)]
enum Source {
    Value(AnyValue),
    Attribute(String),
    Context(String),
    /// Only a `default_value` was given.
    Nothing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Write {
    Insert,
    Update,
    Upsert,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conversion {
    Int,
    Double,
    String,
}

#[derive(Clone, Debug)]
enum Operation {
    /// A write, with its `default_value`.
    Write(Write, Source, Option<AnyValue>),
    Delete(Option<Regex>),
    Hash(Option<Regex>),
    /// The pattern and the names of its groups, in order (index 0 is the whole match).
    Extract(Regex, Vec<String>),
    Convert(Conversion),
}

#[derive(Clone, Debug)]
struct Action {
    key: String,
    operation: Operation,
}

/// An `actions` list compiled: applied in order to each attribute list.
#[derive(Clone, Debug, Default)]
pub struct Actions {
    actions: Vec<Action>,
}

impl Actions {
    /// Compiles `configs`; an error names the action's index and key (`3::pattern`).
    /// An empty list is an error, as in Go.
    pub fn compile(configs: &[ActionConfig]) -> Result<Self, ConfigError> {
        if configs.is_empty() {
            return Err(ConfigError::new(
                "missing required field: at least one action",
            ));
        }
        let actions = configs
            .iter()
            .enumerate()
            .map(|(index, config)| compile_one(config).map_err(|e| e.within(&index.to_string())))
            .collect::<Result<_, _>>()?;
        Ok(Actions { actions })
    }

    /// Applies every action, in order, to `attributes`. `metadata` is the request's client
    /// metadata, which `from_context` reads.
    pub fn apply(&self, attributes: &mut Vec<KeyValue>, metadata: Option<&ClientMetadata>) {
        for action in &self.actions {
            action.apply(attributes, metadata);
        }
    }
}

fn compile_regex(key: &str, pattern: &str) -> Result<Regex, ConfigError> {
    Regex::new(pattern).map_err(|error| {
        ConfigError::at(
            key,
            format!("invalid regular expression {pattern:?}: {error}"),
        )
    })
}

fn compile_one(config: &ActionConfig) -> Result<Action, ConfigError> {
    let action = config.action.to_ascii_lowercase();
    let refuse = |key: &str, given: bool| {
        if given {
            Err(ConfigError::at(
                key,
                format!("action {action:?} does not use this field"),
            ))
        } else {
            Ok(())
        }
    };
    let need_key = || {
        if config.key.is_empty() {
            Err(ConfigError::at(
                "key",
                format!("required for action {action:?}"),
            ))
        } else {
            Ok(())
        }
    };
    let has_value = config.value.is_some();
    let has_from_attribute = !config.from_attribute.is_empty();
    let has_from_context = !config.from_context.is_empty();
    let has_pattern = !config.pattern.is_empty();
    let has_converted_type = !config.converted_type.is_empty();
    let has_default = config.default_value.is_some();
    if has_default && !matches!(action.as_str(), "insert" | "update" | "upsert") {
        return Err(ConfigError::at(
            "default_value",
            format!("action {action:?} does not use this field"),
        ));
    }
    let operation = match action.as_str() {
        "insert" | "update" | "upsert" => {
            need_key()?;
            refuse("pattern", has_pattern)?;
            refuse("converted_type", has_converted_type)?;
            let sources = [has_value, has_from_attribute, has_from_context];
            if has_value && has_default {
                return Err(ConfigError::at(
                    "default_value",
                    "a fixed \"value\" needs no default; give \"default_value\" with \"from_attribute\" or \"from_context\"",
                ));
            }
            match sources.iter().filter(|given| **given).count() {
                0 if has_default => {}
                0 => {
                    return Err(ConfigError::at(
                        "value",
                        "one of \"value\", \"from_attribute\" or \"from_context\" must be specified",
                    ));
                }
                1 => {}
                _ => {
                    return Err(ConfigError::at(
                        "value",
                        "only one of \"value\", \"from_attribute\" and \"from_context\" may be specified",
                    ));
                }
            }
            let default = config.default_value.as_ref().map(from_config);
            let source = if let Some(value) = &config.value {
                Source::Value(from_config(value))
            } else if has_from_attribute {
                Source::Attribute(config.from_attribute.clone())
            } else if has_from_context {
                Source::Context(context_key(&config.from_context)?)
            } else {
                Source::Nothing
            };
            let write = match action.as_str() {
                "insert" => Write::Insert,
                "update" => Write::Update,
                _ => Write::Upsert,
            };
            Operation::Write(write, source, default)
        }
        "delete" | "hash" => {
            if config.key.is_empty() && !has_pattern {
                return Err(ConfigError::at(
                    "key",
                    format!("action {action:?} needs \"key\" or \"pattern\""),
                ));
            }
            // Go ignores `from_context` here, so a config that sets it still runs.
            refuse("value", has_value)?;
            refuse("from_attribute", has_from_attribute)?;
            refuse("converted_type", has_converted_type)?;
            let pattern = has_pattern
                .then(|| compile_regex("pattern", &config.pattern))
                .transpose()?;
            if action == "delete" {
                Operation::Delete(pattern)
            } else {
                Operation::Hash(pattern)
            }
        }
        "extract" => {
            need_key()?;
            refuse("value", has_value)?;
            refuse("from_attribute", has_from_attribute)?;
            refuse("from_context", has_from_context)?;
            refuse("converted_type", has_converted_type)?;
            if !has_pattern {
                return Err(ConfigError::at(
                    "pattern",
                    "required for action \"extract\"",
                ));
            }
            let regex = compile_regex("pattern", &config.pattern)?;
            let names: Vec<String> = regex
                .capture_names()
                .map(|name| name.unwrap_or_default().to_string())
                .collect();
            if names.len() < 2 {
                return Err(ConfigError::at(
                    "pattern",
                    "has no named groups: write (?P<name>...) for each attribute to extract",
                ));
            }
            if names[1..].iter().any(String::is_empty) {
                return Err(ConfigError::at(
                    "pattern",
                    "has an unnamed group: name every group (?P<name>...) or make it non-capturing (?:...)",
                ));
            }
            Operation::Extract(regex, names)
        }
        "convert" => {
            need_key()?;
            refuse("value", has_value)?;
            refuse("from_attribute", has_from_attribute)?;
            refuse("from_context", has_from_context)?;
            refuse("pattern", has_pattern)?;
            Operation::Convert(match config.converted_type.as_str() {
                "int" => Conversion::Int,
                "double" => Conversion::Double,
                "string" => Conversion::String,
                "" => {
                    return Err(ConfigError::at(
                        "converted_type",
                        "required for action \"convert\": \"int\", \"double\" or \"string\"",
                    ));
                }
                other => {
                    return Err(ConfigError::at(
                        "converted_type",
                        format!("invalid value {other:?}: use \"int\", \"double\" or \"string\""),
                    ));
                }
            })
        }
        "" => return Err(ConfigError::at("action", "required")),
        other => {
            return Err(ConfigError::at(
                "action",
                format!(
                    "unsupported action {other:?}: use insert, update, upsert, delete, hash, extract or convert"
                ),
            ));
        }
    };
    Ok(Action {
        key: config.key.clone(),
        operation,
    })
}

/// The metadata key a `from_context` names, or why it cannot be honoured.
fn context_key(from_context: &str) -> Result<String, ConfigError> {
    if from_context.starts_with("auth.") || from_context == "client.address" {
        return Err(ConfigError::at(
            "from_context",
            format!(
                "{from_context:?} is not supported: data here carries its client's metadata \
                 (`metadata.<key>`), not its authentication data or address"
            ),
        ));
    }
    let key = from_context
        .strip_prefix("metadata.")
        .unwrap_or(from_context);
    Ok(key.to_string())
}

fn position(attributes: &[KeyValue], key: &str) -> Option<usize> {
    attributes.iter().position(|kv| kv.key == key)
}

fn put(attributes: &mut Vec<KeyValue>, key: &str, value: AnyValue) {
    match position(attributes, key) {
        Some(index) => attributes[index].value = Some(value),
        None => attributes.push(KeyValue {
            key: key.to_string(),
            value: Some(value),
            ..Default::default()
        }),
    }
}

impl Action {
    fn apply(&self, attributes: &mut Vec<KeyValue>, metadata: Option<&ClientMetadata>) {
        match &self.operation {
            Operation::Write(write, source, default) => {
                let Some(value) = source
                    .read(attributes, metadata)
                    .or_else(|| default.clone())
                else {
                    return;
                };
                let exists = position(attributes, &self.key).is_some();
                let writes = match write {
                    Write::Insert => !exists,
                    Write::Update => exists,
                    Write::Upsert => true,
                };
                if writes {
                    put(attributes, &self.key, value);
                }
            }
            Operation::Delete(pattern) => attributes.retain(|kv| {
                kv.key != self.key && !pattern.as_ref().is_some_and(|re| re.is_match(&kv.key))
            }),
            Operation::Hash(pattern) => {
                for kv in attributes.iter_mut() {
                    let named = kv.key == self.key
                        || pattern.as_ref().is_some_and(|re| re.is_match(&kv.key));
                    if named {
                        hash(kv.value.get_or_insert_default());
                    }
                }
            }
            Operation::Extract(regex, names) => {
                let Some(text) = attributes
                    .iter()
                    .find(|kv| kv.key == self.key)
                    .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                        Value::StringValue(s) => Some(s.clone()),
                        _ => None,
                    })
                else {
                    return;
                };
                let Some(captures) = regex.captures(&text) else {
                    return;
                };
                for (index, name) in names.iter().enumerate().skip(1) {
                    let matched = captures.get(index).map_or("", |m| m.as_str());
                    put(attributes, name, string_value(matched));
                }
            }
            Operation::Convert(to) => {
                if let Some(value) = attributes
                    .iter_mut()
                    .find(|kv| kv.key == self.key)
                    .and_then(|kv| kv.value.as_mut())
                {
                    convert(value, *to);
                }
            }
        }
    }
}

impl Source {
    fn read(&self, attributes: &[KeyValue], metadata: Option<&ClientMetadata>) -> Option<AnyValue> {
        match self {
            Source::Value(value) => Some(value.clone()),
            Source::Attribute(key) => attributes
                .iter()
                .find(|kv| &kv.key == key)
                .map(|kv| kv.value.clone().unwrap_or_default()),
            Source::Context(key) => {
                // Several values join with `;`, as Go's `getAttributeValueFromContext`.
                let values = metadata?.get(key);
                (!values.is_empty()).then(|| string_value(&values.join(";")))
            }
            Source::Nothing => None,
        }
    }
}

fn string_value(text: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(text.to_string())),
    }
}

/// Go's `sha2Hasher`: the value's bytes hashed with SHA-256, written back as hex; a
/// value of another kind (list, map, bytes, empty) becomes the empty string.
fn hash(value: &mut AnyValue) {
    let bytes: Vec<u8> = match &value.value {
        Some(Value::StringValue(s)) => s.as_bytes().to_vec(),
        Some(Value::BoolValue(b)) => vec![u8::from(*b)],
        Some(Value::IntValue(i)) => i.to_le_bytes().to_vec(),
        Some(Value::DoubleValue(d)) => d.to_bits().to_le_bytes().to_vec(),
        _ => {
            value.value = Some(Value::StringValue(String::new()));
            return;
        }
    };
    value.value = Some(Value::StringValue(hex::encode(Sha256::digest(&bytes))));
}

/// Go's `convertValue`: a value that does not convert is left as it is.
fn convert(value: &mut AnyValue, to: Conversion) {
    let converted = match (to, &value.value) {
        (Conversion::Int, Some(Value::DoubleValue(d))) => Some(Value::IntValue(*d as i64)),
        (Conversion::Int, Some(Value::BoolValue(b))) => Some(Value::IntValue(i64::from(*b))),
        (Conversion::Int, Some(Value::StringValue(s))) => {
            s.parse::<i64>().ok().map(Value::IntValue)
        }
        (Conversion::Double, Some(Value::IntValue(i))) => Some(Value::DoubleValue(*i as f64)),
        (Conversion::Double, Some(Value::BoolValue(b))) => {
            Some(Value::DoubleValue(if *b { 1.0 } else { 0.0 }))
        }
        (Conversion::Double, Some(Value::StringValue(s))) => {
            s.parse::<f64>().ok().map(Value::DoubleValue)
        }
        (Conversion::String, Some(Value::StringValue(_))) => None,
        (Conversion::String, _) => Some(Value::StringValue(as_string(Some(value)))),
        _ => None,
    };
    if let Some(converted) = converted {
        value.value = Some(converted);
    }
}
