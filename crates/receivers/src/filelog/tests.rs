//! The `filelog` receiver's tests: the splitter, the tracker on real files, the
//! configuration and the receiver in a pipeline.

mod config;
mod receiver;
mod split;
mod tracker;
