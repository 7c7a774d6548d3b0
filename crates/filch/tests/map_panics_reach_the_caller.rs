//! Fault injection for the eager combinators (`map`, `starmap`, `try_map`,
//! `map_init`): a panic at random items, under random thread counts, chunk
//! sizes and nesting, reaches the caller with its original payload, drops
//! every value exactly once, hangs nothing, and leaves the pool usable.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{
    assert_pool_works, boom, boom_index, catch, check, feed, pool, quiet_injected_panics, serial_f,
    shapes, tracked_inputs, values, watchdog, Ledger, Shape, Tracked,
};
use proptest::prelude::*;

/// Payload index of a panic injected in `map_init`'s `init` (its n-th call
/// adds n), above any item index.
const INIT_BOOM: usize = 1_000_000;

#[derive(Debug, Clone, Copy)]
enum Op {
    Map,
    Starmap,
    TryMap,
    MapInit { init_panics_at: Option<usize> },
}

fn ops() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Map),
        Just(Op::Starmap),
        Just(Op::TryMap),
        prop::option::of(0..3usize).prop_map(|init_panics_at| Op::MapInit { init_panics_at }),
    ]
}

/// Everything one call shares with its items.
struct Call<'a> {
    shape: &'a Shape,
    op: Op,
    panics: &'a BTreeSet<u64>,
    inputs: &'a Arc<Ledger>,
    outputs: &'a Arc<Ledger>,
    states: &'a Arc<Ledger>,
    inits: &'a AtomicUsize,
}

impl Call<'_> {
    /// The mapped function: panics with `Boom(i)` at the chosen items.
    fn item(&self, t: Tracked) -> Tracked {
        self.shape.work();
        if self.panics.contains(&t.value) {
            boom(t.value as usize);
        }
        self.outputs.make(serial_f(t.value))
    }

    /// Runs the combinator once over fresh inputs; the output values.
    fn run(&self) -> Vec<u64> {
        let pool = pool(self.shape.threads);
        let input = tracked_inputs(self.inputs, self.shape.len);
        let chunked = self.shape.chunk.map(|c| pool.with_chunk_size(c).unwrap());
        let out = match self.op {
            Op::Map => {
                let f = |t| self.item(t);
                feed!(self.shape, input, |input| match chunked {
                    None => pool.map(input, f),
                    Some(c) => c.map(input, f),
                })
            }
            Op::Starmap => {
                let pairs: Vec<(Tracked, u8)> = input.into_iter().map(|t| (t, 0)).collect();
                let f = |t, _: u8| self.item(t);
                feed!(self.shape, pairs, |input| match chunked {
                    None => pool.starmap(input, f),
                    Some(c) => c.starmap(input, f),
                })
            }
            Op::TryMap => {
                let f = |t| Ok::<_, ()>(self.item(t));
                let got = feed!(self.shape, input, |input| match chunked {
                    None => pool.try_map(input, f),
                    Some(c) => c.try_map(input, f),
                });
                got.expect("no item returns Err")
            }
            Op::MapInit { init_panics_at } => {
                let init = || {
                    let n = self.inits.fetch_add(1, Ordering::SeqCst);
                    if init_panics_at == Some(n) {
                        boom(INIT_BOOM + n);
                    }
                    self.states.make(0)
                };
                let f = |_: &mut Tracked, t| self.item(t);
                feed!(self.shape, input, |input| match chunked {
                    None => pool.map_init(input, init, f),
                    Some(c) => c.map_init(input, init, f),
                })
            }
        };
        values(out)
    }
}

/// Property: a panic in `f` (or `init`) at random items reaches the caller
/// of `map`/`starmap`/`try_map`/`map_init`, directly or through an outer
/// `map` on the same pool, with the payload of one of the panicking items;
/// without one the result is the serial one. Either way every value is
/// dropped exactly once and the pool works afterwards.
#[test]
fn a_panic_in_f_reaches_the_caller_with_its_payload() {
    quiet_injected_panics();
    let strategy = (
        shapes(),
        ops(),
        prop::collection::vec(0.0..1.0f64, 1..4),
        prop::option::of(2..4usize),
    );
    check(
        "eager panics",
        160,
        strategy,
        |(shape, op, fractions, nest)| {
            let panics: BTreeSet<u64> = fractions
                .iter()
                .map(|f| (f * shape.len as f64) as u64)
                .filter(|&i| (i as usize) < shape.len)
                .collect();
            let outer = nest.unwrap_or(1);
            let inputs = Ledger::new("inputs", outer * shape.len);
            let outputs = Ledger::new("outputs", outer * shape.len);
            let states = Ledger::new("states", outer * (shape.len + 1));
            let inits = AtomicUsize::new(0);
            let call = Call {
                shape: &shape,
                op,
                panics: &panics,
                inputs: &inputs,
                outputs: &outputs,
                states: &states,
                inits: &inits,
            };
            let outcome = catch(|| match nest {
                None => vec![call.run()],
                // The outer map is forced onto the pool (chunk size 1), so the
                // inner calls run on its workers.
                Some(outer) => pool(shape.threads)
                    .with_chunk_size(1)
                    .unwrap()
                    .map(0..outer, |_| call.run()),
            });
            let init_panic = match op {
                Op::MapInit {
                    init_panics_at: Some(n),
                } if inits.load(Ordering::SeqCst) > n => Some(INIT_BOOM + n),
                _ => None,
            };
            match outcome {
                Ok(results) => {
                    prop_assert!(
                        panics.is_empty(),
                        "no panic although items {panics:?} panic"
                    );
                    prop_assert!(init_panic.is_none(), "no panic although init panicked");
                    let want: Vec<u64> = (0..shape.len as u64).map(serial_f).collect();
                    for got in results {
                        prop_assert_eq!(&got, &want);
                    }
                }
                Err(payload) => {
                    let index = boom_index(&*payload);
                    let expected =
                        panics.contains(&(index as u64)) || init_panic.is_some_and(|i| i >= index);
                    prop_assert!(expected, "payload Boom({index}) is not an injected one ({panics:?}, init {init_panic:?})");
                }
            }
            inputs.assert_balanced();
            outputs.assert_balanced();
            states.assert_balanced();
            assert_pool_works(pool(shape.threads));
            Ok(())
        },
    );
}

/// A panic on an early item of a big chunked call, made from outside and
/// from a worker (where the call splits lazily with `join`): the halves
/// never started are dropped unrun, inputs included. (Regression: `join`
/// dropped an unstarted second half with its inputs still inside.)
#[test]
fn a_panic_drops_the_inputs_of_halves_never_started() {
    quiet_injected_panics();
    watchdog("unstarted halves", || {
        for threads in [1, 2, 8] {
            for chunk in [1, 3, 64] {
                for (from_worker, at) in [(false, 0), (true, 0), (true, 1)] {
                    let inputs = Ledger::new("inputs", 1000);
                    let outputs = Ledger::new("outputs", 1000);
                    let pool = pool(threads);
                    let call = || {
                        pool.with_chunk_size(chunk).unwrap().map(
                            tracked_inputs(&inputs, 1000),
                            |t: Tracked| {
                                if t.value == at {
                                    boom(at as usize);
                                }
                                outputs.make(t.value)
                            },
                        )
                    };
                    let caught = catch(|| {
                        if from_worker {
                            pool.install(call)
                        } else {
                            call()
                        }
                    });
                    let payload = caught.expect_err("an item panics");
                    assert_eq!(boom_index(&*payload), at as usize);
                    inputs.assert_balanced();
                    outputs.assert_balanced();
                    assert_pool_works(pool);
                }
            }
        }
    });
}

/// `init` of `map_init` panicking once work is shared (from outside: the
/// caller and helpers each make a state for the batches they claim) or
/// split (from a worker: a state per piece) drops every input exactly once
/// and never an output that was not written. (Regression: a claimed batch
/// or piece whose `init` panicked leaked its inputs, and from outside the
/// caller then dropped its never-written output slots.)
#[test]
fn a_panic_in_init_drops_every_input() {
    quiet_injected_panics();
    watchdog("init panic", || {
        for threads in [1, 2, 4] {
            for from_worker in [false, true] {
                for panicking_init in [0, 1, 2] {
                    let inputs = Ledger::new("inputs", 500);
                    let outputs = Ledger::new("outputs", 500);
                    let inits = AtomicUsize::new(0);
                    let pool = pool(threads);
                    let call = || {
                        pool.with_chunk_size(10).unwrap().map_init(
                            tracked_inputs(&inputs, 500),
                            || {
                                let n = inits.fetch_add(1, Ordering::SeqCst);
                                if n == panicking_init {
                                    boom(INIT_BOOM + n);
                                }
                            },
                            |_: &mut (), t: Tracked| outputs.make(t.value),
                        )
                    };
                    match catch(|| {
                        if from_worker {
                            pool.install(call)
                        } else {
                            call()
                        }
                    }) {
                        Ok(got) => {
                            // Fewer pieces than `panicking_init + 1`.
                            assert!(inits.load(Ordering::SeqCst) <= panicking_init);
                            assert_eq!(values(got), (0..500).collect::<Vec<u64>>());
                        }
                        Err(payload) => {
                            assert_eq!(boom_index(&*payload), INIT_BOOM + panicking_init)
                        }
                    }
                    let what = format!("{threads} threads, from a worker: {from_worker}, init {panicking_init} panics");
                    if let Some(problem) = inputs.problems().or_else(|| outputs.problems()) {
                        panic!("{what}: {problem}");
                    }
                    assert_pool_works(pool);
                }
            }
        }
    });
}

/// A string payload (`panic!("... {i}")`) arrives intact too.
#[test]
fn a_string_payload_arrives_intact() {
    quiet_injected_panics();
    watchdog("string payload", || {
        let pool = pool(3);
        let caught = catch(|| {
            pool.with_chunk_size(5).unwrap().map(0..100u32, |i| {
                if i == 42 {
                    panic!("{} item {i}", common::INJECTED);
                }
                i
            })
        });
        let payload = caught.expect_err("item 42 panics");
        let message = payload.downcast_ref::<String>().expect("a String payload");
        assert_eq!(message, &format!("{} item 42", common::INJECTED));
        assert_pool_works(pool);
    });
}
