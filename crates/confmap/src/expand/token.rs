//! The tokenizer for `${...}` references and `$$` escapes inside configuration strings.
//!
//! Grammar, scanning left to right:
//! - `$$` is a literal `$`. The pair is consumed together, so `$${A}` is the text `${A}` and
//!   `$$$${A}` is the text `$${A}`. The output is never scanned again.
//! - `${` opens a reference, which the next `}` closes. References nest
//!   (`${file:${env:DIR}/x.yaml}`); inside one, `$$` is a literal `$` too.
//! - Any other `$` (`$VAR`, a trailing `$`) and any `}` outside a reference is text.
//! - A `${` that is never closed is text, as in the Go Collector; references closed inside
//!   it still count.

use crate::error::ExpandError;

/// The deepest `${` nesting accepted in one string.
pub(crate) const MAX_NESTING: usize = 100;

/// A piece of a string: literal text or a reference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// Literal text, escapes already applied.
    Text(String),
    /// A `${...}` reference.
    Ref(Reference),
}

/// A `${...}` reference: what is between the braces, and the reference as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reference {
    /// The content between `${` and `}`: text and nested references.
    pub(crate) parts: Vec<Token>,
    /// The reference exactly as written, for error messages.
    pub(crate) raw: String,
}

struct Frame {
    start: usize,
    tokens: Vec<Token>,
    text: String,
}

impl Frame {
    fn new(start: usize) -> Frame {
        Frame {
            start,
            tokens: Vec::new(),
            text: String::new(),
        }
    }

    fn flush(&mut self) {
        if !self.text.is_empty() {
            self.tokens
                .push(Token::Text(std::mem::take(&mut self.text)));
        }
    }

    fn into_tokens(mut self) -> Vec<Token> {
        self.flush();
        self.tokens
    }
}

/// Splits a string into text and references.
pub(crate) fn tokenize(input: &str) -> Result<Vec<Token>, ExpandError> {
    let bytes = input.as_bytes();
    let mut stack = vec![Frame::new(0)];
    let mut i = 0;
    while i < bytes.len() {
        let depth = stack.len();
        let Some(top) = stack.last_mut() else {
            break;
        };
        match (bytes[i], bytes.get(i + 1)) {
            (b'$', Some(b'$')) => {
                top.text.push('$');
                i += 2;
            }
            (b'$', Some(b'{')) => {
                if depth > MAX_NESTING {
                    return Err(ExpandError::NestingTooDeep { limit: MAX_NESTING });
                }
                top.flush();
                stack.push(Frame::new(i));
                i += 2;
            }
            (b'}', _) if depth > 1 => {
                if let Some(frame) = stack.pop() {
                    let reference = Reference {
                        raw: input[frame.start..=i].to_owned(),
                        parts: frame.into_tokens(),
                    };
                    if let Some(parent) = stack.last_mut() {
                        parent.flush();
                        parent.tokens.push(Token::Ref(reference));
                    }
                }
                i += 1;
            }
            _ => {
                // Copy up to the next byte that may start a token. `$` and `}` are ASCII, so
                // the cut is always on a character boundary.
                let next = bytes[i + 1..]
                    .iter()
                    .position(|b| matches!(b, b'$' | b'}'))
                    .map_or(bytes.len(), |offset| i + 1 + offset);
                top.text.push_str(&input[i..next]);
                i = next;
            }
        }
    }
    // Unclosed references are text: their `${` and their content, in place.
    while stack.len() > 1 {
        let Some(frame) = stack.pop() else { break };
        if let Some(parent) = stack.last_mut() {
            parent.flush();
            parent.tokens.push(Token::Text("${".to_owned()));
            parent.tokens.extend(frame.into_tokens());
        }
    }
    let tokens = stack.pop().map(Frame::into_tokens).unwrap_or_default();
    Ok(merge_text(tokens))
}

/// Joins neighbouring text tokens.
fn merge_text(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for token in tokens {
        match (out.last_mut(), token) {
            (Some(Token::Text(previous)), Token::Text(text)) => previous.push_str(&text),
            (_, token) => out.push(token),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Token {
        Token::Text(s.to_owned())
    }

    fn reference(raw: &str, parts: Vec<Token>) -> Token {
        Token::Ref(Reference {
            parts,
            raw: raw.to_owned(),
        })
    }

    #[test]
    fn plain_text_is_one_token() {
        assert_eq!(tokenize("hello").unwrap(), [text("hello")]);
        assert_eq!(tokenize("").unwrap(), []);
        assert_eq!(tokenize("a}b{c").unwrap(), [text("a}b{c")]);
        assert_eq!(tokenize("héllo ünïcode").unwrap(), [text("héllo ünïcode")]);
    }

    #[test]
    fn references_split_the_text() {
        assert_eq!(
            tokenize("http://${env:HOST}:4317").unwrap(),
            [
                text("http://"),
                reference("${env:HOST}", vec![text("env:HOST")]),
                text(":4317")
            ]
        );
        assert_eq!(
            tokenize("${A}").unwrap(),
            [reference("${A}", vec![text("A")])]
        );
        assert_eq!(tokenize("${}").unwrap(), [reference("${}", vec![])]);
    }

    #[test]
    fn references_nest() {
        assert_eq!(
            tokenize("${file:${env:DIR}/x.yaml}").unwrap(),
            [reference(
                "${file:${env:DIR}/x.yaml}",
                vec![
                    text("file:"),
                    reference("${env:DIR}", vec![text("env:DIR")]),
                    text("/x.yaml")
                ]
            )]
        );
    }

    #[test]
    fn dollar_pairs_are_one_literal_dollar_each() {
        assert_eq!(tokenize("$$").unwrap(), [text("$")]);
        assert_eq!(tokenize("$${env:X}").unwrap(), [text("${env:X}")]);
        assert_eq!(tokenize("$$$${X}").unwrap(), [text("$${X}")]);
        assert_eq!(
            tokenize("$$${X}").unwrap(),
            [text("$"), reference("${X}", vec![text("X")])]
        );
        assert_eq!(
            tokenize("$${A} ${env:B}").unwrap(),
            [text("${A} "), reference("${env:B}", vec![text("env:B")])]
        );
        assert_eq!(
            tokenize("${env:A:-pa$$word}").unwrap(),
            [reference(
                "${env:A:-pa$$word}",
                vec![text("env:A:-pa$word")]
            )]
        );
    }

    #[test]
    fn lone_dollars_and_bare_names_are_text() {
        assert_eq!(tokenize("$VAR and $").unwrap(), [text("$VAR and $")]);
        assert_eq!(tokenize("cost: 5$").unwrap(), [text("cost: 5$")]);
    }

    #[test]
    fn unclosed_references_are_text_but_closed_inner_ones_count() {
        assert_eq!(tokenize("${abc").unwrap(), [text("${abc")]);
        assert_eq!(
            tokenize("${a ${env:B} c").unwrap(),
            [
                text("${a "),
                reference("${env:B}", vec![text("env:B")]),
                text(" c")
            ]
        );
        assert_eq!(tokenize("x${").unwrap(), [text("x${")]);
    }

    #[test]
    fn nesting_is_capped() {
        let deep = format!(
            "{}x{}",
            "${".repeat(MAX_NESTING + 1),
            "}".repeat(MAX_NESTING + 1)
        );
        assert!(matches!(
            tokenize(&deep),
            Err(ExpandError::NestingTooDeep { .. })
        ));
        let ok = format!("{}x{}", "${".repeat(MAX_NESTING), "}".repeat(MAX_NESTING));
        assert!(tokenize(&ok).is_ok());
    }
}
