//! `JoinContext::join`: exact answers on every pool size, forks that really
//! reach other workers, panics with their original payload (and a second
//! half that is waited for or dropped, never abandoned), every closure and
//! result dropped exactly once, deep chains, and mixing with the implicit
//! `join` and `scope`.
//!
//! This file installs a process-wide panic hook that silences the panics it
//! provokes (`common::boom`).

mod common;

use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

use common::boom::{
    assert_a_stolen_half_is_waited_for, assert_boom, boom, payload_of, quiet_expected_panics,
};
use common::tracked::{Counts, Tracked};
use common::watchdog;
use filch_scheduler::{
    current_thread_index, join, scope, with_join_context, JoinContext, ThreadPool,
    ThreadPoolBuilder,
};

const LIMIT: Duration = Duration::from_secs(30);

fn pool(threads: usize) -> ThreadPool {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

fn fib(ctx: JoinContext<'_>, n: u64) -> u64 {
    if n < 2 {
        return n;
    }
    let (a, b) = ctx.join(|ctx| fib(ctx, n - 1), |ctx| fib(ctx, n - 2));
    a + b
}

fn fib_serial(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

/// Sums `values` by halving down to single items.
fn sum(ctx: JoinContext<'_>, values: &[u64]) -> u64 {
    match values {
        [] => 0,
        [x] => *x,
        _ => {
            let (left, right) = values.split_at(values.len() / 2);
            let (a, b) = ctx.join(|ctx| sum(ctx, left), |ctx| sum(ctx, right));
            a + b
        }
    }
}

#[test]
fn fib_and_sums_are_exact_on_every_pool_size() {
    watchdog("fib and sums through JoinContext", LIMIT, || {
        let values: Vec<u64> = (1..=200_000).collect();
        for threads in [1, 2, 4] {
            let pool = pool(threads);
            for n in [0, 1, 2, 10, 20, 27] {
                assert_eq!(
                    pool.with_join_context(|ctx| fib(ctx, n)),
                    fib_serial(n),
                    "fib({n}) on {threads} threads"
                );
            }
            assert_eq!(
                pool.with_join_context(|ctx| sum(ctx, &values)),
                200_000 * 200_001 / 2
            );
            assert_eq!(pool.with_join_context(|ctx| sum(ctx, &[])), 0);
        }
        // Off any pool: the global one.
        assert_eq!(with_join_context(|ctx| fib(ctx, 20)), 6765);
    });
}

/// Leaves that take a few µs, recording which worker ran them.
fn spread(ctx: JoinContext<'_>, depth: u32, seen: &Mutex<BTreeSet<usize>>) -> u64 {
    if depth == 0 {
        let index = current_thread_index().expect("leaves run on workers");
        seen.lock().unwrap().insert(index);
        let mut x = 0u64;
        for i in 0..2_000u64 {
            x = std::hint::black_box(x.wrapping_add(i * i));
        }
        return 1 + u64::from(x == u64::MAX);
    }
    let (a, b) = ctx.join(
        |ctx| spread(ctx, depth - 1, seen),
        |ctx| spread(ctx, depth - 1, seen),
    );
    a + b
}

#[test]
fn forks_reach_every_worker_of_the_pool() {
    watchdog("JoinContext forks are stolen", LIMIT, || {
        let pool = pool(2);
        // Whether the second worker gets a frame depends on timing; over a
        // few tens of ms of leaves it does, unless the host starves it, so
        // allow several attempts.
        let mut both = false;
        for _ in 0..20 {
            let seen = Mutex::new(BTreeSet::new());
            assert_eq!(pool.with_join_context(|ctx| spread(ctx, 12, &seen)), 4096);
            if seen.into_inner().unwrap().len() == 2 {
                both = true;
                break;
            }
        }
        assert!(both, "no leaf ever ran on the second worker");
    });
}

#[test]
fn the_first_half_need_not_be_send() {
    let pool = pool(2);
    let (a, b, count) = pool.with_join_context(|ctx| {
        // `Rc` is not `Send`: only the first half may use it.
        let local = Rc::new(5u64);
        let shared = Rc::clone(&local);
        let (a, b) = ctx.join(move |_| *shared * 2, |_| 3u64);
        (a, b, Rc::strong_count(&local))
    });
    assert_eq!((a, b, count), (10, 3, 1));
}

#[test]
fn a_panic_in_either_half_reaches_the_caller_with_its_payload() {
    quiet_expected_panics();
    watchdog("JoinContext panics", LIMIT, || {
        for threads in [1, 2] {
            let pool = pool(threads);
            let first = payload_of(|| pool.with_join_context(|ctx| ctx.join(|_| boom(1), |_| 2)));
            assert_boom(first, 1);
            let second = payload_of(|| pool.with_join_context(|ctx| ctx.join(|_| 1, |_| boom(2))));
            assert_boom(second, 2);
            let both = payload_of(|| {
                pool.with_join_context(|ctx| ctx.join(|_| -> u32 { boom(3) }, |_| boom(4)))
            });
            assert_boom(both, 3);
            // Deep inside a recursion, on whichever worker runs that leaf.
            let deep = payload_of(|| pool.with_join_context(|ctx| panics_at_leaf(ctx, 12, 777)));
            assert_boom(deep, 9);
            // The pool still works.
            assert_eq!(pool.with_join_context(|ctx| fib(ctx, 15)), 610);
        }
    });
}

/// A balanced recursion whose leaf number `target` panics.
fn panics_at_leaf(ctx: JoinContext<'_>, depth: u32, target: u64) -> u64 {
    fn go(ctx: JoinContext<'_>, depth: u32, first: u64, target: u64) -> u64 {
        if depth == 0 {
            if first == target {
                boom(9);
            }
            return 1;
        }
        let half = 1u64 << (depth - 1);
        let (a, b) = ctx.join(
            |ctx| go(ctx, depth - 1, first, target),
            |ctx| go(ctx, depth - 1, first + half, target),
        );
        a + b
    }
    go(ctx, depth, 0, target)
}

#[test]
fn a_stolen_second_half_is_waited_for_when_the_first_panics() {
    quiet_expected_panics();
    watchdog("JoinContext waits for a stolen half", LIMIT, || {
        let pool = pool(2);
        assert_a_stolen_half_is_waited_for(|started, finished| {
            pool.with_join_context(|ctx| {
                ctx.join(
                    |_| {
                        std::thread::sleep(Duration::from_millis(5));
                        boom(7)
                    },
                    |_| {
                        started.store(true, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        finished.store(true, Ordering::SeqCst);
                    },
                )
            })
        });
    });
}

/// A tree of joins whose closures each own a `Tracked` and return one; the
/// first half of the join at `panic_at` panics (if any).
fn tracked_tree<'a>(
    ctx: JoinContext<'_>,
    depth: u32,
    id: u64,
    counts: &'a Counts,
    panic_at: Option<u64>,
) -> Vec<Tracked<'a>> {
    if depth == 0 {
        return vec![counts.track()];
    }
    let owned_a = counts.track();
    let owned_b = counts.track();
    let (mut a, b) = ctx.join(
        move |ctx| {
            let _keep = owned_a;
            if panic_at == Some(id) {
                boom(11);
            }
            tracked_tree(ctx, depth - 1, 2 * id, counts, panic_at)
        },
        move |ctx| {
            let _keep = owned_b;
            tracked_tree(ctx, depth - 1, 2 * id + 1, counts, panic_at)
        },
    );
    a.extend(b);
    a
}

#[test]
fn every_closure_and_result_is_dropped_exactly_once() {
    quiet_expected_panics();
    watchdog("JoinContext drops", LIMIT, || {
        const DEPTH: u32 = 10;
        let joins = (1u64 << DEPTH) - 1;
        let leaves = 1u64 << DEPTH;
        for threads in [1, 2] {
            let pool = pool(threads);
            // No panic: every closure's capture and every leaf result.
            let counts = Counts::default();
            let out = pool.with_join_context(|ctx| tracked_tree(ctx, DEPTH, 1, &counts, None));
            assert_eq!(out.len() as u64, leaves);
            drop(out);
            assert_eq!(
                counts.read(),
                ((2 * joins + leaves) as usize, (2 * joins + leaves) as usize)
            );
            // A panic in the middle: whatever was made is dropped once,
            // ran or not, and nothing still runs when the call returns.
            for panic_at in [1, 5, 300, 1000] {
                let counts = Counts::default();
                let payload = payload_of(|| {
                    pool.with_join_context(|ctx| {
                        tracked_tree(ctx, DEPTH, 1, &counts, Some(panic_at))
                    })
                });
                assert_boom(payload, 11);
                let (made, dropped) = counts.read();
                assert_eq!(made, dropped, "panic at join {panic_at}, {threads} threads");
                std::thread::sleep(Duration::from_millis(20));
                assert_eq!(
                    counts.read(),
                    (made, dropped),
                    "work ran after the call returned"
                );
            }
        }
    });
}

/// `depth` nested joins continuing in the first half (`left`) or the
/// second, the one a thief may take.
fn chain(ctx: JoinContext<'_>, depth: u64, left: bool) -> u64 {
    if depth == 0 {
        return 0;
    }
    let (a, b) = if left {
        ctx.join(|ctx| chain(ctx, depth - 1, left), |_| depth)
    } else {
        ctx.join(|_| depth, |ctx| chain(ctx, depth - 1, left))
    };
    a + b
}

#[test]
fn linear_chains_thousands_of_joins_deep_are_exact() {
    const DEPTH: u64 = 10_000;
    watchdog("JoinContext chains", LIMIT, || {
        let pool = common::deep_stack_pool();
        let expected = DEPTH * (DEPTH + 1) / 2;
        for _ in 0..5 {
            assert_eq!(
                pool.with_join_context(|ctx| chain(ctx, DEPTH, true)),
                expected
            );
            assert_eq!(
                pool.with_join_context(|ctx| chain(ctx, DEPTH, false)),
                expected
            );
        }
    });
}

#[test]
fn mixes_with_the_implicit_join_scope_and_nested_contexts() {
    watchdog("JoinContext mixed with join and scope", LIMIT, || {
        let pool = pool(2);
        let values: Vec<u64> = (1..=10_000).collect();
        let total = pool.with_join_context(|ctx| {
            let (a, b) = ctx.join(
                |ctx| {
                    // The implicit join inside a context join, and a context
                    // join inside that.
                    let (x, y) = join(|| with_join_context(|c| sum(c, &values[..5_000])), || 0);
                    x + y + fib(ctx, 10)
                },
                |_| {
                    let sums = Mutex::new(0u64);
                    scope(|s| {
                        for part in values[5_000..].chunks(1_000) {
                            let sums = &sums;
                            s.spawn(move |_| {
                                let part_sum = with_join_context(|c| sum(c, part));
                                *sums.lock().unwrap() += part_sum;
                            });
                        }
                    });
                    sums.into_inner().unwrap()
                },
            );
            a + b
        });
        assert_eq!(total, 10_000 * 10_001 / 2 + 55);
    });
}
