//! tributary-processors
