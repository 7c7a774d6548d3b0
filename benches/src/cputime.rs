//! CPU time of individual threads of this process, read from `/proc` (Linux only), for the
//! "how much CPU does an idle pool burn" experiment.
//!
//! Per thread rather than per process so that only the threads of the pool under test are
//! counted: the experiment snapshots the thread ids before building the pool and sums only
//! the new ones, whatever other pools are alive.
//!
//! Source, best first:
//! 1. `/proc/self/task/<tid>/schedstat`, first field: nanoseconds on a CPU (exact).
//! 2. `/proc/self/task/<tid>/stat`, `utime + stime`: clock ticks, assumed 100 per second
//!    (the `USER_HZ` of every mainstream Linux build; reading it needs `sysconf`, which
//!    needs `unsafe` FFI this crate avoids). 10 ms resolution: over a 1 s window that is
//!    1% of a core.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

/// Clock ticks per second assumed for `/proc/<pid>/stat` times.
const USER_HZ: u64 = 100;

/// Where a CPU time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuSource {
    /// `schedstat`: nanosecond resolution.
    SchedStat,
    /// `stat` utime + stime: 10 ms resolution.
    StatTicks,
    /// Neither file could be read (not Linux, or `/proc` not mounted).
    Unavailable,
}

impl CpuSource {
    /// A short description for the report.
    pub fn describe(self) -> &'static str {
        match self {
            CpuSource::SchedStat => "/proc/self/task/*/schedstat (ns)",
            CpuSource::StatTicks => "/proc/self/task/*/stat utime+stime (10 ms ticks)",
            CpuSource::Unavailable => "unavailable",
        }
    }
}

/// Ids of this process's threads.
pub fn thread_ids() -> BTreeSet<u32> {
    let Ok(dir) = fs::read_dir("/proc/self/task") else {
        return BTreeSet::new();
    };
    dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The source that works on this machine: `schedstat` if it reports a non-zero time for the
/// calling process (some kernels expose the file but leave it at zero), else `stat`.
pub fn best_source() -> CpuSource {
    let ns = fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| parse_schedstat(&s));
    if ns.is_some_and(|ns| ns > 0) {
        return CpuSource::SchedStat;
    }
    let ticks = fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| parse_stat_ticks(&s));
    if ticks.is_some() {
        CpuSource::StatTicks
    } else {
        CpuSource::Unavailable
    }
}

/// CPU nanoseconds of each of `tids` that still exists, from `source`.
pub fn cpu_ns(tids: &BTreeSet<u32>, source: CpuSource) -> BTreeMap<u32, u64> {
    tids.iter()
        .filter_map(|&tid| {
            let ns = match source {
                CpuSource::SchedStat => {
                    fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))
                        .ok()
                        .and_then(|s| parse_schedstat(&s))
                }
                CpuSource::StatTicks => fs::read_to_string(format!("/proc/self/task/{tid}/stat"))
                    .ok()
                    .and_then(|s| parse_stat_ticks(&s))
                    .map(|ticks| ticks * (1_000_000_000 / USER_HZ)),
                CpuSource::Unavailable => None,
            }?;
            Some((tid, ns))
        })
        .collect()
}

/// CPU time the threads spent between two readings of [`cpu_ns`]; a thread missing from
/// either reading (created or exited in between) counts from zero or not at all.
pub fn delta_ns(before: &BTreeMap<u32, u64>, after: &BTreeMap<u32, u64>) -> u64 {
    after
        .iter()
        .map(|(tid, &ns)| ns.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum()
}

/// Machine-wide busy CPU time and this process's own CPU time at one moment, both in
/// clock ticks, to tell afterwards how much of the machine *other* processes used while
/// the benchmarks ran (a build beside them makes every parallel speed-up look worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineSnapshot {
    /// Busy ticks of all CPUs (`/proc/stat` first line, without idle and iowait).
    pub busy_ticks: u64,
    /// This process's `utime + stime` ticks.
    pub own_ticks: u64,
    /// Ticks the hypervisor ran something else while a CPU of this VM wanted to run
    /// (`steal` in `/proc/stat`). It may be charged to our own threads as well, so it does
    /// not show in [`others_share`](Self::others_share).
    pub steal_ticks: u64,
}

impl MachineSnapshot {
    /// Reads both counters; `None` off Linux.
    pub fn take() -> Option<MachineSnapshot> {
        let stat = fs::read_to_string("/proc/stat").ok()?;
        let own = fs::read_to_string("/proc/self/stat").ok()?;
        Some(MachineSnapshot {
            busy_ticks: parse_proc_stat_busy(&stat)?,
            own_ticks: parse_stat_ticks(&own)?,
            steal_ticks: parse_proc_stat_steal(&stat)?,
        })
    }

    /// The fraction (0–1) of the whole machine (`cpus` CPUs over `wall_secs`) that other
    /// processes kept busy between `self` and `later`.
    pub fn others_share(&self, later: &MachineSnapshot, cpus: usize, wall_secs: f64) -> f64 {
        let busy = later.busy_ticks.saturating_sub(self.busy_ticks);
        let own = later.own_ticks.saturating_sub(self.own_ticks);
        share_of_machine(busy.saturating_sub(own), cpus, wall_secs)
    }

    /// The fraction (0–1) of the machine's CPU time (`cpus` CPUs over `wall_secs`) that the
    /// hypervisor stole between `self` and `later`.
    pub fn steal_share(&self, later: &MachineSnapshot, cpus: usize, wall_secs: f64) -> f64 {
        let stolen = later.steal_ticks.saturating_sub(self.steal_ticks);
        share_of_machine(stolen, cpus, wall_secs)
    }
}

/// `ticks` as a fraction (0–1) of what `cpus` CPUs offer over `wall_secs`.
fn share_of_machine(ticks: u64, cpus: usize, wall_secs: f64) -> f64 {
    let capacity = wall_secs * USER_HZ as f64 * cpus.max(1) as f64;
    if capacity <= 0.0 {
        return 0.0;
    }
    (ticks as f64 / capacity).clamp(0.0, 1.0)
}

/// The numbers of the aggregate `cpu` line of `/proc/stat`: user nice system idle iowait
/// irq softirq steal … (older kernels stop earlier).
fn proc_stat_cpu_ticks(text: &str) -> Option<Vec<u64>> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    line.split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect()
}

/// The `steal` ticks of the aggregate `cpu` line of `/proc/stat` (its eighth number; 0 on
/// kernels too old to report it).
pub fn parse_proc_stat_steal(text: &str) -> Option<u64> {
    Some(proc_stat_cpu_ticks(text)?.get(7).copied().unwrap_or(0))
}

/// Busy ticks from the aggregate `cpu` line of `/proc/stat`: user, nice, system, irq,
/// softirq and steal (idle and iowait are not busy; guest time is already in user).
pub fn parse_proc_stat_busy(text: &str) -> Option<u64> {
    let f = proc_stat_cpu_ticks(text)?;
    let get = |i: usize| f.get(i).copied().unwrap_or(0);
    Some(get(0) + get(1) + get(2) + get(5) + get(6) + get(7))
}

/// The first field of a `schedstat` line: nanoseconds spent on a CPU.
pub fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// `utime + stime` (fields 14 and 15) of a `stat` line. The command name (field 2) is in
/// parentheses and may itself contain spaces or parentheses, so fields are counted from
/// the last `)`.
pub fn parse_stat_ticks(text: &str) -> Option<u64> {
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state): utime is field 14 -> index 11, stime index 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedstat_first_field_is_nanoseconds() {
        assert_eq!(parse_schedstat("344748000 419806 22\n"), Some(344_748_000));
        assert_eq!(parse_schedstat(""), None);
    }

    #[test]
    fn stat_ticks_survive_a_name_with_spaces_and_parens() {
        let line = "2498 (my (odd) name) R 2494 2494 2021 0 -1 4194304 100 0 0 0 33 7 0 0 20 0 1 0";
        assert_eq!(parse_stat_ticks(line), Some(40));
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn proc_stat_busy_excludes_idle_and_iowait() {
        let text = "cpu  100 5 50 1000 40 3 2 1 0 0\ncpu0 50 2 25 500 20 1 1 0 0 0\n";
        assert_eq!(parse_proc_stat_busy(text), Some(100 + 5 + 50 + 3 + 2 + 1));
        assert_eq!(parse_proc_stat_busy("intr 5"), None);
    }

    #[test]
    fn others_share_subtracts_our_own_time() {
        let a = MachineSnapshot {
            busy_ticks: 1_000,
            own_ticks: 100,
            steal_ticks: 10,
        };
        let b = MachineSnapshot {
            busy_ticks: 1_300,
            own_ticks: 250,
            steal_ticks: 60,
        };
        // 300 busy ticks, 150 ours -> 150 others' over 2 CPUs × 1 s × 100 ticks = 75%.
        assert!((a.others_share(&b, 2, 1.0) - 0.75).abs() < 1e-12);
        assert_eq!(a.others_share(&b, 2, 0.0), 0.0);
        // 50 stolen ticks over 2 CPUs × 1 s × 100 ticks = 25%.
        assert!((a.steal_share(&b, 2, 1.0) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn steal_is_the_eighth_number_of_the_cpu_line() {
        let text = "cpu  100 5 50 1000 40 3 2 17 0 0\ncpu0 50 2 25 500 20 1 1 9 0 0\n";
        assert_eq!(parse_proc_stat_steal(text), Some(17));
        assert_eq!(parse_proc_stat_steal("cpu  1 2 3 4 5 6 7\n"), Some(0));
        assert_eq!(parse_proc_stat_steal("intr 5"), None);
    }

    #[test]
    fn deltas_count_only_time_spent_between_readings() {
        let before = BTreeMap::from([(1, 100), (2, 50)]);
        let after = BTreeMap::from([(1, 150), (3, 20)]);
        // tid 1: +50, tid 2 exited (ignored), tid 3 new: +20
        assert_eq!(delta_ns(&before, &after), 70);
    }

    #[test]
    fn a_busy_thread_accumulates_cpu_time() {
        let source = best_source();
        if source == CpuSource::Unavailable {
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let busy = std::thread::spawn(move || {
            tx.send(std::fs::read_link("/proc/thread-self").ok())
                .unwrap();
            // Spin until told to stop: 50 ms is 5 ticks even for the coarse source.
            let start = std::time::Instant::now();
            let mut x = 0u64;
            while start.elapsed() < std::time::Duration::from_millis(50) {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            done_rx.recv().ok();
        });
        let tid: u32 = rx
            .recv()
            .unwrap()
            .and_then(|p| p.file_name()?.to_str()?.parse().ok())
            .expect("tid of the busy thread");
        std::thread::sleep(std::time::Duration::from_millis(80));
        let ns = cpu_ns(&BTreeSet::from([tid]), source);
        done_tx.send(()).unwrap();
        busy.join().unwrap();
        assert!(ns.get(&tid).copied().unwrap_or(0) > 0, "{ns:?}");
    }

    #[test]
    fn this_process_has_at_least_one_thread() {
        if cfg!(target_os = "linux") {
            assert!(!thread_ids().is_empty());
        }
    }
}
