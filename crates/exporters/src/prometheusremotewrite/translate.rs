//! The exporter's options as the translator's settings.

use tributary_translator_prometheus::normalize::TranslationStrategy;
use tributary_translator_prometheus::remote_write::FromOtlpSettings;

use super::config::Config;

/// How `config` asks OTLP to become series: `translation_strategy` when set, else
/// `add_metric_suffixes`.
pub(crate) fn settings(config: &Config) -> FromOtlpSettings {
    let strategy = config
        .translation_strategy
        .as_deref()
        .and_then(|s| s.parse::<TranslationStrategy>().ok())
        .unwrap_or_else(|| {
            TranslationStrategy::from_add_metric_suffixes(config.add_metric_suffixes)
        });
    FromOtlpSettings {
        namespace: config.namespace.clone(),
        external_labels: config
            .external_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        strategy,
        resource_to_telemetry: config.resource_to_telemetry_conversion.enabled,
        exclude_service_attributes: config
            .resource_to_telemetry_conversion
            .exclude_service_attributes,
        target_info: config.target_info.enabled,
        export_created: config.export_created_metric.enabled,
        disable_scope_info: config.disable_scope_info,
        send_metadata: config.send_metadata,
    }
}
