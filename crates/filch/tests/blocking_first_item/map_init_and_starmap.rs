//! `map_init` and `starmap` with a blocking first item.

use super::*;

/// A `map_init` state: counts the items it maps and, when dropped, adds
/// them to its call's total (and is itself counted by a ledger).
struct State<'a> {
    uses: usize,
    total: &'a AtomicUsize,
    _token: Tracked,
}

impl Drop for State<'_> {
    fn drop(&mut self) {
        self.total.fetch_add(self.uses, SeqCst);
    }
}

/// `map_init` whose first item blocks until another item has started: the
/// results are right, every item goes through exactly one state, every
/// state is dropped once, and `init` ran at least once.
///
/// (Not asserted: `init` at most once per item. A call whose rest was
/// shared then makes one more state for the items past its size hint,
/// which usually maps nothing, as the probe's shared phase did before: two
/// items can see three `init`s.)
#[test]
fn map_init_with_a_blocking_first_item() {
    watchdog("map_init", || {
        Pools::new().each_case(&[2, 3, 10, 1000], |pool, case| {
            let len = case.len;
            let inputs = Ledger::new("inputs", len);
            let outputs = Ledger::new("outputs", len);
            let states = Ledger::new("states", 4 * len + 8);
            let inits = AtomicUsize::new(0);
            let total = AtomicUsize::new(0);
            let started = AtomicUsize::new(0);
            let shared = AtomicBool::new(false);
            let input = tracked_inputs(&inputs, len);
            let got = call_from(pool, case.from_worker, || {
                pool.map_init(
                    input,
                    || State {
                        uses: 0,
                        total: &total,
                        _token: states.make(inits.fetch_add(1, SeqCst) as u64),
                    },
                    |state: &mut State<'_>, t: Tracked| {
                        state.uses += 1;
                        started.fetch_add(1, SeqCst);
                        if t.value == 0 {
                            shared.store(
                                filch::blocking(|| wait_until(WAIT, || started.load(SeqCst) >= 2)),
                                SeqCst,
                            );
                        }
                        outputs.make(serial_f(t.value))
                    },
                )
            });
            let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
            assert_eq!(values(got), want, "{case}");
            assert!(shared.load(SeqCst), "the rest was not shared: {case}");
            assert!(inits.load(SeqCst) >= 1, "init never ran: {case}");
            assert_eq!(
                total.load(SeqCst),
                len,
                "items mapped through the states: {case}"
            );
            inputs.assert_balanced();
            outputs.assert_balanced();
            states.assert_balanced();
        });
        blocking_still_plain();
    });
}

/// `starmap` with a blocking first item, on arities 2 and 3.
#[test]
fn starmap_with_a_blocking_first_item() {
    watchdog("starmap", || {
        Pools::new().each_case(&[2, 3, 10, 1000], |pool, case| {
            let len = case.len as u64;
            let first_blocks = |a: u64| {
                if a == 0 {
                    filch::blocking(|| thread::sleep(Duration::from_millis(1)));
                }
            };
            let pairs: Vec<(u64, u64)> = (0..len).map(|a| (a, a + 1)).collect();
            let got = call_from(pool, case.from_worker, || {
                pool.starmap(pairs, |a: u64, b: u64| {
                    first_blocks(a);
                    a * b
                })
            });
            let want: Vec<u64> = (0..len).map(|a| a * (a + 1)).collect();
            assert_eq!(got, want, "pairs: {case}");
            let triples: Vec<(u64, u8, String)> = (0..len).map(|a| (a, 1, a.to_string())).collect();
            let got = call_from(pool, case.from_worker, || {
                pool.starmap(triples, |a: u64, b: u8, s: String| {
                    first_blocks(a);
                    format!("{s}:{}", a + u64::from(b))
                })
            });
            let want: Vec<String> = (0..len).map(|a| format!("{a}:{}", a + 1)).collect();
            assert_eq!(got, want, "triples: {case}");
        });
        blocking_still_plain();
    });
}
