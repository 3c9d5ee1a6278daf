//! Built-in extensions: components beside the pipelines that others find through the
//! [`Host`](crate::component::Host).
//!
//! * [`file_storage`]: keeps exporters' sending queues on disk, so queued data survives
//!   restarts and crashes.

pub mod file_storage;
