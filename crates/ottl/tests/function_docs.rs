//! Golden tests: every example of the upstream OTTL function reference
//! (opentelemetry-collector-contrib `pkg/ottl/ottlfuncs/README.md`), each run on an input
//! written as JSON and compared with the output the reference describes (or, where it
//! describes none, what Go's implementation returns).
//!
//! The examples are written as the reference writes them, with two adjustments:
//! - `$$` in `replace_*` replacements is what a collector *config* needs (confmap turns it
//!   into `$`); these tests call OTTL directly, so they use the expanded `$`.
//! - A Converter's result is stored with `set(cache["out"], ...)` so it can be read back;
//!   results Go cannot store in a map (`time.Time`, `time.Duration`) are read through the
//!   reference's own `Unix*`/`Nanoseconds` Converters.
//!
//! The examples of functions Tributary does not have are listed in [`UNSUPPORTED`] with the
//! reason; a test checks they are still refused, so one that starts to work must move here.

use serde_json::{Map, Value as Json, json};
use tributary_ottl::{ContextKind, Item, TransformContext, compile_statement};
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;
use tributary_pipeline_core::pdata::proto::metrics::v1::Metric;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::proto::trace::v1::Span;

/// One golden case: statements run in `context` on `input`; `expect` lists the fields of
/// the result that must equal (fields it leaves out are not compared).
struct Case {
    /// The function's section in the reference.
    section: &'static str,
    context: ContextKind,
    input: Json,
    statements: Vec<String>,
    expect: Json,
}

fn editor(
    section: &'static str,
    context: ContextKind,
    input: Json,
    statement: &str,
    expect: Json,
) -> Case {
    Case {
        section,
        context,
        input,
        statements: vec![statement.to_string()],
        expect,
    }
}

/// A Converter example: its result is stored in `cache["out"]`; `expect` is that value
/// (`null`: the Converter returned nil, so `set` did nothing).
fn converter(
    section: &'static str,
    context: ContextKind,
    input: Json,
    expression: &str,
    expect: Json,
) -> Case {
    let cache = if expect.is_null() {
        json!({})
    } else {
        json!({ "out": expect })
    };
    Case {
        section,
        context,
        input,
        statements: vec![format!("set(cache[\"out\"], {expression})")],
        expect: json!({ "cache": cache }),
    }
}

fn any(json: &Json) -> AnyValue {
    use any_value::Value as V;
    let value = match json {
        Json::Null => None,
        Json::Bool(b) => Some(V::BoolValue(*b)),
        Json::Number(n) => Some(match n.as_i64() {
            Some(i) => V::IntValue(i),
            None => V::DoubleValue(n.as_f64().unwrap()),
        }),
        Json::String(s) => Some(V::StringValue(s.clone())),
        Json::Array(items) => Some(V::ArrayValue(ArrayValue {
            values: items.iter().map(any).collect(),
        })),
        Json::Object(map) => Some(V::KvlistValue(KeyValueList {
            values: attributes(map),
        })),
    };
    AnyValue { value }
}

fn attributes(map: &Map<String, Json>) -> Vec<KeyValue> {
    map.iter()
        .map(|(k, v)| KeyValue {
            key: k.clone(),
            value: Some(any(v)),
            ..Default::default()
        })
        .collect()
}

fn json_of(any: Option<&AnyValue>) -> Json {
    use any_value::Value as V;
    match any.and_then(|a| a.value.as_ref()) {
        None => Json::Null,
        Some(V::BoolValue(b)) => json!(b),
        Some(V::IntValue(i)) => json!(i),
        Some(V::DoubleValue(f)) => json!(f),
        Some(V::StringValue(s)) => json!(s),
        Some(V::BytesValue(b)) => json!(format!("bytes:{}", hex(b))),
        Some(V::ArrayValue(a)) => Json::Array(a.values.iter().map(|v| json_of(Some(v))).collect()),
        Some(V::KvlistValue(l)) => json_map(&l.values),
        #[allow(unreachable_patterns)]
        Some(_) => json!("unsupported value kind"),
    }
}

fn json_map(kvs: &[KeyValue]) -> Json {
    Json::Object(
        kvs.iter()
            .map(|kv| (kv.key.clone(), json_of(kv.value.as_ref())))
            .collect(),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn field<'a>(input: &'a Json, name: &str) -> Option<&'a Json> {
    input.get(name)
}

fn object(input: &Json, name: &str) -> Vec<KeyValue> {
    field(input, name)
        .and_then(Json::as_object)
        .map(attributes)
        .unwrap_or_default()
}

fn text(input: &Json, name: &str) -> String {
    field(input, name)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Runs a case: the result as JSON (`resource`, `cache`, and the item's fields).
fn run(case: &Case) -> Result<Json, String> {
    let input = &case.input;
    let mut resource = Some(Resource {
        attributes: object(input, "resource"),
        ..Default::default()
    });
    let mut scope = None;
    let mut cache = Vec::new();
    let mut log = LogRecord {
        attributes: object(input, "attributes"),
        body: field(input, "body").map(any),
        ..Default::default()
    };
    let mut span = Span {
        name: text(input, "name"),
        attributes: object(input, "attributes"),
        trace_state: text(input, "trace_state"),
        trace_id: unhex(&text(input, "trace_id")),
        span_id: unhex(&text(input, "span_id")),
        parent_span_id: unhex(&text(input, "parent_span_id")),
        start_time_unix_nano: field(input, "start_time_unix_nano")
            .and_then(Json::as_u64)
            .unwrap_or_default(),
        ..Default::default()
    };
    let mut metric = Metric {
        name: text(input, "name"),
        ..Default::default()
    };
    for statement in &case.statements {
        let compiled = compile_statement(statement, case.context).map_err(|e| e.to_string())?;
        let item = match case.context {
            ContextKind::Log => Item::Log(&mut log),
            ContextKind::Span => Item::Span(&mut span),
            ContextKind::Metric => Item::Metric(&mut metric),
            ContextKind::Resource => Item::None,
            other => panic!("no fixture for the {other:?} context"),
        };
        let mut ctx = TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item,
            cache: &mut cache,
        };
        compiled.execute(&mut ctx).map_err(|e| e.to_string())?;
    }
    let mut out = json!({
        "resource": json_map(&resource.unwrap_or_default().attributes),
        "cache": json_map(&cache),
    });
    let fields = out.as_object_mut().unwrap();
    match case.context {
        ContextKind::Log => {
            fields.insert("attributes".into(), json_map(&log.attributes));
            fields.insert("body".into(), json_of(log.body.as_ref()));
        }
        ContextKind::Span => {
            fields.insert("attributes".into(), json_map(&span.attributes));
            fields.insert("name".into(), json!(span.name));
            fields.insert("trace_state".into(), json!(span.trace_state));
            fields.insert("trace_id".into(), json!(hex(&span.trace_id)));
            fields.insert("span_id".into(), json!(hex(&span.span_id)));
            fields.insert(
                "start_time_unix_nano".into(),
                json!(span.start_time_unix_nano),
            );
        }
        ContextKind::Metric => {
            fields.insert("name".into(), json!(metric.name));
        }
        _ => {}
    }
    Ok(out)
}

use ContextKind::{Log, Metric as MetricCtx, Resource as ResourceCtx, Span as SpanCtx};

/// The examples of the Editors section.
fn editors() -> Vec<Case> {
    let long = "a".repeat(120);
    vec![
        editor(
            "append",
            Log,
            json!({"attributes": {"tags": ["staging"]}}),
            r#"append(log.attributes["tags"], "prod")"#,
            json!({"attributes": {"tags": ["staging", "prod"]}}),
        ),
        editor(
            "append",
            Log,
            json!({"attributes": {"tags": "prod"}}),
            r#"append(log.attributes["tags"], values = ["staging", "staging:east"])"#,
            json!({"attributes": {"tags": ["prod", "staging", "staging:east"]}}),
        ),
        editor(
            "append",
            Log,
            json!({"attributes": {"tags": "prod"}}),
            r#"append(log.attributes["tags_copy"], log.attributes["tags"])"#,
            json!({"attributes": {"tags": "prod", "tags_copy": ["prod"]}}),
        ),
        editor(
            "delete_key",
            Log,
            json!({"attributes": {"http.request.header.authorization": "Bearer x", "user": "u"}}),
            r#"delete_key(log.attributes, "http.request.header.authorization")"#,
            json!({"attributes": {"user": "u"}}),
        ),
        editor(
            "delete_key",
            Log,
            json!({"resource": {"http.request.header.authorization": "Bearer x", "host": "h"}}),
            r#"delete_key(resource.attributes, "http.request.header.authorization")"#,
            json!({"resource": {"host": "h"}}),
        ),
        editor(
            "delete_matching_keys",
            Log,
            json!({"attributes": {"Password": "p", "db.password.hash": "h", "user": "u"}}),
            r#"delete_matching_keys(log.attributes, "(?i).*password.*")"#,
            json!({"attributes": {"user": "u"}}),
        ),
        editor(
            "delete_matching_keys",
            Log,
            json!({"resource": {"PASSWORD": "p", "host": "h"}}),
            r#"delete_matching_keys(resource.attributes, "(?i).*password.*")"#,
            json!({"resource": {"host": "h"}}),
        ),
        editor(
            "keep_matching_keys",
            Log,
            json!({"attributes": {"Version": "1", "os.version": "2", "name": "n"}}),
            r#"keep_matching_keys(log.attributes, "(?i).*version.*")"#,
            json!({"attributes": {"Version": "1", "os.version": "2"}}),
        ),
        editor(
            "keep_matching_keys",
            Log,
            json!({"resource": {"service.version": "1", "host": "h"}}),
            r#"keep_matching_keys(resource.attributes, "(?i).*version.*")"#,
            json!({"resource": {"service.version": "1"}}),
        ),
        // The map of the reference's first flatten example.
        editor(
            "flatten",
            Log,
            json!({"resource": {"name": "test", "address": {"street": "first", "house": 1234},
                                "occupants": ["user 1", "user 2"]}}),
            r#"flatten(resource.attributes)"#,
            json!({"resource": {"name": "test", "address.street": "first", "address.house": 1234,
                                "occupants.0": "user 1", "occupants.1": "user 2"}}),
        ),
        Case {
            section: "flatten",
            context: MetricCtx,
            input: json!({"name": "m"}),
            statements: vec![
                r#"set(metric.cache["pod"], {"labels": {"app": {"tier": "web"}}})"#.into(),
                r#"flatten(metric.cache, "k8s", 4)"#.into(),
            ],
            expect: json!({"cache": {"k8s.pod.labels.app.tier": "web"}}),
        },
        // The reference's depth example, at depth 2.
        editor(
            "flatten",
            Log,
            json!({"body": {"0": {"1": {"2": {"3": {"4": "value"}}}}}}),
            r#"flatten(log.body, depth=2)"#,
            json!({"body": {"0.1.2": {"3": {"4": "value"}}}}),
        ),
        // The reference's resolveConflicts example.
        editor(
            "flatten",
            Log,
            json!({"body": {
                "address": {"street": {"number": "first"}, "house": "1234"},
                "address.street": {"number": ["second", "third"]},
                "address.street.number": "fourth",
                "occupants": ["user 1", "user 2"]}}),
            r#"flatten(body, resolveConflicts=true)"#,
            json!({"body": {
                "address.street.number": "first",
                "address.house": "1234",
                "address.street.number.0": "second",
                "address.street.number.1": "third",
                "occupants": "user 1",
                "occupants.0": "user 2",
                "address.street.number.2": "fourth"}}),
        ),
        editor(
            "keep_keys",
            Log,
            json!({"attributes": {"http.method": "GET", "http.path": "/"}}),
            r#"keep_keys(log.attributes, ["http.method"])"#,
            json!({"attributes": {"http.method": "GET"}}),
        ),
        editor(
            "keep_keys",
            Log,
            json!({"resource": {"http.method": "GET", "http.route": "/r", "host": "h"}}),
            r#"keep_keys(resource.attributes, ["http.method", "http.route", "http.url"])"#,
            json!({"resource": {"http.method": "GET", "http.route": "/r"}}),
        ),
        editor(
            "limit",
            Log,
            json!({"attributes": {"a": 1, "b": 2}}),
            r#"limit(log.attributes, 100, [])"#,
            json!({"attributes": {"a": 1, "b": 2}}),
        ),
        editor(
            "limit",
            Log,
            json!({"resource": {"http.host": "h", "http.method": "GET", "x": 1}}),
            r#"limit(resource.attributes, 2, ["http.host", "http.method"])"#,
            json!({"resource": {"http.host": "h", "http.method": "GET"}}),
        ),
        // ParseJSON numbers are float64.
        editor(
            "merge_maps",
            Log,
            json!({"attributes": {"a": 0, "c": true}, "body": r#"{"a": 1, "b": "x"}"#}),
            r#"merge_maps(log.attributes, ParseJSON(log.body), "upsert")"#,
            json!({"attributes": {"a": 1.0, "c": true, "b": "x"}}),
        ),
        editor(
            "merge_maps",
            Log,
            json!({"attributes": {"pod": "old", "kubernetes": r#"{"pod": "new", "ns": "x"}"#}}),
            r#"merge_maps(log.attributes, ParseJSON(log.attributes["kubernetes"]), "update")"#,
            json!({"attributes": {"pod": "new", "kubernetes": r#"{"pod": "new", "ns": "x"}"#}}),
        ),
        editor(
            "merge_maps",
            Log,
            json!({"attributes": {"a": "log"}, "resource": {"a": "res", "b": "res"}}),
            r#"merge_maps(log.attributes, resource.attributes, "insert")"#,
            json!({"attributes": {"a": "log", "b": "res"}}),
        ),
        editor(
            "replace_all_matches",
            Log,
            json!({"resource": {"p": "/user/123/list/9", "q": "/other"}}),
            r#"replace_all_matches(resource.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}")"#,
            json!({"resource": {"p": "/user/{userId}/list/{listId}", "q": "/other"}}),
        ),
        // SHA256 of "/user/{userId}/list/{listId}".
        editor(
            "replace_all_matches",
            Log,
            json!({"resource": {"p": "/user/123/list/9", "q": "/other"}}),
            r#"replace_all_matches(resource.attributes, "/user/*/list/*", "/user/{userId}/list/{listId}", SHA256, "/user/%s")"#,
            json!({"resource": {"p": "/user/00f19e6d892e0ac5c63f8b6d8371f94035603103e1aef666e22cdc5f17ee35c2", "q": "/other"}}),
        ),
        editor(
            "replace_all_patterns",
            Log,
            json!({"resource": {"u": "/account/1234/orders"}}),
            r#"replace_all_patterns(resource.attributes, "value", "/account/\\d{4}", "/account/{accountId}")"#,
            json!({"resource": {"u": "/account/{accountId}/orders"}}),
        ),
        editor(
            "replace_all_patterns",
            Log,
            json!({"resource": {"/account/1234": "v"}}),
            r#"replace_all_patterns(resource.attributes, "key", "/account/\\d{4}", "/account/{accountId}")"#,
            json!({"resource": {"/account/{accountId}": "v"}}),
        ),
        editor(
            "replace_all_patterns",
            Log,
            json!({"resource": {"kube_pod_name": "web"}}),
            r#"replace_all_patterns(resource.attributes, "key", "^kube_([0-9A-Za-z]+_)", "k8s.$1.")"#,
            json!({"resource": {"k8s.pod_.name": "web"}}),
        ),
        editor(
            "replace_all_patterns",
            Log,
            json!({"resource": {"kube_pod_name": "web"}}),
            r#"replace_all_patterns(resource.attributes, "key", "^kube_([0-9A-Za-z]+_)", "$1.")"#,
            json!({"resource": {"pod_.name": "web"}}),
        ),
        // The match `kube_pod_` expands to `pod_.`, whose SHA256 goes into the format.
        editor(
            "replace_all_patterns",
            Log,
            json!({"resource": {"kube_pod_name": "web"}}),
            r#"replace_all_patterns(resource.attributes, "key", "^kube_([0-9A-Za-z]+_)", "$1.", SHA256, "k8s.%s")"#,
            json!({"resource": {"k8s.6d84a506bd7fb1f256ed60c44bd7cd7fb1c12b2f531231e13db610d418021420name": "web"}}),
        ),
        editor(
            "replace_match",
            SpanCtx,
            json!({"attributes": {"http.target": "/user/42/list/7"}}),
            r#"replace_match(span.attributes["http.target"], "/user/*/list/*", "/user/{userId}/list/{listId}")"#,
            json!({"attributes": {"http.target": "/user/{userId}/list/{listId}"}}),
        ),
        editor(
            "replace_match",
            SpanCtx,
            json!({"attributes": {"http.target": "/user/42/list/7"}}),
            r#"replace_match(span.attributes["http.target"], "/user/*/list/*", "/user/{userId}/list/{listId}", SHA256, "/user/%s")"#,
            json!({"attributes": {"http.target": "/user/00f19e6d892e0ac5c63f8b6d8371f94035603103e1aef666e22cdc5f17ee35c2"}}),
        ),
        editor(
            "replace_pattern",
            Log,
            json!({"resource": {"process.command_line": "app --password=secret --port 80"}}),
            r#"replace_pattern(resource.attributes["process.command_line"], "password\\=[^\\s]*(\\s?)", "password=***")"#,
            json!({"resource": {"process.command_line": "app --password=***--port 80"}}),
        ),
        editor(
            "replace_pattern",
            MetricCtx,
            json!({"name": "kube_pod_status"}),
            r#"replace_pattern(metric.name, "^kube_([0-9A-Za-z]+_)", "k8s.$1.")"#,
            json!({"name": "k8s.pod_.status"}),
        ),
        editor(
            "replace_pattern",
            MetricCtx,
            json!({"name": "kube_pod_status"}),
            r#"replace_pattern(metric.name, "^kube_([0-9A-Za-z]+_)", "$1.", SHA256, "k8s.%s")"#,
            json!({"name": "k8s.6d84a506bd7fb1f256ed60c44bd7cd7fb1c12b2f531231e13db610d418021420status"}),
        ),
        editor(
            "set",
            Log,
            json!({}),
            r#"set(resource.attributes["http.path"], "/foo")"#,
            json!({"resource": {"http.path": "/foo"}}),
        ),
        editor(
            "set",
            MetricCtx,
            json!({"name": "m", "resource": {"http.route": "/checkout"}}),
            r#"set(metric.name, resource.attributes["http.route"])"#,
            json!({"name": "/checkout"}),
        ),
        editor(
            "set",
            SpanCtx,
            json!({"trace_state": ""}),
            r#"set(span.trace_state["svc"], "example")"#,
            json!({"trace_state": "svc=example"}),
        ),
        editor(
            "set",
            SpanCtx,
            json!({"trace_state": "source=web,other=1"}),
            r#"set(span.attributes["source"], span.trace_state["source"])"#,
            json!({"attributes": {"source": "web"}}),
        ),
        editor(
            "truncate_all",
            Log,
            json!({"attributes": {"long": long, "n": 1}}),
            r#"truncate_all(log.attributes, 100)"#,
            json!({"attributes": {"long": "a".repeat(100), "n": 1}}),
        ),
        editor(
            "truncate_all",
            Log,
            json!({"resource": {"long": long}}),
            r#"truncate_all(resource.attributes, 50, false)"#,
            json!({"resource": {"long": "a".repeat(50)}}),
        ),
        editor(
            "truncate_all",
            Log,
            json!({"resource": {"long": long, "short": "ok"}}),
            r#"truncate_all(resource.attributes, 50, false, "(...)")"#,
            json!({"resource": {"long": format!("{}(...)", "a".repeat(45)), "short": "ok"}}),
        ),
        editor(
            "truncate_all",
            Log,
            json!({"attributes": {"long": long}}),
            r#"truncate_all(log.attributes, 100, truncation_marker = "(truncated)")"#,
            json!({"attributes": {"long": format!("{}(truncated)", "a".repeat(89))}}),
        ),
    ]
}

/// The examples of the Converters section that Tributary has.
fn converters() -> Vec<Case> {
    const T_2023_02_04: i64 = 1_675_468_800;
    let span = json!({
        "attributes": {"http.method": "GET", "http.path": "/foo/bar", "http.status_code": 12},
        "span_id": "0102030405060708",
    });
    vec![
        converter(
            "Bool",
            Log,
            json!({"attributes": {"truthy_attribute": "T"}}),
            r#"Bool(log.attributes["truthy_attribute"])"#,
            json!(true),
        ),
        converter("Bool", Log, json!({}), r#"Bool("true")"#, json!(true)),
        converter("Bool", Log, json!({}), r#"Bool("0")"#, json!(false)),
        converter(
            "Concat",
            SpanCtx,
            span.clone(),
            r#"Concat([span.attributes["http.method"], span.attributes["http.path"]], ": ")"#,
            json!("GET: /foo/bar"),
        ),
        converter(
            "Concat",
            MetricCtx,
            json!({"name": "requests"}),
            r#"Concat([metric.name, 1], " ")"#,
            json!("requests 1"),
        ),
        converter(
            "Concat",
            SpanCtx,
            span.clone(),
            r#"Concat(["HTTP method is: ", span.attributes["http.method"]], "")"#,
            json!("HTTP method is: GET"),
        ),
        converter(
            "ConvertCase",
            MetricCtx,
            json!({"name": "myMetric"}),
            r#"ConvertCase(metric.name, "snake")"#,
            json!("my_metric"),
        ),
        converter(
            "Double",
            Log,
            json!({"attributes": {"http.status_code": 200}}),
            r#"Double(log.attributes["http.status_code"])"#,
            json!(200.0),
        ),
        converter("Double", Log, json!({}), r#"Double("2.0")"#, json!(2.0)),
        converter(
            "Duration",
            Log,
            json!({}),
            r#"Nanoseconds(Duration("3s"))"#,
            json!(3_000_000_000_i64),
        ),
        converter(
            "Duration",
            Log,
            json!({}),
            r#"Nanoseconds(Duration("333ms"))"#,
            json!(333_000_000_i64),
        ),
        converter(
            "Duration",
            Log,
            json!({}),
            r#"Nanoseconds(Duration("1000000h"))"#,
            json!(3_600_000_000_000_000_000_i64),
        ),
        converter(
            "ExtractPatterns",
            Log,
            json!({"resource": {"k8s.change_cause": "deploy GIT_SHA=abc123"}}),
            r#"ExtractPatterns(resource.attributes["k8s.change_cause"], "GIT_SHA=(?P<git.sha>\\w+)")"#,
            json!({"git.sha": "abc123"}),
        ),
        converter(
            "ExtractPatterns",
            Log,
            json!({"body": "Jan 02 15:04:05 host-1 sshd[123]: accepted key"}),
            r#"ExtractPatterns(log.body, "^(?P<timestamp>\\w+ \\w+ [0-9]+:[0-9]+:[0-9]+) (?P<hostname>([A-Za-z0-9-_]+)) (?P<process>\\w+)(\\[(?P<pid>\\d+)\\])?: (?P<message>.*)$")"#,
            json!({"timestamp": "Jan 02 15:04:05", "hostname": "host-1", "process": "sshd",
                   "pid": "123", "message": "accepted key"}),
        ),
        converter(
            "FNV",
            Log,
            json!({"resource": {"device.name": "router-7"}}),
            r#"FNV(resource.attributes["device.name"])"#,
            json!(-4_503_541_240_129_401_004_i64),
        ),
        converter(
            "FNV",
            Log,
            json!({}),
            r#"FNV("name")"#,
            json!(-4_270_347_329_889_690_746_i64),
        ),
        converter(
            "Format",
            Log,
            json!({"attributes": {"priority": 5}}),
            r#"Format("%02d", [log.attributes["priority"]])"#,
            json!("05"),
        ),
        converter(
            "FormatTime",
            Log,
            json!({}),
            r#"FormatTime(Time("02/04/2023", "%m/%d/%Y"), "%A %h %e %Y")"#,
            json!("Saturday Feb  4 2023"),
        ),
        converter(
            "Hex",
            SpanCtx,
            span.clone(),
            r#"Hex(span.attributes["http.status_code"])"#,
            json!("000000000000000c"),
        ),
        converter(
            "Hex",
            Log,
            json!({}),
            r#"Hex(2.0)"#,
            json!("4000000000000000"),
        ),
        converter(
            "Hours",
            Log,
            json!({}),
            r#"Hours(Duration("1h"))"#,
            json!(1.0),
        ),
        converter(
            "Index",
            Log,
            json!({}),
            r#"Index("hello world", "world")"#,
            json!(6),
        ),
        converter(
            "Index",
            Log,
            json!({"attributes": {"tags": ["ok", "error"]}}),
            r#"Index(log.attributes["tags"], "error")"#,
            json!(1),
        ),
        converter(
            "Index",
            Log,
            json!({"attributes": {"scores": [90, 95]}}),
            r#"Index(log.attributes["scores"], 95)"#,
            json!(1),
        ),
        converter(
            "Int",
            Log,
            json!({"attributes": {"http.status_code": "200"}}),
            r#"Int(log.attributes["http.status_code"])"#,
            json!(200),
        ),
        // "2.0" is no integer: nil, and `set` does nothing.
        converter("Int", Log, json!({}), r#"Int("2.0")"#, Json::Null),
        converter("IsBool", Log, json!({}), r#"IsBool(false)"#, json!(true)),
        converter("IsBool", Log, json!({}), r#"IsBool(42)"#, json!(false)),
        converter(
            "IsBool",
            Log,
            json!({"resource": {"any key": true}}),
            r#"IsBool(resource.attributes["any key"])"#,
            json!(true),
        ),
        converter(
            "IsDouble",
            Log,
            json!({"body": 1.5}),
            r#"IsDouble(log.body)"#,
            json!(true),
        ),
        converter(
            "IsDouble",
            Log,
            json!({"attributes": {"maybe a double": "1.5"}}),
            r#"IsDouble(log.attributes["maybe a double"])"#,
            json!(false),
        ),
        converter(
            "IsInt",
            Log,
            json!({"body": 3}),
            r#"IsInt(log.body)"#,
            json!(true),
        ),
        converter(
            "IsInt",
            Log,
            json!({"attributes": {"maybe a int": 3.5}}),
            r#"IsInt(log.attributes["maybe a int"])"#,
            json!(false),
        ),
        converter(
            "IsRootSpan",
            SpanCtx,
            json!({}),
            r#"IsRootSpan()"#,
            json!(true),
        ),
        converter(
            "IsRootSpan",
            SpanCtx,
            json!({"parent_span_id": "0102030405060708"}),
            r#"IsRootSpan()"#,
            json!(false),
        ),
        editor(
            "IsRootSpan",
            SpanCtx,
            json!({}),
            r#"set(span.attributes["isRoot"], "true") where IsRootSpan()"#,
            json!({"attributes": {"isRoot": "true"}}),
        ),
        converter(
            "IsMap",
            Log,
            json!({"body": {"a": 1}}),
            r#"IsMap(log.body)"#,
            json!(true),
        ),
        converter(
            "IsMap",
            Log,
            json!({"attributes": {"maybe a map": [1]}}),
            r#"IsMap(log.attributes["maybe a map"])"#,
            json!(false),
        ),
        converter(
            "IsMatch",
            SpanCtx,
            span.clone(),
            r#"IsMatch(span.attributes["http.path"], "foo")"#,
            json!(true),
        ),
        converter(
            "IsMatch",
            Log,
            json!({}),
            r#"IsMatch("string", ".*ring")"#,
            json!(true),
        ),
        converter(
            "IsList",
            Log,
            json!({"body": [1, 2]}),
            r#"IsList(log.body)"#,
            json!(true),
        ),
        converter(
            "IsList",
            Log,
            json!({"resource": {"maybe a slice": "no"}}),
            r#"IsList(resource.attributes["maybe a slice"])"#,
            json!(false),
        ),
        converter(
            "IsString",
            Log,
            json!({"body": "text"}),
            r#"IsString(log.body)"#,
            json!(true),
        ),
        converter(
            "IsString",
            Log,
            json!({"resource": {"maybe a string": 1}}),
            r#"IsString(resource.attributes["maybe a string"])"#,
            json!(false),
        ),
        converter(
            "Keys",
            Log,
            json!({"resource": {"a": 1, "b": 2}}),
            r#"Keys(resource.attributes)"#,
            json!(["a", "b"]),
        ),
        converter(
            "Keys",
            Log,
            json!({}),
            r#"Keys({"k1":"v1", "k2": "v2"})"#,
            json!(["k1", "k2"]),
        ),
        converter(
            "Len",
            Log,
            json!({"body": "hello"}),
            r#"Len(log.body)"#,
            json!(5),
        ),
        converter(
            "MD5",
            Log,
            json!({"resource": {"device.name": "router-7"}}),
            r#"MD5(resource.attributes["device.name"])"#,
            json!("06188ad1c692476c462610c35ccbabba"),
        ),
        converter(
            "MD5",
            Log,
            json!({}),
            r#"MD5("name")"#,
            json!("b068931cc450442b63f5b3d276ea4297"),
        ),
        converter(
            "Microseconds",
            Log,
            json!({}),
            r#"Microseconds(Duration("1h"))"#,
            json!(3_600_000_000_i64),
        ),
        converter(
            "Milliseconds",
            Log,
            json!({}),
            r#"Milliseconds(Duration("1h"))"#,
            json!(3_600_000),
        ),
        converter(
            "Minutes",
            Log,
            json!({}),
            r#"Minutes(Duration("1h"))"#,
            json!(60.0),
        ),
        converter(
            "Nanoseconds",
            Log,
            json!({}),
            r#"Nanoseconds(Duration("1h"))"#,
            json!(3_600_000_000_000_i64),
        ),
        converter(
            "ParseJSON",
            Log,
            json!({}),
            r#"ParseJSON("{\"attr\":true}")"#,
            json!({"attr": true}),
        ),
        converter(
            "ParseJSON",
            Log,
            json!({}),
            r#"ParseJSON("[\"attr1\",\"attr2\"]")"#,
            json!(["attr1", "attr2"]),
        ),
        converter(
            "ParseJSON",
            Log,
            json!({"resource": {"kubernetes": r#"{"pod": "web-1", "restarts": 2}"#}}),
            r#"ParseJSON(resource.attributes["kubernetes"])"#,
            json!({"pod": "web-1", "restarts": 2.0}),
        ),
        converter(
            "ParseJSON",
            Log,
            json!({"body": r#"{"level": "info", "ok": false}"#}),
            r#"ParseJSON(log.body)"#,
            json!({"level": "info", "ok": false}),
        ),
        converter(
            "ParseKeyValue",
            Log,
            json!({}),
            r#"ParseKeyValue("k1=v1 k2=v2 k3=v3")"#,
            json!({"k1": "v1", "k2": "v2", "k3": "v3"}),
        ),
        converter(
            "ParseKeyValue",
            Log,
            json!({}),
            r#"ParseKeyValue("k1!v1_k2!v2_k3!v3", "!", "_")"#,
            json!({"k1": "v1", "k2": "v2", "k3": "v3"}),
        ),
        converter(
            "ParseKeyValue",
            Log,
            json!({"attributes": {"pairs": "user=ann role=admin"}}),
            r#"ParseKeyValue(log.attributes["pairs"])"#,
            json!({"user": "ann", "role": "admin"}),
        ),
        converter(
            "Seconds",
            Log,
            json!({}),
            r#"Seconds(Duration("1h"))"#,
            json!(3600.0),
        ),
        converter(
            "SHA1",
            Log,
            json!({"resource": {"device.name": "router-7"}}),
            r#"SHA1(resource.attributes["device.name"])"#,
            json!("35ba407806da910db1dcd8a8773e395867c2e9d5"),
        ),
        converter(
            "SHA1",
            Log,
            json!({}),
            r#"SHA1("name")"#,
            json!("6ae999552a0d2dca14d62e2bc8b764d377b1dd6c"),
        ),
        converter(
            "SHA256",
            Log,
            json!({"resource": {"device.name": "router-7"}}),
            r#"SHA256(resource.attributes["device.name"])"#,
            json!("f174431f7323b1d4023d5a85dbbae0e5503c4b9054b0e7c7f36b249776908051"),
        ),
        converter(
            "SHA256",
            Log,
            json!({}),
            r#"SHA256("name")"#,
            json!("82a3537ff0dbce7eec35d69edc3a189ee6f17d82f353a553f9aa96cb0be3ce89"),
        ),
        editor(
            "SpanID",
            SpanCtx,
            json!({}),
            r#"set(span.span_id, SpanID(0x0000000000000000))"#,
            json!({"span_id": "0000000000000000"}),
        ),
        editor(
            "SpanID",
            SpanCtx,
            json!({}),
            r#"set(span.span_id, SpanID("0102030405060708"))"#,
            json!({"span_id": "0102030405060708"}),
        ),
        converter(
            "Trim",
            Log,
            json!({}),
            r#"Trim(" this is a test ", " ")"#,
            json!("this is a test"),
        ),
        converter(
            "Trim",
            Log,
            json!({}),
            r#"Trim("!!this is a test!!", "!!")"#,
            json!("this is a test"),
        ),
        converter("String", Log, json!({}), r#"String("test")"#, json!("test")),
        converter(
            "String",
            SpanCtx,
            span.clone(),
            r#"String(span.attributes["http.method"])"#,
            json!("GET"),
        ),
        converter(
            "String",
            SpanCtx,
            span.clone(),
            r#"String(span.span_id)"#,
            json!("0102030405060708"),
        ),
        converter(
            "String",
            Log,
            json!({}),
            r#"String([1,2,3])"#,
            json!("[1,2,3]"),
        ),
        converter("String", Log, json!({}), r#"String(false)"#, json!("false")),
        converter(
            "Substring",
            Log,
            json!({}),
            r#"Substring("123456789", 0, 3)"#,
            json!("123"),
        ),
        converter(
            "Substring",
            Log,
            json!({}),
            r#"Substring("一二三", 0, 4, true)"#,
            json!("一"),
        ),
        converter(
            "Time",
            Log,
            json!({}),
            r#"UnixSeconds(Time("02/04/2023", "%m/%d/%Y"))"#,
            json!(T_2023_02_04),
        ),
        converter(
            "Time",
            Log,
            json!({}),
            r#"UnixSeconds(Time("Feb 15, 2023", "%b %d, %Y"))"#,
            json!(1_676_419_200),
        ),
        converter(
            "Time",
            Log,
            json!({}),
            r#"UnixSeconds(Time("2023-05-26 12:34:56 HST", "%Y-%m-%d %H:%M:%S %Z"))"#,
            json!(1_685_140_496),
        ),
        converter(
            "Time",
            Log,
            json!({}),
            r#"UnixSeconds(Time("1986-10-01T00:17:33 MST", "%Y-%m-%dT%H:%M:%S %Z"))"#,
            json!(528_535_053),
        ),
        converter(
            "Time",
            Log,
            json!({}),
            r#"UnixSeconds(Time("2023-05-26 12:34:56", "%Y-%m-%d %H:%M:%S", "America/New_York"))"#,
            json!(1_685_118_896),
        ),
        // A numeric offset wins over the abbreviation, as in Go's time.Parse.
        converter(
            "Time",
            Log,
            json!({}),
            r#"UnixSeconds(Time("2012-11-01T22:08:41+0000 EST", "%Y-%m-%dT%H:%M:%S%z %Z"))"#,
            json!(1_351_807_721),
        ),
        converter(
            "ToLowerCase",
            MetricCtx,
            json!({"name": "MyMetricName"}),
            r#"ToLowerCase(metric.name)"#,
            json!("mymetricname"),
        ),
        converter(
            "ToUpperCase",
            MetricCtx,
            json!({"name": "MyMetricName"}),
            r#"ToUpperCase(metric.name)"#,
            json!("MYMETRICNAME"),
        ),
        editor(
            "TraceID",
            SpanCtx,
            json!({}),
            r#"set(span.trace_id, TraceID(0x00000000000000000000000000000000))"#,
            json!({"trace_id": "00000000000000000000000000000000"}),
        ),
        editor(
            "TraceID",
            SpanCtx,
            json!({}),
            r#"set(span.trace_id, TraceID("a389023abaa839283293ed323892389d"))"#,
            json!({"trace_id": "a389023abaa839283293ed323892389d"}),
        ),
        converter(
            "UnixMicro",
            Log,
            json!({}),
            r#"UnixMicro(Time("02/04/2023", "%m/%d/%Y"))"#,
            json!(T_2023_02_04 * 1_000_000),
        ),
        converter(
            "UnixMilli",
            Log,
            json!({}),
            r#"UnixMilli(Time("02/04/2023", "%m/%d/%Y"))"#,
            json!(T_2023_02_04 * 1_000),
        ),
        converter(
            "UnixNano",
            Log,
            json!({}),
            r#"UnixNano(Time("02/04/2023", "%m/%d/%Y"))"#,
            json!(T_2023_02_04 * 1_000_000_000),
        ),
        converter(
            "UnixSeconds",
            Log,
            json!({}),
            r#"UnixSeconds(Time("02/04/2023", "%m/%d/%Y"))"#,
            json!(T_2023_02_04),
        ),
        converter(
            "Values",
            Log,
            json!({"resource": {"a": 1, "b": "x"}}),
            r#"Values(resource.attributes)"#,
            json!([1, "x"]),
        ),
        converter(
            "Values",
            Log,
            json!({}),
            r#"Values({"key1": "value1", "key2": 5, "key3": [1,2], "key4": {"b1": "c"}})"#,
            json!(["value1", 5, [1, 2], {"b1": "c"}]),
        ),
    ]
    .into_iter()
    .chain(more_converters())
    .collect()
}

/// The examples of the Converters in `value_converters`.
fn more_converters() -> Vec<Case> {
    let things = THINGS;
    vec![
        converter(
            "HasPrefix",
            Log,
            json!({"resource": {"service.name": "ingest_api"}}),
            r#"HasPrefix(resource.attributes["service.name"], "ingest_")"#,
            json!(true),
        ),
        converter(
            "HasPrefix",
            Log,
            json!({}),
            r#"HasPrefix("ingest_service", "ingest_")"#,
            json!(true),
        ),
        converter(
            "HasSuffix",
            Log,
            json!({"resource": {"service.name": "api_service"}}),
            r#"HasSuffix(resource.attributes["service.name"], "_service")"#,
            json!(true),
        ),
        converter(
            "HasSuffix",
            Log,
            json!({}),
            r#"HasSuffix("ingest_service", "_service")"#,
            json!(true),
        ),
        editor(
            "TrimPrefix",
            Log,
            json!({"resource": {"service.name": "ingest_api"}}),
            r#"set(resource.attributes["service.name"], TrimPrefix(resource.attributes["service.name"], "ingest_"))"#,
            json!({"resource": {"service.name": "api"}}),
        ),
        converter(
            "TrimPrefix",
            Log,
            json!({}),
            r#"TrimPrefix("ingest_service", "ingest_")"#,
            json!("service"),
        ),
        editor(
            "TrimSuffix",
            Log,
            json!({"resource": {"service.name": "api_service"}}),
            r#"set(resource.attributes["service.name"], TrimSuffix(resource.attributes["service.name"], "_service"))"#,
            json!({"resource": {"service.name": "api"}}),
        ),
        converter(
            "TrimSuffix",
            Log,
            json!({}),
            r#"TrimSuffix("ingest_service", "_service")"#,
            json!("ingest"),
        ),
        converter(
            "IsEmpty",
            Log,
            json!({"body": ""}),
            r#"IsEmpty(log.body)"#,
            json!(true),
        ),
        converter(
            "IsEmpty",
            Log,
            json!({"resource": {"maybe empty": {}}}),
            r#"IsEmpty(resource.attributes["maybe empty"])"#,
            json!(true),
        ),
        converter("IsEmpty", Log, json!({}), r#"IsEmpty("")"#, json!(true)),
        converter(
            "IsInCIDR",
            Log,
            json!({"resource": {"server.ip": "192.168.4.2"}}),
            r#"IsInCIDR(resource.attributes["server.ip"], ["192.168.0.0/16"])"#,
            json!(true),
        ),
        converter(
            "IsInCIDR",
            Log,
            json!({"resource": {"server.ip": "10.1.2.3"}}),
            r#"IsInCIDR(resource.attributes["server.ip"], ["192.168.0.0/16", "10.0.0.0/8"])"#,
            json!(true),
        ),
        converter(
            "ContainsValue",
            Log,
            json!({"attributes": {"tags": ["prod", "staging"]}}),
            r#"ContainsValue(attributes["tags"], "staging")"#,
            json!(true),
        ),
        converter(
            "ContainsValue",
            Log,
            json!({}),
            r#"ContainsValue([1, 2, 3, 4, 5], 3)"#,
            json!(true),
        ),
        converter(
            "ContainsValue",
            Log,
            json!({}),
            r#"ContainsValue([1.1, 2.2, 3.3, 4.4], 4.4)"#,
            json!(true),
        ),
        converter(
            "ContainsValue",
            Log,
            json!({}),
            r#"ContainsValue(["GET", "PUT", "POST"], "GET")"#,
            json!(true),
        ),
        converter(
            "Coalesce",
            Log,
            json!({"attributes": {"enduser.id": "e1"}}),
            r#"Coalesce([attributes["user.id"], attributes["enduser.id"], "unknown"])"#,
            json!("e1"),
        ),
        converter(
            "Coalesce",
            Log,
            json!({"resource": {"deployment.environment": "prod"}}),
            r#"Coalesce([resource.attributes["deployment.environment.name"], resource.attributes["deployment.environment"]])"#,
            json!("prod"),
        ),
        converter(
            "Base64Decode",
            Log,
            json!({}),
            r#"Base64Decode("aGVsbG8gd29ybGQ=")"#,
            json!("hello world"),
        ),
        converter(
            "Base64Decode",
            Log,
            json!({"resource": {"encoded field": "dGVzdA=="}}),
            r#"Base64Decode(resource.attributes["encoded field"])"#,
            json!("test"),
        ),
        converter(
            "Base64Encode",
            Log,
            json!({}),
            r#"Base64Encode("test string")"#,
            json!("dGVzdCBzdHJpbmc="),
        ),
        converter(
            "Base64Encode",
            Log,
            json!({"resource": {"field": "hi"}}),
            r#"Base64Encode(resource.attributes["field"])"#,
            json!("aGk="),
        ),
        converter(
            "Base64Encode",
            Log,
            json!({"body": "<<???>>"}),
            r#"Base64Encode(body, "base64-url")"#,
            json!("PDw_Pz8-Pg=="),
        ),
        converter(
            "Base64Encode",
            Log,
            json!({"attributes": {"data": "ab"}}),
            r#"Base64Encode(attributes["data"], "base64-raw")"#,
            json!("YWI"),
        ),
        converter(
            "Decode",
            Log,
            json!({}),
            r#"Decode("aGVsbG8gd29ybGQ=", "base64")"#,
            json!("hello world"),
        ),
        converter(
            "Decode",
            Log,
            json!({"resource": {"encoded field": "plain"}}),
            r#"Decode(resource.attributes["encoded field"], "us-ascii")"#,
            json!("plain"),
        ),
        converter(
            "Unix",
            Log,
            json!({}),
            r#"UnixSeconds(Unix(1672527600))"#,
            json!(1_672_527_600),
        ),
        converter(
            "TruncateTime",
            SpanCtx,
            json!({"start_time_unix_nano": 1_675_468_800_123_456_789_u64}),
            r#"UnixNano(TruncateTime(span.start_time, Duration("1s")))"#,
            json!(1_675_468_800_000_000_000_i64),
        ),
        converter(
            "SHA512",
            Log,
            json!({"resource": {"device.name": "router-7"}}),
            r#"SHA512(resource.attributes["device.name"])"#,
            json!(
                "dcc9e1a5ac48ae0faccc1701eb4378b6f1b46bcfa17eb4e17118886ea40b8da9f93383499ea9fc6b9dcf66c09174afd8eaeeef2622849c5a3b4b70ddb65d14af"
            ),
        ),
        converter(
            "SHA512",
            Log,
            json!({}),
            r#"SHA512("name")"#,
            json!(
                "b114f311db0e009ca2a88a9b97b1d7b362ddb27dc3dd214c6d20327a1fc3add8cc488cca4cc3565a876f6040f8b73a7b92475be1d0b1bc453f6140fba7183b9a"
            ),
        ),
        converter(
            "Log",
            SpanCtx,
            json!({"attributes": {"duration_ms": 100}}),
            r#"Log(span.attributes["duration_ms"])"#,
            json!(4.605170185988092),
        ),
        converter(
            "IsValidLuhn",
            SpanCtx,
            json!({"attributes": {"credit_card_number": "4539578763621486"}}),
            r#"IsValidLuhn(span.attributes["credit_card_number"])"#,
            json!(true),
        ),
        converter(
            "IsValidLuhn",
            Log,
            json!({}),
            r#"IsValidLuhn("17893729974")"#,
            json!(true),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("12345", 10)"#,
            json!(12345),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("0xAA", 0)"#,
            json!(170),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("AA", 16)"#,
            json!(170),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("-20", 8)"#,
            json!(-16),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("0b1111_0000", 0)"#,
            json!(240),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("0b10110", 0)"#,
            json!(22),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("0xFF", 0)"#,
            json!(255),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("-0xFF", 0)"#,
            json!(-255),
        ),
        converter(
            "ParseInt",
            Log,
            json!({}),
            r#"ParseInt("-0o123", 0)"#,
            json!(-83),
        ),
        converter(
            "ToCamelCase",
            MetricCtx,
            json!({"name": "my_metric_name"}),
            r#"ToCamelCase(metric.name)"#,
            json!("MyMetricName"),
        ),
        converter(
            "ToSnakeCase",
            MetricCtx,
            json!({"name": "MyMetricName"}),
            r#"ToSnakeCase(metric.name)"#,
            json!("my_metric_name"),
        ),
        converter(
            "Sort",
            Log,
            json!({"resource": {"device.tags": ["b", "a", "c"]}}),
            r#"Sort(resource.attributes["device.tags"])"#,
            json!(["a", "b", "c"]),
        ),
        converter(
            "Sort",
            Log,
            json!({"resource": {"device.tags": [2, 1.5, 3]}}),
            r#"Sort(resource.attributes["device.tags"], "desc")"#,
            json!([3, 2, 1.5]),
        ),
        converter(
            "ToKeyValueString",
            Log,
            json!({"body": {"k1": "v1", "k2": "v2", "k3": "v3"}}),
            r#"ToKeyValueString(log.body)"#,
            json!("k1=v1 k2=v2 k3=v3"),
        ),
        converter(
            "ToKeyValueString",
            Log,
            json!({"body": {"k2": "v2", "k1": "v:1"}}),
            r#"ToKeyValueString(log.body, ":", ",", true)"#,
            json!(r#"k1:"v:1",k2:v2"#),
        ),
        converter(
            "ToKeyValueString",
            Log,
            json!({"body": {"k1": "v1", "k2": {"k3": "v3", "k4": ["v4", "v5"]}}}),
            r#"ToKeyValueString(log.body)"#,
            json!(r#"k1=v1 k2={"k3":"v3","k4":["v4","v5"]}"#),
        ),
        converter(
            "ToKeyValueString",
            Log,
            json!({"body": {"k1": "v1", "k2": "v=2", "k3": "\"v=3\""}}),
            r#"ToKeyValueString(log.body)"#,
            json!(r#"k1=v1 k2="v=2" k3="\"v=3\"""#),
        ),
        converter(
            "SliceToMap",
            Log,
            things(),
            r#"SliceToMap(resource.attributes["things"], ["name"])"#,
            json!({"foo": {"name": "foo", "value": 2}, "bar": {"name": "bar", "value": 5}}),
        ),
        converter(
            "SliceToMap",
            Log,
            things(),
            r#"SliceToMap(resource.attributes["things"])"#,
            json!({"0": {"name": "foo", "value": 2}, "1": {"name": "bar", "value": 5}}),
        ),
        converter(
            "SliceToMap",
            Log,
            things(),
            r#"SliceToMap(resource.attributes["things"], ["name"], ["value"])"#,
            json!({"foo": 2, "bar": 5}),
        ),
        editor(
            "SliceToMap",
            Log,
            things(),
            r#"set(resource.attributes["thingsMap"], SliceToMap(resource.attributes["things"], ["name"]))"#,
            json!({"resource": {"hello": "world",
                                "things": [{"name": "foo", "value": 2}, {"name": "bar", "value": 5}],
                                "thingsMap": {"foo": {"name": "foo", "value": 2}, "bar": {"name": "bar", "value": 5}}}}),
        ),
        converter(
            "URL",
            Log,
            json!({}),
            r#"URL("http://www.example.com")"#,
            json!({"url.original": "http://www.example.com", "url.scheme": "http",
                   "url.domain": "www.example.com", "url.path": ""}),
        ),
        converter(
            "URL",
            Log,
            json!({}),
            r#"URL("http://myusername:mypassword@www.example.com:80/foo.gif?key1=val1&key2=val2#fragment")"#,
            json!({"url.path": "/foo.gif", "url.fragment": "fragment", "url.extension": "gif",
                   "url.password": "mypassword",
                   "url.original": "http://myusername:mypassword@www.example.com:80/foo.gif?key1=val1&key2=val2#fragment",
                   "url.scheme": "http", "url.port": 80, "url.user_info": "myusername:mypassword",
                   "url.domain": "www.example.com", "url.query": "key1=val1&key2=val2",
                   "url.username": "myusername"}),
        ),
    ]
}

/// The input of the reference's SliceToMap examples.
const THINGS: fn() -> Json = || json!({"resource": {"hello": "world", "things": [{"name": "foo", "value": 2}, {"name": "bar", "value": 5}]}});

/// Fields of `actual` that differ from `expect` (only the fields `expect` names).
fn differences(expect: &Json, actual: &Json) -> Vec<String> {
    expect
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, v)| actual.get(k.as_str()) != Some(v))
        .map(|(k, v)| {
            format!(
                "{k}: expected {v}, got {}",
                actual.get(k.as_str()).unwrap_or(&Json::Null)
            )
        })
        .collect()
}

#[test]
fn every_supported_example_gives_the_documented_result() {
    let mut failures = Vec::new();
    let cases: Vec<Case> = editors().into_iter().chain(converters()).collect();
    for case in &cases {
        match run(case) {
            Ok(actual) => {
                let diff = differences(&case.expect, &actual);
                if !diff.is_empty() {
                    failures.push(format!(
                        "[{}] {:?}: {}",
                        case.section,
                        case.statements,
                        diff.join("; ")
                    ));
                }
            }
            Err(e) => failures.push(format!("[{}] {:?}: {e}", case.section, case.statements)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} examples differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Examples whose result depends on the clock: checked against it.
#[test]
fn now_examples_read_the_clock() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let case = converter("Now", Log, json!({}), "UnixSeconds(Now())", Json::Null);
    let out = run(&case).unwrap();
    let seconds = out["cache"]["out"].as_i64().unwrap();
    assert!((seconds - before.as_secs() as i64).abs() <= 5, "{seconds}");
    let case = editor(
        "Now",
        SpanCtx,
        json!({}),
        "set(span.start_time, Now())",
        Json::Null,
    );
    let out = run(&case).unwrap();
    let nanos = out["start_time_unix_nano"].as_u64().unwrap();
    assert!(
        (nanos / 1_000_000_000).abs_diff(before.as_secs()) <= 5,
        "{nanos}"
    );
}

/// The time-part examples (`Year(Now())`...) and the date Format examples, against the
/// clock (a run across midnight UTC could see two days: it retries once).
#[test]
fn time_part_examples_read_the_clock() {
    use chrono::{Datelike, Timelike};
    let attempt = || {
        let now = chrono::Utc::now();
        let read = |expression: &str, input: Json| {
            run(&converter("Now", Log, input, expression, Json::Null)).unwrap()["cache"]["out"]
                .clone()
        };
        let expected = [
            ("Year(Now())", json!(now.year())),
            ("Month(Now())", json!(now.month())),
            ("Day(Now())", json!(now.day())),
            ("Hour(Now())", json!(now.hour())),
            (
                "Weekday(Now())",
                json!(now.weekday().num_days_from_sunday()),
            ),
            (
                r#"Format("%04d-%02d-%02d", [Year(Now()), Month(Now()), Day(Now())])"#,
                json!(now.format("%Y-%m-%d").to_string()),
            ),
        ];
        let mut same = expected.iter().all(|(e, want)| read(e, json!({})) == *want);
        same &= read(
            r#"Format("%s/%s/%04d-%02d-%02d.log", [resource.attributes["hostname"], log.body["program"], Year(Now()), Month(Now()), Day(Now())])"#,
            json!({"resource": {"hostname": "web-1"}, "body": {"program": "nginx"}}),
        ) == json!(format!("web-1/nginx/{}.log", now.format("%Y-%m-%d")));
        for (expression, below) in [
            ("Minute(Now())", 60),
            ("Second(Now())", 61),
            ("Nanosecond(Now())", 1_000_000_000),
        ] {
            let v = read(expression, json!({})).as_i64().unwrap();
            assert!((0..below).contains(&v), "{expression}: {v}");
        }
        same
    };
    assert!(attempt() || attempt());
}

#[test]
fn uuid_examples_make_version_4_and_7_uuids() {
    for (expression, version) in [("UUID()", '4'), ("UUIDv7()", '7')] {
        let out = run(&converter("UUID", Log, json!({}), expression, Json::Null)).unwrap();
        let text = out["cache"]["out"].as_str().unwrap().to_string();
        assert_eq!(text.len(), 36, "{text}");
        assert_eq!(text.chars().nth(14), Some(version), "{text}");
    }
}

/// The reference's second FormatTime example is ill-typed as written (`UnixNano` takes a
/// time and returns an int): like Go, it compiles and fails on each item, which the
/// statement's `error_mode` then handles.
#[test]
fn the_ill_typed_format_time_example_fails_per_item() {
    let case = converter(
        "FormatTime",
        SpanCtx,
        json!({"attributes": {"time_nanoseconds": 1_675_468_800_000_000_000_i64}}),
        r#"FormatTime(UnixNano(span.attributes["time_nanoseconds"]), "%b %d %Y %H:%M:%S")"#,
        Json::Null,
    );
    let error = run(&case).unwrap_err();
    assert!(error.contains("UnixNano"), "{error}");
}

/// Examples of the reference that Tributary refuses, with the reason (one example per
/// function not implemented; every example of the others that is not valid OTTL).
const UNSUPPORTED: &[(&str, &str)] = &[
    // Not implemented yet.
    (
        r#"delete_index(attributes["tags"], 0)"#,
        "delete_index is not implemented yet",
    ),
    (
        r#"delete_index(attributes["tags"], Len(attributes["tags"]) - 1)"#,
        "delete_index is not implemented yet",
    ),
    (
        r#"delete_index(attributes["tags"], 0, 3)"#,
        "delete_index is not implemented yet",
    ),
    (
        r#"delete_index(attributes["tags"], Index(attributes["tags"], "unparsed"))"#,
        "delete_index is not implemented yet",
    ),
    (
        r#"stringify_all(log.attributes)"#,
        "stringify_all is not implemented yet",
    ),
    (
        r#"stringify_all(resource.attributes)"#,
        "stringify_all is not implemented yet",
    ),
    (
        r#"Time("mercoledì set 4 2024", "%A %h %e %Y", "", "it")"#,
        "Time's locale: only English (no CLDR data for other languages)",
    ),
    (
        r#"Time("Febrero 25 lunes, 2002, 02:03:04 p.m.", "%B %d %A, %Y, %r", "America/New_York", "es-ES")"#,
        "Time's locale: only English (no CLDR data for other languages)",
    ),
    (
        r#"All(log.attributes["tags"], (_, v) => v == "prod")"#,
        "lambdas (alpha in Go) are not supported",
    ),
    (
        r#"Any(log.attributes["tags"], (_, v) => v == "prod")"#,
        "lambdas (alpha in Go) are not supported",
    ),
    (
        r#"Filter(log.attributes["tags"], (_, v) => v == "prod")"#,
        "lambdas (alpha in Go) are not supported",
    ),
    (
        r#"Find(log.attributes["tags"], (_, v) => v == "prod")"#,
        "lambdas (alpha in Go) are not supported",
    ),
    (
        r#"MapEach(log.attributes["counts"], (_, v) => Int(v) * 2)"#,
        "lambdas (alpha in Go) are not supported",
    ),
    (
        r#"MapKeys(log.attributes, (k, _) => Concat(["http.", k], ""))"#,
        "lambdas (alpha in Go) are not supported",
    ),
    (
        r#"Reduce(log.attributes["counts"], 0, (acc, _, v) => acc + Int(v))"#,
        "lambdas (alpha in Go) are not supported",
    ),
    (
        r#"When(() => IsMap(log.attributes), "map", "not map")"#,
        "lambdas (alpha in Go) are not supported",
    ),
    (
        r#"ConvertAttributesToElementsXML(log.body)"#,
        "XML functions are not implemented",
    ),
    (
        r#"ConvertTextToElementsXML(log.body)"#,
        "XML functions are not implemented",
    ),
    (
        r#"GetXML(log.body, "/a")"#,
        "XML functions are not implemented",
    ),
    (
        r#"InsertXML(log.body, "/", "<foo/>")"#,
        "XML functions are not implemented",
    ),
    (
        r#"ParseSimplifiedXML(log.body)"#,
        "XML functions are not implemented",
    ),
    (r#"ParseXML(log.body)"#, "XML functions are not implemented"),
    (
        r#"RemoveXML(log.body, "/a/b")"#,
        "XML functions are not implemented",
    ),
    (
        r#"ExtractGrokPatterns(log.body, "%{URI}", true)"#,
        "ExtractGrokPatterns is not implemented",
    ),
    (
        r#"CommunityID("192.168.1.1", 54321, "10.0.0.1", 90, "UDP", 2)"#,
        "not implemented yet",
    ),
    (
        r#"Murmur3Hash(attributes["order.productId"])"#,
        "not implemented yet",
    ),
    (
        r#"Murmur3Hash128(attributes["order.productId"])"#,
        "not implemented yet",
    ),
    (
        r#"ParseCSV("999-999-9999,Joe Smith,joe.smith@example.com", "phone,name,email")"#,
        "not implemented yet",
    ),
    (
        r#"ProfileID("a389023abaa839283293ed323892389d")"#,
        "profiles are not a signal Tributary carries",
    ),
    (
        r#"UserAgent("curl/7.81.0")"#,
        "needs the uap-core regex database",
    ),
    (r#"XXH3("name")"#, "not implemented yet"),
    (r#"XXH128("name")"#, "not implemented yet"),
    (
        r#"IsBool(pcommon.NewValueBool(false))"#,
        "Go code, not an OTTL expression",
    ),
    (
        r#"ParseSeverity(attributes["log-level"] {"info":[{"range":"2xx""}]})"#,
        "not valid OTTL as documented (no comma, stray quote)",
    ),
    (
        r#"FormatTime(TruncateTime(spanevent.time, Duration("10h 20m"))), "%Y-%m-%d %H:%M:%S")"#,
        "not valid OTTL as documented (unbalanced parentheses)",
    ),
    (
        r#"Int(Log(span.attributes["duration_ms"])"#,
        "not valid OTTL as documented (unbalanced parentheses)",
    ),
    (
        r#"set(resource.attributes["element_1"], resource.attributes["thingsMap"]["foo'])"#,
        "not valid OTTL as documented (mismatched quotes)",
    ),
];

#[test]
fn unsupported_examples_are_refused_at_config_time() {
    let mut now_supported = Vec::new();
    for (expression, reason) in UNSUPPORTED {
        // Editors stand alone; Converters are tried as the value of `set`.
        let statement = if expression.starts_with(|c: char| c.is_ascii_lowercase()) {
            expression.to_string()
        } else {
            format!("set(cache[\"out\"], {expression})")
        };
        let compiles = [Log, SpanCtx, MetricCtx, ResourceCtx]
            .into_iter()
            .any(|ctx| compile_statement(&statement, ctx).is_ok());
        if compiles {
            now_supported.push(format!("{expression} ({reason})"));
        }
    }
    assert!(
        now_supported.is_empty(),
        "these compile now: give them golden cases:\n{}",
        now_supported.join("\n")
    );
}
