//! Falcon's tag strings and series keys: `"k1=v1,k2=v2"` parsed as the transfer parses it,
//! written back sorted, and the primary key that picks a series' graph and judge node.

use std::collections::BTreeMap;

/// Tags as Falcon parses them (`common/utils DictedTagstring`): spaces are removed, the
/// string is split on `,`, and each item at its first `=`; items without `=` are dropped,
/// and a key given twice keeps its last value.
///
/// ```
/// use tributary_translator_falcon::parse_tags;
///
/// let tags = parse_tags(" idc = lg ,project=a=b,bare,idc=hz");
/// assert_eq!(tags.len(), 2);
/// assert_eq!(tags["idc"], "hz");
/// assert_eq!(tags["project"], "a=b");
/// assert!(parse_tags("").is_empty());
/// ```
pub fn parse_tags(text: &str) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    if text.is_empty() {
        return tags;
    }
    let compact = text.replace(' ', "");
    for item in compact.split(',') {
        if let Some((key, value)) = item.split_once('=') {
            tags.insert(key.to_owned(), value.to_owned());
        }
    }
    tags
}

/// Tags as Falcon writes them (`SortedTags`): `k=v` pairs sorted by key, joined with `,`;
/// empty for no tags.
///
/// ```
/// use std::collections::BTreeMap;
/// use tributary_translator_falcon::sorted_tags;
///
/// let tags = BTreeMap::from([("b".to_owned(), "2".to_owned()), ("a".to_owned(), "1".to_owned())]);
/// assert_eq!(sorted_tags(&tags), "a=1,b=2");
/// ```
pub fn sorted_tags(tags: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (i, (key, value)) in tags.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// A series' primary key (`common/utils PK`): `endpoint/metric`, plus `/sortedTags` when
/// it has tags. The hash ring places series by it.
///
/// ```
/// use tributary_translator_falcon::{parse_tags, primary_key};
///
/// assert_eq!(primary_key("host-01", "qps", &parse_tags("")), "host-01/qps");
/// assert_eq!(primary_key("host-01", "qps", &parse_tags("project=xx,idc=lg")), "host-01/qps/idc=lg,project=xx");
/// ```
pub fn primary_key(endpoint: &str, metric: &str, tags: &BTreeMap<String, String>) -> String {
    let mut key = format!("{endpoint}/{metric}");
    if !tags.is_empty() {
        key.push('/');
        key.push_str(&sorted_tags(tags));
    }
    key
}

/// A tag key or value made safe to write into a tag string, so that parsing it back
/// ([`parse_tags`]) gives it unchanged: spaces are removed (Falcon removes them anyway),
/// and `,` (and `=` in a key) become `_`.
pub fn sanitize_tag(text: &str, is_key: bool) -> String {
    text.chars()
        .filter(|c| *c != ' ')
        .map(|c| match c {
            ',' => '_',
            '=' if is_key => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sanitized_tags_survive_a_round_trip(pairs in proptest::collection::btree_map("[ -~]{0,8}", "[ -~]{0,8}", 0..6)) {
            let tags: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (sanitize_tag(k, true), sanitize_tag(v, false)))
                .collect();
            let text = sorted_tags(&tags);
            let back = parse_tags(&text);
            prop_assert_eq!(back, tags);
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,64}") {
            let _ = parse_tags(&text);
        }
    }
}
