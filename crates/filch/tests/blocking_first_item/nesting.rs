//! Nested calls whose first items block.

use super::*;

/// An inner `map` over 0..8 whose first item blocks: if `wait`, until
/// another inner item has started (bounded), else briefly. The fold of its
/// results, and whether its first item saw the rest shared (`true` unless
/// it waited in vain).
fn inner_call(
    map: impl FnOnce(&(dyn Fn(u64) -> u64 + Sync)) -> Vec<u64>,
    wait: bool,
) -> (u64, bool) {
    let started = AtomicUsize::new(0);
    let shared = AtomicBool::new(true);
    let f = |x: u64| {
        started.fetch_add(1, SeqCst);
        if x == 0 {
            if wait {
                let seen = filch::blocking(|| wait_until(WAIT, || started.load(SeqCst) >= 2));
                shared.store(seen, SeqCst);
            } else {
                filch::blocking(|| thread::sleep(Duration::from_micros(300)));
            }
        }
        serial_f(x)
    };
    let got = map(&f);
    let want: Vec<u64> = (0..8).map(serial_f).collect();
    assert_eq!(got, want, "inner results");
    (got.iter().fold(0, |a, &b| a ^ b), shared.load(SeqCst))
}

/// Outer `map`s whose items (the first one first of all) run inner maps
/// whose first items block; the outer first item also blocks itself,
/// before or after its inner call, and waits for another outer item. Inner
/// calls by the free function (`filch::map`) and by the pool's method;
/// outer calls from outside and from a worker. Results right, no hang; the
/// outer call, and the inner call of the outer first item when it runs
/// first on this test's own pool, are shared while their first items block.
///
/// The inner calls of the other outer items only block briefly, without
/// waiting for their rest: they run on pool threads while the owner of a
/// call made on a worker may be waiting for its helpers on a condvar,
/// neither counted as blocked nor running jobs, so their blocking may get
/// no stand-in (a known limit, not what this file tests).
#[test]
fn nested_calls_with_blocking_first_items() {
    watchdog("nested", || {
        let pools = Pools::new();
        let want_inner = (0..8).map(serial_f).fold(0, |a, b| a ^ b);
        for threads in [1, 2, 4] {
            for from_worker in [false, true] {
                for free_inner in [false, true] {
                    for outer_blocks_first in [false, true] {
                        let pool = pools.get(threads);
                        let started = AtomicUsize::new(0);
                        let outer_shared = AtomicBool::new(false);
                        // Outside a worker `filch::map` uses the global pool,
                        // which other tests of this binary use too.
                        let own_pool = from_worker || !free_inner;
                        let inner = |wait: bool| {
                            let map = |f: &(dyn Fn(u64) -> u64 + Sync)| {
                                if free_inner {
                                    filch::map(0..8u64, f)
                                } else {
                                    pool.map(0..8u64, f)
                                }
                            };
                            inner_call(map, wait)
                        };
                        let outer = |i: usize| {
                            started.fetch_add(1, SeqCst);
                            if i != 0 {
                                return inner(false);
                            }
                            let wait = || {
                                let seen = filch::blocking(|| {
                                    wait_until(WAIT, || started.load(SeqCst) >= 2)
                                });
                                outer_shared.store(seen, SeqCst);
                            };
                            if outer_blocks_first {
                                wait();
                                inner(false)
                            } else {
                                let got = inner(own_pool);
                                wait();
                                got
                            }
                        };
                        let got = call_from(pool, from_worker, || {
                            if from_worker {
                                filch::map(0..6usize, outer)
                            } else {
                                pool.map(0..6usize, outer)
                            }
                        });
                        let case = format!(
                            "{threads} threads, from_worker {from_worker}, free_inner \
                             {free_inner}, outer_blocks_first {outer_blocks_first}"
                        );
                        assert_eq!(got.len(), 6, "{case}");
                        for (i, &(sum, inner_shared)) in got.iter().enumerate() {
                            assert_eq!(sum, want_inner, "outer item {i}: {case}");
                            assert!(inner_shared, "outer item {i}'s inner call: {case}");
                        }
                        assert!(outer_shared.load(SeqCst), "outer call: {case}");
                    }
                }
            }
        }
        blocking_still_plain();
    });
}
