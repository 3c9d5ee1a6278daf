//! `ParseELF`: W3C Extended Log Format blocks.

use super::Map;
use crate::value::Value;

/// Parses a W3C Extended Log Format block into the `elf.*` map.
pub(super) fn elf(input: &str) -> Result<Map, String> {
    let mut out = Map::default();
    let mut entries = Vec::new();
    let mut has_version = false;
    let mut fields: Vec<String> = Vec::new();
    let lines = input
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty());
    // The entries come first in Go's map: it puts the list before reading.
    out.put("elf.entries", Value::List(Vec::new()));
    for line in lines {
        if let Some(body) = line.strip_prefix('#') {
            let Some((key, value)) = body.split_once(':') else {
                let trimmed = body.trim();
                if trimmed
                    .get(..6)
                    .is_some_and(|k| k.eq_ignore_ascii_case("fields"))
                {
                    return Err(format!(
                        "invalid ELF: malformed #Fields directive {line:?}: directive {line:?} has no colon separator"
                    ));
                }
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let put = match key.to_ascii_lowercase().as_str() {
                "version" => {
                    has_version = true;
                    Some("elf.version")
                }
                "fields" => {
                    fields = value.split_whitespace().map(str::to_string).collect();
                    None
                }
                "software" => Some("elf.software"),
                "date" => Some("elf.date"),
                "start-date" => Some("elf.start_date"),
                "end-date" => Some("elf.end_date"),
                "remark" => Some("elf.remark"),
                _ => None,
            };
            if let Some(key) = put {
                out.put_str(key, value);
            }
            continue;
        }
        if fields.is_empty() {
            return Err("invalid ELF: data entry found before #Fields directive".into());
        }
        let values = elf_values(line)?;
        let entry = fields
            .iter()
            .enumerate()
            .map(|(i, field)| {
                let value = values.get(i).cloned().unwrap_or_else(|| "-".to_string());
                (format!("elf.{field}"), Value::Str(value))
            })
            .collect();
        entries.push(Value::Map(entry));
    }
    if !has_version {
        return Err("invalid ELF: missing #Version directive".into());
    }
    out.put("elf.entries", Value::List(entries));
    out.put(
        "elf.fields",
        Value::List(fields.into_iter().map(Value::Str).collect()),
    );
    Ok(out)
}

/// The values of an ELF data line: separated by spaces or tabs, double-quoted ones may
/// hold them (`""` is a quote inside).
fn elf_values(line: &str) -> Result<Vec<String>, String> {
    let mut values = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let Some(&first) = chars.peek() else {
            return Ok(values);
        };
        let mut value = String::new();
        if first == '"' {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.next_if_eq(&'"').is_some() => value.push('"'),
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => {
                        return Err(format!(
                            "invalid ELF: unterminated quoted value in data line: {line:?}"
                        ));
                    }
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ' ' && *c != '\t') {
                value.push(c);
            }
        }
        values.push(value);
    }
}
