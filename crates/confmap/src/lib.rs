//! tributary-confmap
