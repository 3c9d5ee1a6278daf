//! The subset of Go's `expr` language that operator conditions use (`if`, `filter`'s
//! `expr`, `router` routes, `recombine`'s `is_first_entry`/`is_last_entry`).
//!
//! Supported: field paths (`body`, `body.a`, `attributes["k8s.pod.name"]`, `resource.x`,
//! `timestamp`), string/number/bool literals, `nil`, list literals (`["a", "b"]`),
//! `+` (strings concatenated, numbers added), `==`, `!=`, `<`, `<=`, `>`, `>=`,
//! `matches`, `contains`, `startsWith`, `endsWith`, `in`, `not in`, `and`/`&&`,
//! `or`/`||`, `not`/`!`, parentheses and `env("NAME")` (also in `add`'s `EXPR(...)`).
//! An expression is parsed once, when the pipeline is built; anything else (other
//! arithmetic, function calls other than `env`, the `?:` operator, closures) is refused
//! then with its position. A `matches` pattern must be a string literal, compiled once.
//! A missing field is `nil`; a condition holds only when it evaluates to `true`.

use regex::Regex;

use super::entry::Entry;
use super::field::{Field, Root};
use super::value::Value;

/// The most nested parentheses, lists and `not`s an expression may have: deeper input
/// would only exhaust the stack.
const MAX_DEPTH: usize = 64;

/// The most terms one `and`/`or` chain may have: evaluation recurses once per term.
const MAX_TERMS: usize = 256;
/// The most values (literals, fields, calls) one expression may have, which bounds the
/// depth of evaluation whatever the shape of the expression.
const MAX_VALUES: usize = 1024;

/// A parsed expression.
#[derive(Clone, Debug)]
pub struct Expr {
    node: Node,
    source: String,
}

/// Why an expression could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expression `{expression}`: {message} at position {position}")]
pub struct ExprError {
    /// The expression as written.
    pub expression: String,
    /// Byte offset of the problem.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Clone, Debug)]
enum Node {
    Literal(Value),
    List(Vec<Node>),
    Field(Field),
    Timestamp,
    Env(String),
    Not(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Compare(Cmp, Box<Node>, Box<Node>),
    Plus(Box<Node>, Box<Node>),
    Matches(Box<Node>, Regex),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    StartsWith,
    EndsWith,
    In,
    NotIn,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Str(String),
    Int(i64),
    Float(f64),
    Ident(String),
    Op(&'static str),
}

impl Expr {
    /// Parses `source`.
    pub fn parse(source: &str) -> Result<Expr, ExprError> {
        let tokens = tokenize(source)?;
        let mut parser = Parser {
            source,
            tokens,
            next: 0,
            depth: 0,
            values: 0,
        };
        let node = parser.or()?;
        if let Some((position, token)) = parser.tokens.get(parser.next) {
            return Err(parser.error(*position, format!("unexpected {}", describe(token))));
        }
        Ok(Expr {
            node,
            source: source.to_string(),
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression on `entry`.
    pub fn evaluate(&self, entry: &Entry) -> Value {
        eval(&self.node, entry)
    }

    /// Whether the expression holds for `entry` (anything but `true` does not).
    pub fn matches(&self, entry: &Entry) -> bool {
        matches!(self.evaluate(entry), Value::Bool(true))
    }
}

fn tokenize(source: &str) -> Result<Vec<(usize, Token)>, ExprError> {
    let error = |position: usize, message: &str| ExprError {
        expression: source.to_string(),
        position,
        message: message.to_string(),
    };
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'"' || c == b'\'' || c == b'`' {
            let mut text = String::new();
            i += 1;
            loop {
                let Some(ch) = source[i..].chars().next() else {
                    return Err(error(start, "unterminated string"));
                };
                i += ch.len_utf8();
                if ch as u32 == u32::from(c) {
                    break;
                }
                if ch == '\\' && c != b'`' {
                    let Some(escaped) = source[i..].chars().next() else {
                        return Err(error(start, "unterminated string"));
                    };
                    i += escaped.len_utf8();
                    text.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        '\\' | '"' | '\'' => escaped,
                        _ => return Err(error(i - escaped.len_utf8() - 1, "unknown escape")),
                    });
                } else {
                    text.push(ch);
                }
            }
            tokens.push((start, Token::Str(text)));
            continue;
        }
        if c.is_ascii_digit() {
            while i < bytes.len()
                && (bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'_')
            {
                i += 1;
            }
            let text = source[start..i].replace('_', "");
            let token = if text.contains('.') {
                Token::Float(text.parse().map_err(|_| error(start, "invalid number"))?)
            } else {
                Token::Int(text.parse().map_err(|_| error(start, "invalid number"))?)
            };
            tokens.push((start, token));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
            {
                i += 1;
            }
            tokens.push((start, Token::Ident(source[start..i].to_string())));
            continue;
        }
        const OPS: [&str; 17] = [
            "==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "(", ")", "[", "]", ",", ".", "-",
            "+",
        ];
        match OPS.iter().find(|op| source[i..].starts_with(**op)) {
            Some(op) => {
                tokens.push((start, Token::Op(op)));
                i += op.len();
            }
            None => {
                let ch = source[i..].chars().next().unwrap_or('?');
                return Err(error(start, &format!("unsupported character `{ch}`")));
            }
        }
    }
    Ok(tokens)
}

fn describe(token: &Token) -> String {
    match token {
        Token::Str(s) => format!("string {s:?}"),
        Token::Int(i) => format!("number {i}"),
        Token::Float(f) => format!("number {f}"),
        Token::Ident(name) => format!("`{name}`"),
        Token::Op(op) => format!("`{op}`"),
    }
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<(usize, Token)>,
    next: usize,
    depth: usize,
    values: usize,
}

impl Parser<'_> {
    fn error(&self, position: usize, message: String) -> ExprError {
        ExprError {
            expression: self.source.to_string(),
            position,
            message,
        }
    }

    fn position(&self) -> usize {
        self.tokens
            .get(self.next)
            .map_or(self.source.len(), |(p, _)| *p)
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn peek_at(&self, offset: usize) -> Option<&Token> {
        self.tokens.get(self.next + offset).map(|(_, t)| t)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Token::Op(o)) if *o == op) {
            self.next += 1;
            return true;
        }
        false
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(name)) if name == word) {
            self.next += 1;
            return true;
        }
        false
    }

    fn expect_op(&mut self, op: &'static str) -> Result<(), ExprError> {
        if self.eat_op(op) {
            return Ok(());
        }
        let found = self.peek().map_or("the end".to_string(), describe);
        Err(self.error(self.position(), format!("expected `{op}`, found {found}")))
    }

    fn deeper(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(self.position(), "expression nested too deeply".into()));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut left = self.and()?;
        let mut terms = 1;
        while self.eat_op("||") || self.eat_word("or") {
            terms += 1;
            if terms > MAX_TERMS {
                return Err(self.error(self.position(), "too many `or` terms".into()));
            }
            let right = self.and()?;
            left = Node::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut left = self.not()?;
        let mut terms = 1;
        while self.eat_op("&&") || self.eat_word("and") {
            terms += 1;
            if terms > MAX_TERMS {
                return Err(self.error(self.position(), "too many `and` terms".into()));
            }
            let right = self.not()?;
            left = Node::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if self.eat_op("!") || self.eat_word("not") {
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Node::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Node, ExprError> {
        let left = self.sum()?;
        let position = self.position();
        let cmp = match self.peek() {
            Some(Token::Op("==")) => Cmp::Eq,
            Some(Token::Op("!=")) => Cmp::Ne,
            Some(Token::Op("<")) => Cmp::Lt,
            Some(Token::Op("<=")) => Cmp::Le,
            Some(Token::Op(">")) => Cmp::Gt,
            Some(Token::Op(">=")) => Cmp::Ge,
            Some(Token::Ident(word)) => match word.as_str() {
                "contains" => Cmp::Contains,
                "startsWith" => Cmp::StartsWith,
                "endsWith" => Cmp::EndsWith,
                "in" => Cmp::In,
                "not" if matches!(self.peek_at(1), Some(Token::Ident(w)) if w == "in") => {
                    self.next += 1;
                    Cmp::NotIn
                }
                "matches" => {
                    self.next += 1;
                    let pattern_at = self.position();
                    return match self.primary()? {
                        Node::Literal(Value::String(pattern)) => match Regex::new(&pattern) {
                            Ok(regex) => Ok(Node::Matches(Box::new(left), regex)),
                            Err(e) => Err(self.error(pattern_at, format!("invalid regex: {e}"))),
                        },
                        _ => Err(self.error(
                            pattern_at,
                            "`matches` needs a string literal pattern".into(),
                        )),
                    };
                }
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        self.next += 1;
        let right = self.sum()?;
        if matches!(
            self.peek(),
            Some(Token::Op("==" | "!=" | "<" | "<=" | ">" | ">="))
        ) {
            return Err(self.error(position, "comparisons cannot be chained".into()));
        }
        Ok(Node::Compare(cmp, Box::new(left), Box::new(right)))
    }

    /// `a + b + …`: string concatenation or number addition.
    fn sum(&mut self) -> Result<Node, ExprError> {
        let mut left = self.primary()?;
        while self.eat_op("+") {
            let right = self.primary()?;
            left = Node::Plus(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        let position = self.position();
        self.values += 1;
        if self.values > MAX_VALUES {
            return Err(self.error(position, "expression too long".into()));
        }
        let Some(token) = self.peek().cloned() else {
            return Err(self.error(position, "unexpected end of expression".into()));
        };
        self.next += 1;
        match token {
            Token::Str(s) => Ok(Node::Literal(Value::String(s))),
            Token::Int(i) => Ok(Node::Literal(Value::Int(i))),
            Token::Float(f) => Ok(Node::Literal(Value::Double(f))),
            Token::Op("-") => match self.peek().cloned() {
                Some(Token::Int(i)) => {
                    self.next += 1;
                    Ok(Node::Literal(Value::Int(-i)))
                }
                Some(Token::Float(f)) => {
                    self.next += 1;
                    Ok(Node::Literal(Value::Double(-f)))
                }
                _ => Err(self.error(position, "only `+` arithmetic is supported".into())),
            },
            Token::Op("(") => {
                self.deeper()?;
                let inner = self.or()?;
                self.expect_op(")")?;
                self.depth -= 1;
                Ok(inner)
            }
            Token::Op("[") => {
                self.deeper()?;
                let mut items = Vec::new();
                if !self.eat_op("]") {
                    loop {
                        items.push(self.or()?);
                        if self.eat_op("]") {
                            break;
                        }
                        self.expect_op(",")?;
                    }
                }
                self.depth -= 1;
                Ok(Node::List(items))
            }
            Token::Ident(name) => match name.as_str() {
                "true" => Ok(Node::Literal(Value::Bool(true))),
                "false" => Ok(Node::Literal(Value::Bool(false))),
                "nil" => Ok(Node::Literal(Value::Null)),
                "timestamp" => Ok(Node::Timestamp),
                "env" => {
                    self.expect_op("(")?;
                    let at = self.position();
                    let Some(Token::Str(variable)) = self.peek().cloned() else {
                        return Err(self.error(at, "env() takes one string literal".into()));
                    };
                    self.next += 1;
                    self.expect_op(")")?;
                    Ok(Node::Env(variable))
                }
                "body" | "attributes" | "resource" => self.path(name),
                other => Err(self.error(
                    position,
                    format!(
                        "`{other}` is not supported; expressions use body, attributes, resource, \
                         timestamp, literals, comparisons, matches/contains/startsWith/endsWith/in, \
                         and/or/not and env()"
                    ),
                )),
            },
            other => Err(self.error(position, format!("unexpected {}", describe(&other)))),
        }
    }

    fn path(&mut self, root: String) -> Result<Node, ExprError> {
        let root = match root.as_str() {
            "body" => Root::Body,
            "attributes" => Root::Attributes,
            _ => Root::Resource,
        };
        let mut keys = Vec::new();
        loop {
            if self.eat_op(".") {
                match self.peek().cloned() {
                    Some(Token::Ident(key)) => {
                        self.next += 1;
                        keys.push(key);
                    }
                    _ => return Err(self.error(self.position(), "expected a key after `.`".into())),
                }
            } else if self.peek() == Some(&Token::Op("[")) {
                match self.peek_at(1).cloned() {
                    Some(Token::Str(key)) if self.peek_at(2) == Some(&Token::Op("]")) => {
                        self.next += 3;
                        keys.push(key);
                    }
                    _ => {
                        return Err(self.error(
                            self.position(),
                            "a key in brackets must be a string literal".into(),
                        ));
                    }
                }
            } else {
                break;
            }
        }
        Ok(Node::Field(Field { root, keys }))
    }
}

fn eval(node: &Node, entry: &Entry) -> Value {
    match node {
        Node::Literal(value) => value.clone(),
        Node::List(items) => Value::Array(items.iter().map(|n| eval(n, entry)).collect()),
        Node::Field(field) => field.get(entry).cloned().unwrap_or(Value::Null),
        Node::Timestamp => Value::Int(entry.timestamp),
        Node::Env(name) => std::env::var(name).map_or(Value::String(String::new()), Value::String),
        Node::Not(inner) => match eval(inner, entry) {
            Value::Bool(b) => Value::Bool(!b),
            _ => Value::Null,
        },
        Node::And(left, right) => match eval(left, entry) {
            Value::Bool(true) => Value::Bool(matches!(eval(right, entry), Value::Bool(true))),
            _ => Value::Bool(false),
        },
        Node::Or(left, right) => match eval(left, entry) {
            Value::Bool(true) => Value::Bool(true),
            _ => Value::Bool(matches!(eval(right, entry), Value::Bool(true))),
        },
        Node::Matches(left, regex) => match eval(left, entry) {
            Value::String(s) => Value::Bool(regex.is_match(&s)),
            _ => Value::Bool(false),
        },
        Node::Plus(left, right) => match (eval(left, entry), eval(right, entry)) {
            (Value::String(a), Value::String(b)) => Value::String(a + &b),
            (Value::Int(a), Value::Int(b)) => a.checked_add(b).map_or(Value::Null, Value::Int),
            (a, b) => match (number(&a), number(&b)) {
                (Some(a), Some(b)) => Value::Double(a + b),
                _ => Value::Null,
            },
        },
        Node::Compare(cmp, left, right) => {
            let (left, right) = (eval(left, entry), eval(right, entry));
            Value::Bool(compare(*cmp, &left, &right))
        }
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

fn equal(left: &Value, right: &Value) -> bool {
    match (number(left), number(right)) {
        (Some(a), Some(b)) => a == b,
        _ => left == right,
    }
}

fn compare(cmp: Cmp, left: &Value, right: &Value) -> bool {
    use std::cmp::Ordering;
    let order = || -> Option<Ordering> {
        match (left, right) {
            (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
            _ => number(left)?.partial_cmp(&number(right)?),
        }
    };
    let text = |v: &Value| v.as_str().map(str::to_string);
    match cmp {
        Cmp::Eq => equal(left, right),
        Cmp::Ne => !equal(left, right),
        Cmp::Lt => order() == Some(Ordering::Less),
        Cmp::Le => matches!(order(), Some(Ordering::Less | Ordering::Equal)),
        Cmp::Gt => order() == Some(Ordering::Greater),
        Cmp::Ge => matches!(order(), Some(Ordering::Greater | Ordering::Equal)),
        Cmp::Contains => matches!((text(left), text(right)), (Some(a), Some(b)) if a.contains(&b)),
        Cmp::StartsWith => {
            matches!((text(left), text(right)), (Some(a), Some(b)) if a.starts_with(&b))
        }
        Cmp::EndsWith => matches!((text(left), text(right)), (Some(a), Some(b)) if a.ends_with(&b)),
        Cmp::In | Cmp::NotIn => {
            let found = match right {
                Value::Array(items) => items.iter().any(|item| equal(left, item)),
                Value::Map(map) => left.as_str().is_some_and(|k| map.contains_key(k)),
                _ => false,
            };
            found == (cmp == Cmp::In)
        }
    }
}
