//! A call made on a worker whose first item blocked is shared with the
//! pool (`first_item.rs`); afterwards that worker, the call's owner, waits
//! for the call's helpers. It must wait as a *blocked* worker, so that a
//! spare stands in for it: otherwise the pool computes a thread short, and
//! on a 1-thread pool a helper waiting for a job it spawned waits forever.
//!
//! Also: `map_init` makes no state that maps no item after such a call.
//! Every wait here is bounded, and every test runs under the watchdog.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{wait_until, watchdog};

/// Item 0 blocks (sharing the rest; a spare takes item 1). Item 1 waits
/// until item 0 has returned and its thread is waiting for the helpers,
/// then spawns a job on the pool and waits for it inside `blocking`.
fn helper_waits_for_a_spawned_job(from_worker: bool) -> Vec<Option<u32>> {
    let pool = filch::Pool::builder().threads(1).build().unwrap();
    let first_returned = AtomicBool::new(false);
    let f = |i: u32| {
        if i == 0 {
            filch::blocking(|| thread::sleep(Duration::from_millis(5)));
            first_returned.store(true, SeqCst);
            return Some(0);
        }
        assert!(wait_until(Duration::from_secs(5), || first_returned.load(SeqCst)));
        thread::sleep(Duration::from_millis(50));
        let (tx, rx) = mpsc::channel();
        pool.spawn(move || {
            let _ = tx.send(7u32);
        });
        filch::blocking(|| rx.recv_timeout(Duration::from_secs(3)).ok())
    };
    if from_worker {
        pool.install(|| filch::map(0..2u32, f))
    } else {
        pool.map(0..2u32, f)
    }
}

#[test]
fn a_helper_gets_its_spawned_job_run_when_the_call_was_made_outside() {
    let got = watchdog("outside", || helper_waits_for_a_spawned_job(false));
    assert_eq!(got, [Some(0), Some(7)]);
}

#[test]
fn a_helper_gets_its_spawned_job_run_while_the_owning_worker_waits() {
    let got = watchdog("worker", || helper_waits_for_a_spawned_job(true));
    assert_eq!(
        got,
        [Some(0), Some(7)],
        "the job spawned by item 1 never ran"
    );
}

#[test]
fn a_helpers_nested_call_is_shared_while_the_owning_worker_waits() {
    let inner_shared = watchdog("nested", || {
        let pool = filch::Pool::builder().threads(1).build().unwrap();
        let first_returned = AtomicBool::new(false);
        let inner_shared = AtomicBool::new(false);
        let got = pool.install(|| {
            filch::map(0..2u32, |i| {
                if i == 0 {
                    filch::blocking(|| thread::sleep(Duration::from_millis(5)));
                    first_returned.store(true, SeqCst);
                    return 0;
                }
                assert!(wait_until(Duration::from_secs(5), || first_returned.load(SeqCst)));
                thread::sleep(Duration::from_millis(50));
                let started = AtomicUsize::new(0);
                let inner: Vec<u32> = pool.map(0..4u32, |j| {
                    started.fetch_add(1, SeqCst);
                    if j == 0 {
                        let seen = filch::blocking(|| {
                            wait_until(Duration::from_secs(3), || started.load(SeqCst) >= 2)
                        });
                        inner_shared.store(seen, SeqCst);
                    }
                    j
                });
                inner.iter().sum()
            })
        });
        assert_eq!(got, [0, 6]);
        inner_shared.load(SeqCst)
    });
    assert!(
        inner_shared,
        "the nested call's first item blocked 3 s and no other item of its call started"
    );
}

#[test]
fn map_init_makes_no_state_that_maps_no_item() {
    let (inits, unused) = watchdog("map_init", || {
        struct State<'a>(usize, &'a AtomicUsize);
        impl Drop for State<'_> {
            fn drop(&mut self) {
                if self.0 == 0 {
                    self.1.fetch_add(1, SeqCst);
                }
            }
        }
        let pool = filch::Pool::builder().threads(1).build().unwrap();
        let inits = AtomicUsize::new(0);
        let unused = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let got = pool.map_init(
            0..2u32,
            || {
                inits.fetch_add(1, SeqCst);
                State(0, &unused)
            },
            |s: &mut State<'_>, x| {
                s.0 += 1;
                if x == 0 {
                    // Blocks until item 1 has run (bounded): the rest is shared.
                    filch::blocking(|| {
                        wait_until(Duration::from_secs(5), || done.load(SeqCst) > 0)
                    });
                }
                done.fetch_add(1, SeqCst);
                x
            },
        );
        assert_eq!(got, [0, 1]);
        (inits.load(SeqCst), unused.load(SeqCst))
    });
    assert_eq!(
        unused, 0,
        "{inits} states made, {unused} of them mapped no item"
    );
    assert!(inits <= 2, "{inits} states for 2 items");
}
