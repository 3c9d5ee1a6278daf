//! The built-in condition language's parser: a tokenizer and a recursive-descent parser
//! over the subset of OTTL described on [`BuiltinLanguage`](super::BuiltinLanguage).
//! Anything outside the subset is refused with the column where it starts and what was
//! expected there.

use super::condition::{Context, Expr, Literal, Operand};

/// A condition or statement outside the supported language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse {text:?} at column {column}: expected {expected}, found {found}")]
pub struct ParseError {
    /// The text parsed.
    pub text: String,
    /// Where the problem starts: 1 for the first character.
    pub column: usize,
    /// What would have been accepted there.
    pub expected: String,
    /// What was there instead.
    pub found: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    LBracket,
    RBracket,
    LParen,
    RParen,
    Dot,
    Eq,
    Ne,
    End,
    /// A character or operator the language does not have (`<`, `>=`, `+`, ...).
    Unknown(String),
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Ident(name) => format!("`{name}`"),
            Token::Str(s) => format!("the string {s:?}"),
            Token::Int(i) => format!("the number {i}"),
            Token::Float(f) => format!("the number {f}"),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::Dot => "`.`".into(),
            Token::Eq => "`==`".into(),
            Token::Ne => "`!=`".into(),
            Token::End => "the end".into(),
            Token::Unknown(s) => format!("`{s}`"),
        }
    }
}

/// Splits `source` into tokens, each with its 1-based column (in characters).
fn tokenize(source: &str) -> Result<Vec<(Token, usize)>, ParseError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '[' => Some(Token::LBracket),
            ']' => Some(Token::RBracket),
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            '.' if !chars.get(i + 1).is_some_and(char::is_ascii_digit) => Some(Token::Dot),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push((token, column));
            i += 1;
            continue;
        }
        match c {
            '=' | '!' | '<' | '>' => {
                let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
                let token = match two.as_str() {
                    "==" => Token::Eq,
                    "!=" => Token::Ne,
                    _ if two == "<=" || two == ">=" => Token::Unknown(two.clone()),
                    _ => Token::Unknown(c.to_string()),
                };
                i += match &token {
                    Token::Unknown(s) => s.chars().count(),
                    _ => 2,
                };
                tokens.push((token, column));
            }
            '"' => {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(ParseError {
                                text: source.into(),
                                column,
                                expected: "a closing `\"`".into(),
                                found: "the end".into(),
                            });
                        }
                        Some('"') => break,
                        Some('\\') => {
                            match chars.get(j + 1) {
                                Some(escaped @ ('"' | '\\')) => value.push(*escaped),
                                Some('n') => value.push('\n'),
                                Some('t') => value.push('\t'),
                                other => {
                                    return Err(ParseError {
                                        text: source.into(),
                                        column: j + 1,
                                        expected: "an escape `\\\"`, `\\\\`, `\\n` or `\\t`".into(),
                                        found: other
                                            .map_or("the end".into(), |c| format!("`\\{c}`")),
                                    });
                                }
                            }
                            j += 2;
                        }
                        Some(other) => {
                            value.push(*other);
                            j += 1;
                        }
                    }
                }
                tokens.push((Token::Str(value), column));
                i = j + 1;
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let token = if text.contains('.') {
                    text.parse().map(Token::Float).ok()
                } else {
                    text.parse().map(Token::Int).ok()
                };
                let Some(token) = token else {
                    return Err(ParseError {
                        text: source.into(),
                        column,
                        expected: "a number".into(),
                        found: format!("`{text}`"),
                    });
                };
                tokens.push((token, column));
                i = j;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                tokens.push((Token::Ident(chars[i..j].iter().collect()), column));
                i = j;
            }
            other => {
                tokens.push((Token::Unknown(other.to_string()), column));
                i += 1;
            }
        }
    }
    tokens.push((Token::End, chars.len() + 1));
    Ok(tokens)
}

struct Parser<'a> {
    source: &'a str,
    context: Context,
    tokens: Vec<(Token, usize)>,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at].0
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.at].0.clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn error(&self, expected: impl Into<String>) -> ParseError {
        let (token, column) = &self.tokens[self.at];
        ParseError {
            text: self.source.into(),
            column: *column,
            expected: expected.into(),
            found: token.describe(),
        }
    }

    fn expect(&mut self, token: Token, expected: &str) -> Result<(), ParseError> {
        if *self.peek() == token {
            self.next();
            Ok(())
        } else {
            Err(self.error(expected))
        }
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Token::Ident(name) if name == word)
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            self.next();
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.keyword("not") {
            self.next();
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        if *self.peek() == Token::LParen {
            self.next();
            let inner = self.or()?;
            self.expect(Token::RParen, "`)`, `and` or `or`")?;
            return Ok(inner);
        }
        let left = self.operand()?;
        let equal = match self.peek() {
            Token::Eq => true,
            Token::Ne => false,
            _ => {
                // A lone boolean literal is a condition by itself.
                if let Operand::Literal(Literal::Bool(value)) = left {
                    return Ok(Expr::Literal(value));
                }
                return Err(self.error("`==` or `!=`"));
            }
        };
        self.next();
        let right = self.operand()?;
        Ok(Expr::Compare { left, equal, right })
    }

    /// `["key"]` after a map path.
    fn key(&mut self) -> Result<String, ParseError> {
        self.expect(Token::LBracket, "`[` and a key in quotes")?;
        let Token::Str(key) = self.peek().clone() else {
            return Err(self.error("a key in quotes"));
        };
        self.next();
        self.expect(Token::RBracket, "`]`")?;
        Ok(key)
    }

    fn paths(&self) -> &'static str {
        match self.context {
            Context::Resource => {
                "`attributes[\"...\"]`, `resource.attributes[\"...\"]` or a literal"
            }
            Context::Span => {
                "`attributes[\"...\"]`, `resource.attributes[\"...\"]`, `name` or a literal"
            }
            Context::Metric => "`resource.attributes[\"...\"]`, `name` or a literal",
            Context::Datapoint | Context::Log => {
                "`attributes[\"...\"]`, `resource.attributes[\"...\"]` or a literal"
            }
            Context::Request => "`request[\"...\"]` or a literal",
        }
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let context = self.context;
        let operand = match self.peek().clone() {
            Token::Str(s) => Operand::Literal(Literal::String(s)),
            Token::Int(i) => Operand::Literal(Literal::Int(i)),
            Token::Float(f) => Operand::Literal(Literal::Float(f)),
            Token::Ident(word) => match word.as_str() {
                "true" => Operand::Literal(Literal::Bool(true)),
                "false" => Operand::Literal(Literal::Bool(false)),
                "nil" => Operand::Literal(Literal::Nil),
                "attributes" if !matches!(context, Context::Metric | Context::Request) => {
                    self.next();
                    return Ok(Operand::Attribute(self.key()?));
                }
                "name" if matches!(context, Context::Span | Context::Metric) => Operand::Name,
                "request" if context == Context::Request => {
                    self.next();
                    return Ok(Operand::Request(self.key()?));
                }
                "resource" if context != Context::Request => {
                    self.next();
                    self.expect(Token::Dot, "`.attributes[\"...\"]`")?;
                    if !self.keyword("attributes") {
                        return Err(
                            self.error("`attributes` (the subset reads only resource attributes)")
                        );
                    }
                    self.next();
                    return Ok(Operand::ResourceAttribute(self.key()?));
                }
                _ => return Err(self.error(self.paths())),
            },
            _ => return Err(self.error(self.paths())),
        };
        self.next();
        Ok(operand)
    }

    fn end(&self) -> Result<(), ParseError> {
        if *self.peek() == Token::End {
            Ok(())
        } else {
            Err(self.error("`and`, `or` or the end"))
        }
    }
}

fn parser(context: Context, source: &str) -> Result<Parser<'_>, ParseError> {
    Ok(Parser {
        source,
        context,
        tokens: tokenize(source)?,
        at: 0,
    })
}

/// Parses a condition for items of `context`.
pub(super) fn parse_condition(context: Context, source: &str) -> Result<Expr, ParseError> {
    let mut parser = parser(context, source)?;
    let expr = parser.or()?;
    parser.end()?;
    Ok(expr)
}

/// Parses a statement `route() where <condition>` (or `route()`, which always matches).
pub(super) fn parse_statement(context: Context, source: &str) -> Result<Expr, ParseError> {
    let mut parser = parser(context, source)?;
    if !parser.keyword("route") {
        return Err(parser.error("`route()`, the only function of routing statements"));
    }
    parser.next();
    parser.expect(Token::LParen, "`(`")?;
    parser.expect(Token::RParen, "`)`: route() takes no arguments")?;
    if *parser.peek() == Token::End {
        return Ok(Expr::Literal(true));
    }
    if !parser.keyword("where") {
        return Err(parser.error("`where` or the end"));
    }
    parser.next();
    let expr = parser.or()?;
    parser.end()?;
    Ok(expr)
}
