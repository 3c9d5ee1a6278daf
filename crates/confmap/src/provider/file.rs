//! The `file` provider: `file:/etc/otel/config.yaml`, or a bare path. Watches the file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::ProviderError;
use crate::provider::file_watch::FileWatches;
use crate::provider::{Provider, Retrieved, opaque};
use crate::watch::Watcher;
use crate::yaml::MAX_DOCUMENT_BYTES;

/// Settings of the [`FileProvider`].
#[derive(Clone, Debug)]
pub struct FileProviderSettings {
    /// Whether to watch retrieved files for changes. Default: `true`.
    pub watch: bool,
    /// How long file system activity must settle before a change is reported. Default:
    /// 200 ms.
    pub debounce: Duration,
    /// The largest file accepted, in bytes. Default: 16 MiB.
    pub max_bytes: u64,
}

impl Default for FileProviderSettings {
    fn default() -> FileProviderSettings {
        FileProviderSettings {
            watch: true,
            debounce: Duration::from_millis(200),
            max_bytes: MAX_DOCUMENT_BYTES as u64,
        }
    }
}

/// Serves `file:<path>`: the file's content, parsed as YAML (see
/// [`Retrieved::from_yaml`]). Relative paths are relative to the working directory.
///
/// # Watching
///
/// With a watcher, the provider watches the file's directory (and the directories of any
/// symlinks on its path) rather than the file, so it sees all the ways a file gets replaced:
///
/// - an edit in place;
/// - an editor's save by writing a new file and renaming it over the old one;
/// - a Kubernetes ConfigMap update, which swaps the `..data` symlink the file points
///   through, or any other swap of a symlinked directory on the path.
///
/// Each change yields exactly one report after the activity settles (see
/// [`FileProviderSettings::debounce`]): the provider re-reads the file and reports only when
/// its content (or its existence) changed, so a save that rewrites the same bytes, or a
/// burst of events from one save, reports nothing more.
///
/// All watches of a provider share one operating-system watcher and one thread, which end
/// when the last watch is closed or the provider shuts down. If a watch cannot be set up
/// (for example when the system's inotify limits are reached), the file is still served and
/// a warning is logged.
#[derive(Debug)]
pub struct FileProvider {
    settings: FileProviderSettings,
    watches: Arc<FileWatches>,
    shut_down: AtomicBool,
}

impl FileProvider {
    /// Creates the provider.
    pub fn new(settings: FileProviderSettings) -> FileProvider {
        let watches = FileWatches::new(settings.debounce);
        FileProvider {
            settings,
            watches,
            shut_down: AtomicBool::new(false),
        }
    }
}

impl Default for FileProvider {
    fn default() -> FileProvider {
        FileProvider::new(FileProviderSettings::default())
    }
}

#[async_trait::async_trait]
impl Provider for FileProvider {
    fn scheme(&self) -> &str {
        "file"
    }

    async fn retrieve(
        &self,
        uri: &str,
        watcher: Option<Watcher>,
    ) -> Result<Retrieved, ProviderError> {
        if self.shut_down.load(Ordering::SeqCst) {
            return Err(ProviderError::ShutDown);
        }
        let path = PathBuf::from(opaque(uri, "file")?);
        if path.as_os_str().is_empty() {
            return Err(ProviderError::invalid_uri("the path is empty"));
        }
        let max_bytes = self.settings.max_bytes;
        let watcher = watcher.filter(|_| self.settings.watch);
        let watches = Arc::clone(&self.watches);
        let (text, watch_id) = tokio::task::spawn_blocking(move || match watcher {
            Some(watcher) => watches.register(&path, watcher, max_bytes),
            None => read_config_file(&path, max_bytes).map(|text| (text, None)),
        })
        .await
        .map_err(|error| {
            ProviderError::other(format!("the file reading task failed: {error}"))
        })??;
        let retrieved = Retrieved::from_yaml(text);
        Ok(match watch_id {
            Some(id) => {
                let watches = Arc::clone(&self.watches);
                retrieved.on_close(move || watches.unregister(id))
            }
            None => retrieved,
        })
    }

    async fn shutdown(&self) -> Result<(), ProviderError> {
        self.shut_down.store(true, Ordering::SeqCst);
        let watches = Arc::clone(&self.watches);
        tokio::task::spawn_blocking(move || watches.stop_all())
            .await
            .map_err(|error| {
                ProviderError::other(format!("stopping the file watches failed: {error}"))
            })
    }
}

/// Reads a configuration file of at most `max_bytes` bytes as UTF-8.
pub(crate) fn read_config_file(path: &Path, max_bytes: u64) -> Result<String, ProviderError> {
    let io_error = |source| ProviderError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_error)?;
    let mut text = String::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_string(&mut text)
        .map_err(io_error)?;
    if text.len() as u64 > max_bytes {
        return Err(ProviderError::TooLarge {
            what: path.display().to_string(),
            size: text.len() as u64,
            limit: max_bytes,
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn provider() -> FileProvider {
        FileProvider::new(FileProviderSettings {
            watch: false,
            ..FileProviderSettings::default()
        })
    }

    #[tokio::test]
    async fn reads_a_yaml_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.yaml");
        std::fs::write(&path, "a:\n  b: 1\n").unwrap();
        let retrieved = provider()
            .retrieve(&format!("file:{}", path.display()), None)
            .await
            .unwrap();
        assert_eq!(
            retrieved.as_conf().unwrap().get("a::b"),
            Some(&Value::Int(1))
        );
    }

    #[tokio::test]
    async fn missing_files_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.yaml");
        let error = provider()
            .retrieve(&format!("file:{}", path.display()), None)
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("reading {}: ", path.display())),
            "{message}"
        );
    }

    #[tokio::test]
    async fn oversized_and_non_utf8_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, "a: 12345\n").unwrap();
        let small = FileProvider::new(FileProviderSettings {
            watch: false,
            max_bytes: 4,
            ..FileProviderSettings::default()
        });
        let error = small
            .retrieve(&format!("file:{}", big.display()), None)
            .await
            .unwrap_err();
        assert!(
            matches!(error, ProviderError::TooLarge { limit: 4, .. }),
            "{error}"
        );
        let binary = dir.path().join("bin.yaml");
        std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
        let error = provider()
            .retrieve(&format!("file:{}", binary.display()), None)
            .await
            .unwrap_err();
        assert!(matches!(error, ProviderError::Io { .. }), "{error}");
    }

    #[tokio::test]
    async fn empty_paths_and_other_schemes_are_refused() {
        assert!(provider().retrieve("file:", None).await.is_err());
        assert!(provider().retrieve("env:X", None).await.is_err());
    }

    #[tokio::test]
    async fn a_shut_down_provider_refuses_to_retrieve() {
        let provider = provider();
        provider.shutdown().await.unwrap();
        let error = provider.retrieve("file:/x", None).await.unwrap_err();
        assert!(matches!(error, ProviderError::ShutDown));
    }
}
