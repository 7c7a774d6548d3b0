//! `apply_async`, `map_async` and `terminate` against Python's `Pool`: work
//! started by a job stays on the job's pool wherever the job runs (even when
//! `get` runs it on the calling thread), `map_async` spreads its map over
//! the pool's workers, a job cancelled (by `cancel`, by dropping its handle,
//! or by `terminate`) never runs, and `map_init` makes no state for no work.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::{catch, watchdog};
use filch::Pool;

/// A pool whose threads are named `own-{i}`.
fn named_pool(threads: usize) -> Pool {
    Pool::builder()
        .threads(threads)
        .thread_name(|i| format!("own-{i}"))
        .build()
        .expect("a pool")
}

fn this_thread() -> String {
    thread::current().name().unwrap_or("unnamed").to_string()
}

/// Spins for about `d` (an item that does work, not a sleep).
fn spin(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Occupies every worker of `pool` until the returned senders are used (or
/// dropped); returns once all of them are held.
fn hold_workers(pool: &Pool) -> Vec<mpsc::Sender<()>> {
    let (held_tx, held_rx) = mpsc::channel();
    let gates: Vec<mpsc::Sender<()>> = (0..pool.threads())
        .map(|_| {
            let (tx, rx) = mpsc::channel::<()>();
            let held = held_tx.clone();
            pool.spawn(move || {
                held.send(()).unwrap();
                let _ = rx.recv();
            });
            tx
        })
        .collect();
    for _ in 0..pool.threads() {
        held_rx.recv().unwrap();
    }
    gates
}

/// Python: `apply_async(f)` runs `f` on the pool, and work it starts runs
/// there too. In filch `get` runs a job nobody has started on the calling
/// thread: here the workers are held, so it does. The nested map, join,
/// scope and spawn must still go to the job's pool (its workers, released
/// by the job, or the caller helping it), never to the global pool.
#[test]
fn work_started_by_a_job_that_get_runs_stays_on_the_pool() {
    watchdog("nested work of a claimed job", || {
        let pool = named_pool(2);
        let caller = this_thread();
        let gates = hold_workers(&pool);
        let threads = Arc::new(Mutex::new(BTreeSet::new()));
        let seen = Arc::clone(&threads);
        let handle = pool.apply_async(move || {
            let record = |seen: &Mutex<BTreeSet<String>>| {
                seen.lock().unwrap().insert(this_thread());
            };
            drop(gates); // frees the workers to help
            let squares = filch::map(0..400u64, |x| {
                spin(Duration::from_micros(50));
                record(&seen);
                x * x
            });
            let (a, b) = filch::join(|| record(&seen), || record(&seen));
            let _ = (a, b);
            filch::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|_| record(&seen));
                }
            });
            let (tx, rx) = mpsc::channel();
            let spawned = Arc::clone(&seen);
            filch::spawn(move || {
                spawned.lock().unwrap().insert(this_thread());
                tx.send(()).unwrap();
            });
            rx.recv().unwrap();
            (this_thread(), squares[19])
        });
        let (ran_on, square) = handle.get();
        assert_eq!(square, 361);
        assert_eq!(ran_on, caller, "the job was expected to run on the caller");
        let threads = threads.lock().unwrap();
        for name in threads.iter() {
            assert!(
                name.starts_with("own-") || *name == caller,
                "nested work ran on {name}, outside the job's pool (threads seen: {threads:?})"
            );
        }
        assert!(
            threads.iter().any(|n| n.starts_with("own-")),
            "no nested work reached the pool's workers: {threads:?}"
        );
    });
}

/// Python: `map_async` of 30 × 50 ms sleeps on 3 processes takes ~0.5 s.
/// filch's `map_async` runs the map on the pool and wakes its parked
/// workers: every item runs on the pool (or on the caller, if `get` ran
/// the job) and at least three threads share them.
#[test]
fn map_async_spreads_its_items_over_the_workers() {
    watchdog("map_async", || {
        let pool = named_pool(3);
        let caller = this_thread();
        let start = Instant::now();
        let handle = pool.map_async(0..30u64, |x| {
            thread::sleep(Duration::from_millis(50));
            (x, this_thread())
        });
        let out = handle.get();
        let took = start.elapsed();
        assert_eq!(
            out.iter().map(|(x, _)| *x).collect::<Vec<_>>(),
            (0..30).collect::<Vec<_>>()
        );
        let threads: BTreeSet<&str> = out.iter().map(|(_, t)| t.as_str()).collect();
        for name in &threads {
            assert!(
                name.starts_with("own-") || *name == caller,
                "an item ran on {name}, outside the pool"
            );
        }
        assert!(
            threads.len() >= 3,
            "30 × 50 ms items ran on {threads:?} only (in {took:?}): the map did not wake the workers"
        );
    });
}

/// `map_async`, `starmap_async` and their chunked forms give `map`'s results.
#[test]
fn map_async_and_starmap_async_match_serial() {
    watchdog("map_async results", || {
        let pool = named_pool(2);
        let want: Vec<u64> = (0..1000u64).map(|x| x * 3).collect();
        assert_eq!(pool.map_async(0..1000u64, |x| x * 3).get(), want);
        let chunked = pool.with_chunk_size(7).unwrap();
        assert_eq!(chunked.map_async(0..1000u64, |x| x * 3).get(), want);
        let pairs: Vec<(u64, u64)> = (0..1000u64).map(|x| (x, 2 * x)).collect();
        let f = |a: u64, b: u64| a + b;
        assert_eq!(pool.starmap_async(pairs.clone(), f).get(), want);
        assert_eq!(chunked.starmap_async(pairs, f).get(), want);
    });
}

/// A job cancelled before it starts never runs: by `cancel` (which says
/// so) or by dropping its handle. Once it has run, `cancel` says `false`.
#[test]
fn a_job_cancelled_before_it_starts_never_runs() {
    watchdog("cancel", || {
        let pool = named_pool(1);
        let ran = Arc::new(AtomicUsize::new(0));
        let job = |ran: &Arc<AtomicUsize>| {
            let ran = Arc::clone(ran);
            move || {
                ran.fetch_add(1, SeqCst);
            }
        };
        let gates = hold_workers(&pool);
        let cancelled = pool.apply_async(job(&ran));
        let dropped = pool.apply_async(job(&ran));
        let mapped = pool.map_async(0..10u64, {
            let ran = Arc::clone(&ran);
            move |_| ran.fetch_add(1, SeqCst)
        });
        assert!(cancelled.cancel(), "a queued job could not be cancelled");
        drop(dropped);
        drop(mapped);
        drop(gates);
        pool.install(|| ()); // the queue has drained past the cancelled jobs
        drop(pool);
        assert_eq!(ran.load(SeqCst), 0, "a cancelled job ran");

        let pool = named_pool(1);
        let done = pool.apply_async(job(&ran));
        done.wait();
        assert!(
            !done.cancel(),
            "cancel reported a finished job as cancelled"
        );
        assert_eq!(ran.load(SeqCst), 1);
    });
}

/// Python's `terminate()`: queued jobs are dropped unrun (their handles'
/// `get` says so), the running one finishes; dropping a pool instead runs
/// them. The workers are held by a job that ends 200 ms after the helper
/// thread starts, long after `terminate` has begun.
#[test]
fn terminate_drops_queued_jobs_and_drop_runs_them() {
    watchdog("terminate", || {
        for terminate in [true, false] {
            let pool = named_pool(1);
            let ran = Arc::new(AtomicUsize::new(0));
            let gates = hold_workers(&pool);
            let handles: Vec<_> = (0..5)
                .map(|_| {
                    let ran = Arc::clone(&ran);
                    pool.apply_async(move || ran.fetch_add(1, SeqCst))
                })
                .collect();
            for _ in 0..5 {
                let ran = Arc::clone(&ran);
                pool.spawn(move || {
                    ran.fetch_add(1, SeqCst);
                });
            }
            let release = thread::spawn(move || {
                thread::sleep(Duration::from_millis(200));
                drop(gates);
            });
            if terminate {
                pool.terminate();
            } else {
                drop(pool);
            }
            release.join().unwrap();
            if terminate {
                assert_eq!(ran.load(SeqCst), 0, "terminate ran a queued job");
                for handle in handles {
                    let payload = catch(|| handle.get()).expect_err("get of a terminated job");
                    let message = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    assert!(message.contains("cancelled"), "unclear panic: {message:?}");
                }
            } else {
                assert_eq!(ran.load(SeqCst), 10, "drop did not run every queued job");
                let mut got: Vec<usize> = handles.into_iter().map(|h| h.get()).collect();
                got.sort_unstable();
                assert_eq!(got.len(), 5);
            }
        }
    });
}

/// `map_init`'s `init` runs zero times for an empty input, in every mode,
/// from outside the pool and on a worker.
#[test]
fn map_init_makes_no_state_for_an_empty_input() {
    watchdog("map_init empty", || {
        let pool = named_pool(2);
        let inits = AtomicUsize::new(0);
        let init = || {
            inits.fetch_add(1, SeqCst);
        };
        let f = |_: &mut (), x: u64| x;
        let empty = || (0..10u64).filter(|_| false);
        let calls = |pool: &Pool| {
            assert!(pool.map_init(Vec::<u64>::new(), init, f).is_empty());
            assert!(pool.map_init(0..0u64, init, f).is_empty());
            assert!(pool.map_init(empty(), init, f).is_empty());
            let chunked = pool.with_chunk_size(4).unwrap();
            assert!(chunked.map_init(Vec::<u64>::new(), init, f).is_empty());
            assert!(chunked.map_init(empty(), init, f).is_empty());
        };
        calls(&pool);
        pool.install(|| calls(&pool));
        assert_eq!(inits.load(SeqCst), 0, "init ran for an empty input");
        assert_eq!(pool.map_init(0..3u64, init, f), [0, 1, 2]);
        assert!(
            inits.load(SeqCst) >= 1,
            "init never ran for a non-empty input"
        );
    });
}
