//! The operators that decide where entries go: `filter`, `router` and `noop`.

use super::super::config::OperatorConfig;
use super::super::entry::{Entry, now_nanos};
use super::super::expr::Expr;
use super::super::pipeline::{Common, Emitted, Operator};
use super::super::value::Value;
use super::required;

/// `filter`: drops entries for which `expr` holds (a `drop_ratio` share of them).
pub(crate) struct Filter {
    common: Common,
    expr: Expr,
    drop_ratio: f64,
    /// xorshift64 state: sampling needs no cryptographic randomness.
    state: u64,
}

impl Filter {
    pub(crate) fn new(common: Common, config: &OperatorConfig) -> Result<Self, String> {
        let expr =
            Expr::parse(required(&config.expr, "expr")?).map_err(|e| format!("expr: {e}"))?;
        let drop_ratio = config.drop_ratio.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&drop_ratio) {
            return Err(format!(
                "drop_ratio must be between 0 and 1, got {drop_ratio}"
            ));
        }
        Ok(Filter {
            common,
            expr,
            drop_ratio,
            state: (now_nanos() as u64) | 1,
        })
    }

    fn random(&mut self) -> f64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Operator for Filter {
    fn process(&mut self, entry: Entry, out: &mut Emitted) {
        if !self.common.applies(&entry) || !self.expr.matches(&entry) {
            out.push((0, entry));
            return;
        }
        let drop = self.drop_ratio >= 1.0 || self.random() < self.drop_ratio;
        if !drop {
            out.push((0, entry));
        }
    }
}

/// `router`: sends each entry to the first route whose `expr` holds (adding that
/// route's attributes), or to `default`, or drops it.
pub(crate) struct Router {
    routes: Vec<(Expr, Vec<(String, Value)>)>,
}

impl Router {
    pub(crate) fn new(config: &OperatorConfig) -> Result<Self, String> {
        let routes = required(&config.routes, "routes")?;
        if routes.is_empty() {
            return Err("`routes` must have at least one route".into());
        }
        let routes = routes
            .iter()
            .enumerate()
            .map(|(i, route)| {
                let expr =
                    Expr::parse(&route.expr).map_err(|e| format!("routes[{i}].expr: {e}"))?;
                let attributes = route
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Ok((expr, attributes))
            })
            .collect::<Result<_, String>>()?;
        Ok(Router { routes })
    }
}

impl Operator for Router {
    fn process(&mut self, mut entry: Entry, out: &mut Emitted) {
        for (port, (expr, attributes)) in self.routes.iter().enumerate() {
            if expr.matches(&entry) {
                for (key, value) in attributes {
                    entry.attributes.insert(key.clone(), value.clone());
                }
                out.push((port, entry));
                return;
            }
        }
        out.push((self.routes.len(), entry));
    }
}

/// `noop`: passes entries on unchanged (a join point for router outputs).
pub(crate) struct Noop;

impl Operator for Noop {
    fn process(&mut self, entry: Entry, out: &mut Emitted) {
        out.push((0, entry));
    }
}
