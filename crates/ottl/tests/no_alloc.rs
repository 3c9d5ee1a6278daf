//! Conditions that compare paths with literals read the item in place: evaluating them
//! allocates nothing, whatever the item count (a counting global allocator checks).

use tributary_ottl::{ContextKind, Item, TransformContext, compile_condition};
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::trace::v1::Span;

#[test]
fn comparing_paths_with_literals_does_not_allocate() {
    let condition = compile_condition(
        r#"attributes["http.method"] == "GET" and name != "healthz" and kind == SPAN_KIND_SERVER and resource.attributes["missing"] == nil and attributes["code"] >= 200"#,
        ContextKind::Span,
    )
    .unwrap();
    let string = |s: &str| {
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(s.into())),
        })
    };
    let mut span = Span {
        name: "GET /".into(),
        kind: 2,
        attributes: vec![
            KeyValue {
                key: "http.method".into(),
                value: string("GET"),
                ..Default::default()
            },
            KeyValue {
                key: "code".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(200)),
                }),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
    let ctx = TransformContext {
        resource: &mut resource,
        scope: Some(&mut scope),
        item: Item::Span(&mut span),
        cache: &mut cache,
    };
    assert!(condition.matches(&ctx).unwrap());
    let info = allocation_counter::measure(|| {
        for _ in 0..1000 {
            assert!(condition.matches(&ctx).unwrap());
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    // The counter does count: a converter builds its result.
    let computed =
        compile_condition(r#"Concat([name, "x"], "") == "GET /x""#, ContextKind::Span).unwrap();
    let info = allocation_counter::measure(|| assert!(computed.matches(&ctx).unwrap()));
    assert!(info.count_total > 0);
}
