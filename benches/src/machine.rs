//! The machine the numbers came from and what else ran on it: the CPU, OS, compiler and
//! build (read once at the start), the CPU time other processes and the hypervisor took
//! while the run went on, and the CPU time of single threads (how much an idle pool burns).
//!
//! Everything under `/proc` is read through `procfs` (Linux only); anything unreadable is
//! reported as `unknown` or left out rather than failing the run.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::SystemTime;

use crate::table::{Align, Table};

/// A description of the machine and build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `std::thread::available_parallelism()`.
    pub logical_cpus: usize,
    /// `PRETTY_NAME` from `/etc/os-release`.
    pub os: String,
    /// `/proc/sys/kernel/osrelease`.
    pub kernel: String,
    /// `rustc --version` (the `RUSTC` cargo sets, else `rustc` on `PATH`).
    pub rustc: String,
    /// `release` or `debug` (debug numbers are meaningless).
    pub profile: String,
    /// UTC time of the run, RFC 3339.
    pub utc: String,
    /// The 1, 5 and 15 minute load averages when the run started: a load near the core
    /// count means something else was competing for the CPUs.
    pub load: String,
}

const UNKNOWN: &str = "unknown";

impl Machine {
    /// A made-up machine for the report's and the targets' unit tests.
    #[cfg(test)]
    pub(crate) fn fixture() -> Machine {
        let text = |s: &str| s.to_string();
        Machine {
            cpu_model: text("cpu"),
            logical_cpus: 2,
            os: text("os"),
            kernel: text("k"),
            rustc: text("rustc"),
            profile: text("release"),
            utc: text("2026-01-01T00:00:00Z"),
            load: text("0.00 0.00 0.00"),
        }
    }

    /// Reads the current machine.
    pub fn detect() -> Machine {
        let known = |value: Option<String>| value.unwrap_or_else(|| UNKNOWN.to_string());
        let read = |path: &str| std::fs::read_to_string(path).ok();
        Machine {
            cpu_model: known(proc::cpu_model()),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: read("/etc/os-release")
                .and_then(|s| parse_os_release(&s))
                .unwrap_or_else(|| std::env::consts::OS.to_string()),
            kernel: known(read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string())),
            rustc: known(rustc_version()),
            profile: if cfg!(debug_assertions) {
                "debug (numbers are meaningless: use --release)".to_string()
            } else {
                "release".to_string()
            },
            utc: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
            load: known(proc::load_average()),
        }
    }

    /// A two-column table of the fields.
    pub fn table(&self, threads: usize) -> Table {
        let mut t = Table::new(["machine", ""]);
        for (field, value) in [
            ("CPU", self.cpu_model.clone()),
            ("logical CPUs", self.logical_cpus.to_string()),
            ("pool threads", threads.to_string()),
            ("OS", self.os.clone()),
            ("kernel", self.kernel.clone()),
            ("rustc", self.rustc.clone()),
            ("profile", self.profile.clone()),
            ("date (UTC)", self.utc.clone()),
            ("load average at start", self.load.clone()),
        ] {
            t.push_row([field.to_string(), value]);
        }
        t.align[1] = Align::Left;
        t
    }
}

/// `PRETTY_NAME` (unquoted) from `/etc/os-release` text.
pub fn parse_os_release(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix("PRETTY_NAME=")?;
        Some(value.trim().trim_matches('"').to_string())
    })
}

fn rustc_version() -> Option<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = Command::new(rustc).arg("--version").output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Machine-wide busy CPU time, this process's own CPU time and the time stolen by the
/// hypervisor at one moment, in clock ticks, to tell afterwards how much of the machine
/// *other* processes used while the benchmarks ran (a build beside them makes every
/// parallel speed-up look worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineSnapshot {
    /// Busy ticks of all CPUs: user, nice, system, irq, softirq and steal (idle and iowait
    /// are not busy; guest time is already in user).
    pub busy_ticks: u64,
    /// This process's `utime + stime` ticks.
    pub own_ticks: u64,
    /// Ticks the hypervisor ran something else while a CPU of this VM wanted to run. It
    /// may be charged to this process's threads as well, so it does not show in
    /// [`others_share`](Self::others_share).
    pub steal_ticks: u64,
    /// Clock ticks per second.
    pub ticks_per_second: u64,
}

impl MachineSnapshot {
    /// Reads the counters; `None` off Linux.
    pub fn take() -> Option<MachineSnapshot> {
        proc::snapshot()
    }

    /// The fraction (0–1) of the whole machine (`cpus` CPUs over `wall_secs`) that other
    /// processes kept busy between `self` and `later`.
    pub fn others_share(&self, later: &MachineSnapshot, cpus: usize, wall_secs: f64) -> f64 {
        let busy = later.busy_ticks.saturating_sub(self.busy_ticks);
        let own = later.own_ticks.saturating_sub(self.own_ticks);
        self.share(busy.saturating_sub(own), cpus, wall_secs)
    }

    /// The fraction (0–1) of the machine's CPU time (`cpus` CPUs over `wall_secs`) that the
    /// hypervisor stole between `self` and `later`.
    pub fn steal_share(&self, later: &MachineSnapshot, cpus: usize, wall_secs: f64) -> f64 {
        let stolen = later.steal_ticks.saturating_sub(self.steal_ticks);
        self.share(stolen, cpus, wall_secs)
    }

    /// `ticks` as a fraction (0–1) of what `cpus` CPUs offer over `wall_secs`.
    fn share(&self, ticks: u64, cpus: usize, wall_secs: f64) -> f64 {
        let capacity = wall_secs * self.ticks_per_second as f64 * cpus.max(1) as f64;
        if capacity <= 0.0 {
            return 0.0;
        }
        (ticks as f64 / capacity).clamp(0.0, 1.0)
    }
}

/// CPU time of every thread of this process, by thread id, in nanoseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadTimes {
    /// Nanoseconds on a CPU per thread id.
    pub ns: BTreeMap<i32, u64>,
    /// Where they were read: `schedstat` (nanoseconds) where the kernel fills it in, else
    /// `stat`'s `utime + stime` (clock ticks, 10 ms on most builds).
    pub source: &'static str,
}

impl ThreadTimes {
    /// Reads every thread of this process; empty off Linux.
    pub fn now() -> ThreadTimes {
        proc::thread_times()
    }

    /// CPU time the threads in `tids` spent between `self` and `later`; a thread missing
    /// from either reading counts from zero or not at all.
    pub fn spent_since(&self, later: &ThreadTimes, tids: &[i32]) -> u64 {
        tids.iter()
            .filter_map(|tid| {
                let start = self.ns.get(tid).copied().unwrap_or(0);
                Some(later.ns.get(tid)?.saturating_sub(start))
            })
            .sum()
    }
}

#[cfg(target_os = "linux")]
mod proc {
    use procfs::process::Process;
    use procfs::{Current, CurrentSI};

    use super::{MachineSnapshot, ThreadTimes};

    pub(super) fn cpu_model() -> Option<String> {
        let info = procfs::CpuInfo::current().ok()?;
        info.model_name(0).map(str::to_string)
    }

    pub(super) fn load_average() -> Option<String> {
        let l = procfs::LoadAverage::current().ok()?;
        Some(format!("{:.2} {:.2} {:.2}", l.one, l.five, l.fifteen))
    }

    pub(super) fn snapshot() -> Option<MachineSnapshot> {
        let cpu = procfs::KernelStats::current().ok()?.total;
        let own = Process::myself().ok()?.stat().ok()?;
        let steal = cpu.steal.unwrap_or(0);
        let extra = cpu.irq.unwrap_or(0) + cpu.softirq.unwrap_or(0) + steal;
        Some(MachineSnapshot {
            busy_ticks: cpu.user + cpu.nice + cpu.system + extra,
            own_ticks: own.utime + own.stime,
            steal_ticks: steal,
            ticks_per_second: procfs::ticks_per_second(),
        })
    }

    pub(super) fn thread_times() -> ThreadTimes {
        let Some(tasks) = Process::myself().ok().and_then(|p| p.tasks().ok()) else {
            return ThreadTimes::default();
        };
        let tasks: Vec<_> = tasks.flatten().collect();
        // Some kernels expose `schedstat` but leave it at zero.
        let schedstat: Option<Vec<(i32, u64)>> = tasks
            .iter()
            .map(|t| Some((t.tid, t.schedstat().ok()?.sum_exec_runtime)))
            .collect();
        if let Some(ns) = schedstat.filter(|ns| ns.iter().any(|&(_, ns)| ns > 0)) {
            return ThreadTimes {
                ns: ns.into_iter().collect(),
                source: "/proc/self/task/*/schedstat (ns)",
            };
        }
        let tick_ns = 1_000_000_000 / procfs::ticks_per_second().max(1);
        ThreadTimes {
            ns: tasks
                .iter()
                .filter_map(|t| {
                    t.stat()
                        .ok()
                        .map(|s| (t.tid, (s.utime + s.stime) * tick_ns))
                })
                .collect(),
            source: "/proc/self/task/*/stat utime+stime (clock ticks)",
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod proc {
    use super::{MachineSnapshot, ThreadTimes};

    pub(super) fn cpu_model() -> Option<String> {
        None
    }

    pub(super) fn load_average() -> Option<String> {
        None
    }

    pub(super) fn snapshot() -> Option<MachineSnapshot> {
        None
    }

    pub(super) fn thread_times() -> ThreadTimes {
        ThreadTimes::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_pretty_name_is_unquoted() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n";
        assert_eq!(
            parse_os_release(text).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn others_share_subtracts_our_own_time_and_steal_is_its_own_share() {
        let at = |busy, own, steal| MachineSnapshot {
            busy_ticks: busy,
            own_ticks: own,
            steal_ticks: steal,
            ticks_per_second: 100,
        };
        // 2 CPUs × 1 s × 100 ticks = 200 ticks offered; 150 busy, 50 of them ours.
        let (a, b) = (at(1_000, 100, 10), at(1_150, 150, 30));
        assert!((a.others_share(&b, 2, 1.0) - 0.5).abs() < 1e-9);
        assert!((a.steal_share(&b, 2, 1.0) - 0.1).abs() < 1e-9);
        assert_eq!(a.others_share(&b, 2, 0.0), 0.0);
    }

    /// The calling thread's CPU time, from the kernel's per-thread clock.
    #[cfg(target_os = "linux")]
    fn own_cpu_time() -> std::time::Duration {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid, writable `timespec` for the call's duration, and
        // `CLOCK_THREAD_CPUTIME_ID` is a clock every Linux kernel provides.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
        assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        std::time::Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_spinning_thread_shows_its_cpu_time_and_a_sleeping_one_almost_none() {
        use std::sync::mpsc;
        use std::time::Duration;
        let (spun_tx, spun_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let before = ThreadTimes::now();
        let spinner = std::thread::Builder::new()
            .name("cpu-time-probe".into())
            .spawn(move || {
                // Spins until the kernel's own clock of this thread's CPU time reads
                // 200 ms: wall time would leave it a fraction of that beside a busy core.
                while own_cpu_time() < Duration::from_millis(200) {
                    std::hint::spin_loop();
                }
                spun_tx.send(()).unwrap();
                let _ = stop_rx.recv();
            })
            .unwrap();
        spun_rx.recv().unwrap();
        let spun = ThreadTimes::now();
        let me = procfs::process::Process::myself().unwrap();
        let tid = me
            .tasks()
            .unwrap()
            .flatten()
            .find(|t| t.stat().is_ok_and(|s| s.comm == "cpu-time-probe"))
            .expect("the probe thread is listed")
            .tid;
        std::thread::sleep(Duration::from_millis(100));
        let slept = ThreadTimes::now();
        stop_tx.send(()).unwrap();
        spinner.join().unwrap();
        // New since `before`: counted from zero. At least 150 of the 200 ms of CPU time
        // spun show (clock ticks are coarse where the kernel keeps no schedstat); the
        // 100 ms asleep cost far less than a tick's worth.
        assert!(before.spent_since(&spun, &[tid]) >= 150_000_000, "{spun:?}");
        assert!(spun.spent_since(&slept, &[tid]) < 20_000_000, "{slept:?}");
    }
}
