//! OTTL functions: editors (lower-case, change the item) and converters (capitalised,
//! return a value). Names, parameters and behaviour follow `pkg/ottl/ottlfuncs`.

use regex::Regex;
use sha1::Digest;
use tributary_pipeline_core::pdata::proto::common::v1::{AnyValue, KeyValue, any_value};

use crate::ast::Call;
use crate::context::{ContextKind, TransformContext};
use crate::eval::{
    CExpr, CPath, CompileError, Compiler, bind, eval, literal_regex, literal_string,
};
use crate::value::{Value, hex, kvs_from_map, map_from_kvs};

/// The converters this crate implements.
pub const CONVERTERS: &[&str] = &[
    "Concat",
    "ConvertCase",
    "Int",
    "Double",
    "String",
    "Bool",
    "IsMatch",
    "IsString",
    "IsInt",
    "IsDouble",
    "IsBool",
    "IsMap",
    "IsList",
    "Len",
    "ParseJSON",
    "ParseKeyValue",
    "ExtractPatterns",
    "Split",
    "Substring",
    "SHA1",
    "SHA256",
    "MD5",
    "FNV",
    "Hex",
    "TraceID",
    "SpanID",
    "Trim",
    "ToLowerCase",
    "ToUpperCase",
    "Keys",
    "Values",
    "Index",
    "IsRootSpan",
    "HasAttrKeyOnDatapoint",
    "HasAttrOnDatapoint",
    "Now",
    "Time",
    "FormatTime",
    "Format",
    "Duration",
    "UnixNano",
    "UnixMicro",
    "UnixMilli",
    "UnixSeconds",
    "Nanoseconds",
    "Microseconds",
    "Milliseconds",
    "Seconds",
    "Minutes",
    "Hours",
    "ParseCEF",
    "ParseCLF",
    "ParseELF",
    "ParseLEEF",
];

/// The editors this crate implements.
pub const EDITORS: &[&str] = &[
    "set",
    "delete_key",
    "delete_matching_keys",
    "keep_keys",
    "keep_matching_keys",
    "limit",
    "merge_maps",
    "replace_pattern",
    "replace_all_patterns",
    "replace_match",
    "replace_all_matches",
    "truncate_all",
    "flatten",
    "append",
    "convert_sum_to_gauge",
    "convert_gauge_to_sum",
    "scale_metric",
    "extract_sum_metric",
    "extract_count_metric",
    "extract_avg_metric",
    "extract_percentile_metric",
    "copy_metric",
    "aggregate_on_attributes",
    "aggregate_on_attribute_value",
    "convert_summary_count_val_to_sum",
    "convert_summary_sum_val_to_sum",
    "convert_summary_quantile_val_to_gauge",
    "convert_exponential_histogram_to_histogram",
    "merge_histogram_buckets",
    "set_semconv_span_name",
];

/// The editors that work on a whole metric (the `metric` context only).
pub const METRIC_EDITORS: &[&str] = &[
    "convert_sum_to_gauge",
    "convert_gauge_to_sum",
    "scale_metric",
    "extract_sum_metric",
    "extract_count_metric",
    "extract_avg_metric",
    "extract_percentile_metric",
    "copy_metric",
    "aggregate_on_attributes",
    "aggregate_on_attribute_value",
    "convert_summary_count_val_to_sum",
    "convert_summary_sum_val_to_sum",
    "convert_summary_quantile_val_to_gauge",
    "convert_exponential_histogram_to_histogram",
];

/// The editors that work on one data point of a metric (the `datapoint` context only).
pub const DATAPOINT_EDITORS: &[&str] = &["merge_histogram_buckets"];

/// The editors that work on a whole span (the `span` context only).
pub const SPAN_EDITORS: &[&str] = &["set_semconv_span_name"];

/// A compiled converter call.
#[derive(Clone, Debug)]
pub struct Converter {
    name: &'static str,
    args: Vec<Option<CExpr>>,
    regex: Option<Regex>,
    strings: Vec<Option<String>>,
    /// `Time`'s `location`, loaded once.
    location: Option<jiff::tz::TimeZone>,
}

impl Converter {
    /// The arguments, in parameter order (`None`: left out).
    pub(crate) fn args(&self) -> &[Option<CExpr>] {
        &self.args
    }

    /// Whether the function reads its item beyond its arguments.
    pub(crate) fn reads_item(&self) -> bool {
        matches!(
            self.name,
            "IsRootSpan" | "HasAttrKeyOnDatapoint" | "HasAttrOnDatapoint"
        )
    }
}

/// A compiled editor call.
#[derive(Clone, Debug)]
pub struct Editor {
    name: &'static str,
    /// The edited path; `None` for the metric editors, which edit the metric itself.
    target: Option<CPath>,
    args: Vec<Option<CExpr>>,
    regex: Option<Regex>,
    strings: Vec<Option<String>>,
    /// The `replace_*` editors' `function` and `replacementFormat`.
    rewrite: Option<crate::replace::Rewrite>,
}

fn params(name: &str) -> Option<(&'static str, &'static [(&'static str, bool)])> {
    let p: (&'static str, &'static [(&'static str, bool)]) = match name {
        "Concat" => ("Concat", &[("vals", false), ("delimiter", false)]),
        "ConvertCase" => ("ConvertCase", &[("target", false), ("toCase", false)]),
        "Int" => ("Int", &[("value", false)]),
        "Double" => ("Double", &[("value", false)]),
        "String" => ("String", &[("value", false)]),
        "Bool" => ("Bool", &[("value", false)]),
        "IsMatch" => ("IsMatch", &[("target", false), ("pattern", false)]),
        "IsString" => ("IsString", &[("value", false)]),
        "IsInt" => ("IsInt", &[("value", false)]),
        "IsDouble" => ("IsDouble", &[("value", false)]),
        "IsBool" => ("IsBool", &[("value", false)]),
        "IsMap" => ("IsMap", &[("value", false)]),
        "IsList" => ("IsList", &[("value", false)]),
        "Len" => ("Len", &[("target", false)]),
        "ParseJSON" => ("ParseJSON", &[("target", false)]),
        "ParseKeyValue" => (
            "ParseKeyValue",
            &[
                ("target", false),
                ("delimiter", true),
                ("pair_delimiter", true),
            ],
        ),
        "ExtractPatterns" => ("ExtractPatterns", &[("target", false), ("pattern", false)]),
        "Split" => ("Split", &[("target", false), ("delimiter", false)]),
        "Substring" => (
            "Substring",
            &[
                ("target", false),
                ("start", false),
                ("length", false),
                ("utf8_safe", true),
            ],
        ),
        "SHA1" => ("SHA1", &[("value", false)]),
        "SHA256" => ("SHA256", &[("value", false)]),
        "MD5" => ("MD5", &[("value", false)]),
        "FNV" => ("FNV", &[("value", false)]),
        "Hex" => ("Hex", &[("value", false)]),
        "TraceID" => ("TraceID", &[("bytes", false)]),
        "SpanID" => ("SpanID", &[("bytes", false)]),
        "Trim" => ("Trim", &[("target", false), ("replacement", true)]),
        "ToLowerCase" => ("ToLowerCase", &[("target", false)]),
        "ToUpperCase" => ("ToUpperCase", &[("target", false)]),
        "Keys" => ("Keys", &[("target", false)]),
        "Values" => ("Values", &[("target", false)]),
        "Index" => ("Index", &[("target", false), ("value", false)]),
        "IsRootSpan" => ("IsRootSpan", &[]),
        "HasAttrKeyOnDatapoint" => ("HasAttrKeyOnDatapoint", &[("key", false)]),
        "HasAttrOnDatapoint" => (
            "HasAttrOnDatapoint",
            &[("key", false), ("expectedVal", false)],
        ),
        "Now" => ("Now", &[]),
        "Time" => (
            "Time",
            &[
                ("time", false),
                ("format", false),
                ("location", true),
                ("locale", true),
            ],
        ),
        "FormatTime" => ("FormatTime", &[("time", false), ("format", false)]),
        "Format" => ("Format", &[("format", false), ("vals", false)]),
        "Duration" => ("Duration", &[("duration", false)]),
        "UnixNano" => ("UnixNano", &[("time", false)]),
        "UnixMicro" => ("UnixMicro", &[("time", false)]),
        "UnixMilli" => ("UnixMilli", &[("time", false)]),
        "UnixSeconds" => ("UnixSeconds", &[("time", false)]),
        "Nanoseconds" => ("Nanoseconds", &[("duration", false)]),
        "Microseconds" => ("Microseconds", &[("duration", false)]),
        "Milliseconds" => ("Milliseconds", &[("duration", false)]),
        "Seconds" => ("Seconds", &[("duration", false)]),
        "Minutes" => ("Minutes", &[("duration", false)]),
        "Hours" => ("Hours", &[("duration", false)]),
        "ParseCEF" => ("ParseCEF", &[("target", false)]),
        "ParseCLF" => ("ParseCLF", &[("target", false), ("format", true)]),
        "ParseELF" => ("ParseELF", &[("target", false)]),
        "ParseLEEF" => ("ParseLEEF", &[("target", false)]),
        "set" => ("set", &[("target", false), ("value", false)]),
        "convert_sum_to_gauge" => ("convert_sum_to_gauge", &[]),
        "convert_gauge_to_sum" => (
            "convert_gauge_to_sum",
            &[("stringAggTemp", false), ("monotonic", false)],
        ),
        "scale_metric" => ("scale_metric", &[("factor", false), ("unit", true)]),
        "extract_sum_metric" => (
            "extract_sum_metric",
            &[("monotonic", false), ("suffix", true)],
        ),
        "extract_count_metric" => (
            "extract_count_metric",
            &[("monotonic", false), ("suffix", true)],
        ),
        "extract_avg_metric" => ("extract_avg_metric", &[("suffix", true)]),
        "extract_percentile_metric" => (
            "extract_percentile_metric",
            &[("percentile", false), ("suffix", true)],
        ),
        "convert_exponential_histogram_to_histogram" => (
            "convert_exponential_histogram_to_histogram",
            &[("distributionFn", false), ("explicitBounds", false)],
        ),
        "merge_histogram_buckets" => (
            "merge_histogram_buckets",
            &[("targetValue", false), ("method", true)],
        ),
        "set_semconv_span_name" => (
            "set_semconv_span_name",
            &[
                ("semconvVersion", false),
                ("originalSpanNameAttribute", true),
            ],
        ),
        "copy_metric" => (
            "copy_metric",
            &[("name", true), ("description", true), ("unit", true)],
        ),
        "convert_summary_count_val_to_sum" => (
            "convert_summary_count_val_to_sum",
            &[
                ("stringAggTemp", false),
                ("monotonic", false),
                ("suffix", true),
            ],
        ),
        "convert_summary_sum_val_to_sum" => (
            "convert_summary_sum_val_to_sum",
            &[
                ("stringAggTemp", false),
                ("monotonic", false),
                ("suffix", true),
            ],
        ),
        "convert_summary_quantile_val_to_gauge" => (
            "convert_summary_quantile_val_to_gauge",
            &[("attributeKey", true), ("suffix", true)],
        ),
        "aggregate_on_attributes" => (
            "aggregate_on_attributes",
            &[("aggregation_function", false), ("attributes", true)],
        ),
        "aggregate_on_attribute_value" => (
            "aggregate_on_attribute_value",
            &[
                ("aggregation_function", false),
                ("attribute", false),
                ("values", false),
                ("new_value", false),
            ],
        ),
        "delete_key" => ("delete_key", &[("target", false), ("key", false)]),
        "delete_matching_keys" => (
            "delete_matching_keys",
            &[("target", false), ("pattern", false)],
        ),
        "keep_keys" => ("keep_keys", &[("target", false), ("keys", false)]),
        "keep_matching_keys" => (
            "keep_matching_keys",
            &[("target", false), ("pattern", false)],
        ),
        "limit" => (
            "limit",
            &[("target", false), ("limit", false), ("priority_keys", true)],
        ),
        "merge_maps" => (
            "merge_maps",
            &[("target", false), ("source", false), ("strategy", false)],
        ),
        "replace_pattern" => (
            "replace_pattern",
            &[
                ("target", false),
                ("regex", false),
                ("replacement", false),
                ("function", true),
                ("replacementFormat", true),
            ],
        ),
        "replace_all_patterns" => (
            "replace_all_patterns",
            &[
                ("target", false),
                ("mode", false),
                ("regex", false),
                ("replacement", false),
                ("function", true),
                ("replacementFormat", true),
            ],
        ),
        "replace_match" => (
            "replace_match",
            &[
                ("target", false),
                ("pattern", false),
                ("replacement", false),
                ("function", true),
                ("replacementFormat", true),
            ],
        ),
        "replace_all_matches" => (
            "replace_all_matches",
            &[
                ("target", false),
                ("pattern", false),
                ("replacement", false),
                ("function", true),
                ("replacementFormat", true),
            ],
        ),
        "truncate_all" => (
            "truncate_all",
            &[
                ("target", false),
                ("limit", false),
                ("utf8_safe", true),
                ("truncation_marker", true),
            ],
        ),
        "flatten" => (
            "flatten",
            &[
                ("target", false),
                ("prefix", true),
                ("depth", true),
                ("resolveConflicts", true),
            ],
        ),
        "append" => (
            "append",
            &[("target", false), ("value", true), ("values", true)],
        ),
        _ => return crate::value_converters::params(name),
    };
    Some(p)
}

/// A glob (`*`, `?`) as an anchored regex, as Go's replace_match patterns.
fn glob(pattern: &str) -> Regex {
    let mut re = String::from("^");
    for ch in pattern.chars() {
        match ch {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).expect("escaped glob is a valid regex")
}

pub(crate) fn compile_converter(c: &Compiler<'_>, call: &Call) -> Result<Converter, CompileError> {
    let Some((name, ps)) =
        params(&call.name).filter(|(n, _)| n.starts_with(|ch: char| ch.is_ascii_uppercase()))
    else {
        return c.err(
            call.pos,
            format!(
                "undefined function {:?} (converters supported: {})",
                call.name,
                CONVERTERS
                    .iter()
                    .chain(crate::value_converters::NAMES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    };
    if name == "IsRootSpan" && !matches!(c.context, ContextKind::Span | ContextKind::SpanEvent) {
        return c.err(
            call.pos,
            "IsRootSpan is only available in the span and spanevent contexts",
        );
    }
    if crate::log_parsers::NAMES.contains(&name) && c.context != ContextKind::Log {
        return c.err(
            call.pos,
            format!("{name} is only available in the log context"),
        );
    }
    if name.starts_with("HasAttr") && c.context != ContextKind::Metric {
        return c.err(
            call.pos,
            format!("{name} is only available in the metric context"),
        );
    }
    let bound = bind(c, call, ps)?;
    let mut regex = None;
    let mut strings = vec![None; ps.len()];
    match name {
        "IsMatch" | "ExtractPatterns" => regex = Some(literal_regex(c, call, bound[1], "pattern")?),
        "HasAttrKeyOnDatapoint" | "HasAttrOnDatapoint" => {
            strings[0] = literal_string(c, call, bound[0], "key")?;
            if name == "HasAttrOnDatapoint" {
                strings[1] = literal_string(c, call, bound[1], "expectedVal")?;
            }
        }
        "ParseCLF" => {
            let format = literal_string(c, call, bound[1], "format")?;
            if let Some(f) = &format
                && !crate::log_parsers::CLF_FORMATS.contains(&f.as_str())
            {
                return c.err(
                    call.pos,
                    format!("ParseCLF: invalid format {f:?}: must be \"clf\" or \"combined\""),
                );
            }
            strings[1] = format;
        }
        "ConvertCase" => {
            let case = literal_string(c, call, bound[1], "toCase")?.unwrap_or_default();
            if !matches!(case.as_str(), "lower" | "upper" | "snake" | "camel") {
                return c.err(call.pos, format!("ConvertCase: invalid toCase {case:?}, expected lower, upper, snake or camel"));
            }
            strings[1] = Some(case);
        }
        _ => {}
    }
    let mut location = None;
    if name == "Time" {
        // Go takes both as literal strings, checked when the statement is built.
        if let Some(zone) = literal_string(c, call, bound[2], "location")? {
            strings[2] = Some(zone.clone());
            location = match crate::time::load_location(&zone) {
                Ok(zone) => Some(zone),
                Err(e) => return c.err(call.pos, format!("Time: location: {e}")),
            };
        }
        if let Some(locale) = literal_string(c, call, bound[3], "locale")? {
            if !is_english(&locale) {
                return c.err(
                    call.pos,
                    format!(
                        "Time: locale {locale:?} is not supported: only English (\"en\", \"en-US\"...), the default, is; reading month and day names of other languages needs CLDR data this implementation does not carry"
                    ),
                );
            }
            strings[3] = Some(locale);
        }
    }
    if name == "ExtractPatterns"
        && regex
            .as_ref()
            .is_some_and(|r| r.capture_names().flatten().next().is_none())
    {
        return c.err(
            call.pos,
            "ExtractPatterns: the pattern has no named capture group",
        );
    }
    let args = bound
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if strings[i].is_some() {
                Ok(None)
            } else {
                e.map(|e| c.expr(e)).transpose()
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Converter {
        name,
        args,
        regex,
        strings,
        location,
    })
}

/// Whether a BCP 47 language tag names English (`en`, `en-US`, `en_GB`).
fn is_english(locale: &str) -> bool {
    let language = locale.split(['-', '_']).next().unwrap_or_default();
    language.eq_ignore_ascii_case("en")
}

pub(crate) fn compile_editor(c: &Compiler<'_>, call: &Call) -> Result<Editor, CompileError> {
    let Some((name, ps)) =
        params(&call.name).filter(|(n, _)| n.starts_with(|ch: char| ch.is_ascii_lowercase()))
    else {
        return c.err(
            call.pos,
            format!(
                "undefined function {:?} (editors supported: {})",
                call.name,
                EDITORS.join(", ")
            ),
        );
    };
    let bound = bind(c, call, ps)?;
    if METRIC_EDITORS.contains(&name)
        || DATAPOINT_EDITORS.contains(&name)
        || SPAN_EDITORS.contains(&name)
    {
        return compile_item_editor(c, call, name, &bound);
    }
    let target = c.path(bound[0].expect("target is required"), "the target")?;
    let map_editor = !matches!(name, "set" | "replace_pattern" | "replace_match" | "append");
    if map_editor && !target.field.keyed() {
        return c.err(call.pos, format!("{name}: the target must be a map"));
    }
    let mut regex = None;
    let mut strings = vec![None; ps.len()];
    match name {
        "delete_matching_keys" | "keep_matching_keys" | "replace_pattern" => {
            regex = Some(literal_regex(c, call, bound[1], "pattern")?)
        }
        "replace_all_patterns" => {
            let mode = literal_string(c, call, bound[1], "mode")?.unwrap_or_default();
            if mode != "key" && mode != "value" {
                return c.err(
                    call.pos,
                    format!(
                        "replace_all_patterns: invalid mode {mode:?}, must be \"key\" or \"value\""
                    ),
                );
            }
            strings[1] = Some(mode);
            regex = Some(literal_regex(c, call, bound[2], "regex")?);
        }
        "replace_match" | "replace_all_matches" => {
            let pattern = literal_string(c, call, bound[1], "pattern")?.unwrap_or_default();
            regex = Some(glob(&pattern));
        }
        "merge_maps" => {
            let strategy = literal_string(c, call, bound[2], "strategy")?.unwrap_or_default();
            if !matches!(strategy.as_str(), "insert" | "update" | "upsert") {
                return c.err(call.pos, format!("merge_maps: invalid strategy {strategy:?}, must be insert, update or upsert"));
            }
            strings[2] = Some(strategy);
        }
        "append" if bound[1].is_none() && bound[2].is_none() => {
            return c.err(
                call.pos,
                "append: at least one of value and values is required",
            );
        }
        _ => {}
    }
    let rewrite = match rewrite_slot(name) {
        Some(at) => crate::replace::compile(c, call, bound[at], bound[at + 1])?,
        None => None,
    };
    let args = bound
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let rewrite_arg = rewrite_slot(name).is_some_and(|at| i == at || i == at + 1);
            if i == 0
                || strings[i].is_some()
                || (regex.is_some() && is_pattern_slot(name, i))
                || rewrite_arg
            {
                Ok(None)
            } else {
                e.map(|e| c.expr(e)).transpose()
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Editor {
        name,
        target: Some(target),
        args,
        regex,
        strings,
        rewrite,
    })
}

fn is_pattern_slot(name: &str, i: usize) -> bool {
    match name {
        "replace_all_patterns" => i == 2,
        _ => i == 1,
    }
}

/// The slot of a `replace_*` editor's `function` argument (`replacementFormat` follows).
fn rewrite_slot(name: &str) -> Option<usize> {
    match name {
        "replace_all_patterns" => Some(4),
        "replace_pattern" | "replace_match" | "replace_all_matches" => Some(3),
        _ => None,
    }
}

/// The hex digest of `SHA1`, `SHA256` or `MD5` (by converter name).
pub(crate) fn digest_hex(name: &str, input: &[u8]) -> String {
    match name {
        "SHA1" => hex(&sha1::Sha1::digest(input)),
        "SHA256" => hex(&sha2::Sha256::digest(input)),
        _ => hex(&md5::Md5::digest(input)),
    }
}

fn arg(args: &[Option<CExpr>], i: usize, ctx: &TransformContext<'_>) -> Result<Value, String> {
    match args.get(i).and_then(Option::as_ref) {
        Some(e) => eval(e, ctx),
        None => Ok(Value::Nil),
    }
}

fn string_arg(
    args: &[Option<CExpr>],
    i: usize,
    ctx: &TransformContext<'_>,
    what: &str,
) -> Result<String, String> {
    match arg(args, i, ctx)? {
        Value::Str(s) => Ok(s),
        other => Err(format!(
            "{what} must be a string, got a {}",
            other.type_name()
        )),
    }
}

fn int_arg(
    args: &[Option<CExpr>],
    i: usize,
    ctx: &TransformContext<'_>,
    what: &str,
) -> Result<i64, String> {
    match arg(args, i, ctx)? {
        Value::Int(v) => Ok(v),
        other => Err(format!(
            "{what} must be an int64, got a {}",
            other.type_name()
        )),
    }
}

fn bytes_like(v: &Value) -> Option<Vec<u8>> {
    Some(match v {
        Value::Str(s) => s.as_bytes().to_vec(),
        Value::Bytes(b) => b.clone(),
        Value::Int(i) => i.to_be_bytes().to_vec(),
        Value::Float(f) => f.to_bits().to_be_bytes().to_vec(),
        Value::Bool(b) => vec![*b as u8],
        _ => return None,
    })
}

pub(crate) fn snake(s: &str) -> String {
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else if ch == ' ' || ch == '-' {
            out.push('_');
        } else {
            out.push(ch);
        }
    }
    out
}

pub(crate) fn camel(s: &str) -> String {
    s.split(['_', ' ', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map_or(String::new(), |f| {
                f.to_uppercase()
                    .chain(c.flat_map(|x| x.to_lowercase()))
                    .collect()
            })
        })
        .collect()
}

pub(crate) fn run_converter(conv: &Converter, ctx: &TransformContext<'_>) -> Result<Value, String> {
    let a = &conv.args;
    let v0 = || arg(a, 0, ctx);
    Ok(match conv.name {
        "Concat" => {
            let Value::List(vals) = v0()? else {
                return Err("Concat: vals must be a list".into());
            };
            let delim = string_arg(a, 1, ctx, "delimiter")?;
            // As Go's Concat: a nil value is written "<nil>".
            vals.iter()
                .map(|v| match v {
                    Value::Nil => "<nil>".to_string(),
                    v => v.to_display(),
                })
                .collect::<Vec<_>>()
                .join(&delim)
                .into()
        }
        "ConvertCase" => match v0()? {
            Value::Str(s) => Value::Str(match conv.strings[1].as_deref() {
                Some("lower") => s.to_lowercase(),
                Some("upper") => s.to_uppercase(),
                Some("snake") => snake(&s),
                _ => camel(&s),
            }),
            Value::Nil => Value::Nil,
            other => {
                return Err(format!(
                    "ConvertCase: expected a string, got a {}",
                    other.type_name()
                ));
            }
        },
        "Int" => match v0()? {
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Int(f as i64),
            Value::Bool(b) => Value::Int(b as i64),
            Value::Str(s) => s.trim().parse::<i64>().map_or(Value::Nil, Value::Int),
            _ => Value::Nil,
        },
        "Double" => match v0()? {
            Value::Int(i) => Value::Float(i as f64),
            Value::Float(f) => Value::Float(f),
            Value::Bool(b) => Value::Float(if b { 1.0 } else { 0.0 }),
            Value::Str(s) => s.trim().parse::<f64>().map_or(Value::Nil, Value::Float),
            _ => Value::Nil,
        },
        "String" => match v0()? {
            Value::Nil => Value::Nil,
            v => Value::Str(v.to_display()),
        },
        "Bool" => match v0()? {
            Value::Bool(b) => Value::Bool(b),
            Value::Int(i) => Value::Bool(i != 0),
            Value::Float(f) => Value::Bool(f != 0.0),
            Value::Str(s) => match s.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => Value::Bool(true),
                "0" | "f" | "F" | "false" | "FALSE" | "False" => Value::Bool(false),
                _ => Value::Nil,
            },
            _ => Value::Nil,
        },
        "IsMatch" => {
            let re = conv.regex.as_ref().expect("compiled");
            match v0()? {
                Value::Nil => Value::Bool(false),
                Value::Str(s) => Value::Bool(re.is_match(&s)),
                v @ (Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Bytes(_)) => {
                    Value::Bool(re.is_match(&v.to_display()))
                }
                other => return Err(format!("IsMatch: unsupported type {}", other.type_name())),
            }
        }
        "IsString" => Value::Bool(matches!(v0()?, Value::Str(_))),
        "IsInt" => Value::Bool(matches!(v0()?, Value::Int(_))),
        "IsDouble" => Value::Bool(matches!(v0()?, Value::Float(_))),
        "IsBool" => Value::Bool(matches!(v0()?, Value::Bool(_))),
        "IsMap" => Value::Bool(matches!(v0()?, Value::Map(_))),
        "IsList" => Value::Bool(matches!(v0()?, Value::List(_))),
        "Len" => Value::Int(match v0()? {
            Value::Str(s) => s.len() as i64,
            Value::Bytes(b) => b.len() as i64,
            Value::Map(m) => m.len() as i64,
            Value::List(l) => l.len() as i64,
            other => return Err(format!("Len: unsupported type {}", other.type_name())),
        }),
        "ParseJSON" => match v0()? {
            Value::Str(s) => {
                let json: serde_json::Value =
                    serde_json::from_str(&s).map_err(|e| format!("ParseJSON: {e}"))?;
                match json {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        Value::from_json(&json)
                    }
                    _ => return Err("ParseJSON: the value is not a JSON object or array".into()),
                }
            }
            other => {
                return Err(format!(
                    "ParseJSON: expected a string, got a {}",
                    other.type_name()
                ));
            }
        },
        "ParseKeyValue" => {
            let Value::Str(s) = v0()? else {
                return Err("ParseKeyValue: target must be a string".into());
            };
            let delim = match arg(a, 1, ctx)? {
                Value::Str(d) => d,
                _ => "=".into(),
            };
            let pair = match arg(a, 2, ctx)? {
                Value::Str(d) => d,
                _ => " ".into(),
            };
            if delim.is_empty() || pair.is_empty() || delim == pair {
                return Err("ParseKeyValue: delimiters must be non-empty and differ".into());
            }
            if s.is_empty() {
                return Err("ParseKeyValue: cannot parse from empty target".into());
            }
            let mut out: Vec<(String, Value)> = Vec::new();
            for p in split_quoted(&s, &pair) {
                let p = p.trim();
                if p.is_empty() {
                    continue;
                }
                let Some((k, v)) = p.split_once(delim.as_str()) else {
                    return Err(format!("ParseKeyValue: cannot split {p:?} into 2 items"));
                };
                let unq = |x: &str| x.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
                let key = unq(k);
                out.retain(|(ok, _)| *ok != key);
                out.push((key, Value::Str(unq(v))));
            }
            Value::Map(out)
        }
        "ExtractPatterns" => {
            let re = conv.regex.as_ref().expect("compiled");
            let Value::Str(s) = v0()? else {
                return Err("ExtractPatterns: target must be a string".into());
            };
            let mut out = Vec::new();
            if let Some(caps) = re.captures(&s) {
                for name in re.capture_names().flatten() {
                    if let Some(m) = caps.name(name) {
                        out.push((name.to_string(), Value::Str(m.as_str().to_string())));
                    }
                }
            }
            Value::Map(out)
        }
        "Split" => match v0()? {
            Value::Str(s) => {
                let d = string_arg(a, 1, ctx, "delimiter")?;
                if s.is_empty() {
                    Value::List(vec![])
                } else {
                    Value::List(
                        s.split(d.as_str())
                            .map(|p| Value::Str(p.to_string()))
                            .collect(),
                    )
                }
            }
            Value::Nil => Value::Nil,
            other => {
                return Err(format!(
                    "Split: expected a string, got a {}",
                    other.type_name()
                ));
            }
        },
        "Substring" => {
            let start = int_arg(a, 1, ctx, "start")?;
            let length = int_arg(a, 2, ctx, "length")?;
            let Value::Str(s) = v0()? else {
                return Err("Substring: target must be a string".into());
            };
            if start < 0 || length <= 0 || (start + length) as usize > s.len() {
                return Err(format!(
                    "Substring: invalid range start {start} length {length} for a string of {} bytes",
                    s.len()
                ));
            }
            let (mut from, mut to) = (start as usize, (start + length) as usize);
            if matches!(arg(a, 3, ctx)?, Value::Bool(true)) {
                // Never split a character: the start moves forward, the end back.
                while !s.is_char_boundary(from) {
                    from += 1;
                }
                while to > from && !s.is_char_boundary(to) {
                    to -= 1;
                }
            }
            s.get(from..to)
                .ok_or("Substring: the range splits a UTF-8 character (utf8_safe avoids it)")?
                .to_string()
                .into()
        }
        "SHA1" | "SHA256" | "MD5" => {
            let Value::Str(s) = v0()? else {
                return Err(format!("{}: expected a string", conv.name));
            };
            Value::Str(digest_hex(conv.name, s.as_bytes()))
        }
        "FNV" => {
            let Value::Str(s) = v0()? else {
                return Err("FNV: expected a string".into());
            };
            // FNV-1a 64, as Go's hash/fnv New64a.
            let mut h: u64 = 0xcbf29ce484222325;
            for b in s.bytes() {
                h ^= b as u64;
                h = h.wrapping_mul(0x100000001b3);
            }
            Value::Int(h as i64)
        }
        "ParseCEF" | "ParseCLF" | "ParseELF" | "ParseLEEF" => crate::log_parsers::run(
            conv.name,
            v0()?,
            conv.strings.get(1).and_then(Option::as_deref),
        )?,
        "Hex" => match bytes_like(&v0()?) {
            Some(b) => Value::Str(hex(&b)),
            None => return Err("Hex: unsupported type".into()),
        },
        "TraceID" | "SpanID" => {
            let want = if conv.name == "TraceID" { 16 } else { 8 };
            match v0()? {
                Value::Bytes(b) if b.len() == want => Value::Bytes(b),
                // Or the ID as hex, two digits per byte.
                Value::Str(text) if text.len() == want * 2 => Value::Bytes(
                    crate::context::decode_hex(&text)
                        .ok_or_else(|| format!("{}: {text:?} is not hexadecimal", conv.name))?,
                ),
                _ => {
                    return Err(format!(
                        "{}: expected {want} bytes or {} hex digits",
                        conv.name,
                        want * 2
                    ));
                }
            }
        }
        "Trim" => {
            let cut = match arg(a, 1, ctx)? {
                Value::Str(r) => r,
                _ => " ".into(),
            };
            match v0()? {
                Value::Str(s) => Value::Str(s.trim_matches(|c| cut.contains(c)).to_string()),
                other => {
                    return Err(format!(
                        "Trim: expected a string, got a {}",
                        other.type_name()
                    ));
                }
            }
        }
        "ToLowerCase" | "ToUpperCase" => match v0()? {
            Value::Str(s) => Value::Str(if conv.name == "ToLowerCase" {
                s.to_lowercase()
            } else {
                s.to_uppercase()
            }),
            other => {
                return Err(format!(
                    "{}: expected a string, got a {}",
                    conv.name,
                    other.type_name()
                ));
            }
        },
        "Keys" | "Values" => match v0()? {
            Value::Map(m) => Value::List(if conv.name == "Keys" {
                m.into_iter().map(|(k, _)| Value::Str(k)).collect()
            } else {
                m.into_iter().map(|(_, v)| v).collect()
            }),
            other => {
                return Err(format!(
                    "{}: expected a map, got a {}",
                    conv.name,
                    other.type_name()
                ));
            }
        },
        "Index" => {
            let needle = arg(a, 1, ctx)?;
            Value::Int(match (v0()?, needle) {
                (Value::Str(s), Value::Str(n)) => s.find(&n).map_or(-1, |i| i as i64),
                (Value::List(l), n) => l.iter().position(|x| *x == n).map_or(-1, |i| i as i64),
                (other, _) => {
                    return Err(format!(
                        "Index: unsupported target type {}",
                        other.type_name()
                    ));
                }
            })
        }
        "IsRootSpan" => Value::Bool(ctx.is_root_span()?),
        "HasAttrKeyOnDatapoint" | "HasAttrOnDatapoint" => {
            let key = conv.strings[0].as_deref().unwrap_or_default();
            let expected = conv.strings.get(1).and_then(Option::as_deref);
            Value::Bool(ctx.any_data_point_attribute(key, expected)?)
        }
        "Now" => Value::Time(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i64),
        ),
        "Time" => {
            let format = string_arg(a, 1, ctx, "format")?;
            match v0()? {
                Value::Str(t) => Value::Time(crate::time::parse_time(
                    &t,
                    &format,
                    conv.location.as_ref(),
                )?),
                other => {
                    return Err(format!(
                        "Time: expected a string, got a {}",
                        other.type_name()
                    ));
                }
            }
        }
        "FormatTime" => {
            let format = string_arg(a, 1, ctx, "format")?;
            match v0()? {
                Value::Time(t) => Value::Str(crate::time::format_time(t, &format)),
                other => {
                    return Err(format!(
                        "FormatTime: expected a time.Time, got a {}",
                        other.type_name()
                    ));
                }
            }
        }
        "Format" => {
            let format = match v0()? {
                Value::Str(f) => f,
                other => {
                    return Err(format!(
                        "Format: the format must be a string, got a {}",
                        other.type_name()
                    ));
                }
            };
            let Value::List(vals) = arg(a, 1, ctx)? else {
                return Err("Format: vals must be a list".into());
            };
            Value::Str(sprintf(&format, &vals))
        }
        "Duration" => match v0()? {
            Value::Str(d) => Value::Duration(crate::time::parse_go_duration(&d)?),
            other => {
                return Err(format!(
                    "Duration: expected a string, got a {}",
                    other.type_name()
                ));
            }
        },
        "UnixNano" | "UnixMicro" | "UnixMilli" | "UnixSeconds" => {
            let Value::Time(t) = v0()? else {
                return Err(format!("{}: expected a time.Time", conv.name));
            };
            let div = match conv.name {
                "UnixNano" => 1,
                "UnixMicro" => 1_000,
                "UnixMilli" => 1_000_000,
                _ => 1_000_000_000,
            };
            Value::Int(t.div_euclid(div))
        }
        "Nanoseconds" | "Microseconds" | "Milliseconds" => {
            let Value::Duration(d) = v0()? else {
                return Err(format!("{}: expected a time.Duration", conv.name));
            };
            Value::Int(match conv.name {
                "Nanoseconds" => d,
                "Microseconds" => d / 1_000,
                _ => d / 1_000_000,
            })
        }
        "Seconds" | "Minutes" | "Hours" => {
            let Value::Duration(d) = v0()? else {
                return Err(format!("{}: expected a time.Duration", conv.name));
            };
            Value::Float(
                d as f64
                    / match conv.name {
                        "Seconds" => 1e9,
                        "Minutes" => 60e9,
                        _ => 3600e9,
                    },
            )
        }
        name => {
            let values = (0..a.len())
                .map(|i| arg(a, i, ctx))
                .collect::<Result<Vec<_>, _>>()?;
            crate::value_converters::run(name, values)?
        }
    })
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

/// Splits on a delimiter outside double or single quotes.
fn split_quoted<'s>(s: &'s str, delim: &str) -> Vec<&'s str> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let ch = s[i..].chars().next().expect("in bounds");
        match quote {
            Some(q) if ch == q => quote = None,
            None if ch == '"' || ch == '\'' => quote = Some(ch),
            None if s[i..].starts_with(delim) => {
                out.push(&s[start..i]);
                i += delim.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += ch.len_utf8();
    }
    out.push(&s[start..]);
    out
}

fn any_str_mut(v: &mut AnyValue) -> Option<&mut String> {
    match &mut v.value {
        Some(any_value::Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

pub(crate) fn run_editor(ed: &Editor, ctx: &mut TransformContext<'_>) -> Result<(), String> {
    let a = &ed.args;
    let Some(t) = &ed.target else {
        if ed.name == "set_semconv_span_name" {
            let attribute = ed.strings[1].as_deref();
            crate::semconv_span_name::set_semconv_span_name(ctx.span_mut()?, attribute);
            return Ok(());
        }
        return run_metric_editor(ed, ctx);
    };
    match ed.name {
        "set" => {
            let v = arg(a, 1, ctx)?;
            if v != Value::Nil {
                let keys = t.keys_for(ctx)?;
                ctx.set(t.field, &keys, v)?;
            }
        }
        "replace_pattern" | "replace_match" => {
            let re = ed.regex.as_ref().expect("compiled");
            let replacement = string_arg(a, 2, ctx, "replacement")?;
            let rewrite = ed.rewrite.as_ref().map(|r| r.prepare(ctx)).transpose()?;
            let keys = t.keys_for(ctx)?;
            if let Value::Str(s) = ctx.get(t.field, &keys)? {
                if !re.is_match(&s) {
                    return Ok(());
                }
                let new = match (&rewrite, ed.name) {
                    (Some(r), "replace_pattern") => r.replace_matches(re, &s, &replacement)?,
                    (Some(r), _) => r.apply(&replacement)?,
                    (None, "replace_pattern") => {
                        re.replace_all(&s, replacement.as_str()).into_owned()
                    }
                    (None, _) => replacement,
                };
                if new != s {
                    ctx.set(t.field, &keys, Value::Str(new))?;
                }
            }
        }
        "append" => {
            let keys = t.keys_for(ctx)?;
            let mut list = match ctx.get(t.field, &keys)? {
                Value::List(l) => l,
                Value::Nil => vec![],
                other => vec![other],
            };
            let v = arg(a, 1, ctx)?;
            if v != Value::Nil {
                list.push(v);
            }
            match arg(a, 2, ctx)? {
                Value::List(vs) => list.extend(vs),
                Value::Nil => {}
                other => {
                    return Err(format!(
                        "append: values must be a list, got a {}",
                        other.type_name()
                    ));
                }
            }
            ctx.set(t.field, &keys, Value::List(list))?;
        }
        _ => return run_map_editor(ed, ctx),
    }
    Ok(())
}

fn run_map_editor(ed: &Editor, ctx: &mut TransformContext<'_>) -> Result<(), String> {
    let a = &ed.args;
    let t = ed.target.as_ref().expect("map editors have a target");
    // Arguments first: they read the item, the map borrow below writes it.
    let arg1 = arg(a, 1, ctx)?;
    let arg2 = arg(a, 2, ctx)?;
    let arg3 = arg(a, 3, ctx)?;
    let rewrite = ed.rewrite.as_ref().map(|r| r.prepare(ctx)).transpose()?;
    let rewrite = rewrite.as_ref();
    let keys = t.keys_for(ctx)?;
    let map: &mut Vec<KeyValue> = if keys.is_empty() {
        ctx.map_mut(t.field)?
    } else {
        // A nested map: edit a copy and write it back.
        let Value::Map(m) = ctx.get(t.field, &keys)? else {
            return Ok(());
        };
        let mut kvs = kvs_from_map(&m);
        edit_map(ed, &mut kvs, [arg1, arg2, arg3], rewrite)?;
        return ctx.set(t.field, &keys, Value::Map(map_from_kvs(&kvs)));
    };
    edit_map(ed, map, [arg1, arg2, arg3], rewrite)
}

/// Runs a map editor on `map`, with the values of its arguments 1 to 3 and its prepared
/// `function`/`replacementFormat`.
fn edit_map(
    ed: &Editor,
    map: &mut Vec<KeyValue>,
    [arg1, arg2, arg3]: [Value; 3],
    rewrite: Option<&crate::replace::Prepared<'_>>,
) -> Result<(), String> {
    let re = ed.regex.as_ref();
    match ed.name {
        "delete_key" => {
            let Value::Str(k) = arg1 else {
                return Err("delete_key: key must be a string".into());
            };
            map.retain(|kv| kv.key != k);
        }
        "delete_matching_keys" => map.retain(|kv| !re.expect("compiled").is_match(&kv.key)),
        "keep_matching_keys" => map.retain(|kv| re.expect("compiled").is_match(&kv.key)),
        "keep_keys" => {
            let Value::List(keys) = arg1 else {
                return Err("keep_keys: keys must be a list".into());
            };
            map.retain(|kv| {
                keys.iter()
                    .any(|k| matches!(k, Value::Str(s) if *s == kv.key))
            });
        }
        "limit" => {
            let Value::Int(limit) = arg1 else {
                return Err("limit: limit must be an int64".into());
            };
            if limit < 0 {
                return Err(format!("limit: invalid limit {limit}"));
            }
            let priority: Vec<String> = match arg2 {
                Value::List(l) => l
                    .into_iter()
                    .filter_map(|v| if let Value::Str(s) = v { Some(s) } else { None })
                    .collect(),
                _ => vec![],
            };
            let limit = limit as usize;
            if map.len() > limit {
                // Priority keys first, then the others in order, as Go keeps them.
                let mut kept = 0;
                let mut keep = vec![false; map.len()];
                for (i, kv) in map.iter().enumerate() {
                    if kept < limit && priority.contains(&kv.key) {
                        keep[i] = true;
                        kept += 1;
                    }
                }
                for (i, _) in map.iter().enumerate() {
                    if kept < limit && !keep[i] {
                        keep[i] = true;
                        kept += 1;
                    }
                }
                let mut it = keep.iter();
                map.retain(|_| *it.next().expect("same length"));
            }
        }
        "merge_maps" => {
            let Value::Map(source) = arg1 else {
                return Ok(());
            };
            let strategy = ed.strings[2].as_deref().unwrap_or("upsert");
            for (k, v) in source {
                let at = map.iter().position(|kv| kv.key == k);
                match (at, strategy) {
                    (Some(i), "update" | "upsert") => map[i].value = Some(v.to_any()),
                    (None, "insert" | "upsert") => map.push(KeyValue {
                        key: k,
                        value: Some(v.to_any()),
                        ..Default::default()
                    }),
                    _ => {}
                }
            }
        }
        "replace_all_patterns" => {
            let Value::Str(replacement) = arg3 else {
                return Err("replace_all_patterns: replacement must be a string".into());
            };
            let by_key = ed.strings[1].as_deref() == Some("key");
            crate::replace::replace_all_patterns(
                map,
                re.expect("compiled"),
                by_key,
                &replacement,
                rewrite,
            )?;
        }
        "replace_all_matches" => {
            let Value::Str(replacement) = arg2 else {
                return Err("replace_all_matches: replacement must be a string".into());
            };
            let replacement = match rewrite {
                Some(r) => r.apply(&replacement)?,
                None => replacement,
            };
            let re = re.expect("compiled");
            for kv in map.iter_mut() {
                if let Some(s) = kv.value.as_mut().and_then(any_str_mut)
                    && re.is_match(s)
                {
                    *s = replacement.clone();
                }
            }
        }
        "truncate_all" => {
            let Value::Int(limit) = arg1 else {
                return Err("truncate_all: limit must be an int64".into());
            };
            if limit < 0 {
                return Err(format!("truncate_all: invalid limit {limit}"));
            }
            let utf8_safe = !matches!(arg2, Value::Bool(false));
            let marker = match arg3 {
                Value::Str(marker) => marker,
                _ => String::new(),
            };
            let limit = limit as usize;
            if marker.len() > limit {
                return Err(format!(
                    "truncate_all: the truncation marker is longer than the limit {limit}"
                ));
            }
            for kv in map.iter_mut() {
                if let Some(s) = kv.value.as_mut().and_then(any_str_mut)
                    && s.len() > limit
                {
                    // The marker counts against the limit.
                    let mut cut = limit - marker.len();
                    if utf8_safe {
                        // Cut at a character boundary at or below the byte limit.
                        while !s.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        s.truncate(cut);
                    } else {
                        // Go cuts bytes; a split character becomes U+FFFD here, since
                        // a Rust string must stay valid UTF-8.
                        *s = String::from_utf8_lossy(&s.as_bytes()[..cut]).into_owned();
                    }
                    s.push_str(&marker);
                }
            }
        }
        "flatten" => {
            let prefix = match arg1 {
                Value::Str(p) => Some(p),
                Value::Nil => None,
                _ => return Err("flatten: prefix must be a string".into()),
            };
            let depth = match arg2 {
                Value::Int(d) if d >= 0 => Some(d as usize),
                Value::Nil => None,
                _ => return Err("flatten: depth must be a non-negative int64".into()),
            };
            let resolve_conflicts = match arg3 {
                Value::Bool(b) => b,
                Value::Nil => false,
                _ => return Err("flatten: resolveConflicts must be a bool".into()),
            };
            crate::flatten::flatten(map, prefix.as_deref(), depth, resolve_conflicts);
        }
        other => unreachable!("editor {other} is compiled but not implemented"),
    }
    Ok(())
}

/// Compiles an editor of a whole item (a metric, a data point, a span): no target path.
fn compile_item_editor(
    c: &Compiler<'_>,
    call: &Call,
    name: &'static str,
    bound: &[Option<&crate::ast::Expr>],
) -> Result<Editor, CompileError> {
    let context = if DATAPOINT_EDITORS.contains(&name) {
        ContextKind::DataPoint
    } else if SPAN_EDITORS.contains(&name) {
        ContextKind::Span
    } else {
        ContextKind::Metric
    };
    if c.context != context {
        return c.err(
            call.pos,
            format!("{name} is only available in the {} context", context.name()),
        );
    }
    let mut strings = vec![None; bound.len()];
    if name == "convert_gauge_to_sum" {
        let t = literal_string(c, call, bound[0], "stringAggTemp")?.unwrap_or_default();
        if t != "cumulative" && t != "delta" {
            return c.err(call.pos, format!("convert_gauge_to_sum: unknown aggregation temporality {t:?}, expected \"cumulative\" or \"delta\""));
        }
        strings[0] = Some(t);
    }
    crate::metric_functions::compile_literals(c, call, name, bound, &mut strings)?;
    crate::histogram_functions::compile_literals(c, call, name, bound, &mut strings)?;
    if name == "set_semconv_span_name" {
        let version = literal_string(c, call, bound[0], "semconvVersion")?.unwrap_or_default();
        if let Err(e) = crate::semconv_span_name::check_version(&version) {
            return c.err(call.pos, format!("{name}: {e}"));
        }
        strings[0] = Some(version);
        let attribute = literal_string(c, call, bound[1], "originalSpanNameAttribute")?;
        if attribute.as_deref() == Some("") {
            return c.err(
                call.pos,
                format!("{name}: originalSpanNameAttribute cannot be an empty string"),
            );
        }
        strings[1] = attribute;
    }
    let args = bound
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if strings[i].is_some() {
                Ok(None)
            } else {
                e.map(|e| c.expr(e)).transpose()
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Editor {
        name,
        target: None,
        args,
        regex: None,
        strings,
        rewrite: None,
    })
}

fn run_metric_editor(ed: &Editor, ctx: &mut TransformContext<'_>) -> Result<(), String> {
    if crate::metric_functions::NAMES.contains(&ed.name) {
        return crate::metric_functions::run(ed.name, &ed.args, &ed.strings, ctx);
    }
    if crate::histogram_functions::NAMES.contains(&ed.name) {
        return crate::histogram_functions::run(ed.name, &ed.args, &ed.strings, ctx);
    }
    use tributary_pipeline_core::pdata::proto::metrics::v1::number_data_point::Value as N;
    use tributary_pipeline_core::pdata::proto::metrics::v1::{Gauge, Sum, metric::Data};
    let factor = match ed.name {
        "scale_metric" => match arg(&ed.args, 0, ctx)? {
            Value::Float(f) => Some(f),
            Value::Int(i) => Some(i as f64),
            other => {
                return Err(format!(
                    "scale_metric: factor must be a float64, got a {}",
                    other.type_name()
                ));
            }
        },
        _ => None,
    };
    let unit = match ed.name {
        "scale_metric" => match arg(&ed.args, 1, ctx)? {
            Value::Str(u) => Some(u),
            Value::Nil => None,
            other => {
                return Err(format!(
                    "scale_metric: unit must be a string, got a {}",
                    other.type_name()
                ));
            }
        },
        _ => None,
    };
    let monotonic = match ed.name {
        "convert_gauge_to_sum" => match arg(&ed.args, 1, ctx)? {
            Value::Bool(b) => b,
            other => {
                return Err(format!(
                    "convert_gauge_to_sum: monotonic must be a bool, got a {}",
                    other.type_name()
                ));
            }
        },
        _ => false,
    };
    let metric = ctx.metric_mut()?;
    match ed.name {
        "convert_sum_to_gauge" => {
            if let Some(Data::Sum(sum)) = &mut metric.data {
                let data_points = std::mem::take(&mut sum.data_points);
                metric.data = Some(Data::Gauge(Gauge { data_points }));
            }
        }
        "convert_gauge_to_sum" => {
            if let Some(Data::Gauge(gauge)) = &mut metric.data {
                let data_points = std::mem::take(&mut gauge.data_points);
                let aggregation_temporality = if ed.strings[0].as_deref() == Some("delta") {
                    1
                } else {
                    2
                };
                metric.data = Some(Data::Sum(Sum {
                    data_points,
                    aggregation_temporality,
                    is_monotonic: monotonic,
                }));
            }
        }
        _ => {
            let f = factor.expect("scale_metric has a factor");
            let scale_number = |dps: &mut Vec<
                tributary_pipeline_core::pdata::proto::metrics::v1::NumberDataPoint,
            >| {
                for dp in dps {
                    dp.value = match dp.value {
                        Some(N::AsDouble(d)) => Some(N::AsDouble(d * f)),
                        // Go: int64(float64(v) * factor).
                        Some(N::AsInt(i)) => Some(N::AsInt((i as f64 * f) as i64)),
                        None => None,
                    };
                }
            };
            match &mut metric.data {
                Some(Data::Gauge(g)) => scale_number(&mut g.data_points),
                Some(Data::Sum(s)) => scale_number(&mut s.data_points),
                Some(Data::Histogram(h)) => {
                    for dp in &mut h.data_points {
                        dp.sum = dp.sum.map(|v| v * f);
                        dp.min = dp.min.map(|v| v * f);
                        dp.max = dp.max.map(|v| v * f);
                        dp.explicit_bounds.iter_mut().for_each(|b| *b *= f);
                    }
                }
                Some(Data::ExponentialHistogram(_)) | Some(Data::Summary(_)) => {
                    return Err(format!(
                        "scale_metric: unsupported metric type {}",
                        if matches!(metric.data, Some(Data::Summary(_))) {
                            "summary"
                        } else {
                            "exponential histogram"
                        }
                    ));
                }
                None => {}
            }
            if let Some(unit) = unit {
                metric.unit = unit;
            }
        }
    }
    Ok(())
}

/// Go's `fmt.Sprintf` for the verbs OTTL users write: `%s`, `%v`, `%d`, `%f`, `%x`, `%q`
/// and `%%`, with Go's flags (`-`, `+`, `0`, space), a width and a precision (`%05.2f`,
/// `%-8s`, `%02d`).
fn sprintf(format: &str, vals: &[Value]) -> String {
    let mut out = String::new();
    let mut args = vals.iter();
    let mut chars = format.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        let (mut left, mut plus, mut zero, mut space) = (false, false, false, false);
        while let Some(flag) = chars.peek().copied() {
            match flag {
                '-' => left = true,
                '+' => plus = true,
                '0' => zero = true,
                ' ' => space = true,
                _ => break,
            }
            chars.next();
        }
        let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
            let mut digits = String::new();
            while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                chars.next();
            }
            digits.parse::<usize>().ok()
        };
        let width = number(&mut chars);
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            precision = Some(number(&mut chars).unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(v) = args.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let sign = |text: String, negative: bool| match (negative, plus, space) {
            (false, true, _) => format!("+{text}"),
            (false, false, true) => format!(" {text}"),
            _ => text,
        };
        let (text, numeric) = match (verb, v) {
            ('f', Value::Float(f)) => (
                sign(format!("{f:.*}", precision.unwrap_or(6)), *f < 0.0),
                true,
            ),
            ('d', Value::Int(i)) => (sign(i.to_string(), *i < 0), true),
            ('x', Value::Int(i)) => (
                if *i < 0 {
                    format!("-{:x}", i.unsigned_abs())
                } else {
                    format!("{i:x}")
                },
                true,
            ),
            ('x', Value::Str(s)) => (hex(s.as_bytes()), false),
            ('x', Value::Bytes(b)) => (hex(b), false),
            ('q', v) => (format!("{:?}", v.to_display()), false),
            ('s' | 'v', v) => {
                let mut text = v.to_display();
                if let (Some(p), 's') = (precision, verb) {
                    text = text.chars().take(p).collect();
                }
                (text, false)
            }
            (verb, v) => {
                out.push_str(&format!("%!{verb}({}={})", v.type_name(), v.to_display()));
                continue;
            }
        };
        let pad = width.unwrap_or(0).saturating_sub(text.chars().count());
        if pad == 0 {
            out.push_str(&text);
        } else if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else if zero && numeric {
            // Zeros go after the sign, as in Go: %05d of -42 is -0042.
            let digits_at = text.find(|c: char| c.is_ascii_alphanumeric()).unwrap_or(0);
            out.push_str(&text[..digits_at]);
            out.extend(std::iter::repeat_n('0', pad));
            out.push_str(&text[digits_at..]);
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&text);
        }
    }
    out
}
