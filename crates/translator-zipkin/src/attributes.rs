//! Tag names the mapping uses and the conversions between Zipkin's string tags and OTLP's
//! typed attributes.

use base64::Engine as _;
use tributary_pipeline_core::pdata::proto::common::v1::any_value::Value;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue};
use tributary_pipeline_core::pdata::proto::trace::v1::status::StatusCode;
use tributary_pipeline_core::pdata::value_text::format_float;

/// Resource attribute naming the service (the localEndpoint's serviceName).
pub const SERVICE_NAME: &str = "service.name";
/// Tag naming the resource attribute the service name came from, when it was not
/// `service.name` (`faas.name`, `k8s.deployment.name`, `process.executable.name`).
pub const SERVICE_NAME_SOURCE: &str = "otlp.service.name.source";
/// Span attribute marking a Zipkin span that had no start timestamp.
pub const START_TIME_ABSENT: &str = "otel.zipkin.absentField.startTime";
/// Tag carrying the W3C trace state.
pub const TRACE_STATE: &str = "w3c.tracestate";
/// Tag marking an internal span (Zipkin has no such kind).
pub const SPAN_KIND: &str = "span.kind";
/// Zipkin's error tag.
pub const ERROR: &str = "error";
/// The status code tag (`OK`, `ERROR`).
pub const STATUS_CODE: &str = "otel.status_code";
/// The status message tag.
pub const STATUS_DESCRIPTION: &str = "otel.status_description";
/// The instrumentation scope's name.
pub const SCOPE_NAME: &str = "otel.scope.name";
/// The instrumentation scope's version.
pub const SCOPE_VERSION: &str = "otel.scope.version";
/// The scope name's former tag, still sent by older SDKs.
pub const LIBRARY_NAME: &str = "otel.library.name";
/// The scope version's former tag.
pub const LIBRARY_VERSION: &str = "otel.library.version";
/// The local endpoint's address.
pub const NET_HOST_IP: &str = "net.host.ip";
/// The local endpoint's port.
pub const NET_HOST_PORT: &str = "net.host.port";
/// The remote endpoint's service name.
pub const PEER_SERVICE: &str = "peer.service";
/// The remote endpoint's address.
pub const NET_PEER_IP: &str = "net.peer.ip";
/// The remote endpoint's port.
pub const NET_PEER_PORT: &str = "net.peer.port";
/// Prefix of the tags carrying span links (`otlp.link.0`, ...).
pub const LINK_PREFIX: &str = "otlp.link.";

/// Tags that describe the resource rather than the span: the resource attributes of the
/// semantic conventions (v1.6.1, what the Go translator uses) and the OpenCensus ones.
/// A Zipkin span's tags with these names become resource attributes.
pub const RESOURCE_KEYS: &[&str] = &[
    "service.name",
    "service.namespace",
    "service.instance.id",
    "service.version",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
    "telemetry.auto.version",
    "cloud.provider",
    "cloud.account.id",
    "cloud.region",
    "cloud.availability_zone",
    "cloud.platform",
    "aws.ecs.container.arn",
    "aws.ecs.cluster.arn",
    "aws.ecs.launchtype",
    "aws.ecs.task.arn",
    "aws.ecs.task.family",
    "aws.ecs.task.revision",
    "aws.eks.cluster.arn",
    "aws.log.group.names",
    "aws.log.group.arns",
    "aws.log.stream.names",
    "aws.log.stream.arns",
    "container.name",
    "container.id",
    "container.runtime",
    "container.image.name",
    "container.image.tag",
    "deployment.environment",
    "device.id",
    "device.model.identifier",
    "device.model.name",
    "faas.name",
    "faas.id",
    "faas.version",
    "faas.instance",
    "faas.max_memory",
    "host.id",
    "host.name",
    "host.type",
    "host.arch",
    "host.image.name",
    "host.image.id",
    "host.image.version",
    "k8s.cluster.name",
    "k8s.node.name",
    "k8s.node.uid",
    "k8s.namespace.name",
    "k8s.pod.uid",
    "k8s.pod.name",
    "k8s.container.name",
    "k8s.container.restart_count",
    "k8s.replicaset.uid",
    "k8s.replicaset.name",
    "k8s.deployment.uid",
    "k8s.deployment.name",
    "k8s.statefulset.uid",
    "k8s.statefulset.name",
    "k8s.daemonset.uid",
    "k8s.daemonset.name",
    "k8s.job.uid",
    "k8s.job.name",
    "k8s.cronjob.uid",
    "k8s.cronjob.name",
    "os.type",
    "os.description",
    "os.name",
    "os.version",
    "process.pid",
    "process.executable.name",
    "process.executable.path",
    "process.command",
    "process.command_line",
    "process.command_args",
    "process.owner",
    "process.runtime.name",
    "process.runtime.version",
    "process.runtime.description",
    "webengine.name",
    "webengine.version",
    "webengine.description",
    "opencensus.starttime",
    "opencensus.exporterversion",
    "opencensus.resourcetype",
];

/// Whether a tag describes the resource.
pub fn is_resource_key(key: &str) -> bool {
    RESOURCE_KEYS.contains(&key)
}

/// A status code by name (`OK`, `ERROR`, `UNSET`, any case, with or without the
/// `STATUS_CODE_` prefix) or number (0, 1, 2).
pub fn status_code_from_text(text: &str) -> Option<StatusCode> {
    let upper = text.to_ascii_uppercase();
    match upper.strip_prefix("STATUS_CODE_").unwrap_or(&upper) {
        "UNSET" | "0" => Some(StatusCode::Unset),
        "OK" | "1" => Some(StatusCode::Ok),
        "ERROR" | "2" => Some(StatusCode::Error),
        _ => None,
    }
}

/// An attribute holding `text`: with `parse_string_tags`, `"3"` and `"-3"` become ints,
/// `"1.5"` a double, `"true"`/`"false"` a bool (the Go receiver's rules); anything else,
/// or any text without the option, a string.
pub fn typed_value(text: &str, parse_string_tags: bool) -> AnyValue {
    let value = if parse_string_tags {
        parse_typed(text).unwrap_or_else(|| Value::StringValue(text.to_owned()))
    } else {
        Value::StringValue(text.to_owned())
    };
    AnyValue { value: Some(value) }
}

fn parse_typed(text: &str) -> Option<Value> {
    if text == "true" || text == "false" {
        return Some(Value::BoolValue(text == "true"));
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if all_digits(digits) {
        // Past i64's range the text stays a string rather than becoming a wrong number.
        return text.parse().ok().map(Value::IntValue);
    }
    match digits.split_once('.') {
        Some((whole, fraction)) if all_digits(whole) && all_digits(fraction) => {
            text.parse().ok().map(Value::DoubleValue)
        }
        _ => None,
    }
}

/// An attribute value as plain JSON (Go's `AsRaw` marshalled): the form of event and link
/// attributes inside annotations and link tags.
pub fn value_json(value: &AnyValue) -> serde_json::Value {
    use serde_json::Value as Json;
    match &value.value {
        None | Some(Value::StringValueStrindex(_)) => Json::Null,
        Some(Value::StringValue(s)) => Json::String(s.clone()),
        Some(Value::BoolValue(b)) => Json::Bool(*b),
        Some(Value::IntValue(i)) => Json::from(*i),
        Some(Value::DoubleValue(d)) => serde_json::Number::from_f64(*d)
            .map(Json::Number)
            .unwrap_or_else(|| Json::String(format_float(*d))),
        Some(Value::BytesValue(b)) => {
            Json::String(base64::engine::general_purpose::STANDARD.encode(b))
        }
        Some(Value::ArrayValue(array)) => {
            Json::Array(array.values.iter().map(value_json).collect())
        }
        Some(Value::KvlistValue(list)) => Json::Object(attributes_json(&list.values)),
    }
}

/// Attributes as a JSON object.
pub fn attributes_json(attributes: &[KeyValue]) -> serde_json::Map<String, serde_json::Value> {
    attributes
        .iter()
        .map(|kv| {
            let value = kv.value.as_ref().map(value_json).unwrap_or_default();
            (kv.key.clone(), value)
        })
        .collect()
}

/// Attributes from a JSON object, as the Go translator reads them: strings, booleans,
/// whole numbers as ints and other numbers as doubles; other values are left out.
pub fn attributes_from_json(object: serde_json::Map<String, serde_json::Value>) -> Vec<KeyValue> {
    use serde_json::Value as Json;
    object
        .into_iter()
        .filter_map(|(key, value)| {
            let value = match value {
                Json::String(s) => Value::StringValue(s),
                Json::Bool(b) => Value::BoolValue(b),
                Json::Number(n) => match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) => Value::IntValue(i),
                    (None, Some(d)) if d.fract() == 0.0 && d.abs() < 9.2e18 => {
                        Value::IntValue(d as i64)
                    }
                    (None, Some(d)) => Value::DoubleValue(d),
                    (None, None) => return None,
                },
                _ => return None,
            };
            Some(KeyValue {
                key,
                value: Some(AnyValue { value: Some(value) }),
                ..Default::default()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> Option<Value> {
        typed_value(text, true).value
    }

    #[test]
    fn string_tags_are_typed_like_the_go_receiver_types_them() {
        assert_eq!(typed("3"), Some(Value::IntValue(3)));
        assert_eq!(typed("-42"), Some(Value::IntValue(-42)));
        assert_eq!(typed("1.5"), Some(Value::DoubleValue(1.5)));
        assert_eq!(typed("-0.25"), Some(Value::DoubleValue(-0.25)));
        assert_eq!(typed("true"), Some(Value::BoolValue(true)));
        assert_eq!(typed("false"), Some(Value::BoolValue(false)));
        for stays_text in [
            "",
            "1.",
            ".5",
            "1e5",
            "True",
            "0x10",
            "3 ",
            "99999999999999999999",
        ] {
            assert_eq!(
                typed(stays_text),
                Some(Value::StringValue(stays_text.into())),
                "{stays_text:?}"
            );
        }
        assert_eq!(
            typed_value("3", false).value,
            Some(Value::StringValue("3".into()))
        );
    }
}
