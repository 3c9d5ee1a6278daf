//! The prometheusremotewrite exporter's bytes path (`remote_write::write_encoded`): any
//! bytes given as an OTLP metrics request give remote-write bodies or `None`, never a
//! panic; the same bodies again from the warm cache; and, when the bytes are a request
//! prost decodes, exactly the bodies and dropped points of the general path.

use prost::Message;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_translator_prometheus::remote_write::{
    FromOtlpSettings, SeriesCache, from_otlp, shard_bodies, write_encoded,
};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    const PARALLELISM: usize = 2;
    const MAX_BYTES: usize = 4096;
    let settings = FromOtlpSettings::default();
    let mut cache = SeriesCache::default();
    let Some((bodies, dropped)) =
        write_encoded(&[data], &settings, &mut cache, PARALLELISM, MAX_BYTES)
    else {
        return;
    };
    let again = write_encoded(&[data], &settings, &mut cache, PARALLELISM, MAX_BYTES);
    assert_eq!(again.as_ref().map(|(bodies, _)| bodies), Some(&bodies));
    if let Ok(request) = ExportMetricsServiceRequest::decode(data) {
        let written = from_otlp(&request, &settings);
        assert_eq!(
            bodies,
            shard_bodies(written.timeseries, PARALLELISM, MAX_BYTES)
        );
        assert_eq!(dropped, written.dropped);
    }
}
