//! The receiver in a pipeline: the conformance suite, and checkpoints through a real
//! `file_storage` extension across a restart while the pipeline refuses.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tributary_pipeline_core::component::{
    ComponentConfig, Extension, Host, Kind, Receiver, load_config,
};
use tributary_pipeline_core::consumer::ConsumeError;
use tributary_pipeline_core::extensions::file_storage::{FileStorage, FileStorageConfig};
use tributary_pipeline_core::pdata::Logs;
use tributary_pipeline_core::testing::{Sink, check_receiver, eventually, settings};

use super::super::{Config, factory};

#[tokio::test]
async fn conformance() {
    check_receiver(factory(), "include: ['{dir}/*.log']\nstart_at: beginning").await;
}

fn bodies(sink: &Sink<Logs>) -> Vec<String> {
    sink.accepted()
        .iter()
        .flat_map(|logs| logs.request().resource_logs.clone())
        .flat_map(|r| r.scope_logs)
        .flat_map(|s| s.log_records)
        .map(|r| format!("{:?}", r.body.and_then(|b| b.value)))
        .collect()
}

async fn start(config: &Config, host: &Host, sink: &Arc<Sink<Logs>>) -> Arc<dyn Receiver> {
    let receiver = factory()
        .create(
            &settings::<Logs>(Kind::Receiver, "filelog"),
            config,
            sink.next(),
        )
        .unwrap();
    receiver.start(host).await.unwrap();
    receiver
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_advance_only_on_acceptance_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (logs, state) = (dir.path().join("logs"), dir.path().join("state"));
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(&state).unwrap();
    let storage_config = FileStorageConfig {
        directory: state.clone(),
        ..Default::default()
    };
    let storage: Arc<dyn Extension> = Arc::new(FileStorage::new(
        &settings::<Logs>(Kind::Extension, "file_storage"),
        storage_config,
    ));
    storage.start(&Host::default()).await.unwrap();
    let host = Host::new([("file_storage".parse().unwrap(), storage)]);
    let config: Config = load_config(&format!(
        "include: ['{}/*.log']\nstart_at: beginning\npoll_interval: 10ms\nstorage: file_storage",
        logs.display()
    ))
    .unwrap();
    config.validate().unwrap();
    let path = logs.join("app.log");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "first").unwrap();

    let sink = Sink::<Logs>::new();
    let receiver = start(&config, &host, &sink).await;
    eventually("the first line", Duration::from_secs(10), || {
        (bodies(&sink).len() == 1).then_some(())
    })
    .await;
    sink.refuse_with(Some(ConsumeError::retryable("backend down")));
    writeln!(file, "second").unwrap();
    eventually("a refused attempt", Duration::from_secs(10), || {
        (sink.received().len() >= 3).then_some(())
    })
    .await;
    receiver.shutdown().await.unwrap();

    // A new process: the refused line comes again, the accepted one does not.
    let again = Sink::<Logs>::new();
    let receiver = start(&config, &host, &again).await;
    eventually("the refused line", Duration::from_secs(10), || {
        (!bodies(&again).is_empty()).then_some(())
    })
    .await;
    receiver.shutdown().await.unwrap();
    assert_eq!(bodies(&again), [r#"Some(StringValue("second"))"#]);
}

#[tokio::test]
async fn a_missing_storage_extension_fails_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let config: Config = load_config(&format!(
        "include: ['{}/*.log']\nstorage: file_storage/missing",
        dir.path().display()
    ))
    .unwrap();
    let receiver = factory()
        .create(
            &settings::<Logs>(Kind::Receiver, "filelog"),
            &config,
            Sink::<Logs>::new().next(),
        )
        .unwrap();
    let error = receiver
        .start(&Host::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("file_storage/missing"), "{error}");
}
