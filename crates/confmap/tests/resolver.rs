//! The resolver end to end: files, env, yaml and `--set` merged, expanded, converted and
//! decoded; its settings checks; its error messages.

use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use tributary_confmap::{
    Conf, Converter, EnvProvider, Error, FileProvider, FileProviderSettings, Provider,
    ProviderError, Resolver, ResolverSettings, Retrieved, Value, Watcher, YamlProvider,
};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Sets an env variable whose name is unique to the calling test.
fn set_env(name: &str, value: &str) {
    // SAFETY: every test uses its own variable names, so no other code reads or writes them.
    unsafe { std::env::set_var(name, value) };
}

fn testdata(name: &str) -> String {
    format!("{}/testdata/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Batch {
    #[serde(default, with = "tributary_confmap::duration::option")]
    timeout: Option<std::time::Duration>,
    #[serde(default)]
    send_batch_size: Option<u32>,
}

#[tokio::test]
async fn uris_merge_in_order_and_set_applies_last() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(
        dir.path(),
        "base.yaml",
        "processors:\n  batch:\n    timeout: 1s\n    send_batch_size: 100\nservice:\n  extensions: [a, b]\n",
    );
    let overlay = write(
        dir.path(),
        "overlay.yaml",
        "processors:\n  batch:\n    timeout: 2s\nservice:\n  extensions: [c]\n",
    );
    let mut settings = ResolverSettings::new([base, format!("file:{overlay}")]);
    settings.set = vec![
        "processors.batch.send_batch_size=7".into(),
        "service.telemetry.level=debug".into(),
    ];
    let resolver = Resolver::new(settings).unwrap();
    let conf = resolver.resolve().await.unwrap();
    let batch: Batch = conf.decode_at("processors::batch").unwrap();
    assert_eq!(
        batch,
        Batch {
            timeout: Some(std::time::Duration::from_secs(2)),
            send_batch_size: Some(7),
        }
    );
    assert_eq!(
        conf.get("service::extensions"),
        Some(&Value::from(vec!["c"]))
    );
    assert_eq!(
        conf.get("service::telemetry::level"),
        Some(&Value::from("debug"))
    );
    assert_eq!(conf.keys().collect::<Vec<_>>(), ["processors", "service"]);
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_collector_config_resolves_with_every_kind_of_reference() {
    set_env("TRIBUTARY_RESOLVER_TEST_PORT", "04317");
    set_env(
        "TRIBUTARY_RESOLVER_TEST_DIR",
        &format!("{}/testdata", env!("CARGO_MANIFEST_DIR")),
    );
    let resolver = Resolver::new(ResolverSettings::new([testdata("collector.yaml")])).unwrap();
    let conf = resolver.resolve().await.unwrap();
    let port = conf.get("receivers::otlp::protocols::grpc::port").unwrap();
    assert_eq!(
        port.as_i64(),
        Some(2255),
        "legacy octal, as the Go Collector reads it"
    );
    assert_eq!(port.as_str(), Some("04317"));
    assert_eq!(
        conf.get("receivers::otlp::protocols::http::endpoint")
            .and_then(Value::as_str),
        Some("127.0.0.1:04317")
    );
    assert_eq!(
        conf.get("exporters::otlp::headers::x-tenant")
            .and_then(Value::as_str),
        Some("tenant-a")
    );
    assert_eq!(
        conf.get("exporters::otlp::endpoint")
            .and_then(Value::as_str),
        Some("localhost:4317")
    );
    assert_eq!(
        conf.get("exporters::debug::note"),
        Some(&Value::from("costs $5 ${not_expanded}"))
    );
    assert_eq!(
        conf.get("exporters::debug::anchored::x"),
        Some(&Value::Int(1))
    );
    assert_eq!(
        conf.get("service::pipelines::traces::exporters"),
        Some(&Value::from(vec!["otlp", "debug"]))
    );
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_schemes_list_the_known_ones() {
    let error = Resolver::new(ResolverSettings::new(["s3:bucket/config.yaml"])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "s3:bucket/config.yaml: unknown scheme `s3`; known schemes: env, file, http, https, yaml"
    );
    let resolver = Resolver::new(ResolverSettings::new(["yaml:a: ${s3:x}"])).unwrap();
    let error = resolver.resolve().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "a: ${s3:x}: unknown scheme `s3`; known schemes: env, file, http, https, yaml"
    );
    let resolver = Resolver::new(ResolverSettings::new(["yaml:a: ${HOST:-localhost}"])).unwrap();
    let error = resolver.resolve().await.unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("did you mean `${env:HOST:-localhost}`?"),
        "{error}"
    );
}

#[tokio::test]
async fn settings_are_checked() {
    let cases: Vec<(ResolverSettings, &str)> = vec![
        (ResolverSettings::default(), "no configuration URIs"),
        (
            ResolverSettings {
                providers: Vec::new(),
                ..ResolverSettings::new(["x.yaml"])
            },
            "no providers",
        ),
        (
            ResolverSettings {
                providers: vec![Arc::new(EnvProvider::new()), Arc::new(EnvProvider::new())],
                ..ResolverSettings::new(["env:X"])
            },
            "two providers serve the scheme `env`",
        ),
        (
            ResolverSettings {
                providers: vec![Arc::new(YamlProvider::new())],
                ..ResolverSettings::new(["yaml:a: 1"])
            },
            "no provider serves the default scheme `env`; known schemes: yaml",
        ),
        (
            ResolverSettings {
                set: vec!["a.b".into()],
                ..ResolverSettings::new(["yaml:a: 1"])
            },
            "invalid --set `a.b`: missing equal sign",
        ),
    ];
    for (settings, expected) in cases {
        let error = Resolver::new(settings).unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[tokio::test]
async fn errors_name_the_uri() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml").display().to_string();
    let resolver = Resolver::new(ResolverSettings::new([missing.clone()])).unwrap();
    let error = resolver.resolve().await.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("file:{missing}: reading {missing}: ")),
        "{error}"
    );
    let list = write(dir.path(), "list.yaml", "- a\n");
    let resolver = Resolver::new(ResolverSettings::new([list.clone()])).unwrap();
    assert_eq!(
        resolver.resolve().await.unwrap_err().to_string(),
        format!("file:{list}: the top level of a configuration must be a map, found a list")
    );
    let broken = write(dir.path(), "broken.yaml", "a:\n  b: [1\n");
    let resolver = Resolver::new(ResolverSettings::new([broken.clone()])).unwrap();
    let error = resolver.resolve().await.unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("file:{broken}: invalid YAML: line ")),
        "{error}"
    );
    let resolver = Resolver::new(ResolverSettings::new(["yaml:a: ${env:NOT-A-NAME}"])).unwrap();
    assert_eq!(
        resolver.resolve().await.unwrap_err().to_string(),
        "a: ${env:NOT-A-NAME}: env:NOT-A-NAME: unsupported URI: invalid environment variable \
         name `NOT-A-NAME`; a name matches [a-zA-Z_][a-zA-Z0-9_]*"
    );
}

#[tokio::test]
async fn an_env_uri_can_hold_a_whole_configuration() {
    set_env("TRIBUTARY_RESOLVER_TEST_WHOLE", "exporters:\n  debug: {}\n");
    let resolver =
        Resolver::new(ResolverSettings::new(["env:TRIBUTARY_RESOLVER_TEST_WHOLE"])).unwrap();
    let conf = resolver.resolve().await.unwrap();
    assert_eq!(conf.sub("exporters::debug"), Some(Conf::new()));
}

struct Tag(&'static str);

impl Converter for Tag {
    fn convert(&self, conf: &mut Conf) -> Result<(), Error> {
        let seen = conf
            .get("order")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        conf.set("order", format!("{seen}{}", self.0));
        Ok(())
    }
}

struct Refuse;

impl Converter for Refuse {
    fn convert(&self, conf: &mut Conf) -> Result<(), Error> {
        match conf.get("order").and_then(Value::as_str) {
            Some(order) => Err(Error::custom(format!("refusing order {order}"))),
            None => Ok(()),
        }
    }

    fn name(&self) -> &str {
        "refuse"
    }
}

#[tokio::test]
async fn converters_run_in_order_after_expansion() {
    set_env("TRIBUTARY_RESOLVER_TEST_START", "start-");
    let mut settings = ResolverSettings::new(["yaml:order: ${env:TRIBUTARY_RESOLVER_TEST_START}"]);
    settings.converters = vec![Arc::new(Tag("a")), Arc::new(Tag("b"))];
    let resolver = Resolver::new(settings).unwrap();
    let conf = resolver.resolve().await.unwrap();
    assert_eq!(conf.get("order"), Some(&Value::from("start-ab")));

    let mut settings = ResolverSettings::new(["yaml:order: x"]);
    settings.converters = vec![Arc::new(Tag("a")), Arc::new(Refuse)];
    let resolver = Resolver::new(settings).unwrap();
    assert_eq!(
        resolver.resolve().await.unwrap_err().to_string(),
        "converter `refuse`: refusing order xa"
    );
}

#[tokio::test]
async fn resolving_again_sees_new_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.yaml", "a: 1\n");
    let resolver = Resolver::new(ResolverSettings::new([path.clone()])).unwrap();
    assert_eq!(
        resolver.resolve().await.unwrap().get("a"),
        Some(&Value::Int(1))
    );
    std::fs::write(&path, "a: 2\n").unwrap();
    assert_eq!(
        resolver.resolve().await.unwrap().get("a"),
        Some(&Value::Int(2))
    );
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_shut_down_resolver_refuses_to_resolve_and_its_stream_ends() {
    let resolver = Resolver::new(ResolverSettings::new(["yaml:a: 1"])).unwrap();
    let mut changes = resolver.watch();
    resolver.resolve().await.unwrap();
    resolver.shutdown().await.unwrap();
    resolver.shutdown().await.unwrap();
    assert!(matches!(resolver.resolve().await, Err(Error::Closed)));
    assert_eq!(changes.recv().await, None);
}

/// Counts retrievals and closes, to check the resolver's watch bookkeeping.
#[derive(Default)]
struct Counting {
    retrieved: std::sync::Mutex<Vec<String>>,
    open: Arc<std::sync::atomic::AtomicUsize>,
    fail: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl Provider for Counting {
    fn scheme(&self) -> &str {
        "count"
    }

    async fn retrieve(&self, uri: &str, _: Option<Watcher>) -> Result<Retrieved, ProviderError> {
        use std::sync::atomic::Ordering;
        self.retrieved.lock().unwrap().push(uri.to_owned());
        if uri.contains("fail") && self.fail.load(Ordering::SeqCst) {
            return Err(ProviderError::other("asked to fail"));
        }
        self.open.fetch_add(1, Ordering::SeqCst);
        let open = Arc::clone(&self.open);
        Ok(Retrieved::from_yaml("v").on_close(move || {
            open.fetch_sub(1, Ordering::SeqCst);
        }))
    }

    async fn shutdown(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}

#[tokio::test]
async fn watches_are_re_armed_and_kept_across_a_failed_resolve() {
    use std::sync::atomic::Ordering;
    let counting = Arc::new(Counting::default());
    let mut settings =
        ResolverSettings::new(["yaml:a: ${count:a}\nb: ${count:fail}\nc: ${count:a}"]);
    settings
        .providers
        .push(Arc::clone(&counting) as Arc<dyn Provider>);
    let resolver = Resolver::new(settings).unwrap();
    resolver.resolve().await.unwrap();
    assert_eq!(
        *counting.retrieved.lock().unwrap(),
        ["count:a", "count:fail"]
    );
    assert_eq!(counting.open.load(Ordering::SeqCst), 2);
    resolver.resolve().await.unwrap();
    assert_eq!(
        counting.open.load(Ordering::SeqCst),
        2,
        "the first resolve's watches closed"
    );
    counting.fail.store(true, Ordering::SeqCst);
    let error = resolver.resolve().await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "b: ${count:fail}: count:fail: asked to fail"
    );
    assert_eq!(
        counting.open.load(Ordering::SeqCst),
        3,
        "the last good watches stay armed next to the failed attempt's"
    );
    counting.fail.store(false, Ordering::SeqCst);
    resolver.resolve().await.unwrap();
    assert_eq!(counting.open.load(Ordering::SeqCst), 2);
    resolver.shutdown().await.unwrap();
    assert_eq!(counting.open.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_file_provider_without_watching_still_serves_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "c.yaml", "a: 1\n");
    let settings = ResolverSettings {
        providers: vec![
            Arc::new(FileProvider::new(FileProviderSettings {
                watch: false,
                ..FileProviderSettings::default()
            })),
            Arc::new(EnvProvider::new()),
        ],
        ..ResolverSettings::new([path])
    };
    let resolver = Resolver::new(settings).unwrap();
    assert_eq!(
        resolver.resolve().await.unwrap().get("a"),
        Some(&Value::Int(1))
    );
}

#[tokio::test]
async fn print_config_shows_typed_values() {
    set_env("TRIBUTARY_RESOLVER_TEST_PRINT", "0123");
    let resolver = Resolver::new(ResolverSettings::new([
        "yaml:a: ${env:TRIBUTARY_RESOLVER_TEST_PRINT}\nb: 'x'\n",
    ]))
    .unwrap();
    let conf = resolver.resolve().await.unwrap();
    assert_eq!(conf.to_yaml(), "a: 83\nb: x\n");
}

#[test]
fn the_public_types_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<Resolver>();
    send_sync::<Conf>();
    send_sync::<Value>();
    send_sync::<Watcher>();
    send_sync::<Error>();
    send_sync::<tributary_confmap::DecodeError>();
    send_sync::<tributary_confmap::Changes>();
    send_sync::<tributary_confmap::ChangeEvent>();
    send_sync::<Retrieved>();
    let resolver = Resolver::new(ResolverSettings::new(["yaml:a: 1"])).unwrap();
    send(&resolver.resolve());
    send(&resolver.shutdown());
    let mut changes = resolver.watch();
    send(&changes.recv());
}

#[tokio::test]
async fn a_whole_value_reference_decodes_by_the_field_type() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fields {
        as_int: i64,
        as_text: String,
        #[serde(default)]
        flag: bool,
    }
    set_env("TRIBUTARY_RESOLVER_TEST_OCTAL", "0123");
    set_env("TRIBUTARY_RESOLVER_TEST_T", "t");
    let resolver = Resolver::new(ResolverSettings::new([
        "yaml:as_int: ${env:TRIBUTARY_RESOLVER_TEST_OCTAL}\nas_text: ${TRIBUTARY_RESOLVER_TEST_OCTAL}\n",
    ]))
    .unwrap();
    let fields: Fields = resolver.resolve().await.unwrap().decode().unwrap();
    assert_eq!(fields.as_int, 83);
    assert_eq!(fields.as_text, "0123");
    assert!(!fields.flag);

    let mut settings = ResolverSettings::new(["yaml:as_int: 1\nas_text: x\n"]);
    settings
        .set
        .push("flag=${env:TRIBUTARY_RESOLVER_TEST_T}".to_owned());
    let resolver = Resolver::new(settings).unwrap();
    let error = resolver
        .resolve()
        .await
        .unwrap()
        .decode::<Fields>()
        .unwrap_err();
    // What a reference produced may be a misplaced secret: the error names its source.
    assert_eq!(
        error.to_string(),
        "flag: invalid type: string (value from a ${env:...} reference not shown), expected a boolean"
    );
}

#[tokio::test]
async fn errors_about_a_url_do_not_show_its_credentials() {
    // Port 1 on loopback refuses connections at once.
    let unreachable = "http://user:PASS@127.0.0.1:1/c.yaml";
    let resolver = Resolver::new(ResolverSettings::new([unreachable])).unwrap();
    let error = resolver.resolve().await.unwrap_err().to_string();
    assert!(
        error.starts_with("http://[REDACTED]@127.0.0.1:1/c.yaml: ") && !error.contains("PASS"),
        "{error}"
    );
    let resolver = Resolver::new(ResolverSettings::new([format!(
        "yaml:token: ${{{unreachable}}}"
    )]))
    .unwrap();
    let error = resolver.resolve().await.unwrap_err().to_string();
    assert!(
        error.contains("http://[REDACTED]@127.0.0.1:1/c.yaml: ") && !error.contains("PASS"),
        "{error}"
    );
}
