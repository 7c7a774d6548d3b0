//! Fault injection for `imap` and `imap_unordered`: a panic at random items,
//! under random thread counts, chunk sizes and consumers, is resumed at
//! `next()` with its original payload, the iterator then ends, every value
//! is dropped exactly once (once background chunks finish), nothing hangs,
//! and the pool works afterwards.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::{
    assert_pool_works, boom, boom_index, catch, check, pool, quiet_injected_panics, serial_f,
    shapes, tracked_inputs, Ledger, Tracked,
};
use proptest::prelude::*;

/// What iterating to the end saw.
#[derive(Debug)]
struct Seen {
    yielded: Vec<u64>,
    /// The panic's item index, if `next()` panicked.
    panic: Option<usize>,
    /// Whether `next()` after the panic returned `None`, as documented.
    ended_after_panic: bool,
}

/// Property: iterating `imap` (or `imap_unordered`) whose function panics at
/// some items yields only correct results, then resumes a panic whose
/// payload is an injected one: for `imap` exactly the first panicking item
/// in input order, after every result before it (all of the serial results
/// before that item, none thrown away with its chunk); then `next()`
/// returns `None`.
#[test]
fn a_panic_in_f_is_resumed_at_next_with_its_payload() {
    quiet_injected_panics();
    let strategy = (
        shapes(),
        prop::collection::vec(0.0..1.0f64, 1..4),
        any::<bool>(),
    );
    check(
        "imap panics",
        384,
        strategy,
        |(shape, fractions, ordered)| {
            let panics: BTreeSet<u64> = fractions
                .iter()
                .map(|f| (f * shape.len as f64) as u64)
                .filter(|&i| (i as usize) < shape.len)
                .collect();
            let inputs = Ledger::new("inputs", shape.len);
            let outputs = Ledger::new("outputs", shape.len);
            let f = {
                let (outputs, panics, shape) =
                    (Arc::clone(&outputs), panics.clone(), shape.clone());
                move |t: Tracked| {
                    shape.work();
                    if panics.contains(&t.value) {
                        boom(t.value as usize);
                    }
                    outputs.make(serial_f(t.value))
                }
            };
            let pool = pool(shape.threads);
            let input = shape.input(tracked_inputs(&inputs, shape.len));
            let seen = shape.call(|| {
                let mut iter: Box<dyn Iterator<Item = Tracked>> = match (shape.chunk, ordered) {
                    (None, true) => Box::new(pool.imap(input, f)),
                    (None, false) => Box::new(pool.imap_unordered(input, f)),
                    (Some(c), true) => Box::new(pool.with_chunk_size(c).unwrap().imap(input, f)),
                    (Some(c), false) => {
                        Box::new(pool.with_chunk_size(c).unwrap().imap_unordered(input, f))
                    }
                };
                let mut seen = Seen {
                    yielded: Vec::new(),
                    panic: None,
                    ended_after_panic: false,
                };
                loop {
                    match catch(|| iter.next()) {
                        Ok(Some(t)) => seen.yielded.push(t.value),
                        Ok(None) => break,
                        Err(payload) => {
                            seen.panic = Some(boom_index(&*payload));
                            seen.ended_after_panic = matches!(catch(|| iter.next()), Ok(None));
                            break;
                        }
                    }
                }
                seen
            });
            match seen.panic {
                None => {
                    prop_assert!(
                        panics.is_empty(),
                        "no panic although items {panics:?} panic"
                    );
                    let mut want: Vec<u64> = (0..shape.len as u64).map(serial_f).collect();
                    let mut got = seen.yielded;
                    if !ordered {
                        want.sort_unstable();
                        got.sort_unstable();
                    }
                    prop_assert_eq!(got, want);
                }
                Some(index) => {
                    prop_assert!(
                        seen.ended_after_panic,
                        "next() after the panic did not return None"
                    );
                    if ordered {
                        let first = *panics.first().expect("a panic happened") as usize;
                        prop_assert_eq!(index, first, "imap resumed a later item's panic");
                        prop_assert_eq!(
                            seen.yielded.len(),
                            first,
                            "imap held back a result computed before the panic"
                        );
                        let prefix: Vec<u64> =
                            (0..seen.yielded.len() as u64).map(serial_f).collect();
                        prop_assert_eq!(&seen.yielded, &prefix);
                    } else {
                        prop_assert!(
                            panics.contains(&(index as u64)),
                            "payload Boom({index}) not injected"
                        );
                        let allowed: BTreeSet<u64> = (0..shape.len as u64)
                            .filter(|i| !panics.contains(i))
                            .map(serial_f)
                            .collect();
                        let distinct: BTreeSet<u64> = seen.yielded.iter().copied().collect();
                        prop_assert_eq!(
                            distinct.len(),
                            seen.yielded.len(),
                            "a result was yielded twice"
                        );
                        prop_assert!(
                            distinct.is_subset(&allowed),
                            "a result that is not a serial result"
                        );
                    }
                }
            }
            inputs.settle();
            outputs.settle();
            assert_pool_works(pool);
            Ok(())
        },
    );
}
