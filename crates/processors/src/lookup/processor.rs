//! The processor: looks each item's key up in the table and adds the row's attributes.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tributary_pipeline_core::component::{Component, ComponentError, Host};
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::attributes::{Attributes, AttributesMut};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::visit::layout::Items;
use tributary_pipeline_core::pdata::{Payload, SignalData};
use tributary_pipeline_core::telemetry::Counter;

use super::config::Context;
use super::source::TableSource;
use super::table::Table;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, any_value};

/// An attribute value as a table key: strings as they are, integers and booleans as
/// they print; other values are no key.
fn key_text(value: &AnyValue) -> Option<std::borrow::Cow<'_, str>> {
    Some(match value.value.as_ref()? {
        any_value::Value::StringValue(s) => std::borrow::Cow::Borrowed(s.as_str()),
        any_value::Value::IntValue(i) => std::borrow::Cow::Owned(i.to_string()),
        any_value::Value::BoolValue(b) => std::borrow::Cow::Owned(b.to_string()),
        _ => return None,
    })
}

/// What a lookup does, shared by the signals.
#[derive(Clone)]
pub(crate) struct Enrichment {
    pub(crate) key: String,
    pub(crate) context: Context,
    pub(crate) override_existing: bool,
    pub(crate) hits: Counter,
    pub(crate) misses: Counter,
}

impl Enrichment {
    /// The row for the key among `attributes` (then `fallback`), counting hits and misses;
    /// `None` also when the row would change nothing.
    fn row<'t>(
        &self,
        table: &'t Table,
        attributes: &[KeyValue],
        fallback: &[KeyValue],
    ) -> Option<&'t [KeyValue]> {
        let value = attributes
            .get_value(&self.key)
            .or_else(|| fallback.get_value(&self.key))?;
        let Some(row) = key_text(value).and_then(|key| table.lookup(&key)) else {
            self.misses.inc();
            return None;
        };
        self.hits.inc();
        let changes = row.iter().any(|kv| {
            !attributes.contains_key(&kv.key)
                || (self.override_existing && attributes.get_value(&kv.key) != kv.value.as_ref())
        });
        changes.then_some(row)
    }

    fn apply(&self, row: &[KeyValue], attributes: &mut Vec<KeyValue>) {
        for kv in row.iter() {
            let value = kv.value.clone().unwrap_or_default();
            if self.override_existing {
                attributes.upsert_attribute(&kv.key, value);
            } else {
                attributes.insert_attribute(&kv.key, value);
            }
        }
    }

    /// Enriches `data` from `table`.
    pub(crate) fn enrich<R: Items>(&self, table: &Table, data: &mut Payload<R>) {
        match self.context {
            Context::Resource => {
                data.update_resources(
                    |resource| self.row(table, &resource.attributes, &[]).is_some(),
                    |resource| {
                        // The read pass counted; this one only applies.
                        if let Some(row) = self.row_quiet(table, &resource.attributes, &[]) {
                            self.apply(row, &mut resource.attributes);
                        }
                    },
                );
            }
            Context::Record => {
                data.update_item_attributes(
                    |origin, attributes| {
                        self.row(table, attributes, origin.resource_attributes())
                            .is_some()
                    },
                    |origin, attributes| {
                        let row = self.row_quiet(table, attributes, origin.resource_attributes());
                        if let Some(row) = row {
                            self.apply(row, attributes);
                        }
                    },
                );
            }
        }
    }

    /// [`row`](Self::row) without counting.
    fn row_quiet<'t>(
        &self,
        table: &'t Table,
        attributes: &[KeyValue],
        fallback: &[KeyValue],
    ) -> Option<&'t [KeyValue]> {
        let value = attributes
            .get_value(&self.key)
            .or_else(|| fallback.get_value(&self.key))?;
        table.lookup(&key_text(value)?)
    }
}

/// The `lookup` processor for one signal.
pub(crate) struct Lookup<R> {
    pub(crate) source: Arc<TableSource>,
    pub(crate) enrichment: Enrichment,
    pub(crate) next: Next<Payload<R>>,
    pub(crate) started: AtomicBool,
    pub(crate) signal: PhantomData<fn() -> R>,
}

#[async_trait]
impl<R: Items> Component for Lookup<R>
where
    Payload<R>: SignalData,
{
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        if self.started.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let started = self.source.start().await;
        if started.is_err() {
            self.started.store(false, Ordering::SeqCst);
        }
        started
    }

    async fn shutdown(&self) -> Result<(), ComponentError> {
        if self.started.swap(false, Ordering::SeqCst) {
            self.source.shutdown().await;
        }
        Ok(())
    }
}

#[async_trait]
impl<R: Items> Consumer<Payload<R>> for Lookup<R>
where
    Payload<R>: SignalData,
{
    async fn consume(&self, mut data: Payload<R>) -> Result<(), ConsumeError> {
        let table = self.source.table();
        self.enrichment.enrich(&table, &mut data);
        self.next.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}
