//! A resource told apart by its attributes, for the exporters that route or partition by
//! resource (`loadbalancing`, `kafka`).

use tributary_pipeline_core::pdata::proto::resource::v1::Resource;
use tributary_pipeline_core::pdata::value_text::as_string;

/// The resource's attributes, sorted by name, as `name=value|…`: equal for resources with
/// the same attributes in any order.
pub(crate) fn resource_identity(resource: Option<&Resource>) -> String {
    let mut pairs: Vec<(&str, String)> = resource
        .map(|r| {
            r.attributes
                .iter()
                .map(|kv| (kv.key.as_str(), as_string(kv.value.as_ref())))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(k);
        out.push('=');
        out.push_str(&v);
        out.push('|');
    }
    out
}
