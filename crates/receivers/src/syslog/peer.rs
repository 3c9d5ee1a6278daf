//! The `net.*` attributes of `add_attributes`, with host names found by reverse DNS and
//! cached, as stanza's `IPResolver` does.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::KeyValue;

/// How long a looked-up name is reused (stanza's resolver refreshes every 5 minutes).
const NAME_TTL: Duration = Duration::from_secs(300);
/// At most this many names are cached, whatever peers connect.
const MAX_NAMES: usize = 1024;

/// Host names by address, looked up on a blocking thread and cached.
#[derive(Default)]
pub(super) struct HostNames {
    cache: Mutex<HashMap<IpAddr, (String, Instant)>>,
}

impl HostNames {
    /// The name of `ip` (its reverse DNS name, or the address itself when it has none,
    /// as in Go).
    pub(super) async fn name(&self, ip: IpAddr) -> String {
        let now = Instant::now();
        if let Some((name, at)) = self.lock().get(&ip)
            && now.duration_since(*at) < NAME_TTL
        {
            return name.clone();
        }
        let name = tokio::task::spawn_blocking(move || dns_lookup::lookup_addr(&ip))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|name| name.trim_end_matches('.').to_string())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| ip.to_string());
        let mut cache = self.lock();
        if cache.len() >= MAX_NAMES {
            cache.retain(|_, (_, at)| now.duration_since(*at) < NAME_TTL);
            if cache.len() >= MAX_NAMES {
                cache.clear();
            }
        }
        cache.insert(ip, (name.clone(), now));
        name
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (String, Instant)>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stanza's attributes for a message from `peer` received on `local` over
    /// `transport` (`IP.TCP` or `IP.UDP`); ports are strings, as in Go.
    pub(super) async fn attributes(
        &self,
        transport: &str,
        peer: SocketAddr,
        local: Option<SocketAddr>,
    ) -> Vec<KeyValue> {
        let mut attributes = vec![
            key_value("net.transport", transport),
            key_value("net.peer.ip", peer.ip().to_string()),
            key_value("net.peer.port", peer.port().to_string()),
            key_value("net.peer.name", self.name(peer.ip()).await),
        ];
        if let Some(local) = local {
            attributes.extend([
                key_value("net.host.ip", local.ip().to_string()),
                key_value("net.host.port", local.port().to_string()),
                key_value("net.host.name", self.name(local.ip()).await),
            ]);
        }
        attributes
    }
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::pdata::attributes::Attributes;

    use super::*;

    #[tokio::test]
    async fn attributes_name_both_ends_and_names_are_cached() {
        let names = HostNames::default();
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:514".parse().unwrap();
        let attributes = names.attributes("IP.TCP", peer, Some(local)).await;
        assert_eq!(attributes.get_str("net.transport"), Some("IP.TCP"));
        assert_eq!(attributes.get_str("net.peer.ip"), Some("127.0.0.1"));
        assert_eq!(attributes.get_str("net.peer.port"), Some("5555"));
        assert_eq!(attributes.get_str("net.host.port"), Some("514"));
        // The loopback address has a name in every hosts file; whatever it is, it is
        // cached.
        let name = attributes.get_str("net.peer.name").unwrap().to_string();
        assert!(!name.is_empty());
        assert_eq!(names.lock().len(), 1);
        assert_eq!(names.name(peer.ip()).await, name);
    }
}
