//! Eight threads outside the pool submit work at once through every entry
//! point (`install`, `join`, `scope`, `spawn`) on one shared pool; every
//! result is exact.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier};
use std::time::Duration;

use common::watchdog;
use filch_scheduler::{join, ThreadPool, ThreadPoolBuilder};

const SUBMITTERS: usize = 8;
const ROUNDS: usize = 50;
const LIMIT: Duration = Duration::from_secs(60);

fn sum(values: &[u64]) -> u64 {
    if values.len() <= 16 {
        return values.iter().sum();
    }
    let (left, right) = values.split_at(values.len() / 2);
    let (a, b) = join(|| sum(left), || sum(right));
    a + b
}

/// One submitter's work: every entry point, `ROUNDS` times, checked exactly.
fn submit_everything(pool: &ThreadPool, me: usize) {
    let values: Vec<u64> = (0..10_000).map(|v| v * (me as u64 + 1)).collect();
    let expected_sum = 10_000 * 9_999 / 2 * (me as u64 + 1);
    for round in 0..ROUNDS {
        // install
        assert_eq!(
            pool.install(|| sum(&values)),
            expected_sum,
            "install, submitter {me} round {round}"
        );

        // join
        let (a, b) = pool.join(|| sum(&values[..5000]), || sum(&values[5000..]));
        assert_eq!(a + b, expected_sum, "join, submitter {me} round {round}");

        // scope, writing into this thread's own buffer
        let mut out = vec![0u64; 256];
        pool.scope(|s| {
            for (i, slot) in out.iter_mut().enumerate() {
                let values = &values;
                s.spawn(move |_| *slot = values[i] + round as u64);
            }
        });
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, &v)| v == values[i] + round as u64),
            "scope, submitter {me} round {round}"
        );

        // spawn, with a countdown
        let (tx, rx) = mpsc::channel();
        let remaining = Arc::new(AtomicUsize::new(32));
        for i in 0..32u64 {
            let tx = tx.clone();
            let remaining = Arc::clone(&remaining);
            pool.spawn(move || {
                tx.send(i).unwrap();
                remaining.fetch_sub(1, Ordering::AcqRel);
            });
        }
        drop(tx);
        let mut got: Vec<u64> = rx.iter().collect();
        got.sort_unstable();
        assert_eq!(
            got,
            (0..32).collect::<Vec<_>>(),
            "spawn, submitter {me} round {round}"
        );
        assert_eq!(remaining.load(Ordering::Acquire), 0);
    }
}

fn eight_submitters_on(threads: usize) {
    let pool = Arc::new(
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap(),
    );
    let barrier = Arc::new(Barrier::new(SUBMITTERS));
    let handles: Vec<_> = (0..SUBMITTERS)
        .map(|me| {
            let pool = Arc::clone(&pool);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                submit_everything(&pool, me);
            })
        })
        .collect();
    for handle in handles {
        if let Err(payload) = handle.join() {
            std::panic::resume_unwind(payload);
        }
    }
}

#[test]
fn eight_outside_threads_on_a_two_thread_pool_get_exact_results() {
    watchdog("8 submitters, 2 workers", LIMIT, || eight_submitters_on(2));
}

#[test]
fn eight_outside_threads_on_a_one_thread_pool_get_exact_results() {
    // The lone worker must interleave every submitter's blocking calls.
    watchdog("8 submitters, 1 worker", LIMIT, || eight_submitters_on(1));
}
