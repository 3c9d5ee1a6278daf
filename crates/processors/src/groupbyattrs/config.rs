//! The `groupbyattrs` processor's configuration: Go's `keys`.

use serde::Deserialize;
use tributary_pipeline_core::component::ComponentConfig;

/// Configuration of the `groupbyattrs` processor. See the [module docs](super).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The record attributes moved to the resource; none: only compaction. A key listed
    /// twice is moved once (Go accepts it too).
    pub keys: Vec<String>,
}

impl ComponentConfig for Config {}
