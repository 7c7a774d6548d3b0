//! Fault injection for `scope` spawns and `apply_async`: a panic in random
//! jobs, under random thread counts and callers, reaches the caller (at the
//! end of the scope, or at `AsyncResult::get`) with its original payload;
//! every captured value and result is dropped exactly once, nothing hangs,
//! and the pool works afterwards.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{
    assert_pool_works, boom, boom_index, catch, check, pool, quiet_injected_panics, tracked_inputs,
    Ledger, Tracked,
};
use proptest::prelude::*;

fn positions(fractions: &[f64], len: usize) -> BTreeSet<usize> {
    fractions
        .iter()
        .map(|f| (f * len as f64) as usize)
        .filter(|&i| i < len)
        .collect()
}

/// Property: a scope whose spawned jobs (some spawned by other jobs) panic
/// at random positions resumes, once all jobs have finished, the panic of
/// one of them with its payload; every job that did not panic ran; every
/// value a job captured is dropped exactly once.
#[test]
fn a_panic_in_a_scope_job_reaches_the_scope_caller() {
    quiet_injected_panics();
    let strategy = (
        1..=8usize,
        0..300usize,
        prop::collection::vec(0.0..1.0f64, 0..4),
        any::<bool>(),
        any::<bool>(),
    );
    check(
        "scope panics",
        256,
        strategy,
        |(threads, jobs, fractions, from_worker, nested)| {
            let panics = positions(&fractions, jobs);
            let inputs = Ledger::new("captured", jobs);
            let ran = AtomicUsize::new(0);
            let pool = pool(threads);
            let run_job = |t: Tracked| {
                if panics.contains(&(t.value as usize)) {
                    boom(t.value as usize);
                }
                ran.fetch_add(1, Ordering::SeqCst);
            };
            let body = || {
                pool.scope(|s| {
                    for t in tracked_inputs(&inputs, jobs) {
                        let run_job = &run_job;
                        if nested && t.value % 2 == 1 {
                            // A job spawning the job.
                            s.spawn(move |s| s.spawn(move |_| run_job(t)));
                        } else {
                            s.spawn(move |_| run_job(t));
                        }
                    }
                })
            };
            let outcome = catch(|| {
                if from_worker {
                    pool.install(body)
                } else {
                    body()
                }
            });
            match outcome {
                Ok(()) => {
                    prop_assert!(panics.is_empty(), "no panic although jobs {panics:?} panic")
                }
                Err(payload) => {
                    let index = boom_index(&*payload);
                    prop_assert!(
                        panics.contains(&index),
                        "payload Boom({index}) not injected ({panics:?})"
                    );
                }
            }
            prop_assert_eq!(
                ran.load(Ordering::SeqCst),
                jobs - panics.len(),
                "a job that did not panic did not run"
            );
            inputs.assert_balanced();
            assert_pool_works(pool);
            Ok(())
        },
    );
}

/// Property: of many `apply_async` jobs, the panicking ones re-raise their
/// own payload at `get`, the others return their value; results never
/// collected are dropped with their handle; every value is dropped exactly
/// once.
#[test]
fn a_panic_in_apply_async_is_raised_at_get() {
    quiet_injected_panics();
    let strategy = (
        1..=8usize,
        0..64usize,
        prop::collection::vec(0.0..1.0f64, 0..4),
        0.0..1.0f64,
        any::<bool>(),
    );
    check(
        "apply_async panics",
        256,
        strategy,
        |(threads, jobs, fractions, keep, slow)| {
            let panics = positions(&fractions, jobs);
            let inputs = Ledger::new("captured", jobs);
            let outputs = Ledger::new("results", jobs);
            let pool = pool(threads);
            let handles: Vec<_> = tracked_inputs(&inputs, jobs)
                .into_iter()
                .map(|t| {
                    let (outputs, panic) = (
                        std::sync::Arc::clone(&outputs),
                        panics.contains(&(t.value as usize)),
                    );
                    pool.apply_async(move || {
                        // Take `t` whole: a closure that only reads
                        // `t.value` captures a copy of that field (edition
                        // 2021), and `t` itself would be dropped here, at
                        // spawn, so the ledger would not wait for the job.
                        let t = t;
                        if slow {
                            std::thread::sleep(std::time::Duration::from_micros(50));
                        }
                        if panic {
                            boom(t.value as usize);
                        }
                        outputs.make(t.value * 7)
                    })
                })
                .collect();
            // Collect the first `kept` handles, drop the rest unread.
            let kept = (keep * jobs as f64) as usize;
            for (i, handle) in handles.into_iter().enumerate() {
                if i >= kept {
                    drop(handle);
                    continue;
                }
                match catch(|| handle.get()) {
                    Ok(result) => {
                        prop_assert!(!panics.contains(&i), "job {i} panics but get returned");
                        prop_assert_eq!(result.value, i as u64 * 7);
                    }
                    Err(payload) => {
                        prop_assert!(panics.contains(&i), "job {i} does not panic but get did");
                        prop_assert_eq!(boom_index(&*payload), i);
                    }
                }
            }
            // Dropped handles of jobs still queued or running: their cells go
            // when the jobs finish.
            inputs.settle();
            outputs.settle();
            assert_pool_works(pool);
            Ok(())
        },
    );
}

/// A panic in an inner `map` reaches an outer `map`'s caller, through two
/// levels, with the payload intact; the pool works afterwards.
#[test]
fn a_panic_in_a_nested_map_reaches_the_outermost_caller() {
    quiet_injected_panics();
    common::watchdog("nested panic", || {
        for threads in [1, 2, 5] {
            let pool = pool(threads);
            let chunked = pool.with_chunk_size(1).unwrap();
            let caught = catch(|| {
                chunked.map(0..4u64, |i| {
                    chunked.map(0..4u64, |j| {
                        pool.map(0..50u64, |k| {
                            if (i, j, k) == (2, 3, 40) {
                                boom(2340);
                            }
                            k
                        })
                    })
                })
            });
            assert_eq!(
                boom_index(&*caught.expect_err("one inner item panics")),
                2340
            );
            assert_pool_works(pool);
        }
    });
}
