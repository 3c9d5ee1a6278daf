//! Converters: edits applied to the configuration after merging and expansion.

use crate::conf::Conf;
use crate::error::Error;

/// Edits a resolved configuration. The [`Resolver`](crate::Resolver) runs its converters in
/// order after all sources are merged and every `${...}` is expanded; an error stops
/// resolution and is reported with the converter's [`name`](Converter::name).
///
/// ```
/// use tributary_confmap::{Conf, Converter, Error};
///
/// /// Fills in a default exporter when none is configured.
/// struct DefaultExporter;
///
/// impl Converter for DefaultExporter {
///     fn convert(&self, conf: &mut Conf) -> Result<(), Error> {
///         if !conf.contains("exporters") {
///             conf.set("exporters::debug", Conf::new());
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Converter: Send + Sync + 'static {
    /// Edits the configuration in place.
    fn convert(&self, conf: &mut Conf) -> Result<(), Error>;

    /// A name for error messages; the type's name unless overridden.
    fn name(&self) -> &str {
        std::any::type_name::<Self>()
    }
}
