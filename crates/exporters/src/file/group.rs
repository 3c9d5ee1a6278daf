//! `group_by`: one file per value of a resource attribute.
//!
//! The `*` in `path` is replaced by the value of `resource_attribute` on each resource;
//! a batch is divided by that value and each part written to its file. At most
//! `max_open_files` files are open at once: the least recently written one is closed
//! (synced) to make room, and opened again (appended to) when its value comes back.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use tokio::sync::Mutex;
use tributary_pipeline_core::pdata::attributes::Attributes;
use tributary_pipeline_core::pdata::proto::collector::logs::v1::ExportLogsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::metrics::v1::ExportMetricsServiceRequest;
use tributary_pipeline_core::pdata::proto::collector::trace::v1::ExportTraceServiceRequest;
use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::{Logs, Metrics, Traces};

use super::writer::{FileWriter, WriteError, WriterSettings};

/// Batches that can be divided by a resource attribute's value.
pub(crate) trait ByResourceAttribute: Sized {
    /// One part per string value of the resource attribute `key`, in order of first
    /// appearance, and how many resources had no such string attribute (they are in no
    /// part, as in the Go exporter).
    fn by_resource_attribute(self, key: &str) -> (Vec<(String, Self)>, usize);
}

/// Divides resource entries by the value `value_of` finds on each, in one pass (a batch
/// of many resources with as many values costs linear time): the groups in order of
/// first appearance, and how many entries had no value.
fn group_entries<E>(
    entries: Vec<E>,
    value_of: impl Fn(&E) -> Option<String>,
) -> (Vec<(String, Vec<E>)>, usize) {
    let mut groups: Vec<(String, Vec<E>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut missing = 0;
    for entry in entries {
        let Some(value) = value_of(&entry) else {
            missing += 1;
            continue;
        };
        let at = *index.entry(value.clone()).or_insert_with(|| {
            groups.push((value, Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(entry);
    }
    (groups, missing)
}

/// The string value of the attribute `key` on a resource, if any.
fn attribute_of(resource: Option<&Resource>, key: &str) -> Option<String> {
    resource?.attributes.get_str(key).map(str::to_owned)
}

macro_rules! by_resource_attribute {
    ($data:ty, $request:ident, $resources:ident) => {
        impl ByResourceAttribute for $data {
            fn by_resource_attribute(self, key: &str) -> (Vec<(String, Self)>, usize) {
                // The common case, one value for the whole batch: written as it is (a
                // batch kept as received bytes stays so).
                let mut values = self
                    .request()
                    .$resources
                    .iter()
                    .map(|e| attribute_of(e.resource.as_ref(), key));
                if let Some(Some(first)) = values.next()
                    && values.all(|v| v.as_deref() == Some(first.as_str()))
                {
                    return (vec![(first, self)], 0);
                }
                let metadata = self.metadata().cloned();
                let entries = self.into_request().$resources;
                let (groups, missing) =
                    group_entries(entries, |e| attribute_of(e.resource.as_ref(), key));
                let parts = groups
                    .into_iter()
                    .map(|(value, entries)| {
                        let part = <$data>::new($request {
                            $resources: entries,
                        });
                        let part = match &metadata {
                            Some(metadata) => part.with_metadata(Arc::clone(metadata)),
                            None => part,
                        };
                        (value, part)
                    })
                    .collect();
                (parts, missing)
            }
        }
    };
}

by_resource_attribute!(Traces, ExportTraceServiceRequest, resource_spans);
by_resource_attribute!(Metrics, ExportMetricsServiceRequest, resource_metrics);
by_resource_attribute!(Logs, ExportLogsServiceRequest, resource_logs);

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

    use tributary_pipeline_core::pdata::ClientMetadata;
    use tributary_pipeline_core::pdata::proto::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

    use super::*;
    use crate::testing::fixtures::str_kv;

    /// Logs with one record per entry of `values` (`None`: no attribute), its body the
    /// entry's index.
    fn logs(values: &[Option<&str>]) -> Logs {
        let resource_logs = values
            .iter()
            .enumerate()
            .map(|(i, value)| ResourceLogs {
                resource: Some(Resource {
                    attributes: value.iter().map(|v| str_kv("tenant", v)).collect(),
                    ..Default::default()
                }),
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        severity_text: i.to_string(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect();
        Logs::new(ExportLogsServiceRequest { resource_logs })
    }

    fn indexes(logs: &Logs) -> Vec<String> {
        logs.request()
            .resource_logs
            .iter()
            .map(|r| r.scope_logs[0].log_records[0].severity_text.clone())
            .collect()
    }

    /// Parts in order of first appearance, resources in order within each, resources
    /// without the attribute counted and left out, the client metadata kept on each part.
    #[test]
    fn a_batch_divides_by_value_in_order() {
        let mut metadata = ClientMetadata::new();
        metadata.insert("x-tenant", "t");
        let batch = logs(&[Some("b"), Some("a"), None, Some("b"), Some("c"), None])
            .with_metadata(Arc::new(metadata));
        let (parts, missing) = batch.by_resource_attribute("tenant");
        assert_eq!(missing, 2);
        let parts: Vec<(String, Vec<String>, bool)> = parts
            .iter()
            .map(|(value, part)| (value.clone(), indexes(part), part.metadata().is_some()))
            .collect();
        assert_eq!(
            parts,
            [
                ("b".to_owned(), vec!["0".to_owned(), "3".to_owned()], true),
                ("a".to_owned(), vec!["1".to_owned()], true),
                ("c".to_owned(), vec!["4".to_owned()], true),
            ]
        );
        // One value for all: the batch itself.
        let (parts, missing) = logs(&[Some("a"), Some("a")]).by_resource_attribute("tenant");
        assert_eq!((parts.len(), missing), (1, 0));
        assert_eq!(indexes(&parts[0].1), ["0", "1"]);
        // Only resources without it: nothing to write.
        let (parts, missing) = logs(&[None]).by_resource_attribute("tenant");
        assert_eq!((parts.len(), missing), (0, 1));
    }

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
