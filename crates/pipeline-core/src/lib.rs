//! Tributary's framework.
pub mod component;
pub mod config;
pub mod consumer;
pub mod exporterhelper;
pub mod extensions;
pub mod graph;
pub mod pdata;
pub mod service;
pub mod telemetry;

#[cfg(test)]
mod testing;
