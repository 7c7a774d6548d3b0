//! `partial` and `partial_last` bind the first or last argument of 2- to
//! 6-argument functions, and the bound functions work in `map` (over single
//! items for 2 arguments, over tuples of the rest for 3 to 6); `starmap`
//! spreads tuples of 1 to 6 elements, with automatic and explicit
//! chunking.

mod common;

use common::pool;
use filch::{partial, partial_last};

fn f2(a: i64, b: i64) -> i64 {
    a * 10 + b
}
fn f3(a: i64, b: i64, c: i64) -> i64 {
    f2(a, b) * 10 + c
}
fn f4(a: i64, b: i64, c: i64, d: i64) -> i64 {
    f3(a, b, c) * 10 + d
}
fn f5(a: i64, b: i64, c: i64, d: i64, e: i64) -> i64 {
    f4(a, b, c, d) * 10 + e
}
fn f6(a: i64, b: i64, c: i64, d: i64, e: i64, g: i64) -> i64 {
    f5(a, b, c, d, e) * 10 + g
}

const N: i64 = 300;

fn digit(i: i64) -> i64 {
    i % 10
}

#[test]
fn partial_binds_the_first_argument_of_2_to_6_argument_functions() {
    let pool = pool(3);
    for chunked in [None, Some(7)] {
        let p = |n| pool.with_chunk_size(n).unwrap();
        let xs = || 0..N;
        let want: Vec<i64> = xs().map(|i| f2(9, digit(i))).collect();
        let got: Vec<i64> = match chunked {
            None => pool.map(xs().map(digit), partial(f2, 9)),
            Some(n) => p(n).map(xs().map(digit), partial(f2, 9)),
        };
        assert_eq!(got, want, "f2");

        let t2: Vec<(i64, i64)> = xs().map(|i| (digit(i), digit(i + 1))).collect();
        let want: Vec<i64> = t2.iter().map(|&(b, c)| f3(9, b, c)).collect();
        let got: Vec<i64> = match chunked {
            None => pool.map(t2.clone(), partial(f3, 9)),
            Some(n) => p(n).map(t2.clone(), partial(f3, 9)),
        };
        assert_eq!(got, want, "f3");

        let t3: Vec<(i64, i64, i64)> = xs()
            .map(|i| (digit(i), digit(i + 1), digit(i + 2)))
            .collect();
        let want: Vec<i64> = t3.iter().map(|&(b, c, d)| f4(9, b, c, d)).collect();
        let got: Vec<i64> = match chunked {
            None => pool.map(t3.clone(), partial(f4, 9)),
            Some(n) => p(n).map(t3.clone(), partial(f4, 9)),
        };
        assert_eq!(got, want, "f4");

        let t4: Vec<(i64, i64, i64, i64)> = xs()
            .map(|i| (digit(i), digit(i + 1), digit(i + 2), digit(i + 3)))
            .collect();
        let want: Vec<i64> = t4.iter().map(|&(b, c, d, e)| f5(9, b, c, d, e)).collect();
        let got: Vec<i64> = match chunked {
            None => pool.map(t4.clone(), partial(f5, 9)),
            Some(n) => p(n).map(t4.clone(), partial(f5, 9)),
        };
        assert_eq!(got, want, "f5");

        let t5: Vec<(i64, i64, i64, i64, i64)> = xs()
            .map(|i| {
                (
                    digit(i),
                    digit(i + 1),
                    digit(i + 2),
                    digit(i + 3),
                    digit(i + 4),
                )
            })
            .collect();
        let want: Vec<i64> = t5
            .iter()
            .map(|&(b, c, d, e, g)| f6(9, b, c, d, e, g))
            .collect();
        let got: Vec<i64> = match chunked {
            None => pool.map(t5.clone(), partial(f6, 9)),
            Some(n) => p(n).map(t5.clone(), partial(f6, 9)),
        };
        assert_eq!(got, want, "f6");
    }
}

#[test]
fn partial_last_binds_the_last_argument_of_2_to_6_argument_functions() {
    let pool = pool(2);
    let xs = || 0..N;
    let got: Vec<i64> = pool.map(xs().map(digit), partial_last(f2, 9));
    assert_eq!(got, xs().map(|i| f2(digit(i), 9)).collect::<Vec<_>>(), "f2");

    let t2: Vec<(i64, i64)> = xs().map(|i| (digit(i), digit(i + 1))).collect();
    let got: Vec<i64> = pool
        .with_chunk_size(5)
        .unwrap()
        .map(t2.clone(), partial_last(f3, 9));
    assert_eq!(
        got,
        t2.iter().map(|&(a, b)| f3(a, b, 9)).collect::<Vec<_>>(),
        "f3"
    );

    let t3: Vec<(i64, i64, i64)> = xs()
        .map(|i| (digit(i), digit(i + 1), digit(i + 2)))
        .collect();
    let got: Vec<i64> = pool.map(t3.clone(), partial_last(f4, 9));
    assert_eq!(
        got,
        t3.iter()
            .map(|&(a, b, c)| f4(a, b, c, 9))
            .collect::<Vec<_>>(),
        "f4"
    );

    let t4: Vec<(i64, i64, i64, i64)> = xs()
        .map(|i| (digit(i), digit(i + 1), digit(i + 2), digit(i + 3)))
        .collect();
    let got: Vec<i64> = pool
        .with_chunk_size(1)
        .unwrap()
        .map(t4.clone(), partial_last(f5, 9));
    assert_eq!(
        got,
        t4.iter()
            .map(|&(a, b, c, d)| f5(a, b, c, d, 9))
            .collect::<Vec<_>>(),
        "f5"
    );

    let t5: Vec<(i64, i64, i64, i64, i64)> = xs()
        .map(|i| {
            (
                digit(i),
                digit(i + 1),
                digit(i + 2),
                digit(i + 3),
                digit(i + 4),
            )
        })
        .collect();
    let got: Vec<i64> = pool.map(t5.clone(), partial_last(f6, 9));
    assert_eq!(
        got,
        t5.iter()
            .map(|&(a, b, c, d, e)| f6(a, b, c, d, e, 9))
            .collect::<Vec<_>>(),
        "f6"
    );
}

/// A bound value that is not `Copy` is cloned per call, and partial of a
/// closure works like partial of a fn.
#[test]
fn partial_clones_the_bound_value_per_call() {
    let pool = pool(4);
    let prefix = String::from("item-");
    let got: Vec<String> = pool.with_chunk_size(3).unwrap().map(
        0..50,
        partial(|p: String, i: i32| format!("{p}{i}"), prefix),
    );
    let want: Vec<String> = (0..50).map(|i| format!("item-{i}")).collect();
    assert_eq!(got, want);
}

#[test]
fn starmap_spreads_tuples_of_1_to_6_elements() {
    let pool = pool(3);
    for chunk in [None, Some(1), Some(16)] {
        macro_rules! check {
            ($items:expr, $f:expr, $what:literal) => {{
                let items: Vec<_> = $items;
                let want: Vec<i64> = items
                    .clone()
                    .into_iter()
                    .map(|t| filch::Unpack::call(t, &$f))
                    .collect();
                let got: Vec<i64> = match chunk {
                    None => pool.starmap(items, $f),
                    Some(n) => pool.with_chunk_size(n).unwrap().starmap(items, $f),
                };
                assert_eq!(got, want, "{} with chunk {:?}", $what, chunk);
            }};
        }
        let xs = || 0..N;
        check!(xs().map(|i| (i,)).collect(), |a: i64| a * 3, "1-tuples");
        check!(
            xs().map(|i| (i, 1)).collect(),
            |a: i64, b: i64| a - b,
            "2-tuples"
        );
        check!(
            xs().map(|i| (i, 1, 2)).collect(),
            |a: i64, b: i64, c: i64| a * b + c,
            "3-tuples"
        );
        check!(xs().map(|i| (digit(i), 1, 2, 3)).collect(), f4, "4-tuples");
        check!(
            xs().map(|i| (digit(i), 1, 2, 3, 4)).collect(),
            f5,
            "5-tuples"
        );
        check!(
            xs().map(|i| (digit(i), 1, 2, 3, 4, 5)).collect(),
            f6,
            "6-tuples"
        );
        // One value worked out by hand, not by `Unpack`.
        let got: Vec<i64> = pool.starmap(
            xs().map(|i| (digit(i), 1, 2, 3, 4, 5)).collect::<Vec<_>>(),
            f6,
        );
        assert_eq!(got[7], 712_345);
    }
}
