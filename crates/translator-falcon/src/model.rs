//! Falcon's data model: the `MetricValue` a client pushes, its validation by the transfer,
//! and the payloads and replies of the transfer, graph and judge RPC services.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::tags::{parse_tags, primary_key};

/// The metric `kernel.hostname`, which the transfer refuses (old agents sent it as a string).
const REFUSED_METRIC: &str = "kernel.hostname";

/// The longest `metric` plus `tags` the transfer accepts, in bytes.
pub const MAX_METRIC_AND_TAGS: usize = 510;

/// How a series' values are read: Falcon's `counterType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CounterType {
    /// A value sampled at a time.
    Gauge,
    /// An ever-growing count; graph stores its per-second rate.
    Counter,
    /// As `Counter` in graph (both become an RRD `DERIVE` with `min=0`).
    Derive,
}

impl CounterType {
    /// The type a `counterType` string names (case-sensitive, as Falcon).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "GAUGE" => Some(CounterType::Gauge),
            "COUNTER" => Some(CounterType::Counter),
            "DERIVE" => Some(CounterType::Derive),
            _ => None,
        }
    }

    /// The `counterType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            CounterType::Gauge => "GAUGE",
            CounterType::Counter => "COUNTER",
            CounterType::Derive => "DERIVE",
        }
    }
}

/// One valid data point, as the transfer keeps it (`MetaData`): tags parsed, the value a
/// float, the timestamp fixed.
#[derive(Clone, Debug, PartialEq)]
pub struct FalconItem {
    /// The entity, usually a host name.
    pub endpoint: String,
    /// The metric name.
    pub metric: String,
    /// Tags, parsed.
    pub tags: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
    /// Seconds since the epoch.
    pub timestamp: i64,
    /// The reporting period in seconds (> 0).
    pub step: i64,
    /// How the value is read.
    pub counter_type: CounterType,
}

impl FalconItem {
    /// The series' primary key, by which the hash ring places it.
    pub fn primary_key(&self) -> String {
        primary_key(&self.endpoint, &self.metric, &self.tags)
    }
}

/// Why a push body could not be decoded at all (Go's `json.Decoder` error): the client gets
/// `400` and nothing of it is taken.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(String);

/// The items of a push: the valid ones, and how many were invalid.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Push {
    /// The items that passed validation, in order.
    pub items: Vec<FalconItem>,
    /// The array's length (`Total` in the reply).
    pub total: usize,
    /// Items refused by validation (`Invalid` in the reply).
    pub invalid: usize,
}

/// Decodes a push body, a JSON array of `MetricValue`, and validates each item as the
/// transfer does (`RecvMetricValues`); `now` (seconds) replaces a timestamp that is `<= 0`
/// or `> 2*now`.
///
/// As Go's `json.Decoder`: only the first JSON value is read (what follows is ignored);
/// `null` is an empty push; keys match case-insensitively and unknown keys are ignored; a
/// field of the wrong JSON type (`"step": "60"`, a fractional `timestamp`) fails the whole
/// body. An item is invalid when it is `null`, its metric is `kernel.hostname`, its metric
/// or endpoint is empty, its `counterType` is not `GAUGE`, `COUNTER` or `DERIVE`, its value
/// is not a number or a string that parses as one, `step <= 0`, or
/// `len(metric) + len(tags) > 510`.
///
/// ```
/// use tributary_translator_falcon::decode_push;
///
/// let body = br#"[{"endpoint":"host-01","metric":"qps","timestamp":1700000000,"step":60,
///   "value":"1.5","counterType":"GAUGE","tags":"idc=lg,project=xx"}, null,
///   {"endpoint":"host-01","metric":"qps","step":0,"value":1,"counterType":"GAUGE"}]"#;
/// let push = decode_push(body, 1_700_000_030)?;
/// assert_eq!((push.total, push.invalid, push.items.len()), (3, 2, 1));
/// assert_eq!(push.items[0].value, 1.5);
/// assert_eq!(push.items[0].tags["idc"], "lg");
/// assert!(decode_push(b"{", 0).is_err());
/// # Ok::<(), tributary_translator_falcon::DecodeError>(())
/// ```
pub fn decode_push(body: &[u8], now: i64) -> Result<Push, DecodeError> {
    let mut values = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    let first = match values.next() {
        Some(Ok(value)) => value,
        Some(Err(e)) => return Err(DecodeError(e.to_string())),
        None => return Err(DecodeError("EOF".into())),
    };
    push_from_value(first, now)
}

/// As [`decode_push`], from an already decoded JSON value (the JSON-RPC `params[0]`).
pub fn push_from_value(value: Value, now: i64) -> Result<Push, DecodeError> {
    let elements = match value {
        Value::Null => Vec::new(),
        Value::Array(elements) => elements,
        other => {
            return Err(DecodeError(format!(
                "json: cannot unmarshal {} into Go value of type []*model.MetricValue",
                json_kind(&other)
            )));
        }
    };
    let mut push = Push {
        total: elements.len(),
        ..Push::default()
    };
    for element in elements {
        let raw = match element {
            Value::Null => None,
            Value::Object(map) => Some(RawMetricValue::from_map(map)?),
            other => {
                return Err(DecodeError(format!(
                    "json: cannot unmarshal {} into Go value of type model.MetricValue",
                    json_kind(&other)
                )));
            }
        };
        match raw.and_then(|raw| raw.validate(now)) {
            Some(item) => push.items.push(item),
            None => push.invalid += 1,
        }
    }
    Ok(push)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A `MetricValue` as decoded, before validation.
#[derive(Debug, Default)]
struct RawMetricValue {
    endpoint: String,
    metric: String,
    value: Value,
    step: i64,
    counter_type: String,
    tags: String,
    timestamp: i64,
}

impl RawMetricValue {
    /// Fills the fields from a JSON object as Go's decoder does: an exact key first, else
    /// a case-insensitive match.
    fn from_map(map: Map<String, Value>) -> Result<Self, DecodeError> {
        let mut raw = RawMetricValue::default();
        for (key, value) in map {
            let field = [
                "endpoint",
                "metric",
                "value",
                "step",
                "counterType",
                "tags",
                "timestamp",
            ]
            .into_iter()
            .find(|name| key == *name || key.eq_ignore_ascii_case(name));
            let Some(field) = field else { continue };
            match field {
                "endpoint" => raw.endpoint = string_field(field, value)?,
                "metric" => raw.metric = string_field(field, value)?,
                "counterType" => raw.counter_type = string_field(field, value)?,
                "tags" => raw.tags = string_field(field, value)?,
                "step" => raw.step = int_field(field, value)?,
                "timestamp" => raw.timestamp = int_field(field, value)?,
                _ => raw.value = value,
            }
        }
        Ok(raw)
    }

    /// The transfer's checks, in its order; `None` for an invalid item.
    fn validate(self, now: i64) -> Option<FalconItem> {
        if self.metric == REFUSED_METRIC || self.metric.is_empty() || self.endpoint.is_empty() {
            return None;
        }
        let counter_type = CounterType::parse(&self.counter_type)?;
        if self.step <= 0 || self.metric.len() + self.tags.len() > MAX_METRIC_AND_TAGS {
            return None;
        }
        let value = match &self.value {
            Value::Number(n) => n.as_f64()?,
            Value::String(s) => parse_go_float(s)?,
            _ => return None,
        };
        Some(FalconItem {
            endpoint: self.endpoint,
            metric: self.metric,
            tags: parse_tags(&self.tags),
            value,
            timestamp: fix_timestamp(self.timestamp, now),
            step: self.step,
            counter_type,
        })
    }
}

/// The transfer's timestamp rule: `<= 0` or `> 2*now` becomes `now`.
pub fn fix_timestamp(timestamp: i64, now: i64) -> i64 {
    if timestamp <= 0 || timestamp > now.saturating_mul(2) {
        now
    } else {
        timestamp
    }
}

/// A string value as Go's `strconv.ParseFloat` reads it: a decimal number, or `inf`,
/// `infinity`, `nan` in any case with an optional sign; out of range is an error (Rust
/// would give infinity).
pub fn parse_go_float(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    if value.is_infinite() && !text.to_ascii_lowercase().contains("inf") {
        return None;
    }
    Some(value)
}

fn string_field(name: &str, value: Value) -> Result<String, DecodeError> {
    match value {
        Value::String(s) => Ok(s),
        // Go leaves the field as it was for a JSON null.
        Value::Null => Ok(String::new()),
        other => Err(DecodeError(format!(
            "json: cannot unmarshal {} into Go struct field MetricValue.{name} of type string",
            json_kind(&other)
        ))),
    }
}

fn int_field(name: &str, value: Value) -> Result<i64, DecodeError> {
    match &value {
        Value::Null => Ok(0),
        Value::Number(n) => n.as_i64().ok_or_else(|| {
            DecodeError(format!(
                "json: cannot unmarshal number {n} into Go struct field MetricValue.{name} of type int64"
            ))
        }),
        other => Err(DecodeError(format!(
            "json: cannot unmarshal {} into Go struct field MetricValue.{name} of type int64",
            json_kind(other)
        ))),
    }
}

/// A `MetricValue` as the agent sends it to a transfer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// The entity.
    pub endpoint: String,
    /// The metric name.
    pub metric: String,
    /// The value (a JSON number).
    pub value: f64,
    /// The reporting period in seconds.
    pub step: i64,
    /// `GAUGE`, `COUNTER` or `DERIVE`.
    #[serde(rename = "counterType")]
    pub counter_type: String,
    /// `k=v` pairs joined with `,`.
    pub tags: String,
    /// Seconds since the epoch.
    pub timestamp: i64,
}

impl From<&FalconItem> for MetricValue {
    fn from(item: &FalconItem) -> Self {
        MetricValue {
            endpoint: item.endpoint.clone(),
            metric: item.metric.clone(),
            value: item.value,
            step: item.step,
            counter_type: item.counter_type.as_str().to_owned(),
            tags: crate::tags::sorted_tags(&item.tags),
            timestamp: item.timestamp,
        }
    }
}

/// The transfer's reply to `Transfer.Update` (`TransferResponse`; the keys are capitalised
/// because the Go struct has no JSON tags).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransferResponse {
    /// `"ok"`.
    pub message: String,
    /// Items in the request.
    pub total: usize,
    /// Items refused by validation.
    pub invalid: usize,
    /// Milliseconds spent.
    pub latency: i64,
}

/// The reply of `Transfer.Ping`, `Graph.Send` and `Judge.Send` (`SimpleRpcResponse`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimpleRpcResponse {
    /// `0` for success.
    pub code: i64,
}

/// What graph stores (`GraphItem`): the item with its RRD data-source settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GraphItem {
    /// The entity.
    pub endpoint: String,
    /// The metric name.
    pub metric: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
    /// Seconds, aligned to the step.
    pub timestamp: i64,
    /// `GAUGE` or `DERIVE`.
    pub dstype: String,
    /// The step, at least the minimum step.
    pub step: i64,
    /// Twice the step.
    pub heartbeat: i64,
    /// `"U"` for gauges, `"0"` for counters.
    pub min: String,
    /// `"U"`.
    pub max: String,
}

impl GraphItem {
    /// The graph item the transfer makes of `item` (`convert2GraphItem`): the step clamped
    /// to `min_step`, the timestamp aligned to it, heartbeat twice the step, COUNTER and
    /// DERIVE as a `DERIVE` data source with `min = "0"`.
    pub fn from_item(item: &FalconItem, min_step: i64) -> Self {
        let step = item.step.max(min_step).max(1);
        let (dstype, min) = match item.counter_type {
            CounterType::Gauge => ("GAUGE", "U"),
            CounterType::Counter | CounterType::Derive => ("DERIVE", "0"),
        };
        GraphItem {
            endpoint: item.endpoint.clone(),
            metric: item.metric.clone(),
            tags: item.tags.clone(),
            value: item.value,
            timestamp: align(item.timestamp, step),
            dstype: dstype.into(),
            step,
            heartbeat: step * 2,
            min: min.into(),
            max: "U".into(),
        }
    }
}

/// What judge evaluates (`JudgeItem`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JudgeItem {
    /// The entity.
    pub endpoint: String,
    /// The metric name.
    pub metric: String,
    /// The raw value.
    pub value: f64,
    /// Seconds, aligned to the step.
    pub timestamp: i64,
    /// The item's `counterType`.
    #[serde(rename = "judgeType")]
    pub judge_type: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
}

impl JudgeItem {
    /// The judge item the transfer makes of `item` (`Push2JudgeSendQueue`): the timestamp
    /// aligned to the step clamped to `min_step`.
    pub fn from_item(item: &FalconItem, min_step: i64) -> Self {
        let step = item.step.max(min_step).max(1);
        JudgeItem {
            endpoint: item.endpoint.clone(),
            metric: item.metric.clone(),
            value: item.value,
            timestamp: align(item.timestamp, step),
            judge_type: item.counter_type.as_str().into(),
            tags: item.tags.clone(),
        }
    }
}

/// `ts - ts % step`, as Go computes it.
fn align(timestamp: i64, step: i64) -> i64 {
    timestamp - timestamp % step
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_body_decodes_or_fails_cleanly(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(push) = decode_push(&body, 1_700_000_000) {
                prop_assert_eq!(push.items.len() + push.invalid, push.total);
            }
        }

        #[test]
        fn generated_items_are_valid_exactly_when_the_transfer_says(
            endpoint in "[a-z]{0,3}",
            step in -2i64..3,
            kind in prop::sample::select(vec!["GAUGE", "COUNTER", "DERIVE", "RATE"]),
            value in prop::sample::select(vec!["1", "\"2.5\"", "\"x\"", "\"\"", "null", "true"]),
        ) {
            let body = format!(
                r#"[{{"endpoint":"{endpoint}","metric":"m","step":{step},"counterType":"{kind}","value":{value}}}]"#
            );
            let push = decode_push(body.as_bytes(), 100).unwrap();
            let valid = !endpoint.is_empty() && step > 0 && kind != "RATE" && (value == "1" || value == "\"2.5\"");
            prop_assert_eq!(push.items.len(), usize::from(valid));
        }
    }

    #[test]
    fn keys_match_without_case_and_unknown_keys_are_ignored() {
        let push = decode_push(
            br#"[{"Endpoint":"h","METRIC":"m","value":2,"step":60,"countertype":"COUNTER","extra":1}] trailing"#,
            100,
        )
        .unwrap();
        assert_eq!(push.items.len(), 1);
        assert_eq!(push.items[0].counter_type, CounterType::Counter);
        assert_eq!(push.items[0].timestamp, 100);
    }

    #[test]
    fn wrong_types_fail_the_body_and_bad_items_are_counted() {
        assert!(decode_push(br#"[{"step":"60"}]"#, 1).is_err());
        assert!(decode_push(br#"[{"timestamp":1.5}]"#, 1).is_err());
        assert!(decode_push(br#"[1]"#, 1).is_err());
        assert!(decode_push(br#"{}"#, 1).is_err());
        assert_eq!(decode_push(b"null", 1).unwrap().total, 0);
        let base = r#""endpoint":"h","step":60,"counterType":"GAUGE""#;
        for bad in [
            format!(r#"{{{base},"metric":"kernel.hostname","value":1}}"#),
            format!(r#"{{{base},"metric":"m","value":""}}"#),
            format!(r#"{{{base},"metric":"m","value":"x"}}"#),
            format!(r#"{{{base},"metric":"m","value":"1e400"}}"#),
            format!(r#"{{{base},"metric":"m","value":true}}"#),
            format!(r#"{{{base},"metric":"m"}}"#),
            format!(
                r#"{{{base},"metric":"m","value":1,"tags":"{}"}}"#,
                "a".repeat(510)
            ),
            r#"{"endpoint":"h","metric":"m","value":1,"step":60,"counterType":"gauge"}"#.into(),
            r#"{"endpoint":"","metric":"m","value":1,"step":60,"counterType":"GAUGE"}"#.into(),
        ] {
            let push = decode_push(format!("[{bad}]").as_bytes(), 1).unwrap();
            assert_eq!((push.total, push.invalid), (1, 1), "{bad}");
        }
    }

    #[test]
    fn timestamps_out_of_range_become_now() {
        assert_eq!(fix_timestamp(0, 100), 100);
        assert_eq!(fix_timestamp(-5, 100), 100);
        assert_eq!(fix_timestamp(201, 100), 100);
        assert_eq!(fix_timestamp(200, 100), 200);
    }

    #[test]
    fn graph_and_judge_items_follow_the_transfer() {
        let item = FalconItem {
            endpoint: "h".into(),
            metric: "m".into(),
            tags: BTreeMap::new(),
            value: 3.0,
            timestamp: 1_700_000_015,
            step: 10,
            counter_type: CounterType::Counter,
        };
        let graph = GraphItem::from_item(&item, 30);
        assert_eq!(
            (graph.step, graph.heartbeat, graph.timestamp),
            (30, 60, 1_700_000_010)
        );
        assert_eq!(
            (
                graph.dstype.as_str(),
                graph.min.as_str(),
                graph.max.as_str()
            ),
            ("DERIVE", "0", "U")
        );
        let judge = JudgeItem::from_item(&item, 30);
        assert_eq!(
            (judge.judge_type.as_str(), judge.timestamp),
            ("COUNTER", 1_700_000_010)
        );
        let json = serde_json::to_value(&judge).unwrap();
        assert!(json.get("judgeType").is_some());
    }
}
