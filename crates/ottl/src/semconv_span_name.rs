//! The transform processor's `set_semconv_span_name(semconvVersion,
//! originalSpanNameAttribute?)` editor (span context), as the Go Collector's
//! `func_set_semconv_span_name.go` has it: the span's name becomes the one the OpenTelemetry
//! semantic conventions give its kind and attributes, so that a high-cardinality name
//! (`GET /api/v1/users/123`) becomes a low-cardinality one (`GET /api/v1/users/{id}`).
//!
//! | kind | tried in order |
//! |---|---|
//! | server | HTTP (`{method} {http.route}`), RPC, messaging |
//! | client | HTTP (`{method} {url.template}`), RPC, database, messaging |
//! | producer, consumer | messaging |
//!
//! - HTTP: `{http.request.method} {subject}`, or the method alone without the subject;
//! - RPC (`rpc.system.name` set): `{rpc.service}/{rpc.method}`, the method alone,
//!   `{service}/*`, or the system;
//! - database (`db.system.name` set): `db.query.summary`, else `{db.operation.name}
//!   {target}`, the operation, the target, or the system, where the target is
//!   `{db.namespace}.{db.collection.name}` (or the stored procedure), the namespace, or
//!   `{server.address}:{server.port}`;
//! - messaging (`messaging.system` set): `{messaging.operation.name} {destination}`, the
//!   destination, the operation, or the system, where the destination is `(temporary)`,
//!   `(anonymous)`, `messaging.destination.template`, `messaging.destination.name`, or
//!   `{server.address}:{server.port}`.
//!
//! Each attribute also reads its deprecated name (`http.method`, `rpc.grpc.method`,
//! `rpc.grpc.service`, `rpc.system`, `db.system`, `db.operation`, `db.name`,
//! `messaging.operation`, `messaging.destination`). A span no convention names keeps its
//! name. When the name changes and `originalSpanNameAttribute` is given, the old name is
//! kept in that attribute. `semconvVersion` must be 1.37.0 to 1.43.0, the versions the
//! Go Collector supports.

use tributary_pipeline_core::pdata::proto::common::v1::{KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::trace::v1::Span;

use crate::value::Value;

/// The oldest and newest semantic convention versions, as (major, minor, patch).
const VERSIONS: ((u64, u64, u64), (u64, u64, u64)) = ((1, 37, 0), (1, 43, 0));

/// Checks `semconvVersion` (a semantic version, `v` prefix and missing parts allowed, as
/// Go's `semver.NewVersion`).
pub(crate) fn check_version(text: &str) -> Result<(), String> {
    let digits = text.strip_prefix('v').unwrap_or(text);
    let mut parts = digits.split('.');
    let mut next = || -> Result<u64, String> {
        match parts.next() {
            None => Ok(0),
            Some(p) => p
                .parse::<u64>()
                .map_err(|_| format!("failed to parse semconv version {text:?}")),
        }
    };
    let version = (next()?, next()?, next()?);
    if parts.next().is_some() {
        return Err(format!("failed to parse semconv version {text:?}"));
    }
    let ((a, b, c), (x, y, z)) = VERSIONS;
    if version < (a, b, c) || version > (x, y, z) {
        return Err(format!(
            "unsupported semconv version {text:?}: must be between {a}.{b}.{c} and {x}.{y}.{z}"
        ));
    }
    Ok(())
}

/// Renames the span; keeps its old name in `original_name_attribute` when it changes.
pub(crate) fn set_semconv_span_name(span: &mut Span, original_name_attribute: Option<&str>) {
    let name = derive(span);
    if name == span.name {
        return;
    }
    let original = std::mem::replace(&mut span.name, name);
    if let Some(key) = original_name_attribute {
        let value = Some(Value::Str(original).to_any());
        match span.attributes.iter_mut().find(|kv| kv.key == key) {
            Some(kv) => kv.value = value,
            None => span.attributes.push(KeyValue {
                key: key.to_string(),
                value,
                ..Default::default()
            }),
        }
    }
}

const SERVER: i32 = 2;
const CLIENT: i32 = 3;
const PRODUCER: i32 = 4;
const CONSUMER: i32 = 5;

/// The span's attributes, read as Go's `pcommon.Value.AsString` renders them.
struct Attributes<'s>(&'s [KeyValue]);

impl Attributes<'_> {
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| kv.value.as_ref().map(Value::from_any).unwrap_or(Value::Nil))
            .map(|v| v.to_display())
    }

    /// An attribute, else its deprecated name.
    fn either(&self, key: &str, old: &str) -> Option<String> {
        self.get(key).or_else(|| self.get(old))
    }

    /// Whether a boolean attribute is true (`pcommon.Value.Bool`: false when not a bool).
    fn is_true(&self, key: &str) -> bool {
        self.0.iter().any(|kv| {
            kv.key == key
                && matches!(
                    kv.value.as_ref().and_then(|v| v.value.as_ref()),
                    Some(any_value::Value::BoolValue(true))
                )
        })
    }

    fn address(&self) -> Option<String> {
        let address = self.get("server.address")?;
        Some(match self.get("server.port") {
            Some(port) => format!("{address}:{port}"),
            None => address,
        })
    }
}

fn derive(span: &Span) -> String {
    let a = Attributes(&span.attributes);
    // Each convention in turn, until one gives a name that is not empty.
    let named = |name: Option<String>| name.filter(|n| !n.is_empty());
    let name = match span.kind {
        SERVER => named(http(&a, "http.route"))
            .or_else(|| named(rpc(&a)))
            .or_else(|| named(messaging(&a))),
        CLIENT => named(http(&a, "url.template"))
            .or_else(|| named(rpc(&a)))
            .or_else(|| named(database(&a)))
            .or_else(|| named(messaging(&a))),
        PRODUCER | CONSUMER => named(messaging(&a)),
        _ => None,
    };
    name.unwrap_or_else(|| span.name.clone())
}

fn http(a: &Attributes<'_>, subject: &str) -> Option<String> {
    let method = a.either("http.request.method", "http.method")?;
    Some(match a.get(subject) {
        Some(subject) => format!("{method} {subject}"),
        None => method,
    })
}

fn rpc(a: &Attributes<'_>) -> Option<String> {
    let system = a.either("rpc.system.name", "rpc.system")?;
    let method = a.either("rpc.method", "rpc.grpc.method");
    let service = a.either("rpc.service", "rpc.grpc.service");
    Some(match (service, method) {
        (Some(service), Some(method)) => format!("{service}/{method}"),
        (None, Some(method)) => method,
        (Some(service), None) => format!("{service}/*"),
        (None, None) => system,
    })
}

fn database(a: &Attributes<'_>) -> Option<String> {
    let system = a.either("db.system.name", "db.system")?;
    if let Some(summary) = a.get("db.query.summary") {
        return Some(summary);
    }
    let operation = a
        .either("db.operation.name", "db.operation")
        .unwrap_or_default();
    let target = database_target(a);
    Some(match (operation.is_empty(), target.is_empty()) {
        (false, false) => format!("{operation} {target}"),
        (false, true) => operation,
        (true, false) => target,
        (true, true) => system,
    })
}

fn database_target(a: &Attributes<'_>) -> String {
    let namespace = a.either("db.namespace", "db.name").unwrap_or_default();
    let within = |name: String| {
        if namespace.is_empty() {
            name
        } else {
            format!("{namespace}.{name}")
        }
    };
    if let Some(collection) = a.get("db.collection.name") {
        return within(collection);
    }
    if let Some(procedure) = a.get("db.stored_procedure.name") {
        return within(procedure);
    }
    if !namespace.is_empty() {
        return namespace;
    }
    a.address().unwrap_or_default()
}

fn messaging(a: &Attributes<'_>) -> Option<String> {
    let system = a.get("messaging.system")?;
    let operation = a.either("messaging.operation.name", "messaging.operation");
    let destination = messaging_destination(a);
    Some(match (operation, destination.is_empty()) {
        (Some(operation), false) => format!("{operation} {destination}"),
        (_, false) => destination,
        (Some(operation), true) => operation,
        (None, true) => system,
    })
}

fn messaging_destination(a: &Attributes<'_>) -> String {
    if a.is_true("messaging.destination.temporary") {
        return "(temporary)".into();
    }
    if a.is_true("messaging.destination.anonymous") {
        return "(anonymous)".into();
    }
    a.get("messaging.destination.template")
        .or_else(|| a.either("messaging.destination.name", "messaging.destination"))
        .or_else(|| a.address())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::pdata::proto::common::v1::AnyValue;

    use super::*;
    use crate::{ContextKind, Item, TransformContext, compile_statement};

    fn span(kind: i32, name: &str, attributes: &[(&str, &str)]) -> Span {
        Span {
            name: name.into(),
            kind,
            attributes: attributes
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.to_string(),
                    value: Some(Value::Str(v.to_string()).to_any()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn run(statement: &str, span: &mut Span) {
        let s = compile_statement(statement, ContextKind::Span).unwrap_or_else(|e| panic!("{e}"));
        let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
        let mut ctx = TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item: Item::Span(span),
            cache: &mut cache,
        };
        s.execute(&mut ctx).unwrap_or_else(|e| panic!("{e}"));
    }

    fn attribute(span: &Span, key: &str) -> Option<String> {
        Attributes(&span.attributes).get(key)
    }

    /// (kind, name, attributes, the name it gets)
    type Case = (
        i32,
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
    );

    /// The cases of Go's `TestSemconvSpanName` (the attributes that name nothing left out)
    /// and the README's examples.
    #[test]
    fn spans_are_named_as_go_names_them() {
        let cases: &[Case] = &[
            (
                SERVER,
                "GET /users/123",
                &[("http.request.method", "GET"), ("http.route", "/users/:id")],
                "GET /users/:id",
            ),
            (
                SERVER,
                "GET /users/123",
                &[("http.method", "GET"), ("http.route", "/users/:id")],
                "GET /users/:id",
            ),
            (
                SERVER,
                "GET /users/123",
                &[("http.request.method", "GET")],
                "GET",
            ),
            (
                SERVER,
                "GET /app/workspaces/7?_rsc=hn5g2",
                &[
                    ("http.method", "GET"),
                    ("http.target", "/app/workspaces/7?_rsc=hn5g2"),
                ],
                "GET",
            ),
            (
                SERVER,
                "GET /api/v1/users/123",
                &[
                    ("http.request.method", "GET"),
                    ("http.route", "/api/v1/users/{id}"),
                    ("url.path", "/api/v1/users/123"),
                ],
                "GET /api/v1/users/{id}",
            ),
            (
                SERVER,
                "GET /api/v1/users/{id}",
                &[
                    ("http.request.method", "GET"),
                    ("http.route", "/api/v1/users/{id}"),
                ],
                "GET /api/v1/users/{id}",
            ),
            (
                CLIENT,
                "GET /users/123",
                &[
                    ("http.request.method", "GET"),
                    ("url.template", "/users/:id"),
                ],
                "GET /users/:id",
            ),
            (
                CLIENT,
                "GET /users/123",
                &[("http.method", "GET"), ("url.template", "/users/:id")],
                "GET /users/:id",
            ),
            (CLIENT, "GET /users/123", &[("http.method", "GET")], "GET"),
            (
                CLIENT,
                "INSERT webshop.orders",
                &[
                    ("db.system.name", "postgresql"),
                    ("db.namespace", "webshop"),
                    ("db.operation.name", "INSERT"),
                    ("db.collection.name", "orders"),
                ],
                "INSERT webshop.orders",
            ),
            (
                CLIENT,
                "HGET",
                &[
                    ("db.system", "redis"),
                    ("db.statement", "HGET 7175d9c6"),
                    ("server.address", "valkey-cart"),
                ],
                "valkey-cart",
            ),
            (
                CLIENT,
                "otel",
                &[
                    ("db.system", "postgresql"),
                    ("db.name", "otel"),
                    ("net.peer.name", "postgresql"),
                ],
                "otel",
            ),
            (
                CLIENT,
                "SELECT * FROM product WHERE id=12345",
                &[
                    ("db.system.name", "mysql"),
                    ("db.query.summary", "SELECT product"),
                ],
                "SELECT product",
            ),
            (
                CLIENT,
                "q",
                &[
                    ("db.system.name", "mysql"),
                    ("server.address", "db"),
                    ("server.port", "3306"),
                ],
                "db:3306",
            ),
            (
                CLIENT,
                "oteldemo.CartService/GetCart",
                &[
                    ("rpc.grpc.method", "GetCart"),
                    ("rpc.grpc.service", "oteldemo.CartService"),
                    ("rpc.system", "grpc"),
                ],
                "oteldemo.CartService/GetCart",
            ),
            (
                SERVER,
                "x",
                &[
                    ("rpc.system.name", "grpc"),
                    ("rpc.service", "oteldemo.AdService"),
                ],
                "oteldemo.AdService/*",
            ),
            (SERVER, "x", &[("rpc.system.name", "grpc")], "grpc"),
            (
                CONSUMER,
                "orders receive",
                &[
                    ("messaging.destination.name", "orders"),
                    ("messaging.operation", "receive"),
                    ("messaging.system", "kafka"),
                ],
                "receive orders",
            ),
            (
                PRODUCER,
                "orders publish",
                &[
                    ("messaging.destination.name", "orders"),
                    ("messaging.operation", "publish"),
                    ("messaging.system", "kafka"),
                ],
                "publish orders",
            ),
            (
                PRODUCER,
                "send /customers/123456",
                &[
                    ("messaging.system", "x"),
                    ("messaging.operation.name", "send"),
                    ("messaging.destination.template", "/customers/{customerId}"),
                    ("messaging.destination.name", "/customers/123456"),
                ],
                "send /customers/{customerId}",
            ),
            (CONSUMER, "x", &[("messaging.system", "kafka")], "kafka"),
            // No convention for internal spans, nor for a server span without attributes.
            (
                1,
                "GET /users/123",
                &[("http.request.method", "GET")],
                "GET /users/123",
            ),
            (SERVER, "GET /users/123", &[], "GET /users/123"),
        ];
        for (kind, name, attributes, want) in cases {
            let mut s = span(*kind, name, attributes);
            run(
                r#"set_semconv_span_name("1.43.0", "original_span_name")"#,
                &mut s,
            );
            assert_eq!(s.name, *want, "{name} {attributes:?}");
            let original = attribute(&s, "original_span_name");
            if name == want {
                assert_eq!(original, None, "{name}");
            } else {
                assert_eq!(original.as_deref(), Some(*name), "{name}");
            }
        }
    }

    #[test]
    fn temporary_and_anonymous_destinations_are_named_so() {
        let mut s = span(
            PRODUCER,
            "send amq.gen-1",
            &[
                ("messaging.system", "rabbitmq"),
                ("messaging.operation.name", "send"),
                ("messaging.destination.name", "amq.gen-1"),
            ],
        );
        s.attributes.push(KeyValue {
            key: "messaging.destination.temporary".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::BoolValue(true)),
            }),
            ..Default::default()
        });
        run(r#"set_semconv_span_name("1.37.0")"#, &mut s);
        assert_eq!(s.name, "send (temporary)");
        assert_eq!(attribute(&s, "original_span_name"), None);
        s.attributes[3].key = "messaging.destination.anonymous".into();
        run(r#"set_semconv_span_name("v1.40")"#, &mut s);
        assert_eq!(s.name, "send (anonymous)");
    }

    #[test]
    fn versions_outside_the_known_range_are_config_errors() {
        for (version, expected) in [
            ("1.36.0", "must be between 1.37.0 and 1.43.0"),
            ("1.44.0", "must be between 1.37.0 and 1.43.0"),
            ("latest", "failed to parse semconv version"),
            ("1.40.0.1", "failed to parse semconv version"),
        ] {
            let e = compile_statement(
                &format!(r#"set_semconv_span_name("{version}")"#),
                ContextKind::Span,
            )
            .map(|_| ())
            .unwrap_err();
            assert!(e.to_string().contains(expected), "{version}: {e}");
        }
        let e = compile_statement(r#"set_semconv_span_name("1.40.0", "")"#, ContextKind::Span)
            .map(|_| ())
            .unwrap_err();
        assert!(e.to_string().contains("cannot be an empty string"), "{e}");
        let e = compile_statement(r#"set_semconv_span_name("1.40.0")"#, ContextKind::Log)
            .map(|_| ())
            .unwrap_err();
        assert!(
            e.to_string().contains("only available in the span context"),
            "{e}"
        );
    }
}
