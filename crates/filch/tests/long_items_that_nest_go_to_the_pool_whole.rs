//! A call from outside the pool whose call site's first items were long and
//! whose items, run on the calling thread, made parallel calls of their own
//! goes to the pool whole, as a call inside `install` runs: from its third
//! call on, the calling thread runs none of its items and waits. Shared
//! instead, the calling thread would work beside `threads - 1` helpers, and
//! its items' parallel calls would wake the last worker onto the same cores.
//! A call whose long items make no parallel call keeps the calling thread
//! working beside its helpers (it saves the hand-over's wake-ups).
//!
//! Observed structurally, not by timing: which thread ran each item. Every
//! test runs under the watchdog.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::thread;
use std::time::Duration;

use common::{pool, spin_for, watchdog};
use filch::Pool;

/// One call of 8 long items (about 0.8 ms each) from this thread: each a
/// parallel `filch::map` of 40 items of 20 µs (`nested`), or a plain spin.
/// Returns how many of the 8 ran on this thread.
fn items_on_the_calling_thread(pool: &Pool, nested: bool) -> usize {
    let caller = thread::current().id();
    let on_caller = AtomicUsize::new(0);
    let got = pool.map(0..8u64, |i| {
        if thread::current().id() == caller {
            on_caller.fetch_add(1, SeqCst);
        }
        if nested {
            let inner = filch::map(0..40u64, |k| {
                spin_for(Duration::from_micros(20));
                i * k
            });
            inner.iter().sum()
        } else {
            spin_for(Duration::from_micros(800));
            i * (0..40).sum::<u64>()
        }
    });
    let want: Vec<u64> = (0..8).map(|i| i * (0..40).sum::<u64>()).collect();
    assert_eq!(got, want);
    on_caller.load(SeqCst)
}

#[test]
fn long_items_that_make_parallel_calls_go_to_the_pool_whole() {
    watchdog("long nesting items go to the pool", || {
        for threads in [2, 3] {
            let pool = pool(threads);
            for call in 0..5 {
                let here = items_on_the_calling_thread(pool, true);
                // Two calls teach the site: its first items are long, and
                // they nest.
                if call >= 2 {
                    assert_eq!(
                        here, 0,
                        "{threads} threads, call {call}: {here} of 8 items ran on the calling thread"
                    );
                }
            }
        }
    });
}

#[test]
fn long_items_without_parallel_calls_keep_the_calling_thread_working() {
    watchdog("long flat items stay shared", || {
        for threads in [2, 3] {
            let pool = pool(threads);
            for call in 0..5 {
                let here = items_on_the_calling_thread(pool, false);
                // Shared at once, the calling thread runs the first item.
                if call >= 2 {
                    assert!(
                        here >= 1,
                        "{threads} threads, call {call}: no item ran on the calling thread"
                    );
                }
            }
        }
    });
}
