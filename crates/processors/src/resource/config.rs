//! The `resource` processor's configuration: Go's `attributes` list of actions.

use serde::Deserialize;
use tributary_pipeline_core::component::{ComponentConfig, ConfigError};

use crate::attraction::{ActionConfig, Actions};

/// Configuration of the `resource` processor. See the [module docs](super).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The actions, applied in order to each resource; at least one.
    pub attributes: Vec<ActionConfig>,
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        Actions::compile(&self.attributes)
            .map(drop)
            .map_err(|e| e.within("attributes"))
    }
}
