//! `apply_async`'s handle: `get`, `get_timeout` (a timeout hands the handle
//! back, and `get` then works), `wait_timeout`, `wait`, `ready`, a panic
//! re-raised at `get` with its payload, and `get` on a 1-thread pool's own
//! worker for a job queued behind it, which must not deadlock.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::{boom, boom_index, catch, pool, quiet_injected_panics, watchdog};

/// Long enough that a 1 ms wait surely times out even on a loaded machine,
/// short enough to be cheap (the tests run in parallel).
const SLOW: Duration = Duration::from_secs(1);

#[test]
fn get_returns_the_value() {
    watchdog("get", || {
        for threads in [1, 3] {
            let handle = pool(threads).apply_async(|| 6 * 7);
            assert_eq!(handle.get(), 42);
            let owned = pool(threads).apply_async(|| String::from("owned"));
            assert_eq!(owned.get(), "owned");
        }
    });
}

#[test]
fn get_timeout_on_a_slow_job_hands_the_handle_back_and_get_then_works() {
    watchdog("get_timeout", || {
        let (started_tx, started_rx) = mpsc::channel();
        let handle = pool(2).apply_async(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(SLOW);
            "slow"
        });
        // Started by a worker, so `get` below waits rather than runs it.
        started_rx.recv().unwrap();
        let handle = handle
            .get_timeout(Duration::from_millis(1))
            .expect_err("a 1 s job is not done in 1 ms");
        assert!(!handle.ready());
        assert_eq!(handle.get(), "slow");

        let fast = pool(2).apply_async(|| 5);
        assert_eq!(fast.get_timeout(Duration::from_secs(30)).ok(), Some(5));
    });
}

#[test]
fn wait_timeout_and_ready_report_completion() {
    watchdog("wait_timeout", || {
        let (started_tx, started_rx) = mpsc::channel();
        let handle = pool(2).apply_async(move || {
            started_tx.send(()).unwrap();
            std::thread::sleep(SLOW);
            1u8
        });
        started_rx.recv().unwrap();
        assert!(
            !handle.wait_timeout(Duration::from_millis(1)),
            "done within 1 ms of a 1 s job"
        );
        assert!(!handle.ready());
        assert!(handle.wait_timeout(Duration::from_secs(30)));
        assert!(handle.ready());
        assert!(
            handle.wait_timeout(Duration::ZERO),
            "a finished job stays ready"
        );
        assert_eq!(handle.get(), 1);

        let other = pool(2).apply_async(|| 2u8);
        other.wait();
        assert!(other.ready());
        assert_eq!(other.get(), 2);
    });
}

#[test]
fn a_panic_is_raised_at_get_with_its_payload() {
    quiet_injected_panics();
    watchdog("panic at get", || {
        for threads in [1, 4] {
            let pool = pool(threads);
            let handle = pool.apply_async(|| -> u32 { boom(17) });
            assert!(
                handle.wait_timeout(Duration::from_secs(30)),
                "a panicking job is still done"
            );
            assert!(handle.ready());
            let payload = catch(|| handle.get()).expect_err("the job panicked");
            assert_eq!(boom_index(&*payload), 17);
            // The panic is raised at `get`, not at `get_timeout`'s timeout.
            let handle = pool.apply_async(|| -> u32 { boom(18) });
            let payload = catch(|| handle.get_timeout(Duration::from_secs(30)))
                .expect_err("raised by get_timeout");
            assert_eq!(boom_index(&*payload), 18);
            // And the pool still works.
            assert_eq!(pool.apply_async(|| 3).get(), 3);
            common::assert_pool_works(pool);
        }
    });
}

#[test]
fn get_on_the_only_worker_for_a_job_queued_behind_it_does_not_deadlock() {
    watchdog("get on the only worker", || {
        let pool = pool(1);
        let got = pool.install(|| {
            let handle = pool.apply_async(|| 40 + 2);
            // Nobody else can run it: waiting only times out...
            let handle = handle
                .get_timeout(Duration::from_millis(10))
                .expect_err("no worker is free to run it");
            // ...while `get` runs it here.
            handle.get()
        });
        assert_eq!(got, 42);
        // A job that itself waits on another job queued on the same pool.
        let nested = pool.apply_async(move || pool.apply_async(|| 7).get() * 6);
        assert_eq!(nested.get(), 42);
        // Many jobs queued from the worker, collected in reverse order.
        let sum: u64 = pool.install(|| {
            let handles: Vec<_> = (0..100u64).map(|i| pool.apply_async(move || i)).collect();
            handles.into_iter().rev().map(|h| h.get()).sum()
        });
        assert_eq!(sum, 4950);
    });
}
