//! The `forward` connector's configuration: none.

use serde::Deserialize;
use tributary_pipeline_core::component::ComponentConfig;

/// `forward` has no settings; any key is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {}

impl ComponentConfig for Config {}
