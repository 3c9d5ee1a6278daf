//! Prometheus relabelling (`relabel_configs`, `metric_relabel_configs`): every action,
//! with Prometheus's defaults and semantics (anchored regexes, `$1` expansion, empty
//! results deleting the target label, `hashmod` over MD5).

use md5::{Digest, Md5};
use regex::Regex;
use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::ConfigError;

/// A label set: name → value pairs, names unique.
pub type Labels = Vec<(String, String)>;

/// What a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Set `target_label` to the expanded `replacement` when `regex` matches.
    Replace,
    /// Set `target_label` to the lower-cased source value.
    Lowercase,
    /// Set `target_label` to the upper-cased source value.
    Uppercase,
    /// Drop the set unless `regex` matches.
    Keep,
    /// Drop the set when `regex` matches.
    Drop,
    /// Drop the set unless the source value equals `target_label`'s.
    KeepEqual,
    /// Drop the set when the source value equals `target_label`'s.
    DropEqual,
    /// Set `target_label` to the MD5 of the source value modulo `modulus`.
    HashMod,
    /// Copy labels whose names match `regex` to names from `replacement`.
    LabelMap,
    /// Remove labels whose names match `regex`.
    LabelDrop,
    /// Remove labels whose names do not match `regex`.
    LabelKeep,
}

/// One relabelling rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values, joined by `separator`, are matched.
    pub source_labels: Vec<String>,
    /// The join separator (`;`).
    pub separator: String,
    /// The label written.
    pub target_label: String,
    /// The pattern, anchored at both ends (`(.*)`).
    #[serde(deserialize_with = "anchored")]
    pub regex: AnchoredRegex,
    /// `hashmod`'s modulus.
    pub modulus: u64,
    /// The value written, with `$1`, `${name}` references (`$1`).
    pub replacement: String,
    /// The action (`replace`).
    pub action: Action,
}

/// A regex as written and anchored (`^(?:...)$`), as Prometheus compiles it.
#[derive(Clone, Debug)]
pub struct AnchoredRegex {
    /// As written.
    pub source: String,
    /// Anchored and compiled.
    pub regex: Regex,
}

impl AnchoredRegex {
    fn new(source: &str) -> Result<Self, regex::Error> {
        Ok(AnchoredRegex {
            source: source.to_owned(),
            regex: Regex::new(&format!("^(?:{source})$"))?,
        })
    }
}

fn anchored<'de, D: Deserializer<'de>>(d: D) -> Result<AnchoredRegex, D::Error> {
    let source = String::deserialize(d)?;
    AnchoredRegex::new(&source).map_err(serde::de::Error::custom)
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: ";".into(),
            target_label: String::new(),
            regex: AnchoredRegex::new("(.*)").unwrap_or_else(|_| unreachable!("a valid regex")),
            modulus: 0,
            replacement: "$1".into(),
            action: Action::Replace,
        }
    }
}

impl RelabelConfig {
    /// Prometheus's checks of a rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        use Action::*;
        let needs_target = matches!(
            self.action,
            Replace | Lowercase | Uppercase | HashMod | KeepEqual | DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return Err(ConfigError::at(
                "target_label",
                format!(
                    "relabel configuration for {:?} action requires 'target_label' value",
                    self.action
                ),
            ));
        }
        if matches!(
            self.action,
            Lowercase | Uppercase | HashMod | KeepEqual | DropEqual
        ) && !tributary_translator_prometheus::text::is_label_name(&self.target_label)
        {
            return Err(ConfigError::at(
                "target_label",
                format!(
                    "{:?} is invalid target_label for {:?} action",
                    self.target_label, self.action
                ),
            ));
        }
        if self.action == HashMod && self.modulus == 0 {
            return Err(ConfigError::at(
                "modulus",
                "relabel configuration for hashmod requires non-zero modulus",
            ));
        }
        if matches!(self.action, LabelDrop | LabelKeep)
            && (!self.source_labels.is_empty()
                || !self.target_label.is_empty()
                || self.separator != ";"
                || self.replacement != "$1"
                || self.modulus != 0)
        {
            return Err(ConfigError::at(
                "action",
                format!(
                    "{:?} action requires only 'regex', and no other fields",
                    self.action
                ),
            ));
        }
        if matches!(self.action, KeepEqual | DropEqual)
            && (self.regex.source != "(.*)"
                || self.replacement != "$1"
                || self.modulus != 0
                || self.separator != ";")
        {
            return Err(ConfigError::at(
                "action",
                format!(
                    "{:?} action requires only 'source_labels' and 'target_label', and no other fields",
                    self.action
                ),
            ));
        }
        Ok(())
    }
}

fn get<'a>(labels: &'a Labels, name: &str) -> &'a str {
    labels
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v.as_str())
}

fn set(labels: &mut Labels, name: &str, value: String) {
    if value.is_empty() {
        labels.retain(|(n, _)| n != name);
        return;
    }
    match labels.iter_mut().find(|(n, _)| n == name) {
        Some(label) => label.1 = value,
        None => labels.push((name.to_owned(), value)),
    }
}

/// Applies `rules` in order; `false` when a rule dropped the set.
pub fn relabel(labels: &mut Labels, rules: &[RelabelConfig]) -> bool {
    rules.iter().all(|rule| apply(labels, rule))
}

fn apply(labels: &mut Labels, rule: &RelabelConfig) -> bool {
    let value = rule
        .source_labels
        .iter()
        .map(|name| get(labels, name))
        .collect::<Vec<_>>()
        .join(&rule.separator);
    let regex = &rule.regex.regex;
    match rule.action {
        Action::Drop => return !regex.is_match(&value),
        Action::Keep => return regex.is_match(&value),
        Action::DropEqual => return get(labels, &rule.target_label) != value,
        Action::KeepEqual => return get(labels, &rule.target_label) == value,
        Action::Replace => {
            // Prometheus's shortcut: the default regex with `$1` copies the value itself.
            let Some(captures) = regex.captures(&value) else {
                return true;
            };
            let mut target = String::new();
            captures.expand(&rule.target_label, &mut target);
            if !tributary_translator_prometheus::text::is_label_name(&target) {
                return true;
            }
            let mut result = String::new();
            captures.expand(&rule.replacement, &mut result);
            set(labels, &target, result);
        }
        Action::Lowercase => set(labels, &rule.target_label, value.to_lowercase()),
        Action::Uppercase => set(labels, &rule.target_label, value.to_uppercase()),
        Action::HashMod => {
            let hash = Md5::digest(value.as_bytes());
            let mut low = [0u8; 8];
            low.copy_from_slice(&hash[8..]);
            let modded = u64::from_be_bytes(low) % rule.modulus;
            set(labels, &rule.target_label, modded.to_string());
        }
        Action::LabelMap => {
            let mut added = Vec::new();
            for (name, value) in labels.iter() {
                if let Some(captures) = regex.captures(name) {
                    let mut new_name = String::new();
                    captures.expand(&rule.replacement, &mut new_name);
                    added.push((new_name, value.clone()));
                }
            }
            for (name, value) in added {
                set(labels, &name, value);
            }
        }
        Action::LabelDrop => labels.retain(|(name, _)| !regex.is_match(name)),
        Action::LabelKeep => labels.retain(|(name, _)| regex.is_match(name)),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_confmap::Conf;

    fn rules(yaml: &str) -> Vec<RelabelConfig> {
        #[derive(Deserialize)]
        struct Rules {
            rules: Vec<RelabelConfig>,
        }
        let rules: Rules = Conf::from_yaml(yaml).unwrap().decode().unwrap();
        for rule in &rules.rules {
            rule.validate().unwrap();
        }
        rules.rules
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_action() {
        let mut set = labels(&[
            ("__address__", "host:9100"),
            ("env", "Prod"),
            ("__meta_x", "1"),
            ("team", "prod"),
        ]);
        let all = rules(concat!(
            "rules:\n",
            "- {source_labels: [__address__], regex: '(.*):(\\d+)', target_label: port, replacement: '${2}'}\n",
            "- {source_labels: [env], target_label: env_lower, action: lowercase}\n",
            "- {source_labels: [env], target_label: env_upper, action: uppercase}\n",
            "- {source_labels: [__address__], target_label: shard, modulus: 4, action: hashmod}\n",
            "- {regex: '__meta_(.*)', replacement: 'meta_$1', action: labelmap}\n",
            "- {regex: '__meta_.*', action: labeldrop}\n",
            "- {source_labels: [env_lower], target_label: team, action: keepequal}\n",
            "- {source_labels: [port], regex: '9100', action: keep}\n",
            "- {regex: 'env_upper|port|shard|meta_x|team|env|env_lower|__address__', action: labelkeep}\n",
        ));
        assert!(relabel(&mut set, &all));
        assert_eq!(get(&set, "port"), "9100");
        assert_eq!(get(&set, "env_lower"), "prod");
        assert_eq!(get(&set, "env_upper"), "PROD");
        assert_eq!(get(&set, "meta_x"), "1");
        assert_eq!(get(&set, "__meta_x"), "");
        let shard: u64 = get(&set, "shard").parse().unwrap();
        assert!(shard < 4);
        // Prometheus's relabel_test: hashmod of "baz" with modulus 1000 is 976.
        let mut foo = labels(&[("a", "baz")]);
        assert!(relabel(
            &mut foo,
            &rules(
                "rules: [{source_labels: [a], target_label: h, modulus: 1000, action: hashmod}]"
            )
        ));
        assert_eq!(get(&foo, "h"), "976");

        let mut dropped = labels(&[("a", "x"), ("b", "y")]);
        assert!(!relabel(
            &mut dropped.clone(),
            &rules("rules: [{source_labels: [a], regex: x, action: drop}]")
        ));
        assert!(!relabel(
            &mut dropped.clone(),
            &rules("rules: [{source_labels: [a], target_label: b, action: keepequal}]")
        ));
        assert!(relabel(
            &mut dropped.clone(),
            &rules("rules: [{source_labels: [a], target_label: b, action: dropequal}]")
        ));
        // An empty replacement deletes the label; an unmatched regex changes nothing.
        assert!(relabel(
            &mut dropped,
            &rules(
                "rules: [{source_labels: [a], target_label: b, replacement: ''}, {source_labels: [a], regex: nope, target_label: c}]"
            )
        ));
        assert_eq!(dropped, labels(&[("a", "x")]));
    }

    #[test]
    fn validation_follows_prometheus() {
        let bad = |yaml: &str| {
            #[derive(Deserialize)]
            struct Rules {
                rules: Vec<RelabelConfig>,
            }
            let r: Rules = Conf::from_yaml(yaml).unwrap().decode().unwrap();
            r.rules[0].validate().unwrap_err()
        };
        assert!(
            bad("rules: [{action: hashmod, target_label: x}]")
                .to_string()
                .contains("modulus")
        );
        assert!(
            bad("rules: [{action: replace}]")
                .to_string()
                .contains("target_label")
        );
        assert!(
            bad("rules: [{action: labeldrop, regex: a, target_label: b}]")
                .to_string()
                .contains("only")
        );
        let unknown = Conf::from_yaml("rules: [{action: frob}]").unwrap();
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Rules {
            rules: Vec<RelabelConfig>,
        }
        assert!(unknown.decode::<Rules>().is_err());
    }
}
