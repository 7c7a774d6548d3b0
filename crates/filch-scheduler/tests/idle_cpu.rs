//! An idle pool parks its workers: after a burst of work they stop using CPU
//! (under 1% of one core, measured per worker thread from `/proc`).

mod common;

use std::time::Duration;

use common::{cpu_ns_of, thread_state, wait_for, watchdog, workers_named};
use filch_scheduler::{join, ThreadPoolBuilder};

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = join(|| fib(n - 1), || fib(n - 2));
    a + b
}

#[test]
fn an_idle_pool_uses_under_one_percent_of_a_core() {
    const THREADS: usize = 2;
    const WINDOW: Duration = Duration::from_secs(1);
    // 1% of one core over the window.
    const BUDGET_NS: u64 = WINDOW.as_nanos() as u64 / 100;
    watchdog("idle CPU measurement", Duration::from_secs(30), || {
        // Unique names: other tests' pools in this process are not measured.
        let pool = ThreadPoolBuilder::new()
            .num_threads(THREADS)
            .thread_name(|i| format!("idlecpu-{i}"))
            .build()
            .unwrap();
        let tids = workers_named("idlecpu-", THREADS);

        // A burst of work of every kind, then let the workers settle.
        assert_eq!(pool.install(|| fib(22)), 17_711);
        let mut v = vec![0u64; 10_000];
        pool.scope(|s| {
            for (i, x) in v.iter_mut().enumerate() {
                s.spawn(move |_| *x = i as u64);
            }
        });
        let (tx, rx) = std::sync::mpsc::channel();
        for i in 0..100 {
            let tx = tx.clone();
            pool.spawn(move || tx.send(i).unwrap());
        }
        assert_eq!(rx.iter().take(100).count(), 100);
        std::thread::sleep(Duration::from_millis(100));

        let before = cpu_ns_of(&tids);
        std::thread::sleep(WINDOW);
        let used = cpu_ns_of(&tids) - before;
        assert!(
            used < BUDGET_NS,
            "idle workers used {:.2} ms of CPU in {WINDOW:?} (budget {:.2} ms): they do not park",
            used as f64 / 1e6,
            BUDGET_NS as f64 / 1e6
        );
        for &tid in &tids {
            assert_eq!(
                thread_state(tid),
                Some('S'),
                "idle worker thread {tid} is not blocked"
            );
        }
        // Still wakes up for work afterwards.
        assert_eq!(pool.install(|| fib(15)), 610);
    });
}

#[test]
fn workers_fall_asleep_soon_after_the_work_runs_out() {
    watchdog("workers fall asleep", Duration::from_secs(30), || {
        let pool = ThreadPoolBuilder::new()
            .num_threads(4)
            .thread_name(|i| format!("settle-{i}"))
            .build()
            .unwrap();
        let tids = workers_named("settle-", 4);
        for round in 0..20 {
            assert_eq!(pool.install(|| fib(16)), 987);
            assert!(
                wait_for(Duration::from_secs(2), || tids
                    .iter()
                    .all(|&t| thread_state(t) == Some('S'))),
                "round {round}: workers still running 2 s after the work ran out"
            );
        }
    });
}
