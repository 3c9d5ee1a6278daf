//! The zipkin receiver's decoder (V2Proto bodies): never panics, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_receivers::zipkin::{Format, decode};

fuzz_target!(|data: &[u8]| {
    let _ = decode(Format::V2Proto, data, true);
});
