//! Eight outside threads using one shared pool at once, each mixing `map`,
//! `imap`, `imap_unordered`, `apply_async`, `try_map` and `starmap` with
//! automatic and explicit chunking: every result is exact and nothing hangs.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use common::{pool, serial_f, spin_for, watchdog};

const CALLERS: usize = 8;
const ROUNDS: u64 = 25;

fn serial(from: u64, len: u64) -> Vec<u64> {
    (from..from + len).map(serial_f).collect()
}

/// One caller's rounds; `me` varies the inputs so callers differ.
fn caller(me: u64, start: &Barrier) {
    let pool = pool(4);
    start.wait();
    for round in 0..ROUNDS {
        let base = me * 1_000_000 + round * 1_000;
        let len = 50 + (me * 37 + round * 11) % 700;
        let chunk = 1 + ((me + round) % 9) as usize;
        let chunked = pool.with_chunk_size(chunk).unwrap();

        assert_eq!(
            pool.map(base..base + len, serial_f),
            serial(base, len),
            "map, caller {me} round {round}"
        );
        assert_eq!(
            chunked.map(base..base + len, serial_f),
            serial(base, len),
            "chunked map, caller {me}"
        );
        // Some work heavy enough that automatic chunking goes parallel.
        let heavy: Vec<u64> = pool.map(base..base + 40, |x| {
            spin_for(Duration::from_micros(5));
            serial_f(x)
        });
        assert_eq!(heavy, serial(base, 40), "heavy map, caller {me}");

        let ordered: Vec<u64> = chunked.imap(base..base + len, serial_f).collect();
        assert_eq!(ordered, serial(base, len), "imap, caller {me}");
        let ordered: Vec<u64> = pool.imap(base..base + len, serial_f).collect();
        assert_eq!(ordered, serial(base, len), "auto imap, caller {me}");
        let mut any: Vec<u64> = chunked.imap_unordered(base..base + len, serial_f).collect();
        any.sort_unstable();
        let mut want = serial(base, len);
        want.sort_unstable();
        assert_eq!(any, want, "imap_unordered, caller {me}");

        let handles: Vec<_> = (0..8)
            .map(|i| pool.apply_async(move || serial_f(base + i)))
            .collect();
        let got: Vec<u64> = handles.into_iter().map(|h| h.get()).collect();
        assert_eq!(got, serial(base, 8), "apply_async, caller {me}");

        let ok: Result<Vec<u64>, u64> = chunked.try_map(base..base + len, |x| Ok(serial_f(x)));
        assert_eq!(ok, Ok(serial(base, len)), "try_map Ok, caller {me}");
        let bad = base + len / 2;
        let err: Result<Vec<u64>, u64> =
            pool.try_map(base..base + len, |x| if x == bad { Err(x) } else { Ok(x) });
        assert_eq!(err, Err(bad), "try_map Err, caller {me}");

        let pairs: Vec<(u64, u64)> = (base..base + len).map(|x| (x, 3)).collect();
        let got: Vec<u64> = chunked.starmap(pairs, |x, k| serial_f(x) ^ k);
        let want: Vec<u64> = serial(base, len).into_iter().map(|v| v ^ 3).collect();
        assert_eq!(got, want, "starmap, caller {me}");
    }
}

#[test]
fn eight_outside_threads_share_one_pool_with_exact_results() {
    watchdog("many callers", || {
        let start = Arc::new(Barrier::new(CALLERS));
        let callers: Vec<_> = (0..CALLERS as u64)
            .map(|me| {
                let start = Arc::clone(&start);
                thread::spawn(move || caller(me, &start))
            })
            .collect();
        for (me, handle) in callers.into_iter().enumerate() {
            if let Err(payload) = handle.join() {
                panic!(
                    "caller {me} failed: {}",
                    filch::scheduler::panic_message(&*payload)
                );
            }
        }
    });
}
