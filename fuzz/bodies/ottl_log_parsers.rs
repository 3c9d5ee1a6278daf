//! The transform processor's log converters on whatever a peer put in a log body:
//! `ParseCEF`, `ParseCLF` (both formats), `ParseELF`, `ParseLEEF`, and the older
//! `ParseJSON`, `ParseKeyValue` and `ExtractPatterns`. An input that does not parse is an
//! error for that record; none may panic.

use std::sync::OnceLock;

use tributary_ottl::{CompiledStatement, ContextKind, Item, TransformContext, compile_statement};
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, any_value};
use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;

/// The statements, compiled once per process.
fn statements() -> &'static [CompiledStatement] {
    static COMPILED: OnceLock<Vec<CompiledStatement>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        [
            r#"set(attributes["cef"], ParseCEF(body))"#,
            r#"set(attributes["clf"], ParseCLF(body))"#,
            r#"set(attributes["combined"], ParseCLF(body, "combined"))"#,
            r#"set(attributes["elf"], ParseELF(body))"#,
            r#"set(attributes["leef"], ParseLEEF(body))"#,
            r#"set(attributes["json"], ParseJSON(body))"#,
            r#"set(attributes["kv"], ParseKeyValue(body))"#,
            r#"set(attributes["kv2"], ParseKeyValue(body, ":", ";"))"#,
            r#"set(attributes["re"], ExtractPatterns(body, "^(?P<first>\\w+)\\s+(?P<rest>.*)$"))"#,
        ]
        .iter()
        .map(|text| {
            compile_statement(text, ContextKind::Log).unwrap_or_else(|e| panic!("{text}: {e}"))
        })
        .collect()
    })
}

/// Runs every statement on a log record whose body is `data` as text; a panic is a finding.
pub fn run(data: &[u8]) {
    let mut record = LogRecord {
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(
                String::from_utf8_lossy(data).into_owned(),
            )),
        }),
        ..Default::default()
    };
    for statement in statements() {
        let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
        let mut ctx = TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item: Item::Log(&mut record),
            cache: &mut cache,
        };
        let _ = statement.execute(&mut ctx);
    }
}
