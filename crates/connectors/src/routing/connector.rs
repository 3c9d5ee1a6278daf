//! The `routing` logic: split each batch along the routing table, hand each part to its
//! pipelines, the rest to the default pipelines.

use std::sync::Arc;

use async_trait::async_trait;
use tributary_pipeline_core::component::Component;
use tributary_pipeline_core::consumer::{ConsumeError, Consumer, Next};

use super::condition::{Condition, Context};
use super::config::ErrorMode;
use super::split::Routable;

/// One route, ready: its condition and the fanout to its pipelines.
pub(super) struct CompiledRoute<T> {
    pub context: Context,
    pub condition: Arc<dyn Condition>,
    pub consumer: Next<T>,
    /// `table[<index>]`, for errors and logs.
    pub name: String,
}

/// Routes every batch: each route in table order takes what it matches of what is left;
/// the rest goes to the default pipelines (or is dropped without them).
pub(super) struct Routing<T> {
    pub routes: Vec<CompiledRoute<T>>,
    pub default: Option<Next<T>>,
    pub error_mode: ErrorMode,
}

impl<T: Routable> Component for Routing<T> {}

#[async_trait]
impl<T: Routable> Consumer<T> for Routing<T> {
    async fn consume(&self, mut data: T) -> Result<(), ConsumeError> {
        let mut parts: Vec<(&Next<T>, T)> = Vec::new();
        for route in &self.routes {
            if data.item_count() == 0 {
                break;
            }
            match data.take(route.context, route.condition.as_ref()) {
                Ok(Some(part)) => parts.push((&route.consumer, part)),
                Ok(None) => {}
                Err(error) => match self.error_mode {
                    ErrorMode::Propagate => {
                        return Err(ConsumeError::permanent(format!(
                            "routing {}: the condition failed: {error}",
                            route.name
                        )));
                    }
                    ErrorMode::Ignore => {
                        tracing::warn!(route = %route.name, %error, "routing condition failed; treated as not matching");
                    }
                    ErrorMode::Silent => {}
                },
            }
        }
        if data.item_count() > 0 {
            match &self.default {
                Some(default) => parts.push((default, data)),
                // As in Go: without default pipelines, what no route matches is dropped.
                None => tracing::debug!(
                    items = data.item_count(),
                    "no route matched and no default_pipelines: dropped"
                ),
            }
        }
        let outcomes = futures_util::future::join_all(
            parts
                .into_iter()
                .map(|(consumer, part)| consumer.consume(part)),
        )
        .await;
        // The most actionable error: one a retry may cure before a permanent one.
        let mut errors: Vec<ConsumeError> = outcomes.into_iter().filter_map(Result::err).collect();
        errors.sort_by_key(|e| e.is_permanent());
        match errors.into_iter().next() {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }
}
