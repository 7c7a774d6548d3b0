//! Inputs of unknown or misreported length.

use super::*;

/// An input of unknown length (`filter`) is not armed; with a blocking
/// first item (and blocking others) the results are still right.
#[test]
fn unknown_length_with_a_blocking_first_item() {
    watchdog("unknown length", || {
        let pools = Pools::new();
        for threads in [1, 2, 4] {
            for from_worker in [false, true] {
                for len in [1u64, 2, 10, 200] {
                    let pool = pools.get(threads);
                    let got = call_from(pool, from_worker, || {
                        pool.map((0..len).filter(|_| true), |x| {
                            let time = if x == 0 { 2000 } else { 20 };
                            filch::blocking(|| thread::sleep(Duration::from_micros(time)));
                            serial_f(x)
                        })
                    });
                    let want: Vec<u64> = (0..len).map(serial_f).collect();
                    assert_eq!(got, want, "{threads} threads, len {len}");
                }
            }
        }
        blocking_still_plain();
    });
}

/// An iterator whose size hint claims an exact length that is wrong: it
/// yields `items` but says `claimed` (counting down as it goes).
struct Misreported {
    items: std::vec::IntoIter<Tracked>,
    claimed: usize,
}

impl Iterator for Misreported {
    type Item = Tracked;

    fn next(&mut self) -> Option<Tracked> {
        let next = self.items.next();
        if next.is_some() {
            self.claimed = self.claimed.saturating_sub(1);
        }
        next
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claimed, Some(self.claimed))
    }
}

/// Property: an input whose exact size hint is too short or too long, with
/// a blocking first item (so the shared rest is sized by the hint): every
/// item is mapped once, in order, and dropped once.
#[test]
fn misreported_length_with_a_blocking_first_item() {
    let strategy = (1..=4usize, 2..200usize, 2..400usize, masks(), any::<bool>());
    let pools = Pools::new();
    check(
        "misreported length",
        48,
        strategy,
        move |(threads, len, claimed, mask, from_worker)| {
            let pool = pools.get(threads);
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let items = Items::new(mask, true, &outputs);
            let input = Misreported {
                items: tracked_inputs(&inputs, len).into_iter(),
                claimed,
            };
            let got = call_from(pool, from_worker, || pool.map(input, |t| items.run(t)));
            let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
            prop_assert_eq!(values(got), want);
            prop_assert_eq!(
                items.started.load(SeqCst),
                len,
                "every item runs exactly once"
            );
            prop_assert!(items.shared.load(SeqCst), "the rest was not shared");
            inputs.assert_balanced();
            outputs.assert_balanced();
            Ok(())
        },
    );
}
