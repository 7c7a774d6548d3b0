//! A first item that blocks shares the rest of its call at once:
//! the serial probe of `map`, `starmap`, `try_map` and `map_init` runs the
//! first item alone, *armed*, and if that item enters `filch::blocking` the
//! rest of a known-length input is handed to the pool while it waits.
//!
//! Covered here, through the public API only, every test under the
//! watchdog, and every wait for other items bounded (a wait that runs out
//! fails an assertion, it never hangs):
//! - the motivating shape, structurally: ten blocking items on a 2-thread pool
//!   are seen running at once, from outside the pool and from a worker;
//! - results in input order and every input and output dropped exactly
//!   once, for random lengths, thread counts, callers and patterns of
//!   blocking items (a property);
//! - a panic of the first item after it blocked, and of a helper's item
//!   while the first one is blocked: the payload reaches the caller, exact
//!   drops, and the pool works afterwards;
//! - `try_map` errors of the first item and of a later one while the first
//!   is blocked;
//! - `map_init` and `starmap` with a blocking first item;
//! - nested calls whose first items block;
//! - a 1-thread pool and pools without spare threads (no deadlock);
//! - inputs of unknown length, and inputs whose exact size hint is wrong;
//! - many callers at once, and maps nested four deep;
//! - `filch::blocking` after such calls (the first item's hook is gone).

#[path = "../common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::{
    assert_pool_works, boom, boom_index, catch, check, quiet_injected_panics, serial_f,
    tracked_inputs, values, wait_until, watchdog, Ledger, Tracked, INJECTED,
};
use filch::Pool;
use proptest::prelude::*;

/// The longest an item waits for other items before giving up (and the
/// test then fails an assertion). Far above what the waits take when the
/// rest of the call is shared (well under a millisecond to a few ms), far
/// below the watchdog.
const WAIT: Duration = Duration::from_secs(5);

/// A fresh pool (for tests that need one no other test of this binary
/// keeps busy, or a particular configuration).
fn fresh_pool(threads: usize, spares: Option<usize>) -> Pool {
    let builder = Pool::builder().threads(threads);
    let builder = match spares {
        Some(n) => builder.max_spare_threads(n),
        None => builder,
    };
    builder.build().expect("a valid pool configuration")
}

/// One fresh pool per thread count 1 to 4, owned by one test. The tests
/// that wait for other items to start do not share pools with the other
/// tests of this binary, which run at the same time: a pool busy with
/// another test's work may leave a blocked first item's helpers queued for
/// longer than the wait.
struct Pools(Vec<Pool>);

impl Pools {
    fn new() -> Pools {
        Pools((1..=4).map(|threads| fresh_pool(threads, None)).collect())
    }

    fn get(&self, threads: usize) -> &Pool {
        &self.0[threads - 1]
    }

    /// Runs `test` once per [`Case`]: 1, 2 and 4 threads, a call from
    /// outside the pool and one from a worker, and every length in `lens`.
    fn each_case(&self, lens: &[usize], mut test: impl FnMut(&Pool, Case)) {
        for threads in [1, 2, 4] {
            for from_worker in [false, true] {
                for &len in lens {
                    let case = Case {
                        threads,
                        from_worker,
                        len,
                    };
                    test(self.get(threads), case);
                }
            }
        }
    }
}

/// One case of [`Pools::each_case`]; displays as the assertion context.
#[derive(Debug, Clone, Copy)]
struct Case {
    threads: usize,
    from_worker: bool,
    len: usize,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (threads, from_worker, len) = (self.threads, self.from_worker, self.len);
        write!(f, "{threads} threads, from_worker {from_worker}, len {len}")
    }
}

/// Runs `op` on a worker of `pool` (inside `install`) or on this thread.
fn call_from<R: Send>(pool: &Pool, from_worker: bool, op: impl FnOnce() -> R + Send) -> R {
    if from_worker {
        pool.install(op)
    } else {
        op()
    }
}

/// `filch::blocking` on this thread still works after the calls above
/// (if the armed first item's hook outlived its call, this would call it
/// with a dangling pointer).
fn blocking_still_plain() {
    assert_eq!(filch::blocking(|| 7), 7);
}

mod crowds;

// Items whose blocking follows a mask, shared by the properties.

/// Whether item `i` (not the first) enters `filch::blocking`.
fn blocks(mask: u64, i: usize) -> bool {
    (mask >> (i % 64)) & 1 == 1
}

/// Masks of blocking items: none, all, or random.
fn masks() -> impl Strategy<Value = u64> {
    prop_oneof![1 => Just(0u64), 1 => Just(u64::MAX), 3 => any::<u64>()]
}

/// Lengths of at least 2 (so there is a rest to share): the edges and
/// random ones.
fn lengths() -> impl Strategy<Value = usize> {
    prop_oneof![
        1 => Just(2usize),
        1 => Just(3usize),
        1 => Just(10usize),
        1 => Just(1000usize),
        3 => 2..300usize,
    ]
}

/// What the items of one call share.
struct Items<'a> {
    mask: u64,
    /// Whether the first item waits for another item to start (else it
    /// blocks briefly and counts as shared).
    wait: bool,
    /// Items started so far.
    started: AtomicUsize,
    /// Whether the first item saw another item start while it blocked.
    shared: AtomicBool,
    outputs: &'a Arc<Ledger>,
}

impl<'a> Items<'a> {
    fn new(mask: u64, wait: bool, outputs: &'a Arc<Ledger>) -> Self {
        Items {
            mask,
            wait,
            started: AtomicUsize::new(0),
            shared: AtomicBool::new(false),
            outputs,
        }
    }

    /// The mapped function: the first item blocks (until another item has
    /// started, bounded, if `wait`); the others block or not by the mask.
    fn run(&self, t: Tracked) -> Tracked {
        let i = t.value as usize;
        self.started.fetch_add(1, SeqCst);
        if i == 0 && self.wait {
            let shared = filch::blocking(|| wait_until(WAIT, || self.started.load(SeqCst) >= 2));
            self.shared.store(shared, SeqCst);
        } else if i == 0 {
            filch::blocking(|| thread::sleep(Duration::from_micros(300)));
            self.shared.store(true, SeqCst);
        } else if blocks(self.mask, i) {
            filch::blocking(thread::yield_now);
        }
        self.outputs.make(serial_f(t.value))
    }
}

mod gathering;
mod input_lengths;
mod map_init_and_starmap;
mod nesting;
mod order_and_drops;
mod panics;
mod small_pools;
mod try_map;
