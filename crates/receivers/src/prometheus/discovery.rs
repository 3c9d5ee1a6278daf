//! Targets: `static_configs`, `file_sd_configs` and `http_sd_configs` groups, turned into scrape targets by
//! Prometheus's rules (job defaults, `relabel_configs`, default port, `instance`).

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::client::authorize;
use super::config::{FileSdConfig, HttpSdConfig, Job};
use super::relabel::{Labels, relabel};
use super::units::parse_duration;

/// A group of targets sharing labels, as a discovery mechanism yields it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TargetGroup {
    pub(crate) targets: Vec<String>,
    pub(crate) labels: Labels,
}

/// A target to scrape.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Target {
    /// Its labels, those with the `__` prefix removed: every sample gets them.
    pub(crate) labels: Labels,
    pub(crate) url: String,
    pub(crate) scheme: String,
    pub(crate) interval: Duration,
    pub(crate) timeout: Duration,
    /// Identity (labels and URL) and scrape offset.
    pub(crate) hash: u64,
}

/// One entry of a `file_sd_configs` file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Formats a duration as Prometheus does (`1m30s`, `500ms`).
pub(crate) fn format_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("y", 365 * 86_400_000u128),
        ("w", 7 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
        ("ms", 1),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// The targets of `job` from `groups`, as Prometheus's `PopulateLabels` makes them;
/// those dropped by relabelling or without an address are left out (the reason logged).
pub(crate) fn build_targets(job: &Job, groups: &[TargetGroup]) -> Vec<Target> {
    let c = &job.config;
    let mut out = Vec::new();
    for group in groups {
        for address in &group.targets {
            let mut labels: Labels = group.labels.clone();
            set_label(&mut labels, "__address__", address);
            for (name, value) in [
                ("job", c.job_name.clone()),
                ("__scrape_interval__", format_duration(job.interval)),
                ("__scrape_timeout__", format_duration(job.timeout)),
                ("__metrics_path__", c.metrics_path.clone()),
                ("__scheme__", c.scheme.clone()),
            ] {
                if get_label(&labels, name).is_empty() {
                    set_label(&mut labels, name, &value);
                }
            }
            for (name, values) in &c.params {
                let key = format!("__param_{name}");
                if let (Some(first), true) = (values.first(), get_label(&labels, &key).is_empty()) {
                    set_label(&mut labels, &key, first);
                }
            }
            if !relabel(&mut labels, &c.relabel_configs) {
                continue;
            }
            match finish_target(job, labels) {
                Ok(target) => {
                    if !out.iter().any(|t: &Target| t.hash == target.hash) {
                        out.push(target);
                    }
                }
                Err(reason) => {
                    tracing::warn!(job = %c.job_name, target = %address, "target dropped: {reason}");
                }
            }
        }
    }
    out
}

fn finish_target(job: &Job, mut labels: Labels) -> Result<Target, String> {
    let scheme = get_label(&labels, "__scheme__").to_owned();
    let mut address = get_label(&labels, "__address__").to_owned();
    if address.is_empty() {
        return Err("no address".into());
    }
    if address.contains('/') {
        return Err(format!("{address:?} is not a valid hostname"));
    }
    // Prometheus 2 adds the scheme's port to an address without one.
    let has_port = match address.rsplit_once(':') {
        Some((host, port)) => {
            port.bytes().all(|b| b.is_ascii_digit())
                && !port.is_empty()
                && (!host.contains(':') || host.ends_with(']'))
        }
        None => false,
    };
    if !has_port {
        let port = match scheme.as_str() {
            "http" => "80",
            "https" => "443",
            other => return Err(format!("invalid scheme {other:?}")),
        };
        address = if address.contains(':') && !address.starts_with('[') {
            format!("[{address}]:{port}")
        } else {
            format!("{address}:{port}")
        };
        set_label(&mut labels, "__address__", &address);
    }
    let interval = parse_duration(get_label(&labels, "__scrape_interval__"))
        .filter(|d| !d.is_zero())
        .ok_or("invalid __scrape_interval__")?;
    let timeout = parse_duration(get_label(&labels, "__scrape_timeout__"))
        .filter(|d| !d.is_zero())
        .ok_or("invalid __scrape_timeout__")?;
    if timeout > interval {
        return Err("__scrape_timeout__ greater than __scrape_interval__".into());
    }
    labels.retain(|(name, _)| !name.starts_with("__meta_"));
    if get_label(&labels, "instance").is_empty() {
        set_label(&mut labels, "instance", &address);
    }
    let mut params: BTreeMap<String, Vec<String>> = job.config.params.clone();
    for (name, value) in &labels {
        if let Some(param) = name.strip_prefix("__param_") {
            params.insert(param.to_owned(), vec![value.clone()]);
        }
    }
    let path = get_label(&labels, "__metrics_path__").to_owned();
    let mut url = format!("{scheme}://{address}{path}");
    let query: Vec<String> = params
        .iter()
        .flat_map(|(k, vs)| {
            vs.iter()
                .map(move |v| format!("{}={}", encode(k), encode(v)))
        })
        .collect();
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query.join("&"));
    }
    let mut hasher = DefaultHasher::new();
    let mut sorted = labels.clone();
    sorted.sort();
    sorted.hash(&mut hasher);
    url.hash(&mut hasher);
    labels.retain(|(name, _)| !name.starts_with("__"));
    labels.sort();
    Ok(Target {
        labels,
        url,
        scheme,
        interval,
        timeout,
        hash: hasher.finish(),
    })
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn get_label<'a>(labels: &'a Labels, name: &str) -> &'a str {
    labels
        .iter()
        .find(|(n, _)| n == name)
        .map_or("", |(_, v)| v)
}

pub(crate) fn set_label(labels: &mut Labels, name: &str, value: &str) {
    match labels.iter_mut().find(|(n, _)| n == name) {
        Some(label) => label.1 = value.to_owned(),
        None => labels.push((name.to_owned(), value.to_owned())),
    }
}

/// The groups of the static configs.
pub(crate) fn static_groups(job: &Job) -> Vec<TargetGroup> {
    job.config
        .static_configs
        .iter()
        .map(|s| TargetGroup {
            targets: s.targets.clone(),
            labels: s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
        .collect()
}

/// What a `file_sd_configs` entry watches: the files its patterns match, their
/// modification times and sizes; a change means re-reading.
pub(crate) type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// The files `config`'s patterns match now (`*` and `?` in the file name), sorted.
pub(crate) fn matching_files(config: &FileSdConfig) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for pattern in &config.files {
        let path = Path::new(pattern);
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.contains(['*', '?']) {
            files.push(path.to_path_buf());
            continue;
        }
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| wildcard(name.as_bytes(), n.as_bytes()))
                {
                    files.push(entry.path());
                }
            }
        }
    }
    files.sort();
    files.dedup();
    files
}

/// The fingerprint of `files` now.
pub(crate) fn fingerprint(files: &[PathBuf]) -> Fingerprint {
    files
        .iter()
        .map(|f| {
            let meta = std::fs::metadata(f).ok();
            (
                f.clone(),
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.map_or(0, |m| m.len()),
            )
        })
        .collect()
}

/// Reads target groups from `files`; a file that cannot be read or parsed is skipped and
/// logged, as Prometheus keeps the groups it read before (here: none from that file).
pub(crate) fn read_files(files: &[PathBuf], job: &str) -> Vec<TargetGroup> {
    let mut groups = Vec::new();
    for file in files {
        match read_file(file) {
            Ok(found) => groups.extend(found),
            Err(e) => tracing::warn!(job, file = %file.display(), "file_sd: {e}"),
        }
    }
    groups
}

/// The largest file_sd file read (64 MiB): a bound on what a file can make us hold.
const MAX_SD_FILE: u64 = 64 << 20;

/// The largest http_sd answer read (64 MiB).
const MAX_SD_BODY: usize = 64 << 20;

/// Asks an `http_sd_configs` endpoint for its groups, as Prometheus does: `200` with a
/// JSON list of `{targets, labels}`; each group gets `__meta_url`.
pub(crate) async fn fetch_http_groups(
    client: &reqwest::Client,
    config: &HttpSdConfig,
) -> Result<Vec<TargetGroup>, String> {
    let request = client
        .get(&config.url)
        .header(http::header::ACCEPT, "application/json");
    let request = authorize(
        request,
        config.basic_auth.as_ref(),
        config.authorization.as_ref(),
    )
    .await?;
    let mut response = request
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("server returned HTTP status {}", response.status()));
    }
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/json")
    {
        return Err(format!("unsupported content type {content_type:?}"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if body.len() + chunk.len() > MAX_SD_BODY {
            return Err(format!("answer larger than {MAX_SD_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    let groups: Vec<FileGroup> = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    Ok(groups
        .into_iter()
        .map(|g| {
            let mut labels: Labels = g.labels.into_iter().collect();
            labels.push(("__meta_url".into(), config.url.clone()));
            TargetGroup {
                targets: g.targets,
                labels,
            }
        })
        .collect())
}

fn read_file(file: &Path) -> Result<Vec<TargetGroup>, String> {
    let len = std::fs::metadata(file).map_err(|e| e.to_string())?.len();
    if len > MAX_SD_FILE {
        return Err(format!("larger than {MAX_SD_FILE} bytes"));
    }
    let text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    let groups: Vec<FileGroup> = if file.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    } else {
        // serde-saphyr, the workspace's YAML parser (budgets against alias bombs).
        serde_saphyr::from_str(&text).map_err(|e| e.to_string())?
    };
    let path = file.display().to_string();
    Ok(groups
        .into_iter()
        .map(|g| {
            let mut labels: Labels = g.labels.into_iter().collect();
            labels.push(("__meta_filepath".into(), path.clone()));
            TargetGroup {
                targets: g.targets,
                labels,
            }
        })
        .collect())
}

fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::config::{GlobalConfig, ScrapeConfig};
    use tributary_confmap::Conf;

    fn job(yaml: &str) -> Job {
        let config: ScrapeConfig = Conf::from_yaml(yaml).unwrap().decode().unwrap();
        Job::resolve(&GlobalConfig::default(), &config).unwrap()
    }

    #[test]
    fn targets_follow_prometheus() {
        let job = job(concat!(
            "job_name: node\nscrape_interval: 15s\nparams: {module: [http_2xx]}\n",
            "static_configs: [{targets: ['a:9100', 'b', 'c:1'], labels: {env: prod}}]\n",
            "relabel_configs:\n",
            "- {source_labels: [__address__], regex: 'c:.*', action: drop}\n",
            "- {source_labels: [__address__], target_label: __param_target}\n",
        ));
        let targets = build_targets(&job, &static_groups(&job));
        assert_eq!(targets.len(), 2);
        let a = &targets[0];
        assert_eq!(
            a.url,
            "http://a:9100/metrics?module=http_2xx&target=a%3A9100"
        );
        assert_eq!(
            a.labels,
            [
                ("env".into(), "prod".into()),
                ("instance".into(), "a:9100".into()),
                ("job".into(), "node".into())
            ]
        );
        assert_eq!(a.interval, Duration::from_secs(15));
        assert_eq!(get_label(&targets[1].labels, "instance"), "b:80");
        assert_ne!(a.hash, targets[1].hash);
        assert_eq!(format_duration(Duration::from_millis(90_500)), "1m30s500ms");
    }

    #[test]
    fn wildcards() {
        assert!(wildcard(b"*.json", b"a.json"));
        assert!(!wildcard(b"*.json", b"a.yml"));
        assert!(wildcard(b"t?.yml", b"t1.yml"));
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;

    #[test]
    fn reads_yaml_and_json_files() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = dir.path().join("a.yml");
        std::fs::write(&yaml, "- targets: ['h:1']\n  labels: {team: infra}\n").unwrap();
        let json = dir.path().join("b.json");
        std::fs::write(&json, "[{\"targets\": [\"h:2\"]}]").unwrap();
        let groups = read_file(&yaml).unwrap();
        assert_eq!(groups[0].targets, ["h:1"]);
        assert_eq!(get_label(&groups[0].labels, "team"), "infra");
        assert_eq!(read_file(&json).unwrap()[0].targets, ["h:2"]);
    }
}
