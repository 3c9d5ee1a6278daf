//! Key paths: `receivers::otlp::protocols`, the addresses of values in a configuration tree.

/// The separator between the keys of a path, as in the Go Collector (`a::b::c`).
pub const KEY_DELIMITER: &str = "::";

/// Splits a path into its keys. The empty path has no keys and addresses the root.
pub(crate) fn segments(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = (!path.is_empty()).then_some(path);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.split_once(KEY_DELIMITER) {
            Some((head, tail)) => {
                rest = Some(tail);
                Some(head)
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// Appends a key (or a list index) to a path.
pub(crate) fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_owned()
    } else {
        format!("{base}{KEY_DELIMITER}{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_split_on_the_delimiter() {
        assert_eq!(segments("a::b::c").collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(segments("a").collect::<Vec<_>>(), ["a"]);
        assert_eq!(segments("").count(), 0);
        assert_eq!(segments("a::").collect::<Vec<_>>(), ["a", ""]);
        assert_eq!(segments("a:b").collect::<Vec<_>>(), ["a:b"]);
    }

    #[test]
    fn join_skips_the_delimiter_at_the_root() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a::b");
        assert_eq!(join("a::b", "0"), "a::b::0");
    }
}
