//! Where the memory limiter's figures come from.

use std::io;
use std::sync::OnceLock;

use super::available;

/// Reads how much memory the process uses and how much it may use.
///
/// The limiter asks for [`used_bytes`](Self::used_bytes) at every check, from one task, so
/// it should be cheap. [`ProcessMemory`] is the real thing; tests, and programs that keep
/// their own accounting, supply their own through
/// [`factory_with_probe`](super::factory_with_probe).
///
/// ```
/// use std::io;
/// use tributary_processors::memory_limiter::{MemoryProbe, factory_with_probe};
///
/// /// A program that knows its budget better than the kernel does.
/// struct Budget;
///
/// impl MemoryProbe for Budget {
///     fn used_bytes(&self) -> io::Result<u64> {
///         Ok(42 << 20)
///     }
///     fn total_bytes(&self) -> io::Result<u64> {
///         Ok(1 << 30)
///     }
/// }
///
/// let factory = factory_with_probe(Budget);
/// ```
pub trait MemoryProbe: Send + Sync + 'static {
    /// Bytes of memory the process uses now.
    fn used_bytes(&self) -> io::Result<u64>;

    /// Bytes of memory available to the process in all; read once, when a limiter with
    /// `limit_percentage` is created.
    fn total_bytes(&self) -> io::Result<u64>;

    /// Asks the memory allocator to hand memory it keeps but no longer uses back to the
    /// operating system, so that usage can fall below the soft limit. Called while above
    /// it, at most once per `min_gc_interval_when_{soft,hard}_limited`, on a thread where
    /// blocking is fine. Does nothing by default.
    fn reclaim(&self) {}
}

/// The process's own memory, as the kernel reports it.
///
/// Usage is the resident set size (`/proc/self/statm`): everything the process holds in
/// RAM, which is what an out-of-memory killer looks at. The memory available is the
/// memory limit of the process's cgroup (v2 `memory.max` or v1
/// `memory.limit_in_bytes`, the smallest along its path) when one is set, otherwise the
/// host's `MemTotal` (`/proc/meminfo`). [`reclaim`](MemoryProbe::reclaim) asks glibc's
/// allocator to trim its free memory (`malloc_trim`); with another allocator it does
/// nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessMemory;

impl MemoryProbe for ProcessMemory {
    fn used_bytes(&self) -> io::Result<u64> {
        let statm = std::fs::read_to_string("/proc/self/statm")?;
        let pages = resident_pages(&statm).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unexpected contents of /proc/self/statm: {statm:?}"),
            )
        })?;
        Ok(pages.saturating_mul(page_size()))
    }

    fn total_bytes(&self) -> io::Result<u64> {
        available::available_memory()
    }

    fn reclaim(&self) {
        trim_heap();
    }
}

/// The resident set size, in pages: the second field of `/proc/self/statm`.
fn resident_pages(statm: &str) -> Option<u64> {
    statm.split_whitespace().nth(1)?.parse().ok()
}

fn page_size() -> u64 {
    static PAGE_SIZE: OnceLock<u64> = OnceLock::new();
    *PAGE_SIZE.get_or_init(system_page_size)
}

#[cfg(unix)]
fn system_page_size() -> u64 {
    // SAFETY: sysconf only reads a constant of the running system; it has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|&s| s > 0).unwrap_or(4096)
}

#[cfg(not(unix))]
fn system_page_size() -> u64 {
    4096
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap() {
    // SAFETY: malloc_trim takes glibc's own arena locks and only releases memory that no
    // allocation uses; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resident_size_is_the_second_statm_field() {
        assert_eq!(resident_pages("765 444 415 5 0 123 0\n"), Some(444));
        assert_eq!(resident_pages("765\n"), None);
        assert_eq!(resident_pages("a b c"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_size_and_room() {
        let probe = ProcessMemory;
        let used = probe.used_bytes().unwrap();
        let total = probe.total_bytes().unwrap();
        assert!(used > 0 && total > used, "used {used} of {total}");
        probe.reclaim();
    }
}
