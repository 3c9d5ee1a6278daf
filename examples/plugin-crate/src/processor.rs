//! The `add_attributes` logic: stamp configured attributes onto every resource and record.

use async_trait::async_trait;
use tributary_pipeline_core::component::Component;
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::{OtlpRequest, Payload};

use crate::config::{AttributeValue, Config};

/// The `add_attributes` processor for one signal.
pub struct AddAttributes<T> {
    resource: Vec<KeyValue>,
    record: Vec<KeyValue>,
    overwrite: bool,
    next: Next<T>,
}

fn key_values(attributes: &std::collections::BTreeMap<String, AttributeValue>) -> Vec<KeyValue> {
    attributes
        .iter()
        .map(|(key, value)| KeyValue {
            key: key.clone(),
            value: Some(AnyValue {
                value: Some(match value {
                    AttributeValue::Bool(b) => any_value::Value::BoolValue(*b),
                    AttributeValue::Int(i) => any_value::Value::IntValue(*i),
                    AttributeValue::Double(d) => any_value::Value::DoubleValue(*d),
                    AttributeValue::String(s) => any_value::Value::StringValue(s.clone()),
                }),
            }),
            ..Default::default()
        })
        .collect()
}

impl<T> AddAttributes<T> {
    /// A processor adding `config`'s attributes, then passing data to `next`.
    pub fn new(config: &Config, next: Next<T>) -> Self {
        AddAttributes {
            resource: key_values(&config.resource),
            record: key_values(&config.record),
            overwrite: config.overwrite,
            next,
        }
    }
}

/// Sets `add` on `attributes`: appends missing keys; replaces present ones if `overwrite`.
fn set(attributes: &mut Vec<KeyValue>, add: &[KeyValue], overwrite: bool) {
    for kv in add {
        match attributes
            .iter_mut()
            .find(|existing| existing.key == kv.key)
        {
            Some(existing) if overwrite => existing.value = kv.value.clone(),
            Some(_) => {}
            None => attributes.push(kv.clone()),
        }
    }
}

/// Where a request keeps its resources and records.
pub trait Stamp {
    fn stamp(&mut self, resource: &[KeyValue], record: &[KeyValue], overwrite: bool);
}

fn stamp_resource(resource: &mut Option<Resource>, add: &[KeyValue], overwrite: bool) {
    if !add.is_empty() {
        set(
            &mut resource.get_or_insert_default().attributes,
            add,
            overwrite,
        );
    }
}

impl Stamp for ExportTraceServiceRequest {
    fn stamp(&mut self, resource: &[KeyValue], record: &[KeyValue], overwrite: bool) {
        for rs in &mut self.resource_spans {
            stamp_resource(&mut rs.resource, resource, overwrite);
            for span in rs.scope_spans.iter_mut().flat_map(|ss| &mut ss.spans) {
                set(&mut span.attributes, record, overwrite);
            }
        }
    }
}

impl Stamp for ExportLogsServiceRequest {
    fn stamp(&mut self, resource: &[KeyValue], record: &[KeyValue], overwrite: bool) {
        for rl in &mut self.resource_logs {
            stamp_resource(&mut rl.resource, resource, overwrite);
            for log in rl.scope_logs.iter_mut().flat_map(|sl| &mut sl.log_records) {
                set(&mut log.attributes, record, overwrite);
            }
        }
    }
}

impl Stamp for ExportMetricsServiceRequest {
    fn stamp(&mut self, resource: &[KeyValue], record: &[KeyValue], overwrite: bool) {
        for rm in &mut self.resource_metrics {
            stamp_resource(&mut rm.resource, resource, overwrite);
            let metrics = rm.scope_metrics.iter_mut().flat_map(|sm| &mut sm.metrics);
            for data in metrics.filter_map(|m| m.data.as_mut()) {
                match data {
                    Data::Gauge(g) => g
                        .data_points
                        .iter_mut()
                        .for_each(|p| set(&mut p.attributes, record, overwrite)),
                    Data::Sum(s) => s
                        .data_points
                        .iter_mut()
                        .for_each(|p| set(&mut p.attributes, record, overwrite)),
                    Data::Histogram(h) => h
                        .data_points
                        .iter_mut()
                        .for_each(|p| set(&mut p.attributes, record, overwrite)),
                    Data::ExponentialHistogram(e) => e
                        .data_points
                        .iter_mut()
                        .for_each(|p| set(&mut p.attributes, record, overwrite)),
                    Data::Summary(s) => s
                        .data_points
                        .iter_mut()
                        .for_each(|p| set(&mut p.attributes, record, overwrite)),
                }
            }
        }
    }
}

#[async_trait]
impl<T: Send + Sync + 'static> Component for AddAttributes<T> {}

#[async_trait]
impl<R: OtlpRequest + Stamp> Consumer<Payload<R>> for AddAttributes<Payload<R>> {
    async fn consume(&self, mut data: Payload<R>) -> Result<(), ConsumeError> {
        // make_mut copies the data only if another consumer still shares it.
        data.make_mut()
            .stamp(&self.resource, &self.record, self.overwrite);
        self.next.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tributary_pipeline_core::component::{ComponentConfig, ConfigError};
    use tributary_pipeline_core::pdata::Traces;
    use tributary_pipeline_core::pdata::proto::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::*;

    #[derive(Default)]
    struct Keep(Mutex<Vec<Traces>>);

    #[async_trait]
    impl Consumer<Traces> for Keep {
        async fn consume(&self, data: Traces) -> Result<(), ConsumeError> {
            self.0.lock().unwrap().push(data);
            Ok(())
        }
    }

    fn config(yaml: &str) -> Config {
        tributary_confmap::Conf::from_yaml(yaml)
            .unwrap()
            .decode()
            .unwrap()
    }

    fn attr(attributes: &[KeyValue], key: &str) -> Option<any_value::Value> {
        attributes
            .iter()
            .find(|kv| kv.key == key)?
            .value
            .clone()?
            .value
    }

    #[tokio::test]
    async fn stamps_resources_and_spans_without_touching_the_original() {
        let keep = Arc::new(Keep::default());
        let processor = AddAttributes::new(
            &config(
                "resource: { env: prod }\nrecord: { team: payments, shard: 3, existing: new }\n",
            ),
            keep.clone() as Next<Traces>,
        );
        let original = Traces::new(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        attributes: key_values(
                            &[("existing".to_string(), AttributeValue::String("old".into()))]
                                .into(),
                        ),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        });
        processor.consume(original.clone()).await.unwrap();
        let out = keep.0.lock().unwrap()[0].clone();
        let rs = &out.request().resource_spans[0];
        let span = &rs.scope_spans[0].spans[0];
        assert_eq!(
            attr(&rs.resource.as_ref().unwrap().attributes, "env"),
            Some(any_value::Value::StringValue("prod".into()))
        );
        assert_eq!(
            attr(&span.attributes, "team"),
            Some(any_value::Value::StringValue("payments".into()))
        );
        assert_eq!(
            attr(&span.attributes, "shard"),
            Some(any_value::Value::IntValue(3))
        );
        assert_eq!(
            attr(&span.attributes, "existing"),
            Some(any_value::Value::StringValue("old".into())),
            "not overwritten by default"
        );
        assert_eq!(
            original.request().resource_spans[0].resource,
            None,
            "the caller's copy is untouched"
        );
    }

    #[test]
    fn config_is_checked() {
        assert_eq!(
            Config::default().validate(),
            Err(ConfigError::new(
                "nothing to add: set `resource` or `record` attributes"
            ))
        );
        let err = tributary_confmap::Conf::from_yaml("recrd: { a: b }\n")
            .unwrap()
            .decode::<Config>()
            .unwrap_err();
        assert!(err.to_string().starts_with("recrd: unknown key"), "{err}");
    }
}
