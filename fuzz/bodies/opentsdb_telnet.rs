//! The opentsdb receiver's telnet decoder: any line must give a command or the TSD's
//! error line, never a panic.

use tributary_receivers::opentsdb::{TelnetCommand, parse_telnet_line};

/// Runs the checks above on one input; a panic is a finding.
pub fn run(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    match parse_telnet_line(&line, 8) {
        Ok(TelnetCommand::Put(point)) => assert!(!point.tags.is_empty()),
        Ok(_) => {}
        Err(reply) => assert!(!reply.is_empty()),
    }
}
