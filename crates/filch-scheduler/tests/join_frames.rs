//! The implicit `join`'s chain of private frames: forks reach other workers,
//! every closure and result is dropped exactly once when a half panics, the
//! chain is whole again after a panic unwound through it, and a worker that
//! waits deep inside a chain (a `scope` at the bottom of a thousand open
//! joins) offers the frames above it without losing one.
//!
//! This file installs a process-wide panic hook that silences the panics it
//! provokes (`common::boom`).

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use common::boom::{assert_boom, boom, payload_of, quiet_expected_panics};
use common::tracked::{Counts, Tracked};
use common::watchdog;
use filch_scheduler::{current_thread_index, join, scope, ThreadPool, ThreadPoolBuilder};

const LIMIT: Duration = Duration::from_secs(30);

fn pool(threads: usize) -> ThreadPool {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// Leaves that take a few µs, recording which worker ran them.
fn spread(depth: u32, seen: &Mutex<BTreeSet<usize>>) -> u64 {
    if depth == 0 {
        let index = current_thread_index().expect("leaves run on workers");
        seen.lock().unwrap().insert(index);
        let mut x = 0u64;
        for i in 0..2_000u64 {
            x = std::hint::black_box(x.wrapping_add(i * i));
        }
        return 1 + u64::from(x == u64::MAX);
    }
    let (a, b) = join(|| spread(depth - 1, seen), || spread(depth - 1, seen));
    a + b
}

/// Whether a 4096-leaf `spread` reached every worker of `pool` within a
/// few attempts (which worker gets a frame depends on timing; over a few
/// tens of ms of leaves each one does, unless the host starves it).
fn reaches_every_worker(pool: &ThreadPool) -> bool {
    (0..20).any(|_| {
        let seen = Mutex::new(BTreeSet::new());
        assert_eq!(pool.install(|| spread(12, &seen)), 4096);
        seen.into_inner().unwrap().len() == pool.num_threads()
    })
}

fn reaches_both_workers(pool: &ThreadPool) -> bool {
    assert_eq!(pool.num_threads(), 2);
    reaches_every_worker(pool)
}

#[test]
fn forks_reach_every_worker_of_the_pool() {
    watchdog("join forks are stolen", LIMIT, || {
        assert!(
            reaches_both_workers(&pool(2)),
            "no leaf ever ran on the second worker"
        );
        // Most forks of a 12-deep recursion make no frame (`fork_latch.rs`);
        // the frames a chain keeps, and the chains thieves start, must still
        // spread it over more workers than cores.
        assert!(
            reaches_every_worker(&pool(4)),
            "some worker of four never ran a leaf"
        );
    });
}

/// A tree of joins whose closures each own a `Tracked` and return one; the
/// first half of the join numbered `panic_at` panics (if any).
fn tracked_tree<'a>(
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
    let (mut a, b) = join(
        move || {
            let _keep = owned_a;
            if panic_at == Some(id) {
                boom(11);
            }
            tracked_tree(depth - 1, 2 * id, counts, panic_at)
        },
        move || {
            let _keep = owned_b;
            tracked_tree(depth - 1, 2 * id + 1, counts, panic_at)
        },
    );
    a.extend(b);
    a
}

#[test]
fn every_closure_and_result_is_dropped_exactly_once() {
    quiet_expected_panics();
    watchdog("join drops", LIMIT, || {
        const DEPTH: u32 = 10;
        let joins = (1u64 << DEPTH) - 1;
        let leaves = 1u64 << DEPTH;
        for threads in [1, 2] {
            let pool = pool(threads);
            let counts = Counts::default();
            let out = pool.install(|| tracked_tree(DEPTH, 1, &counts, None));
            assert_eq!(out.len() as u64, leaves);
            drop(out);
            let all = (2 * joins + leaves) as usize;
            assert_eq!(counts.read(), (all, all));
            // A panic in the middle: whatever was made is dropped once, ran
            // or not, and nothing still runs when the call returns.
            for panic_at in [1, 5, 300, 1000] {
                let counts = Counts::default();
                let payload =
                    payload_of(|| pool.install(|| tracked_tree(DEPTH, 1, &counts, Some(panic_at))));
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

#[test]
fn the_chain_is_whole_after_a_panic_unwinds_through_it() {
    quiet_expected_panics();
    watchdog("join after a panic", LIMIT, || {
        let pool = pool(2);
        for panic_at in [1, 2, 37, 1000] {
            let counts = Counts::default();
            let payload =
                payload_of(|| pool.install(|| tracked_tree(10, 1, &counts, Some(panic_at))));
            assert_boom(payload, 11);
            // Frames left on a chain by the unwinding would dangle here, and
            // a chain cut short would keep the second worker idle.
            assert!(
                reaches_both_workers(&pool),
                "after a panic at join {panic_at}, no leaf ran on the second worker"
            );
        }
    });
}

#[test]
fn a_panic_caught_inside_a_job_leaves_the_chain_whole() {
    quiet_expected_panics();
    watchdog("join after a caught panic", LIMIT, || {
        let pool = pool(1);
        for _ in 0..3 {
            pool.install(|| {
                scope(|s| {
                    // Something of the worker's on offer, so the joins below
                    // keep their frames private.
                    s.spawn(|_| ());
                    for i in 0..3 {
                        let payload = payload_of(|| join(|| boom(i), || std::hint::black_box(1)));
                        assert_boom(payload, i);
                    }
                })
            });
            // A frame left on the chain would dangle under these forks (and
            // debug builds check, between jobs, that no job left one).
            let seen = Mutex::new(BTreeSet::new());
            assert_eq!(pool.install(|| spread(6, &seen)), 64);
        }
    });
}

/// `depth` nested joins continuing in the first half; at the bottom, a
/// scope of `jobs` spawned jobs that the worker waits for with the whole
/// chain still open above it.
fn chain_with_a_scope_at_the_bottom(depth: u64, jobs: u64, ran: &AtomicUsize) -> u64 {
    if depth == 0 {
        scope(|s| {
            for _ in 0..jobs {
                s.spawn(|_| {
                    ran.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        return 0;
    }
    let (a, b) = join(
        || chain_with_a_scope_at_the_bottom(depth - 1, jobs, ran),
        || depth,
    );
    a + b
}

#[test]
fn a_wait_deep_in_a_chain_offers_every_frame_above_it_once() {
    const DEPTH: u64 = 1_000;
    watchdog("a scope at the bottom of a chain", LIMIT, || {
        for threads in [1, 2] {
            // Unoptimised join frames are a few KiB each.
            let pool = ThreadPoolBuilder::new()
                .num_threads(threads)
                .stack_size(64 << 20)
                .build()
                .unwrap();
            for _ in 0..5 {
                let ran = AtomicUsize::new(0);
                let total = pool.install(|| chain_with_a_scope_at_the_bottom(DEPTH, 64, &ran));
                assert_eq!(total, DEPTH * (DEPTH + 1) / 2, "{threads} threads");
                assert_eq!(ran.load(Ordering::SeqCst), 64);
            }
        }
    });
}
