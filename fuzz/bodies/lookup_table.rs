//! The `lookup` processor's table as it arrives from a file or an HTTP server, in each
//! format: never a panic, never more rows than the input has lines or bytes, and every
//! key that parsed answers a lookup.

use tributary_processors::lookup::{TableFormat, parse_table};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let format = match selector % 3 {
        0 => TableFormat::Csv,
        1 => TableFormat::Yaml,
        _ => TableFormat::Json,
    };
    if let Ok(table) = parse_table(text, format, "key") {
        assert!(table.len() <= text.len());
        // Lookups of arbitrary text never panic either.
        if let Ok(key) = std::str::from_utf8(text) {
            let _ = table.lookup(key);
            let _ = table.lookup(key.lines().next().unwrap_or_default());
        }
    }
}
