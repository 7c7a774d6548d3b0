//! Pool statistics move as documented: jobs run from queues are counted,
//! injected work shows up as steals, sleeping shows up as parks and wakes,
//! and inline `join` halves cost (and count) nothing.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{wait_for, watchdog};
use filch_scheduler::{join, PoolStats, ThreadPoolBuilder};

const LIMIT: Duration = Duration::from_secs(30);

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = join(|| fib(n - 1), || fib(n - 2));
    a + b
}

#[test]
fn injected_jobs_are_counted_as_jobs_and_steals() {
    const JOBS: u64 = 1000;
    watchdog("stats after injected jobs", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let before = pool.stats().total();
        let (tx, rx) = mpsc::channel();
        for _ in 0..JOBS {
            let tx = tx.clone();
            pool.spawn(move || tx.send(()).unwrap());
        }
        assert_eq!(rx.iter().take(JOBS as usize).count(), JOBS as usize);
        // Each counter is bumped (relaxed) before its job runs; a relaxed
        // store may become visible here a moment later, so poll briefly.
        let settled = wait_for(Duration::from_secs(5), || {
            pool.stats().total().jobs - before.jobs >= JOBS
        });
        let after = pool.stats().total();
        assert!(
            settled,
            "{JOBS} injected jobs but jobs went {} -> {}",
            before.jobs, after.jobs
        );
        // Taking from the injector counts as a steal (at least one batch).
        assert!(
            after.steals > before.steals,
            "steals did not move: {after:?}"
        );
    });
}

#[test]
fn counters_only_grow() {
    watchdog("counters are monotonic", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let mut previous = pool.stats();
        for _ in 0..20 {
            pool.install(|| fib(15));
            pool.scope(|s| {
                for _ in 0..50 {
                    s.spawn(|_| {
                        std::hint::black_box(fib(8));
                    });
                }
            });
            let now = pool.stats();
            for (i, (p, n)) in previous.workers.iter().zip(&now.workers).enumerate() {
                assert!(
                    n.jobs >= p.jobs
                        && n.steals >= p.steals
                        && n.failed_steals >= p.failed_steals
                        && n.parks >= p.parks
                        && n.wakes >= p.wakes,
                    "worker {i} went backwards: {p:?} -> {n:?}"
                );
            }
            previous = now;
        }
        // 20 installs and 20 * 50 scope jobs ran from queues.
        assert!(previous.total().jobs >= 20 + 20 * 50, "{previous}");
    });
}

#[test]
fn idle_workers_park_and_are_woken() {
    watchdog("parks and wakes", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        for _ in 0..5 {
            // Long enough for both workers to go to sleep ...
            std::thread::sleep(Duration::from_millis(30));
            // ... and a job that wakes one of them.
            pool.install(|| ());
        }
        let total = pool.stats().total();
        assert!(total.parks >= 1, "no park recorded: {total:?}");
        assert!(total.wakes >= 1, "no wake recorded: {total:?}");
        assert!(total.jobs >= 5, "{total:?}");
    });
}

#[test]
fn inline_join_halves_are_not_counted_as_jobs() {
    watchdog("inline joins are free", LIMIT, || {
        // With one worker nobody is ever hungry while it runs, so no join half
        // is published: fib(20)'s ~10,000 joins all run inline.
        let pool = ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let before = pool.stats().total().jobs;
        assert_eq!(pool.install(|| fib(20)), 6765);
        let after = pool.stats().total().jobs;
        assert_eq!(after - before, 1, "only the install itself is a queued job");
    });
}

#[test]
fn stats_have_one_row_per_worker_and_display_as_a_table() {
    let pool = ThreadPoolBuilder::new().num_threads(3).build().unwrap();
    pool.install(|| fib(10));
    let stats: PoolStats = pool.stats();
    assert_eq!(stats.workers.len(), 3);
    assert!(
        stats.workers.iter().all(|w| w.core.is_none()),
        "unpinned: no core"
    );
    let total = stats.total();
    assert_eq!(
        total.jobs,
        stats.workers.iter().map(|w| w.jobs).sum::<u64>()
    );
    assert_eq!(total.core, None);
    let table = stats.to_string();
    assert_eq!(
        table.lines().count(),
        1 + 3 + 1,
        "header, 3 workers, total:\n{table}"
    );
    assert!(table.lines().next().unwrap().contains("worker"));
    assert!(table
        .lines()
        .last()
        .unwrap()
        .trim_start()
        .starts_with("total"));
}
