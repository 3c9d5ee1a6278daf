//! collectd's `write_http` JSON to OTLP metrics, named and typed as the Go receiver does.

use std::collections::BTreeMap;

use serde::Deserialize;
use tributary_pipeline_core::pdata::Metrics;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

/// One element of the JSON array `write_http` posts: a value list (or, with `severity`
/// and `message`, a notification, which is skipped as in Go).
#[derive(Debug, Default, Deserialize)]
struct Record {
    #[serde(default)]
    dsnames: Vec<Option<String>>,
    #[serde(default)]
    dstypes: Vec<Option<String>>,
    host: Option<String>,
    interval: Option<f64>,
    plugin: Option<String>,
    plugin_instance: Option<String>,
    time: Option<f64>,
    #[serde(rename = "type")]
    type_name: Option<String>,
    type_instance: Option<String>,
    #[serde(default)]
    values: Vec<Option<serde_json::Number>>,
    message: Option<String>,
    /// Read so that a malformed `meta` is a malformed body, as in Go; not mapped.
    #[serde(default, rename = "meta")]
    _meta: Option<BTreeMap<String, serde_json::Value>>,
    severity: Option<String>,
}

/// Why a body was not collectd JSON.
#[derive(Debug)]
pub struct JsonError(serde_json::Error);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unable to decode json: {}", self.0)
    }
}

impl std::error::Error for JsonError {}

/// Decodes a `write_http` JSON body (an array of value lists) into one batch of metrics,
/// each point carrying `attributes` (the request's query attributes) besides its own.
/// The decoder the fuzz target `collectd_json` drives.
///
/// Each value of a value list is a point. Its name is `type.type_instance`, plus
/// `.dsname` when the list has several data sources (with one, `dsname` is an attribute);
/// `plugin`, `plugin_instance` and `host` are attributes, and `name[k=v,...]` in
/// `type_instance`, `plugin_instance` or `host` gives attributes `k=v` too. `derive` and
/// `counter` values are monotonic cumulative sums, `gauge` and `absolute` gauges.
///
/// ```
/// let body = br#"[{"values":[1901474177,1301474177],"dstypes":["derive","derive"],
///   "dsnames":["rx","tx"],"time":1280959128.0,"interval":10.0,"host":"leeloo",
///   "plugin":"interface","plugin_instance":"eth0","type":"if_octets","type_instance":""}]"#;
/// let metrics = tributary_receivers::collectd::decode(body, &[]).unwrap();
/// assert_eq!(metrics.item_count(), 2);
/// let names: Vec<_> = metrics.request().resource_metrics[0].scope_metrics[0]
///     .metrics.iter().map(|m| m.name.clone()).collect();
/// assert_eq!(names, ["if_octets.rx", "if_octets.tx"]);
/// assert!(tributary_receivers::collectd::decode(b"{not json", &[]).is_err());
/// ```
pub fn decode(body: &[u8], attributes: &[(String, String)]) -> Result<Metrics, JsonError> {
    let records: Vec<Record> = serde_json::from_slice(body).map_err(JsonError)?;
    let mut builder = MetricsBuilder::new();
    for record in &records {
        record.append(&mut builder, attributes);
    }
    Ok(builder.build())
}

impl Record {
    fn is_event(&self) -> bool {
        self.time.is_some() && self.severity.is_some() && self.message.is_some()
    }

    fn append(&self, builder: &mut MetricsBuilder, defaults: &[(String, String)]) {
        if self.is_event() {
            return;
        }
        // One map for the whole list, as Go keeps it: labels found for one value stay.
        let mut labels: BTreeMap<String, String> = defaults.iter().cloned().collect();
        let time = seconds_to_nanos(self.time.unwrap_or(0.0));
        for (index, dsname) in self.dsnames.iter().enumerate() {
            let (Some(dstype), Some(Some(value))) =
                (self.dstypes.get(index), self.values.get(index))
            else {
                continue;
            };
            let (name, used_dsname) = self.metric_name(index, &mut labels);
            put_non_empty(&mut labels, "plugin", self.plugin.as_deref());
            add_name_labels(
                &mut labels,
                "plugin_instance",
                self.plugin_instance.as_deref(),
            );
            add_name_labels(&mut labels, "host", self.host.as_deref());
            if !used_dsname {
                put_non_empty(&mut labels, "dsname", dsname.as_deref());
            }
            let attributes: Vec<KeyValue> = labels
                .iter()
                .map(|(k, v)| key_value(k.clone(), v.clone()))
                .collect();
            match dstype.as_deref() {
                Some("derive" | "counter") => {
                    let start = match (self.time, self.interval) {
                        (Some(time), Some(interval)) => seconds_to_nanos(time - interval),
                        _ => 0,
                    };
                    let mut sum = builder.sum(&name, "", Temporality::Cumulative, true);
                    match value.as_i64() {
                        Some(int) => sum.int(attributes, start, time, int),
                        None => {
                            sum.double(attributes, start, time, value.as_f64().unwrap_or(f64::NAN))
                        }
                    };
                }
                _ => {
                    let mut gauge = builder.gauge(&name, "");
                    match value.as_i64() {
                        Some(int) => gauge.int(attributes, time, int),
                        None => gauge.double(attributes, time, value.as_f64().unwrap_or(f64::NAN)),
                    };
                }
            }
        }
    }

    /// `type[.type_instance][.dsname]`, and whether the data source's name went into it
    /// (it does when the list has several). Attributes in `type_instance` go to `labels`.
    fn metric_name(&self, index: usize, labels: &mut BTreeMap<String, String>) -> (String, bool) {
        let mut name = self.type_name.clone().unwrap_or_default();
        if let Some(instance) = self.type_instance.as_deref().filter(|s| !s.is_empty()) {
            let (instance, extracted) = labels_from_name(instance);
            if !instance.is_empty() {
                if !name.is_empty() {
                    name.push('.');
                }
                name.push_str(&instance);
            }
            for (k, v) in extracted {
                if !v.is_empty() {
                    labels.entry(k).or_insert(v);
                }
            }
        }
        let mut used_dsname = false;
        if let Some(Some(dsname)) = self.dsnames.get(index)
            && !dsname.is_empty()
            && self.dsnames.len() > 1
        {
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(dsname);
            used_dsname = true;
        }
        (name, used_dsname)
    }
}

/// Seconds since the epoch (fractional, as collectd sends them) in nanoseconds; times
/// before the epoch or beyond the year 2554 saturate.
fn seconds_to_nanos(seconds: f64) -> u64 {
    // `as` saturates (and makes NaN 0), which is what a nonsensical time deserves.
    (seconds * 1e9) as u64
}

fn put_non_empty(labels: &mut BTreeMap<String, String>, key: &str, value: Option<&str>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        labels.insert(key.to_owned(), value.to_owned());
    }
}

/// Adds the attributes `value` carries (`name[k=v]`) that are not set yet, then `key` set
/// to the rest of the name.
fn add_name_labels(labels: &mut BTreeMap<String, String>, key: &str, value: Option<&str>) {
    let (name, extracted) = labels_from_name(value.unwrap_or(""));
    for (k, v) in extracted {
        if !v.is_empty() {
            labels.entry(k).or_insert(v);
        }
    }
    put_non_empty(labels, key, Some(&name));
}

/// Splits `name[k=v,f=x]-rest` into `name-rest` and the pairs `(k, v)`, `(f, x)`, as the
/// SignalFx gateway (and so Go's receiver) reads them; anything unexpected leaves the
/// name whole and gives no pairs.
pub(crate) fn labels_from_name(value: &str) -> (String, BTreeMap<String, String>) {
    let whole = || (value.to_owned(), BTreeMap::new());
    let Some(open) = value.find('[') else {
        return whole();
    };
    let (left, rest) = (&value[..open], &value[open + 1..]);
    let Some(close) = rest.find(']') else {
        return whole();
    };
    let (dimensions, rest) = (&rest[..close], &rest[close + 1..]);
    let mut pairs = BTreeMap::new();
    for piece in dimensions.split(',') {
        match piece.split_once('=') {
            // A repeated key keeps its last value.
            Some((k, v)) if !v.contains('=') => {
                pairs.insert(k.to_owned(), v.to_owned());
            }
            _ => return whole(),
        }
    }
    (format!("{left}{rest}"), pairs)
}
