use std::sync::Arc;
use std::time::Duration;

use tributary_confmap::Conf;
use tributary_pipeline_core::component::{Kind, Router, decode_config};
use tributary_pipeline_core::consumer::{ConsumeError, Consumer};
use tributary_pipeline_core::pdata::Traces;
use tributary_pipeline_core::testing::{self, Sink};

use super::connector::{Failover, Level};
use super::*;

fn config(yaml: &str) -> Result<Config, String> {
    let conf = Conf::from_yaml(yaml).unwrap();
    decode_config::<Config>(conf.as_value()).map_err(|e| e.to_string())
}

fn spans() -> Traces {
    let mut builder = tributary_pipeline_core::pdata::builder::TracesBuilder::new();
    builder.resource(vec![]).scope("s", "");
    builder.span("op", [1; 16], [1; 8]);
    builder.build()
}

/// A failover over one sink per level.
fn failover(levels: usize, retry_interval: Duration) -> (Vec<Arc<Sink<Traces>>>, Failover<Traces>) {
    failover_in(FailoverMode::Standard, levels, retry_interval)
}

fn failover_in(
    mode: FailoverMode,
    levels: usize,
    retry_interval: Duration,
) -> (Vec<Arc<Sink<Traces>>>, Failover<Traces>) {
    let sinks: Vec<_> = (0..levels).map(|_| Sink::<Traces>::new()).collect();
    let levels = sinks
        .iter()
        .enumerate()
        .map(|(i, sink)| Level {
            consumer: sink.next(),
            pipelines: format!("traces/{i}"),
        })
        .collect();
    (sinks, Failover::new(levels, retry_interval, mode))
}

#[tokio::test]
async fn conformance() {
    testing::check_connector(
        factory(),
        "priority_levels: [[traces/conformance], [metrics/conformance, logs/conformance]]",
    )
    .await;
}

#[test]
fn go_keys_and_defaults() {
    let c = config("priority_levels: [[traces/a, traces/b], [traces/c]]").unwrap();
    assert_eq!(c.retry_interval, Duration::from_secs(600));
    assert_eq!(c.priority_levels.len(), 2);
    let c =
        config("priority_levels: [[traces/a]]\nretry_interval: 5m\nretry_gap: 1m\nmax_retries: 10")
            .unwrap();
    assert_eq!(c.retry_interval, Duration::from_secs(300));
    assert_eq!(c.max_retries, Some(10));
    assert!(
        config("{}")
            .unwrap_err()
            .starts_with("priority_levels: no pipelines are defined in the priority list")
    );
    assert!(
        config("priority_levels: [[]]")
            .unwrap_err()
            .starts_with("priority_levels::0:")
    );
    assert!(
        config("priority_levels: [[traces/a]]\nretry_interval: 0s")
            .unwrap_err()
            .starts_with("retry_interval: must be positive")
    );
    assert!(
        config("priority_levels: [[traces/a]]\nsending_queue: {}")
            .unwrap_err()
            .contains("sending_queue")
    );
}

#[tokio::test(start_paused = true)]
async fn fails_over_on_an_error_and_returns_when_the_primary_recovers() {
    let (sinks, failover) = failover(3, Duration::from_secs(60));
    failover.consume(spans()).await.unwrap();
    assert_eq!(sinks[0].accepted().len(), 1);

    // The primary fails: the same batch goes to the secondary, which becomes current.
    sinks[0].refuse_with(Some(ConsumeError::retryable("primary down")));
    failover.consume(spans()).await.unwrap();
    assert_eq!((sinks[0].calls(), sinks[1].accepted().len()), (2, 1));
    assert_eq!(failover.current(), 1);

    // Until the retry interval passes, the primary is not tried.
    failover.consume(spans()).await.unwrap();
    assert_eq!((sinks[0].calls(), sinks[1].accepted().len()), (2, 2));

    // Due, still down: tried with one batch, which then goes to the secondary.
    tokio::time::advance(Duration::from_secs(61)).await;
    failover.consume(spans()).await.unwrap();
    assert_eq!((sinks[0].calls(), sinks[1].accepted().len()), (3, 3));
    assert_eq!(failover.current(), 1);

    // Recovered: the next due retry moves traffic back.
    sinks[0].refuse_with(None);
    tokio::time::advance(Duration::from_secs(61)).await;
    failover.consume(spans()).await.unwrap();
    assert_eq!(failover.current(), 0);
    assert_eq!(
        (sinks[0].accepted().len(), sinks[1].accepted().len()),
        (2, 3)
    );
    failover.consume(spans()).await.unwrap();
    assert_eq!(sinks[0].accepted().len(), 3);
    assert_eq!(sinks[2].calls(), 0, "the third level was never needed");
}

#[test]
fn failover_mode_takes_go_s_values() {
    assert_eq!(
        config("priority_levels: [[traces/a]]")
            .unwrap()
            .failover_mode,
        FailoverMode::Standard
    );
    let c = config("priority_levels: [[traces/a]]\nfailover_mode: progressive").unwrap();
    assert_eq!(c.failover_mode, FailoverMode::Progressive);
    let error = config("priority_levels: [[traces/a]]\nfailover_mode: sideways").unwrap_err();
    assert!(error.contains("failover_mode"), "{error}");
}

#[tokio::test]
async fn progressive_mode_starts_every_batch_at_the_highest_level() {
    let (sinks, failover) = failover_in(FailoverMode::Progressive, 2, Duration::from_secs(600));
    sinks[0].refuse_with(Some(ConsumeError::retryable("primary down")));
    failover.consume(spans()).await.unwrap();
    assert_eq!((sinks[0].calls(), sinks[1].accepted().len()), (1, 1));
    // No memory of the failure: the next batch tries the primary first again, and takes
    // it as soon as it recovers, without waiting for retry_interval.
    failover.consume(spans()).await.unwrap();
    assert_eq!((sinks[0].calls(), sinks[1].accepted().len()), (2, 2));
    sinks[0].refuse_with(None);
    failover.consume(spans()).await.unwrap();
    assert_eq!(
        (sinks[0].accepted().len(), sinks[1].accepted().len()),
        (1, 2)
    );
}

#[tokio::test]
async fn when_every_level_fails_the_call_fails_with_every_error() {
    let (sinks, failover) = failover(2, Duration::from_secs(60));
    sinks[0].refuse_with(Some(ConsumeError::permanent("bad")));
    sinks[1].refuse_with(Some(ConsumeError::retryable("down")));
    let error = failover.consume(spans()).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("level 0 (traces/0): permanent error: bad")
            && message.contains("level 1 (traces/1): retryable error: down"),
        "{message}"
    );
}

#[test]
fn every_listed_pipeline_must_be_fed_by_the_connector() {
    let sink = Sink::<Traces>::new();
    let router = Router::new([("traces/a".parse().unwrap(), sink.next())]);
    let config = config("priority_levels: [[traces/a], [traces/b]]").unwrap();
    let error = factory()
        .create::<Traces, Traces>(
            &testing::settings::<Traces>(Kind::Connector, "failover"),
            &config,
            router,
        )
        .err()
        .unwrap();
    assert!(
        error
            .to_string()
            .starts_with("priority_levels[1]: pipeline \"traces/b\" does not list this connector"),
        "{error}"
    );
}
