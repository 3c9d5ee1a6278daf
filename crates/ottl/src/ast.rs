//! The syntax tree of OTTL statements and conditions.

use crate::value::Value;

/// A parsed statement: `editor(args) where condition`.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// The editor invocation.
    pub editor: Call,
    /// The `where` clause, if any.
    pub condition: Option<BoolExpr>,
}

/// A boolean expression (a condition, or a `where` clause).
#[derive(Clone, Debug, PartialEq)]
pub enum BoolExpr {
    /// `a or b or ...`
    Or(Vec<BoolExpr>),
    /// `a and b and ...`
    And(Vec<BoolExpr>),
    /// `not a`
    Not(Box<BoolExpr>),
    /// `left op right`
    Compare(Expr, CompareOp, Expr),
    /// A value that must be a boolean: `true`, a converter, a path.
    Value(Expr),
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Math operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// A value expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A literal.
    Literal(Value),
    /// A path into the telemetry.
    Path(Path),
    /// A converter call, with optional keys indexing its result.
    Converter(Call),
    /// An enum symbol, resolved to its integer value.
    Enum(String, i64),
    /// A converter named without a call (`SHA256`), as the `function` argument of the
    /// `replace_*` editors takes; elsewhere a compile error. With its byte offset.
    FunctionName(String, usize),
    /// A math expression.
    Math(Box<Expr>, MathOp, Box<Expr>),
    /// A map literal `{"k": v}`.
    Map(Vec<(String, Expr)>),
    /// A list literal `[a, b]`.
    List(Vec<Expr>),
}

/// A path: dotted field names followed by keys, e.g. `resource.attributes["x"]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The dotted names (`["resource", "attributes"]`).
    pub fields: Vec<String>,
    /// The keys after the last name.
    pub keys: Vec<Key>,
    /// Byte offset in the statement.
    pub pos: usize,
}

/// A key of a path or converter result.
#[derive(Clone, Debug, PartialEq)]
pub enum Key {
    /// `["name"]`
    String(String),
    /// `[0]`
    Int(i64),
    /// `[expr]`, evaluated per item.
    Expr(Box<Expr>),
}

/// A function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function name.
    pub name: String,
    /// The arguments in order.
    pub args: Vec<Arg>,
    /// Keys applied to the result (converters only).
    pub keys: Vec<Key>,
    /// Byte offset in the statement.
    pub pos: usize,
}

/// One argument, maybe named (`name = value`).
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The argument's name when given by name.
    pub name: Option<String>,
    /// The value.
    pub value: Expr,
}
