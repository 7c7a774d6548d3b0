//! `map` inside `map` inside `map` on one pool, and the free `filch::map`
//! nested inside `pool.install`, give the serial answer, do not deadlock
//! (even on a 1-thread pool), and run only on the pool's own workers (plus
//! the outside caller): no extra threads are started.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Duration;

use common::{pool, serial_f, spin_for, watchdog};
use filch::Pool;

/// Where the items of a call ran.
#[derive(Default)]
struct Threads {
    ids: Mutex<HashSet<ThreadId>>,
    off_pool: Mutex<usize>,
    bad_index: Mutex<Vec<usize>>,
}

impl Threads {
    /// Records the current thread and its worker index in `pool`.
    fn note(&self, pool: &Pool) {
        self.ids.lock().unwrap().insert(thread::current().id());
        match pool.scheduler().current_thread_index() {
            Some(index) if index >= pool.threads() => self.bad_index.lock().unwrap().push(index),
            Some(_) => {}
            None => *self.off_pool.lock().unwrap() += 1,
        }
    }

    /// No index out of range; at most the workers plus `callers` threads.
    fn check(&self, pool: &Pool, callers: usize, what: &str) {
        let bad = self.bad_index.lock().unwrap();
        assert!(
            bad.is_empty(),
            "{what}: worker indices {bad:?} with {} threads",
            pool.threads()
        );
        let ids = self.ids.lock().unwrap().len();
        let most = pool.threads() + callers;
        assert!(
            ids <= most,
            "{what}: items ran on {ids} threads, more than {most} (workers + callers)"
        );
        if callers == 0 {
            let off = *self.off_pool.lock().unwrap();
            assert_eq!(off, 0, "{what}: {off} items ran off the pool");
        }
    }
}

/// `pool.map`, or with a fixed chunk size.
fn map_on<R: Send>(
    pool: &Pool,
    chunk: Option<usize>,
    len: u64,
    f: impl Fn(u64) -> R + Sync + Send,
) -> Vec<R> {
    match chunk {
        None => pool.map(0..len, f),
        Some(c) => pool.with_chunk_size(c).unwrap().map(0..len, f),
    }
}

fn leaf(i: u64, j: u64, k: u64) -> u64 {
    serial_f(i * 10_000 + j * 100 + k)
}

fn expected() -> Vec<Vec<Vec<u64>>> {
    (0..6)
        .map(|i| {
            (0..6)
                .map(|j| (0..40).map(|k| leaf(i, j, k)).collect())
                .collect()
        })
        .collect()
}

/// Three levels of `Pool::map` on one pool, with automatic chunking and with
/// chunk size 1 (which sends every level to the pool), called from outside
/// and from a worker.
#[test]
fn map_in_map_in_map_on_one_pool_is_correct_and_stays_on_the_pool() {
    watchdog("map in map in map", || {
        for threads in [1, 2, 3, 8] {
            let pool = pool(threads);
            for chunk in [None, Some(1), Some(4)] {
                for from_worker in [false, true] {
                    let seen = Threads::default();
                    let run = || {
                        map_on(pool, chunk, 6, |i| {
                            seen.note(pool);
                            map_on(pool, chunk, 6, |j| {
                                seen.note(pool);
                                map_on(pool, chunk, 40, |k| {
                                    seen.note(pool);
                                    // Enough work that automatic chunking
                                    // goes parallel at the inner level too.
                                    spin_for(Duration::from_micros(3));
                                    leaf(i, j, k)
                                })
                            })
                        })
                    };
                    let got = if from_worker {
                        pool.install(run)
                    } else {
                        run()
                    };
                    let what =
                        format!("{threads} threads, chunk {chunk:?}, from a worker: {from_worker}");
                    assert_eq!(got, expected(), "{what}");
                    seen.check(pool, usize::from(!from_worker), &what);
                }
            }
        }
    });
}

/// The free functions inside `pool.install` use that pool: `filch::map`
/// three levels deep, and `filch::try_map`, stay on its workers.
#[test]
fn free_map_inside_install_uses_the_installing_pool() {
    watchdog("free map in install", || {
        for threads in [1, 2, 8] {
            let pool = pool(threads);
            let seen = Threads::default();
            let got: Vec<Vec<Vec<u64>>> = pool.install(|| {
                assert_eq!(filch::current_num_threads(), threads);
                filch::map(0..6u64, |i| {
                    seen.note(pool);
                    filch::map(0..6u64, |j| {
                        seen.note(pool);
                        filch::map(0..40u64, |k| {
                            seen.note(pool);
                            spin_for(Duration::from_micros(3));
                            leaf(i, j, k)
                        })
                    })
                })
            });
            let what = format!("free map, {threads} threads");
            assert_eq!(got, expected(), "{what}");
            seen.check(pool, 0, &what);

            let sums: Result<Vec<u64>, String> = pool.install(|| {
                filch::try_map(0..50u64, |i| {
                    filch::try_map(0..50u64, |j| Ok(i * j)).map(|v| v.iter().sum())
                })
            });
            let want: Vec<u64> = (0..50u64).map(|i| i * (0..50).sum::<u64>()).collect();
            assert_eq!(sums, Ok(want), "{what}: try_map");
        }
    });
}

/// `imap` consumed inside a `map` item on the same pool: the consumer is a
/// worker that runs pending chunks itself, so nesting works on 1 thread.
#[test]
fn imap_inside_map_on_one_pool_does_not_deadlock() {
    watchdog("imap in map", || {
        for threads in [1, 2, 4] {
            let pool = pool(threads);
            let got: Vec<Vec<u64>> = pool.with_chunk_size(1).unwrap().map(0..8u64, |i| {
                pool.with_chunk_size(3)
                    .unwrap()
                    .imap(0..100u64, move |k| leaf(i, 0, k))
                    .collect()
            });
            let want: Vec<Vec<u64>> = (0..8)
                .map(|i| (0..100).map(|k| leaf(i, 0, k)).collect())
                .collect();
            assert_eq!(got, want, "{threads} threads");
        }
    });
}

/// A free `filch::map` of 48 items of 20 µs (enough to go parallel), noting
/// where each item runs.
fn inner_map(seen: &Threads, pool: &Pool, i: u64) -> Vec<u64> {
    filch::map(0..48u64, |k| {
        seen.note(pool);
        spin_for(Duration::from_micros(20));
        leaf(i, 0, k)
    })
}

/// The free `filch::map` inside the items of a call made from a thread
/// outside the pool (`map`, `for_each`, `imap`, `imap_unordered`) uses that
/// pool, whether the caller runs the item while probing the call, while
/// sharing it with workers, or as the lazy iterator's consumer: its items
/// run on the pool's workers and the calling thread, never on the global
/// pool's. Each call is made several times, so that the later ones take the
/// path of a site whose first items were long.
#[test]
fn free_map_in_items_of_a_call_from_outside_uses_that_pool() {
    watchdog("free map in items of an outside call", || {
        for threads in [2, 3] {
            let pool = pool(threads);
            let want: Vec<Vec<u64>> = (0..4)
                .map(|i| (0..48).map(|k| leaf(i, 0, k)).collect())
                .collect();
            for call in 0..3 {
                let what = |how: &str| format!("{how}, {threads} threads, call {call}");

                let seen = Threads::default();
                let got = pool.map(0..4u64, |i| inner_map(&seen, pool, i));
                assert_eq!(got, want, "{}", what("map"));
                seen.check(pool, 1, &what("map"));

                let seen = Threads::default();
                let mut rows = vec![Vec::new(); 4];
                pool.for_each(&mut rows, |row| *row = inner_map(&seen, pool, 0));
                assert!(
                    rows.iter().all(|row| *row == want[0]),
                    "{}",
                    what("for_each")
                );
                seen.check(pool, 1, &what("for_each"));

                let seen = Arc::new(Threads::default());
                let noted = Arc::clone(&seen);
                let got: Vec<Vec<u64>> = pool
                    .imap(0..4u64, move |i| inner_map(&noted, pool, i))
                    .collect();
                assert_eq!(got, want, "{}", what("imap"));
                seen.check(pool, 1, &what("imap"));

                let seen = Arc::new(Threads::default());
                let noted = Arc::clone(&seen);
                let mut got: Vec<(u64, Vec<u64>)> = pool
                    .imap_unordered(0..4u64, move |i| (i, inner_map(&noted, pool, i)))
                    .collect();
                got.sort();
                let got: Vec<Vec<u64>> = got.into_iter().map(|(_, row)| row).collect();
                assert_eq!(got, want, "{}", what("imap_unordered"));
                seen.check(pool, 1, &what("imap_unordered"));
            }
        }
    });
}
