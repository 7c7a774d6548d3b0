//! Small pools and pools without spares.

use super::*;

/// A 1-thread pool, and pools with no spare threads: items that block
/// (the first one longer) still finish with the right results, from outside
/// and from a worker, for `map`, `try_map` and `map_init`.
#[test]
fn small_pools_and_no_spares_do_not_deadlock() {
    watchdog("small pools", || {
        let configs = [(1, None), (1, Some(0)), (2, Some(0)), (3, Some(0))];
        for (threads, spares) in configs {
            let pool = fresh_pool(threads, spares);
            for from_worker in [false, true] {
                for len in [2u64, 3, 10, 100] {
                    let item = |x: u64| {
                        let time = if x == 0 { 2000 } else { 20 };
                        filch::blocking(|| thread::sleep(Duration::from_micros(time)));
                        serial_f(x)
                    };
                    let want: Vec<u64> = (0..len).map(serial_f).collect();
                    let case = format!(
                        "{threads} threads, spares {spares:?}, from_worker {from_worker}, len {len}"
                    );
                    let got = call_from(&pool, from_worker, || pool.map(0..len, item));
                    assert_eq!(got, want, "map: {case}");
                    let got: Result<Vec<u64>, ()> =
                        call_from(&pool, from_worker, || pool.try_map(0..len, |x| Ok(item(x))));
                    assert_eq!(got, Ok(want.clone()), "try_map: {case}");
                    let got = call_from(&pool, from_worker, || {
                        pool.map_init(0..len, || 0u64, |_: &mut u64, x| item(x))
                    });
                    assert_eq!(got, want, "map_init: {case}");
                }
            }
            assert_pool_works(&pool);
        }
        blocking_still_plain();
    });
}
