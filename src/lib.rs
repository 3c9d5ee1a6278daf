//! tributary
