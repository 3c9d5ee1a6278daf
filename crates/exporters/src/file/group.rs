//! `group_by`: one file per value of a resource attribute.
//!
//! The `*` in `path` is replaced by the value of `resource_attribute` on each resource;
//! a batch is divided by that value and each part written to its file. At most
//! `max_open_files` files are open at once: the least recently written one is closed
//! (synced) to make room, and opened again (appended to) when its value comes back.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;
use tributary_pipeline_core::pdata::attributes::Attributes;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

use super::writer::{FileWriter, WriteError, WriterSettings};

/// Batches that can be divided by a resource attribute's value.
pub(crate) trait ByResourceAttribute: Sized {
    /// One part per string value of the resource attribute `key`, in order of first
    /// appearance, and how many resources had no such string attribute (they are in no
    /// part, as in the Go exporter).
    fn by_resource_attribute(self, key: &str) -> (Vec<(String, Self)>, usize);
}

/// Divides `data`, whose resources have the attribute `values` (in order), into one part
/// per value; `keep_only` reduces a copy to the resources of one value.
fn divide<T: Clone>(
    data: T,
    values: Vec<Option<String>>,
    keep_only: impl Fn(&mut T, &str),
) -> (Vec<(String, T)>, usize) {
    let missing = values.iter().filter(|v| v.is_none()).count();
    let mut distinct: Vec<String> = Vec::new();
    for value in values.into_iter().flatten() {
        if !distinct.contains(&value) {
            distinct.push(value);
        }
    }
    if distinct.len() == 1 && missing == 0 {
        // The common case: one value for the whole batch, nothing to divide.
        return (vec![(distinct.remove(0), data)], 0);
    }
    let parts = distinct
        .into_iter()
        .map(|wanted| {
            let mut part = data.clone();
            keep_only(&mut part, &wanted);
            (wanted, part)
        })
        .collect();
    (parts, missing)
}

macro_rules! by_resource_attribute {
    ($data:ty, $resources:ident) => {
        impl ByResourceAttribute for $data {
            fn by_resource_attribute(self, key: &str) -> (Vec<(String, Self)>, usize) {
                let values = self
                    .request()
                    .$resources
                    .iter()
                    .map(|entry| {
                        let resource = entry.resource.as_ref()?;
                        resource.attributes.get_str(key).map(str::to_owned)
                    })
                    .collect();
                divide(self, values, |part, wanted| {
                    part.retain_resources(|r| r.attributes.get_str(key) == Some(wanted));
                })
            }
        }
    };
}

by_resource_attribute!(Traces, resource_spans);
by_resource_attribute!(Metrics, resource_metrics);
by_resource_attribute!(Logs, resource_logs);

/// The files of a `group_by` exporter, opened on demand.
pub(crate) struct GroupedFiles {
    /// `path` before and after its `*`.
    prefix: String,
    suffix: String,
    /// Settings of every file (their `path` is replaced).
    template: WriterSettings,
    max_open: usize,
    /// Open files, least recently written first.
    open: Mutex<Vec<(PathBuf, Arc<FileWriter>)>>,
}

impl GroupedFiles {
    /// Files named by `pattern` (one `*`), each written with `template`'s settings.
    pub(crate) fn new(pattern: &str, template: WriterSettings, max_open: usize) -> Self {
        let (prefix, suffix) = pattern.split_once('*').unwrap_or((pattern, ""));
        GroupedFiles {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            template,
            max_open: max_open.max(1),
            open: Mutex::new(Vec::new()),
        }
    }

    /// The file for `segment`: the pattern with `*` replaced by the value, which can
    /// never lead outside the pattern's prefix (`..` and leading `/` are dropped, as Go
    /// guards against path traversal).
    pub(crate) fn path_for(&self, segment: &str) -> PathBuf {
        let mut inside = PathBuf::new();
        for component in Path::new(&format!("{segment}{}", self.suffix)).components() {
            match component {
                Component::Normal(part) => inside.push(part),
                Component::ParentDir => {
                    inside.pop();
                }
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        PathBuf::from(format!("{}{}", self.prefix, inside.display()))
    }

    /// The open writer for `segment`, opening its file (and closing the least recently
    /// used one beyond `max_open_files`) if needed.
    pub(crate) async fn writer(&self, segment: &str) -> Result<Arc<FileWriter>, WriteError> {
        let path = self.path_for(segment);
        let (writer, evicted) = {
            let mut open = self.open.lock().await;
            if let Some(at) = open.iter().position(|(p, _)| *p == path) {
                let entry = open.remove(at);
                let writer = Arc::clone(&entry.1);
                open.push(entry);
                (writer, None)
            } else {
                let settings = WriterSettings {
                    path: path.clone(),
                    // A file closed to make room is appended to when it comes back.
                    append: true,
                    ..self.template.clone()
                };
                let writer = Arc::new(FileWriter::open(settings).await.map_err(|source| {
                    WriteError::Io {
                        path: path.display().to_string(),
                        source,
                    }
                })?);
                let evicted = (open.len() >= self.max_open).then(|| open.remove(0));
                open.push((path, Arc::clone(&writer)));
                (writer, evicted)
            }
        };
        if let Some((path, evicted)) = evicted
            && let Err(error) = evicted.close().await
        {
            tracing::warn!(path = %path.display(), %error, "closing a grouped output file failed");
        }
        Ok(writer)
    }

    /// Closes (syncs) every open file.
    pub(crate) async fn close(&self) -> Result<(), std::io::Error> {
        let open: Vec<_> = std::mem::take(&mut *self.open.lock().await);
        let mut first_error = None;
        for (_, writer) in open {
            if let Err(error) = writer.close().await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn files(pattern: &str) -> GroupedFiles {
        GroupedFiles::new(
            pattern,
            WriterSettings {
                path: PathBuf::new(),
                append: false,
                rotation: None,
                sync_interval: Duration::from_secs(1),
                create_directory: Some(0o755),
            },
            2,
        )
    }

    /// Go's path rules: the value replaces `*`; `..` and `/` cannot leave the prefix.
    #[test]
    fn values_stay_inside_the_paths_prefix() {
        let grouped = files("/data/out/*/telemetry.jsonl");
        let cases = [
            ("tenant-a", "/data/out/tenant-a/telemetry.jsonl"),
            ("./a", "/data/out/a/telemetry.jsonl"),
            ("../../etc", "/data/out/etc/telemetry.jsonl"),
            ("/etc/passwd", "/data/out/etc/passwd/telemetry.jsonl"),
            ("a/../../b", "/data/out/b/telemetry.jsonl"),
            ("", "/data/out/telemetry.jsonl"),
        ];
        for (value, path) in cases {
            assert_eq!(grouped.path_for(value), PathBuf::from(path), "{value:?}");
        }
        // `*` inside a file name.
        let grouped = files("logs/app-*.jsonl");
        assert_eq!(grouped.path_for("x"), PathBuf::from("logs/app-x.jsonl"));
        assert_eq!(
            grouped.path_for("../../../y"),
            PathBuf::from("logs/app-y.jsonl")
        );
    }
}
