//! `csv_parser`: a delimited line becomes a map keyed by a header.

use super::super::config::OperatorConfig;
use super::super::entry::Entry;
use super::super::field::Field;
use super::super::pipeline::Transform;
use super::super::value::{Map, Value};
use super::parser::Parse;

/// How the quotes of a line are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsvQuotes {
    /// A quote may appear inside an unquoted field, and a quoted field may have text after
    /// its closing quote (Go's `LazyQuotes`).
    pub lazy: bool,
    /// Quotes are ordinary characters.
    pub ignore: bool,
}

/// Parses with a fixed `header` or each entry's `header_attribute`.
pub(crate) struct CsvParser {
    delimiter: char,
    header: Header,
    quotes: CsvQuotes,
}

enum Header {
    Fixed(Vec<String>),
    FromAttribute { attribute: Field, delimiter: char },
}

fn one_char(text: &str, key: &str) -> Result<char, String> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c != '"' && c != '\r' && c != '\n' => Ok(c),
        _ => Err(format!(
            "`{key}` must be one character other than a quote or newline, got {text:?}"
        )),
    }
}

impl CsvParser {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let delimiter = one_char(config.delimiter.as_deref().unwrap_or(","), "delimiter")?;
        let header_delimiter = match &config.header_delimiter {
            Some(text) => one_char(text, "header_delimiter")?,
            None => delimiter,
        };
        let quotes = CsvQuotes {
            lazy: config.lazy_quotes.unwrap_or(false),
            ignore: config.ignore_quotes.unwrap_or(false),
        };
        if quotes.lazy && quotes.ignore {
            return Err("only one of `lazy_quotes` and `ignore_quotes` can be true".into());
        }
        let header = match (&config.header, &config.header_attribute) {
            (Some(_), Some(_)) => {
                return Err("only one of `header` and `header_attribute` can be set".into());
            }
            (None, None) => {
                return Err("missing required key `header` (or `header_attribute`)".into());
            }
            (Some(header), None) => {
                Header::Fixed(header.split(header_delimiter).map(str::to_string).collect())
            }
            (None, Some(attribute)) => Header::FromAttribute {
                attribute: Field::attribute(attribute),
                delimiter: header_delimiter,
            },
        };
        Ok(CsvParser {
            delimiter,
            header,
            quotes,
        })
    }

    fn parse_with(&self, header: &[String], value: &Value) -> Result<Value, String> {
        let Value::String(text) = value else {
            return Err("type is not a string; cannot parse it as CSV".into());
        };
        let fields = parse_csv_line(text, self.delimiter, self.quotes)?;
        if fields.len() != header.len() {
            return Err(format!(
                "wrong number of fields: expected {}, found {}",
                header.len(),
                fields.len()
            ));
        }
        Ok(Value::Map(
            header
                .iter()
                .cloned()
                .zip(fields.into_iter().map(Value::String))
                .collect::<Map>(),
        ))
    }
}

impl Parse for CsvParser {
    fn parse(&mut self, value: &Value) -> Result<Value, String> {
        match &self.header {
            Header::Fixed(header) => self.parse_with(header, value),
            // `Csv` reads the entry's header and calls `parse_with` itself.
            Header::FromAttribute { attribute, .. } => Err(format!(
                "failed to read dynamic header attribute `{attribute}`"
            )),
        }
    }
}

impl CsvParser {
    /// The header of `entry` when it comes from an attribute.
    pub(crate) fn dynamic_header(&self, entry: &Entry) -> Option<Result<Vec<String>, String>> {
        let Header::FromAttribute {
            attribute,
            delimiter,
        } = &self.header
        else {
            return None;
        };
        Some(match attribute.get(entry) {
            Some(Value::String(header)) => {
                Ok(header.split(*delimiter).map(str::to_string).collect())
            }
            Some(_) => Err(format!("header attribute `{attribute}` is not a string")),
            None => Err(format!(
                "failed to read dynamic header attribute `{attribute}`"
            )),
        })
    }
}

/// A `csv_parser` whose header may come from each entry: wraps the shared parser steps.
pub(crate) struct Csv {
    pub(crate) parser: super::parser::Parser<CsvParser>,
}

impl Transform for Csv {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        if let Some(header) = self.parser.parse.dynamic_header(entry) {
            let header = header?;
            return self.parser.transform_with(
                entry,
                |csv, value| csv.parse_with(&header, value),
                |_, _| {},
            );
        }
        self.parser.transform(entry)
    }
}

/// Splits one CSV record into fields: `"` quotes fields (`""` is a quote inside one), a
/// quoted field may hold delimiters and newlines.
pub fn parse_csv_line(
    text: &str,
    delimiter: char,
    quotes: CsvQuotes,
) -> Result<Vec<String>, String> {
    if quotes.ignore {
        return Ok(text.split(delimiter).map(str::to_string).collect());
    }
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    let mut column = 0usize;
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            column += 1;
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                        column += 2;
                    }
                    Some('"') => {
                        column += 1;
                        break;
                    }
                    Some(c) => {
                        field.push(c);
                        column += 1;
                    }
                    None if quotes.lazy => break,
                    None => {
                        return Err(format!(
                            "extraneous or missing \" in quoted-field at column {column}"
                        ));
                    }
                }
            }
            // After the closing quote: a delimiter or the end.
            loop {
                match chars.peek() {
                    None => break,
                    Some(c) if *c == delimiter => break,
                    Some(c) if quotes.lazy => {
                        field.push(*c);
                        chars.next();
                        column += 1;
                    }
                    Some(_) => {
                        return Err(format!(
                            "extraneous or missing \" in quoted-field at column {column}"
                        ));
                    }
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == delimiter {
                    break;
                }
                if c == '"' && !quotes.lazy {
                    return Err(format!("bare \" in non-quoted-field at column {column}"));
                }
                field.push(c);
                chars.next();
                column += 1;
            }
        }
        fields.push(field);
        match chars.next() {
            Some(_) => column += 1,
            None => break,
        }
    }
    Ok(fields)
}
