//! `try_map` with a blocking first item.

use super::*;

/// Which items of a `try_map` fail.
#[derive(Debug, Clone, Copy)]
enum Fails {
    /// The first item, after blocking while the rest was shared.
    First,
    /// Item `k`, while the first item blocks (it waits for the error).
    Later,
    /// Both: item `k` while the first blocks, then the first.
    Both,
}

/// Property: `try_map` whose blocking first item, or a later item while the
/// first one blocks, or both, return `Err`: the call returns one of those
/// errors (the only one if only one item fails), and every input, output
/// and error is dropped exactly once.
#[test]
fn try_map_errors_with_a_blocking_first_item() {
    let strategy = (
        1..=4usize,
        lengths(),
        0.0..1.0f64,
        masks(),
        any::<bool>(),
        prop_oneof![Just(Fails::First), Just(Fails::Later), Just(Fails::Both)],
    );
    let pools = Pools::new();
    check(
        "try_map with a blocking first item",
        48,
        strategy,
        move |(threads, len, at, mask, from_worker, fails)| {
            let k = (1 + (at * (len - 1) as f64) as usize).min(len - 1);
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let errors = Ledger::new("errors", len);
            let started = AtomicUsize::new(0);
            let failing = AtomicBool::new(false);
            let waited = AtomicBool::new(false);
            let item = |t: Tracked| -> Result<Tracked, (usize, Tracked)> {
                let i = t.value as usize;
                started.fetch_add(1, SeqCst);
                match (i, fails) {
                    (0, Fails::First) => {
                        waited.store(
                            filch::blocking(|| wait_until(WAIT, || started.load(SeqCst) >= 2)),
                            SeqCst,
                        );
                        return Err((0, errors.make(0)));
                    }
                    (0, Fails::Later | Fails::Both) => {
                        waited.store(
                            filch::blocking(|| wait_until(WAIT, || failing.load(SeqCst))),
                            SeqCst,
                        );
                        if let Fails::Both = fails {
                            return Err((0, errors.make(0)));
                        }
                    }
                    (i, Fails::Later | Fails::Both) if i == k => {
                        failing.store(true, SeqCst);
                        return Err((k, errors.make(k as u64)));
                    }
                    _ => {
                        if blocks(mask, i) {
                            filch::blocking(thread::yield_now);
                        }
                    }
                }
                Ok(outputs.make(serial_f(t.value)))
            };
            let input = tracked_inputs(&inputs, len);
            let got = call_from(pool, from_worker, || pool.try_map(input, item));
            let index = match got {
                Ok(_) => panic!("items fail ({fails:?}, k = {k}), yet try_map returned Ok"),
                Err((index, _token)) => index,
            };
            match fails {
                Fails::First => prop_assert_eq!(index, 0),
                Fails::Later => prop_assert_eq!(index, k),
                Fails::Both => prop_assert!(index == 0 || index == k, "error of item {}", index),
            }
            prop_assert!(
                waited.load(SeqCst),
                "the first item waited {:?} for other items in vain ({:?})",
                WAIT,
                fails
            );
            inputs.assert_balanced();
            outputs.assert_balanced();
            errors.assert_balanced();
            blocking_still_plain();
            assert_pool_works(pool);
            Ok(())
        },
    );
}

/// `try_map` whose first item blocks and every item succeeds: all values,
/// in order (the error-free path through the armed first item).
#[test]
fn try_map_with_a_blocking_first_item_succeeds() {
    watchdog("try_map ok", || {
        Pools::new().each_case(&[2, 3, 10, 1000], |pool, case| {
            let len = case.len as u64;
            let got: Result<Vec<u64>, String> = call_from(pool, case.from_worker, || {
                pool.try_map(0..len, |x| {
                    if x == 0 {
                        filch::blocking(|| thread::sleep(Duration::from_millis(1)));
                    }
                    Ok(serial_f(x))
                })
            });
            let want: Vec<u64> = (0..len).map(serial_f).collect();
            assert_eq!(got, Ok(want), "{case}");
        });
        blocking_still_plain();
    });
}
