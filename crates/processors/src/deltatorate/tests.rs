use tributary_pipeline_core::component::{CreateSettings, Kind, load_config};
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::proto::metrics::v1::{metric::Data, number_data_point::Value};
use tributary_pipeline_core::testing::Sink;

use super::{Config, factory};
use crate::metric_stream::fixtures::*;

async fn process(
    yaml: &str,
    metric: tributary_pipeline_core::pdata::proto::metrics::v1::Metric,
) -> Vec<Metrics> {
    let config: Config = load_config(yaml).unwrap();
    let settings =
        CreateSettings::standalone(Kind::Processor, "deltatorate".parse().unwrap(), None);
    let sink = Sink::<Metrics>::new();
    let processor = factory()
        .create::<Metrics>(&settings, &config, sink.next())
        .unwrap();
    processor.consume(metrics(request(metric))).await.unwrap();
    sink.received()
}

#[tokio::test]
async fn delta_sums_become_per_second_rates_over_their_own_intervals() {
    let out = process(
        "metrics: [bytes]",
        sum(
            "bytes",
            DELTA,
            true,
            &[
                (s(0), s(10), Value::AsInt(100)),
                // An irregular step: 30 over 3 seconds.
                (s(10), s(13), Value::AsDouble(30.0)),
                // A gap before it changes nothing: each point has its own interval.
                (s(60), s(120), Value::AsInt(6)),
                // No interval to divide by: dropped.
                (s(130), s(130), Value::AsInt(5)),
            ],
        ),
    )
    .await;
    let metric = first_metric(out[0].request()).unwrap();
    assert!(matches!(metric.data, Some(Data::Gauge(_))), "a gauge");
    assert_eq!(
        number_points(out[0].request()),
        vec![
            (s(0), s(10), 10.0),
            (s(10), s(13), 10.0),
            (s(60), s(120), 0.1)
        ]
    );
}

#[tokio::test]
async fn unlisted_and_non_delta_metrics_are_left_alone() {
    let cumulative = sum(
        "bytes",
        CUMULATIVE,
        true,
        &[(s(0), s(10), Value::AsInt(100))],
    );
    let out = process("metrics: [bytes]", cumulative.clone()).await;
    assert_eq!(out[0].request(), &request(cumulative));
    let other = sum("other", DELTA, true, &[(s(0), s(10), Value::AsInt(100))]);
    let out = process("metrics: [bytes]", other.clone()).await;
    assert_eq!(out[0].request(), &request(other));
}

#[test]
fn metrics_are_required() {
    assert_eq!(load_config::<Config>("").unwrap_err().path(), "metrics");
    assert!(load_config::<Config>("metrics: [a]\nunit: s").is_err());
}

#[tokio::test]
async fn the_deltatorate_processor_passes_the_conformance_suite() {
    tributary_pipeline_core::testing::check_processor(factory(), "metrics: [a]").await;
}
