//! The `Host`: what a running component can reach of the collector around it.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use super::{AsAny, ComponentId, Extension};

/// What an extension offers other components, by the trait they use it through: storage
/// for persistent queues (`dyn QueueStorage`), an authenticator. An extension fills it in
/// [`Extension::capabilities`]; components find it with [`Host::capability`].
#[derive(Default)]
pub struct ExtensionCapabilities(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl ExtensionCapabilities {
    /// Offers `capability` as `C` (usually a trait object type, `dyn QueueStorage`).
    pub fn offer<C: ?Sized + Send + Sync + 'static>(&mut self, capability: Arc<C>) {
        self.0.insert(TypeId::of::<C>(), Box::new(capability));
    }

    /// The capability offered as `C`, if any.
    pub fn get<C: ?Sized + Send + Sync + 'static>(&self) -> Option<Arc<C>> {
        self.0
            .get(&TypeId::of::<C>())?
            .downcast_ref::<Arc<C>>()
            .cloned()
    }
}

/// One configured extension and what it offers.
struct HostedExtension {
    extension: Arc<dyn Extension>,
    capabilities: ExtensionCapabilities,
}

/// What a component can reach of the collector it runs in: the extensions, by ID, with
/// the capabilities they offer, and the services the collector itself offers (its
/// [`ServiceHealth`](crate::service::ServiceHealth)), by type.
///
/// ```
/// # use std::sync::Arc;
/// # use tributary_pipeline_core::component::{ComponentId, Host};
/// # use tributary_pipeline_core::exporterhelper::QueueStorage;
/// # fn find(host: &Host) {
/// let id: ComponentId = "file_storage".parse().unwrap();
/// let storage: Option<Arc<dyn QueueStorage>> = host.capability::<dyn QueueStorage>(&id);
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Host {
    extensions: Arc<BTreeMap<ComponentId, HostedExtension>>,
    services: Arc<Vec<Arc<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("extensions", &self.extensions.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Host {
    /// A host offering these extensions, and what each offers
    /// ([`Extension::capabilities`]).
    pub fn new(extensions: impl IntoIterator<Item = (ComponentId, Arc<dyn Extension>)>) -> Self {
        let extensions = extensions
            .into_iter()
            .map(|(id, extension)| {
                let mut capabilities = ExtensionCapabilities::default();
                Arc::clone(&extension).capabilities(&mut capabilities);
                (
                    id,
                    HostedExtension {
                        extension,
                        capabilities,
                    },
                )
            })
            .collect();
        Host {
            extensions: Arc::new(extensions),
            services: Arc::default(),
        }
    }

    /// The same host, also offering `service` to every component, found by its type with
    /// [`service`](Self::service). The collector offers its
    /// [`ServiceHealth`](crate::service::ServiceHealth) this way.
    pub fn with_service<T: Any + Send + Sync>(self, service: Arc<T>) -> Self {
        self.with_any_service(service)
    }

    /// [`with_service`](Self::with_service) for a service already type-erased.
    pub(crate) fn with_any_service(mut self, service: Arc<dyn Any + Send + Sync>) -> Self {
        Arc::make_mut(&mut self.services).push(service);
        self
    }

    /// The service of type `T` the collector offers, if it offers one.
    pub fn service<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.services
            .iter()
            .find_map(|service| Arc::clone(service).downcast::<T>().ok())
    }

    /// The extension with this ID, if configured and started.
    pub fn extension(&self, id: &ComponentId) -> Option<&Arc<dyn Extension>> {
        self.extensions.get(id).map(|hosted| &hosted.extension)
    }

    /// What the extension with this ID offers as `C` (`dyn QueueStorage`); `None` if there
    /// is no such extension or it offers no `C`.
    pub fn capability<C: ?Sized + Send + Sync + 'static>(
        &self,
        id: &ComponentId,
    ) -> Option<Arc<C>> {
        self.extensions.get(id)?.capabilities.get::<C>()
    }

    /// The extension with this ID as its concrete type; `None` if there is no such
    /// extension or it is of another type.
    pub fn extension_as<E: Send + Sync + 'static>(&self, id: &ComponentId) -> Option<Arc<E>> {
        let extension = Arc::clone(&self.extensions.get(id)?.extension);
        <dyn Extension as AsAny>::into_any_arc(extension)
            .downcast::<E>()
            .ok()
    }

    /// Every extension, in ID order.
    pub fn extensions(&self) -> impl Iterator<Item = (&ComponentId, &Arc<dyn Extension>)> {
        self.extensions
            .iter()
            .map(|(id, hosted)| (id, &hosted.extension))
    }
}
