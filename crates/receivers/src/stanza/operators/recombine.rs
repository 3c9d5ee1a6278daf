//! `recombine`: consecutive entries of one source combined into one, by
//! `is_first_entry` or `is_last_entry`.

use std::collections::HashMap;
use std::time::Duration;

use super::super::config::OperatorConfig;
use super::super::entry::{Entry, Origin, now_nanos};
use super::super::expr::Expr;
use super::super::field::Field;
use super::super::pipeline::{Common, Emitted, Operator};
use super::super::value::Value;
use super::required;

/// The source of entries without a `source_identifier` field.
const DEFAULT_SOURCE: &str = "DefaultSourceIdentifier";

/// Whether a matching entry starts or ends a batch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Boundary {
    First,
    Last,
}

/// The settings of a recombiner (shared with the `container` operator's CRI and Docker
/// partial-line recombination).
pub(crate) struct RecombineSettings {
    pub(crate) combine_field: Field,
    pub(crate) combine_with: String,
    pub(crate) max_batch_size: usize,
    pub(crate) max_unmatched_batch_size: usize,
    pub(crate) max_log_size: usize,
    pub(crate) max_sources: usize,
    pub(crate) source_identifier: Field,
    pub(crate) force_flush_period: Duration,
    pub(crate) overwrite_with_oldest: bool,
}

struct Batch {
    entries: Vec<Entry>,
    /// Bytes of the combined field so far.
    size: usize,
    /// Whether the batch began with a matching entry.
    matched: bool,
    /// When the first entry arrived (Unix ns), for `force_flush_period`.
    started: i64,
    /// The origin of its first entry from each source it holds entries of (entries of
    /// one source arrive in order, so the first is the oldest).
    origins: Vec<Origin>,
}

/// `recombine`.
pub(crate) struct Recombine {
    common: Common,
    boundary: Boundary,
    matcher: Expr,
    settings: RecombineSettings,
    batches: HashMap<String, Batch>,
    /// Sources in the order their batches started, so flushes are deterministic.
    order: Vec<String>,
}

impl Recombine {
    pub(crate) fn new(common: Common, config: &OperatorConfig) -> Result<Self, String> {
        let (boundary, source) = match (&config.is_first_entry, &config.is_last_entry) {
            (Some(first), None) => (Boundary::First, first),
            (None, Some(last)) => (Boundary::Last, last),
            _ => {
                return Err(
                    "exactly one of `is_first_entry` and `is_last_entry` must be set".into(),
                );
            }
        };
        let key = if boundary == Boundary::First {
            "is_first_entry"
        } else {
            "is_last_entry"
        };
        let matcher = Expr::parse(source).map_err(|e| format!("{key}: {e}"))?;
        let overwrite_with_oldest = match config.overwrite_with.as_deref().unwrap_or("newest") {
            "newest" => false,
            "oldest" => true,
            other => {
                return Err(format!(
                    "invalid overwrite_with `{other}`; use newest or oldest"
                ));
            }
        };
        let settings = RecombineSettings {
            combine_field: required(&config.combine_field, "combine_field")?.clone(),
            combine_with: config.combine_with.clone().unwrap_or_else(|| "\n".into()),
            max_batch_size: config.max_batch_size.unwrap_or(1000),
            max_unmatched_batch_size: config.max_unmatched_batch_size.unwrap_or(100),
            max_log_size: config.max_log_size.unwrap_or(0),
            max_sources: config.max_sources.unwrap_or(1000),
            source_identifier: config
                .source_identifier
                .clone()
                .unwrap_or_else(|| Field::attribute("log.file.path")),
            force_flush_period: config.force_flush_period.unwrap_or(Duration::from_secs(5)),
            overwrite_with_oldest,
        };
        if settings.max_sources == 0 {
            return Err("max_sources must be at least 1".into());
        }
        Ok(Self::with(
            common,
            boundary == Boundary::First,
            matcher,
            settings,
        ))
    }

    /// A recombiner whose `matcher` marks first (`first`) or last entries.
    pub(crate) fn with(
        common: Common,
        first: bool,
        matcher: Expr,
        settings: RecombineSettings,
    ) -> Self {
        Recombine {
            common,
            boundary: if first {
                Boundary::First
            } else {
                Boundary::Last
            },
            matcher,
            settings,
            batches: HashMap::new(),
            order: Vec::new(),
        }
    }

    fn source(&self, entry: &Entry) -> String {
        match self.settings.source_identifier.get(entry) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_text(),
            None => DEFAULT_SOURCE.to_string(),
        }
    }

    fn flush_source(&mut self, source: &str, out: &mut Emitted) {
        let Some(batch) = self.batches.remove(source) else {
            return;
        };
        self.order.retain(|s| s != source);
        if let Some(entry) = self.combine(batch) {
            out.push((0, entry));
        }
    }

    fn combine(&self, batch: Batch) -> Option<Entry> {
        let mut entries = batch.entries;
        if entries.is_empty() {
            return None;
        }
        // The combined entry is read again from where its first part starts.
        let origin = entries[0].origin;
        let parts: Vec<String> = entries
            .iter()
            .filter_map(|e| self.settings.combine_field.get(e).map(Value::to_text))
            .collect();
        let mut base = if self.settings.overwrite_with_oldest {
            entries.swap_remove(0)
        } else {
            entries.pop()?
        };
        let combined = parts.join(&self.settings.combine_with);
        // The field exists on at least one entry, so this cannot fail on a root.
        let _ = self
            .settings
            .combine_field
            .set(&mut base, Value::String(combined));
        base.origin = origin;
        Some(base)
    }

    fn add(&mut self, source: &str, entry: Entry, matched: bool, out: &mut Emitted) {
        let size = self
            .settings
            .combine_field
            .get(&entry)
            .map_or(0, |v| v.to_text().len());
        if !self.batches.contains_key(source) {
            if self.batches.len() >= self.settings.max_sources {
                // Bound memory: too many sources at once flushes them all.
                for source in std::mem::take(&mut self.order) {
                    if let Some(batch) = self.batches.remove(&source)
                        && let Some(entry) = self.combine(batch)
                    {
                        out.push((0, entry));
                    }
                }
            }
            self.order.push(source.to_string());
            self.batches.insert(
                source.to_string(),
                Batch {
                    entries: Vec::new(),
                    size: 0,
                    matched,
                    started: now_nanos(),
                    origins: Vec::new(),
                },
            );
        }
        let Some(batch) = self.batches.get_mut(source) else {
            return;
        };
        let separator = if batch.entries.is_empty() {
            0
        } else {
            self.settings.combine_with.len()
        };
        batch.size += size + separator;
        if let Some(origin) = entry.origin
            && !batch.origins.iter().any(|o| o.source == origin.source)
        {
            batch.origins.push(origin);
        }
        batch.entries.push(entry);
        let full = (self.settings.max_batch_size > 0
            && batch.entries.len() >= self.settings.max_batch_size)
            || (self.settings.max_log_size > 0 && batch.size >= self.settings.max_log_size)
            || (!batch.matched
                && self.settings.max_unmatched_batch_size > 0
                && batch.entries.len() >= self.settings.max_unmatched_batch_size);
        if full {
            self.flush_source(source, out);
        }
    }
}

impl Operator for Recombine {
    fn process(&mut self, entry: Entry, out: &mut Emitted) {
        if !self.common.applies(&entry) {
            out.push((0, entry));
            return;
        }
        let source = self.source(&entry);
        let matched = self.matcher.matches(&entry);
        match (self.boundary, matched) {
            (Boundary::First, true) => {
                self.flush_source(&source, out);
                self.add(&source, entry, true, out);
            }
            (Boundary::Last, true) => {
                self.add(&source, entry, true, out);
                self.flush_source(&source, out);
            }
            (_, false) => self.add(&source, entry, false, out),
        }
    }

    fn held(&self, origins: &mut Vec<Origin>) {
        for batch in self.batches.values() {
            origins.extend_from_slice(&batch.origins);
        }
    }

    fn flush(&mut self, now: i64, out: &mut Emitted) {
        let period = i64::try_from(self.settings.force_flush_period.as_nanos()).unwrap_or(i64::MAX);
        let due: Vec<String> = self
            .order
            .iter()
            .filter(|source| {
                now == i64::MAX
                    || self
                        .batches
                        .get(*source)
                        .is_some_and(|b| now.saturating_sub(b.started) >= period)
            })
            .cloned()
            .collect();
        for source in due {
            self.flush_source(&source, out);
        }
    }
}
