//! Every job submitted to a pool runs exactly once: none lost, none repeated,
//! whether spawned inside a scope, from a tree of spawns, or from outside.

mod common;

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::watchdog;
use filch_scheduler::{Scope, ThreadPoolBuilder};

const JOBS: usize = 1_000_000;
const LIMIT: Duration = Duration::from_secs(60);

fn counters(n: usize) -> Vec<AtomicU8> {
    (0..n).map(|_| AtomicU8::new(0)).collect()
}

/// Panics naming the first index whose job ran other than once.
fn assert_each_ran_once(counts: &[AtomicU8]) {
    let bad: Vec<(usize, u8)> = counts
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.load(Ordering::Relaxed)))
        .filter(|&(_, c)| c != 1)
        .take(10)
        .collect();
    assert!(
        bad.is_empty(),
        "jobs that did not run exactly once (index, runs): {bad:?}"
    );
}

#[test]
fn a_million_scope_spawns_each_run_once() {
    watchdog("a million scope spawns", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let counts = counters(JOBS);
        pool.scope(|s| {
            for count in &counts {
                s.spawn(move |_| {
                    count.fetch_add(1, Ordering::Relaxed);
                });
            }
        });
        assert_each_ran_once(&counts);
    });
}

/// Spawns one job per index of `range`, splitting it in halves through
/// nested spawns so the jobs start on many workers' deques.
fn spawn_tree<'a>(s: &Scope<'a>, counts: &'a [AtomicU8], lo: usize, hi: usize) {
    if hi - lo == 1 {
        counts[lo].fetch_add(1, Ordering::Relaxed);
        return;
    }
    let mid = lo + (hi - lo) / 2;
    s.spawn(move |s| spawn_tree(s, counts, lo, mid));
    s.spawn(move |s| spawn_tree(s, counts, mid, hi));
}

#[test]
fn a_million_jobs_spawned_from_spawned_jobs_each_run_once() {
    watchdog("a tree of a million spawns", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let counts = counters(JOBS);
        pool.scope(|s| spawn_tree(s, &counts, 0, JOBS));
        assert_each_ran_once(&counts);
    });
}

#[test]
fn a_million_outside_spawns_each_run_once() {
    watchdog("a million outside spawns", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let counts = Arc::new(counters(JOBS));
        let remaining = Arc::new(AtomicUsize::new(JOBS));
        let (done_tx, done_rx) = mpsc::channel();
        for i in 0..JOBS {
            let counts = Arc::clone(&counts);
            let remaining = Arc::clone(&remaining);
            let done_tx = done_tx.clone();
            pool.spawn(move || {
                counts[i].fetch_add(1, Ordering::Relaxed);
                if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                    done_tx.send(()).unwrap();
                }
            });
        }
        done_rx.recv().expect("the last job reports");
        // Give a repeated job (a bug) the chance to show up before checking.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(remaining.load(Ordering::Acquire), 0);
        assert_each_ran_once(&counts);
    });
}

#[test]
fn jobs_spawned_from_many_outside_threads_each_run_once() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 100_000;
    watchdog("outside spawns from several threads", LIMIT, || {
        let pool = Arc::new(ThreadPoolBuilder::new().num_threads(2).build().unwrap());
        let counts = Arc::new(counters(THREADS * PER_THREAD));
        let submitters: Vec<_> = (0..THREADS)
            .map(|t| {
                let pool = Arc::clone(&pool);
                let counts = Arc::clone(&counts);
                std::thread::spawn(move || {
                    for i in t * PER_THREAD..(t + 1) * PER_THREAD {
                        let counts = Arc::clone(&counts);
                        pool.spawn(move || {
                            counts[i].fetch_add(1, Ordering::Relaxed);
                        });
                    }
                })
            })
            .collect();
        for submitter in submitters {
            submitter.join().unwrap();
        }
        // Dropping the pool runs everything queued, then joins the workers.
        drop(Arc::into_inner(pool).expect("only this thread holds the pool now"));
        assert_each_ran_once(&counts);
    });
}
