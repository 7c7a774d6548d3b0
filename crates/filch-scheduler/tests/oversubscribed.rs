//! A pool with far more workers than cores (64 on a 2-core machine) does
//! real work, gets it right, and finishes.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::watchdog;
use filch_scheduler::{join, ThreadPoolBuilder};

const THREADS: usize = 64;
const LIMIT: Duration = Duration::from_secs(60);

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = join(|| fib(n - 1), || fib(n - 2));
    a + b
}

#[test]
fn a_64_thread_pool_does_real_work_and_shuts_down() {
    watchdog("64-thread pool", LIMIT, || {
        let started = Arc::new(AtomicUsize::new(0));
        let exited = Arc::new(AtomicUsize::new(0));
        let (s, e) = (Arc::clone(&started), Arc::clone(&exited));
        let pool = ThreadPoolBuilder::new()
            .num_threads(THREADS)
            .start_handler(move |_| {
                s.fetch_add(1, Ordering::SeqCst);
            })
            .exit_handler(move |_| {
                e.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        assert_eq!(pool.num_threads(), THREADS);

        // Fork-join across all of them.
        assert_eq!(pool.install(|| fib(25)), 75_025);

        // Many small scope jobs, each one CPU-bound for a moment.
        let mut checksums = vec![0u64; 10_000];
        pool.scope(|s| {
            for (i, out) in checksums.iter_mut().enumerate() {
                s.spawn(move |_| {
                    *out =
                        (0..200u64).fold(i as u64, |acc, x| acc.wrapping_mul(31).wrapping_add(x));
                });
            }
        });
        for (i, &c) in checksums.iter().enumerate() {
            let expected =
                (0..200u64).fold(i as u64, |acc, x| acc.wrapping_mul(31).wrapping_add(x));
            assert_eq!(c, expected, "job {i}");
        }

        // Every worker gets a job that blocks until all have started one:
        // only possible if all 64 threads really run jobs.
        let barrier = Arc::new(std::sync::Barrier::new(THREADS));
        let seen = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        pool.scope(|s| {
            for _ in 0..THREADS {
                let barrier = Arc::clone(&barrier);
                let seen = Arc::clone(&seen);
                s.spawn(move |_| {
                    seen.lock()
                        .unwrap()
                        .insert(filch_scheduler::current_thread_index().unwrap());
                    barrier.wait();
                });
            }
        });
        assert_eq!(seen.lock().unwrap().len(), THREADS);

        drop(pool);
        // `build` waits for every worker to start, not for its start hook;
        // once joined, every hook has run.
        assert_eq!(started.load(Ordering::SeqCst), THREADS);
        assert_eq!(exited.load(Ordering::SeqCst), THREADS);
    });
}
