use tributary_pipeline_core::component::{Kind, Router};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::pdata::Logs;
use tributary_pipeline_core::testing::{self, Sink};

use super::*;

#[tokio::test]
async fn conformance() {
    testing::check_connector(factory(), "").await;
}

#[tokio::test]
async fn every_downstream_pipeline_gets_the_data_and_a_failure_is_returned() {
    let (ok, failing) = (Sink::<Logs>::new(), Sink::<Logs>::new());
    failing.refuse_with(Some(ConsumeError::retryable("backend down")));
    let router = Router::new([
        ("logs/ok".parse().unwrap(), ok.next()),
        ("logs/failing".parse().unwrap(), failing.next()),
    ]);
    let settings = testing::settings::<Logs>(Kind::Connector, "forward");
    let connector = factory()
        .create::<Logs, Logs>(&settings, &Config::default(), router)
        .unwrap();
    let error = connector.consume(Logs::default()).await.unwrap_err();
    assert!(error.is_retryable(), "{error}");
    assert!(error.to_string().contains("logs/failing"), "{error}");
    assert_eq!(ok.accepted().len(), 1);

    // The retry goes only where the data is missing.
    failing.refuse_with(None);
    connector.retry(Logs::default(), &error).await.unwrap();
    assert_eq!((ok.calls(), failing.accepted().len()), (1, 1));
}

#[test]
fn any_key_is_refused() {
    let conf = tributary_confmap::Conf::from_yaml("extra: 1").unwrap();
    let error =
        tributary_pipeline_core::component::decode_config::<Config>(conf.as_value()).unwrap_err();
    assert!(error.to_string().contains("extra"), "{error}");
}
