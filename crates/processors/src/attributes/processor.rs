//! The `attributes` processor's logic: select items with the match properties, then apply
//! the actions to their attributes.

use std::sync::Arc;

use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::{ClientMetadata, Logs, Metrics, Signal, Traces};

use super::Config;
use crate::attraction::Actions;
use crate::filterconfig::{Item, Matcher, Subject};

/// The compiled configuration of one pipeline's `attributes` processor.
pub(crate) struct Selection {
    matcher: Matcher,
    actions: Actions,
}

fn metadata_of(metadata: Option<&Arc<ClientMetadata>>) -> Option<Arc<ClientMetadata>> {
    metadata.cloned()
}

impl Selection {
    pub fn new(config: &Config, signal: Signal) -> Result<Self, ConfigError> {
        Ok(Selection {
            matcher: Matcher::compile(config.include.as_ref(), config.exclude.as_ref(), signal)?,
            actions: Actions::compile(&config.actions).map_err(|e| e.within("actions"))?,
        })
    }

    /// Span attributes (not events' or links'), as Go.
    pub fn traces(&self, traces: &mut Traces) {
        let metadata = metadata_of(traces.metadata());
        traces.update_records(
            |origin, span| {
                self.matcher.selects(&Subject {
                    resource: origin.resource_attributes(),
                    scope: origin.scope(),
                    attributes: &span.attributes,
                    item: Item::Span {
                        name: &span.name,
                        kind: span.kind,
                    },
                })
            },
            |_, span| {
                self.actions
                    .apply(&mut span.attributes, metadata.as_deref())
            },
        );
    }

    /// Log record attributes.
    pub fn logs(&self, logs: &mut Logs) {
        let metadata = metadata_of(logs.metadata());
        logs.update_records(
            |origin, record| {
                self.matcher.selects(&Subject {
                    resource: origin.resource_attributes(),
                    scope: origin.scope(),
                    attributes: &record.attributes,
                    item: Item::Log {
                        body: record.body.as_ref(),
                        severity_text: &record.severity_text,
                        severity_number: record.severity_number,
                    },
                })
            },
            |_, record| {
                self.actions
                    .apply(&mut record.attributes, metadata.as_deref())
            },
        );
    }

    /// Data point attributes, of every metric type.
    pub fn metrics(&self, metrics: &mut Metrics) {
        let metadata = metadata_of(metrics.metadata());
        metrics.update_data_points(
            |origin, point| {
                self.matcher.selects(&Subject {
                    resource: origin.resource_attributes(),
                    scope: origin.scope(),
                    attributes: point.attributes(),
                    item: Item::DataPoint {
                        metric_name: origin.metric_name(),
                    },
                })
            },
            |_, mut point| {
                self.actions
                    .apply(point.attributes_mut(), metadata.as_deref())
            },
        );
    }
}
