//! File watching, for real: edits, an editor's rename-and-replace and Kubernetes-style
//! symlink swaps in a temporary directory each yield exactly one change event.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

use tributary_confmap::{
    ChangeEvent, Changes, FileProvider, FileProviderSettings, Provider, Resolver, ResolverSettings,
    Value, Watcher,
};

/// Long enough for any event on a busy machine; the debounce is 200 ms.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to listen for a second, unwanted event: several debounce periods.
const QUIET: Duration = Duration::from_millis(1500);

async fn expect_one_event(changes: &mut Changes) -> ChangeEvent {
    let event = tokio::time::timeout(EVENT_TIMEOUT, changes.recv())
        .await
        .expect("no change event within the timeout")
        .expect("the change stream ended");
    expect_no_event(changes).await;
    event
}

async fn expect_no_event(changes: &mut Changes) {
    tokio::time::sleep(QUIET).await;
    assert_eq!(changes.try_recv(), None, "an unexpected change event");
}

async fn resolver_for(path: &Path) -> (Resolver, Changes) {
    let resolver = Resolver::new(ResolverSettings::new([path.display().to_string()])).unwrap();
    let changes = resolver.watch();
    resolver.resolve().await.unwrap();
    (resolver, changes)
}

async fn value_of(resolver: &Resolver, key: &str) -> Value {
    resolver
        .resolve()
        .await
        .unwrap()
        .get(key)
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn an_edit_in_place_yields_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "a: 1\n").unwrap();
    let (resolver, mut changes) = resolver_for(&path).await;

    std::fs::write(&path, "a: 2\n").unwrap();
    let event = expect_one_event(&mut changes).await;
    assert_eq!(event.uris(), [format!("file:{}", path.display())]);
    assert_eq!(value_of(&resolver, "a").await, Value::Int(2));

    // The watch is re-armed by resolve: a second edit is seen too.
    std::fs::write(&path, "a: 3\n").unwrap();
    expect_one_event(&mut changes).await;
    assert_eq!(value_of(&resolver, "a").await, Value::Int(3));
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_editors_rename_and_replace_yields_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "a: 1\n").unwrap();
    let (resolver, mut changes) = resolver_for(&path).await;

    // What vim and most editors do: write a new file, then rename it over the old one.
    let temporary = dir.path().join(".config.yaml.swp");
    std::fs::write(&temporary, "a: 2\n").unwrap();
    std::fs::rename(&temporary, &path).unwrap();
    expect_one_event(&mut changes).await;
    assert_eq!(value_of(&resolver, "a").await, Value::Int(2));

    // The file is a new inode now; it is still watched.
    std::fs::write(&temporary, "a: 3\n").unwrap();
    std::fs::rename(&temporary, &path).unwrap();
    expect_one_event(&mut changes).await;
    assert_eq!(value_of(&resolver, "a").await, Value::Int(3));
    resolver.shutdown().await.unwrap();
}

/// Lays out a ConfigMap volume as the kubelet does: `config.yaml -> ..data/config.yaml`,
/// `..data -> ..<version>`.
fn configmap_version(root: &Path, version: &str, content: &str) {
    let data = root.join(version);
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join("config.yaml"), content).unwrap();
}

/// Swaps `..data` to a new version atomically and removes the old one, as the kubelet does.
fn configmap_swap(root: &Path, old: &str, new: &str, content: &str) {
    configmap_version(root, new, content);
    let temporary = root.join("..data_tmp");
    symlink(new, &temporary).unwrap();
    std::fs::rename(&temporary, root.join("..data")).unwrap();
    std::fs::remove_dir_all(root.join(old)).unwrap();
}

#[tokio::test]
async fn a_kubernetes_configmap_symlink_swap_yields_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    configmap_version(root, "..2024_01_01_00_00_00.1", "a: 1\n");
    symlink("..2024_01_01_00_00_00.1", root.join("..data")).unwrap();
    symlink("..data/config.yaml", root.join("config.yaml")).unwrap();
    let path = root.join("config.yaml");
    let (resolver, mut changes) = resolver_for(&path).await;

    configmap_swap(
        root,
        "..2024_01_01_00_00_00.1",
        "..2024_01_02_00_00_00.2",
        "a: 2\n",
    );
    expect_one_event(&mut changes).await;
    assert_eq!(value_of(&resolver, "a").await, Value::Int(2));

    // The watch followed the swap: the next one is seen as well.
    configmap_swap(
        root,
        "..2024_01_02_00_00_00.2",
        "..2024_01_03_00_00_00.3",
        "a: 3\n",
    );
    expect_one_event(&mut changes).await;
    assert_eq!(value_of(&resolver, "a").await, Value::Int(3));
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_swap_of_a_symlinked_parent_directory_yields_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (version, content) in [("v1", "a: 1\n"), ("v2", "a: 2\n")] {
        std::fs::create_dir(root.join(version)).unwrap();
        std::fs::write(root.join(version).join("config.yaml"), content).unwrap();
    }
    symlink("v1", root.join("current")).unwrap();
    let path = root.join("current").join("config.yaml");
    let (resolver, mut changes) = resolver_for(&path).await;

    symlink("v2", root.join("current.tmp")).unwrap();
    std::fs::rename(root.join("current.tmp"), root.join("current")).unwrap();
    expect_one_event(&mut changes).await;
    assert_eq!(value_of(&resolver, "a").await, Value::Int(2));
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn rewriting_the_same_content_and_touching_other_files_yield_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "a: 1\n").unwrap();
    let (resolver, mut changes) = resolver_for(&path).await;

    std::fs::write(&path, "a: 1\n").unwrap();
    std::fs::write(dir.path().join("unrelated.txt"), "x").unwrap();
    std::fs::read_to_string(&path).unwrap();
    expect_no_event(&mut changes).await;

    std::fs::write(&path, "a: 2\n").unwrap();
    expect_one_event(&mut changes).await;
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn files_referenced_inside_values_are_watched_too() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("token.txt");
    std::fs::write(&cert, "secret-1").unwrap();
    let main = dir.path().join("config.yaml");
    std::fs::write(
        &main,
        format!("auth:\n  token: ${{file:{}}}\n", cert.display()),
    )
    .unwrap();
    let (resolver, mut changes) = resolver_for(&main).await;

    std::fs::write(&cert, "secret-2").unwrap();
    let event = expect_one_event(&mut changes).await;
    assert_eq!(event.uris(), [format!("file:{}", cert.display())]);
    assert_eq!(
        value_of(&resolver, "auth::token").await.as_str(),
        Some("secret-2")
    );
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn deleting_and_recreating_the_file_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "a: 1\n").unwrap();
    let (resolver, mut changes) = resolver_for(&path).await;

    std::fs::remove_file(&path).unwrap();
    expect_one_event(&mut changes).await;
    assert!(resolver.resolve().await.is_err());

    // The failed resolve kept the last good watch armed, so the fix is noticed.
    std::fs::write(&path, "a: 5\n").unwrap();
    expect_one_event(&mut changes).await;
    assert_eq!(value_of(&resolver, "a").await, Value::Int(5));
    resolver.shutdown().await.unwrap();
}

#[tokio::test]
async fn no_event_after_close_or_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "a: 1\n").unwrap();
    let provider = FileProvider::new(FileProviderSettings::default());
    let uri = format!("file:{}", path.display());

    let (watcher, mut changes) = Watcher::channel(&uri);
    let retrieved = provider.retrieve(&uri, Some(watcher)).await.unwrap();
    retrieved.close();
    std::fs::write(&path, "a: 2\n").unwrap();
    expect_no_event(&mut changes).await;

    let (watcher, mut changes) = Watcher::channel(&uri);
    let retrieved = provider.retrieve(&uri, Some(watcher)).await.unwrap();
    provider.shutdown().await.unwrap();
    std::fs::write(&path, "a: 3\n").unwrap();
    expect_no_event(&mut changes).await;
    drop(retrieved);

    let (resolver, mut changes) = resolver_for(&path).await;
    resolver.shutdown().await.unwrap();
    std::fs::write(&path, "a: 4\n").unwrap();
    assert_eq!(changes.recv().await, None);
}

#[tokio::test]
async fn many_changes_nobody_reads_coalesce_into_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.yaml");
    let b = dir.path().join("b.yaml");
    std::fs::write(&a, "a: 1\n").unwrap();
    std::fs::write(&b, "b: 1\n").unwrap();
    let resolver = Resolver::new(ResolverSettings::new([
        a.display().to_string(),
        b.display().to_string(),
    ]))
    .unwrap();
    let mut changes = resolver.watch();
    resolver.resolve().await.unwrap();

    std::fs::write(&a, "a: 2\n").unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    std::fs::write(&b, "b: 2\n").unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    std::fs::write(&a, "a: 3\n").unwrap();
    // Long enough for the last change to be reported even on a loaded machine.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let event = expect_one_event(&mut changes).await;
    let mut uris = event.uris().to_vec();
    uris.sort();
    assert_eq!(
        uris,
        [
            format!("file:{}", a.display()),
            format!("file:{}", b.display())
        ]
    );
    resolver.shutdown().await.unwrap();
}
