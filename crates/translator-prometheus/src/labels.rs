//! OTLP attributes, resources and scopes → Prometheus labels, as the Go Collector's
//! Prometheus exporters build them.
//!
//! - Point attributes become labels; their keys are sanitised ([`normalize_label_name`]),
//!   and keys that sanitise to the same name have their values joined with `;`, in the
//!   order of the original keys.
//! - The resource gives `job` (`service.namespace/service.name`, or `service.name`) and
//!   `instance` (`service.instance.id`); its other attributes go to one `target_info`
//!   series per (job, instance) ([`target_info_labels`]), or onto every series with
//!   `resource_to_telemetry_conversion`.
//! - The scope gives `otel_scope_name`, `otel_scope_version`, `otel_scope_schema_url` and
//!   `otel_scope_<attribute>` labels.
//!
//! ```
//! use tributary_pipeline_core::pdata::attributes::key_value;
//! use tributary_translator_prometheus::labels::{LabelOptions, series_labels, ScopeRef};
//!
//! let resource = [key_value("service.name", "api"), key_value("service.namespace", "shop"),
//!                 key_value("service.instance.id", "pod-1"), key_value("host.name", "h1")];
//! let point = [key_value("http.method", "GET"), key_value("http_method", "get")];
//! let scope = ScopeRef { name: "io.lib", version: "1.2", schema_url: "", attributes: &[] };
//! let labels = series_labels(&resource, Some(&scope), &point, &LabelOptions::default());
//! assert_eq!(labels, vec![
//!     ("http_method".to_string(), "GET;get".to_string()),
//!     ("instance".to_string(), "pod-1".to_string()),
//!     ("job".to_string(), "shop/api".to_string()),
//!     ("otel_scope_name".to_string(), "io.lib".to_string()),
//!     ("otel_scope_version".to_string(), "1.2".to_string()),
//! ]);
//! ```

use std::collections::BTreeMap;

use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;
use tributary_pipeline_core::pdata::value_text::as_string;

/// The label `job`.
pub const JOB: &str = "job";
/// The label `instance`.
pub const INSTANCE: &str = "instance";
/// The name of the series that carries a resource's other attributes.
pub const TARGET_INFO: &str = "target_info";
/// The label of the instrumentation scope's name.
pub const SCOPE_NAME: &str = "otel_scope_name";
/// The label of the instrumentation scope's version.
pub const SCOPE_VERSION: &str = "otel_scope_version";
/// The label of the instrumentation scope's schema URL.
pub const SCOPE_SCHEMA_URL: &str = "otel_scope_schema_url";
/// The resource attribute of the service's name (part of `job`).
pub const SERVICE_NAME: &str = "service.name";
/// The resource attribute of the service's namespace (part of `job`).
pub const SERVICE_NAMESPACE: &str = "service.namespace";
/// The resource attribute of the service's instance (`instance`).
pub const SERVICE_INSTANCE_ID: &str = "service.instance.id";

/// Labels of one series: `(name, value)` sorted by name, names unique.
pub type Labels = Vec<(String, String)>;

/// What goes into a series' labels besides its point attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelOptions {
    /// Every resource attribute on every series (`resource_to_telemetry_conversion`); a
    /// resource attribute wins over a point attribute of the same key, as Go's wrapper
    /// does.
    pub resource_to_telemetry: bool,
    /// The `otel_scope_*` labels (Go: on unless scope labels are disabled).
    pub scope_labels: bool,
    /// Keep label names as they are (UTF-8 strategies) instead of sanitising them.
    pub utf8_allowed: bool,
}

impl Default for LabelOptions {
    fn default() -> Self {
        LabelOptions {
            resource_to_telemetry: false,
            scope_labels: true,
            utf8_allowed: false,
        }
    }
}

/// The parts of an instrumentation scope that become labels.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScopeRef<'a> {
    /// The scope's name.
    pub name: &'a str,
    /// The scope's version.
    pub version: &'a str,
    /// The scope's schema URL (the `ScopeMetrics` schema URL).
    pub schema_url: &'a str,
    /// The scope's attributes, each an `otel_scope_<key>` label.
    pub attributes: &'a [KeyValue],
}

/// The labels of a series: the point's `attributes` (and, with
/// `resource_to_telemetry`, the resource's), then the scope labels, then `job` and
/// `instance` from the resource, which win over attributes of those names. Empty values
/// are left out (Prometheus treats an empty label as an absent one).
pub fn series_labels(
    resource: &[KeyValue],
    scope: Option<&ScopeRef<'_>>,
    attributes: &[KeyValue],
    options: &LabelOptions,
) -> Labels {
    let mut merged: Vec<(&str, String)> = Vec::with_capacity(attributes.len());
    for kv in attributes {
        let overridden = options.resource_to_telemetry && resource.iter().any(|r| r.key == kv.key);
        if !overridden {
            merged.push((&kv.key, as_string(kv.value.as_ref())));
        }
    }
    if options.resource_to_telemetry {
        merged.extend(
            resource
                .iter()
                .map(|kv| (kv.key.as_str(), as_string(kv.value.as_ref()))),
        );
    }
    let mut labels = sanitize_and_join(merged, options.utf8_allowed);
    if options.scope_labels
        && let Some(scope) = scope
    {
        for (name, value) in scope_labels(scope, options.utf8_allowed) {
            labels.insert(name, value);
        }
    }
    let (job, instance) = job_and_instance(resource);
    if let Some(job) = job {
        labels.insert(JOB.into(), job);
    }
    if let Some(instance) = instance {
        labels.insert(INSTANCE.into(), instance);
    }
    labels.into_iter().filter(|(_, v)| !v.is_empty()).collect()
}

/// The labels a resource and a scope give every series of theirs (the scope labels, then
/// `job` and `instance`), worked out once for all the points of the scope; see
/// [`SharedLabels::point_labels`]. Only without `resource_to_telemetry`, where the
/// resource's attributes do not mix with the point's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SharedLabels {
    /// One per name, the last of its name (later ones override earlier); empty values
    /// kept, since an empty scope label still removes a point attribute of that name.
    labels: Labels,
}

impl SharedLabels {
    /// The shared labels of `resource` and `scope`; `None` with `resource_to_telemetry`
    /// (use [`series_labels`] then).
    pub fn new(
        resource: &[KeyValue],
        scope: Option<&ScopeRef<'_>>,
        options: &LabelOptions,
    ) -> Option<SharedLabels> {
        if options.resource_to_telemetry {
            return None;
        }
        let mut labels = Labels::new();
        if options.scope_labels
            && let Some(scope) = scope
        {
            labels = scope_labels(scope, options.utf8_allowed);
        }
        let (job, instance) = job_and_instance(resource);
        if let Some(job) = job {
            labels.push((JOB.into(), job));
        }
        if let Some(instance) = instance {
            labels.push((INSTANCE.into(), instance));
        }
        // Later labels override earlier ones of the same name: keep the last of each, once
        // here rather than for every point.
        let mut at = 0;
        while at < labels.len() {
            if labels[at + 1..].iter().any(|(n, _)| *n == labels[at].0) {
                labels.remove(at);
            } else {
                at += 1;
            }
        }
        Some(SharedLabels { labels })
    }

    /// The labels of a point with `attributes`: what [`series_labels`] gives for the
    /// resource and scope these were made from, without rebuilding their part per point
    /// and without a map.
    pub fn point_labels(&self, attributes: &[KeyValue], utf8_allowed: bool) -> Labels {
        // Attribute keys in order, then sanitised; a stable sort by the sanitised name
        // keeps the keys' order among names that collide, whose values are joined.
        let mut pairs: Vec<(&str, String)> = attributes
            .iter()
            .map(|kv| (kv.key.as_str(), as_string(kv.value.as_ref())))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        let mut named: Vec<(std::borrow::Cow<'_, str>, String)> = pairs
            .into_iter()
            .map(|(key, value)| (label_name(key, utf8_allowed), value))
            .filter(|(name, _)| !name.is_empty())
            .collect();
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let mut labels: Labels = Vec::with_capacity(named.len() + self.labels.len());
        for (name, value) in named {
            if self.labels.iter().any(|(n, _)| *n == *name) {
                continue;
            }
            match labels.last_mut() {
                Some((last, joined)) if *last == *name => {
                    joined.push(';');
                    joined.push_str(&value);
                }
                _ => labels.push((name.into_owned(), value)),
            }
        }
        labels.extend(self.labels.iter().cloned());
        labels.retain(|(_, v)| !v.is_empty());
        labels.sort_by(|a, b| a.0.cmp(&b.0));
        labels
    }
}

/// A key as a label name: as it is when it is one already (or with UTF-8 names),
/// else [`normalize_label_name`]'s.
fn label_name(key: &str, utf8_allowed: bool) -> std::borrow::Cow<'_, str> {
    let kept = utf8_allowed
        || (is_valid_label_name(key) && (!key.starts_with('_') || key.starts_with("__")));
    if kept {
        std::borrow::Cow::Borrowed(key)
    } else {
        std::borrow::Cow::Owned(normalize_label_name(key))
    }
}

/// `job` and `instance` of a resource: `service.namespace/service.name` (or
/// `service.name` alone) and `service.instance.id`, each `None` when its attribute is
/// missing.
pub fn job_and_instance(resource: &[KeyValue]) -> (Option<String>, Option<String>) {
    let get = |key: &str| {
        resource
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| as_string(kv.value.as_ref()))
    };
    let job = get(SERVICE_NAME).map(|name| match get(SERVICE_NAMESPACE) {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name,
    });
    (job, get(SERVICE_INSTANCE_ID))
}

/// The labels of a resource's `target_info` series: its attributes other than
/// `service.name`, `service.namespace` and `service.instance.id`, plus `job` and
/// `instance`. `None` when no other attribute is left, where Go writes no `target_info`.
pub fn target_info_labels(resource: &[KeyValue], utf8_allowed: bool) -> Option<Labels> {
    let rest: Vec<(&str, String)> = resource
        .iter()
        .filter(|kv| {
            ![SERVICE_NAME, SERVICE_NAMESPACE, SERVICE_INSTANCE_ID].contains(&kv.key.as_str())
        })
        .map(|kv| (kv.key.as_str(), as_string(kv.value.as_ref())))
        .collect();
    if rest.is_empty() {
        return None;
    }
    let mut labels = sanitize_and_join(rest, utf8_allowed);
    let (job, instance) = job_and_instance(resource);
    if let Some(job) = job {
        labels.insert(JOB.into(), job);
    }
    if let Some(instance) = instance {
        labels.insert(INSTANCE.into(), instance);
    }
    Some(labels.into_iter().filter(|(_, v)| !v.is_empty()).collect())
}

/// The `otel_scope_*` labels of a scope, unsorted; empty values included.
pub fn scope_labels(scope: &ScopeRef<'_>, utf8_allowed: bool) -> Labels {
    let mut labels = vec![
        (SCOPE_NAME.to_string(), scope.name.to_string()),
        (SCOPE_VERSION.to_string(), scope.version.to_string()),
        (SCOPE_SCHEMA_URL.to_string(), scope.schema_url.to_string()),
    ];
    for kv in scope.attributes {
        let name = format!("otel_scope_{}", kv.key);
        let name = if utf8_allowed {
            name
        } else {
            normalize_label_name(&name)
        };
        labels.push((name, as_string(kv.value.as_ref())));
    }
    labels
}

/// Sanitises the keys of `pairs` and joins the values of keys that collide with `;`,
/// ordered by the original key (Go sorts the attributes stably by key first).
fn sanitize_and_join(
    mut pairs: Vec<(&str, String)>,
    utf8_allowed: bool,
) -> BTreeMap<String, String> {
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in pairs {
        let name = if utf8_allowed {
            key.to_string()
        } else {
            normalize_label_name(key)
        };
        if name.is_empty() {
            continue;
        }
        labels
            .entry(name)
            .and_modify(|joined| {
                joined.push(';');
                joined.push_str(&value);
            })
            .or_insert(value);
    }
    labels
}

/// A label name as Go's `NormalizeLabel` makes it: each character outside
/// `[a-zA-Z0-9_]` becomes `_`; a name starting with a digit gets `key_` in front, one
/// starting with a single `_` gets `key` in front (`__` names are reserved and kept).
///
/// ```
/// use tributary_translator_prometheus::labels::normalize_label_name;
///
/// assert_eq!(normalize_label_name("http.method"), "http_method");
/// assert_eq!(normalize_label_name("2xx"), "key_2xx");
/// assert_eq!(normalize_label_name("_private"), "key_private");
/// assert_eq!(normalize_label_name("__name__"), "__name__");
/// ```
pub fn normalize_label_name(name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let sanitized: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if sanitized.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{sanitized}")
    } else if sanitized.starts_with('_') && !sanitized.starts_with("__") {
        format!("key{sanitized}")
    } else {
        sanitized
    }
}

/// Whether `name` is a classic Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_pipeline_core::pdata::attributes::key_value;

    fn pairs(labels: &[(&str, &str)]) -> Labels {
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn job_and_instance_come_from_the_service() {
        let resource = [
            key_value("service.name", "api"),
            key_value("service.instance.id", "i-1"),
        ];
        assert_eq!(
            job_and_instance(&resource),
            (Some("api".into()), Some("i-1".into()))
        );
        let namespaced = [
            key_value("service.namespace", "shop"),
            key_value("service.name", "api"),
        ];
        assert_eq!(
            job_and_instance(&namespaced),
            (Some("shop/api".into()), None)
        );
        assert_eq!(job_and_instance(&[]), (None, None));
    }

    /// The per-scope shortcut gives exactly what the per-point rule gives.
    #[test]
    fn shared_labels_match_series_labels() {
        let resource = [
            key_value("service.name", "api"),
            key_value("service.namespace", "shop"),
            key_value("service.instance.id", "pod-1"),
        ];
        // `name` becomes `otel_scope_name`, which the scope's name also gives: the later wins.
        let scope_attrs = [key_value("lib.kind", "x"), key_value("name", "attr")];
        let scope = ScopeRef {
            name: "io.lib",
            version: "",
            schema_url: "",
            attributes: &scope_attrs,
        };
        let points: [&[KeyValue]; 5] = [
            &[],
            &[
                key_value("http.method", "GET"),
                key_value("http_method", "get"),
            ],
            &[
                key_value("job", "theirs"),
                key_value("b", ""),
                key_value("a", "1"),
            ],
            &[
                key_value("otel_scope_schema_url", "u"),
                key_value("_x", "1"),
                key_value("2xx", "2"),
            ],
            &[
                key_value("__meta", "m"),
                key_value("otel_scope_name", "mine"),
                key_value("ü", "3"),
            ],
        ];
        for utf8_allowed in [false, true] {
            for scope_labels in [false, true] {
                let options = LabelOptions {
                    resource_to_telemetry: false,
                    scope_labels,
                    utf8_allowed,
                };
                for with_scope in [None, Some(&scope)] {
                    let shared = SharedLabels::new(&resource, with_scope, &options).unwrap();
                    for point in points {
                        assert_eq!(
                            shared.point_labels(point, utf8_allowed),
                            series_labels(&resource, with_scope, point, &options),
                            "{point:?} utf8 {utf8_allowed} scope labels {scope_labels}"
                        );
                    }
                }
            }
        }
        let to_telemetry = LabelOptions {
            resource_to_telemetry: true,
            ..LabelOptions::default()
        };
        assert_eq!(SharedLabels::new(&resource, None, &to_telemetry), None);
    }

    #[test]
    fn collisions_join_values_in_key_order() {
        let attributes = [
            key_value("a.b", "dot"),
            key_value("a_b", "underscore"),
            key_value("a-b", "dash"),
        ];
        let labels = series_labels(&[], None, &attributes, &LabelOptions::default());
        // Keys sorted: "a-b" < "a.b" < "a_b".
        assert_eq!(labels, pairs(&[("a_b", "dash;dot;underscore")]));
    }

    #[test]
    fn resource_labels_win_and_empty_values_go() {
        let resource = [
            key_value("service.name", "api"),
            key_value("host.name", "h1"),
        ];
        let attributes = [
            key_value("job", "mine"),
            key_value("host.name", "point"),
            key_value("empty", ""),
        ];
        let plain = series_labels(&resource, None, &attributes, &LabelOptions::default());
        assert_eq!(plain, pairs(&[("host_name", "point"), ("job", "api")]));
        let converted = LabelOptions {
            resource_to_telemetry: true,
            ..LabelOptions::default()
        };
        let all = series_labels(&resource, None, &attributes, &converted);
        assert_eq!(
            all,
            pairs(&[("host_name", "h1"), ("job", "api"), ("service_name", "api")])
        );
    }

    #[test]
    fn scope_labels_include_attributes() {
        let attrs = [key_value("lib.kind", "http")];
        let scope = ScopeRef {
            name: "io.otel",
            version: "",
            schema_url: "https://opentelemetry.io/schemas/1.21.0",
            attributes: &attrs,
        };
        let labels = series_labels(&[], Some(&scope), &[], &LabelOptions::default());
        assert_eq!(
            labels,
            pairs(&[
                ("otel_scope_lib_kind", "http"),
                ("otel_scope_name", "io.otel"),
                (
                    "otel_scope_schema_url",
                    "https://opentelemetry.io/schemas/1.21.0"
                ),
            ])
        );
        let off = LabelOptions {
            scope_labels: false,
            ..LabelOptions::default()
        };
        assert!(series_labels(&[], Some(&scope), &[], &off).is_empty());
    }

    #[test]
    fn target_info_keeps_the_non_identifying_attributes() {
        let resource = [
            key_value("service.name", "api"),
            key_value("service.namespace", "shop"),
            key_value("service.instance.id", "i-1"),
            key_value("host.name", "h1"),
            key_value("os.type", "linux"),
        ];
        assert_eq!(
            target_info_labels(&resource, false).unwrap(),
            pairs(&[
                ("host_name", "h1"),
                ("instance", "i-1"),
                ("job", "shop/api"),
                ("os_type", "linux"),
            ])
        );
        assert_eq!(target_info_labels(&resource[..3], false), None);
    }

    #[test]
    fn utf8_keeps_names() {
        let options = LabelOptions {
            utf8_allowed: true,
            ..LabelOptions::default()
        };
        let labels = series_labels(&[], None, &[key_value("http.method", "GET")], &options);
        assert_eq!(labels, pairs(&[("http.method", "GET")]));
    }

    #[test]
    fn label_names_are_sanitised_as_go_does() {
        assert_eq!(normalize_label_name("k8s.pod.name"), "k8s_pod_name");
        assert_eq!(normalize_label_name("0"), "key_0");
        assert_eq!(normalize_label_name("ключ"), "____");
        assert_eq!(normalize_label_name(""), "");
        assert!(is_valid_label_name("a_1"));
        assert!(!is_valid_label_name("1a"));
        assert!(!is_valid_label_name("a.b"));
    }
}
