//! The `system` detector: the host's name (by `hostname_sources`), id, OS and CPU.

use std::net::IpAddr;
use std::path::Path;

use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::proto::common::v1::{
    AnyValue, ArrayValue, KeyValue, any_value,
};

use super::config::SystemConfig;

/// Where the detector reads the host: `/` in production, a fixture in tests.
#[derive(Debug, Clone)]
pub(crate) struct HostFiles<'a> {
    pub(crate) root: &'a Path,
}

impl HostFiles<'_> {
    fn read(&self, absolute: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(absolute.trim_start_matches('/'))).ok()
    }
}

/// Detects the enabled attributes; fails only when `host.name` is enabled and no source
/// gives one (Go's "all hostname sources failed").
pub(crate) fn detect(
    config: &SystemConfig,
    files: &HostFiles<'_>,
) -> Result<Vec<KeyValue>, String> {
    let mut out = Vec::new();
    let uname = rustix::system::uname();
    let text = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
    let (sysname, nodename) = (text(uname.sysname()), text(uname.nodename()));
    let (release, version, machine) = (
        text(uname.release()),
        text(uname.version()),
        text(uname.machine()),
    );
    if config.enabled("host.name") {
        let name = config
            .hostname_sources
            .iter()
            .find_map(|source| hostname_from(source, &nodename, files))
            .ok_or_else(|| {
                format!(
                    "all hostname sources failed ({})",
                    config.hostname_sources.join(", ")
                )
            })?;
        out.push(key_value("host.name", name));
    }
    if config.enabled("host.id")
        && let Some(id) = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
            .iter()
            .find_map(|p| {
                files
                    .read(p)
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            })
    {
        out.push(key_value("host.id", id));
    }
    if config.enabled("host.arch") {
        out.push(key_value("host.arch", host_arch(std::env::consts::ARCH)));
    }
    if config.enabled("os.type") {
        out.push(key_value("os.type", std::env::consts::OS));
    }
    let release_info = files
        .read("/etc/os-release")
        .or_else(|| files.read("/usr/lib/os-release"))
        .unwrap_or_default();
    let os_field = |key: &str| {
        release_info.lines().find_map(|line| {
            let value = line.strip_prefix(key)?.strip_prefix('=')?;
            Some(value.trim().trim_matches('"').to_string())
        })
    };
    if config.enabled("os.description") {
        let kernel = format!("{sysname} {release} {version} {machine}");
        let description = match os_field("PRETTY_NAME") {
            Some(pretty) => format!("{pretty} ({kernel})"),
            None => kernel,
        };
        out.push(key_value("os.description", description));
    }
    for (attribute, field) in [
        ("os.name", "NAME"),
        ("os.version", "VERSION_ID"),
        ("os.build.id", "BUILD_ID"),
    ] {
        if config.enabled(attribute)
            && let Some(value) = os_field(field)
        {
            out.push(key_value(attribute, value));
        }
    }
    cpu_attributes(config, files, &mut out);
    if config.enabled("host.ip") {
        let ips = host_ips(files, &nodename);
        out.push(string_list("host.ip", ips.iter().map(IpAddr::to_string)));
    }
    if config.enabled("host.mac") {
        out.push(string_list("host.mac", host_macs(files)));
    }
    Ok(out)
}

fn string_list(key: &str, values: impl Iterator<Item = String>) -> KeyValue {
    let values = values
        .map(|s| AnyValue {
            value: Some(any_value::Value::StringValue(s)),
        })
        .collect();
    key_value(
        key,
        AnyValue {
            value: Some(any_value::Value::ArrayValue(ArrayValue { values })),
        },
    )
}

/// The semantic-conventions `host.arch` for Rust's architecture name (Go maps `GOARCH`
/// the same way).
fn host_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}

/// `host.name` from one source, or `None` when it fails.
fn hostname_from(source: &str, nodename: &str, files: &HostFiles<'_>) -> Option<String> {
    let name = match source {
        "os" => Some(nodename.to_string()),
        "dns" => fqdn(nodename, files),
        "cname" => canonical_name(nodename),
        "lookup" => reverse_lookup(nodename),
        _ => None,
    };
    name.filter(|n| !n.is_empty())
}

/// The FQDN as Go's `fqdn` package finds it: the host's line in `/etc/hosts` (its first
/// name that extends the host name), else the canonical name from the resolver.
fn fqdn(nodename: &str, files: &HostFiles<'_>) -> Option<String> {
    let hosts = files.read("/etc/hosts").unwrap_or_default();
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let names: Vec<&str> = line.split_whitespace().skip(1).collect();
        if names.contains(&nodename) {
            let full = names
                .iter()
                .find(|n| n.starts_with(&format!("{nodename}.")))
                .unwrap_or(&names[0]);
            return Some(full.trim_end_matches('.').to_string());
        }
    }
    canonical_name(nodename)
}

/// The canonical name of `nodename` from the resolver (`AI_CANONNAME`).
fn canonical_name(nodename: &str) -> Option<String> {
    let hints = dns_lookup::AddrInfoHints {
        flags: 0x0002, // AI_CANONNAME
        ..Default::default()
    };
    let mut found = dns_lookup::getaddrinfo(Some(nodename), None, Some(hints)).ok()?;
    found
        .find_map(|info| info.ok()?.canonname)
        .map(|name| name.trim_end_matches('.').to_string())
}

/// The name a reverse lookup of one of the host's addresses gives.
fn reverse_lookup(nodename: &str) -> Option<String> {
    let addresses = dns_lookup::lookup_host(nodename).ok()?;
    addresses.into_iter().find_map(|ip| {
        dns_lookup::lookup_addr(&ip)
            .ok()
            .filter(|name| name.parse::<IpAddr>().is_err())
            .map(|name| name.trim_end_matches('.').to_string())
    })
}

/// `host.cpu.*` from the first processor of `/proc/cpuinfo`.
fn cpu_attributes(config: &SystemConfig, files: &HostFiles<'_>, out: &mut Vec<KeyValue>) {
    let wanted = [
        "host.cpu.vendor.id",
        "host.cpu.family",
        "host.cpu.model.id",
        "host.cpu.model.name",
        "host.cpu.stepping",
        "host.cpu.cache.l2.size",
    ];
    if !wanted.iter().any(|w| config.enabled(w)) {
        return;
    }
    let cpuinfo = files.read("/proc/cpuinfo").unwrap_or_default();
    let first = cpuinfo.split("\n\n").next().unwrap_or("");
    let field = |name: &str| {
        first.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == name).then(|| value.trim().to_string())
        })
    };
    for (attribute, name) in [
        ("host.cpu.vendor.id", "vendor_id"),
        ("host.cpu.family", "cpu family"),
        ("host.cpu.model.id", "model"),
        ("host.cpu.model.name", "model name"),
        ("host.cpu.stepping", "stepping"),
    ] {
        if config.enabled(attribute)
            && let Some(value) = field(name)
        {
            out.push(key_value(attribute, value));
        }
    }
    if config.enabled("host.cpu.cache.l2.size")
        && let Some(size) = field("cache size").and_then(|s| parse_cache_size(&s))
    {
        out.push(key_value("host.cpu.cache.l2.size", size));
    }
}

/// `512 KB` → 524288 bytes.
fn parse_cache_size(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace();
    let number: i64 = parts.next()?.parse().ok()?;
    let unit = match parts.next().unwrap_or("") {
        "KB" | "kB" | "K" => 1024,
        "MB" | "M" => 1024 * 1024,
        _ => 1,
    };
    Some(number * unit)
}

/// The host's addresses, loopback and link-local excluded: IPv4 from the kernel's local
/// routing table (`/proc/net/fib_trie`), IPv6 from `/proc/net/if_inet6`; when neither
/// file helps, the resolver's addresses of the host name.
fn host_ips(files: &HostFiles<'_>, nodename: &str) -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = Vec::new();
    let trie = files.read("/proc/net/fib_trie").unwrap_or_default();
    let lines: Vec<&str> = trie.lines().collect();
    for pair in lines.windows(2) {
        if pair[1].trim() == "/32 host LOCAL"
            && let Some(ip) = pair[0]
                .trim()
                .strip_prefix("|-- ")
                .and_then(|s| s.parse().ok())
        {
            ips.push(IpAddr::V4(ip));
        }
    }
    let inet6 = files.read("/proc/net/if_inet6").unwrap_or_default();
    for line in inet6.lines() {
        if let Some(hex) = line.split_whitespace().next()
            && hex.len() == 32
            && let Ok(bits) = u128::from_str_radix(hex, 16)
        {
            ips.push(IpAddr::V6(bits.into()));
        }
    }
    if ips.is_empty() {
        ips = dns_lookup::lookup_host(nodename)
            .map(|found| found.into_iter().collect())
            .unwrap_or_default();
    }
    ips.retain(|ip| {
        !ip.is_loopback()
            && !ip.is_unspecified()
            && match ip {
                IpAddr::V4(v4) => !v4.is_link_local(),
                IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
            }
    });
    ips.sort();
    ips.dedup();
    ips
}

/// The hardware addresses of the host's interfaces (`/sys/class/net/*/address`), in the
/// semantic conventions' form (`AC-DE-48-23-45-67`); loopback's zero address left out.
fn host_macs(files: &HostFiles<'_>) -> impl Iterator<Item = String> {
    let dir = files.root.join("sys/class/net");
    let mut macs: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| std::fs::read_to_string(entry.path().join("address")).ok())
                .map(|mac| mac.trim().replace(':', "-").to_uppercase())
                .filter(|mac| !mac.is_empty() && mac.chars().any(|c| c != '0' && c != '-'))
                .collect()
        })
        .unwrap_or_default();
    macs.sort();
    macs.dedup();
    macs.into_iter()
}
