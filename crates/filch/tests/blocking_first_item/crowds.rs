//! Concurrency and depth: many callers at once, maps nested deep.

use super::*;

/// Several threads call `map` on one 2-thread pool at once, every call's
/// first item blocking. In the first rounds all calls come from outside
/// and each first item waits until another item of its own call has
/// started: every call is shared while its first item blocks. In the later
/// rounds half the calls are made on a worker and first items block only
/// briefly (a worker that owns a call waits for its helpers without being
/// counted as blocked, see the nesting test). Always: results right and
/// every value dropped exactly once.
#[test]
fn concurrent_callers_with_blocking_first_items() {
    watchdog("concurrent callers", || {
        let pool = fresh_pool(2, None);
        for round in 0..4u64 {
            let mixed = round >= 2;
            thread::scope(|s| {
                for caller in 0..6u64 {
                    let pool = &pool;
                    s.spawn(move || {
                        let len = 2 + ((caller * 7 + round * 13) % 60) as usize;
                        let inputs = Ledger::new("inputs", len);
                        let outputs = Ledger::new("outputs", len);
                        let items = Items::new(
                            caller.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ round,
                            !mixed,
                            &outputs,
                        );
                        let input = tracked_inputs(&inputs, len);
                        let got = call_from(pool, mixed && caller % 2 == 1, || {
                            pool.map(input, |t| items.run(t))
                        });
                        let want: Vec<u64> = (0..len as u64).map(serial_f).collect();
                        assert_eq!(values(got), want, "caller {caller}, round {round}");
                        assert!(
                            items.shared.load(SeqCst),
                            "caller {caller}, round {round}: the rest was not shared"
                        );
                        inputs.assert_balanced();
                        outputs.assert_balanced();
                        blocking_still_plain();
                    });
                }
            });
        }
        assert_pool_works(&pool);
    });
}

/// Maps nested four deep (from outside and from a worker), the first item
/// of every call blocking briefly before it calls the next level: results
/// right, no hang.
#[test]
fn deeply_nested_blocking_first_items() {
    fn level(pool: &Pool, depth: u32, free: bool) -> u64 {
        if depth == 0 {
            return 1;
        }
        let f = |i: u64| {
            if i == 0 {
                filch::blocking(|| thread::sleep(Duration::from_micros(300)));
            }
            level(pool, depth - 1, free)
        };
        let got = if free {
            filch::map(0..3u64, f)
        } else {
            pool.map(0..3u64, f)
        };
        got.iter().sum()
    }
    watchdog("deep nesting", || {
        let pools = Pools::new();
        for threads in [1, 2, 4] {
            let pool = pools.get(threads);
            for from_worker in [false, true] {
                for free in [false, true] {
                    let got = call_from(pool, from_worker, || level(pool, 4, free));
                    assert_eq!(got, 81, "{threads} threads, from_worker {from_worker}");
                }
            }
        }
        blocking_still_plain();
    });
}
