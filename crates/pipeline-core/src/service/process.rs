//! Process settings a long-running collector needs: enough file descriptors for its
//! connections, and an allocator that gives large buffers back.

/// What [`tune_process`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessTuning {
    /// The open-file limit in effect, if it could be read.
    pub open_files: Option<u64>,
    /// Whether the allocator's large-buffer threshold was fixed.
    pub allocator_threshold_fixed: bool,
    /// Whether a thread now gives the allocator's free memory back every
    /// [`TRIM_INTERVAL`].
    pub allocator_trimmed: bool,
}

/// How often free allocator memory is given back to the system; see [`tune_process`].
pub const TRIM_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Tunes the process for serving, as [`CollectorBuilder::run_cli`](super::CollectorBuilder::run_cli)
/// does before it runs a collector; a program embedding a collector may call it first
/// thing in `main`:
///
/// - raises the soft open-file limit to the hard one, as the Go runtime does at start on
///   Linux: a collector holds a socket per client connection, and the common default
///   soft limit (1024) is far below what its listeners' `max_connections` allow;
/// - with glibc's allocator, fixes the size from which allocations are mapped on their
///   own (and unmapped when freed) at 1 MiB. glibc raises that threshold to the largest
///   buffer freed so far (up to 32 MiB), after which request-sized buffers (up to 20 MiB
///   decompressed) come from its arenas, which keep them: under a stream of decompression
///   bombs the resident size stayed at 3–5× the receiver's admission budget. An explicit
///   `MALLOC_MMAP_THRESHOLD_` in the environment is left alone;
/// - with glibc, lets an arena keep up to 1 MiB free at its top before it shrinks
///   (`M_TRIM_THRESHOLD`, which fixing the mmap threshold would otherwise pin at glibc's
///   128 KiB). Below that every batch freed gave its pages back and the next one faulted
///   them in again: 1,300–1,500 page faults a second at 10k spans/s, a tenth of the
///   gateway's CPU; at 1 MiB, under 400. It is not more because `malloc_trim` does not
///   shrink a thread arena's top, so each arena may keep this much for good (at 4 MiB the
///   memory after a storm of decompression bombs stayed high). An explicit
///   `MALLOC_TRIM_THRESHOLD_` is left alone;
/// - with glibc, gives free memory in the allocator's arenas back to the system every
///   [`TRIM_INTERVAL`] (`malloc_trim`), from a thread of its own. Smaller buffers freed
///   after a burst leave the arenas fragmented, holding tens of MiB that glibc trims only
///   from their top; the Go runtime's scavenger does the same job for Go programs.
///
/// Only the first call does anything.
pub fn tune_process() -> ProcessTuning {
    static TUNED: std::sync::OnceLock<ProcessTuning> = std::sync::OnceLock::new();
    *TUNED.get_or_init(|| ProcessTuning {
        open_files: raise_open_file_limit(),
        allocator_threshold_fixed: fix_allocator_threshold(),
        allocator_trimmed: trim_allocator_periodically(),
    })
}

/// Where glibc maps allocations on their own; see [`tune_process`].
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 1 << 20;

/// How much free memory an arena keeps at its top; see [`tune_process`].
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: libc::c_int = 1 << 20;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_allocator_threshold() -> bool {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() {
        return false;
    }
    // SAFETY (both calls): mallopt only changes the allocator's tuning parameters; it is
    // documented as safe to call at any time from any thread.
    if std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_none() {
        unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) };
    }
    unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn fix_allocator_threshold() -> bool {
    false
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_allocator_periodically() -> bool {
    std::thread::Builder::new()
        .name("malloc-trim".into())
        .spawn(|| {
            loop {
                std::thread::sleep(TRIM_INTERVAL);
                // SAFETY: malloc_trim only returns free memory to the system; it takes the
                // allocator's own locks and is safe to call from any thread at any time.
                unsafe { libc::malloc_trim(0) };
            }
        })
        .is_ok()
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_allocator_periodically() -> bool {
    false
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit in effect, if it
/// could be read.
fn raise_open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live, properly aligned
    // local; it has no other preconditions.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads one `rlimit` from a pointer to a live local.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    Some(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_soft_limit_ends_at_least_where_it_was() {
        let mut before = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as in `raise_open_file_limit`.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut before) },
            0
        );
        let now = super::tune_process().open_files.expect("readable");
        assert!(now >= before.rlim_cur);
        assert_eq!(now, before.rlim_max);
    }
}
