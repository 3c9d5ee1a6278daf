//! The bounded record of pushed groups: for each group, the series its last pushes left,
//! so that a `PUT`, `POST` or `DELETE` can forward staleness markers for the series it
//! removes.

use std::collections::{BTreeSet, HashMap};

use tributary_translator_prometheus::text::{Family, MetricType, Sample, stale_nan};
use tributary_translator_prometheus::to_otlp::StartTimeAdjuster;

use super::body::{PUSH_FAILURE_TIME, PUSH_TIME};
use super::path::GroupingKey;

/// What a push does to its group (the HTTP method).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PushMethod {
    /// Replaces the whole group.
    Put,
    /// Replaces the group's metrics of the names pushed.
    Post,
    /// Removes the group.
    Delete,
}

/// How much the record may hold.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordLimits {
    pub(crate) groups: usize,
    pub(crate) series: usize,
    pub(crate) bytes: usize,
}

/// A series: the sample's name and its labels, sorted.
type SeriesId = (String, Vec<(String, String)>);

/// A family's series as the group holds them.
#[derive(Clone, Debug, Default)]
struct RecordedFamily {
    metric_type: Option<MetricType>,
    unit: Option<String>,
    series: BTreeSet<SeriesId>,
}

/// One group: its families by name, whether the receiver wrote its push-time gauges, and
/// the start times of its cumulative series.
#[derive(Debug, Default)]
pub(crate) struct Group {
    families: HashMap<String, RecordedFamily>,
    push_failure_sent: bool,
    adjuster: StartTimeAdjuster,
}

impl Group {
    fn series(&self) -> usize {
        self.families.values().map(|f| f.series.len()).sum()
    }

    fn bytes(&self) -> usize {
        self.families
            .values()
            .flat_map(|f| &f.series)
            .map(series_bytes)
            .sum()
    }
}

/// What a series costs in memory, roughly: its strings, their headers and allocations,
/// the set's node, and its entry in the start-time memory (which keys it by name and
/// labels again).
fn series_bytes((name, labels): &SeriesId) -> usize {
    256 + 2 * name.len()
        + labels
            .iter()
            .map(|(n, v)| 64 + 2 * (n.len() + v.len()))
            .sum::<usize>()
}

/// Why a push would take the record past its bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OverLimit(pub(crate) String);

/// A push worked out against the record but not applied yet: what to forward, and the
/// group's series once it is delivered.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The pushed families, staleness markers for the series it removes, and the group's
    /// `push_time_seconds`.
    pub(crate) forward: Vec<Family>,
    next: Option<HashMap<String, RecordedFamily>>,
}

/// Every group's record, within [`RecordLimits`].
#[derive(Debug)]
pub(crate) struct Groups {
    groups: HashMap<GroupingKey, Group>,
    series: usize,
    bytes: usize,
    limits: RecordLimits,
}

impl Groups {
    pub(crate) fn new(limits: RecordLimits) -> Self {
        Groups {
            groups: HashMap::new(),
            series: 0,
            bytes: 0,
            limits,
        }
    }

    /// How many groups, series and bytes are recorded.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (usize, usize, usize) {
        (self.groups.len(), self.series, self.bytes)
    }

    /// The start times of `key`'s cumulative series, lent out for a translation (a group
    /// not recorded yet starts with none).
    pub(crate) fn take_adjuster(&mut self, key: &GroupingKey) -> StartTimeAdjuster {
        self.groups
            .get_mut(key)
            .map(|group| std::mem::take(&mut group.adjuster))
            .unwrap_or_default()
    }

    /// Gives back what [`take_adjuster`](Self::take_adjuster) lent when the push failed.
    pub(crate) fn restore_adjuster(&mut self, key: &GroupingKey, adjuster: StartTimeAdjuster) {
        if let Some(group) = self.groups.get_mut(key) {
            group.adjuster = adjuster;
        }
    }

    /// Works out `method` with `families` (empty for `DELETE`) on `key`'s group, at
    /// `now_seconds`, refusing what would take the record past its bounds.
    pub(crate) fn plan(
        &self,
        key: &GroupingKey,
        method: PushMethod,
        families: Vec<Family>,
        now_seconds: f64,
    ) -> Result<Plan, OverLimit> {
        let old = self.groups.get(key);
        if method == PushMethod::Delete {
            let mut forward = Vec::new();
            if let Some(old) = old {
                for (name, family) in &old.families {
                    stale_family(&mut forward, name, family, |_| true);
                }
                forward.push(group_gauge(PUSH_TIME, key, stale_nan()));
                if old.push_failure_sent {
                    forward.push(group_gauge(PUSH_FAILURE_TIME, key, stale_nan()));
                }
            }
            return Ok(Plan {
                forward,
                next: None,
            });
        }
        let pushed: HashMap<String, RecordedFamily> = record_of(&families);
        let mut next: HashMap<String, RecordedFamily> = match (method, old) {
            (PushMethod::Post, Some(old)) => old
                .families
                .iter()
                .filter(|(name, _)| !pushed.contains_key(*name))
                .map(|(name, family)| (name.clone(), family.clone()))
                .collect(),
            _ => HashMap::new(),
        };
        let mut forward = families;
        if let Some(old) = old {
            for (name, family) in &old.families {
                let replaced = method == PushMethod::Put || pushed.contains_key(name);
                if !replaced {
                    continue;
                }
                let kept = pushed.get(name);
                stale_family(&mut forward, name, family, |id| {
                    !kept.is_some_and(|k| k.series.contains(id))
                });
            }
        }
        next.extend(pushed);
        let (old_series, old_bytes) = old.map_or((0, 0), |g| (g.series(), g.bytes()));
        let new_series: usize = next.values().map(|f| f.series.len()).sum();
        let new_bytes: usize = next
            .values()
            .flat_map(|f| &f.series)
            .map(series_bytes)
            .sum::<usize>()
            + if old.is_none() { key.byte_size() } else { 0 };
        if old.is_none() && self.groups.len() >= self.limits.groups {
            return Err(OverLimit(format!(
                "the receiver records at most {} groups (max_groups); delete a group first",
                self.limits.groups
            )));
        }
        let series = self.series - old_series + new_series;
        if series > self.limits.series {
            return Err(OverLimit(format!(
                "this push would make {series} recorded series, over max_series ({})",
                self.limits.series
            )));
        }
        let bytes = self.bytes - old_bytes + new_bytes;
        if bytes > self.limits.bytes {
            return Err(OverLimit(format!(
                "this push would make {bytes} recorded bytes, over max_recorded_bytes ({})",
                self.limits.bytes
            )));
        }
        forward.push(group_gauge(PUSH_TIME, key, now_seconds));
        Ok(Plan {
            forward,
            next: Some(next),
        })
    }

    /// Applies a plan once its data was delivered.
    pub(crate) fn commit(&mut self, key: &GroupingKey, plan: Plan, adjuster: StartTimeAdjuster) {
        let (old_series, old_bytes) = match self.groups.get(key) {
            Some(group) => (group.series(), group.bytes() + key.byte_size()),
            None => (0, 0),
        };
        self.series -= old_series;
        self.bytes -= old_bytes;
        let Some(families) = plan.next else {
            self.groups.remove(key);
            return;
        };
        let group = self.groups.entry(key.clone()).or_default();
        group.families = families;
        group.adjuster = adjuster;
        self.series += group.series();
        self.bytes += group.bytes() + key.byte_size();
        bound_adjuster(group);
    }

    /// Remembers that `push_failure_time_seconds` was forwarded for an existing group, so
    /// that deleting the group marks it stale too.
    pub(crate) fn failure_sent(&mut self, key: &GroupingKey) {
        if let Some(group) = self.groups.get_mut(key) {
            group.push_failure_sent = true;
        }
    }
}

/// Keeps the start-time memory at about the group's size: the adjuster keeps series the
/// group no longer has, so past twice its size it starts over (the next points of a
/// cumulative series then start at their own time, as a series seen for the first time).
fn bound_adjuster(group: &mut Group) {
    if group.adjuster.len() > 2 * group.series() + 16 {
        group.adjuster = StartTimeAdjuster::new();
    }
}

/// The series of `families`, by family.
fn record_of(families: &[Family]) -> HashMap<String, RecordedFamily> {
    let mut record: HashMap<String, RecordedFamily> = HashMap::new();
    for family in families {
        let recorded = record.entry(family.name.clone()).or_default();
        recorded.metric_type = Some(family.metric_type);
        recorded.unit.clone_from(&family.unit);
        for sample in &family.samples {
            let mut labels = sample.labels.clone();
            labels.sort();
            recorded.series.insert((sample.name.clone(), labels));
        }
    }
    record
}

/// Appends a family of staleness markers for `family`'s series that `stale` selects.
fn stale_family(
    out: &mut Vec<Family>,
    name: &str,
    family: &RecordedFamily,
    stale: impl Fn(&SeriesId) -> bool,
) {
    let samples: Vec<Sample> = family
        .series
        .iter()
        .filter(|id| stale(id))
        .map(|(sample_name, labels)| Sample {
            name: sample_name.clone(),
            labels: labels.clone(),
            value: stale_nan(),
            timestamp_ms: None,
            exemplar: None,
        })
        .collect();
    if samples.is_empty() {
        return;
    }
    let mut stale = Family::new(name, family.metric_type.unwrap_or(MetricType::Unknown));
    stale.unit.clone_from(&family.unit);
    stale.samples = samples;
    out.push(stale);
}

/// `push_time_seconds` or `push_failure_time_seconds` of a group.
pub(crate) fn group_gauge(name: &str, key: &GroupingKey, value: f64) -> Family {
    let mut family = Family::new(name, MetricType::Gauge);
    family.help = Some(if name == PUSH_TIME {
        "Last Unix time when changing this group succeeded.".into()
    } else {
        "Last Unix time when changing this group failed.".into()
    });
    family.samples.push(Sample {
        name: name.into(),
        labels: key.labels().to_vec(),
        value,
        timestamp_ms: None,
        exemplar: None,
    });
    family
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use proptest::prelude::*;
    use tributary_translator_prometheus::text::{Family, MetricType, Sample, is_stale_nan};

    use super::super::path::parse_grouping_key;
    use super::{Groups, PushMethod, RecordLimits};

    type Series = (String, String); // (metric name, value of label `l`)

    fn body(series: &BTreeSet<Series>) -> Vec<Family> {
        let mut families: BTreeMap<String, Family> = BTreeMap::new();
        for (name, l) in series {
            let family = families
                .entry(name.clone())
                .or_insert_with(|| Family::new(name.clone(), MetricType::Gauge));
            family.samples.push(Sample {
                name: name.clone(),
                labels: vec![("l".into(), l.clone()), ("job".into(), "j".into())],
                value: 1.0,
                timestamp_ms: None,
                exemplar: None,
            });
        }
        families.into_values().collect()
    }

    fn op() -> impl Strategy<Value = (u8, BTreeSet<Series>)> {
        let series = (0..3u8, 0..3u8).prop_map(|(m, l)| (format!("m{m}"), format!("v{l}")));
        (0..3u8, proptest::collection::btree_set(series, 0..6))
    }

    proptest! {
        /// Whatever the sequence of pushes, what was forwarded (values, less the series
        /// later marked stale) is what the group holds by the Pushgateway's rules.
        #[test]
        fn forwarded_series_follow_the_pushgateway_semantics(ops in proptest::collection::vec(op(), 1..20)) {
            let group = parse_grouping_key("/job/j", &[]).unwrap();
            let mut groups = Groups::new(RecordLimits { groups: 10, series: 100, bytes: 1 << 20 });
            let mut live: BTreeSet<Series> = BTreeSet::new();
            let mut model: BTreeMap<String, BTreeSet<Series>> = BTreeMap::new();
            for (method, pushed) in ops {
                let method = [PushMethod::Put, PushMethod::Post, PushMethod::Delete][method as usize];
                let families = if method == PushMethod::Delete { Vec::new() } else { body(&pushed) };
                let plan = groups.plan(&group, method, families, 1.0).unwrap();
                for family in &plan.forward {
                    for sample in &family.samples {
                        if sample.name.starts_with("push_") {
                            continue;
                        }
                        let id = (sample.name.clone(), sample.label("l").unwrap_or("").to_string());
                        if is_stale_nan(sample.value) {
                            prop_assert!(live.remove(&id), "a marker for a series not live: {:?}", id);
                        } else {
                            live.insert(id);
                        }
                    }
                }
                let adjuster = groups.take_adjuster(&group);
                groups.commit(&group, plan, adjuster);
                let mut by_name: BTreeMap<String, BTreeSet<Series>> = BTreeMap::new();
                for s in &pushed {
                    by_name.entry(s.0.clone()).or_default().insert(s.clone());
                }
                match method {
                    PushMethod::Put => model = by_name,
                    PushMethod::Post => model.extend(by_name),
                    PushMethod::Delete => model.clear(),
                }
                let expected: BTreeSet<Series> = model.values().flatten().cloned().collect();
                prop_assert_eq!(&live, &expected);
                let (groups_held, series_held, _) = groups.usage();
                prop_assert_eq!(series_held, expected.len());
                prop_assert_eq!(groups_held, usize::from(method != PushMethod::Delete));
            }
        }
    }
}
