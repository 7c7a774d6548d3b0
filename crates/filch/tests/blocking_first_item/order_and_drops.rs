//! Order and drops, as a property.

use super::*;

/// Property: with a blocking first item, `map` and `starmap` over random
/// lengths, from outside or from a worker, on 1 to 4 threads, with random
/// other items blocking: the rest runs while the first item blocks, the
/// results are the serial ones in input order, every item runs once, and
/// every input and output is dropped exactly once.
#[test]
fn blocking_first_item_keeps_order_and_drops_exactly_once() {
    let strategy = (1..=4usize, lengths(), masks(), any::<bool>(), any::<bool>());
    let pools = Pools::new();
    check(
        "blocking first item: order and drops",
        48,
        strategy,
        move |(threads, len, mask, from_worker, starmap)| {
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let items = Items::new(mask, true, &outputs);
            let input = tracked_inputs(&inputs, len);
            let buffer = input.as_ptr() as usize;
            let got = call_from(pool, from_worker, || {
                if starmap {
                    let pairs: Vec<(Tracked, u8)> = input.into_iter().map(|t| (t, 1)).collect();
                    pool.starmap(pairs, |t, _: u8| items.run(t))
                } else {
                    pool.map(input, |t| items.run(t))
                }
            });
            if !starmap {
                // Results fit their inputs' slots: mapped in place, even
                // with the rest shared while the first item blocked.
                prop_assert_eq!(got.as_ptr() as usize, buffer, "not mapped in place");
            }
            let got = values(got);
            let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
            prop_assert_eq!(got, want);
            prop_assert!(
                items.shared.load(SeqCst),
                "no other item started within {:?} while the first one blocked",
                WAIT
            );
            prop_assert_eq!(
                items.started.load(SeqCst),
                len,
                "every item runs exactly once"
            );
            prop_assert_eq!(outputs.created(), len);
            inputs.assert_balanced();
            outputs.assert_balanced();
            blocking_still_plain();
            Ok(())
        },
    );
}
