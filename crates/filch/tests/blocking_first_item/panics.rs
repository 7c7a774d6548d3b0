//! Panics of the first item after it blocked, and of a helper while it blocks.

use super::*;

/// Where the first item panics.
#[derive(Debug, Clone, Copy)]
enum FirstPanics {
    /// Inside its `blocking` closure, after the rest was shared.
    InsideBlocking,
    /// After `blocking` returned.
    AfterBlocking,
}

/// Property: the first item panics after entering `blocking` (so the rest
/// has been shared and other items have started): its payload reaches the
/// caller, every input and every output made is dropped exactly once, and
/// the pool then maps correctly.
#[test]
fn a_panic_of_the_blocked_first_item_reaches_the_caller() {
    quiet_injected_panics();
    let strategy = (
        1..=4usize,
        lengths(),
        masks(),
        any::<bool>(),
        prop_oneof![
            Just(FirstPanics::InsideBlocking),
            Just(FirstPanics::AfterBlocking)
        ],
    );
    let pools = Pools::new();
    check(
        "blocked first item panics",
        40,
        strategy,
        move |(threads, len, mask, from_worker, where_)| {
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let started = AtomicUsize::new(0);
            let shared = AtomicBool::new(false);
            let message = format!("{INJECTED}: first item, {where_:?}");
            let item = |t: Tracked| {
                let i = t.value as usize;
                started.fetch_add(1, SeqCst);
                if i == 0 {
                    filch::blocking(|| {
                        shared.store(wait_until(WAIT, || started.load(SeqCst) >= 2), SeqCst);
                        if let FirstPanics::InsideBlocking = where_ {
                            panic!("{message}");
                        }
                    });
                    panic!("{message}");
                } else if blocks(mask, i) {
                    filch::blocking(thread::yield_now);
                }
                outputs.make(serial_f(t.value))
            };
            let input = tracked_inputs(&inputs, len);
            let caught = catch(|| call_from(pool, from_worker, || pool.map(input, item)));
            let payload = match caught {
                Ok(_) => panic!("the first item panicked, yet map returned"),
                Err(payload) => payload,
            };
            prop_assert_eq!(filch::scheduler::panic_message(&*payload), message.as_str());
            prop_assert!(shared.load(SeqCst), "the rest was not shared");
            inputs.assert_balanced();
            outputs.assert_balanced();
            blocking_still_plain();
            assert_pool_works(pool);
            Ok(())
        },
    );
}

/// Property: a later item, run by a helper, panics while the first item is
/// still blocked (it waits in `blocking` until the panic has started). The
/// helper's payload reaches the caller (if the first item then panics too,
/// one of the two), with exact drops; the pool works afterwards.
#[test]
fn a_panic_of_a_helper_while_the_first_item_blocks_reaches_the_caller() {
    quiet_injected_panics();
    let strategy = (
        1..=4usize,
        lengths(),
        0.0..1.0f64,
        masks(),
        any::<bool>(),
        any::<bool>(),
    );
    let pools = Pools::new();
    check(
        "helper panics while first item blocks",
        40,
        strategy,
        move |(threads, len, at, mask, from_worker, first_too)| {
            let k = 1 + (at * (len - 1) as f64) as usize;
            let k = k.min(len - 1);
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let panicking = AtomicBool::new(false);
            let saw_it = AtomicBool::new(false);
            let item = |t: Tracked| {
                let i = t.value as usize;
                if i == 0 {
                    let seen = filch::blocking(|| wait_until(WAIT, || panicking.load(SeqCst)));
                    saw_it.store(seen, SeqCst);
                    if first_too {
                        boom(0);
                    }
                } else if i == k {
                    panicking.store(true, SeqCst);
                    boom(k);
                } else if blocks(mask, i) {
                    filch::blocking(thread::yield_now);
                }
                outputs.make(serial_f(t.value))
            };
            let input = tracked_inputs(&inputs, len);
            let caught = catch(|| call_from(pool, from_worker, || pool.map(input, item)));
            let payload = match caught {
                Ok(_) => panic!("item {k} panicked, yet map returned"),
                Err(payload) => payload,
            };
            let index = boom_index(&*payload);
            prop_assert!(
                index == k || (first_too && index == 0),
                "payload Boom({}), expected Boom({}){}",
                index,
                k,
                if first_too { " or Boom(0)" } else { "" }
            );
            prop_assert!(
                saw_it.load(SeqCst),
                "item {} did not run while the first item blocked",
                k
            );
            inputs.assert_balanced();
            outputs.assert_balanced();
            blocking_still_plain();
            assert_pool_works(pool);
            Ok(())
        },
    );
}
