//! Properties of `imap` and `imap_unordered`: `imap` yields the serial
//! results in input order, `imap_unordered` a permutation of them, for any
//! length, chunking, thread count and consumer (outside thread or worker);
//! every input and output is dropped exactly once, also when the iterator
//! is dropped after a few items while chunks still run in the background.

mod common;

use std::sync::Arc;

use common::{
    check, pool, serial_f, shapes, tracked_inputs, Coverage, Ledger, Shape, Tracked, WorkerSeen,
};
use proptest::prelude::*;

const CASES: u32 = 256;

/// Whether some items should run on workers while an outside consumer
/// iterates: heavy items go parallel after the first (in chunks of one
/// item, as each costs more than the chunk target), and there must be more
/// than one chunk, or the consumer claims the only one itself.
fn expects_workers(shape: &Shape) -> bool {
    !shape.from_worker
        && shape.heavy
        && shape.len >= 6
        && shape.chunk.is_none_or(|c| 2 * c <= shape.len)
}

/// Everything a case's mapped function needs, all `'static`.
struct Case {
    shape: Shape,
    inputs: Arc<Ledger>,
    outputs: Arc<Ledger>,
    seen: Arc<WorkerSeen>,
}

impl Case {
    fn new(shape: Shape) -> Case {
        Case {
            inputs: Ledger::new("inputs", shape.len),
            outputs: Ledger::new("outputs", shape.len),
            seen: Arc::new(WorkerSeen::default()),
            shape,
        }
    }

    /// Iterates `imap` (ordered) or `imap_unordered` over the case's inputs,
    /// taking at most `take` results, then drops the iterator.
    fn run(&self, ordered: bool, take: usize) -> Vec<u64> {
        let (outputs, seen, shape) = (
            Arc::clone(&self.outputs),
            Arc::clone(&self.seen),
            self.shape.clone(),
        );
        let f = move |t: Tracked| {
            seen.note();
            shape.work();
            outputs.make(serial_f(t.value))
        };
        let pool = pool(self.shape.threads);
        let input = self
            .shape
            .input(tracked_inputs(&self.inputs, self.shape.len));
        self.shape.call(|| {
            let iter: Box<dyn Iterator<Item = Tracked>> = match (self.shape.chunk, ordered) {
                (None, true) => Box::new(pool.imap(input, f)),
                (None, false) => Box::new(pool.imap_unordered(input, f)),
                (Some(c), true) => Box::new(pool.with_chunk_size(c).unwrap().imap(input, f)),
                (Some(c), false) => {
                    Box::new(pool.with_chunk_size(c).unwrap().imap_unordered(input, f))
                }
            };
            iter.take(take).map(|t| t.value).collect()
        })
    }
}

fn serial(len: usize) -> Vec<u64> {
    (0..len as u64).map(serial_f).collect()
}

/// Property: `imap` yields exactly the serial results, in order; once it
/// is exhausted every value has been dropped exactly once.
#[test]
fn imap_yields_the_serial_results_in_order() {
    let coverage = Arc::new(Coverage::default());
    let cov = Arc::clone(&coverage);
    check("imap order", CASES, shapes(), move |shape| {
        let case = Case::new(shape);
        let got = case.run(true, usize::MAX);
        prop_assert_eq!(got, serial(case.shape.len));
        case.inputs.assert_balanced();
        case.outputs.assert_balanced();
        cov.record(expects_workers(&case.shape), case.seen.seen());
        Ok(())
    });
    coverage.assert_exercised("imap");
}

/// Property: `imap_unordered` yields a permutation of the serial results;
/// once it is exhausted every value has been dropped exactly once.
#[test]
fn imap_unordered_yields_a_permutation_of_the_serial_results() {
    let coverage = Arc::new(Coverage::default());
    let cov = Arc::clone(&coverage);
    check(
        "imap_unordered permutation",
        CASES,
        shapes(),
        move |shape| {
            let case = Case::new(shape);
            let mut got = case.run(false, usize::MAX);
            got.sort_unstable();
            let mut want = serial(case.shape.len);
            want.sort_unstable();
            prop_assert_eq!(got, want);
            case.inputs.assert_balanced();
            case.outputs.assert_balanced();
            cov.record(expects_workers(&case.shape), case.seen.seen());
            Ok(())
        },
    );
    coverage.assert_exercised("imap_unordered");
}

/// Property: an `imap` or `imap_unordered` dropped after `k` results has
/// yielded the right `k` (the serial prefix, or distinct serial results),
/// and once the chunks still running in the background have finished,
/// every input and output has been dropped exactly once.
#[test]
fn imap_dropped_early_drops_every_value_once() {
    let strategy = (shapes(), 0.0..1.0f64, any::<bool>());
    check(
        "imap dropped early",
        CASES,
        strategy,
        |(shape, fraction, ordered)| {
            let take = (fraction * shape.len as f64) as usize;
            let case = Case::new(shape);
            let mut got = case.run(ordered, take);
            let want = serial(case.shape.len);
            prop_assert_eq!(got.len(), take);
            if ordered {
                prop_assert_eq!(&got[..], &want[..take]);
            } else {
                got.sort_unstable();
                got.dedup();
                prop_assert_eq!(got.len(), take, "a result was yielded twice");
                let mut want = want;
                want.sort_unstable();
                prop_assert!(
                    got.iter().all(|v| want.binary_search(v).is_ok()),
                    "a result not in the serial results"
                );
            }
            case.inputs.settle();
            case.outputs.settle();
            Ok(())
        },
    );
}

/// `imap` over a 1-thread pool consumed on that pool's only worker finishes
/// (the consumer runs pending chunks itself instead of waiting for them).
#[test]
fn imap_consumed_on_the_only_worker_does_not_deadlock() {
    common::watchdog("imap on the only worker", || {
        let pool = pool(1);
        for chunk in [1, 7, 1000] {
            let got: Vec<u64> = pool.install(|| {
                pool.with_chunk_size(chunk)
                    .unwrap()
                    .imap(0..500u64, serial_f)
                    .collect()
            });
            assert_eq!(got, serial(500));
            let mut got: Vec<u64> = pool.install(|| {
                pool.with_chunk_size(chunk)
                    .unwrap()
                    .imap_unordered(0..500u64, serial_f)
                    .collect()
            });
            got.sort_unstable();
            let mut want = serial(500);
            want.sort_unstable();
            assert_eq!(got, want);
        }
    });
}
