//! tributary-confmap
mod conf;
mod decode;
pub mod duration;
mod error;
mod path;
mod value;
mod yaml;
pub use conf::Conf;
pub use decode::DecodeError;
pub use error::Error;
pub use value::{Map, Value};
