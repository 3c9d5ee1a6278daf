//! Recovery: how one decoding reports every problem it can find, as mapstructure's
//! "3 error(s) decoding" does, although serde's derive stops at the first `Err`.
//!
//! A value or key that fails to decode ends a pass: there is nothing the decoder could
//! hand serde in its place for every type. The error is recorded and the decoding runs
//! again with the offending entry *left out*, as if the user had not written it (the field
//! keeps its default); the next pass finds the next problem. So a decoding makes one pass
//! per problem, plus one:
//!
//! - a bad value leaves out its entry (or list element);
//! - an unknown key (any key the map's key type refuses) leaves out its entry;
//! - a missing required key leaves out the struct that lacks it;
//! - where the decoder itself knows a key is unknown (a struct with squashed fields), it
//!   records every such key in the same pass and carries on.
//!
//! Leaving an entry out can cause errors of its own, which are not the user's: its key is
//! now missing, or a list is now too short. Such a *consequence* is not recorded, and the
//! failing value is left out in turn. An error counts as a consequence when it is a missing
//! key that was left out, or any other error of a value that holds a left-out entry; the
//! latter may hide a genuine problem of that value, never more.
//!
//! A decoding stops looking after [`MAX_PROBLEMS`] problems and says so.
//!
//! The decoding is sound: an entry is only left out after a problem was recorded, so a
//! decoding that recorded nothing ran exactly as a plain one, and one that recorded
//! anything fails with all it recorded. It ends: every pass leaves out a new entry or
//! stops at the root.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

use serde::de::DeserializeOwned;

use super::deserializer::ValueDeserializer;
use super::error::DecodeError;
use crate::path;
use crate::secret::{SecretKind, SecretPaths};
use crate::value::Value;

/// How many problems a decoding looks for before it stops: each costs a pass over the
/// value, and a document of many thousands of bad list elements must not take minutes.
const MAX_PROBLEMS: usize = 100;

/// What one pass of a decoding notes as it goes, shared by every level: the secrets it
/// meets, the problems it recovers from, and the entries earlier passes left out.
pub(crate) struct Recorder {
    secrets: RefCell<SecretPaths>,
    recovered: RefCell<Vec<DecodeError>>,
    left_out: BTreeSet<String>,
}

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            secrets: RefCell::new(SecretPaths::new()),
            recovered: RefCell::new(Vec::new()),
            left_out: BTreeSet::new(),
        }
    }

    /// Notes a secret at `path`.
    pub(crate) fn secret(&self, path: String, kind: SecretKind) {
        self.secrets.borrow_mut().insert(path, kind);
    }

    /// Notes a problem the decoder recovered from by itself (it skipped the entry).
    pub(crate) fn recover(&self, error: DecodeError) {
        self.recovered.borrow_mut().push(error);
    }

    /// Whether the entry or list element at `path` is left out: an earlier pass found its
    /// value bad.
    pub(crate) fn leaves_out(&self, path: &str) -> bool {
        self.left_out.contains(path)
    }

    /// Whether `error` may be caused by an entry left out rather than by the document.
    fn is_consequence(&self, error: &DecodeError) -> bool {
        if error.is_missing_key() {
            self.left_out.contains(error.path())
        } else {
            self.left_out
                .iter()
                .any(|left_out| is_within(left_out, error.path()))
        }
    }
}

/// Whether `path` is `ancestor` or below it.
fn is_within(path: &str, ancestor: &str) -> bool {
    ancestor.is_empty()
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(path::KEY_DELIMITER))
}

/// The parent of a non-empty path (`a::b` → `a`, `a` → the root).
fn parent(path: &str) -> &str {
    path.rsplit_once(path::KEY_DELIMITER)
        .map_or("", |(parent, _)| parent)
}

/// Decodes `value`, which sits at `base`, into `T`, with every problem found in document
/// order (unscrubbed); and where the decoding met secrets (paths from the root).
pub(crate) fn decode<T: DeserializeOwned>(
    value: &Value,
    base: &str,
) -> (Result<T, DecodeError>, SecretPaths) {
    let mut recorder = Recorder::new();
    let mut problems: Vec<DecodeError> = Vec::new();
    let mut stopped_early = false;
    loop {
        if problems.len() >= MAX_PROBLEMS {
            stopped_early = true;
            break;
        }
        let outcome = T::deserialize(ValueDeserializer::new(value, base.to_owned(), &recorder))
            .map_err(|error| error.located_at(base));
        for problem in recorder.recovered.take() {
            note(&mut problems, problem);
        }
        let error = match outcome {
            Ok(decoded) if problems.is_empty() => {
                return (Ok(decoded), recorder.secrets.into_inner());
            }
            Ok(_) => break,
            Err(error) => error,
        };
        let mut culprit = if error.is_missing_key() {
            parent(error.path()).to_owned()
        } else {
            error.path().to_owned()
        };
        if !recorder.is_consequence(&error) {
            note(&mut problems, error);
        }
        // A value the decoder cannot leave out (the content of an enum variant) is left out
        // with its parent.
        while culprit != base && is_within(&culprit, base) && recorder.leaves_out(&culprit) {
            culprit = parent(&culprit).to_owned();
        }
        if culprit == base || !is_within(&culprit, base) || !recorder.left_out.insert(culprit) {
            break;
        }
    }
    let secrets = recorder.secrets.into_inner();
    sort_in_document_order(&mut problems, value, base);
    if stopped_early {
        problems.push(DecodeError::new(
            base,
            format!("checking stopped after {MAX_PROBLEMS} problems; fix these and check again"),
        ));
    }
    // `all` has problems to join: a pass that failed recorded its error, or left
    // something out after an earlier pass recorded one. Kept total rather than trusted.
    let error = DecodeError::all(problems)
        .unwrap_or_else(|| DecodeError::new(base, "the value could not be decoded"));
    (Err(error), secrets)
}

/// Adds a problem unless an earlier pass already found it.
fn note(problems: &mut Vec<DecodeError>, problem: DecodeError) {
    if !problems.contains(&problem) {
        problems.push(problem);
    }
}

/// Sorts problems by where they are in the document: a problem of a value by the value's
/// place, a missing key at the end of the struct it is missing from.
fn sort_in_document_order(problems: &mut [DecodeError], value: &Value, base: &str) {
    let mut places = HashMap::new();
    let mut next = 0;
    number(value, base.to_owned(), &mut next, &mut places);
    problems.sort_by_cached_key(|problem| {
        let mut path = problem.path();
        if let Some(&(start, _)) = places.get(path) {
            return (start, false);
        }
        loop {
            if let Some(&(_, end)) = places.get(path) {
                return (end, true);
            }
            if path.is_empty() {
                return (usize::MAX, true);
            }
            path = parent(path);
        }
    });
}

/// Numbers every value of the tree in document order: the value's own number and the last
/// number inside it.
fn number(
    value: &Value,
    path: String,
    next: &mut usize,
    places: &mut HashMap<String, (usize, usize)>,
) {
    let start = *next;
    *next += 1;
    match value.typed() {
        Value::Map(map) => {
            for (key, child) in map {
                number(child, path::join(&path, key), next, places);
            }
        }
        Value::List(items) => {
            for (index, child) in items.iter().enumerate() {
                number(child, path::join(&path, &index.to_string()), next, places);
            }
        }
        _ => {}
    }
    places.insert(path, (start, *next - 1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_follows_whole_keys() {
        assert!(is_within("a::b", "a"));
        assert!(is_within("a", "a"));
        assert!(is_within("a", ""));
        assert!(!is_within("ab", "a"));
        assert!(!is_within("a", "a::b"));
    }

    #[test]
    fn parents_drop_the_last_key() {
        assert_eq!(parent("a::b::c"), "a::b");
        assert_eq!(parent("a"), "");
    }
}
