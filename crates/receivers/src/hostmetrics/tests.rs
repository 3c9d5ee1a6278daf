//! The `hostmetrics` receiver's tests: the configuration, every scraper against a fake
//! `root_path` tree (values only the fixture has), per-process error accounting, partial
//! scrape errors, the parsers' properties and the conformance suite.

mod config;
mod fixture;
mod scrape;
