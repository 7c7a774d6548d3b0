//! Helpers shared by the integration tests: a watchdog that turns a hang into
//! a failure, and per-thread readings from `/proc` (state, CPU time).

// Each test binary compiles this module and uses only some of it.
#![allow(dead_code)]

pub(crate) mod boom;
pub(crate) mod tracked;

/// A 2-thread pool for chains thousands of joins deep: unoptimised join
/// frames are a few KiB each, so its workers get 512 MiB stacks.
pub(crate) fn deep_stack_pool() -> filch_scheduler::ThreadPool {
    filch_scheduler::ThreadPoolBuilder::new()
        .num_threads(2)
        .stack_size(512 << 20)
        .build()
        .expect("a pool with deep stacks")
}

use std::panic;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Runs `body` on its own thread and returns its result, or fails the test if
/// it has not finished within `limit`. A panic in `body` is resumed here with
/// its original payload. On timeout the stuck thread is left behind (it cannot
/// be killed); the test fails with `what` in the message.
pub(crate) fn watchdog<T, F>(what: &str, limit: Duration, body: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name(format!("watched: {what}"))
        .spawn(move || {
            let _ = tx.send(body());
        })
        .expect("spawn the watched thread");
    match rx.recv_timeout(limit) {
        Ok(value) => {
            handle
                .join()
                .expect("the watched thread exits after sending");
            value
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(payload) => panic::resume_unwind(payload),
            Ok(()) => unreachable!("the watched thread returned without sending"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("watchdog: `{what}` did not finish within {limit:?}: hang (deadlock or lost wake-up?)")
        }
    }
}

/// Polls `condition` every millisecond until it holds; `false` if `limit`
/// passed first.
pub(crate) fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// The ids of this process's threads whose name (as the kernel truncates it,
/// to 15 bytes) starts with `prefix`.
pub(crate) fn threads_named(prefix: &str) -> Vec<u32> {
    let mut tids = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").expect("read /proc/self/task") {
        let entry = entry.expect("a /proc/self/task entry");
        let Ok(tid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        // The thread may exit between listing and reading: skip it then.
        if let Ok(comm) = std::fs::read_to_string(entry.path().join("comm")) {
            if comm.trim_end().starts_with(prefix) {
                tids.push(tid);
            }
        }
    }
    tids.sort_unstable();
    tids
}

/// The ids of the `n` threads whose names start with `prefix` (a pool's
/// workers). One listing of `/proc/self/task` can miss a live thread while
/// other threads of the process start or exit: the kernel walks the thread
/// list by position, and an exit ahead of the walk shifts it past an entry.
/// Tests of this binary run side by side and start and stop pools all the
/// time, so the listing is repeated until it shows exactly `n` (at most 5 s);
/// a pool that really started fewer or more threads still fails.
pub(crate) fn workers_named(prefix: &str, n: usize) -> Vec<u32> {
    let mut seen = Vec::new();
    if wait_for(Duration::from_secs(5), || {
        seen = threads_named(prefix);
        seen.len() == n
    }) {
        return seen;
    }
    panic!(
        "expected {n} threads named {prefix}*, found {}: {seen:?}",
        seen.len()
    );
}

/// Asserts that no thread whose name starts with `prefix` is left, allowing
/// the kernel a moment: a joined thread wakes its joiner on its way out
/// (when its thread id is cleared) and is listed in `/proc` until it has
/// finished exiting, so a check right after `join` can still see it on a
/// loaded machine. A thread that was never joined stays and fails this.
pub(crate) fn assert_threads_gone(prefix: &str, what: &str) {
    if !wait_for(Duration::from_secs(5), || threads_named(prefix).is_empty()) {
        panic!(
            "{what}: threads {:?} named {prefix}* are still alive",
            threads_named(prefix)
        );
    }
}

/// The fields of `/proc/self/task/<tid>/stat` after the `(comm)` field, so
/// that index 0 is field 3 (the state) of `proc(5)`.
fn stat_fields(tid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: cut at the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// The scheduler state letter of thread `tid` (`R` running, `S` sleeping...).
pub(crate) fn thread_state(tid: u32) -> Option<char> {
    stat_fields(tid)?.first()?.chars().next()
}

/// CPU time thread `tid` has used, in nanoseconds: from `schedstat` (exact)
/// when the kernel provides it, else `utime + stime` from `stat` (fields 14
/// and 15, in clock ticks of 10 ms).
pub(crate) fn thread_cpu_ns(tid: u32) -> Option<u64> {
    if let Ok(schedstat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")) {
        if let Some(ns) = schedstat
            .split_whitespace()
            .next()
            .and_then(|f| f.parse().ok())
        {
            return Some(ns);
        }
    }
    let fields = stat_fields(tid)?;
    // Field n of proc(5) is index n - 3 here.
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    const NS_PER_TICK: u64 = 10_000_000; // `getconf CLK_TCK` is 100 on Linux
    Some((utime + stime) * NS_PER_TICK)
}

/// Total CPU time, in nanoseconds, of the threads `tids`.
pub(crate) fn cpu_ns_of(tids: &[u32]) -> u64 {
    tids.iter()
        .map(|&tid| {
            thread_cpu_ns(tid).unwrap_or_else(|| panic!("cannot read CPU time of thread {tid}"))
        })
        .sum()
}

/// The cores listed in a `Cpus_allowed_list` value such as `0-3,8,10-11`.
pub(crate) fn parse_cpu_list(list: &str) -> Vec<usize> {
    let mut cores = Vec::new();
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi): (usize, usize) = (lo.parse().unwrap(), hi.parse().unwrap());
                cores.extend(lo..=hi);
            }
            None => cores.push(part.parse().unwrap()),
        }
    }
    cores
}

/// The cores the calling thread may run on, as the kernel reports them in
/// `/proc/thread-self/status`.
pub(crate) fn current_thread_cores() -> Vec<usize> {
    let status =
        std::fs::read_to_string("/proc/thread-self/status").expect("read /proc/thread-self/status");
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .expect("a Cpus_allowed_list line");
    parse_cpu_list(line)
}
