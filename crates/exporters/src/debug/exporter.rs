//! Printing one signal's batches.

use std::marker::PhantomData;
use std::sync::Arc;

use async_trait::async_trait;
use tributary_pipeline_core::component::{ComponentError, DedicatedThread, Host};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::exporterhelper::Export;
use tributary_pipeline_core::receiverhelper::SharedLifecycleMember;

use super::config::{Config, Verbosity};
use super::output::{DebugOutput, Rendered};
use super::print::Printable;
use super::sampler::Sampler;

/// Prints batches of one signal through the exporter's shared [`DebugOutput`].
pub(crate) struct DebugExporter<T> {
    output: Arc<DebugOutput>,
    lifecycle: SharedLifecycleMember<DedicatedThread>,
    verbosity: Verbosity,
    sampler: Sampler,
    signal: PhantomData<fn(T)>,
}

impl<T> DebugExporter<T> {
    pub(crate) fn new(config: &Config, output: Arc<DebugOutput>) -> Self {
        DebugExporter {
            lifecycle: output.lifecycle.member(),
            output,
            verbosity: config.verbosity,
            sampler: Sampler::new(config.sampling_initial, config.sampling_thereafter),
            signal: PhantomData,
        }
    }
}

#[async_trait]
impl<T: Printable> Export<T> for DebugExporter<T> {
    async fn export(&self, data: T) -> Result<(), ConsumeError> {
        if !self.sampler.allow() {
            return Ok(());
        }
        let verbosity = self.verbosity;
        self.output
            .print(Box::new(move || {
                let detail = match verbosity {
                    Verbosity::Basic => None,
                    Verbosity::Normal => {
                        let mut text = String::new();
                        data.normal(&mut text);
                        Some(text)
                    }
                    Verbosity::Detailed => {
                        let mut text = String::new();
                        data.detailed(&mut text);
                        Some(text)
                    }
                };
                Rendered {
                    summary: data.summary(),
                    detail,
                }
            }))
            .await
    }

    async fn start(&self, _host: &Host) -> Result<(), ComponentError> {
        self.lifecycle.start(|| self.output.open()).await
    }

    /// Waits until what this signal queued is written; the last signal's instance also
    /// stops the thread.
    async fn shutdown(&self) -> Result<(), ComponentError> {
        self.output.flush().await;
        self.lifecycle
            .shutdown(|thread| self.output.close(thread))
            .await
    }
}
