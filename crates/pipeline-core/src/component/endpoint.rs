//! Listening endpoints as the Go Collector's components accept them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Parses a listening endpoint the way the Go Collector accepts it: `ip:port`,
/// `[ipv6]:port`, `localhost:port` (the IPv4 loopback), or `:port` (every interface).
/// The error is a message for [`ConfigError::at`](super::ConfigError::at).
///
/// ```
/// use tributary_pipeline_core::component::parse_endpoint;
///
/// assert_eq!(parse_endpoint("localhost:4317").unwrap().to_string(), "127.0.0.1:4317");
/// assert_eq!(parse_endpoint(":13133").unwrap().to_string(), "0.0.0.0:13133");
/// assert!(parse_endpoint("example.com:80").is_err());
/// ```
pub fn parse_endpoint(endpoint: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = endpoint.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let invalid = || {
        format!(
            "invalid socket address {endpoint:?}: expected host:port, where host is an IP \
             address, localhost, or empty for every interface"
        )
    };
    let (host, port) = endpoint.rsplit_once(':').ok_or_else(invalid)?;
    let port: u16 = port.parse().map_err(|_| invalid())?;
    let ip = match host {
        "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        _ => return Err(invalid()),
    };
    Ok(SocketAddr::new(ip, port))
}
