//! The http provider against local servers on 127.0.0.1: success, status errors, limits,
//! timeouts and polling.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tributary_confmap::{
    Changes, EnvProvider, HttpProvider, HttpProviderSettings, Provider, ProviderError, Resolver,
    ResolverSettings, Value, Watcher,
};

/// Serves `/config.yaml` with the current body, `/missing` with a 404 and `/binary` with
/// bytes that are not UTF-8.
async fn serve(body: Arc<Mutex<String>>) -> SocketAddr {
    let router = Router::new()
        .route(
            "/config.yaml",
            get(move || {
                let body = body.lock().unwrap().clone();
                async move { body }
            }),
        )
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such config") }),
        )
        .route("/binary", get(|| async { vec![0xffu8, 0xfe, 0x00] }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    address
}

/// A server that answers every connection with `response` (raw HTTP), or never answers.
async fn raw_server(response: Option<&'static str>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                match response {
                    Some(response) => {
                        let _ = stream.write_all(response.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(60)).await,
                }
            });
        }
    });
    address
}

fn provider(settings: HttpProviderSettings) -> HttpProvider {
    HttpProvider::http(settings)
}

#[tokio::test]
async fn a_configuration_is_fetched_and_merged() {
    let body = Arc::new(Mutex::new(
        "exporters:\n  debug:\n    verbosity: detailed\n".to_owned(),
    ));
    let address = serve(body).await;
    let resolver = Resolver::new(ResolverSettings::new([
        format!("http://{address}/config.yaml"),
        "yaml:exporters::debug::sampling: 10".to_owned(),
    ]))
    .unwrap();
    let conf = resolver.resolve().await.unwrap();
    assert_eq!(
        conf.get("exporters::debug::verbosity"),
        Some(&Value::from("detailed"))
    );
    assert_eq!(
        conf.get("exporters::debug::sampling"),
        Some(&Value::Int(10))
    );
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_status_other_than_200_is_an_error_naming_uri_and_status() {
    let address = serve(Arc::default()).await;
    let uri = format!("http://{address}/missing");
    let resolver = Resolver::new(ResolverSettings::new([uri.clone()])).unwrap();
    assert_eq!(
        resolver.resolve().await.unwrap_err().to_string(),
        format!("{uri}: GET returned status 404 Not Found, expected 200 OK")
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_or_without_a_length() {
    let address = serve(Arc::new(Mutex::new("a: 1234567890\n".to_owned()))).await;
    let small = provider(HttpProviderSettings {
        max_body_bytes: 8,
        ..HttpProviderSettings::default()
    });
    let error = small
        .retrieve(&format!("http://{address}/config.yaml"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ProviderError::TooLarge {
                size: 14,
                limit: 8,
                ..
            }
        ),
        "{error}"
    );

    let chunked = raw_server(Some(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         5\r\na: 12\r\n5\r\n34567\r\n0\r\n\r\n",
    ))
    .await;
    let error = small
        .retrieve(&format!("http://{chunked}/c.yaml"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::TooLarge { limit: 8, .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "the response body is 10 bytes, more than the limit of 8 bytes"
    );
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let address = raw_server(None).await;
    let impatient = provider(HttpProviderSettings {
        timeout: Duration::from_millis(300),
        ..HttpProviderSettings::default()
    });
    let started = std::time::Instant::now();
    let error = impatient
        .retrieve(&format!("http://{address}/c.yaml"), None)
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    let message = error.to_string();
    assert!(message.starts_with("GET failed: "), "{message}");
    assert!(message.contains("timed out"), "{message}");
}

#[tokio::test]
async fn a_body_that_is_not_text_is_an_error() {
    let address = serve(Arc::default()).await;
    let error = provider(HttpProviderSettings::default())
        .retrieve(&format!("http://{address}/binary"), None)
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "the response body is not valid UTF-8");
}

#[tokio::test]
async fn unreachable_servers_are_errors() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let error = provider(HttpProviderSettings::default())
        .retrieve(&format!("http://{address}/c.yaml"), None)
        .await
        .unwrap_err();
    assert!(error.to_string().starts_with("GET failed: "), "{error}");
}

async fn expect_one_event(changes: &mut Changes) {
    tokio::time::timeout(Duration::from_secs(10), changes.recv())
        .await
        .expect("no change event within the timeout")
        .expect("the change stream ended");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(changes.try_recv(), None, "a second change event");
}

#[tokio::test]
async fn polling_reports_a_changed_body_once() {
    let body = Arc::new(Mutex::new("a: 1\n".to_owned()));
    let address = serve(Arc::clone(&body)).await;
    let resolver = Resolver::new(ResolverSettings::new([format!(
        "http://{address}/config.yaml#poll=100ms"
    )]))
    .unwrap();
    let mut changes = resolver.watch();
    assert_eq!(
        resolver.resolve().await.unwrap().get("a"),
        Some(&Value::Int(1))
    );

    // Polls of an unchanged body report nothing.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(changes.try_recv(), None);

    *body.lock().unwrap() = "a: 2\n".to_owned();
    expect_one_event(&mut changes).await;
    assert_eq!(
        resolver.resolve().await.unwrap().get("a"),
        Some(&Value::Int(2))
    );

    // Shutdown stops the polls: no event afterwards, and the stream ends.
    resolver.shutdown().await.unwrap();
    *body.lock().unwrap() = "a: 3\n".to_owned();
    assert_eq!(changes.recv().await, None);
}

#[tokio::test]
async fn the_settings_poll_interval_applies_and_closing_stops_it() {
    let body = Arc::new(Mutex::new("a: 1\n".to_owned()));
    let address = serve(Arc::clone(&body)).await;
    let polling = provider(HttpProviderSettings {
        poll_interval: Some(Duration::from_millis(100)),
        ..HttpProviderSettings::default()
    });
    let uri = format!("http://{address}/config.yaml");
    let (watcher, mut changes) = Watcher::channel(&uri);
    let retrieved = polling.retrieve(&uri, Some(watcher)).await.unwrap();
    *body.lock().unwrap() = "a: 2\n".to_owned();
    expect_one_event(&mut changes).await;

    retrieved.close();
    *body.lock().unwrap() = "a: 3\n".to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(changes.try_recv(), None, "an event after close");
    polling.shutdown().await.unwrap();
    let error = polling.retrieve(&uri, None).await.unwrap_err();
    assert!(matches!(error, ProviderError::ShutDown));
}

#[tokio::test]
async fn https_and_http_are_separate_schemes() {
    let settings = ResolverSettings {
        providers: vec![
            std::sync::Arc::new(EnvProvider::new()),
            std::sync::Arc::new(HttpProvider::https(HttpProviderSettings::default())),
        ],
        ..ResolverSettings::new(["http://127.0.0.1:1/c.yaml"])
    };
    let error = Resolver::new(settings).unwrap_err();
    assert_eq!(
        error.to_string(),
        "http://127.0.0.1:1/c.yaml: unknown scheme `http`; known schemes: env, https"
    );
}
