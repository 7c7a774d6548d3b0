//! Property: `map`, `starmap`, `map_init` and `try_map` return exactly what a
//! serial loop returns, for any length, chunking, thread count and caller
//! (outside thread or worker), and drop every input and output exactly once.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{
    check, feed, pool, serial_f, shapes, tracked_inputs, values, Coverage, Ledger, Tracked,
    WorkerSeen,
};
use proptest::prelude::*;

const CASES: u32 = 256;

fn expected(len: usize) -> Vec<u64> {
    (0..len as u64).map(serial_f).collect()
}

/// Property: `map` equals the serial map; each input and output is dropped
/// exactly once.
#[test]
fn map_equals_serial_and_drops_each_value_once() {
    let coverage = Arc::new(Coverage::default());
    let cov = Arc::clone(&coverage);
    check("map", CASES, shapes(), move |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        let outputs = Ledger::new("outputs", shape.len);
        let seen = WorkerSeen::default();
        let f = |t: Tracked| {
            seen.note();
            shape.work();
            outputs.make(serial_f(t.value))
        };
        let pool = pool(shape.threads);
        let got = feed!(shape, tracked_inputs(&inputs, shape.len), |input| shape
            .call(|| match shape.chunk {
                None => pool.map(input, f),
                Some(chunk) => pool.with_chunk_size(chunk).unwrap().map(input, f),
            }));
        prop_assert_eq!(values(got), expected(shape.len));
        inputs.assert_balanced();
        outputs.assert_balanced();
        cov.record(shape.expects_helpers(), seen.seen());
        Ok(())
    });
    coverage.assert_exercised("map");
}

/// Property: `starmap` over pairs equals the serial map of the pairs.
#[test]
fn starmap_equals_serial_and_drops_each_value_once() {
    let coverage = Arc::new(Coverage::default());
    let cov = Arc::clone(&coverage);
    check("starmap", CASES, shapes(), move |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        let outputs = Ledger::new("outputs", shape.len);
        let seen = WorkerSeen::default();
        let pairs: Vec<(Tracked, u64)> = tracked_inputs(&inputs, shape.len)
            .into_iter()
            .map(|t| (t, 3))
            .collect();
        let f = |t: Tracked, k: u64| {
            seen.note();
            shape.work();
            outputs.make(serial_f(t.value) ^ k)
        };
        let pool = pool(shape.threads);
        let got = feed!(shape, pairs, |input| shape.call(|| match shape.chunk {
            None => pool.starmap(input, f),
            Some(chunk) => pool.with_chunk_size(chunk).unwrap().starmap(input, f),
        }));
        let want: Vec<u64> = expected(shape.len).into_iter().map(|v| v ^ 3).collect();
        prop_assert_eq!(values(got), want);
        inputs.assert_balanced();
        outputs.assert_balanced();
        cov.record(shape.expects_helpers(), seen.seen());
        Ok(())
    });
    coverage.assert_exercised("starmap");
}

/// Property: `map_init` equals the serial map, and every state `init` made
/// is dropped exactly once.
#[test]
fn map_init_equals_serial_and_drops_each_state_once() {
    let coverage = Arc::new(Coverage::default());
    let cov = Arc::clone(&coverage);
    check("map_init", CASES, shapes(), move |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        let outputs = Ledger::new("outputs", shape.len);
        // On a worker, each split makes two fresh states (the piece's own
        // was made before it split), so up to about two per item.
        let states = Ledger::new("states", 2 * shape.len + 2);
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
        let got = feed!(shape, tracked_inputs(&inputs, shape.len), |input| shape
            .call(|| match shape.chunk {
                None => pool.map_init(input, init, f),
                Some(chunk) => pool
                    .with_chunk_size(chunk)
                    .unwrap()
                    .map_init(input, init, f),
            }));
        prop_assert_eq!(values(got), expected(shape.len));
        inputs.assert_balanced();
        outputs.assert_balanced();
        states.assert_balanced();
        // `init` runs per piece of work, and pieces never split below the
        // chunk size: at most the initial piece plus two per split.
        let inits = inits.load(Ordering::Relaxed);
        if let Some(chunk) = shape.chunk {
            let bound = 2 * shape.len.div_ceil(chunk) + 1;
            prop_assert!(
                inits <= bound,
                "{inits} inits (bound {bound}) for {shape:?}"
            );
        }
        cov.record(shape.expects_helpers(), seen.seen());
        Ok(())
    });
    coverage.assert_exercised("map_init");
}

/// Property: `try_map` with no failing item equals the serial map; with
/// failing items it returns the error of one of them. Every input, output
/// and error is dropped exactly once either way.
#[test]
fn try_map_ok_equals_serial_and_err_is_a_failing_items_error() {
    let coverage = Arc::new(Coverage::default());
    let cov = Arc::clone(&coverage);
    let strategy = (shapes(), prop::collection::vec(0.0..1.0f64, 0..3));
    check("try_map", CASES, strategy, move |(shape, fractions)| {
        let failing: BTreeSet<u64> = fractions
            .iter()
            .map(|f| (f * shape.len as f64) as u64)
            .filter(|&i| (i as usize) < shape.len)
            .collect();
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
        let got = feed!(shape, tracked_inputs(&inputs, shape.len), |input| shape
            .call(|| match shape.chunk {
                None => pool.try_map(input, f),
                Some(chunk) => pool.with_chunk_size(chunk).unwrap().try_map(input, f),
            }));
        match got {
            Ok(got) => {
                prop_assert!(failing.is_empty(), "Ok although items {failing:?} failed");
                prop_assert_eq!(values(got), expected(shape.len));
            }
            Err(err) => {
                let item = err.value;
                prop_assert!(
                    failing.contains(&item),
                    "error of item {item}, which did not fail ({failing:?})"
                );
            }
        }
        inputs.assert_balanced();
        outputs.assert_balanced();
        errors.assert_balanced();
        cov.record(failing.is_empty() && shape.expects_helpers(), seen.seen());
        Ok(())
    });
    coverage.assert_exercised("try_map");
}

/// With work small enough to stay serial, `try_map`'s error is the first
/// failing item in input order, as documented.
#[test]
fn serial_try_map_returns_the_first_error_in_input_order() {
    let got: Result<Vec<u32>, u32> =
        pool(4).try_map(0..10u32, |x| if x == 3 || x == 7 { Err(x) } else { Ok(x) });
    assert_eq!(got, Err(3));
}

/// A zero-sized result whose drops are counted.
struct Unit<'a>(&'a AtomicUsize);

impl Drop for Unit<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Property: a `map` to zero-sized results returns one per item, whether
/// they need dropping (each dropped once) or not (`()`, which a run counts
/// after the fact rather than per item).
#[test]
fn map_to_zero_sized_results_returns_one_per_item() {
    check("map to zero-sized results", CASES, shapes(), move |shape| {
        let inputs = Ledger::new("inputs", shape.len);
        let calls = AtomicUsize::new(0);
        let f = |_: Tracked| {
            shape.work();
            calls.fetch_add(1, Ordering::SeqCst);
        };
        let pool = pool(shape.threads);
        let got: Vec<()> = feed!(shape, tracked_inputs(&inputs, shape.len), |input| shape
            .call(|| match shape.chunk {
                None => pool.map(input, f),
                Some(chunk) => pool.with_chunk_size(chunk).unwrap().map(input, f),
            }));
        prop_assert_eq!(got.len(), shape.len);
        prop_assert_eq!(calls.load(Ordering::SeqCst), shape.len);
        inputs.assert_balanced();

        let dropped = AtomicUsize::new(0);
        let g = |_: u64| {
            shape.work();
            Unit(&dropped)
        };
        let units = shape.call(|| match shape.chunk {
            None => pool.map(0..shape.len as u64, g),
            Some(chunk) => pool
                .with_chunk_size(chunk)
                .unwrap()
                .map(0..shape.len as u64, g),
        });
        prop_assert_eq!(units.len(), shape.len);
        prop_assert_eq!(dropped.load(Ordering::SeqCst), 0);
        drop(units);
        prop_assert_eq!(dropped.load(Ordering::SeqCst), shape.len);
        Ok(())
    });
}
