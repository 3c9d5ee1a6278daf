//! The processor: detects once at start, then merges the result into every resource.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use tributary_pipeline_core::component::{Component, ComponentError, CreateSettings, Host};
use tributary_pipeline_core::consumer::{Capabilities, ConsumeError, Consumer, Next};
use tributary_pipeline_core::pdata::Payload;
use tributary_pipeline_core::pdata::attributes::AttributesMut;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::visit::layout::Layout;

use super::config::Config;
use super::{env, system};

/// Runs the configured detectors in order; a detector that fails is logged and the others'
/// attributes still apply. An earlier detector wins an attribute both detect (Go's merge).
///
/// `root` is where the host's files are (`/`); `env_value` is `OTEL_RESOURCE_ATTRIBUTES`.
pub(crate) fn detect_all(
    config: &Config,
    root: &Path,
    env_value: Option<&str>,
    span: &tracing::Span,
) -> Vec<KeyValue> {
    let mut merged: Vec<KeyValue> = Vec::new();
    for detector in &config.detectors {
        let detected = match detector.as_str() {
            "env" => {
                env::parse_resource_attributes(env_value.unwrap_or("")).map_err(|e| e.to_string())
            }
            "system" => system::detect(&config.system, &system::HostFiles { root }),
            other => Err(format!("detector {other:?} is not built")),
        };
        match detected {
            Ok(attributes) => {
                for kv in attributes {
                    if !merged.iter().any(|m| m.key == kv.key) {
                        merged.push(kv);
                    }
                }
            }
            Err(error) => span.in_scope(|| {
                tracing::warn!(detector = detector.as_str(), %error, "failed to detect resource")
            }),
        }
    }
    if let Some(allowed) = &config.attributes {
        merged.retain(|kv| allowed.contains(&kv.key));
    }
    merged
}

/// Merges `detected` into a resource's attributes: replacing the data's own values when
/// `override_`, otherwise only adding what is missing.
pub fn merge_attributes(attributes: &mut Vec<KeyValue>, detected: &[KeyValue], override_: bool) {
    for kv in detected {
        let value = kv.value.clone().unwrap_or_default();
        if override_ {
            attributes.upsert_attribute(&kv.key, value);
        } else {
            attributes.insert_attribute(&kv.key, value);
        }
    }
}

/// One `resourcedetection` processor instance (one per pipeline and signal).
pub(crate) struct ResourceDetection<R> {
    config: Config,
    detected: OnceLock<Arc<Vec<KeyValue>>>,
    next: Next<Payload<R>>,
    span: tracing::Span,
}

impl<R> ResourceDetection<R> {
    pub(crate) fn new(settings: &CreateSettings, config: &Config, next: Next<Payload<R>>) -> Self {
        ResourceDetection {
            config: config.clone(),
            detected: OnceLock::new(),
            next,
            span: settings.span().clone(),
        }
    }
}

#[async_trait]
impl<R: Send + Sync + 'static> Component for ResourceDetection<R> {
    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        let (config, span) = (self.config.clone(), self.span.clone());
        // The system detector reads files and may ask DNS: off the runtime's threads, and
        // bounded by `timeout` (what a detector has not answered by then is missing).
        let detection = tokio::task::spawn_blocking(move || {
            let env_value = std::env::var(env::ENV_VAR).ok();
            detect_all(&config, Path::new("/"), env_value.as_deref(), &span)
        });
        let detected = match tokio::time::timeout(self.config.timeout, detection).await {
            Ok(Ok(detected)) => detected,
            Ok(Err(error)) => {
                return Err(ComponentError::new(format!(
                    "resource detection failed: {error}"
                )));
            }
            Err(_) => {
                self.span.in_scope(|| {
                    tracing::warn!(timeout = ?self.config.timeout, "resource detection timed out; no attributes are added")
                });
                Vec::new()
            }
        };
        self.span.in_scope(|| {
            let keys: Vec<&str> = detected.iter().map(|kv| kv.key.as_str()).collect();
            tracing::info!(?keys, "detected resource information")
        });
        let _ = self.detected.set(Arc::new(detected));
        Ok(())
    }
}

#[async_trait]
impl<R> Consumer<Payload<R>> for ResourceDetection<R>
where
    R: Layout + Send + Sync + 'static,
    Payload<R>: tributary_pipeline_core::pdata::SignalData,
{
    async fn consume(&self, mut data: Payload<R>) -> Result<(), ConsumeError> {
        if let Some(detected) = self.detected.get().filter(|d| !d.is_empty()) {
            let override_ = self.config.override_;
            data.update_resources(
                |resource| {
                    // Only resources the merge changes are edited (and copied).
                    detected.iter().any(|kv| {
                        match resource.attributes.iter().find(|a| a.key == kv.key) {
                            None => true,
                            Some(existing) => override_ && existing.value != kv.value,
                        }
                    })
                },
                |resource| merge_attributes(&mut resource.attributes, detected, override_),
            );
        }
        self.next.consume(data).await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { mutates_data: true }
    }
}
