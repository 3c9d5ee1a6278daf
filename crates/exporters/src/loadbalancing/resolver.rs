//! Where the list of backends comes from: a fixed list (`static`) or a DNS name
//! re-resolved on an interval (`dns`).

use std::net::IpAddr;
use std::time::Duration;

use super::config::DnsResolverConfig;

/// A source of backends.
#[derive(Clone, Debug)]
pub(crate) enum Resolver {
    /// `resolver::static`: these backends, for good.
    Static(Vec<String>),
    /// `resolver::dns`.
    Dns(DnsResolverConfig),
    /// Tests: a list the test changes, read every 10ms.
    #[cfg(test)]
    Manual(std::sync::Arc<std::sync::Mutex<Vec<String>>>),
}

impl Resolver {
    /// The backends now, sorted (Go's resolvers sort too, which keeps the ring the same
    /// whatever order addresses come in), named as Go names them on its ring: static
    /// hostnames as written (`backend-1` or `backend-1:4317`), DNS answers `ip:port`.
    pub(crate) async fn resolve(&self) -> Result<Vec<String>, String> {
        match self {
            Resolver::Static(hostnames) => {
                let mut backends = hostnames.clone();
                backends.sort();
                backends.dedup();
                Ok(backends)
            }
            Resolver::Dns(config) => {
                let port = config.port.parse::<u16>().map_err(|e| e.to_string())?;
                let lookup = tokio::net::lookup_host((config.hostname.as_str(), port));
                let addresses = tokio::time::timeout(config.timeout, lookup)
                    .await
                    .map_err(|_| format!("resolving {:?} timed out", config.hostname))?
                    .map_err(|e| format!("resolving {:?}: {e}", config.hostname))?;
                let mut ips: Vec<IpAddr> = addresses.map(|a| a.ip()).collect();
                ips.sort();
                ips.dedup();
                // IPv6 in brackets so `host:port` parses; as Go's `net.JoinHostPort`.
                Ok(ips
                    .into_iter()
                    .map(|ip| match ip {
                        IpAddr::V4(v4) => format!("{v4}:{port}"),
                        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
                    })
                    .collect())
            }
            #[cfg(test)]
            Resolver::Manual(list) => {
                let mut backends = list.lock().unwrap_or_else(|e| e.into_inner()).clone();
                backends.sort();
                Ok(backends)
            }
        }
    }

    /// How often to resolve again; `None` for a static list.
    pub(crate) fn interval(&self) -> Option<Duration> {
        match self {
            Resolver::Static(_) => None,
            Resolver::Dns(config) => Some(config.interval),
            #[cfg(test)]
            Resolver::Manual(_) => Some(Duration::from_millis(10)),
        }
    }
}
