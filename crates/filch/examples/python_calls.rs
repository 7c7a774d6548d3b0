//! The `multiprocessing.Pool` calls of four Python blog posts on it, each beside its filch
//! equivalent and its result: `Pool(n).map`, `chunksize`, `starmap`, `functools.partial`
//! (positional and keyword, and the `partial(sub, a=2)` that Python rejects), `imap`,
//! `imap_unordered`, `ProcessPoolExecutor.map`, and sleeping items.
//!
//! What the calls cost against a plain loop, rayon and plain threads is the job of the bench:
//! `cargo run --release -p filch-bench --example seed_000_map` (and `seed_001_small_vs_heavy`,
//! `seed_002_starmap_partial`, `seed_003_sleeping_items`) time each post's experiment.
//!
//! ```sh
//! cargo run --release --example python_calls
//! ```

use std::time::Duration;

use filch::{partial, partial_last, Pool};

/// Seed 000's `computation(z)`.
fn computation(z: u64) -> f64 {
    let x = (z as f64).powi(2) + 0.5;
    let y = x.powi(2) + 0.6;
    y.powi(2) + 0.7
}

/// Seed 002's `g(a, b)`.
fn g(a: i64, b: i64) -> i64 {
    a + b
}

/// Seed 002's `sub(a, b)`.
fn sub(a: i64, b: i64) -> i64 {
    a - b
}

/// Seed 002's dict `{'a': 1, 'b': 2}`: in Rust, a struct with named fields.
#[derive(Clone, Copy, Debug)]
struct Args {
    a: i64,
    b: i64,
}

/// Seed 002's wrapper `h(args)`, unpacking the "dict" for `g`.
fn h(args: Args) -> i64 {
    g(args.a, args.b)
}

/// Seed 003's item: square, sleep, name the parity of the square.
fn multiprocessing_func(x: u64) -> &'static str {
    let y = x * x;
    std::thread::sleep(Duration::from_millis(20));
    match y {
        0 => "zero",
        y if y % 2 == 0 => "even",
        _ => "odd",
    }
}

fn main() {
    let pool = Pool::builder()
        .threads(2)
        .build()
        .expect("could not start the pool");
    let show = |python: &str, filch: &str, result: &dyn std::fmt::Debug| {
        println!("{python:<40} -> {filch:<48} = {result:?}");
    };

    // Seed 000: with Pool(4) as p: p.map(computation, range(10)).
    let ret = pool.map(0..10, computation);
    show(
        "p.map(computation, range(10))",
        "pool.map(0..10, computation)",
        &ret[..3].to_vec(),
    );
    let twelve = Pool::builder().threads(12).build().expect("12 threads");
    let squares = twelve.map(vec![3i64, 1, 4], |x| x * x);
    show(
        "Pool(12).map(f, [3, 1, 4])",
        "twelve.map(vec![3, 1, 4], f)",
        &squares,
    );
    assert_eq!(squares, [9, 1, 16]);

    // Seed 002: pool.map(h, [{'a':1, 'b':2}, {'a':3, 'b':4}], chunksize=1)
    let dicts = vec![Args { a: 1, b: 2 }, Args { a: 3, b: 4 }];
    let chunked = pool.with_chunk_size(1).expect("1 is a valid chunk size");
    let ret: Vec<i64> = chunked.map(dicts.clone(), h);
    show(
        "pool.map(h, dicts, chunksize=1)",
        "pool.with_chunk_size(1)?.map(structs, h)",
        &ret,
    );
    assert_eq!(ret, [3, 7]);

    let ret: Vec<i64> = pool.starmap(vec![(1, 2), (3, 4)], g);
    show(
        "pool.starmap(g, [(1, 2), (3, 4)])",
        "pool.starmap(vec![(1, 2), (3, 4)], g)",
        &ret,
    );
    assert_eq!(ret, [3, 7]);

    let ret: Vec<i64> = pool.map(0..3, partial(g, 2));
    show(
        "pool.map(partial(g, 2), range(3))",
        "pool.map(0..3, partial(g, 2))",
        &ret,
    );
    assert_eq!(ret, [2, 3, 4]);

    let ret: Vec<i64> = pool.map(0..3, partial_last(g, 3));
    show(
        "pool.map(partial(g, b=3), range(3))",
        "pool.map(0..3, partial_last(g, 3))",
        &ret,
    );
    assert_eq!(ret, [3, 4, 5]);

    // pool.map(partial(sub, a=2), range(3)) is a TypeError in Python: "sub() got multiple
    // values for argument 'a'". Positional binding has no such trap.
    let ret: Vec<i64> = pool.map(0..3, partial(sub, 2));
    show(
        "pool.map(partial(sub, a=2), range(3))",
        "pool.map(0..3, partial(sub, 2))",
        &ret,
    );
    assert_eq!(ret, pool.map(0..3, |b| sub(2, b)));

    let ret: Vec<i64> = pool.imap(dicts, h).collect();
    show(
        "list(pool.imap(h, dicts))",
        "pool.imap(structs, h).collect()",
        &ret,
    );
    assert_eq!(ret, [3, 7]);

    let mut ret: Vec<i64> = pool.imap_unordered(0..10, partial(g, 100)).collect();
    ret.sort_unstable();
    show(
        "sorted(pool.imap_unordered(..))",
        "pool.imap_unordered(0..10, partial(g, 100))",
        &ret,
    );
    assert_eq!(ret, (100..110).collect::<Vec<_>>());

    // ProcessPoolExecutor().map(f, range(3)) submits every item at once; filch's imap reads
    // its input only a bounded distance ahead, so an endless input works.
    let ret: Vec<u64> = pool.imap(0u64.., |x| x * x).take(3).collect();
    show(
        "executor.map(f, range(3))",
        "pool.imap(0u64.., f).take(3) (lazy)",
        &ret,
    );
    assert_eq!(ret, [0, 1, 4]);

    // Seed 003: p.map(multiprocessing_func, range(10)). A sleeping item holds its worker;
    // wrapped in filch::blocking, a spare thread stands in for it meanwhile.
    let marked = |x: u64| filch::blocking(|| multiprocessing_func(x));
    let ret = pool.map(0..10, marked);
    show(
        "p.map(multiprocessing_func, range(10))",
        "pool.map(0..10, |x| filch::blocking(..))",
        &ret[..4].to_vec(),
    );
    assert_eq!(ret[..4], ["zero", "odd", "even", "odd"]);
}
