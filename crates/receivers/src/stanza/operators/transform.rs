//! The operators that move data around an entry: `add`, `move`, `copy`, `remove`,
//! `retain`, `flatten`.

use super::super::config::OperatorConfig;
use super::super::entry::Entry;
use super::super::expr::Expr;
use super::super::field::{Field, Root};
use super::super::pipeline::Transform;
use super::super::value::{Map, Value};
use super::required;

/// `add`: sets a field to a value, or to an expression's result (`EXPR(...)`).
pub(crate) struct Add {
    field: Field,
    value: AddValue,
}

enum AddValue {
    Constant(Value),
    Expr(Expr),
}

impl Add {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let field = required(&config.field, "field")?.clone();
        let value = required(&config.value, "value")?;
        let value = match value
            .as_str()
            .and_then(|s| s.strip_prefix("EXPR(").and_then(|s| s.strip_suffix(')')))
        {
            Some(source) => AddValue::Expr(Expr::parse(source).map_err(|e| format!("value: {e}"))?),
            None => AddValue::Constant(value.clone()),
        };
        Ok(Add { field, value })
    }
}

impl Transform for Add {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        let value = match &self.value {
            AddValue::Constant(value) => value.clone(),
            AddValue::Expr(expr) => expr.evaluate(entry),
        };
        self.field.set(entry, value)
    }
}

/// The `from` and `to` fields of `move` and `copy`.
fn from_to(config: &OperatorConfig) -> Result<(Field, Field), String> {
    Ok((
        required(&config.from, "from")?.clone(),
        required(&config.to, "to")?.clone(),
    ))
}

/// `move`: moves a field's value to another field.
pub(crate) struct Move {
    from: Field,
    to: Field,
}

impl Move {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let (from, to) = from_to(config)?;
        Ok(Move { from, to })
    }
}

impl Transform for Move {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        let value = self
            .from
            .delete(entry)
            .ok_or_else(|| format!("move: field does not exist: {}", self.from))?;
        if let Err(e) = self.to.set(entry, value.clone()) {
            // Put it back: a failed move loses nothing.
            let _ = self.from.set(entry, value);
            return Err(e);
        }
        Ok(())
    }
}

/// `copy`: copies a field's value to another field.
pub(crate) struct Copy {
    from: Field,
    to: Field,
}

impl Copy {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let (from, to) = from_to(config)?;
        Ok(Copy { from, to })
    }
}

impl Transform for Copy {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        let value = self
            .from
            .get(entry)
            .cloned()
            .ok_or_else(|| format!("copy: from field does not exist: {}", self.from))?;
        self.to.set(entry, value)
    }
}

/// `remove`: deletes a field (a whole `attributes` or `resource` empties it).
pub(crate) struct Remove {
    field: Field,
}

impl Remove {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        Ok(Remove {
            field: required(&config.field, "field")?.clone(),
        })
    }
}

impl Transform for Remove {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        if self.field.is_root() && self.field.root != Root::Body {
            self.field.delete(entry);
            return Ok(());
        }
        self.field
            .delete(entry)
            .map(drop)
            .ok_or_else(|| format!("remove: field does not exist: {}", self.field))
    }
}

/// `retain`: keeps only the listed fields of each root that any of them names; roots
/// none of them names are left alone.
pub(crate) struct Retain {
    fields: Vec<Field>,
}

impl Retain {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let fields = required(&config.fields, "fields")?.clone();
        if fields.is_empty() {
            return Err("`fields` must name at least one field".into());
        }
        if let Some(root) = fields.iter().find(|f| f.is_root()) {
            return Err(format!("`fields` cannot name a whole root (`{root}`)"));
        }
        Ok(Retain { fields })
    }
}

impl Transform for Retain {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        let mut kept = Entry::default();
        for field in &self.fields {
            if let Some(value) = field.get(entry) {
                field.set(&mut kept, value.clone())?;
            }
        }
        let names = |root: Root| self.fields.iter().any(|f| f.root == root);
        if names(Root::Body) {
            entry.body = match kept.body {
                Value::Null => Value::Map(Map::new()),
                body => body,
            };
        }
        if names(Root::Attributes) {
            entry.attributes = kept.attributes;
        }
        if names(Root::Resource) {
            entry.resource = kept.resource;
        }
        Ok(())
    }
}

/// `flatten`: lifts a map field's keys one level up, into its parent.
pub(crate) struct Flatten {
    field: Field,
}

impl Flatten {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let field = required(&config.field, "field")?.clone();
        if field.is_root() {
            return Err(format!("cannot flatten a whole root (`{field}`)"));
        }
        Ok(Flatten { field })
    }
}

impl Transform for Flatten {
    fn transform(&mut self, entry: &mut Entry) -> Result<(), String> {
        match self.field.get(entry) {
            Some(Value::Map(_)) => {}
            Some(_) => return Err(format!("flatten: field `{}` is not a map", self.field)),
            None => return Err(format!("flatten: field does not exist: {}", self.field)),
        }
        let Some(Value::Map(inner)) = self.field.delete(entry) else {
            return Err(format!("flatten: field does not exist: {}", self.field));
        };
        let parent = Field {
            root: self.field.root,
            keys: self.field.keys[..self.field.keys.len() - 1].to_vec(),
        };
        for (key, value) in inner {
            let mut target = parent.clone();
            target.keys.push(key);
            target.set(entry, value)?;
        }
        Ok(())
    }
}
