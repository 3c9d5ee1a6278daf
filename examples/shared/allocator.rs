//! The shipped binaries' allocator: mimalloc, returning freed memory to the OS at once.
//!
//! The pipelines allocate and free many small strings and vectors per item. On the
//! Prometheus scrape → remote-write path glibc's malloc/free took 45 % of the CPU, and
//! mimalloc cut the path's CPU by a quarter to a third. With mimalloc's defaults the
//! memory-queue gateway's peak RSS grew by a third at 50k spans/s; purging freed pages
//! at once (instead of 10 ms later) brings it back to glibc's (BENCHMARKS.md, "The
//! allocator"). The library leaves the allocator to the binary that uses it.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (`include/mimalloc.h` of the
/// bundled sources); the Rust bindings have no constant for it.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets mimalloc's options; call first thing in `main`.
pub fn configure() {
    // SAFETY: `mi_option_set` only stores an integer in mimalloc's option table (an
    // atomic store, safe from any thread and at any time); it has no pointer arguments
    // and no precondition on the caller's memory. The option is read when memory is
    // next purged.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) }
}
