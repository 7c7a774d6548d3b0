//! Per-worker counters: cheap to bump (each is written only by its own
//! worker, so a relaxed load and store, no read-modify-write), read as a
//! snapshot from any thread.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The live counters of one worker. Single writer: its own thread.
#[derive(Debug, Default)]
pub(crate) struct WorkerCounters {
    jobs: AtomicU64,
    steals: AtomicU64,
    failed_steals: AtomicU64,
    parks: AtomicU64,
    wakes: AtomicU64,
}

/// Which counter to bump.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Counter {
    Jobs,
    Steals,
    FailedSteals,
    Parks,
    Wakes,
}

impl WorkerCounters {
    /// Adds one. Only the owning worker may call this.
    #[inline]
    pub(crate) fn bump(&self, counter: Counter) {
        let cell = match counter {
            Counter::Jobs => &self.jobs,
            Counter::Steals => &self.steals,
            Counter::FailedSteals => &self.failed_steals,
            Counter::Parks => &self.parks,
            Counter::Wakes => &self.wakes,
        };
        cell.store(cell.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, core: Option<usize>) -> WorkerStats {
        WorkerStats {
            jobs: self.jobs.load(Ordering::Relaxed),
            steals: self.steals.load(Ordering::Relaxed),
            failed_steals: self.failed_steals.load(Ordering::Relaxed),
            parks: self.parks.load(Ordering::Relaxed),
            wakes: self.wakes.load(Ordering::Relaxed),
            core,
            spare: false,
        }
    }
}

/// A snapshot of one worker's counters.
///
/// ```
/// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
/// pool.install(|| ());
/// assert!(pool.stats().workers[0].jobs >= 1);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerStats {
    /// Jobs this worker ran from a deque or the injector (inline `join`
    /// halves that never left the worker are not counted: they cost nothing).
    pub jobs: u64,
    /// Successful steals from another worker or the injector.
    pub steals: u64,
    /// Steal attempts that found a victim's deque empty.
    pub failed_steals: u64,
    /// Times the worker went to sleep.
    pub parks: u64,
    /// Times the worker was woken from sleep.
    pub wakes: u64,
    /// The core the worker is pinned to, if pinned.
    pub core: Option<usize>,
    /// Whether this is a spare (a thread started to stand in for workers
    /// blocked in [`blocking`](crate::blocking)); spares are never pinned.
    pub spare: bool,
}

/// A snapshot of every worker's counters, from [`ThreadPool::stats`](crate::ThreadPool::stats).
///
/// Displays as a table:
/// ```
/// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
/// let table = pool.stats().to_string();
/// assert!(table.contains("worker"));
/// assert_eq!(pool.stats().workers.len(), 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStats {
    /// One entry per worker, by index, then one per spare slot ever used
    /// (marked `spare`).
    pub workers: Vec<WorkerStats>,
}

impl PoolStats {
    /// The sum over all workers (`core` is `None`).
    ///
    /// ```
    /// let pool = filch_scheduler::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    /// pool.install(|| ());
    /// assert!(pool.stats().total().jobs >= 1);
    /// ```
    pub fn total(&self) -> WorkerStats {
        self.workers
            .iter()
            .fold(WorkerStats::default(), |acc, w| WorkerStats {
                jobs: acc.jobs + w.jobs,
                steals: acc.steals + w.steals,
                failed_steals: acc.failed_steals + w.failed_steals,
                parks: acc.parks + w.parks,
                wakes: acc.wakes + w.wakes,
                core: None,
                spare: false,
            })
    }
}

impl fmt::Display for PoolStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>6} {:>5} {:>12} {:>10} {:>13} {:>8} {:>8}",
            "worker", "core", "jobs", "steals", "failed steals", "parks", "wakes"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, w: &WorkerStats| {
            let core = w.core.map_or_else(|| "-".to_string(), |c| c.to_string());
            writeln!(
                f,
                "{:>6} {:>5} {:>12} {:>10} {:>13} {:>8} {:>8}",
                name, core, w.jobs, w.steals, w.failed_steals, w.parks, w.wakes
            )
        };
        for (i, w) in self.workers.iter().enumerate() {
            let name = if w.spare {
                format!("s{i}")
            } else {
                i.to_string()
            };
            row(f, &name, w)?;
        }
        row(f, "total", &self.total())
    }
}
