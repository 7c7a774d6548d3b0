//! Pinned workers really run where asked: each worker's affinity, as the
//! kernel reports it in `/proc/thread-self/status`, is exactly its planned
//! core. Disallowed cores are refused with the allowed list.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{current_thread_cores, watchdog};
use filch_scheduler::{BuildError, Pinning, ThreadPoolBuilder};

const LIMIT: Duration = Duration::from_secs(30);

/// The cores this process may use (the test threads are never pinned).
fn allowed() -> Vec<usize> {
    let cores = current_thread_cores();
    assert!(!cores.is_empty());
    cores
}

/// Builds a pool with `pinning` and returns, per worker index, the cores the
/// kernel says that worker may run on (read on the worker itself), and the
/// cores the pool's stats report.
fn affinities(threads: usize, pinning: Pinning) -> (Vec<Vec<usize>>, Vec<Option<usize>>) {
    let seen = Arc::new(Mutex::new(vec![None; threads]));
    let record = Arc::clone(&seen);
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .pinning(pinning)
        // The start hook runs on the worker after it pinned itself.
        .start_handler(move |i| record.lock().unwrap()[i] = Some(current_thread_cores()))
        .build()
        .unwrap();
    // And again from inside a job, on every worker, after it ran some work.
    let in_jobs = Mutex::new(vec![None; threads]);
    let barrier = std::sync::Barrier::new(threads);
    pool.scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| {
                let i = pool.current_thread_index().unwrap();
                in_jobs.lock().unwrap()[i] = Some(current_thread_cores());
                barrier.wait(); // one job per worker
            });
        }
    });
    let stats_cores = pool.stats().workers.iter().map(|w| w.core).collect();
    drop(pool);
    let from_hooks: Vec<Vec<usize>> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.clone().unwrap())
        .collect();
    let from_jobs: Vec<Vec<usize>> = in_jobs
        .into_inner()
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect();
    assert_eq!(
        from_hooks, from_jobs,
        "affinity changed between start and running jobs"
    );
    (from_hooks, stats_cores)
}

#[test]
fn per_core_pins_worker_i_to_the_ith_allowed_core_round_robin() {
    watchdog("Pinning::PerCore", LIMIT, || {
        let allowed = allowed();
        for threads in [1, allowed.len(), allowed.len() + 1, 2 * allowed.len() + 1] {
            let (actual, stats) = affinities(threads, Pinning::PerCore);
            for (i, cores) in actual.iter().enumerate() {
                let expected = allowed[i % allowed.len()];
                assert_eq!(
                    cores,
                    &vec![expected],
                    "worker {i} of {threads}: kernel affinity"
                );
                assert_eq!(stats[i], Some(expected), "worker {i} of {threads}: stats");
            }
        }
    });
}

#[test]
fn explicit_core_list_pins_every_worker_to_it() {
    watchdog("Pinning::Cores", LIMIT, || {
        let allowed = allowed();
        let first = allowed[0];
        let (actual, stats) = affinities(3, Pinning::Cores(vec![first]));
        for (i, cores) in actual.iter().enumerate() {
            assert_eq!(cores, &vec![first], "worker {i}: kernel affinity");
            assert_eq!(stats[i], Some(first), "worker {i}: stats");
        }
        let last = *allowed.last().unwrap();
        let (actual, _) = affinities(4, Pinning::Cores(vec![last, first]));
        let expected = [last, first, last, first];
        for (i, cores) in actual.iter().enumerate() {
            assert_eq!(cores, &vec![expected[i]], "worker {i}: kernel affinity");
        }
    });
}

#[test]
fn unpinned_workers_keep_the_process_affinity() {
    watchdog("Pinning::Off", LIMIT, || {
        let allowed = allowed();
        let (actual, stats) = affinities(2, Pinning::Off);
        for (i, cores) in actual.iter().enumerate() {
            assert_eq!(cores, &allowed, "worker {i}");
            assert_eq!(stats[i], None);
        }
    });
}

#[test]
fn a_disallowed_core_is_refused_with_the_allowed_list() {
    let allowed = allowed();
    let bad = allowed.last().unwrap() + 1;
    let started = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&started);
    let err = ThreadPoolBuilder::new()
        .num_threads(2)
        .pinning(Pinning::Cores(vec![allowed[0], bad]))
        .start_handler(move |_| {
            s.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap_err();
    match &err {
        BuildError::CoreNotAllowed {
            core,
            allowed: listed,
        } => {
            assert_eq!(*core, bad);
            assert_eq!(listed, &allowed);
        }
        other => panic!("expected CoreNotAllowed, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains(&format!("core {bad}")),
        "message names the bad core: {message}"
    );
    assert!(
        message.contains(&format!("{allowed:?}")),
        "message lists the allowed cores: {message}"
    );
    assert_eq!(
        started.load(Ordering::SeqCst),
        0,
        "no worker started on error"
    );
}
