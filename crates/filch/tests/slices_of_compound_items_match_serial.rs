//! Property: a map or a `for_each` over a slice of pairs, small arrays or
//! strings (the compound element types `map` splits by index where they
//! lie) gives exactly what a serial loop gives, from outside the pool and
//! on one of its workers, for any length and thread count.

use proptest::prelude::*;

fn pool(threads: usize) -> filch::Pool {
    filch::Pool::builder().threads(threads).build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn maps_over_slices_of_compound_items_equal_serial(
        len in 0usize..200_000,
        threads in 1usize..=3,
        on_worker in any::<bool>(),
    ) {
        let pool = pool(threads);
        let pairs: Vec<(u64, f64)> = (0..len as u64).map(|i| (i, i as f64 * 0.5)).collect();
        let points: Vec<[f64; 3]> = (0..len).map(|i| [i as f64, 1.0, -(i as f64)]).collect();
        let words: Vec<String> = (0..len.min(5_000)).map(|i| format!("w{i}")).collect();
        let run = |f: &(dyn Fn() -> (Vec<f64>, Vec<f64>, Vec<usize>) + Sync)| {
            if on_worker { pool.install(f) } else { f() }
        };
        let (a, b, c) = run(&|| {
            (
                pool.map(&pairs, |&(i, x)| i as f64 + x),
                pool.map(points.iter(), |p| p[0] + p[1] * p[2]),
                pool.map(&words, |w| w.len()),
            )
        });
        let want_a: Vec<f64> = pairs.iter().map(|&(i, x)| i as f64 + x).collect();
        let want_b: Vec<f64> = points.iter().map(|p| p[0] + p[1] * p[2]).collect();
        let want_c: Vec<usize> = words.iter().map(|w| w.len()).collect();
        prop_assert_eq!(a, want_a);
        prop_assert_eq!(b, want_b);
        prop_assert_eq!(c, want_c);
    }

    #[test]
    fn for_each_over_mut_slices_of_pairs_writes_every_item_once(
        len in 0usize..200_000,
        threads in 1usize..=3,
    ) {
        let pool = pool(threads);
        let mut pairs: Vec<(u32, u32)> = (0..len as u32).map(|i| (i, 0)).collect();
        pool.for_each(&mut pairs, |p| p.1 += p.0 + 1);
        prop_assert!(pairs.iter().all(|&(i, v)| v == i + 1));
    }
}
