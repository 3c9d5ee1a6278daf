//! The `network` scraper: `/proc/net/dev`, TCP connections from `/proc/net/tcp{,6}`, and
//! the conntrack counters from `/proc/sys/net/netfilter`.

use std::collections::BTreeMap;

use procfs::net::{DeviceStatus, InterfaceDeviceStatus};
use tributary_pipeline_core::pdata::attributes::key_value;
use tributary_pipeline_core::pdata::builder::{MetricsBuilder, Temporality};

use super::{Scrape, ScrapeContext, ScrapeError, int};
use crate::hostmetrics::config::IncludeExclude;
use crate::hostmetrics::metadata::Enabled;

/// Reads traffic counters per interface and TCP connections per state.
pub(crate) struct NetworkScraper {
    pub(crate) enabled: Enabled,
    pub(crate) interfaces: IncludeExclude,
}

/// The states Go reports (at zero when no connection is in them).
const ALL_TCP_STATES: [&str; 12] = [
    "CLOSE_WAIT",
    "CLOSE",
    "CLOSING",
    "DELETE",
    "ESTABLISHED",
    "FIN_WAIT_1",
    "FIN_WAIT_2",
    "LAST_ACK",
    "LISTEN",
    "SYN_SENT",
    "SYN_RECEIVED",
    "TIME_WAIT",
];

/// The name gopsutil gives the kernel's hexadecimal TCP state (`st` column).
fn tcp_state(hex: &str) -> &'static str {
    match hex {
        "01" => "ESTABLISHED",
        "02" => "SYN_SENT",
        "03" => "SYN_RECV",
        "04" => "FIN_WAIT1",
        "05" => "FIN_WAIT2",
        "06" => "TIME_WAIT",
        "07" => "CLOSE",
        "08" => "CLOSE_WAIT",
        "09" => "LAST_ACK",
        "0A" => "LISTEN",
        "0B" => "CLOSING",
        _ => "UNKNOWN",
    }
}

/// Counts connections per state in the text of `/proc/net/tcp` or `tcp6`.
pub fn count_tcp_states(text: &str, counts: &mut BTreeMap<&'static str, u64>) {
    for line in text.lines().skip(1) {
        if let Some(state) = line.split_whitespace().nth(3) {
            *counts.entry(tcp_state(state)).or_default() += 1;
        }
    }
}

impl Scrape for NetworkScraper {
    fn name(&self) -> &'static str {
        "network"
    }

    fn scrape(&self, cx: &ScrapeContext<'_>, out: &mut MetricsBuilder) -> Result<(), ScrapeError> {
        let start = cx.fs.boot_time_nanos()?;
        let devices: InterfaceDeviceStatus = cx.fs.read(&cx.fs.net("dev"))?;
        let mut devices: Vec<&DeviceStatus> = devices
            .0
            .values()
            .filter(|d| self.interfaces.passes(&d.name))
            .collect();
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        cx.begin(out, "network");
        let dir = |d: &DeviceStatus, direction: &str| {
            vec![
                key_value("device", d.name.as_str()),
                key_value("direction", direction),
            ]
        };
        type Pick = fn(&DeviceStatus) -> (u64, u64);
        let counters: [(&str, &str, &str, Pick); 4] = [
            (
                "system.network.dropped",
                "{packets}",
                "The number of packets dropped.",
                |d| (d.recv_drop, d.sent_drop),
            ),
            (
                "system.network.errors",
                "{errors}",
                "The number of errors encountered.",
                |d| (d.recv_errs, d.sent_errs),
            ),
            (
                "system.network.io",
                "By",
                "The number of bytes transmitted and received.",
                |d| (d.recv_bytes, d.sent_bytes),
            ),
            (
                "system.network.packets",
                "{packets}",
                "The number of packets transferred.",
                |d| (d.recv_packets, d.sent_packets),
            ),
        ];
        for (name, unit, description, pick) in counters {
            if !self.enabled.has(name) {
                continue;
            }
            let mut sum = out.sum(name, unit, Temporality::Cumulative, true);
            sum.description(description);
            for d in &devices {
                let (receive, transmit) = pick(d);
                sum.int(dir(d, "receive"), start, cx.now, int(receive));
                sum.int(dir(d, "transmit"), start, cx.now, int(transmit));
            }
        }
        let mut result = Ok(());
        if self.enabled.has("system.network.connections") {
            let mut counts: BTreeMap<&'static str, u64> =
                ALL_TCP_STATES.iter().map(|s| (*s, 0)).collect();
            for file in ["tcp", "tcp6"] {
                match cx.fs.read_text(&cx.fs.net(file)) {
                    Ok(text) => count_tcp_states(&text, &mut counts),
                    // A kernel without IPv6 has no tcp6.
                    Err(_) if file == "tcp6" => {}
                    Err(e) => result = Err(e),
                }
            }
            let mut sum = out.sum(
                "system.network.connections",
                "{connections}",
                Temporality::Cumulative,
                false,
            );
            sum.description("The number of connections.");
            for (state, count) in counts {
                let attributes = vec![key_value("protocol", "tcp"), key_value("state", state)];
                sum.int(attributes, cx.started, cx.now, int(count));
            }
        }
        for (name, file, description) in [
            (
                "system.network.conntrack.count",
                "sys/net/netfilter/nf_conntrack_count",
                "The count of entries in conntrack table.",
            ),
            (
                "system.network.conntrack.max",
                "sys/net/netfilter/nf_conntrack_max",
                "The limit for entries in the conntrack table.",
            ),
        ] {
            if !self.enabled.has(name) {
                continue;
            }
            match cx.fs.read_text(file) {
                Ok(text) => {
                    let value = text.trim().parse::<u64>().unwrap_or(0);
                    out.sum(name, "{entries}", Temporality::Cumulative, false)
                        .description(description)
                        .int(vec![], cx.started, cx.now, int(value));
                }
                Err(e) => result = Err(e),
            }
        }
        result
    }
}
