//! What the OTLP protocol says per signal: where each export goes, what comes back, and
//! how a backend reports that it accepted only part of a batch.

use tributary_pipeline_core::component::CreateSettings;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceResponse;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceResponse;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceResponse;
use tributary_pipeline_core::pdata::{Logs, Metrics, SignalData, Traces};
use tributary_pipeline_core::telemetry::Counter;

/// A backend's report that it dropped some items of an accepted batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartialSuccess {
    /// Items rejected (spans, data points or log records).
    pub rejected: i64,
    /// The backend's explanation, possibly empty.
    pub message: String,
}

impl PartialSuccess {
    /// Whether there is anything to report (the spec allows an empty message).
    fn is_reportable(&self) -> bool {
        self.rejected != 0 || !self.message.is_empty()
    }
}

/// The OTLP facts of one signal.
pub(crate) trait OtlpSignal: SignalData {
    /// The `Export*ServiceResponse` type.
    type Response: prost::Message + Default + Send + 'static;

    /// The gRPC method path (`/opentelemetry.proto.collector.trace.v1.TraceService/Export`).
    #[cfg(feature = "otlp")]
    const GRPC_PATH: &'static str;

    /// The JSON name of the rejected-items field in the response (`rejectedSpans`).
    #[cfg(feature = "otlp_http")]
    const JSON_REJECTED_FIELD: &'static str;

    /// The partial success carried by a response, if any.
    fn partial_success(response: &Self::Response) -> Option<PartialSuccess>;
}

impl OtlpSignal for Traces {
    type Response = ExportTraceServiceResponse;
    #[cfg(feature = "otlp")]
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    #[cfg(feature = "otlp_http")]
    const JSON_REJECTED_FIELD: &'static str = "rejectedSpans";

    fn partial_success(response: &Self::Response) -> Option<PartialSuccess> {
        response.partial_success.as_ref().map(|p| PartialSuccess {
            rejected: p.rejected_spans,
            message: p.error_message.clone(),
        })
    }
}

impl OtlpSignal for Metrics {
    type Response = ExportMetricsServiceResponse;
    #[cfg(feature = "otlp")]
    const GRPC_PATH: &'static str =
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    #[cfg(feature = "otlp_http")]
    const JSON_REJECTED_FIELD: &'static str = "rejectedDataPoints";

    fn partial_success(response: &Self::Response) -> Option<PartialSuccess> {
        response.partial_success.as_ref().map(|p| PartialSuccess {
            rejected: p.rejected_data_points,
            message: p.error_message.clone(),
        })
    }
}

impl OtlpSignal for Logs {
    type Response = ExportLogsServiceResponse;
    #[cfg(feature = "otlp")]
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    #[cfg(feature = "otlp_http")]
    const JSON_REJECTED_FIELD: &'static str = "rejectedLogRecords";

    fn partial_success(response: &Self::Response) -> Option<PartialSuccess> {
        response.partial_success.as_ref().map(|p| PartialSuccess {
            rejected: p.rejected_log_records,
            message: p.error_message.clone(),
        })
    }
}

/// Logs partial-success responses and counts the rejected items in
/// `otelcol_exporter_partial_success_rejected_<items>{exporter}` (`_spans`,
/// `_metric_points`, `_log_records`). The batch itself counts as sent: the backend
/// accepted it and told us what it dropped, so re-sending would duplicate the rest.
#[derive(Clone, Debug)]
pub(crate) struct PartialSuccessRecorder {
    rejected: Counter,
    item: &'static str,
    span: tracing::Span,
}

impl PartialSuccessRecorder {
    pub(crate) fn new<T: SignalData>(settings: &CreateSettings) -> Self {
        let item = T::SIGNAL.item_name();
        let id = settings.id().to_string();
        PartialSuccessRecorder {
            rejected: settings.metrics().counter(
                &format!("otelcol_exporter_partial_success_rejected_{item}"),
                &format!("Number of {item} the destination rejected in partial-success responses."),
                &[("exporter", id.as_str())],
            ),
            item,
            span: settings.span().clone(),
        }
    }

    /// Records one response's partial success, if it reports anything.
    pub(crate) fn record(&self, partial: Option<PartialSuccess>) {
        let Some(partial) = partial.filter(PartialSuccess::is_reportable) else {
            return;
        };
        if partial.rejected > 0 {
            self.rejected.add(partial.rejected as u64);
        }
        let _entered = self.span.enter();
        tracing::warn!(
            error_message = %partial.message,
            rejected = partial.rejected,
            items = self.item,
            "Partial success response"
        );
    }
}
