//! The `replace_*` editors' optional `function` and `replacementFormat` arguments, as
//! `pkg/ottl/ottlfuncs` defines them:
//!
//! - `function` names a converter that takes one string and returns a string (`SHA256`,
//!   written without a call); it is applied to the replacement, so a match can be replaced
//!   by its hash;
//! - `replacementFormat` is a format with exactly one `%s` (and no other `%`), wrapped
//!   around the function's result (`"k8s.%s"`).
//!
//! `replace_match` and `replace_all_matches` apply them to the replacement once.
//! `replace_pattern` and `replace_all_patterns` apply them to each match on its own, with
//! Go's algorithm: for each match of the regex in the original string, the replacement is
//! expanded with that match's groups (`$1`), passed through the function and the format,
//! and every occurrence of the matched text in the string so far is replaced by it.
//!
//! Where this differs from Go, on purpose (each is a config error here, where Go accepts
//! the statement and then does nothing or fails on every item):
//! - `function` may name only the converters in [`FUNCTIONS`]; `FNV` returns an int, which
//!   Go refuses on each item;
//! - a `replacementFormat` without `function` is refused (Go ignores it);
//! - a literal `replacementFormat` is checked when the statement is compiled, and `%s%s`
//!   is refused (Go's check lets it through and prints `%!s(MISSING)`).

use regex::Regex;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};

use crate::ast::{Call, Expr};
use crate::context::TransformContext;
use crate::eval::{CExpr, CompileError, Compiler, eval};
use crate::value::Value;

/// The converters `function` may name: those that take one string and return a string.
pub const FUNCTIONS: &[&str] = &[
    "SHA1",
    "SHA256",
    "SHA512",
    "MD5",
    "ToLowerCase",
    "ToUpperCase",
    "ToSnakeCase",
    "ToCamelCase",
];

/// A compiled `function` argument, with its `replacementFormat`.
#[derive(Clone, Debug)]
pub(crate) struct Rewrite {
    function: &'static str,
    format: Option<Format>,
}

#[derive(Clone, Debug)]
enum Format {
    /// A literal, checked at compile time.
    Literal(Affixes),
    /// An expression, checked on each item.
    Dynamic(CExpr),
}

/// A checked `replacementFormat`: the text before and after its one `%s`.
#[derive(Clone, Debug)]
struct Affixes {
    prefix: String,
    suffix: String,
}

impl Affixes {
    fn parse(format: &str) -> Result<Affixes, String> {
        let bad = || {
            format!(
                "replacementFormat {format:?} must contain exactly one %s and no other format specifier"
            )
        };
        let (prefix, suffix) = format.split_once("%s").ok_or_else(bad)?;
        if prefix.contains('%') || suffix.contains('%') {
            return Err(bad());
        }
        Ok(Affixes {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
        })
    }
}

/// Compiles the `function` and `replacementFormat` arguments of `call` (a `replace_*`
/// editor); `None` when `function` is not given.
pub(crate) fn compile(
    c: &Compiler<'_>,
    call: &Call,
    function: Option<&Expr>,
    format: Option<&Expr>,
) -> Result<Option<Rewrite>, CompileError> {
    let name = &call.name;
    let Some(function) = function else {
        if format.is_some() {
            return c.err(
                call.pos,
                format!(
                    "{name}: replacementFormat needs the function argument (the Go Collector ignores it without one)"
                ),
            );
        }
        return Ok(None);
    };
    let allowed = FUNCTIONS.join(", ");
    let function = match function {
        Expr::FunctionName(f, pos) => match FUNCTIONS.iter().find(|known| *known == f) {
            Some(known) => *known,
            None if f == "FNV" => {
                return c.err(
                    *pos,
                    format!(
                        "{name}: FNV returns an int, and the function must return a string (one of {allowed})"
                    ),
                );
            }
            None => {
                return c.err(
                    *pos,
                    format!(
                        "{name}: {f:?} is not a converter that takes a string and returns one (function takes {allowed})"
                    ),
                );
            }
        },
        _ => {
            return c.err(
                call.pos,
                format!(
                    "{name}: function must be a converter's name without parentheses, one of {allowed}"
                ),
            );
        }
    };
    let format = match format {
        None => None,
        Some(Expr::Literal(Value::Str(text))) => match Affixes::parse(text) {
            Ok(affixes) => Some(Format::Literal(affixes)),
            Err(e) => return c.err(call.pos, format!("{name}: {e}")),
        },
        Some(expr) => Some(Format::Dynamic(c.expr(expr)?)),
    };
    Ok(Some(Rewrite { function, format }))
}

/// A [`Rewrite`] with its format evaluated for one item.
pub(crate) struct Prepared<'r> {
    function: &'static str,
    affixes: Option<std::borrow::Cow<'r, Affixes>>,
}

impl Rewrite {
    /// Evaluates the format for this item (an expression is checked here).
    pub(crate) fn prepare(&self, ctx: &TransformContext<'_>) -> Result<Prepared<'_>, String> {
        let affixes = match &self.format {
            None => None,
            Some(Format::Literal(affixes)) => Some(std::borrow::Cow::Borrowed(affixes)),
            Some(Format::Dynamic(expr)) => match eval(expr, ctx)? {
                Value::Str(text) => Some(std::borrow::Cow::Owned(Affixes::parse(&text)?)),
                other => {
                    return Err(format!(
                        "replacementFormat must be a string, got a {}",
                        other.type_name()
                    ));
                }
            },
        };
        Ok(Prepared {
            function: self.function,
            affixes,
        })
    }
}

impl Prepared<'_> {
    /// The function's result on `replacement`, inside the format.
    pub(crate) fn apply(&self, replacement: &str) -> Result<String, String> {
        let mut out = match self.function {
            "SHA1" | "SHA256" | "MD5" => {
                crate::funcs::digest_hex(self.function, replacement.as_bytes())
            }
            "ToLowerCase" => replacement.to_lowercase(),
            "ToUpperCase" => replacement.to_uppercase(),
            name => match crate::value_converters::run(name, vec![Value::Str(replacement.into())])?
            {
                Value::Str(s) => s,
                other => {
                    return Err(format!(
                        "the replacement value must be a string, {name} returned a {}",
                        other.type_name()
                    ));
                }
            },
        };
        if let Some(affixes) = &self.affixes {
            out = format!("{}{out}{}", affixes.prefix, affixes.suffix);
        }
        Ok(out)
    }

    /// Go's `applyOptReplaceFunction`: each match of `re` in `original`, in order, gives a
    /// replacement (`template` expanded with the match's groups, then [`Self::apply`]) that
    /// replaces every occurrence of the matched text in the string so far.
    pub(crate) fn replace_matches(
        &self,
        re: &Regex,
        original: &str,
        template: &str,
    ) -> Result<String, String> {
        let mut updated = original.to_string();
        for caps in re.captures_iter(original) {
            let whole = caps.get(0).map_or("", |m| m.as_str());
            let mut expanded = String::new();
            caps.expand(template, &mut expanded);
            let replacement = self.apply(&expanded)?;
            updated = updated.replace(whole, &replacement);
        }
        Ok(updated)
    }
}

/// `replace_all_patterns` on a map: by `key`, the matching keys are rewritten (a rewritten
/// key equal to one already written replaces that entry's value, as Go's `PutEmpty`); by
/// `value`, the matching string values.
pub(crate) fn replace_all_patterns(
    map: &mut Vec<KeyValue>,
    re: &Regex,
    by_key: bool,
    template: &str,
    rewrite: Option<&Prepared<'_>>,
) -> Result<(), String> {
    let replace = |s: &str| match rewrite {
        Some(r) => r.replace_matches(re, s, template),
        None => Ok(re.replace_all(s, template).into_owned()),
    };
    if !by_key {
        for kv in map.iter_mut() {
            if let Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) = &mut kv.value
                && re.is_match(s)
            {
                *s = replace(s)?;
            }
        }
        return Ok(());
    }
    // The new keys first, so that an error leaves the map as it was.
    let keys = map
        .iter()
        .map(|kv| {
            if re.is_match(&kv.key) {
                replace(&kv.key).map(Some)
            } else {
                Ok(None)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut updated: Vec<KeyValue> = Vec::with_capacity(map.len());
    for (mut kv, key) in std::mem::take(map).into_iter().zip(keys) {
        if let Some(key) = key {
            kv.key = key;
        }
        match updated.iter_mut().find(|u| u.key == kv.key) {
            Some(existing) => existing.value = kv.value,
            None => updated.push(kv),
        }
    }
    *map = updated;
    Ok(())
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};
    use tributary_pipeline_core::pdata::proto::logs::v1::LogRecord;

    use crate::{ContextKind, Item, TransformContext, compile_statement};

    const INPUT: &str = "application passwd=sensitivedtata otherarg=notsensitive key1 key2";

    fn string(v: &str) -> Option<AnyValue> {
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        })
    }

    fn log_with(attributes: &[(&str, &str)]) -> LogRecord {
        LogRecord {
            attributes: attributes
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.to_string(),
                    value: string(v),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Runs one statement (log context) on a log; the attributes after it, as text.
    fn run(statement: &str, log: &mut LogRecord) -> Result<Vec<(String, String)>, String> {
        let compiled = compile_statement(statement, ContextKind::Log).map_err(|e| e.to_string())?;
        let (mut resource, mut scope, mut cache) = (None, None, Vec::new());
        let mut ctx = TransformContext {
            resource: &mut resource,
            scope: Some(&mut scope),
            item: Item::Log(log),
            cache: &mut cache,
        };
        compiled.execute(&mut ctx).map_err(|e| e.to_string())?;
        Ok(log
            .attributes
            .iter()
            .map(|kv| {
                let v = kv.value.as_ref().map(crate::Value::from_any);
                (
                    kv.key.clone(),
                    v.map(|v| v.to_display()).unwrap_or_default(),
                )
            })
            .collect())
    }

    fn replaced(statement: &str) -> String {
        let mut log = log_with(&[("x", INPUT)]);
        run(statement, &mut log).unwrap_or_else(|e| panic!("{statement}: {e}"))[0]
            .1
            .clone()
    }

    /// The cases of Go's `Test_replacePattern` that take a function, with `ToUpperCase`
    /// where Go's test uses a fake `hash(...)` converter.
    #[test]
    fn replace_pattern_applies_the_function_to_each_expanded_match() {
        assert_eq!(
            replaced(
                r#"replace_pattern(attributes["x"], "passwd\\=([^\\s]*)\\s?", "$1", ToUpperCase, "passwd=%s")"#
            ),
            "application passwd=SENSITIVEDTATAotherarg=notsensitive key1 key2"
        );
        assert_eq!(
            replaced(
                r#"replace_pattern(attributes["x"], "passwd\\=([^\\s]*)", "passwd", ToUpperCase)"#
            ),
            "application PASSWD otherarg=notsensitive key1 key2"
        );
        // `$1` without a group expands to nothing; the function still runs.
        assert_eq!(
            replaced(r#"replace_pattern(attributes["x"], "passwd\\=[^\\s]*\\s?", "$1", SHA256)"#),
            "application e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855otherarg=notsensitive key1 key2"
        );
        assert_eq!(
            replaced(
                r#"replace_pattern(attributes["x"], "passwd\\=[^\\s]*", "passwd=***", ToUpperCase, "%s (passwd)")"#
            ),
            "application PASSWD=*** (passwd) otherarg=notsensitive key1 key2"
        );
        // Each match is hashed on its own.
        assert_eq!(
            replaced(r#"replace_pattern(attributes["x"], "key\\d", "$0", MD5)"#),
            format!(
                "application passwd=sensitivedtata otherarg=notsensitive {} {}",
                crate::funcs::digest_hex("MD5", b"key1"),
                crate::funcs::digest_hex("MD5", b"key2")
            )
        );
    }

    /// Go replaces every occurrence of a match's text in the string so far, so a text
    /// that appears twice is replaced by the first match's replacement.
    #[test]
    fn a_repeated_match_is_replaced_as_go_replaces_it() {
        let mut log = log_with(&[("x", "a=1 a=1 a=2")]);
        let out = run(
            r#"replace_pattern(attributes["x"], "a=(\\d)", "$1", ToUpperCase, "<%s>")"#,
            &mut log,
        )
        .unwrap();
        assert_eq!(out[0].1, "<1> <1> <2>");
    }

    #[test]
    fn replace_match_and_replace_all_matches_rewrite_the_replacement_once() {
        let mut log = log_with(&[("path", "/user/7/list/1"), ("other", "/x")]);
        let out = run(
            r#"replace_all_matches(attributes, "/user/*", "user", ToUpperCase, "id:%s")"#,
            &mut log,
        )
        .unwrap();
        assert_eq!(out[0].1, "id:USER");
        assert_eq!(out[1].1, "/x");
        let out = run(
            r#"replace_match(attributes["other"], "/*", "secret", SHA1)"#,
            &mut log,
        )
        .unwrap();
        assert_eq!(out[1].1, crate::funcs::digest_hex("SHA1", b"secret"));
    }

    #[test]
    fn replace_all_patterns_by_key_merges_keys_that_become_equal() {
        let mut log = log_with(&[("kube_a", "1"), ("k8s.A", "2"), ("kube_b", "3")]);
        let out = run(
            r#"replace_all_patterns(attributes, "key", "^kube_(\\w)", "$1", ToUpperCase, "k8s.%s")"#,
            &mut log,
        )
        .unwrap();
        // `kube_a` became `k8s.A`, which `k8s.A` then overwrote in place (Go's PutEmpty).
        assert_eq!(
            out,
            [("k8s.A".into(), "2".into()), ("k8s.B".into(), "3".into())]
        );
        let mut log = log_with(&[("a", "x-1"), ("b", "y")]);
        let out = run(
            r#"replace_all_patterns(attributes, "value", "\\d", "$0", SHA512)"#,
            &mut log,
        )
        .unwrap();
        assert_eq!(
            out[0].1,
            format!(
                "x-{}",
                crate::value::hex(&<sha2::Sha512 as sha2::Digest>::digest(b"1"))
            )
        );
        assert_eq!(out[1].1, "y");
    }

    #[test]
    fn a_format_from_a_path_is_checked_on_each_item() {
        let mut log = log_with(&[("x", "abc"), ("fmt", "[%s]")]);
        let statement =
            r#"replace_pattern(attributes["x"], "b", "b", ToUpperCase, attributes["fmt"])"#;
        assert_eq!(run(statement, &mut log).unwrap()[0].1, "a[B]c");
        let mut log = log_with(&[("x", "abc"), ("fmt", "no verb")]);
        let e = run(statement, &mut log).unwrap_err();
        assert!(e.contains("exactly one %s"), "{e}");
    }

    #[test]
    fn bad_functions_and_formats_are_config_errors() {
        let refused = |statement: &str, expected: &str| {
            let e = compile_statement(statement, ContextKind::Log)
                .map(|_| ())
                .unwrap_err()
                .to_string();
            assert!(e.contains(expected), "{statement}: {e}");
        };
        refused(
            r#"replace_pattern(body, "a", "b", FNV)"#,
            "FNV returns an int",
        );
        refused(
            r#"replace_pattern(body, "a", "b", XXH3)"#,
            "\"XXH3\" is not a converter that takes a string",
        );
        refused(
            r#"replace_match(body, "a", "b", "SHA256")"#,
            "function must be a converter's name",
        );
        refused(
            r#"replace_match(body, "a", "b", SHA256("x"))"#,
            "function must be a converter's name",
        );
        refused(
            r#"replace_match(body, "a", "b", replacementFormat = "x%s")"#,
            "replacementFormat needs the function argument",
        );
        for format in ["passwd=", "%d=%s", "%s%s", "100%% %s", "%s%"] {
            refused(
                &format!(r#"replace_all_matches(attributes, "a", "b", SHA256, "{format}")"#),
                "exactly one %s",
            );
        }
        refused(r#"set(body, SHA256)"#, "unknown enum symbol \"SHA256\"");
        refused(
            r#"set(body, ToLowerCase)"#,
            "neither a path nor a converter call",
        );
    }
}
