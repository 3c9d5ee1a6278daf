//! The `attributes` processor's configuration: Go's `include`, `exclude` and `actions`.

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use crate::attraction::{ActionConfig, Actions};
use crate::filterconfig::{MatchProperties, Matcher};

/// Configuration of the `attributes` processor. See the [module docs](super) for the table.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Only items matching these properties are acted on.
    pub include: Option<MatchProperties>,
    /// Items matching these properties are left alone.
    pub exclude: Option<MatchProperties>,
    /// The actions, applied in order; at least one.
    pub actions: Vec<ActionConfig>,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        Actions::compile(&self.actions).map_err(|e| e.within("actions"))?;
        Matcher::check(self.include.as_ref(), self.exclude.as_ref())
    }
}
