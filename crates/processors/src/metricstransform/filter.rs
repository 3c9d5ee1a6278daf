//! Which metrics and data points a transform selects: the metric name (strict or regexp)
//! and, optionally, label values.

use regex::Regex;
use tributary_pipeline_core::component::ConfigError;
use tributary_pipeline_core::pdata::attributes::{AnyValueExt, Attributes};
use tributary_pipeline_core::pdata::data_point::MetricExt;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::proto::metrics::v1::metric::Data;
use tributary_pipeline_core::pdata::proto::metrics::v1::{
    ExponentialHistogram, Gauge, Histogram, Metric, Sum, Summary,
};

use super::config::Transform;

/// Matches a string exactly, or by an (unanchored) regular expression.
enum Matcher {
    Strict(String),
    Regexp(Regex),
}

impl Matcher {
    fn matches(&self, text: &str) -> bool {
        match self {
            Matcher::Strict(expected) => expected == text,
            Matcher::Regexp(regex) => regex.is_match(text),
        }
    }
}

/// A label's value as Go's `Value.Str()` reads it: the string, or "" for any other type.
pub(crate) fn label_str<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| kv.value.as_ref().and_then(|v| v.as_str()).unwrap_or(""))
}

/// A transform's selection of metrics and data points.
pub(crate) struct Filter {
    include: Matcher,
    labels: Vec<(String, Matcher)>,
}

impl Filter {
    pub fn compile(transform: &Transform) -> Result<Self, ConfigError> {
        let regexp = transform.match_type == "regexp";
        let matcher = |text: &str, path: String| -> Result<Matcher, ConfigError> {
            if regexp {
                Regex::new(text)
                    .map(Matcher::Regexp)
                    .map_err(|e| ConfigError::at(path, e.to_string()))
            } else {
                Ok(Matcher::Strict(text.to_string()))
            }
        };
        let labels = transform
            .experimental_match_labels
            .iter()
            .map(|(label, value)| {
                let path = format!("experimental_match_labels::{label}");
                Ok((label.clone(), matcher(value, path)?))
            })
            .collect::<Result<_, ConfigError>>()?;
        Ok(Filter {
            include: matcher(&transform.include, "include".into())?,
            labels,
        })
    }

    /// Whether the metric's name is selected.
    pub fn matches_name(&self, name: &str) -> bool {
        self.include.matches(name)
    }

    /// Whether a data point's labels are selected: each listed label's value (or "" when
    /// the label is missing) must match.
    pub fn matches_labels(&self, attributes: &[KeyValue]) -> bool {
        self.labels.iter().all(|(label, matcher)| {
            matcher.matches(label_str(attributes, label).unwrap_or_default())
        })
    }

    /// Whether the metric is selected: its name, and any of its points (or it has none).
    pub fn matches_metric(&self, metric: &Metric) -> bool {
        self.matches_name(&metric.name) && {
            let mut points = metric.data_points().peekable();
            points.peek().is_none() || points.any(|p| self.matches_labels(p.attributes()))
        }
    }

    /// Whether every point of the metric is selected (true for none).
    pub fn matches_all_points(&self, metric: &Metric) -> bool {
        metric
            .data_points()
            .all(|p| self.matches_labels(p.attributes()))
    }

    /// `template` with the regexp's captures of `name` expanded (`$1`, `${name}`), or
    /// `None` for a strict filter, a name that does not match, or an empty expansion.
    pub fn expand(&self, template: &str, name: &str) -> Option<String> {
        let Matcher::Regexp(regex) = &self.include else {
            return None;
        };
        let captures = regex.captures(name)?;
        let mut expanded = String::new();
        captures.expand(template, &mut expanded);
        (!expanded.is_empty()).then_some(expanded)
    }

    /// The regexp's captures of `name`, as labels: each keyed by the group's name, or
    /// `$<index>` for an unnamed group. Empty for a strict filter.
    pub fn capture_labels(&self, name: &str) -> Vec<(String, String)> {
        let Matcher::Regexp(regex) = &self.include else {
            return Vec::new();
        };
        let Some(captures) = regex.captures(name) else {
            return Vec::new();
        };
        regex
            .capture_names()
            .enumerate()
            .skip(1)
            .filter_map(|(index, group)| {
                let text = captures.get(index)?.as_str();
                let key = group.map_or_else(|| format!("${index}"), str::to_string);
                Some((key, text.to_string()))
            })
            .collect()
    }

    /// A copy of the metric holding only its selected points, or `None` if none is.
    pub fn copy_selected(&self, metric: &Metric) -> Option<Metric> {
        if !self.matches_metric(metric) {
            return None;
        }
        let mut copy = metric.clone();
        copy.retain_data_points(|p| self.matches_labels(p.attributes()));
        Some(copy)
    }

    /// Moves the selected points out of a metric only some of whose points are
    /// selected, into a metric of their own.
    pub fn split_selected(&self, metric: &mut Metric) -> Metric {
        Metric {
            name: metric.name.clone(),
            description: metric.description.clone(),
            unit: metric.unit.clone(),
            metadata: metric.metadata.clone(),
            data: split_off(&mut metric.data, |attributes| {
                self.matches_labels(attributes)
            }),
        }
    }

    /// Moves the selected metrics, or their selected points, out of `metrics`. Go also
    /// removes the points that were not selected; we leave them where they were.
    pub fn extract(&self, metrics: &mut Vec<Metric>) -> Vec<Metric> {
        let mut extracted = Vec::new();
        metrics.retain_mut(|metric| {
            if !self.matches_metric(metric) {
                true
            } else if self.matches_all_points(metric) {
                extracted.push(std::mem::take(metric));
                false
            } else {
                extracted.push(self.split_selected(metric));
                true
            }
        });
        extracted
    }
}

/// Moves the points for which `take` holds into data of the same kind.
fn split_off(data: &mut Option<Data>, mut take: impl FnMut(&[KeyValue]) -> bool) -> Option<Data> {
    fn drain<T>(points: &mut Vec<T>, mut take: impl FnMut(&T) -> bool) -> Vec<T> {
        let (taken, kept) = std::mem::take(points).into_iter().partition(|p| take(p));
        *points = kept;
        taken
    }
    Some(match data.as_mut()? {
        Data::Gauge(g) => Data::Gauge(Gauge {
            data_points: drain(&mut g.data_points, |p| take(&p.attributes)),
        }),
        Data::Sum(s) => Data::Sum(Sum {
            data_points: drain(&mut s.data_points, |p| take(&p.attributes)),
            aggregation_temporality: s.aggregation_temporality,
            is_monotonic: s.is_monotonic,
        }),
        Data::Histogram(h) => Data::Histogram(Histogram {
            data_points: drain(&mut h.data_points, |p| take(&p.attributes)),
            aggregation_temporality: h.aggregation_temporality,
        }),
        Data::ExponentialHistogram(e) => Data::ExponentialHistogram(ExponentialHistogram {
            data_points: drain(&mut e.data_points, |p| take(&p.attributes)),
            aggregation_temporality: e.aggregation_temporality,
        }),
        Data::Summary(s) => Data::Summary(Summary {
            data_points: drain(&mut s.data_points, |p| take(&p.attributes)),
        }),
    })
}

/// Whether `attributes` holds `key` with the string value `value`.
pub(crate) fn has_label(attributes: &[KeyValue], key: &str, value: &str) -> bool {
    attributes.contains_key(key) && label_str(attributes, key) == Some(value)
}
