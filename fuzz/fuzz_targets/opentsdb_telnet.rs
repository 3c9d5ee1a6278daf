//! The opentsdb receiver's telnet decoder: any line must give a command or the TSD's
//! error line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_receivers::opentsdb::{TelnetCommand, parse_telnet_line};

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    match parse_telnet_line(&line, 8) {
        Ok(TelnetCommand::Put(point)) => assert!(!point.tags.is_empty()),
        Ok(_) => {}
        Err(reply) => assert!(!reply.is_empty()),
    }
});
