//! `ordering_criteria`: of the matched files, read only the first `top_n` in an order
//! taken from their names (Go's `matcher` filter), e.g. the newest of rotated files.
//!
//! `regex` (named groups) is matched against each file's path; `sort_by` sorts by a
//! group as a number, as text, or as a time (`layout`, strptime), or by modification
//! time (`mtime`, no group needed). As in Go, each sort in turn reorders the whole list
//! (so the last one decides, except between equals), descending unless `ascending`;
//! files the regex does not match are left out when a sort needs a group. With
//! `group_by` (a regex with a named group), the files are ordered and cut to `top_n` per
//! value of its first group.

use std::cmp::Ordering;
use std::path::PathBuf;
use std::time::SystemTime;

use regex::Regex;
use serde::Deserialize;

/// `ordering_criteria`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrderingCriteria {
    /// `regex`: named groups taken from each file's path.
    pub regex: String,
    /// `top_n`: how many files are read (per group).
    pub top_n: usize,
    /// `group_by`: a regex whose first group splits the files into groups.
    pub group_by: String,
    /// `sort_by`: the sorts, applied in turn.
    pub sort_by: Vec<SortRule>,
}

impl Default for OrderingCriteria {
    fn default() -> Self {
        OrderingCriteria {
            regex: String::new(),
            top_n: 1,
            group_by: String::new(),
            sort_by: Vec::new(),
        }
    }
}

/// One `sort_by` item.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SortRule {
    /// `sort_type`: `numeric`, `alphabetical`, `timestamp` or `mtime`.
    pub sort_type: String,
    /// `regex_key`: the named group of `regex` to sort by.
    pub regex_key: String,
    /// `ascending`: smallest first (default: largest, newest first).
    pub ascending: bool,
    /// `layout`: the strptime layout of a `timestamp` group.
    pub layout: String,
    /// `location`: the time zone of a `timestamp` group (ordering does not depend on it).
    pub location: String,
}

/// A checked `ordering_criteria`, ready to filter paths.
#[derive(Debug, Clone)]
pub struct FileOrdering {
    regex: Option<Regex>,
    group_by: Option<Regex>,
    top_n: usize,
    sort_by: Vec<SortRule>,
}

impl OrderingCriteria {
    /// Checks the block as Go does and compiles its patterns.
    pub fn build(&self) -> Result<FileOrdering, String> {
        let compile = |key: &str, pattern: &str| {
            (!pattern.is_empty())
                .then(|| Regex::new(pattern).map_err(|e| format!("{key}: {e}")))
                .transpose()
        };
        let regex = compile("regex", &self.regex)?;
        let group_by = compile("group_by", &self.group_by)?;
        if self.top_n < 1 {
            return Err("top_n: must be at least 1".into());
        }
        for (i, rule) in self.sort_by.iter().enumerate() {
            let at = format!("sort_by[{i}]");
            match rule.sort_type.as_str() {
                "mtime" => continue,
                "numeric" | "alphabetical" => {}
                "timestamp" if rule.layout.is_empty() => {
                    return Err(format!("{at}::layout: required for sort_type timestamp"));
                }
                "timestamp" => {}
                other => {
                    return Err(format!(
                        "{at}::sort_type: {other:?} is not numeric, alphabetical, timestamp or mtime"
                    ));
                }
            }
            if rule.regex_key.is_empty() {
                return Err(format!(
                    "{at}::regex_key: required for sort_type {}",
                    rule.sort_type
                ));
            }
            let Some(regex) = &regex else {
                return Err(format!("regex: required to sort by {}", rule.regex_key));
            };
            if !regex.capture_names().flatten().any(|n| n == rule.regex_key) {
                return Err(format!(
                    "{at}::regex_key: regex has no group named {:?}",
                    rule.regex_key
                ));
            }
        }
        Ok(FileOrdering {
            regex,
            group_by,
            top_n: self.top_n,
            sort_by: self.sort_by.clone(),
        })
    }
}

/// The sort key of one path under one rule.
#[derive(Debug, PartialEq, PartialOrd)]
enum Key {
    Number(f64),
    Text(String),
    Time(jiff::civil::DateTime),
    Mtime(SystemTime),
}

impl FileOrdering {
    /// The paths to read: sorted and cut to `top_n` (per group). Without `sort_by`, all.
    pub fn select(&self, paths: Vec<PathBuf>) -> Vec<PathBuf> {
        if self.sort_by.is_empty() {
            return paths;
        }
        let mut groups: Vec<(String, Vec<PathBuf>)> = Vec::new();
        for path in paths {
            let text = path.to_string_lossy();
            let group = self
                .group_by
                .as_ref()
                .and_then(|g| g.captures(&text))
                .and_then(|c| {
                    c.iter()
                        .skip(1)
                        .flatten()
                        .next()
                        .map(|m| m.as_str().to_string())
                })
                .unwrap_or_default();
            match groups.iter_mut().find(|(g, _)| *g == group) {
                Some((_, members)) => members.push(path),
                None => groups.push((group, vec![path])),
            }
        }
        let mut selected = Vec::new();
        for (_, members) in groups {
            selected.extend(self.sorted(members).into_iter().take(self.top_n));
        }
        selected.sort();
        selected
    }

    fn sorted(&self, paths: Vec<PathBuf>) -> Vec<PathBuf> {
        let mut items: Vec<(PathBuf, Vec<Option<Key>>)> = paths
            .into_iter()
            .map(|p| {
                let keys = self.sort_by.iter().map(|r| self.key(&p, r)).collect();
                (p, keys)
            })
            .filter(|(_, keys): &(PathBuf, Vec<Option<Key>>)| keys.iter().all(Option::is_some))
            .collect();
        for (index, rule) in self.sort_by.iter().enumerate() {
            items.sort_by(|a, b| {
                let order = a.1[index]
                    .partial_cmp(&b.1[index])
                    .unwrap_or(Ordering::Equal);
                if rule.ascending {
                    order
                } else {
                    order.reverse()
                }
            });
        }
        items.into_iter().map(|(p, _)| p).collect()
    }

    fn key(&self, path: &std::path::Path, rule: &SortRule) -> Option<Key> {
        if rule.sort_type == "mtime" {
            return std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .map(Key::Mtime);
        }
        let text = path.to_string_lossy();
        let captures = self.regex.as_ref()?.captures(&text)?;
        let value = captures.name(&rule.regex_key)?.as_str();
        match rule.sort_type.as_str() {
            "numeric" => value.parse().ok().map(Key::Number),
            "alphabetical" => Some(Key::Text(value.to_string())),
            _ => jiff::fmt::strtime::parse(&rule.layout, value)
                .and_then(|t| t.to_datetime())
                .ok()
                .map(Key::Time),
        }
    }
}
