//! User panics reach the caller with their original payload from `join`
//! (either half, both), `scope` (body, job), and `install`; detached `spawn`
//! panics reach the panic handler; a panicking handler does not kill its
//! worker; and after every panic the pool keeps running work.
//!
//! This file installs a process-wide panic hook that silences the panics it
//! provokes (payload [`Boom`] or a message starting with `expected:`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::boom::{
    assert_a_stolen_half_is_waited_for, assert_boom, boom, payload_of, quiet_expected_panics, Boom,
};
use common::watchdog;
use filch_scheduler::{join, scope, ThreadPool, ThreadPoolBuilder};

const LIMIT: Duration = Duration::from_secs(30);

fn fib(n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = join(|| fib(n - 1), || fib(n - 2));
    a + b
}

/// The pool still runs fork-join work, scopes and spawns correctly.
fn assert_pool_works(pool: &ThreadPool) {
    assert_eq!(pool.install(|| fib(18)), 2584);
    let count = AtomicUsize::new(0);
    pool.scope(|s| {
        for _ in 0..100 {
            s.spawn(|_| {
                count.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    assert_eq!(count.into_inner(), 100);
    let (tx, rx) = mpsc::channel();
    pool.spawn(move || tx.send(7).unwrap());
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(7));
}

fn pool(threads: usize) -> ThreadPool {
    quiet_expected_panics();
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

#[test]
fn join_resumes_the_first_halfs_panic() {
    watchdog("join, first half panics", LIMIT, || {
        let pool = pool(2);
        assert_boom(payload_of(|| pool.join(|| boom(1), || 2)), 1);
        assert_pool_works(&pool);
        // Inside the pool, nested under other joins.
        assert_boom(
            payload_of(|| pool.install(|| join(|| fib(10), || join(|| boom(2), || fib(10))))),
            2,
        );
        assert_pool_works(&pool);
    });
}

#[test]
fn join_resumes_the_second_halfs_panic() {
    watchdog("join, second half panics", LIMIT, || {
        let pool = pool(2);
        assert_boom(payload_of(|| pool.join(|| 1, || boom(3))), 3);
        assert_pool_works(&pool);
        // A slow first half lets the other worker steal the second half,
        // so the panic crosses threads.
        let payload = payload_of(|| {
            pool.join(
                || std::thread::sleep(Duration::from_millis(50)),
                || {
                    assert!(pool.current_thread_index().is_some());
                    boom(4)
                },
            )
        });
        assert_boom(payload, 4);
        assert_pool_works(&pool);
    });
}

#[test]
fn join_with_both_halves_panicking_resumes_the_first_and_waits_for_the_second() {
    watchdog("join, both halves panic", LIMIT, || {
        let pool = pool(2);
        assert_boom(payload_of(|| pool.join(|| boom(5), || boom(6))), 5);
        assert_pool_works(&pool);
        assert_a_stolen_half_is_waited_for(|started, finished| {
            pool.join(
                || {
                    std::thread::sleep(Duration::from_millis(5));
                    boom(7)
                },
                || {
                    started.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    finished.store(true, Ordering::SeqCst);
                    boom(8)
                },
            )
        });
        assert_pool_works(&pool);
    });
}

#[test]
fn string_payloads_keep_their_message() {
    watchdog("string payloads", LIMIT, || {
        let pool = pool(2);
        let payload = payload_of(|| pool.install(|| panic!("expected: formatted {}", 42)));
        assert_eq!(
            filch_scheduler::panic_message(&*payload),
            "expected: formatted 42"
        );
        let payload = payload_of(|| pool.join(|| (), || panic!("expected: static")));
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"expected: static"));
        assert_pool_works(&pool);
    });
}

#[test]
fn install_resumes_the_panic() {
    watchdog("install panics", LIMIT, || {
        let pool = pool(2);
        for n in 0..20 {
            assert_boom(payload_of(|| pool.install(|| boom(n))), n);
        }
        assert_pool_works(&pool);
    });
}

#[test]
fn scope_resumes_the_body_panic_after_every_job_ran() {
    watchdog("scope body panics", LIMIT, || {
        let pool = pool(2);
        let ran = AtomicUsize::new(0);
        let payload = payload_of(|| {
            pool.scope(|s| {
                for _ in 0..50 {
                    s.spawn(|_| {
                        std::thread::sleep(Duration::from_micros(200));
                        ran.fetch_add(1, Ordering::SeqCst);
                    });
                }
                boom(9)
            })
        });
        assert_boom(payload, 9);
        assert_eq!(
            ran.load(Ordering::SeqCst),
            50,
            "scope returned before its jobs finished"
        );
        assert_pool_works(&pool);
    });
}

#[test]
fn scope_resumes_a_job_panic_after_every_job_ran() {
    watchdog("scope job panics", LIMIT, || {
        let pool = pool(2);
        let ran = AtomicUsize::new(0);
        let payload = payload_of(|| {
            pool.scope(|s| {
                for i in 0..50 {
                    let ran = &ran;
                    s.spawn(move |_| {
                        std::thread::sleep(Duration::from_micros(200));
                        ran.fetch_add(1, Ordering::SeqCst);
                        if i == 25 {
                            boom(10);
                        }
                    });
                }
            })
        });
        assert_boom(payload, 10);
        assert_eq!(ran.load(Ordering::SeqCst), 50);
        // A panic in a nested scope's job, reached through the free fn.
        let payload = payload_of(|| pool.install(|| scope(|s| s.spawn(|s| s.spawn(|_| boom(11))))));
        assert_boom(payload, 11);
        // The body's panic wins over a job's.
        let payload = payload_of(|| {
            pool.scope(|s| {
                s.spawn(|_| boom(12));
                std::thread::sleep(Duration::from_millis(10));
                boom(13)
            })
        });
        assert_boom(payload, 13);
        assert_pool_works(&pool);
    });
}

#[test]
fn detached_spawn_panics_reach_the_panic_handler() {
    watchdog("spawn panics reach the handler", LIMIT, || {
        quiet_expected_panics();
        let (tx, rx) = mpsc::channel();
        let tx = Mutex::new(tx);
        let pool = ThreadPoolBuilder::new()
            .num_threads(2)
            .panic_handler(move |payload| tx.lock().unwrap().send(payload).unwrap())
            .build()
            .unwrap();
        for n in 0..10 {
            pool.spawn(move || boom(100 + n));
        }
        let mut got: Vec<u32> = (0..10)
            .map(|_| {
                let payload = rx
                    .recv_timeout(Duration::from_secs(10))
                    .expect("the handler gets every panic");
                payload.downcast::<Boom>().expect("the original payload").0
            })
            .collect();
        got.sort_unstable();
        assert_eq!(got, (100..110).collect::<Vec<_>>());
        assert_pool_works(&pool);
    });
}

#[test]
fn a_panicking_panic_handler_does_not_kill_the_worker() {
    watchdog("the panic handler panics", LIMIT, || {
        quiet_expected_panics();
        let handled = Arc::new(AtomicUsize::new(0));
        let exited = Arc::new(AtomicUsize::new(0));
        let (h, e) = (Arc::clone(&handled), Arc::clone(&exited));
        // One worker: if it died, nothing below could run.
        let pool = ThreadPoolBuilder::new()
            .num_threads(1)
            .panic_handler(move |_| {
                h.fetch_add(1, Ordering::SeqCst);
                panic!("expected: the panic handler itself panics")
            })
            .exit_handler(move |_| {
                e.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .unwrap();
        let worker = pool.install(|| std::thread::current().id());
        for n in 0..5 {
            pool.spawn(move || boom(n));
        }
        assert_pool_works(&pool);
        assert_eq!(handled.load(Ordering::SeqCst), 5);
        assert_eq!(
            pool.install(|| std::thread::current().id()),
            worker,
            "the same worker thread survives"
        );
        drop(pool);
        assert_eq!(
            exited.load(Ordering::SeqCst),
            1,
            "the worker exits normally at shutdown"
        );
    });
}

#[test]
fn spawn_panics_without_a_handler_leave_the_pool_running() {
    watchdog("spawn panics, default handler", LIMIT, || {
        let pool = pool(1);
        for n in 0..3 {
            pool.spawn(move || panic!("expected: default handler {n}"));
        }
        assert_pool_works(&pool);
    });
}
