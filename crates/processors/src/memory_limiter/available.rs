//! How much memory the process may use: its cgroup's memory limit if one is set,
//! otherwise the host's total memory.
//!
//! The cgroup is found the way the kernel describes it: `/proc/self/cgroup` names the
//! process's cgroup in each hierarchy and `/proc/self/mountinfo` says where each hierarchy
//! is mounted. Both cgroup v2 (`memory.max`) and v1 (`memory.limit_in_bytes`) are read,
//! on the process's cgroup and each ancestor visible in the mount, and the smallest limit
//! wins: a parent's limit binds its children. A limit above the host's memory means none.

use std::io;

/// v1 writes this (`i64::MAX` rounded down to a page) when no limit is set; anything this
/// large means "no limit".
const V1_UNLIMITED: u64 = 1 << 62;

/// The memory available to this process, in bytes.
pub(crate) fn available_memory() -> io::Result<u64> {
    available_memory_from(&|path| std::fs::read_to_string(path))
}

/// Reads a file's contents; a parameter so tests can describe a system.
type ReadFile<'a> = &'a dyn Fn(&str) -> io::Result<String>;

fn available_memory_from(read: ReadFile<'_>) -> io::Result<u64> {
    let host = read("/proc/meminfo").ok().and_then(|text| mem_total(&text));
    match (host, cgroup_limit(read)) {
        (Some(host), Some(limit)) => Ok(host.min(limit)),
        (Some(only), None) | (None, Some(only)) => Ok(only),
        (None, None) => Err(io::Error::new(
            io::ErrorKind::NotFound,
            "neither a cgroup memory limit nor MemTotal in /proc/meminfo could be read",
        )),
    }
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let value: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => value.checked_mul(1024),
        None => Some(value),
        Some(_) => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

impl Version {
    fn limit_file(self) -> &'static str {
        match self {
            Version::V1 => "memory.limit_in_bytes",
            Version::V2 => "memory.max",
        }
    }

    /// A limit file's value, `None` when it means "no limit".
    fn parse_limit(self, text: &str) -> Option<u64> {
        let text = text.trim();
        match self {
            Version::V2 if text == "max" => None,
            _ => text.parse().ok().filter(|&limit| limit < V1_UNLIMITED),
        }
    }
}

/// A mounted cgroup hierarchy holding the memory controller.
struct Mount {
    version: Version,
    /// The cgroup at the mount's root.
    root: String,
    /// Where it is mounted.
    point: String,
}

impl Mount {
    /// A memory cgroup mount from one line of `/proc/self/mountinfo`:
    /// `id parent dev root point options [optional...] - fstype source super-options`.
    fn parse(line: &str) -> Option<Mount> {
        let (mount, filesystem) = line.split_once(" - ")?;
        let mut mount = mount.split(' ');
        let root = mount.nth(3)?;
        let point = mount.next()?;
        let mut filesystem = filesystem.split(' ');
        let version = match (filesystem.next()?, filesystem.nth(1)) {
            ("cgroup2", _) => Version::V2,
            ("cgroup", Some(options)) if options.split(',').any(|o| o == "memory") => Version::V1,
            _ => return None,
        };
        Some(Mount {
            version,
            root: unescape(root),
            point: unescape(point),
        })
    }

    /// The directory of cgroup `path` under this mount. A cgroup outside the mount's view
    /// (it shows a descendant of the process's cgroup) maps to the mount point itself.
    fn directory_of(&self, path: &str) -> String {
        let relative = if self.root == "/" {
            path
        } else {
            path.strip_prefix(self.root.as_str()).unwrap_or("")
        };
        format!("{}{}", self.point, relative.trim_end_matches('/'))
    }
}

/// The process's cgroup path in the hierarchy of `version`, from `/proc/self/cgroup`
/// (`id:controllers:path` lines; v2 is `0::path`).
fn membership(cgroups: &str, version: Version) -> Option<&str> {
    cgroups.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let matches = match version {
            Version::V2 => id == "0" && controllers.is_empty(),
            Version::V1 => controllers.split(',').any(|c| c == "memory"),
        };
        matches.then_some(path)
    })
}

/// The smallest memory limit on the process's cgroups and their ancestors.
fn cgroup_limit(read: ReadFile<'_>) -> Option<u64> {
    let cgroups = read("/proc/self/cgroup").ok()?;
    let mountinfo = read("/proc/self/mountinfo").ok()?;
    let mut smallest: Option<u64> = None;
    for mount in mountinfo.lines().filter_map(Mount::parse) {
        let Some(path) = membership(&cgroups, mount.version) else {
            continue;
        };
        let mut directory = mount.directory_of(path);
        loop {
            let file = format!("{directory}/{}", mount.version.limit_file());
            if let Some(limit) = read(&file)
                .ok()
                .and_then(|text| mount.version.parse_limit(&text))
            {
                smallest = Some(smallest.map_or(limit, |s| s.min(limit)));
            }
            if directory.len() <= mount.point.len() {
                break;
            }
            match directory.rfind('/') {
                Some(parent) if parent >= mount.point.len() => directory.truncate(parent),
                _ => break,
            }
        }
    }
    smallest
}

/// Undoes mountinfo's octal escapes of space, tab, newline and backslash.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const GIB: u64 = 1 << 30;
    const MEMINFO: &str = "MemTotal:       16777216 kB\nMemFree:         1000 kB\n";

    /// A system described by its files.
    fn system(files: &[(&str, &str)]) -> impl Fn(&str) -> io::Result<String> + use<> {
        let files: HashMap<String, String> = files
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect();
        move |path: &str| {
            files
                .get(path)
                .cloned()
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, path.to_string()))
        }
    }

    const V2_MOUNT: &str = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";

    #[test]
    fn a_v2_container_limit() {
        let read = system(&[
            ("/proc/meminfo", MEMINFO),
            ("/proc/self/cgroup", "0::/\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/memory.max", "536870912\n"),
        ]);
        assert_eq!(available_memory_from(&read).unwrap(), 512 << 20);
    }

    #[test]
    fn no_v2_limit_means_the_host_total() {
        let read = system(&[
            ("/proc/meminfo", MEMINFO),
            ("/proc/self/cgroup", "0::/user.slice/session-1.scope\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            (
                "/sys/fs/cgroup/user.slice/session-1.scope/memory.max",
                "max\n",
            ),
            ("/sys/fs/cgroup/user.slice/memory.max", "max\n"),
        ]);
        assert_eq!(available_memory_from(&read).unwrap(), 16 * GIB);
    }

    #[test]
    fn a_parent_limit_binds_its_children() {
        let read = system(&[
            ("/proc/meminfo", MEMINFO),
            ("/proc/self/cgroup", "0::/kubepods/pod1/container\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            (
                "/sys/fs/cgroup/kubepods/pod1/container/memory.max",
                "4294967296\n",
            ),
            ("/sys/fs/cgroup/kubepods/pod1/memory.max", "2147483648\n"),
            ("/sys/fs/cgroup/kubepods/memory.max", "max\n"),
        ]);
        assert_eq!(available_memory_from(&read).unwrap(), 2 * GIB);
    }

    #[test]
    fn a_v1_limit_beside_an_empty_v2_hierarchy() {
        // A hybrid host: v2 mounted without the memory controller, memory in v1.
        let mountinfo = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
             35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
             32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
             41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        let read = system(&[
            ("/proc/meminfo", MEMINFO),
            (
                "/proc/self/cgroup",
                "4:memory:/process_api/7232\n1:cpu:/\n0::/\n",
            ),
            ("/proc/self/mountinfo", mountinfo),
            (
                "/sys/fs/cgroup/memory/process_api/7232/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            (
                "/sys/fs/cgroup/memory/process_api/memory.limit_in_bytes",
                "1073741824\n",
            ),
            (
                "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
        ]);
        assert_eq!(available_memory_from(&read).unwrap(), GIB);
    }

    #[test]
    fn a_mount_rooted_at_the_process_cgroup() {
        // cgroup namespace shared with the host: the path is the host's, the mount's root
        // is the container's own cgroup.
        let read = system(&[
            ("/proc/self/cgroup", "0::/docker/abc\n"),
            (
                "/proc/self/mountinfo",
                "30 23 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
            ),
            ("/sys/fs/cgroup/memory.max", "268435456\n"),
        ]);
        assert_eq!(available_memory_from(&read).unwrap(), 256 << 20);
    }

    #[test]
    fn a_limit_above_the_host_total_means_the_host_total() {
        let read = system(&[
            ("/proc/meminfo", MEMINFO),
            ("/proc/self/cgroup", "0::/\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/memory.max", "68719476736\n"),
        ]);
        assert_eq!(available_memory_from(&read).unwrap(), 16 * GIB);
    }

    #[test]
    fn without_cgroups_the_host_total() {
        let read = system(&[("/proc/meminfo", MEMINFO)]);
        assert_eq!(available_memory_from(&read).unwrap(), 16 * GIB);
        assert!(available_memory_from(&system(&[])).is_err());
    }

    #[test]
    fn mount_points_with_spaces() {
        let mount = Mount::parse("1 2 0:3 / /mnt/my\\040cgroups rw - cgroup2 none rw").unwrap();
        assert_eq!(mount.point, "/mnt/my cgroups");
    }

    #[test]
    fn mem_total_units() {
        assert_eq!(mem_total(MEMINFO), Some(16 * GIB));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
    }
}
