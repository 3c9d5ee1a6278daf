//! tributary-exporters
