#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../bodies/elasticsearch_bulk_response.rs"]
mod body;

fuzz_target!(|data: &[u8]| body::run(data));
