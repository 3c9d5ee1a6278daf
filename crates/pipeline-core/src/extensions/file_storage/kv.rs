//! The extension's key-value clients (Go's `storage.Client`), for component state such as
//! the `filelog` receiver's checkpoints: one directory per component, one file per key,
//! each value replaced atomically (written beside, synced, renamed over).

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::component::{ComponentId, Kind, StorageClient};

use super::FsyncPolicy;

/// The directory of a component's client: `<kind>.<type>[.<name>][.<client>]` under the
/// extension's directory, escaped as queue directories are.
pub(super) fn client_directory(
    root: &Path,
    kind: Kind,
    component: &ComponentId,
    name: &str,
) -> PathBuf {
    let mut directory = format!("{}.{}", kind.as_str(), component.component_type());
    for part in component
        .name()
        .into_iter()
        .chain((!name.is_empty()).then_some(name))
    {
        directory.push('.');
        escape_into(&mut directory, part);
    }
    root.join(directory)
}

/// Writes characters other than ASCII letters, digits, `_` and `-` as `%XX`, so any key
/// or name is one safe file name.
fn escape_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// A component's keys, as files in its directory.
#[derive(Debug)]
pub(super) struct FileClient {
    directory: PathBuf,
    /// Whether values are synced before `set` returns (`fsync: never` skips it).
    sync: bool,
}

impl FileClient {
    /// Opens (creating) the client's directory.
    pub(super) fn open(directory: PathBuf, fsync: FsyncPolicy) -> io::Result<FileClient> {
        std::fs::create_dir_all(&directory)?;
        Ok(FileClient {
            directory,
            sync: !matches!(fsync, FsyncPolicy::Never),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        let mut name = String::from("key.");
        escape_into(&mut name, key);
        self.directory.join(name)
    }

    fn write(path: &Path, value: &[u8], sync: bool) -> io::Result<()> {
        let mut staged = path.as_os_str().to_owned();
        staged.push(".new");
        let staged = PathBuf::from(staged);
        let mut file = std::fs::File::create(&staged)?;
        file.write_all(value)?;
        if sync {
            file.sync_all()?;
        }
        drop(file);
        std::fs::rename(&staged, path)?;
        if sync {
            // The rename is durable only once the directory is.
            if let Some(parent) = path.parent() {
                std::fs::File::open(parent)?.sync_all()?;
            }
        }
        Ok(())
    }
}

/// Runs blocking file work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| io::Error::other(format!("storage task failed: {e}")))?
}

#[async_trait]
impl StorageClient for FileClient {
    async fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>> {
        let path = self.path(key);
        blocking(move || match std::fs::read(&path) {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    async fn set(&self, key: &str, value: Vec<u8>) -> io::Result<()> {
        let (path, sync) = (self.path(key), self.sync);
        blocking(move || FileClient::write(&path, &value, sync)).await
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        let path = self.path(key);
        blocking(move || match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .await
    }
}

/// Opens `component`'s client under `root`.
pub(super) async fn open(
    root: &Path,
    kind: Kind,
    component: &ComponentId,
    name: &str,
    fsync: FsyncPolicy,
) -> io::Result<Arc<dyn StorageClient>> {
    let directory = client_directory(root, kind, component, name);
    let client = blocking(move || FileClient::open(directory, fsync)).await?;
    Ok(Arc::new(client))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_are_replaced_kept_across_clients_and_separated_by_component() {
        let root = tempfile::tempdir().unwrap();
        let id: ComponentId = "filelog/logs/containers".parse().unwrap();
        let other: ComponentId = "filelog".parse().unwrap();
        let client = open(root.path(), Kind::Receiver, &id, "", FsyncPolicy::Batch)
            .await
            .unwrap();
        assert_eq!(client.get("k/1").await.unwrap(), None);
        client.set("k/1", b"one".to_vec()).await.unwrap();
        client.set("k/1", b"two".to_vec()).await.unwrap();
        let again = open(root.path(), Kind::Receiver, &id, "", FsyncPolicy::Never)
            .await
            .unwrap();
        assert_eq!(again.get("k/1").await.unwrap(), Some(b"two".to_vec()));
        let separate = open(root.path(), Kind::Receiver, &other, "", FsyncPolicy::Batch)
            .await
            .unwrap();
        assert_eq!(separate.get("k/1").await.unwrap(), None);
        again.delete("k/1").await.unwrap();
        again.delete("k/1").await.unwrap();
        assert_eq!(client.get("k/1").await.unwrap(), None);
        assert!(
            root.path()
                .join("receiver.filelog.logs%2Fcontainers")
                .is_dir()
        );
    }
}
