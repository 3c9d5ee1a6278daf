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

/// Checks a listening endpoint's form without resolving anything: what [`parse_endpoint`]
/// accepts, or `name:port` with a DNS host name (`mysite.local:55690`), which
/// [`resolve_endpoint`] looks up when the component starts, as the Go Collector resolves
/// host names when it listens. For `validate`, which must not depend on the network.
///
/// ```
/// use tributary_pipeline_core::component::check_endpoint;
///
/// assert!(check_endpoint("mysite.local:55690").is_ok());
/// assert!(check_endpoint("[::1]:4317").is_ok());
/// assert!(check_endpoint("my_site:80").is_err());
/// ```
pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    let Err(error) = parse_endpoint(endpoint) else {
        return Ok(());
    };
    match endpoint.rsplit_once(':') {
        Some((host, port)) if is_host_name(host) && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(error.replace(
            "where host is an IP address, localhost,",
            "where host is an IP address, a host name,",
        )),
    }
}

/// The address to listen on for `endpoint`, as [`check_endpoint`] accepts it: a host name
/// is looked up (without blocking the runtime) and its first IPv4 address taken, else its
/// first address, as Go's `net.Listen("tcp", ...)` does.
pub async fn resolve_endpoint(endpoint: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = parse_endpoint(endpoint) {
        return Ok(addr);
    }
    check_endpoint(endpoint)?;
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host(endpoint)
        .await
        .map_err(|e| format!("cannot resolve {endpoint:?}: {e}"))?
        .collect();
    addresses
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addresses.first())
        .copied()
        .ok_or_else(|| format!("{endpoint:?} resolves to no address"))
}

/// Whether `host` is a DNS name: dot-separated labels of letters, digits and `-`, none
/// empty, longer than 63 or starting or ending with `-`; at most 253 characters.
fn is_host_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_checked_by_form() {
        for good in [
            "mysite.local:55690",
            "collector:4317",
            "a-b.example.com.:80",
            ":4317",
        ] {
            assert!(check_endpoint(good).is_ok(), "{good}");
        }
        for bad in ["my_site:80", "-x:1", "x", "host:99999", "host:", "a..b:1"] {
            let error = check_endpoint(bad).unwrap_err();
            assert!(error.contains("a host name"), "{bad}: {error}");
        }
    }

    #[tokio::test]
    async fn addresses_resolve_without_a_lookup_and_names_with_one() {
        assert_eq!(
            resolve_endpoint("localhost:4317").await.unwrap(),
            "127.0.0.1:4317".parse().unwrap()
        );
        assert_eq!(
            resolve_endpoint("[::1]:4317").await.unwrap(),
            "[::1]:4317".parse().unwrap()
        );
        assert!(resolve_endpoint("my_site:80").await.is_err());
    }
}
