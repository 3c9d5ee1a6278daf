//! collectd `write_http` JSON bodies (the collectd receiver's decoder): decoding never
//! panics, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_receivers::collectd::decode;

fuzz_target!(|data: &[u8]| {
    let _ = decode(data, &[("run".to_string(), "fuzz".to_string())]);
});
