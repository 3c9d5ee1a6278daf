//! tributary-pipeline-core
