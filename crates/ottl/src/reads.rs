//! What a compiled condition reads of its item, so that a caller holding the item encoded
//! can decode only that.

use std::collections::BTreeSet;

use crate::context::{Field, KeyVal};
use crate::eval::{CBool, CExpr, CKey, CompiledCondition};

/// How much of one field a condition reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldReads {
    /// All of it (a path without keys, or with a key computed per item).
    Whole,
    /// Only these map keys (every path on the field starts with a literal string key).
    Keys(BTreeSet<String>),
}

/// The fields of its context a condition reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// Each field read, once, in first-read order.
    pub fields: Vec<(Field, FieldReads)>,
    /// A function reads the item beyond its arguments (`IsRootSpan`,
    /// `HasAttrOnDatapoint`...): the whole item is needed.
    pub whole_item: bool,
}

impl Reads {
    fn add(&mut self, field: Field, reads: FieldReads) {
        match self.fields.iter_mut().find(|(f, _)| *f == field) {
            Some((_, known)) => match (known, reads) {
                (FieldReads::Keys(keys), FieldReads::Keys(more)) => keys.extend(more),
                (known, _) => *known = FieldReads::Whole,
            },
            None => self.fields.push((field, reads)),
        }
    }

    fn condition(&mut self, condition: &CBool) {
        match condition {
            CBool::Or(list) | CBool::And(list) => list.iter().for_each(|c| self.condition(c)),
            CBool::Not(c) => self.condition(c),
            CBool::Compare(left, _, right) => {
                self.expr(left);
                self.expr(right);
            }
            CBool::Value(e) => self.expr(e),
        }
    }

    fn expr(&mut self, expr: &CExpr) {
        match expr {
            CExpr::Lit(_) => {}
            CExpr::Path(path) => {
                let reads = match path.keys.first() {
                    Some(CKey::Lit(KeyVal::Str(key))) => {
                        FieldReads::Keys(BTreeSet::from([key.clone()]))
                    }
                    _ => FieldReads::Whole,
                };
                self.add(path.field, reads);
                self.keys(&path.keys);
            }
            CExpr::Conv(converter, keys) => {
                if converter.reads_item() {
                    self.whole_item = true;
                }
                converter.args().iter().flatten().for_each(|e| self.expr(e));
                self.keys(keys);
            }
            CExpr::Math(left, _, right) => {
                self.expr(left);
                self.expr(right);
            }
            CExpr::Map(entries) => entries.iter().for_each(|(_, e)| self.expr(e)),
            CExpr::List(items) => items.iter().for_each(|e| self.expr(e)),
        }
    }

    fn keys(&mut self, keys: &[CKey]) {
        for key in keys {
            if let CKey::Expr(e) = key {
                self.expr(e);
            }
        }
    }
}

impl CompiledCondition {
    /// The fields this condition reads: a caller may leave every other field of the
    /// item out (and, for a field read by keys, every other key) and get the same answer.
    pub fn reads(&self) -> Reads {
        let mut reads = Reads::default();
        reads.condition(self.condition());
        reads
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ContextKind, compile_condition};

    fn reads(condition: &str) -> Reads {
        compile_condition(condition, ContextKind::Log)
            .unwrap()
            .reads()
    }

    fn keys(keys: &[&str]) -> FieldReads {
        FieldReads::Keys(keys.iter().map(|k| k.to_string()).collect())
    }

    #[test]
    fn literal_keys_are_collected_per_field() {
        let r = reads(
            r#"log.attributes["a"] < 3 and (IsMatch(log.attributes["b"]["x"], "y") or resource.attributes["a"] == nil)"#,
        );
        assert_eq!(
            r.fields,
            vec![
                (Field::LogAttributes, keys(&["a", "b"])),
                (Field::ResourceAttributes, keys(&["a"])),
            ]
        );
        assert!(!r.whole_item);
    }

    #[test]
    fn a_field_read_whole_or_by_computed_key_is_whole() {
        let r = reads(r#"Len(log.attributes) > 2 and log.attributes["a"] != nil"#);
        assert_eq!(r.fields, vec![(Field::LogAttributes, FieldReads::Whole)]);
        let r = reads(r#"log.attributes[log.severity_text] != nil"#);
        assert_eq!(
            r.fields,
            vec![
                (Field::LogAttributes, FieldReads::Whole),
                (Field::LogSeverityText, FieldReads::Whole),
            ]
        );
    }

    #[test]
    fn functions_reading_the_item_themselves_need_all_of_it() {
        let r = compile_condition("IsRootSpan()", ContextKind::Span)
            .unwrap()
            .reads();
        assert!(r.whole_item);
        assert!(r.fields.is_empty());
    }
}
