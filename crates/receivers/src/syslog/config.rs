//! The `syslog` receiver's configuration: the Go contrib `syslogreceiver` keys and
//! defaults (stanza's `syslog_input`: the parser's keys, `tcp`, `udp`, and the adapter's
//! `operators`, `storage`, `retry_on_failure`).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use tributary_pipeline_core::component::{ComponentConfig, ConfigError, check_endpoint};
use tributary_pipeline_core::configtls::TlsServerConfig;

use super::rfc3164::Location;

/// Go's `max_octets` default (go-syslog's longest octet-counted message).
pub const DEFAULT_MAX_OCTETS: usize = 8192;
/// Go's `tcp.max_log_size` default (stanza's `DefaultMaxLogSize`).
pub const DEFAULT_MAX_LOG_SIZE: usize = 1024 * 1024;
/// Go's smallest `tcp.max_log_size`: a smaller one is raised to it (stanza's
/// `minMaxLogSize`).
pub const MIN_MAX_LOG_SIZE: usize = 64 * 1024;

/// The syslog format the messages are parsed as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// RFC 5424 (IETF).
    Rfc5424,
    /// RFC 3164 (BSD).
    Rfc3164,
}

/// The `syslog` receiver's configuration; see the [module docs](super) for the table.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `rfc5424` or `rfc3164` (case-insensitive); required.
    pub protocol: String,
    /// IANA time zone of RFC 3164 timestamps; empty means UTC.
    pub location: String,
    /// RFC 6587 octet counting on TCP (RFC 5424 only).
    pub enable_octet_counting: bool,
    /// Accept messages without a PRI header (they get no severity, priority or facility).
    pub allow_skip_pri_header: bool,
    /// `LF` or `NUL`: RFC 6587 non-transparent framing on TCP (RFC 5424 only).
    pub non_transparent_framing_trailer: Option<String>,
    /// Longest octet-counted message; a longer one is kept unparsed and counted.
    pub max_octets: usize,
    /// Listen on TCP.
    pub tcp: Option<TcpConfig>,
    /// Listen on UDP.
    pub udp: Option<UdpConfig>,
    /// Attributes added to every record (stanza's `attributes`).
    pub attributes: BTreeMap<String, String>,
    /// Resource attributes of every record (stanza's `resource`).
    pub resource: BTreeMap<String, String>,
    /// Stanza operators after the parser: refused unless empty.
    pub operators: Vec<serde_json::Value>,
    /// Stanza's storage extension for operator state: refused, syslog keeps none.
    pub storage: Option<String>,
    /// Retry delivering to the pipeline when it refuses with a retryable error.
    pub retry_on_failure: RetryOnFailure,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            protocol: String::new(),
            location: String::new(),
            enable_octet_counting: false,
            allow_skip_pri_header: false,
            non_transparent_framing_trailer: None,
            max_octets: DEFAULT_MAX_OCTETS,
            tcp: None,
            udp: None,
            attributes: BTreeMap::new(),
            resource: BTreeMap::new(),
            operators: Vec::new(),
            storage: None,
            retry_on_failure: RetryOnFailure::default(),
        }
    }
}

/// `tcp`: stanza's `tcp_input` keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TcpConfig {
    /// `host:port` to listen on; required.
    pub listen_address: String,
    /// Longest frame buffered (bytes, or a size such as `1MiB`); 0 means the default
    /// (1 MiB), and less than 64 KiB is raised to 64 KiB, as in Go.
    #[serde(deserialize_with = "byte_size")]
    pub max_log_size: usize,
    /// Serve TLS.
    pub tls: Option<TlsServerConfig>,
    /// Add `net.*` attributes (transport, peer and local addresses and names).
    pub add_attributes: bool,
    /// Read each connection to its end as one message.
    pub one_log_per_packet: bool,
    /// Text encoding: `utf-8` (the default) only.
    pub encoding: String,
    /// Stanza's regex-based splitting: refused when set.
    pub multiline: Option<Multiline>,
    /// Keep leading whitespace of each message.
    pub preserve_leading_whitespaces: bool,
    /// Keep trailing whitespace of each message.
    pub preserve_trailing_whitespaces: bool,
}

impl TcpConfig {
    /// `max_log_size` as Go applies it: 0 is the default, small values are raised.
    pub fn effective_max_log_size(&self) -> usize {
        match self.max_log_size {
            0 => DEFAULT_MAX_LOG_SIZE,
            size => size.max(MIN_MAX_LOG_SIZE),
        }
    }
}

/// `udp`: stanza's `udp_input` keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UdpConfig {
    /// `host:port` to listen on; required.
    pub listen_address: String,
    /// Each datagram is one message, not split at newlines.
    pub one_log_per_packet: bool,
    /// Add `net.*` attributes.
    pub add_attributes: bool,
    /// Text encoding: `utf-8` (the default) only.
    pub encoding: String,
    /// Stanza's regex-based splitting: refused when set.
    pub multiline: Option<Multiline>,
    /// Keep leading whitespace of each message.
    pub preserve_leading_whitespaces: bool,
    /// Keep trailing whitespace of each message.
    pub preserve_trailing_whitespaces: bool,
    /// Stanza's concurrent readers: refused when set.
    #[serde(rename = "async")]
    pub async_config: Option<serde_json::Value>,
}

/// `multiline`: stanza's split configuration, accepted only empty.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Multiline {
    /// A regex starting each message.
    pub line_start_pattern: String,
    /// A regex ending each message.
    pub line_end_pattern: String,
    /// Drop the matched pattern.
    pub omit_pattern: bool,
}

impl Multiline {
    fn is_set(&self) -> bool {
        !self.line_start_pattern.is_empty() || !self.line_end_pattern.is_empty()
    }
}

/// `retry_on_failure`: stanza's consumer retry (`consumerretry.Config`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryOnFailure {
    /// Retry at all (default false).
    pub enabled: bool,
    /// First wait (1s).
    #[serde(with = "tributary_confmap::duration")]
    pub initial_interval: Duration,
    /// Longest wait (30s).
    #[serde(with = "tributary_confmap::duration")]
    pub max_interval: Duration,
    /// Give up after this long (5m); 0 retries until shutdown.
    #[serde(with = "tributary_confmap::duration")]
    pub max_elapsed_time: Duration,
}

impl Default for RetryOnFailure {
    fn default() -> Self {
        RetryOnFailure {
            enabled: false,
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            max_elapsed_time: Duration::from_secs(300),
        }
    }
}

impl Config {
    /// The protocol, once validated.
    pub fn protocol(&self) -> Result<Protocol, ConfigError> {
        match self.protocol.to_ascii_lowercase().as_str() {
            "rfc5424" => Ok(Protocol::Rfc5424),
            "rfc3164" => Ok(Protocol::Rfc3164),
            "" => Err(ConfigError::at(
                "protocol",
                "is required: rfc5424 or rfc3164",
            )),
            other => Err(ConfigError::at(
                "protocol",
                format!("unsupported protocol version {other:?}: rfc5424 or rfc3164"),
            )),
        }
    }

    /// The RFC 3164 time zone.
    pub fn location(&self) -> Result<Location, ConfigError> {
        Location::named(&self.location).map_err(|e| {
            ConfigError::at(
                "location",
                format!("failed to load location {:?}: {e}", self.location),
            )
        })
    }

    /// The non-transparent framing trailer byte, once validated.
    pub fn trailer(&self) -> Result<Option<u8>, ConfigError> {
        match self.non_transparent_framing_trailer.as_deref() {
            None => Ok(None),
            Some("LF") => Ok(Some(b'\n')),
            Some("NUL") => Ok(Some(0)),
            Some(other) => Err(ConfigError::at(
                "non_transparent_framing_trailer",
                format!("invalid trailer {other:?}: must be either 'LF' or 'NUL'"),
            )),
        }
    }
}

impl ComponentConfig for Config {
    fn validate(&self) -> Result<(), ConfigError> {
        let protocol = self.protocol()?;
        let trailer = self.trailer()?;
        if protocol != Protocol::Rfc5424 && (trailer.is_some() || self.enable_octet_counting) {
            return Err(ConfigError::at(
                "protocol",
                "octet_counting and non_transparent_framing are only compatible with protocol \
                 rfc5424",
            ));
        }
        if trailer.is_some() && self.enable_octet_counting {
            return Err(ConfigError::at(
                "enable_octet_counting",
                "only one of octet_counting or non_transparent_framing can be enabled",
            ));
        }
        if self.allow_skip_pri_header && self.enable_octet_counting {
            return Err(ConfigError::at(
                "allow_skip_pri_header",
                "needs enable_octet_counting: false (Go documents this and ignores the key \
                 under octet counting)",
            ));
        }
        self.location()?;
        if self.max_octets == 0 {
            return Err(ConfigError::at("max_octets", "must be at least 1"));
        }
        if !self.operators.is_empty() {
            return Err(ConfigError::at(
                "operators",
                "stanza operators are not supported yet: parse further with processors \
                 (e.g. transform) in the logs pipeline",
            ));
        }
        if self.storage.is_some() {
            return Err(ConfigError::at(
                "storage",
                "not supported: the syslog receiver keeps no state to persist (stanza uses \
                 storage only for its operators' offsets)",
            ));
        }
        for (key, value) in self.attributes.iter().chain(&self.resource) {
            if value.starts_with("EXPR(") {
                let section = if self.attributes.contains_key(key) {
                    "attributes"
                } else {
                    "resource"
                };
                return Err(ConfigError::at(
                    format!("{section}::{key}"),
                    "stanza expressions (EXPR(...)) are not supported: give a literal value",
                ));
            }
        }
        let retry = &self.retry_on_failure;
        if retry.enabled && retry.initial_interval.is_zero() {
            return Err(ConfigError::at(
                "retry_on_failure::initial_interval",
                "must be greater than 0",
            ));
        }
        match (&self.tcp, &self.udp) {
            (None, None) => Err(ConfigError::new(
                "need tcp config or udp config: set `tcp: {listen_address: ...}` or `udp: \
                 {listen_address: ...}`",
            )),
            (Some(_), Some(_)) => Err(ConfigError::at(
                "udp",
                "set either tcp or udp, not both (as in Go, where tcp wins and udp is \
                 silently ignored): use two receivers to listen on both",
            )),
            (Some(tcp), None) => validate_tcp(tcp).map_err(|e| e.within("tcp")),
            (None, Some(udp)) => {
                if self.enable_octet_counting || trailer.is_some() {
                    return Err(ConfigError::at(
                        "udp",
                        "octet_counting and non_transparent_framing are not compatible with \
                         UDP: a datagram is one message",
                    ));
                }
                validate_udp(udp).map_err(|e| e.within("udp"))
            }
        }
    }
}

fn validate_tcp(tcp: &TcpConfig) -> Result<(), ConfigError> {
    validate_listen_address(&tcp.listen_address)?;
    validate_text(&tcp.encoding, tcp.multiline.as_ref())?;
    if let Some(tls) = &tcp.tls {
        tls.validate().map_err(|e| e.within("tls"))?;
    }
    Ok(())
}

fn validate_udp(udp: &UdpConfig) -> Result<(), ConfigError> {
    validate_listen_address(&udp.listen_address)?;
    validate_text(&udp.encoding, udp.multiline.as_ref())?;
    if udp.async_config.is_some() {
        return Err(ConfigError::at(
            "async",
            "not supported: datagrams are read by one task and each one's records are handed \
             on as one batch; there are no reader or processor pools to size",
        ));
    }
    Ok(())
}

fn validate_listen_address(address: &str) -> Result<(), ConfigError> {
    if address.is_empty() {
        return Err(ConfigError::at(
            "listen_address",
            "is required (host:port to listen on)",
        ));
    }
    check_endpoint(address).map_err(|e| ConfigError::at("listen_address", e))
}

fn validate_text(encoding: &str, multiline: Option<&Multiline>) -> Result<(), ConfigError> {
    if !matches!(
        encoding.to_ascii_lowercase().as_str(),
        "" | "utf-8" | "utf8"
    ) {
        return Err(ConfigError::at(
            "encoding",
            format!(
                "{encoding:?} is not supported: syslog is read as UTF-8 (invalid bytes become \
                 U+FFFD, as Go's utf-8 decoder does)"
            ),
        ));
    }
    if multiline.is_some_and(Multiline::is_set) {
        return Err(ConfigError::at(
            "multiline",
            "not supported: syslog messages are framed by octet counts or by the \
             non-transparent framing trailer, not by patterns",
        ));
    }
    Ok(())
}

/// A size in bytes as stanza's `helper.ByteSize` reads it: a number, or a string with a
/// unit (`kb` 1000, `kib` 1024, `mb`, `mib`, `gb`, `gib`; case-insensitive).
pub(crate) fn byte_size<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Number(u64),
        Float(f64),
        Text(String),
    }
    let invalid = |what: &str| serde::de::Error::custom(format!("invalid byte size {what:?}"));
    let bytes = match Size::deserialize(deserializer)? {
        Size::Number(n) => n as f64,
        Size::Float(f) => f,
        Size::Text(text) => {
            let lower = text.trim().to_ascii_lowercase();
            let split = lower
                .find(|c: char| c.is_ascii_alphabetic())
                .unwrap_or(lower.len());
            let (number, unit) = lower.split_at(split);
            let number: f64 = number.trim().parse().map_err(|_| invalid(&text))?;
            let scale = match unit {
                "" | "b" => 1.0,
                "kb" => 1e3,
                "kib" => 1024.0,
                "mb" => 1e6,
                "mib" => 1024.0 * 1024.0,
                "gb" => 1e9,
                "gib" => 1024.0 * 1024.0 * 1024.0,
                _ => return Err(invalid(&text)),
            };
            number * scale
        }
    };
    if !bytes.is_finite() || bytes < 0.0 || bytes > usize::MAX as f64 {
        return Err(invalid(&bytes.to_string()));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use tributary_pipeline_core::component::load_config;

    use super::*;

    fn check(yaml: &str) -> Result<Config, String> {
        let config: Config = load_config(yaml).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    fn refused(yaml: &str, needle: &str) {
        let error = check(yaml).expect_err(yaml);
        assert!(error.contains(needle), "{yaml}: {error}");
    }

    #[test]
    fn go_defaults() {
        let config = check("protocol: rfc5424\ntcp: {listen_address: \"127.0.0.1:5140\"}").unwrap();
        assert_eq!(config.max_octets, 8192);
        assert!(!config.enable_octet_counting && !config.allow_skip_pri_header);
        let tcp = config.tcp.unwrap();
        assert_eq!(tcp.effective_max_log_size(), 1024 * 1024);
        assert!(!tcp.add_attributes && !tcp.one_log_per_packet);
        let retry = config.retry_on_failure;
        assert!(!retry.enabled);
        assert_eq!(
            (
                retry.initial_interval,
                retry.max_interval,
                retry.max_elapsed_time
            ),
            (
                Duration::from_secs(1),
                Duration::from_secs(30),
                Duration::from_secs(300)
            )
        );
    }

    #[test]
    fn go_configurations_are_accepted() {
        check(
            "protocol: RFC3164\nlocation: America/New_York\nudp: {listen_address: \
             \"0.0.0.0:54526\", add_attributes: true, one_log_per_packet: true, encoding: utf-8}",
        )
        .unwrap();
        let config = check(
            "protocol: rfc5424\nenable_octet_counting: true\nmax_octets: 16384\ntcp: \
             {listen_address: \"0.0.0.0:54526\", max_log_size: 2MiB, \
             preserve_leading_whitespaces: true}\nattributes: {env: prod}\nresource: {site: \
             a}\nretry_on_failure: {enabled: true, initial_interval: 2s}",
        )
        .unwrap();
        assert_eq!(
            config.tcp.unwrap().effective_max_log_size(),
            2 * 1024 * 1024
        );
        check(
            "protocol: rfc5424\nnon_transparent_framing_trailer: NUL\ntcp: {listen_address: \
             \"127.0.0.1:1\", max_log_size: 100}",
        )
        .unwrap();
    }

    #[test]
    fn what_go_refuses_or_we_cannot_honour_is_refused_by_name() {
        let tcp = "tcp: {listen_address: \"127.0.0.1:5140\"}";
        refused(tcp, "protocol: is required");
        refused(&format!("protocol: rfc9999\n{tcp}"), "unsupported protocol");
        refused("protocol: rfc5424", "need tcp config or udp config");
        refused(
            &format!("protocol: rfc3164\nenable_octet_counting: true\n{tcp}"),
            "only compatible with protocol rfc5424",
        );
        refused(
            &format!(
                "protocol: rfc5424\nenable_octet_counting: true\nnon_transparent_framing_trailer: \
                 LF\n{tcp}"
            ),
            "only one of",
        );
        refused(
            &format!(
                "protocol: rfc5424\nenable_octet_counting: true\nallow_skip_pri_header: \
                 true\n{tcp}"
            ),
            "allow_skip_pri_header: needs enable_octet_counting: false",
        );
        refused(
            &format!("protocol: rfc5424\nnon_transparent_framing_trailer: CRLF\n{tcp}"),
            "non_transparent_framing_trailer",
        );
        refused(
            &format!("protocol: rfc3164\nlocation: Mars/Base\n{tcp}"),
            "location",
        );
        refused(
            &format!("protocol: rfc5424\noperators: [{{type: json_parser}}]\n{tcp}"),
            "operators: stanza operators are not supported yet",
        );
        refused(
            &format!("protocol: rfc5424\nstorage: file_storage\n{tcp}"),
            "storage",
        );
        refused(
            &format!("protocol: rfc5424\nattributes: {{a: 'EXPR(body)'}}\n{tcp}"),
            "attributes::a",
        );
        refused(
            "protocol: rfc5424\nenable_octet_counting: true\nudp: {listen_address: \
             \"127.0.0.1:1\"}",
            "not compatible with UDP",
        );
        refused(
            "protocol: rfc5424\nudp: {listen_address: \"127.0.0.1:1\", async: {readers: 2}}",
            "udp::async",
        );
        refused(
            "protocol: rfc5424\ntcp: {listen_address: \"127.0.0.1:1\", encoding: utf-16le}",
            "tcp::encoding",
        );
        refused(
            "protocol: rfc5424\ntcp: {listen_address: \"127.0.0.1:1\", multiline: \
             {line_start_pattern: '^<'}}",
            "tcp::multiline",
        );
        refused("protocol: rfc5424\ntcp: {}", "tcp::listen_address");
        refused(
            "protocol: rfc5424\ntcp: {listen_address: nowhere}",
            "tcp::listen_address",
        );
        refused(
            "protocol: rfc5424\ntcp: {listen_address: \"127.0.0.1:1\", max_log_size: 1XB}",
            "invalid byte size",
        );
        refused(
            "protocol: rfc5424\ntcp: {listen_address: \"127.0.0.1:1\", tls: {}}",
            "tcp::tls::cert_file",
        );
        refused(
            "protocol: rfc5424\ntcp: {listen_address: \"127.0.0.1:1\", bogus: 1}",
            "bogus",
        );
    }
}
