//! A hand-written lexer and recursive-descent parser for OTTL.
//!
//! Hand-written rather than generated (pest, nom, chumsky): the grammar is small, and a
//! hand-written parser gives exact byte positions and "expected X" messages without a
//! grammar-crate dependency and its error types leaking into ours.

use std::fmt;

use crate::ast::*;
use crate::enums;
use crate::value::Value;

/// A parse error: which statement, where (byte offset), and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The statement text.
    pub statement: String,
    /// Byte offset of the problem.
    pub pos: usize,
    /// What was expected, and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unable to parse OTTL statement {:?}: at byte {}: {}",
            self.statement, self.pos, self.message
        )
    }
}

impl std::error::Error for ParseError {}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    LParen,
    RParen,
    LBrack,
    RBrack,
    LBrace,
    RBrace,
    Comma,
    Dot,
    Colon,
    Assign,
    Cmp(CompareOp),
    Math(MathOp),
    End,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(s) => format!("{s:?}"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Int(i) => format!("int {i}"),
        Tok::Float(f) => format!("float {f}"),
        Tok::Bytes(_) => "bytes".into(),
        Tok::End => "end of statement".into(),
        other => format!("{:?}", other).to_lowercase(),
    }
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, (usize, String)> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'[' => Some(Tok::LBrack),
            b']' => Some(Tok::RBrack),
            b'{' => Some(Tok::LBrace),
            b'}' => Some(Tok::RBrace),
            b',' => Some(Tok::Comma),
            b':' => Some(Tok::Colon),
            b'+' => Some(Tok::Math(MathOp::Add)),
            b'*' => Some(Tok::Math(MathOp::Mul)),
            b'/' => Some(Tok::Math(MathOp::Div)),
            _ => None,
        };
        if let Some(tok) = single {
            out.push((tok, start));
            i += 1;
            continue;
        }
        let next = bytes.get(i + 1).copied();
        match c {
            b'=' if next == Some(b'=') => {
                out.push((Tok::Cmp(CompareOp::Eq), start));
                i += 2;
            }
            b'=' => {
                out.push((Tok::Assign, start));
                i += 1;
            }
            b'!' if next == Some(b'=') => {
                out.push((Tok::Cmp(CompareOp::Ne), start));
                i += 2;
            }
            b'<' | b'>' => {
                let eq = next == Some(b'=');
                let op = match (c, eq) {
                    (b'<', false) => CompareOp::Lt,
                    (b'<', true) => CompareOp::Le,
                    (_, false) => CompareOp::Gt,
                    (_, true) => CompareOp::Ge,
                };
                out.push((Tok::Cmp(op), start));
                i += if eq { 2 } else { 1 };
            }
            b'"' => {
                i += 1;
                let mut s = String::new();
                loop {
                    let Some(&b) = bytes.get(i) else {
                        return Err((start, "unterminated string".into()));
                    };
                    match b {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\\' => {
                            let Some(&e) = bytes.get(i + 1) else {
                                return Err((i, "unterminated escape".into()));
                            };
                            // Go's grammar keeps escapes as strconv.Unquote does.
                            match e {
                                b'"' => s.push('"'),
                                b'\\' => s.push('\\'),
                                b'n' => s.push('\n'),
                                b't' => s.push('\t'),
                                b'r' => s.push('\r'),
                                b'/' => s.push('/'),
                                b'.' | b'd' | b's' | b'w' | b'[' | b']' | b'(' | b')' | b'*'
                                | b'+' | b'?' | b'|' | b'^' | b'$' | b'{' | b'}' => {
                                    // Regex escapes written with one backslash stay as
                                    // they are, as users of the Go collector write them.
                                    s.push('\\');
                                    s.push(e as char);
                                }
                                _ => return Err((i, format!("unknown escape \\{}", e as char))),
                            }
                            i += 2;
                        }
                        _ => {
                            let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push((Tok::Str(s), start));
            }
            b'0' if matches!(next, Some(b'x') | Some(b'X')) => {
                i += 2;
                let hs = i;
                while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
                    i += 1;
                }
                let digits = &src[hs..i];
                if digits.is_empty() || !digits.len().is_multiple_of(2) {
                    return Err((
                        start,
                        "bytes literal needs an even number of hex digits".into(),
                    ));
                }
                let b = (0..digits.len())
                    .step_by(2)
                    .map(|k| u8::from_str_radix(&digits[k..k + 2], 16).unwrap_or(0))
                    .collect();
                out.push((Tok::Bytes(b), start));
            }
            b'-' if next.is_some_and(|n| n.is_ascii_digit())
                && !matches!(
                    out.last(),
                    Some((
                        Tok::Ident(_)
                            | Tok::Int(_)
                            | Tok::Float(_)
                            | Tok::Str(_)
                            | Tok::RParen
                            | Tok::RBrack,
                        _
                    ))
                ) =>
            {
                // A negative literal where an operand is expected.
                i += 1;
                let (tok, end) = number(src, i, true).map_err(|m| (start, m))?;
                out.push((tok, start));
                i = end;
            }
            b'-' => {
                out.push((Tok::Math(MathOp::Sub), start));
                i += 1;
            }
            b'0'..=b'9' | b'.' if c != b'.' || next.is_some_and(|n| n.is_ascii_digit()) => {
                let (tok, end) = number(src, i, false).map_err(|m| (start, m))?;
                out.push((tok, start));
                i = end;
            }
            b'.' => {
                out.push((Tok::Dot, start));
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((Tok::Ident(src[start..i].to_string()), start));
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err((start, format!("unexpected character {ch:?}")));
            }
        }
    }
    out.push((Tok::End, src.len()));
    Ok(out)
}

fn number(src: &str, mut i: usize, negative: bool) -> Result<(Tok, usize), String> {
    let bytes = src.as_bytes();
    let start = i;
    let mut float = false;
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
        float |= bytes[i] == b'.';
        i += 1;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        float = true;
        i += 1;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            i += 1;
        }
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    let text = &src[start..i];
    let sign = if negative { "-" } else { "" };
    let tok = if float {
        Tok::Float(
            format!("{sign}{text}")
                .parse()
                .map_err(|_| format!("invalid float {text:?}"))?,
        )
    } else {
        Tok::Int(
            format!("{sign}{text}")
                .parse()
                .map_err(|_| format!("integer {sign}{text} out of range"))?,
        )
    };
    Ok((tok, i))
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<(Tok, usize)>,
    at: usize,
    /// Expressions and conditions open at this point: bounded by [`MAX_NESTING`].
    depth: usize,
}

/// The deepest nesting of expressions and conditions (parentheses, lists, maps, calls)
/// a statement may have: a statement nested deeper is refused, not parsed into a stack
/// overflow.
const MAX_NESTING: usize = 64;

type PResult<T> = Result<T, (usize, String)>;

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }
    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.at + n).min(self.toks.len() - 1)].0
    }
    fn pos(&self) -> usize {
        self.toks[self.at].1
    }
    fn bump(&mut self) -> Tok {
        let tok = self.toks[self.at].0.clone();
        if self.at < self.toks.len() - 1 {
            self.at += 1;
        }
        tok
    }
    fn fail<T>(&self, expected: &str) -> PResult<T> {
        Err((
            self.pos(),
            format!("expected {expected}, found {}", describe(self.peek())),
        ))
    }
    fn expect(&mut self, tok: Tok, what: &str) -> PResult<()> {
        if *self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            self.fail(what)
        }
    }

    fn statement(&mut self) -> PResult<Statement> {
        let pos = self.pos();
        let name = match self.peek().clone() {
            Tok::Ident(name) if name.starts_with(|c: char| c.is_ascii_lowercase()) => name,
            Tok::Ident(name) => {
                return Err((
                    pos,
                    format!("editor names start lower-case: {name:?} is a converter"),
                ));
            }
            _ => return self.fail("an editor call"),
        };
        self.bump();
        let editor = self.call_rest(name, pos)?;
        if !editor.keys.is_empty() {
            return Err((pos, "an editor's result cannot be indexed".into()));
        }
        let condition = match self.peek() {
            Tok::Ident(w) if w == "where" => {
                self.bump();
                Some(self.bool_expr()?)
            }
            Tok::End => None,
            _ => return self.fail("\"where\" or end of statement"),
        };
        self.expect(Tok::End, "end of statement")?;
        Ok(Statement { editor, condition })
    }

    fn call_rest(&mut self, name: String, pos: usize) -> PResult<Call> {
        self.expect(Tok::LParen, "\"(\"")?;
        let mut args = Vec::new();
        if *self.peek() != Tok::RParen {
            loop {
                let named = match (self.peek(), self.peek_at(1)) {
                    (Tok::Ident(n), Tok::Assign) => Some(n.clone()),
                    _ => None,
                };
                if named.is_some() {
                    self.bump();
                    self.bump();
                } else if args.iter().any(|a: &Arg| a.name.is_some()) {
                    return Err((self.pos(), "positional argument after a named one".into()));
                }
                let value = self.expr()?;
                args.push(Arg { name: named, value });
                match self.peek() {
                    Tok::Comma => {
                        self.bump();
                    }
                    Tok::RParen => break,
                    _ => return self.fail("\",\" or \")\""),
                }
            }
        }
        self.expect(Tok::RParen, "\")\"")?;
        let keys = self.keys()?;
        Ok(Call {
            name,
            args,
            keys,
            pos,
        })
    }

    fn keys(&mut self) -> PResult<Vec<Key>> {
        let mut keys = Vec::new();
        while *self.peek() == Tok::LBrack {
            self.bump();
            let key = match self.peek().clone() {
                Tok::Str(s) if *self.peek_at(1) == Tok::RBrack => {
                    self.bump();
                    Key::String(s)
                }
                Tok::Int(i) if *self.peek_at(1) == Tok::RBrack => {
                    self.bump();
                    Key::Int(i)
                }
                _ => Key::Expr(Box::new(self.expr()?)),
            };
            self.expect(Tok::RBrack, "\"]\"")?;
            keys.push(key);
        }
        Ok(keys)
    }

    /// Opens one nesting level (closed by the caller whatever the outcome).
    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_NESTING {
            return Err((
                self.pos(),
                format!("nesting deeper than {MAX_NESTING} levels"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn bool_expr(&mut self) -> PResult<BoolExpr> {
        self.enter()?;
        let result = self.bool_expr_unnested();
        self.depth -= 1;
        result
    }

    fn bool_expr_unnested(&mut self) -> PResult<BoolExpr> {
        let mut terms = vec![self.and_expr()?];
        while matches!(self.peek(), Tok::Ident(w) if w == "or") {
            self.bump();
            terms.push(self.and_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap()
        } else {
            BoolExpr::Or(terms)
        })
    }

    fn and_expr(&mut self) -> PResult<BoolExpr> {
        let mut terms = vec![self.not_expr()?];
        while matches!(self.peek(), Tok::Ident(w) if w == "and") {
            self.bump();
            terms.push(self.not_expr()?);
        }
        Ok(if terms.len() == 1 {
            terms.pop().unwrap()
        } else {
            BoolExpr::And(terms)
        })
    }

    fn not_expr(&mut self) -> PResult<BoolExpr> {
        if matches!(self.peek(), Tok::Ident(w) if w == "not") {
            self.bump();
            self.enter()?;
            let inner = self.not_expr();
            self.depth -= 1;
            return Ok(BoolExpr::Not(Box::new(inner?)));
        }
        if *self.peek() == Tok::LParen {
            // `(` opens either a grouped condition or a math expression: try the
            // condition and keep it unless an operator follows the `)`.
            let save = self.at;
            if let Ok(inner) = self.bool_expr_in_parens()
                && !matches!(self.peek(), Tok::Cmp(_) | Tok::Math(_))
            {
                return Ok(inner);
            }
            self.at = save;
        }
        let left = self.expr()?;
        if let Tok::Cmp(op) = *self.peek() {
            self.bump();
            let right = self.expr()?;
            return Ok(BoolExpr::Compare(left, op, right));
        }
        Ok(BoolExpr::Value(left))
    }

    fn bool_expr_in_parens(&mut self) -> PResult<BoolExpr> {
        self.expect(Tok::LParen, "\"(\"")?;
        let inner = self.bool_expr()?;
        self.expect(Tok::RParen, "\")\"")?;
        Ok(inner)
    }

    fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let result = self.expr_unnested();
        self.depth -= 1;
        result
    }

    fn expr_unnested(&mut self) -> PResult<Expr> {
        let mut left = self.term()?;
        while let Tok::Math(op @ (MathOp::Add | MathOp::Sub)) = *self.peek() {
            self.bump();
            let right = self.term()?;
            left = Expr::Math(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> PResult<Expr> {
        let mut left = self.factor()?;
        while let Tok::Math(op @ (MathOp::Mul | MathOp::Div)) = *self.peek() {
            self.bump();
            let right = self.factor()?;
            left = Expr::Math(Box::new(left), op, Box::new(right));
        }
        Ok(left)
    }

    fn factor(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(Expr::Literal(Value::Str(s)))
            }
            Tok::Int(i) => {
                self.bump();
                Ok(Expr::Literal(Value::Int(i)))
            }
            Tok::Float(f) => {
                self.bump();
                Ok(Expr::Literal(Value::Float(f)))
            }
            Tok::Bytes(b) => {
                self.bump();
                Ok(Expr::Literal(Value::Bytes(b)))
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expr()?;
                self.expect(Tok::RParen, "\")\"")?;
                Ok(inner)
            }
            Tok::LBrace => {
                self.bump();
                let mut entries = Vec::new();
                while *self.peek() != Tok::RBrace {
                    let Tok::Str(key) = self.peek().clone() else {
                        return self.fail("a string map key");
                    };
                    self.bump();
                    self.expect(Tok::Colon, "\":\"")?;
                    entries.push((key, self.expr()?));
                    if *self.peek() == Tok::Comma {
                        self.bump();
                    } else if *self.peek() != Tok::RBrace {
                        return self.fail("\",\" or \"}\"");
                    }
                }
                self.bump();
                Ok(Expr::Map(entries))
            }
            Tok::LBrack => {
                self.bump();
                let mut items = Vec::new();
                while *self.peek() != Tok::RBrack {
                    items.push(self.expr()?);
                    if *self.peek() == Tok::Comma {
                        self.bump();
                    } else if *self.peek() != Tok::RBrack {
                        return self.fail("\",\" or \"]\"");
                    }
                }
                self.bump();
                Ok(Expr::List(items))
            }
            Tok::Ident(name) => {
                self.bump();
                match name.as_str() {
                    "true" => return Ok(Expr::Literal(Value::Bool(true))),
                    "false" => return Ok(Expr::Literal(Value::Bool(false))),
                    "nil" => return Ok(Expr::Literal(Value::Nil)),
                    _ => {}
                }
                if *self.peek() == Tok::LParen {
                    if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
                        return Err((
                            pos,
                            format!(
                                "converter names start upper-case: {name:?} is an editor, and editors cannot be used as values"
                            ),
                        ));
                    }
                    return Ok(Expr::Converter(self.call_rest(name, pos)?));
                }
                // An upper-case name alone is an enum symbol or, as the `function` argument
                // of the replace_* editors, a converter's name; the compiler refuses the
                // latter anywhere else (and an unknown enum symbol with it).
                if name.starts_with(|c: char| c.is_ascii_uppercase())
                    && *self.peek() != Tok::Dot
                    && *self.peek() != Tok::LBrack
                {
                    return Ok(match enums::lookup(&name) {
                        Some(v) => Expr::Enum(name, v),
                        None => Expr::FunctionName(name, pos),
                    });
                }
                let mut fields = vec![name];
                while *self.peek() == Tok::Dot {
                    self.bump();
                    match self.bump() {
                        Tok::Ident(f) => fields.push(f),
                        _ => {
                            self.at -= 1;
                            return self.fail("a field name after \".\"");
                        }
                    }
                }
                let keys = self.keys()?;
                Ok(Expr::Path(Path { fields, keys, pos }))
            }
            _ => self.fail("a value (literal, path, converter, map or list)"),
        }
    }
}

/// Whether `name` is spelled as an enum symbol (`SPAN_KIND_SERVER`: capitals, digits, `_`).
pub(crate) fn is_enum_name(name: &str) -> bool {
    name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name.starts_with(|c: char| c.is_ascii_uppercase())
}

fn error(src: &str, (pos, message): (usize, String)) -> ParseError {
    ParseError {
        statement: src.to_string(),
        pos,
        message,
    }
}

/// Parses one statement, `editor(args) [where condition]`.
///
/// ```
/// let statement = tributary_ottl::parse_statement(r#"set(attributes["x"], "y") where name == "a""#).unwrap();
/// assert_eq!(statement.editor.name, "set");
/// ```
pub fn parse_statement(src: &str) -> Result<Statement, ParseError> {
    let toks = lex(src).map_err(|e| error(src, e))?;
    let mut parser = Parser {
        src,
        toks,
        at: 0,
        depth: 0,
    };
    let _ = parser.src;
    parser.statement().map_err(|e| error(src, e))
}

/// Parses a condition on its own (as the filter processor uses them).
///
/// ```
/// let condition = tributary_ottl::parse_condition(r#"attributes["http.status"] >= 500 and not IsMatch(name, "^GET")"#).unwrap();
/// # let _ = condition;
/// ```
pub fn parse_condition(src: &str) -> Result<BoolExpr, ParseError> {
    let toks = lex(src).map_err(|e| error(src, e))?;
    let mut parser = Parser {
        src,
        toks,
        at: 0,
        depth: 0,
    };
    let condition = parser.bool_expr().map_err(|e| error(src, e))?;
    parser
        .expect(Tok::End, "end of condition")
        .map_err(|e| error(src, e))?;
    Ok(condition)
}

/// Parses a value expression on its own.
pub fn parse_expr(src: &str) -> Result<Expr, ParseError> {
    let toks = lex(src).map_err(|e| error(src, e))?;
    let mut parser = Parser {
        src,
        toks,
        at: 0,
        depth: 0,
    };
    let expr = parser.expr().map_err(|e| error(src, e))?;
    parser
        .expect(Tok::End, "end of expression")
        .map_err(|e| error(src, e))?;
    Ok(expr)
}
