//! The lookup table: rows of attributes by key, exact keys and CIDR blocks, parsed from
//! CSV, YAML or JSON.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value as Json;
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

use super::config::TableFormat;

/// The attributes a row adds.
type Row = Arc<[KeyValue]>;

/// Rows by key. A key that parses as a CIDR block (`10.0.0.0/8`, `2001:db8::/32`) matches
/// every address inside; an exact key matches its text. A lookup tries the exact keys
/// first, then the blocks from the longest prefix down, so the most specific row wins.
#[derive(Debug, Default)]
pub struct Table {
    exact: HashMap<String, Row>,
    /// IPv4 blocks by prefix length, longest first; addresses masked to the prefix.
    v4: Vec<(u8, HashMap<u32, Row>)>,
    /// IPv6 blocks likewise.
    v6: Vec<(u8, HashMap<u128, Row>)>,
    rows: usize,
}

impl Table {
    /// The row for `key`: exact, else the longest CIDR block holding `key` as an address.
    pub fn lookup(&self, key: &str) -> Option<&[KeyValue]> {
        self.lookup_row(key).map(|row| &row[..])
    }

    fn lookup_row(&self, key: &str) -> Option<&Row> {
        if let Some(row) = self.exact.get(key) {
            return Some(row);
        }
        if self.v4.is_empty() && self.v6.is_empty() {
            return None;
        }
        match key.trim().parse::<IpAddr>().ok()?.to_canonical() {
            IpAddr::V4(ip) => {
                let ip = u32::from(ip);
                self.v4
                    .iter()
                    .find_map(|(prefix, blocks)| blocks.get(&mask_v4(ip, *prefix)))
            }
            IpAddr::V6(ip) => {
                let ip = u128::from(ip);
                self.v6
                    .iter()
                    .find_map(|(prefix, blocks)| blocks.get(&mask_v6(ip, *prefix)))
            }
        }
    }

    /// How many rows the table has.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Adds a row; a later row with the same key replaces an earlier one.
    fn insert(&mut self, key: &str, row: Vec<KeyValue>) {
        let row: Row = row.into();
        self.rows += 1;
        match parse_cidr(key) {
            Some((IpAddr::V4(ip), prefix)) => {
                let at = slot(&mut self.v4, prefix);
                if at.insert(mask_v4(u32::from(ip), prefix), row).is_some() {
                    self.rows -= 1;
                }
            }
            Some((IpAddr::V6(ip), prefix)) => {
                let at = slot(&mut self.v6, prefix);
                if at.insert(mask_v6(u128::from(ip), prefix), row).is_some() {
                    self.rows -= 1;
                }
            }
            None => {
                if self.exact.insert(key.to_string(), row).is_some() {
                    self.rows -= 1;
                }
            }
        }
    }
}

/// The map for blocks of `prefix` bits, kept longest first.
fn slot<K>(levels: &mut Vec<(u8, HashMap<K, Row>)>, prefix: u8) -> &mut HashMap<K, Row> {
    let at = match levels.binary_search_by(|(p, _)| prefix.cmp(p)) {
        Ok(at) => at,
        Err(at) => {
            levels.insert(at, (prefix, HashMap::new()));
            at
        }
    };
    &mut levels[at].1
}

fn mask_v4(ip: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        ip & (u32::MAX << (32 - u32::from(prefix)))
    }
}

fn mask_v6(ip: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        ip & (u128::MAX << (128 - u32::from(prefix)))
    }
}

/// `addr/prefix` as a block, `None` for any other text.
fn parse_cidr(key: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = key.trim().split_once('/')?;
    let addr: IpAddr = addr.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((addr, prefix))
}

/// Parses a table, as the `lookup` processor reads its source. `key_column` names the key
/// column of a CSV file or the key field of a YAML/JSON list of rows; a YAML/JSON map is
/// keyed by its keys. The error says what is wrong and where.
///
/// ```
/// use tributary_processors::lookup::{TableFormat, parse_table};
///
/// let table = parse_table(b"key,app\n10.0.0.0/8,intranet\n10.1.2.3,billing\n", TableFormat::Csv, "key")?;
/// let app = |ip| table.lookup(ip).map(|row| row[0].key.clone() + "=" + &format!("{:?}", row[0].value));
/// assert!(app("10.1.2.3").unwrap().contains("billing"));
/// assert!(app("10.9.9.9").unwrap().contains("intranet"));
/// assert!(table.lookup("192.168.0.1").is_none());
/// # Ok::<(), String>(())
/// ```
pub fn parse_table(bytes: &[u8], format: TableFormat, key_column: &str) -> Result<Table, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the table is not UTF-8: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        TableFormat::Csv => parse_csv(text, key_column),
        TableFormat::Json => {
            let json: Json =
                serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
            from_json(json, key_column)
        }
        TableFormat::Yaml => {
            let json: Json =
                serde_saphyr::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
            from_json(json, key_column)
        }
    }
}

fn parse_csv(text: &str, key_column: &str) -> Result<Table, String> {
    let mut records = csv_records(text);
    let header = match records.next() {
        Some(header) => header?,
        None => return Ok(Table::default()),
    };
    let key_at = header
        .iter()
        .position(|name| name.trim() == key_column)
        .ok_or_else(|| format!("the CSV header has no {key_column:?} column"))?;
    let mut table = Table::default();
    for (index, record) in records.enumerate() {
        let record = record?;
        if record.len() > header.len() {
            return Err(format!(
                "CSV row {} has {} fields, the header {}",
                index + 2,
                record.len(),
                header.len()
            ));
        }
        let key = record.get(key_at).map(|k| k.trim()).unwrap_or_default();
        if key.is_empty() {
            return Err(format!("CSV row {} has an empty key", index + 2));
        }
        let row = header
            .iter()
            .zip(&record)
            .enumerate()
            .filter(|(at, (_, cell))| *at != key_at && !cell.is_empty())
            .map(|(_, (name, cell))| key_value(name.trim(), cell.as_str()))
            .collect();
        table.insert(key, row);
    }
    Ok(table)
}

/// RFC 4180 records: `,` between fields, `"` quoting (with `""` for a quote), LF or CRLF
/// line ends; blank lines are skipped.
fn csv_records(text: &str) -> impl Iterator<Item = Result<Vec<String>, String>> + '_ {
    let mut chars = text.chars().peekable();
    let mut line = 1;
    std::iter::from_fn(move || {
        loop {
            chars.peek()?;
            let mut record = Vec::new();
            let mut field = String::new();
            let mut quoted = false;
            let mut was_quoted = false;
            loop {
                let Some(c) = chars.next() else {
                    if quoted {
                        return Some(Err(format!("CSV line {line}: unterminated quote")));
                    }
                    break;
                };
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    ('"', true) => quoted = false,
                    ('"', false) if field.is_empty() && !was_quoted => {
                        quoted = true;
                        was_quoted = true;
                    }
                    (',', false) => {
                        record.push(std::mem::take(&mut field));
                        was_quoted = false;
                    }
                    ('\n', false) => break,
                    ('\r', false) if chars.peek() == Some(&'\n') => {}
                    (c, _) => {
                        if c == '\n' {
                            line += 1;
                        }
                        field.push(c);
                    }
                }
            }
            line += 1;
            if record.is_empty() && field.trim().is_empty() && !was_quoted {
                continue;
            }
            record.push(field);
            return Some(Ok(record));
        }
    })
}

fn from_json(json: Json, key_column: &str) -> Result<Table, String> {
    let mut table = Table::default();
    match json {
        Json::Null => {}
        Json::Object(rows) => {
            for (key, row) in rows {
                let Json::Object(row) = row else {
                    return Err(format!("the row of {key:?} is not a map of attributes"));
                };
                table.insert(&key, attributes(row.into_iter()));
            }
        }
        Json::Array(rows) => {
            for (index, row) in rows.into_iter().enumerate() {
                let Json::Object(mut row) = row else {
                    return Err(format!("row {index} is not a map of attributes"));
                };
                let key = match row.remove(key_column) {
                    Some(Json::String(key)) => key,
                    Some(Json::Number(n)) => n.to_string(),
                    _ => return Err(format!("row {index} has no {key_column:?} field")),
                };
                table.insert(&key, attributes(row.into_iter()));
            }
        }
        _ => return Err("the table must be a map of rows by key or a list of rows".into()),
    }
    Ok(table)
}

/// A row's fields as attributes: scalars keep their type, `null` adds nothing, lists and
/// maps become their JSON text.
fn attributes(fields: impl Iterator<Item = (String, Json)>) -> Vec<KeyValue> {
    fields
        .filter_map(|(name, value)| {
            Some(match value {
                Json::Null => return None,
                Json::Bool(b) => key_value(name, b),
                Json::Number(n) => match n.as_i64() {
                    Some(i) => key_value(name, i),
                    None => key_value(name, n.as_f64().unwrap_or(f64::NAN)),
                },
                Json::String(s) => key_value(name, s),
                nested => key_value(name, nested.to_string()),
            })
        })
        .collect()
}
