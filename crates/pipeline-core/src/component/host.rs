//! The `Host`: what a running component can reach of the collector around it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::{AsAny, ComponentId, Extension};
use crate::service::ServiceHealth;

/// What a component can reach of the collector it runs in: the extensions, by ID.
///
/// ```
/// # use tributary_pipeline_core::component::{ComponentId, Host};
/// # struct FileStorage;
/// # fn find(host: &Host) {
/// let id: ComponentId = "file_storage".parse().unwrap();
/// let storage: Option<std::sync::Arc<FileStorage>> = host.extension_as(&id);
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Host {
    extensions: Arc<BTreeMap<ComponentId, Arc<dyn Extension>>>,
    health: Option<ServiceHealth>,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("extensions", &self.extensions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Host {
    /// A host offering these extensions.
    pub fn new(extensions: impl IntoIterator<Item = (ComponentId, Arc<dyn Extension>)>) -> Self {
        Host {
            extensions: Arc::new(extensions.into_iter().collect()),
            health: None,
        }
    }

    /// The same host, also offering the collector's health to components (health checks).
    pub fn with_service_health(mut self, health: ServiceHealth) -> Self {
        self.health = Some(health);
        self
    }

    /// The health of the collector the component runs in, when it runs in one.
    pub fn service_health(&self) -> Option<&ServiceHealth> {
        self.health.as_ref()
    }

    /// The extension with this ID, if configured and started.
    pub fn extension(&self, id: &ComponentId) -> Option<&Arc<dyn Extension>> {
        self.extensions.get(id)
    }

    /// The extension with this ID as its concrete type; `None` if there is no such
    /// extension or it is of another type.
    pub fn extension_as<E: Send + Sync + 'static>(&self, id: &ComponentId) -> Option<Arc<E>> {
        let extension = Arc::clone(self.extensions.get(id)?);
        <dyn Extension as AsAny>::into_any_arc(extension)
            .downcast::<E>()
            .ok()
    }

    /// Every extension, in ID order.
    pub fn extensions(&self) -> impl Iterator<Item = (&ComponentId, &Arc<dyn Extension>)> {
        self.extensions.iter()
    }
}
