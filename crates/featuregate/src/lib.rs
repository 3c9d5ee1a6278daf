//! tributary-featuregate
