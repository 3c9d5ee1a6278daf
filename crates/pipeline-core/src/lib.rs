//! Tributary's framework.
pub mod consumer;
pub mod pdata;
