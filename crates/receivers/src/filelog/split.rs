//! Splitting a file's bytes into entries: at newlines (the default), or where
//! `multiline`'s `line_start_pattern` or `line_end_pattern` matches; entries are cut at
//! `max_log_size` and trimmed of whitespace unless `preserve_*_whitespaces`.
//!
//! The rules are stanza's split functions: patterns are compiled in multi-line mode
//! (`(?m)`, so `^` matches at each line's start), text before the first start match is an
//! entry of its own, and the last entry of a file is only complete once the file ends
//! (more data, or a forced flush, decides).

use std::ops::Range;

use regex::bytes::Regex;
use serde::Deserialize;

use super::encoding::Encoding;

/// `multiline`: where entries start or end.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Multiline {
    /// `line_start_pattern`: a regular expression matching the start of each entry.
    pub line_start_pattern: String,
    /// `line_end_pattern`: a regular expression matching the end of each entry.
    pub line_end_pattern: String,
    /// `omit_pattern`: leave the matched start or end out of the entry.
    pub omit_pattern: bool,
}

/// Why a `multiline` block is refused.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    /// Both patterns, or neither, are set.
    #[error("set exactly one of line_start_pattern and line_end_pattern")]
    OnePattern,
    /// A pattern does not compile.
    #[error("invalid pattern {pattern:?}: {source}")]
    Pattern {
        /// The pattern as written.
        pattern: String,
        /// What the regex compiler said.
        source: regex::Error,
    },
}

impl Multiline {
    /// The splitter for this block (ASCII-compatible encodings only).
    pub fn build(
        &self,
        max_log_size: usize,
        preserve_leading: bool,
        preserve_trailing: bool,
    ) -> Result<Splitter, SplitError> {
        let compile = |pattern: &str| {
            Regex::new(&format!("(?m){pattern}")).map_err(|source| SplitError::Pattern {
                pattern: pattern.to_string(),
                source,
            })
        };
        let rule = match (
            self.line_start_pattern.is_empty(),
            self.line_end_pattern.is_empty(),
        ) {
            (false, true) => Rule::Start(compile(&self.line_start_pattern)?),
            (true, false) => Rule::End(compile(&self.line_end_pattern)?),
            _ => return Err(SplitError::OnePattern),
        };
        Ok(Splitter {
            rule,
            omit: self.omit_pattern,
            max_log_size: max_log_size.max(1),
            trim_leading: !preserve_leading,
            trim_trailing: !preserve_trailing,
            newline: b"\n",
            unit: 1,
        })
    }
}

#[derive(Debug, Clone)]
enum Rule {
    Newline,
    Start(Regex),
    End(Regex),
}

/// Finds entries in a file's bytes.
#[derive(Debug, Clone)]
pub struct Splitter {
    rule: Rule,
    omit: bool,
    max_log_size: usize,
    trim_leading: bool,
    trim_trailing: bool,
    newline: &'static [u8],
    unit: usize,
}

/// One entry found by [`Splitter::next`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// How many bytes of the input the entry used up (it, its delimiter, whitespace).
    pub consumed: usize,
    /// The entry's bytes in the input (trimmed; may be empty, which callers skip).
    pub range: Range<usize>,
}

impl Splitter {
    /// The default splitter: one entry per line of `encoding`'s newlines (a `\r` before
    /// the newline is dropped).
    pub fn newline(
        encoding: Encoding,
        max_log_size: usize,
        preserve_leading: bool,
        preserve_trailing: bool,
    ) -> Splitter {
        let (newline, unit) = encoding.newline();
        Splitter {
            rule: Rule::Newline,
            omit: false,
            max_log_size: max_log_size.max(unit),
            trim_leading: !preserve_leading,
            trim_trailing: !preserve_trailing,
            newline,
            unit,
        }
    }

    /// The next entry at the start of `data`, or `None` when more data is needed to know
    /// where it ends. With `at_end` (no more data will come: the file ended and the
    /// flush period passed) the rest of `data` is an entry. An entry is never longer than
    /// `max_log_size`: a longer one is cut, and its rest is the next entry.
    pub fn next(&self, data: &[u8], at_end: bool) -> Option<Token> {
        if data.is_empty() {
            return None;
        }
        let window = &data[..data.len().min(self.max_log_size)];
        let flush = at_end && window.len() == data.len();
        let found = match &self.rule {
            Rule::Newline => self.split_newline(window, flush),
            Rule::Start(re) => self.split_start(re, window, flush),
            Rule::End(re) => self.split_end(re, window, flush),
        };
        let (consumed, range) = match found {
            Some(found) => found,
            None if window.len() >= self.max_log_size => {
                let cut = window.len() - window.len() % self.unit;
                (cut.max(self.unit).min(data.len()), 0..cut)
            }
            None => return None,
        };
        Some(Token {
            consumed,
            range: self.trim(data, range),
        })
    }

    /// Every entry of `data` (the rest too when `at_end`), and how many bytes they used.
    pub fn split_all<'a>(&self, data: &'a [u8], at_end: bool) -> (Vec<&'a [u8]>, usize) {
        let (mut tokens, mut offset) = (Vec::new(), 0);
        while let Some(token) = self.next(&data[offset..], at_end) {
            if token.consumed == 0 {
                break;
            }
            tokens.push(&data[offset + token.range.start..offset + token.range.end]);
            offset += token.consumed;
        }
        (tokens, offset)
    }

    fn split_newline(&self, data: &[u8], flush: bool) -> Option<(usize, Range<usize>)> {
        let mut at = 0;
        while let Some(found) = find(&data[at..], self.newline) {
            let position = at + found;
            if position % self.unit == 0 {
                let mut end = position;
                if self.unit == 1 && end > 0 && data[end - 1] == b'\r' {
                    end -= 1;
                }
                return Some((position + self.newline.len(), 0..end));
            }
            at = position + 1;
        }
        flush.then_some((data.len(), 0..data.len()))
    }

    fn split_start(&self, re: &Regex, data: &[u8], flush: bool) -> Option<(usize, Range<usize>)> {
        let Some(first) = re.find(data) else {
            return flush.then_some((data.len(), 0..data.len()));
        };
        if first.start() != 0 {
            let leading = self.trim(data, 0..first.start());
            // Text before the first start is an entry of its own, unless it is blank.
            if !leading.is_empty() {
                return Some((first.start(), 0..first.start()));
            }
        }
        let body_start = if self.omit {
            first.end()
        } else {
            first.start()
        };
        if first.end() == data.len() {
            return flush.then_some((data.len(), body_start.min(data.len())..data.len()));
        }
        if flush {
            return Some((data.len(), body_start..data.len()));
        }
        let after = first.end() + 1;
        let second = re.find(data.get(after..)?)?;
        let next_start = after + second.start();
        Some((next_start, body_start..next_start))
    }

    fn split_end(&self, re: &Regex, data: &[u8], flush: bool) -> Option<(usize, Range<usize>)> {
        let Some(found) = re.find(data) else {
            return flush.then_some((data.len(), 0..data.len()));
        };
        // A match reaching the end of what was read may grow with more data; an empty
        // match at the start ends nothing.
        if (found.end() == data.len() || found.end() == 0) && !flush {
            return None;
        }
        if found.end() == 0 {
            return Some((data.len(), 0..data.len()));
        }
        let end = if self.omit {
            found.start()
        } else {
            found.end()
        };
        Some((found.end(), 0..end))
    }

    fn trim(&self, data: &[u8], mut range: Range<usize>) -> Range<usize> {
        if self.unit != 1 {
            return range;
        }
        if self.trim_leading {
            while range.start < range.end && data[range.start].is_ascii_whitespace() {
                range.start += 1;
            }
        }
        if self.trim_trailing {
            while range.end > range.start && data[range.end - 1].is_ascii_whitespace() {
                range.end -= 1;
            }
        }
        range
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return haystack.iter().position(|b| *b == needle[0]);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}
