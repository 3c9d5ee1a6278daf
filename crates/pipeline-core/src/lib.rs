//! Tributary's framework.
pub mod pdata;
