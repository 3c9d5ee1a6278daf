//! Key-value storage for component state (Go's `storage.Extension` / `storage.Client`):
//! a receiver's checkpoints, for example. An extension offers [`KeyValueStorage`] as a
//! capability; a component finds it on the [`Host`](super::Host) by the extension's ID
//! and opens a client of its own.

use std::io;
use std::sync::Arc;

use async_trait::async_trait;

use super::{ComponentId, Kind};

/// A storage extension's offer of key-value clients, one per component.
#[async_trait]
pub trait KeyValueStorage: Send + Sync {
    /// The client of the `kind` component `component` (and `name`, empty for the
    /// component's only client). Clients of different components never see each other's
    /// keys; the same arguments in a later process see what an earlier one stored.
    async fn open_client(
        &self,
        kind: Kind,
        component: &ComponentId,
        name: &str,
    ) -> io::Result<Arc<dyn StorageClient>>;
}

/// One component's keys and values. A `set` that returned `Ok` is on disk (as durably as
/// the extension's policy says) and survives a crash of the process.
#[async_trait]
pub trait StorageClient: Send + Sync {
    /// The value stored under `key`, if any.
    async fn get(&self, key: &str) -> io::Result<Option<Vec<u8>>>;
    /// Stores `value` under `key`, replacing what was there; the old value or the new,
    /// never a mix, survives a crash during the call.
    async fn set(&self, key: &str, value: Vec<u8>) -> io::Result<()>;
    /// Removes `key` (nothing if it is absent).
    async fn delete(&self, key: &str) -> io::Result<()>;
}
