//! An owned `Vec` whose results fit its slots is mapped in place on every
//! path a call from outside the pool can take: kept serial, shared with
//! helpers while this thread works too, or handed to the pool whole. The
//! result is the input's buffer, and a panic drops every input and every
//! result exactly once.
//!
//! Which path a call takes is the probe's decision, from times measured as
//! it runs, so each case runs the same call many times at sizes below,
//! within and beyond the band where a call is shared; the shared phase
//! itself is checked path by path in `driver.rs`'s unit tests.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{
    boom, boom_index, catch, pool, quiet_injected_panics, serial_f, spin_for, tracked_inputs,
    values, watchdog, Ledger, Tracked,
};

/// Per-item work, besides the item's bookkeeping.
const ITEM: Duration = Duration::from_nanos(200);

/// The serial work of the calls, in µs: below the pool's threshold for
/// sharing a call from outside (50 µs), within the band where it shares
/// one (up to 250 µs, where it hands one over whole), and beyond.
const WORK_US: [u64; 6] = [20, 70, 100, 150, 200, 1_000];

/// Items per call, for each of `WORK_US`: priced by timing the same item
/// function serially, so that the calls fall in those bands whatever the
/// build's and the machine's speed.
fn sizes() -> Vec<usize> {
    const PRICED: usize = 2_000;
    let ledger = Ledger::new("pricing", 2 * PRICED);
    let input = tracked_inputs(&ledger, PRICED);
    let start = Instant::now();
    let out: Vec<Tracked> = input
        .into_iter()
        .map(|t| {
            spin_for(ITEM);
            ledger.make(serial_f(t.value))
        })
        .collect();
    let item_ns = (start.elapsed().as_nanos() / PRICED as u128).max(1) as u64;
    drop(out);
    WORK_US
        .iter()
        .map(|us| (us * 1_000 / item_ns).max(2) as usize)
        .collect()
}

/// Calls per size.
const ROUNDS: usize = 25;

#[test]
fn the_result_is_the_input_buffer_on_every_path() {
    watchdog("in place", || {
        let pool = pool(2);
        for len in sizes() {
            for _ in 0..ROUNDS {
                let inputs = Ledger::new("inputs", len);
                let outputs = Ledger::new("outputs", len);
                let input = tracked_inputs(&inputs, len);
                let buffer = input.as_ptr() as usize;
                let got = pool.map(input, |t: Tracked| {
                    spin_for(ITEM);
                    outputs.make(serial_f(t.value))
                });
                assert_eq!(
                    got.as_ptr() as usize,
                    buffer,
                    "{len} items: the result is not the input's buffer"
                );
                let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
                assert_eq!(values(got), want, "{len} items: wrong results");
                inputs.assert_balanced();
                outputs.assert_balanced();
            }
        }
    });
}

#[test]
fn a_panic_drops_every_input_and_result_once() {
    quiet_injected_panics();
    watchdog("in place, panics", || {
        let pool = pool(2);
        for len in sizes() {
            for round in 0..ROUNDS {
                let panics: BTreeSet<u64> = [(len / 2 + round) % len, len - 1 - round % len]
                    .iter()
                    .map(|&i| i as u64)
                    .collect();
                let inputs = Ledger::new("inputs", len);
                let outputs = Ledger::new("outputs", len);
                let input = tracked_inputs(&inputs, len);
                let outcome = catch(|| {
                    pool.map(input, |t: Tracked| {
                        spin_for(ITEM);
                        if panics.contains(&t.value) {
                            boom(t.value as usize);
                        }
                        outputs.make(serial_f(t.value))
                    })
                });
                let payload = match outcome {
                    Ok(_) => panic!("{len} items: no panic although items {panics:?} panic"),
                    Err(payload) => payload,
                };
                let index = boom_index(&*payload) as u64;
                assert!(
                    panics.contains(&index),
                    "{len} items: payload Boom({index}) is not one of {panics:?}"
                );
                inputs.assert_balanced();
                outputs.assert_balanced();
            }
        }
    });
}
