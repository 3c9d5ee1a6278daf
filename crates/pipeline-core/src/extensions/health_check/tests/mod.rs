//! The health check in a running collector: what it answers while the collector starts,
//! runs, stalls, fails, reloads and stops.

mod harness;
mod lifecycle;
mod problems;
