//! A fake host under a temporary `root_path`: `/proc` files with values no real machine
//! has, so a metric carrying them proves the scraper read the fixture.

use std::path::Path;

use tempfile::TempDir;

/// The fixture's process id.
pub(super) const PID: i32 = 4242;
/// A process directory without `stat`, as a process that exits mid-scrape leaves.
pub(super) const VANISHED_PID: i32 = 4343;

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Builds the tree.
pub(super) fn hostfs() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "proc/stat",
        "cpu  1000 200 300 4000 50 6 7 8 0 0\n\
         cpu0 600 100 200 2000 30 4 5 6 0 0\n\
         cpu1 400 100 100 2000 20 2 2 2 0 0\n\
         intr 1 2\nctxt 99\nbtime 1600000000\nprocesses 123456\n\
         procs_running 3\nprocs_blocked 1\n",
    );
    write(root, "proc/loadavg", "7.25 3.50 1.75 2/345 999\n");
    // The machine's own meminfo (procfs wants its every field) with the fixture's values.
    let fixture_values = [
        ("MemTotal", 8_000_000),
        ("MemFree", 1_000_000),
        ("MemAvailable", 5_000_000),
        ("Buffers", 200_000),
        ("Cached", 3_000_000),
        ("Dirty", 4242),
        ("SReclaimable", 300_000),
        ("SUnreclaim", 200_000),
    ];
    let meminfo: String = std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .map(|line| {
            let key = line.split(':').next().unwrap_or("");
            match fixture_values.iter().find(|(k, _)| *k == key) {
                Some((k, v)) => format!("{k}: {v} kB\n"),
                None => format!("{line}\n"),
            }
        })
        .collect();
    write(root, "proc/meminfo", &meminfo);
    write(
        root,
        "proc/diskstats",
        "   8       0 fixturedisk 1111 22 4096 333 5555 66 8192 777 2 888 999 0 0 0 0\n\
            7       0 loop0 1 0 2 0 0 0 0 0 0 0 0 0 0 0 0\n",
    );
    write(
        root,
        "proc/net/dev",
        "Inter-|   Receive                                                |  Transmit\n \
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n\
         fixnet0: 4242000 4200 1 2 0 0 0 0 2424000 2400 3 4 0 0 0 0\n    \
         lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0\n",
    );
    write(
        root,
        "proc/net/tcp",
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   \
         0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n   \
         1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n",
    );
    write(
        root,
        "proc/vmstat",
        "pgpgin 1001\npgpgout 1002\npswpin 11\npswpout 12\npgfault 5000\npgmajfault 42\n",
    );
    write(
        root,
        "proc/swaps",
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n\
         /fixture/swapfile                       file\t\t2097148\t\t97148\t\t-2\n",
    );
    write(root, "proc/uptime", "12345.67 20000.00\n");
    write(
        root,
        "proc/filesystems",
        "nodev\tproc\nnodev\ttmpfs\n\text4\n",
    );
    write(
        root,
        "proc/1/mountinfo",
        "22 1 8:1 / / rw,relatime shared:1 - fixturefs /dev/fixture0 rw\n\
         23 22 0:5 / /proc rw,nosuid shared:2 - proc proc rw\n",
    );
    write(
        root,
        "proc/1/stat",
        "1 (init) S 0 1 1 0 -1 4194560 10 0 0 0 5 5 0 0 20 0 1 0 10 1000000 100 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
    );
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let status_of = |name: &str, uid: u32| {
        status
            .lines()
            .map(|line| {
                if line.starts_with("Name:") {
                    format!("Name:\t{name}")
                } else if line.starts_with("Uid:") {
                    format!("Uid:\t{uid}\t{uid}\t{uid}\t{uid}")
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    };
    write(root, "proc/1/status", &status_of("init", 0));
    write(
        root,
        &format!("proc/{PID}/stat"),
        &format!(
            "{PID} (fixture-daemon) S 1 {PID} {PID} 0 -1 4194560 500 0 3 0 150 75 0 0 20 0 7 0 1000 104857600 2560 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 9 0 0 0 0 0 0 0 0 0 0\n"
        ),
    );
    write(
        root,
        &format!("proc/{PID}/status"),
        &status_of("fixture-daemon", 4242),
    );
    write(
        root,
        &format!("proc/{PID}/cmdline"),
        "/usr/bin/fixture-daemon\0--flag\0",
    );
    write(
        root,
        &format!("proc/{PID}/io"),
        "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 4096000\nwrite_bytes: 8192000\ncancelled_write_bytes: 0\n",
    );
    std::os::unix::fs::symlink(
        "/usr/bin/fixture-daemon",
        root.join(format!("proc/{PID}/exe")),
    )
    .unwrap();
    std::os::unix::fs::symlink("/sbin/init", root.join("proc/1/exe")).unwrap();
    write(root, &format!("proc/{VANISHED_PID}/cmdline"), "");
    write(
        root,
        "etc/passwd",
        "root:x:0:0:root:/root:/bin/sh\nfixtureuser:x:4242:4242::/nonexistent:/bin/false\n",
    );
    dir
}
