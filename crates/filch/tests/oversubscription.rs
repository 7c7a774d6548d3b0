//! A 64-thread pool doing real work beside two busy 2-thread pools on the
//! 2-core machine: 68 workers and 3 callers competing for 2 cores. Every
//! pool finishes its work (under the watchdog), with exact results, and no
//! pool's workers starve: every worker of every pool runs jobs while the
//! other pools are busy.
//!
//! "Runs jobs" is checked with barriers, not timing: a pool's rendezvous
//! completes only once each of its workers has picked up one of the
//! rendezvous jobs, which a starved worker never would.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use common::watchdog;
use filch::Pool;

/// Workers of the big pool: 32x the cores.
const BIG: usize = 64;
/// Workers of each of the two small pools.
const SMALL: usize = 2;

fn f(x: u64) -> u64 {
    // A few hundred ns of real arithmetic per item in a debug build.
    (0..64u64).fold(x, |acc, i| {
        acc.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i)
    })
}

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = filch::join(|| fib(n - 1), || fib(n - 2));
    a + b
}

/// Every worker of `pool` takes one job of a scope and waits for all the
/// others: returns only if all of them got to run. Returns how many
/// distinct workers ran one.
fn rendezvous(pool: &Pool) -> usize {
    let threads = pool.threads();
    let barrier = Barrier::new(threads);
    let seen = Mutex::new(HashSet::new());
    pool.scope(|s| {
        for _ in 0..threads {
            s.spawn(|_| {
                seen.lock()
                    .unwrap()
                    .insert(filch::current_thread_index().expect("on a worker"));
                barrier.wait();
            });
        }
    });
    seen.into_inner().unwrap().len()
}

/// One pool's work: `rounds` rounds of a forced-parallel map, an automatic
/// map, an imap and a join tree, with a rendezvous of all its workers in the
/// middle of each round. Returns the items it processed, after checking each.
fn work(pool: &Pool, rounds: u64, items: u64, ran: &AtomicU64) -> u64 {
    let mut done = 0;
    for round in 0..rounds {
        let base = round * items;
        let job = |x: u64| {
            ran.fetch_add(1, Ordering::Relaxed);
            f(x)
        };
        let chunked = pool
            .with_chunk_size(8)
            .unwrap()
            .map(base..base + items, job);
        assert_eq!(rendezvous(pool), pool.threads(), "every worker ran a job");
        let auto = pool.map(base..base + items, job);
        let lazy: Vec<u64> = pool.imap(base..base + items, f).collect();
        for (i, x) in (base..base + items).enumerate() {
            assert_eq!(chunked[i], f(x), "chunked map item {x}");
            assert_eq!(auto[i], f(x), "map item {x}");
            assert_eq!(lazy[i], f(x), "imap item {x}");
        }
        assert_eq!(pool.install(|| fib(18)), 2584);
        done += 3 * items;
    }
    done
}

#[test]
fn a_64_thread_pool_beside_two_busy_2_thread_pools_all_finish_exactly() {
    watchdog("64 + 2 + 2 workers on 2 cores", || {
        let big = Arc::new(Pool::builder().threads(BIG).build().unwrap());
        let small: Vec<Arc<Pool>> = (0..2)
            .map(|_| Arc::new(Pool::builder().threads(SMALL).build().unwrap()))
            .collect();
        // The small pools run long maps for as long as the big pool works,
        // and at least `MIN_SMALL_ROUNDS` rounds each.
        const MIN_SMALL_ROUNDS: u64 = 3;
        let big_done = Arc::new(AtomicBool::new(false));
        let small_callers: Vec<_> = small
            .iter()
            .map(|pool| {
                let (pool, big_done) = (Arc::clone(pool), Arc::clone(&big_done));
                thread::spawn(move || {
                    let ran = AtomicU64::new(0);
                    let (mut rounds, mut items) = (0u64, 0u64);
                    while rounds < MIN_SMALL_ROUNDS || !big_done.load(Ordering::SeqCst) {
                        items += work(&pool, 1, 20_000, &ran);
                        rounds += 1;
                    }
                    (rounds, items, ran.load(Ordering::Relaxed))
                })
            })
            .collect();
        let ran = AtomicU64::new(0);
        let big_items = work(&big, 4, 20_000, &ran);
        big_done.store(true, Ordering::SeqCst);
        // Only map items are counted in `ran` (imap's `f` is not counted).
        assert_eq!(
            ran.load(Ordering::Relaxed),
            big_items / 3 * 2,
            "big pool: each map item once"
        );
        for (i, caller) in small_callers.into_iter().enumerate() {
            let (rounds, items, ran) = caller.join().unwrap();
            assert!(rounds >= MIN_SMALL_ROUNDS);
            assert_eq!(ran, items / 3 * 2, "small pool {i}: each map item once");
        }
        drop(big);
        drop(small);
    });
}
