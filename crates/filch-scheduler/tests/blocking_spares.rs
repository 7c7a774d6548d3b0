//! `blocking` and spare workers: spares stand in for blocked workers, never
//! beyond the cap; jobs that wait on each other through `blocking` do not
//! deadlock; a worker waiting on a stolen `join` half is not "blocked";
//! shutdown joins the spares.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use common::watchdog;
use filch_scheduler::{blocking, ThreadPoolBuilder};

const LIMIT: Duration = Duration::from_secs(30);

/// Runs `jobs` scope jobs that each block for `nap` inside `blocking`, and
/// returns the most that were blocked at once.
fn most_blocked_at_once(threads: usize, spares: usize, jobs: usize, nap: Duration) -> usize {
    let pool = ThreadPoolBuilder::new()
        .num_threads(threads)
        .max_spare_threads(spares)
        .build()
        .unwrap();
    let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
    pool.scope(|s| {
        for _ in 0..jobs {
            s.spawn(|_| {
                blocking(|| {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(nap);
                    now.fetch_sub(1, Ordering::SeqCst);
                })
            });
        }
    });
    let spare_rows = pool.stats().workers.iter().filter(|w| w.spare).count();
    assert!(
        spare_rows <= spares,
        "{spare_rows} spare slots used, cap {spares}"
    );
    most.into_inner()
}

#[test]
fn spares_stand_in_for_blocked_workers() {
    let most = watchdog("spares stand in", LIMIT, || {
        most_blocked_at_once(2, 16, 12, Duration::from_millis(40))
    });
    assert!(
        most > 2,
        "at most {most} jobs blocked at once on 2 workers with 16 spares"
    );
}

#[test]
fn the_spare_count_never_exceeds_the_cap() {
    let most = watchdog("spare cap", LIMIT, || {
        most_blocked_at_once(1, 2, 10, Duration::from_millis(20))
    });
    assert!(
        most <= 3,
        "{most} blocked at once: 1 worker + 2 spares is the most"
    );
}

#[test]
fn at_a_cap_of_zero_blocking_degrades_to_the_plain_pool() {
    let most = watchdog("no spares", LIMIT, || {
        most_blocked_at_once(1, 0, 4, Duration::from_millis(5))
    });
    assert_eq!(most, 1);
}

#[test]
fn jobs_that_wait_on_each_other_through_blocking_do_not_deadlock() {
    watchdog("mutual wait", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        for _ in 0..20 {
            let (tx, rx) = mpsc::channel::<u32>();
            let got = AtomicUsize::new(0);
            pool.scope(|s| {
                // On one worker: the first job waits for the second, which is
                // still queued behind it. Only a spare can run it.
                let got = &got;
                s.spawn(move |_| {
                    let v = blocking(|| rx.recv().unwrap());
                    got.store(v as usize, Ordering::SeqCst);
                });
                s.spawn(move |_| tx.send(7).unwrap());
            });
            assert_eq!(got.load(Ordering::SeqCst), 7);
        }
    });
}

#[test]
fn waiting_for_a_stolen_join_half_starts_no_spare() {
    watchdog("join is not blocking", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        for _ in 0..50 {
            pool.join(
                || std::thread::sleep(Duration::from_millis(1)),
                || std::thread::sleep(Duration::from_millis(2)),
            );
        }
        assert!(pool.stats().workers.iter().all(|w| !w.spare));
    });
}

#[test]
fn dropping_the_pool_joins_its_spares() {
    watchdog("spares joined", LIMIT, || {
        let starts = std::sync::Arc::new(AtomicUsize::new(0));
        let exits = std::sync::Arc::new(AtomicUsize::new(0));
        let (s2, e2) = (
            std::sync::Arc::clone(&starts),
            std::sync::Arc::clone(&exits),
        );
        let pool = ThreadPoolBuilder::new()
            .num_threads(1)
            .start_handler(move |_| {
                s2.fetch_add(1, Ordering::SeqCst);
            })
            .exit_handler(move |_| {
                e2.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        pool.scope(|s| {
            for _ in 0..4 {
                s.spawn(|_| blocking(|| std::thread::sleep(Duration::from_millis(10))));
            }
        });
        drop(pool);
        // `drop` returned, so every thread it started has been joined: each
        // ran its exit hook, spares included.
        let (started, exited) = (starts.load(Ordering::SeqCst), exits.load(Ordering::SeqCst));
        assert!(started > 1, "no spare was started ({started} threads)");
        assert_eq!(started, exited, "a thread outlived its pool");
    });
}

#[test]
fn blocking_off_the_pool_just_runs_the_closure() {
    assert_eq!(blocking(|| 6 * 7), 42);
}
