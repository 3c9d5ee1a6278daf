//! Serving: when it answers what, where, and with which configuration.

use std::sync::Arc;

use serde_json::Value as Json;
use tokio::net::TcpStream;

use super::harness::*;
use crate::component::{Component, CreateSettings, Host, Kind};
use crate::extensions::health_check::{Config, HealthCheck, factory};
use crate::service::{ConfigSource, ServiceHealth};
use crate::test_support::eventually;

#[tokio::test]
async fn answers_503_while_starting_200_while_running_503_while_stopping_then_stops() {
    let h = launch(&config(
        "{ endpoint: 127.0.0.1:0 }",
        "  scripted/gate: { hold_start: true, hold_shutdown: true }\n",
        "    traces: { receivers: [test_in], exporters: [scripted/gate] }\n",
    ))
    .await
    .unwrap();

    let (code, body) = h.health().await;
    assert_eq!(code, 503, "{body:#}");
    assert_eq!(body["status"], "Server not available");
    assert_eq!(body["running"], false);
    assert!(
        strings(&body["problems"])[0].contains("starting"),
        "{body:#}"
    );

    h.controls.start.add_permits(1);
    let body = h.health_until(200).await;
    assert_eq!(body["status"], "Server available");
    assert_eq!(body["healthy"], true);
    assert!(body["upSince"].as_str().unwrap().ends_with('Z'), "{body:#}");
    assert!(body["uptime"].as_str().unwrap().ends_with('s'), "{body:#}");

    h.collector.shutdown();
    let body = h.health_until(503).await;
    assert!(
        strings(&body["problems"])[0].contains("shutting down"),
        "{body:#}"
    );
    h.controls.shutdown.add_permits(1);
    let address = h.address;
    h.run.await.unwrap().unwrap();
    assert!(
        TcpStream::connect(address).await.is_err(),
        "the health check stopped listening"
    );
}

#[tokio::test]
async fn a_healthy_answer_details_every_pipeline_and_component() {
    let h = start(&config("{ endpoint: 127.0.0.1:0 }", "", ONE_PIPELINE)).await;
    h.send("test_in").await.unwrap();

    let (code, head, body) = get(h.address, "/").await;
    assert_eq!(code, 200, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    let body: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(body["healthy"], true);
    assert_eq!(body["problems"], serde_json::json!([]));
    let traces = &body["pipelines"]["traces"];
    assert_eq!(traces["healthy"], true);
    assert_eq!(traces["running"], true);
    assert_eq!(traces["stalled"], false);
    assert_eq!(traces["inflight"], 0);
    assert_eq!(traces["completed"], 1);
    assert_eq!(traces["status"], "OK");
    assert_eq!(strings(&traces["receivers"]), ["test_in"]);
    assert_eq!(strings(&traces["exporters"]), ["mem"]);
    let mem = &body["components"]["exporters"]["mem"];
    assert_eq!(mem["status"], "OK");
    assert_eq!(strings(&mem["pipelines"]), ["traces"]);
    assert_eq!(
        body["components"]["extensions"]["health_check"]["status"],
        "OK"
    );
    assert_eq!(body["last_reload"], Json::Null);
    h.stop().await;
}

#[tokio::test]
async fn fixed_response_bodies_replace_the_report_at_the_configured_path() {
    let h = start(&config(
        "{ endpoint: 127.0.0.1:0, path: /health/status, response_body: { healthy: \"I'm OK\", unhealthy: \"I'm not well\" } }",
        "  scripted/boom: { on_consume: panic }\n",
        "    traces: { receivers: [test_in], exporters: [scripted/boom] }\n",
    ))
    .await;
    let (code, head, body) = get(h.address, "/health/status").await;
    assert_eq!((code, body.as_str()), (200, "I'm OK"));
    assert!(head.contains("content-type: text/plain"), "{head}");
    assert_eq!(get(h.address, "/").await.0, 404);
    assert_eq!(get(h.address, "/health/status/").await.0, 404);

    h.send("test_in").await.unwrap_err();
    let (code, _, body) = get(h.address, "/health/status").await;
    assert_eq!((code, body.as_str()), (503, "I'm not well"));
    h.stop().await;
}

#[tokio::test]
async fn a_reload_of_its_own_configuration_keeps_serving_on_the_same_port() {
    // A fixed port, so the reload must hand the socket over rather than bind it again; a
    // port another test grabbed in between is retried with a new one.
    let health = |port: u16, body: &str| {
        format!(
            "{{ endpoint: 127.0.0.1:{port}, response_body: {{ healthy: {body}, unhealthy: down }} }}"
        )
    };
    let (h, port) = {
        let mut attempt = 0;
        loop {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            match launch(&config(&health(port, "before"), "", ONE_PIPELINE)).await {
                Ok(h) => break (h, port),
                Err(error) if attempt < 5 => {
                    attempt += 1;
                    eprintln!("port {port} was taken ({error}); trying another");
                }
                Err(error) => panic!("{error}"),
            }
        }
    };
    let running = h.collector.health().clone();
    eventually("the pipelines to run", || running.is_running()).await;
    assert_eq!(get(h.address, "/").await.2, "before");

    h.rewrite(&config(&health(port, "after"), "", ONE_PIPELINE));
    h.collector.reload().await.unwrap();
    assert_eq!(h.address.port(), port);
    assert_eq!(get(h.address, "/").await.2, "after");
    h.stop().await;
}

#[tokio::test]
async fn configuration_errors_name_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("collector.yaml");
    std::fs::write(
        &path,
        config(
            "{ path: health }\n  health_check/b: { check_collector_pipeline: { exporter_failure_threshold: 0 } }\n  \
             health_check/c: { tls: {} }\n  health_check/d: { endpoint: \"collector_1:13133\" }",
            "",
            ONE_PIPELINE,
        ),
    )
    .unwrap();
    let (builder, _, _) = builder(&Controls::default(), &Found::default());
    let collector = builder
        .build(ConfigSource::uris([path.display().to_string()]))
        .unwrap();
    let error = collector.validate().await.unwrap_err().to_string();
    for expected in [
        r#"extensions::health_check::path: must start with "/", got "health""#,
        "extensions::health_check/b::check_collector_pipeline::exporter_failure_threshold: must be a positive number",
        "extensions::health_check/c::tls",
        r#"extensions::health_check/d::endpoint: invalid socket address "collector_1:13133""#,
    ] {
        assert!(error.contains(expected), "{expected:?} not in:\n{error}");
    }
}

#[tokio::test]
async fn outside_a_collector_it_refuses_to_start_and_shutdown_is_always_safe() {
    let settings =
        CreateSettings::standalone(Kind::Extension, "health_check".parse().unwrap(), None);
    let config = Config {
        server: crate::confighttp::HttpServerConfig::with_endpoint("127.0.0.1:0"),
        ..Config::default()
    };
    let extension = factory().create(&settings, &config).unwrap();
    extension.shutdown().await.unwrap();
    let error = extension.start(&Host::default()).await.unwrap_err();
    assert!(error.to_string().contains("no service health"), "{error}");

    // With a collector's health that never runs, it answers 503.
    let health_check = HealthCheck::new(&settings, &config).unwrap();
    let host = Host::default().with_service(Arc::new(ServiceHealth::default()));
    health_check.start(&host).await.unwrap();
    let address = health_check.local_addr().unwrap();
    let (code, _, body) = get(address, "/").await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("Server not available"), "{body}");
    health_check.shutdown().await.unwrap();
    assert_eq!(health_check.local_addr(), None);
    health_check.shutdown().await.unwrap();
    assert!(TcpStream::connect(address).await.is_err());
}

#[test]
fn the_framework_registers_the_factory() {
    let registered = crate::extensions::factories().describe();
    assert!(
        registered
            .iter()
            .any(|f| f.kind == Kind::Extension && f.component_type == "health_check"),
        "{registered:?}"
    );
}

#[tokio::test]
async fn auth_and_response_headers_of_the_http_server_block_apply() {
    let h = start(&config(
        "{ endpoint: 127.0.0.1:0, auth: { bearer_token: s3cret }, response_headers: { X-Probe: yes } }",
        "",
        ONE_PIPELINE,
    ))
    .await;
    let (code, head, _) = get(h.address, "/").await;
    assert_eq!(code, 401, "{head}");
    assert!(head.contains("x-probe: yes"), "{head}");

    let mut stream = tokio::net::TcpStream::connect(h.address).await.unwrap();
    let request = "GET / HTTP/1.1\r\nHost: health\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n";
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response)
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("x-probe: yes"),
        "{response}"
    );
    h.stop().await;
}
