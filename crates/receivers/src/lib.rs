//! tributary-receivers
