//! Property: `map`, `starmap`, `map_init` and `try_map` return exactly what a
//! serial loop returns, for any length, chunking and thread count, and drop
//! every input and output exactly once.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{check, pool, serial_f, shapes, tracked_inputs, values, Ledger, Shape, Tracked, WorkerSeen};
use proptest::prelude::*;

const CASES: u32 = 96;

/// `pool.map` or `pool.with_chunk_size(c).map`, as the shape says.
fn map_as<T, R>(shape: &Shape, items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R>
where
    T: Send + 'static,
    R: Send,
{
    let pool = pool(shape.threads);
    let input = shape.input(items);
    match shape.chunk {
        None => pool.map(input, f),
        Some(chunk) => pool.with_chunk_size(chunk).unwrap().map(input, f),
    }
}

fn expected(len: usize) -> Vec<u64> {
    (0..len as u64).map(serial_f).collect()
}

fn assert_workers_used(shape: &Shape, seen: &WorkerSeen) {
    if shape.must_use_workers() {
        assert!(seen.seen(), "no item ran on a worker for {shape:?}: only the serial path was tested");
    }
}

/// Property: `map` equals the serial map; each input and output is dropped
/// exactly once.
#[test]
fn map_equals_serial_and_drops_each_value_once() {
    check("map", CASES, shapes(), |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        let outputs = Ledger::new("outputs", shape.len);
        let seen = WorkerSeen::default();
        let got = map_as(&shape, tracked_inputs(&inputs, shape.len), |t: Tracked| {
            seen.note();
            shape.work();
            outputs.make(serial_f(t.value))
        });
        prop_assert_eq!(values(got), expected(shape.len));
        inputs.assert_balanced();
        outputs.assert_balanced();
        assert_workers_used(&shape, &seen);
        Ok(())
    });
}

/// Property: `starmap` over pairs equals the serial map of the pairs.
#[test]
fn starmap_equals_serial_and_drops_each_value_once() {
    check("starmap", CASES, shapes(), |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        let outputs = Ledger::new("outputs", shape.len);
        let seen = WorkerSeen::default();
        let pairs: Vec<(Tracked, u64)> = tracked_inputs(&inputs, shape.len).into_iter().map(|t| (t, 3)).collect();
        let f = |t: Tracked, k: u64| {
            seen.note();
            shape.work();
            outputs.make(serial_f(t.value) ^ k)
        };
        let pool = pool(shape.threads);
        let input = shape.input(pairs);
        let got = match shape.chunk {
            None => pool.starmap(input, f),
            Some(chunk) => pool.with_chunk_size(chunk).unwrap().starmap(input, f),
        };
        let want: Vec<u64> = expected(shape.len).into_iter().map(|v| v ^ 3).collect();
        prop_assert_eq!(values(got), want);
        inputs.assert_balanced();
        outputs.assert_balanced();
        assert_workers_used(&shape, &seen);
        Ok(())
    });
}

/// Property: `map_init` equals the serial map, and every state `init` made
/// is dropped exactly once.
#[test]
fn map_init_equals_serial_and_drops_each_state_once() {
    check("map_init", CASES, shapes(), |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        let outputs = Ledger::new("outputs", shape.len);
        // At most one state per item, plus the probe's.
        let states = Ledger::new("states", shape.len + 1);
        let inits = AtomicUsize::new(0);
        let seen = WorkerSeen::default();
        let init = || {
            inits.fetch_add(1, Ordering::Relaxed);
            states.make(0)
        };
        let f = |state: &mut Tracked, t: Tracked| {
            seen.note();
            shape.work();
            state.value += 1;
            outputs.make(serial_f(t.value))
        };
        let pool = pool(shape.threads);
        let input = shape.input(tracked_inputs(&inputs, shape.len));
        let got = match shape.chunk {
            None => pool.map_init(input, init, f),
            Some(chunk) => pool.with_chunk_size(chunk).unwrap().map_init(input, init, f),
        };
        prop_assert_eq!(values(got), expected(shape.len));
        inputs.assert_balanced();
        outputs.assert_balanced();
        states.assert_balanced();
        if let Some(chunk) = shape.chunk {
            // A piece is never smaller than a chunk (except the last).
            prop_assert!(inits.load(Ordering::Relaxed) <= shape.len.div_ceil(chunk).max(1));
        }
        assert_workers_used(&shape, &seen);
        Ok(())
    });
}

/// Property: `try_map` with no failing item equals the serial map; with
/// failing items it returns the error of one of them. Every input, output
/// and error is dropped exactly once either way.
#[test]
fn try_map_ok_equals_serial_and_err_is_a_failing_items_error() {
    let strategy = (shapes(), prop::collection::vec(0.0..1.0f64, 0..3));
    check("try_map", CASES, strategy, |(shape, fractions)| {
        let failing: BTreeSet<u64> = fractions.iter().map(|f| (f * shape.len as f64) as u64).filter(|&i| (i as usize) < shape.len).collect();
        let inputs = Ledger::new("inputs", shape.len);
        let outputs = Ledger::new("outputs", shape.len);
        let errors = Ledger::new("errors", shape.len);
        let seen = WorkerSeen::default();
        let f = |t: Tracked| {
            seen.note();
            shape.work();
            if failing.contains(&t.value) {
                Err(errors.make(t.value))
            } else {
                Ok(outputs.make(serial_f(t.value)))
            }
        };
        let pool = pool(shape.threads);
        let input = shape.input(tracked_inputs(&inputs, shape.len));
        let got = match shape.chunk {
            None => pool.try_map(input, f),
            Some(chunk) => pool.with_chunk_size(chunk).unwrap().try_map(input, f),
        };
        match got {
            Ok(got) => {
                prop_assert!(failing.is_empty(), "Ok although items {failing:?} failed");
                prop_assert_eq!(values(got), expected(shape.len));
            }
            Err(err) => {
                prop_assert!(failing.contains(&err.value), "error of item {} which did not fail ({failing:?})", err.value);
            }
        }
        inputs.assert_balanced();
        outputs.assert_balanced();
        errors.assert_balanced();
        if failing.is_empty() {
            assert_workers_used(&shape, &seen);
        }
        Ok(())
    });
}

/// With work small enough to stay serial, `try_map`'s error is the first
/// failing item in input order, as documented.
#[test]
fn serial_try_map_returns_the_first_error_in_input_order() {
    let pool = pool(4);
    let got: Result<Vec<u32>, u32> = pool.try_map(0..10u32, |x| if x == 3 || x == 7 { Err(x) } else { Ok(x) });
    assert_eq!(got, Err(3));
}
