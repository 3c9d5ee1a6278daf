//! Compiling parsed statements against a context, and running them.
//!
//! Compilation resolves every path and function once, checks argument counts and
//! names, and compiles literal regular expressions, so that a statement that cannot run
//! is refused in config validation, not item by item.

use std::fmt;

use regex::Regex;

use crate::ast::{Arg, BoolExpr, Call, CompareOp, Expr, Key, MathOp, Statement};
use crate::context::{ContextKind, Field, KeyVal, Scalar, TransformContext, resolve};
use crate::funcs::{self, Converter, Editor};
use crate::parser::{self, ParseError};
use crate::value::Value;

/// A config-time error: the statement cannot be parsed or compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompileError {
    /// The text is not OTTL.
    Parse(ParseError),
    /// The statement parses but names an unknown path, function or argument.
    Invalid {
        /// The statement text.
        statement: String,
        /// Byte offset of the offending part.
        pos: usize,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Parse(e) => e.fmt(f),
            CompileError::Invalid {
                statement,
                pos,
                message,
            } => {
                write!(
                    f,
                    "invalid OTTL statement {statement:?}: at byte {pos}: {message}"
                )
            }
        }
    }
}

impl std::error::Error for CompileError {}

/// A run-time error of one statement on one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// The statement text.
    pub statement: String,
    /// What failed.
    pub message: String,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "failed to execute statement {:?}: {}",
            self.statement, self.message
        )
    }
}

impl std::error::Error for EvalError {}

/// A path resolved in a context.
#[derive(Clone, Debug)]
pub struct CPath {
    /// The field.
    pub field: Field,
    /// Its keys.
    pub keys: Vec<CKey>,
    /// The keys when all are literals, so reading the path builds no key list.
    pub literal_keys: Option<Vec<KeyVal>>,
}

impl CPath {
    fn new(field: Field, keys: Vec<CKey>) -> CPath {
        let literal_keys = keys
            .iter()
            .map(|k| match k {
                CKey::Lit(k) => Some(k.clone()),
                CKey::Expr(_) => None,
            })
            .collect();
        CPath {
            field,
            keys,
            literal_keys,
        }
    }

    /// The path's keys for this item.
    pub(crate) fn keys_for(
        &self,
        ctx: &TransformContext<'_>,
    ) -> Result<std::borrow::Cow<'_, [KeyVal]>, String> {
        Ok(match &self.literal_keys {
            Some(k) => std::borrow::Cow::Borrowed(k),
            None => std::borrow::Cow::Owned(eval_keys(&self.keys, ctx)?),
        })
    }
}

/// A compiled key.
#[derive(Clone, Debug)]
pub enum CKey {
    /// A literal key.
    Lit(KeyVal),
    /// A key computed per item.
    Expr(Box<CExpr>),
}

/// A compiled value expression.
#[derive(Clone, Debug)]
pub enum CExpr {
    /// A constant.
    Lit(Value),
    /// A path.
    Path(CPath),
    /// A converter call and keys into its result.
    Conv(Box<Converter>, Vec<CKey>),
    /// Math.
    Math(Box<CExpr>, MathOp, Box<CExpr>),
    /// A map literal.
    Map(Vec<(String, CExpr)>),
    /// A list literal.
    List(Vec<CExpr>),
}

/// A compiled condition.
#[derive(Clone, Debug)]
pub enum CBool {
    /// Any.
    Or(Vec<CBool>),
    /// All.
    And(Vec<CBool>),
    /// Negation.
    Not(Box<CBool>),
    /// Comparison.
    Compare(CExpr, CompareOp, CExpr),
    /// A boolean value.
    Value(CExpr),
}

/// A compiled statement, ready to run on items of its context.
#[derive(Clone, Debug)]
pub struct CompiledStatement {
    text: String,
    context: ContextKind,
    editor: Editor,
    condition: Option<CBool>,
}

/// A compiled condition on its own.
#[derive(Clone, Debug)]
pub struct CompiledCondition {
    text: String,
    context: ContextKind,
    condition: CBool,
}

pub(crate) struct Compiler<'s> {
    pub(crate) text: &'s str,
    pub(crate) context: ContextKind,
}

impl Compiler<'_> {
    pub(crate) fn err<T>(&self, pos: usize, message: impl Into<String>) -> Result<T, CompileError> {
        Err(CompileError::Invalid {
            statement: self.text.to_string(),
            pos,
            message: message.into(),
        })
    }

    pub(crate) fn expr(&self, expr: &Expr) -> Result<CExpr, CompileError> {
        Ok(match expr {
            Expr::Literal(v) => CExpr::Lit(v.clone()),
            Expr::Enum(_, v) => CExpr::Lit(Value::Int(*v)),
            Expr::FunctionName(name, pos) => {
                let what = if crate::parser::is_enum_name(name) {
                    format!("unknown enum symbol {name:?}")
                } else {
                    format!("{name:?} is neither a path nor a converter call")
                };
                return self.err(
                    *pos,
                    format!(
                        "{what} (a converter's name alone is a value only as the function argument of the replace_* editors)"
                    ),
                );
            }
            Expr::Path(p) => {
                let field = match resolve(self.context, &p.fields) {
                    Ok(f) => f,
                    Err(e) => return self.err(p.pos, e),
                };
                // A trace_state takes one key: a member of the W3C list.
                if !p.keys.is_empty() && !field.keyed() && field != Field::SpanTraceState {
                    return self.err(
                        p.pos,
                        format!("path {:?} takes no keys", p.fields.join(".")),
                    );
                }
                CExpr::Path(CPath::new(field, self.keys(&p.keys)?))
            }
            Expr::Converter(call) => {
                let conv = funcs::compile_converter(self, call)?;
                CExpr::Conv(Box::new(conv), self.keys(&call.keys)?)
            }
            Expr::Math(l, op, r) => {
                CExpr::Math(Box::new(self.expr(l)?), *op, Box::new(self.expr(r)?))
            }
            Expr::Map(entries) => CExpr::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.expr(v)?)))
                    .collect::<Result<_, CompileError>>()?,
            ),
            Expr::List(items) => CExpr::List(
                items
                    .iter()
                    .map(|e| self.expr(e))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }

    fn keys(&self, keys: &[Key]) -> Result<Vec<CKey>, CompileError> {
        keys.iter()
            .map(|k| {
                Ok(match k {
                    Key::String(s) => CKey::Lit(KeyVal::Str(s.clone())),
                    Key::Int(i) => CKey::Lit(KeyVal::Int(*i)),
                    Key::Expr(e) => CKey::Expr(Box::new(self.expr(e)?)),
                })
            })
            .collect()
    }

    pub(crate) fn path(&self, expr: &Expr, what: &str) -> Result<CPath, CompileError> {
        match self.expr(expr)? {
            CExpr::Path(p) => Ok(p),
            _ => {
                let pos = match expr {
                    Expr::Path(p) => p.pos,
                    _ => 0,
                };
                self.err(pos, format!("{what} must be a path"))
            }
        }
    }

    fn condition(&self, cond: &BoolExpr) -> Result<CBool, CompileError> {
        Ok(match cond {
            BoolExpr::Or(v) => CBool::Or(
                v.iter()
                    .map(|c| self.condition(c))
                    .collect::<Result<_, _>>()?,
            ),
            BoolExpr::And(v) => CBool::And(
                v.iter()
                    .map(|c| self.condition(c))
                    .collect::<Result<_, _>>()?,
            ),
            BoolExpr::Not(c) => CBool::Not(Box::new(self.condition(c)?)),
            BoolExpr::Compare(l, op, r) => CBool::Compare(self.expr(l)?, *op, self.expr(r)?),
            BoolExpr::Value(e) => {
                if let Expr::Literal(v) = e
                    && !matches!(v, Value::Bool(_))
                {
                    return self.err(
                        0,
                        format!("a condition must be a boolean, not a {}", v.type_name()),
                    );
                }
                CBool::Value(self.expr(e)?)
            }
        })
    }
}

/// Binds arguments, positional then named, to a function's parameters.
pub(crate) fn bind<'a>(
    c: &Compiler<'_>,
    call: &'a Call,
    params: &[(&str, bool)],
) -> Result<Vec<Option<&'a Expr>>, CompileError> {
    let mut out: Vec<Option<&Expr>> = vec![None; params.len()];
    for (i, Arg { name, value }) in call.args.iter().enumerate() {
        let slot = match name {
            None => i,
            Some(n) => match params.iter().position(|(p, _)| p == n) {
                Some(slot) => slot,
                None => {
                    return c.err(
                        call.pos,
                        format!("{} has no parameter named {n:?}", call.name),
                    );
                }
            },
        };
        if slot >= params.len() {
            return c.err(
                call.pos,
                format!(
                    "{} takes at most {} arguments, got {}",
                    call.name,
                    params.len(),
                    call.args.len()
                ),
            );
        }
        if out[slot].is_some() {
            return c.err(
                call.pos,
                format!("{}: parameter {:?} given twice", call.name, params[slot].0),
            );
        }
        out[slot] = Some(value);
    }
    for (slot, (p, optional)) in params.iter().enumerate() {
        if out[slot].is_none() && !optional {
            return c.err(
                call.pos,
                format!("{} is missing its argument {p:?}", call.name),
            );
        }
    }
    Ok(out)
}

/// A literal string argument, as Go's `string` parameters require.
pub(crate) fn literal_string(
    c: &Compiler<'_>,
    call: &Call,
    e: Option<&Expr>,
    what: &str,
) -> Result<Option<String>, CompileError> {
    match e {
        None => Ok(None),
        Some(Expr::Literal(Value::Str(s))) => Ok(Some(s.clone())),
        Some(_) => c.err(
            call.pos,
            format!("{}: {what} must be a string literal", call.name),
        ),
    }
}

/// A string literal argument that must be one of `choices`; `default` when it is left
/// out (or empty, where `default` is not empty: Go's zero value).
pub(crate) fn literal_choice(
    c: &Compiler<'_>,
    call: &Call,
    e: Option<&Expr>,
    what: &str,
    default: &str,
    choices: &[&str],
) -> Result<String, CompileError> {
    let chosen = literal_string(c, call, e, what)?
        .filter(|s| !s.is_empty() || default.is_empty())
        .unwrap_or_else(|| default.to_string());
    if choices.contains(&chosen.as_str()) {
        return Ok(chosen);
    }
    c.err(
        call.pos,
        format!(
            "{}: invalid {what} {chosen:?}, must be one of {}",
            call.name,
            choices.join(", ")
        ),
    )
}

/// A regex from a literal argument.
pub(crate) fn literal_regex(
    c: &Compiler<'_>,
    call: &Call,
    e: Option<&Expr>,
    what: &str,
) -> Result<Regex, CompileError> {
    let s = literal_string(c, call, e, what)?.unwrap_or_default();
    Regex::new(&s).or_else(|err| {
        c.err(
            call.pos,
            format!("{}: invalid {what} {s:?}: {err}", call.name),
        )
    })
}

/// Compiles a statement for a context.
///
/// ```
/// use tributary_ottl::{ContextKind, compile_statement};
/// let s = compile_statement(r#"set(attributes["env"], "prod") where name == "GET /""#, ContextKind::Span).unwrap();
/// # let _ = s;
/// assert!(compile_statement(r#"set(attributes["env"], "prod")"#, ContextKind::Resource).is_ok());
/// assert!(compile_statement(r#"set(span.name, "x")"#, ContextKind::Log).is_err());
/// ```
pub fn compile_statement(
    text: &str,
    context: ContextKind,
) -> Result<CompiledStatement, CompileError> {
    let statement: Statement = parser::parse_statement(text).map_err(CompileError::Parse)?;
    let c = Compiler { text, context };
    let editor = funcs::compile_editor(&c, &statement.editor)?;
    let condition = statement
        .condition
        .as_ref()
        .map(|cond| c.condition(cond))
        .transpose()?;
    Ok(CompiledStatement {
        text: text.to_string(),
        context,
        editor,
        condition,
    })
}

/// Compiles a condition for a context.
pub fn compile_condition(
    text: &str,
    context: ContextKind,
) -> Result<CompiledCondition, CompileError> {
    let cond = parser::parse_condition(text).map_err(CompileError::Parse)?;
    let c = Compiler { text, context };
    Ok(CompiledCondition {
        text: text.to_string(),
        context,
        condition: c.condition(&cond)?,
    })
}

/// Compiles the `where` clause of a statement whose editor is `editor()` with no
/// arguments, for components that give a statement a meaning of their own (the routing
/// connector's `route() where <condition>`). No `where` clause matches everything.
///
/// ```
/// use tributary_ottl::{ContextKind, compile_statement_condition};
/// assert!(compile_statement_condition(r#"route() where attributes["x"] == 1"#, "route", ContextKind::Span).is_ok());
/// assert!(compile_statement_condition(r#"set(name, "x")"#, "route", ContextKind::Span).is_err());
/// ```
pub fn compile_statement_condition(
    text: &str,
    editor: &str,
    context: ContextKind,
) -> Result<CompiledCondition, CompileError> {
    let statement: Statement = parser::parse_statement(text).map_err(CompileError::Parse)?;
    let c = Compiler { text, context };
    if statement.editor.name != editor || !statement.editor.args.is_empty() {
        return c.err(
            statement.editor.pos,
            format!(
                "expected the statement `{editor}() where <condition>`, found function {:?}",
                statement.editor.name
            ),
        );
    }
    let condition = match &statement.condition {
        Some(cond) => c.condition(cond)?,
        None => CBool::Value(CExpr::Lit(Value::Bool(true))),
    };
    Ok(CompiledCondition {
        text: text.to_string(),
        context,
        condition,
    })
}

impl CompiledStatement {
    /// The statement text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The context it runs in.
    pub fn context(&self) -> ContextKind {
        self.context
    }

    /// Runs the statement on one item: checks the condition, then runs the editor.
    /// Returns whether the editor ran.
    pub fn execute(&self, ctx: &mut TransformContext<'_>) -> Result<bool, EvalError> {
        let wrap = |message: String| EvalError {
            statement: self.text.clone(),
            message,
        };
        if let Some(cond) = &self.condition
            && !eval_bool(cond, ctx).map_err(wrap)?
        {
            return Ok(false);
        }
        funcs::run_editor(&self.editor, ctx).map_err(wrap)?;
        Ok(true)
    }
}

impl CompiledCondition {
    /// The condition text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The context it runs in.
    pub fn context(&self) -> ContextKind {
        self.context
    }
    pub(crate) fn condition(&self) -> &CBool {
        &self.condition
    }
    /// Evaluates the condition on one item.
    pub fn matches(&self, ctx: &TransformContext<'_>) -> Result<bool, EvalError> {
        eval_bool(&self.condition, ctx).map_err(|message| EvalError {
            statement: self.text.clone(),
            message,
        })
    }
}

pub(crate) fn eval_keys(keys: &[CKey], ctx: &TransformContext<'_>) -> Result<Vec<KeyVal>, String> {
    keys.iter()
        .map(|k| match k {
            CKey::Lit(k) => Ok(k.clone()),
            CKey::Expr(e) => match eval(e, ctx)? {
                Value::Str(s) => Ok(KeyVal::Str(s)),
                Value::Int(i) => Ok(KeyVal::Int(i)),
                other => Err(format!(
                    "a key must be a string or an int64, not a {}",
                    other.type_name()
                )),
            },
        })
        .collect()
}

/// Evaluates a compiled expression.
pub(crate) fn eval(e: &CExpr, ctx: &TransformContext<'_>) -> Result<Value, String> {
    Ok(match e {
        CExpr::Lit(v) => v.clone(),
        CExpr::Path(p) => ctx.get(p.field, &p.keys_for(ctx)?)?,
        CExpr::Conv(conv, keys) => {
            let v = funcs::run_converter(conv, ctx)?;
            index(v, &eval_keys(keys, ctx)?)?
        }
        CExpr::Math(l, op, r) => math(eval(l, ctx)?, *op, eval(r, ctx)?)?,
        CExpr::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), eval(v, ctx)?)))
                .collect::<Result<_, String>>()?,
        ),
        CExpr::List(items) => Value::List(
            items
                .iter()
                .map(|i| eval(i, ctx))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn index(mut v: Value, keys: &[KeyVal]) -> Result<Value, String> {
    for k in keys {
        v = match (v, k) {
            (Value::Map(m), KeyVal::Str(s)) => m
                .into_iter()
                .find(|(key, _)| key == s)
                .map_or(Value::Nil, |(_, v)| v),
            (Value::List(mut l), KeyVal::Int(i)) => {
                let len = l.len();
                if *i < 0 || *i as usize >= len {
                    return Err(format!("index {i} out of bounds (length {len})"));
                }
                l.swap_remove(*i as usize)
            }
            (other, k) => return Err(format!("cannot index a {} with {k:?}", other.type_name())),
        };
    }
    Ok(v)
}

/// Math with Go's type rules: both sides int64 or both float64; int division truncates
/// and division by zero is an error.
pub fn math(l: Value, op: MathOp, r: Value) -> Result<Value, String> {
    match (l, r) {
        (Value::Int(a), Value::Int(b)) => Ok(Value::Int(match op {
            MathOp::Add => a.wrapping_add(b),
            MathOp::Sub => a.wrapping_sub(b),
            MathOp::Mul => a.wrapping_mul(b),
            MathOp::Div => {
                if b == 0 {
                    return Err("attempted to divide by 0".into());
                }
                a.wrapping_div(b)
            }
        })),
        (Value::Float(a), Value::Float(b)) => Ok(Value::Float(match op {
            MathOp::Add => a + b,
            MathOp::Sub => a - b,
            MathOp::Mul => a * b,
            MathOp::Div => {
                if b == 0.0 {
                    return Err("attempted to divide by 0".into());
                }
                a / b
            }
        })),
        // Go's time arithmetic: time - time, time ± duration, duration ± duration.
        (Value::Time(a), Value::Time(b)) if op == MathOp::Sub => {
            Ok(Value::Duration(a.wrapping_sub(b)))
        }
        (Value::Time(a), Value::Duration(b)) if op == MathOp::Add => {
            Ok(Value::Time(a.wrapping_add(b)))
        }
        (Value::Time(a), Value::Duration(b)) if op == MathOp::Sub => {
            Ok(Value::Time(a.wrapping_sub(b)))
        }
        (Value::Duration(a), Value::Duration(b)) if op == MathOp::Add => {
            Ok(Value::Duration(a.wrapping_add(b)))
        }
        (Value::Duration(a), Value::Duration(b)) if op == MathOp::Sub => {
            Ok(Value::Duration(a.wrapping_sub(b)))
        }
        (Value::Int(_), r) => Err(format!("{} must be int64", r.type_name())),
        (Value::Float(_), r) => Err(format!("{} must be float64", r.type_name())),
        (l, _) => Err(format!(
            "{} is not a number; math takes int64 or float64",
            l.type_name()
        )),
    }
}

/// Comparison as Go's OTTL compares: numbers across int/float, nil only equals nil,
/// values of different types are unequal (and not ordered).
pub fn compare(l: &Value, op: CompareOp, r: &Value) -> bool {
    compare_scalar(&Scalar::of(l), op, &Scalar::of(r))
}

fn compare_scalar(l: &Scalar<'_>, op: CompareOp, r: &Scalar<'_>) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (l, r) {
        (Scalar::Int(a), Scalar::Int(b)) => Some(a.cmp(b)),
        (Scalar::Float(a), Scalar::Float(b)) => a.partial_cmp(b),
        (Scalar::Int(a), Scalar::Float(b)) => (*a as f64).partial_cmp(b),
        (Scalar::Float(a), Scalar::Int(b)) => a.partial_cmp(&(*b as f64)),
        (Scalar::Str(a), Scalar::Str(b)) => Some(a.cmp(b)),
        (Scalar::Bytes(a), Scalar::Bytes(b)) => Some(a.cmp(b)),
        (Scalar::Time(a), Scalar::Time(b)) | (Scalar::Duration(a), Scalar::Duration(b)) => {
            Some(a.cmp(b))
        }
        (Scalar::Bool(a), Scalar::Bool(b)) => {
            return match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                _ => false,
            };
        }
        (Scalar::Nil, Scalar::Nil) => Some(Ordering::Equal),
        (Scalar::Owned(a), Scalar::Owned(b)) => {
            return match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                _ => false,
            };
        }
        _ => None,
    };
    let nil = matches!(l, Scalar::Nil);
    match (ord, op) {
        (None, CompareOp::Ne) => true,
        (None, _) => false,
        (Some(o), CompareOp::Eq) => o == Ordering::Equal,
        (Some(o), CompareOp::Ne) => o != Ordering::Equal,
        (Some(o), CompareOp::Lt) if !nil => o == Ordering::Less,
        (Some(o), CompareOp::Le) if !nil => o != Ordering::Greater,
        (Some(o), CompareOp::Gt) if !nil => o == Ordering::Greater,
        (Some(o), CompareOp::Ge) if !nil => o != Ordering::Less,
        _ => false,
    }
}

/// An operand of a comparison: paths and literals are read in place.
fn scalar<'c>(
    e: &'c CExpr,
    ctx: &'c TransformContext<'_>,
    slot: &'c mut Option<Value>,
) -> Result<Scalar<'c>, String> {
    match e {
        CExpr::Lit(v) => Ok(Scalar::of(v)),
        CExpr::Path(p) => ctx.get_ref(p.field, &p.keys_for(ctx)?),
        other => {
            let v: &'c Value = slot.insert(eval(other, ctx)?);
            Ok(Scalar::of(v))
        }
    }
}

fn eval_bool(c: &CBool, ctx: &TransformContext<'_>) -> Result<bool, String> {
    Ok(match c {
        CBool::Or(v) => {
            for c in v {
                if eval_bool(c, ctx)? {
                    return Ok(true);
                }
            }
            false
        }
        CBool::And(v) => {
            for c in v {
                if !eval_bool(c, ctx)? {
                    return Ok(false);
                }
            }
            true
        }
        CBool::Not(c) => !eval_bool(c, ctx)?,
        CBool::Compare(l, op, r) => {
            let (mut ls, mut rs) = (None, None);
            compare_scalar(&scalar(l, ctx, &mut ls)?, *op, &scalar(r, ctx, &mut rs)?)
        }
        CBool::Value(e) => match eval(e, ctx)? {
            Value::Bool(b) => b,
            other => {
                return Err(format!(
                    "a condition must be a boolean, got a {}",
                    other.type_name()
                ));
            }
        },
    })
}
