//! An owned `Vec` whose results fit its slots is mapped in place on every
//! path a call from outside the pool can take: kept serial, shared with
//! helpers while this thread works too, or handed to the pool whole. The
//! result is the input's buffer, and a panic drops every input and every
//! result exactly once.
//!
//! Which path a call takes is the probe's decision, from times measured as
//! it runs, so each case runs the same call at sizes around the thresholds
//! many times over, and the test checks that the shared path (this thread
//! and a worker both ran items) was among those taken.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{
    boom, boom_index, catch, pool, quiet_injected_panics, serial_f, spin_for, tracked_inputs,
    values, watchdog, Ledger, Tracked,
};

/// Per-item work: `SIZES` of such items span the pool's threshold for
/// sharing a call from outside (50 µs) and the one for handing it over
/// whole (250 µs).
const ITEM: Duration = Duration::from_nanos(200);

/// Items per call.
const SIZES: [usize; 3] = [300, 1_000, 4_000];

/// Calls per size.
const ROUNDS: usize = 25;

/// Which threads ran a call's items.
#[derive(Default)]
struct Ran {
    caller: AtomicBool,
    worker: AtomicBool,
}

impl Ran {
    fn note(&self) {
        match filch::current_thread_index() {
            Some(_) => self.worker.store(true, Ordering::Relaxed),
            None => self.caller.store(true, Ordering::Relaxed),
        }
    }

    fn shared(&self) -> bool {
        self.caller.load(Ordering::Relaxed) && self.worker.load(Ordering::Relaxed)
    }
}

#[test]
fn the_result_is_the_input_buffer_on_every_path() {
    watchdog("in place", || {
        let pool = pool(2);
        let mut shared = 0;
        for len in SIZES {
            for _ in 0..ROUNDS {
                let inputs = Ledger::new("inputs", len);
                let outputs = Ledger::new("outputs", len);
                let input = tracked_inputs(&inputs, len);
                let buffer = input.as_ptr() as usize;
                let ran = Ran::default();
                let got = pool.map(input, |t: Tracked| {
                    ran.note();
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
                shared += usize::from(ran.shared());
            }
        }
        assert!(
            shared > 0,
            "no call was shared between this thread and a worker in {} calls: \
             the shared path was never exercised",
            SIZES.len() * ROUNDS
        );
    });
}

#[test]
fn a_panic_drops_every_input_and_result_once() {
    quiet_injected_panics();
    watchdog("in place, panics", || {
        let pool = pool(2);
        for len in SIZES {
            for round in 0..ROUNDS {
                let panics: BTreeSet<u64> = [len / 2 + round, len - 1 - round]
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
