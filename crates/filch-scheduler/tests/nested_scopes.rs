//! Scopes nest: a scope inside a scope's job may borrow from every enclosing
//! stack level, jobs spawn more jobs into their scope, and a scope returns
//! only after all of them have finished.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use common::watchdog;
use filch_scheduler::{join, scope, Scope, ThreadPoolBuilder};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn scopes_three_levels_deep_borrow_from_every_level() {
    watchdog("three nested scopes", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        // Level 0: the test's own stack.
        let base: Vec<usize> = (0..8).collect();
        let mut results = vec![Vec::new(); base.len()];
        pool.scope(|s0| {
            for (slot, &b) in results.iter_mut().zip(&base) {
                let base = &base;
                s0.spawn(move |_| {
                    // Level 1: a job's stack.
                    let offsets: Vec<usize> = (0..8).map(|j| j * 100).collect();
                    let mut level1 = vec![0usize; offsets.len()];
                    scope(|s1| {
                        for (out, &off) in level1.iter_mut().zip(&offsets) {
                            let offsets = &offsets;
                            s1.spawn(move |_| {
                                // Level 2: an inner job's stack.
                                let thousands = [1000usize, 2000];
                                let partial = AtomicUsize::new(0);
                                scope(|s2| {
                                    for t in &thousands {
                                        let partial = &partial;
                                        s2.spawn(move |_| {
                                            // Reads levels 0, 1 and 2.
                                            let v = base[b] + off + t + offsets.len();
                                            partial.fetch_add(v, Ordering::Relaxed);
                                        });
                                    }
                                });
                                *out = partial.into_inner();
                            });
                        }
                    });
                    *slot = level1;
                });
            }
        });
        for (b, row) in results.iter().enumerate() {
            let expected: Vec<usize> = (0..8).map(|j| 2 * (b + j * 100 + 8) + 3000).collect();
            assert_eq!(row, &expected, "row {b}");
        }
    });
}

/// Spawns a binary tree of `depth` levels of jobs into `s`; each counts itself.
fn spawn_tree<'a>(s: &Scope<'a>, nodes: &'a AtomicUsize, depth: u32) {
    nodes.fetch_add(1, Ordering::Relaxed);
    if depth > 0 {
        s.spawn(move |s| spawn_tree(s, nodes, depth - 1));
        s.spawn(move |s| spawn_tree(s, nodes, depth - 1));
    }
}

#[test]
fn jobs_spawning_into_their_own_scope_all_finish_before_it_returns() {
    watchdog("a tree of spawns inside spawned jobs", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        for depth in [0, 1, 5, 16] {
            let nodes = AtomicUsize::new(0);
            pool.scope(|s| spawn_tree(s, &nodes, depth));
            assert_eq!(nodes.into_inner(), (1 << (depth + 1)) - 1, "depth {depth}");
        }
    });
}

#[test]
fn a_scope_waits_for_slow_jobs_before_returning() {
    watchdog("a scope with slow jobs", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let finished = AtomicUsize::new(0);
        pool.scope(|s| {
            for i in 0..6 {
                let finished = &finished;
                s.spawn(move |s| {
                    std::thread::sleep(Duration::from_millis(5 * i));
                    s.spawn(move |_| {
                        std::thread::sleep(Duration::from_millis(10));
                        finished.fetch_add(1, Ordering::SeqCst);
                    });
                    finished.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        // No job may still be running: the count is final.
        assert_eq!(finished.load(Ordering::SeqCst), 12);
    });
}

#[test]
fn scopes_mix_with_join_and_return_values() {
    watchdog("scopes inside joins inside scopes", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let log = Mutex::new(Vec::new());
        let total = pool.install(|| {
            let (a, b) = join(
                || {
                    scope(|s| {
                        for i in 0..100 {
                            let log = &log;
                            s.spawn(move |_| log.lock().unwrap().push(i));
                        }
                        "left"
                    })
                },
                || {
                    let inner = AtomicUsize::new(0);
                    scope(|s| {
                        let inner = &inner;
                        s.spawn(move |_| {
                            let (x, y) = join(
                                || scope(|_| 1),
                                || {
                                    scope(|s| {
                                        s.spawn(move |_| {
                                            inner.fetch_add(10, Ordering::Relaxed);
                                        });
                                        2
                                    })
                                },
                            );
                            inner.fetch_add(x + y, Ordering::Relaxed);
                        });
                    });
                    inner
                },
            );
            assert_eq!(a, "left");
            b.into_inner()
        });
        assert_eq!(total, 13);
        let mut log = log.into_inner().unwrap();
        log.sort_unstable();
        assert_eq!(log, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn empty_scopes_return_their_value() {
    watchdog("empty scopes", LIMIT, || {
        let pool = ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        assert_eq!(pool.scope(|_| 7), 7);
        assert_eq!(pool.install(|| scope(|_| scope(|_| "nested"))), "nested");
    });
}
