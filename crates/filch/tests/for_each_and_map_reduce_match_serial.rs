//! Properties of `for_each` and `map_reduce`, like `map`'s: `for_each`
//! calls `f` once per item (in place over `&mut` slices of primitives,
//! which split by index, and of other types), `map_reduce` returns the
//! serial fold, for any length, chunking, thread count and caller; every
//! input and every accumulator is dropped exactly once, also when an item
//! panics, whose payload reaches the caller.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{
    boom, boom_index, catch, check, feed, pool, quiet_injected_panics, serial_f, shapes,
    tracked_inputs, Coverage, Ledger, Tracked, WorkerSeen,
};
use proptest::prelude::*;

const CASES: u32 = 256;

/// Property: `for_each` calls `f` once per item; each input is dropped
/// exactly once.
#[test]
fn for_each_calls_f_once_per_item() {
    let coverage = Arc::new(Coverage::default());
    let cov = Arc::clone(&coverage);
    check("for_each", CASES, shapes(), move |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        let seen_values = Mutex::new(Vec::new());
        let seen = WorkerSeen::default();
        let f = |t: Tracked| {
            seen.note();
            shape.work();
            seen_values.lock().unwrap().push(t.value);
        };
        let pool = pool(shape.threads);
        feed!(shape, tracked_inputs(&inputs, shape.len), |input| shape
            .call(|| match shape.chunk {
                None => pool.for_each(input, f),
                Some(chunk) => pool.with_chunk_size(chunk).unwrap().for_each(input, f),
            }));
        let mut got = seen_values.into_inner().unwrap();
        got.sort_unstable();
        prop_assert_eq!(got, (0..shape.len as u64).collect::<Vec<_>>());
        inputs.assert_balanced();
        cov.record(shape.expects_helpers(), seen.seen());
        Ok(())
    });
    coverage.assert_exercised("for_each");
}

/// Property: `for_each` over `&mut` slices updates every element exactly
/// once, for a primitive element type (split by index) and for `String`s
/// (pulled in chunks), from outside and on a worker.
#[test]
fn for_each_over_mut_slices_updates_each_element_once() {
    let strategy = (
        0usize..20_000,
        1usize..5,
        prop::option::of(1usize..3000),
        any::<bool>(),
    );
    check(
        "for_each in place",
        CASES,
        strategy,
        |(len, threads, chunk, on_worker)| {
            let pool = pool(threads);
            let mut numbers: Vec<u64> = (0..len as u64).collect();
            let mut names: Vec<String> = (0..len).map(|i| i.to_string()).collect();
            let run = |numbers: &mut Vec<u64>, names: &mut Vec<String>| match chunk {
                None => {
                    pool.for_each(numbers.as_mut_slice(), |x| *x = serial_f(*x));
                    pool.for_each(names.iter_mut(), |s| s.push('!'));
                }
                Some(c) => {
                    let chunked = pool.with_chunk_size(c).unwrap();
                    chunked.for_each(&mut *numbers, |x| *x = serial_f(*x));
                    chunked.for_each(&mut *names, |s| s.push('!'));
                }
            };
            if on_worker {
                pool.install(|| run(&mut numbers, &mut names));
            } else {
                run(&mut numbers, &mut names);
            }
            prop_assert_eq!(numbers, (0..len as u64).map(serial_f).collect::<Vec<_>>());
            let want_names: Vec<String> = (0..len).map(|i| format!("{i}!")).collect();
            prop_assert_eq!(names, want_names);
            Ok(())
        },
    );
}

/// Property: `map_reduce` equals the serial fold (a wrapping sum, which is
/// associative and commutative); every input and every value made (by `f`,
/// `identity` and `combine`) is dropped exactly once.
#[test]
fn map_reduce_equals_the_serial_fold() {
    let coverage = Arc::new(Coverage::default());
    let cov = Arc::clone(&coverage);
    check("map_reduce", CASES, shapes(), move |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        // f makes one value per item, identity one per piece of work and
        // one for the end, combine one per call: 4n + 64 is plenty.
        let values = Ledger::new("values", 4 * shape.len + 64);
        let seen = WorkerSeen::default();
        let f = |t: Tracked| {
            seen.note();
            shape.work();
            values.make(serial_f(t.value))
        };
        let identity = || values.make(0);
        let combine = |a: Tracked, b: Tracked| values.make(a.value.wrapping_add(b.value));
        let pool = pool(shape.threads);
        let got = feed!(shape, tracked_inputs(&inputs, shape.len), |input| shape
            .call(|| match shape.chunk {
                None => pool.map_reduce(input, f, identity, combine),
                Some(chunk) => pool
                    .with_chunk_size(chunk)
                    .unwrap()
                    .map_reduce(input, f, identity, combine),
            }));
        let want = (0..shape.len as u64)
            .map(serial_f)
            .fold(0u64, u64::wrapping_add);
        prop_assert_eq!(got.value, want);
        drop(got);
        inputs.assert_balanced();
        values.assert_balanced();
        cov.record(shape.expects_helpers(), seen.seen());
        Ok(())
    });
    coverage.assert_exercised("map_reduce");
}

/// Property: a panic in `for_each`'s or `map_reduce`'s function at some
/// items reaches the caller with one of the injected payloads; every input
/// and every value made is dropped exactly once; the pool works after.
#[test]
fn a_panic_reaches_the_caller_and_drops_everything_once() {
    quiet_injected_panics();
    let strategy = (
        shapes(),
        prop::collection::vec(0.0..1.0f64, 1..3),
        any::<bool>(),
    );
    check(
        "for_each / map_reduce panics",
        CASES,
        strategy,
        |(shape, fractions, reduce)| {
            let panics: BTreeSet<u64> = fractions
                .iter()
                .map(|f| (f * shape.len as f64) as u64)
                .filter(|&i| (i as usize) < shape.len)
                .collect();
            let inputs = Ledger::new("inputs", shape.len);
            let values = Ledger::new("values", 4 * shape.len + 64);
            let calls = AtomicU64::new(0);
            let item = |t: &Tracked| {
                shape.work();
                calls.fetch_add(1, Ordering::Relaxed);
                if panics.contains(&t.value) {
                    boom(t.value as usize);
                }
            };
            let pool = pool(shape.threads);
            let outcome = feed!(shape, tracked_inputs(&inputs, shape.len), |input| {
                catch(|| {
                    shape.call(|| {
                        if reduce {
                            let f = |t: Tracked| {
                                item(&t);
                                values.make(t.value)
                            };
                            let combine = |a: Tracked, b: Tracked| values.make(a.value ^ b.value);
                            let r = match shape.chunk {
                                None => pool.map_reduce(input, f, || values.make(0), combine),
                                Some(c) => pool.with_chunk_size(c).unwrap().map_reduce(
                                    input,
                                    f,
                                    || values.make(0),
                                    combine,
                                ),
                            };
                            drop(r);
                        } else {
                            let f = |t: Tracked| item(&t);
                            match shape.chunk {
                                None => pool.for_each(input, f),
                                Some(c) => pool.with_chunk_size(c).unwrap().for_each(input, f),
                            }
                        }
                    })
                })
            });
            match outcome {
                Ok(()) => prop_assert!(panics.is_empty(), "no panic from items {panics:?}"),
                Err(payload) => {
                    let index = boom_index(&*payload) as u64;
                    prop_assert!(
                        panics.contains(&index),
                        "payload Boom({index}) not injected"
                    );
                }
            }
            inputs.assert_balanced();
            values.assert_balanced();
            prop_assert!(calls.load(Ordering::Relaxed) <= shape.len as u64);
            common::assert_pool_works(pool);
            Ok(())
        },
    );
}
