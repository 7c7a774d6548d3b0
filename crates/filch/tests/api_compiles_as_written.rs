//! The calls the combinators promise "compile in user code as written",
//! verbatim, each checked against its expected result.

use filch::{partial, partial_last, Pool};

fn g(a: i32, b: i32) -> i32 {
    a + b
}

fn sub(a: i32, b: i32) -> i32 {
    a - b
}

fn f3(a: i32, b: i32, c: i32) -> i32 {
    a * 100 + b * 10 + c
}

#[test]
// `|x| Ok(x)` is how a user writes it, kept verbatim on purpose.
#[allow(clippy::redundant_closure)]
fn the_promised_calls_compile_and_give_the_python_results() -> Result<(), filch::BuildError> {
    let pool = Pool::new();
    assert!(pool.threads() >= 1);
    let pool = Pool::builder().threads(4).build()?;
    let sq: Vec<u64> = pool.map(0..100u64, |x| x * x);
    assert_eq!(sq[99], 9801);
    let s: Vec<i32> = pool.starmap(vec![(1, 2), (3, 4)], |a, b| a + b);
    assert_eq!(s, [3, 7]);
    let r: Vec<i32> = pool.map(0..3, partial(g, 2));
    assert_eq!(r, [2, 3, 4]);
    let r: Vec<i32> = pool.map(0..3, partial_last(sub, 3));
    assert_eq!(r, [-3, -2, -1]);
    let r: Vec<i32> = pool.map(vec![(1, 2), (3, 4)], partial(f3, 9));
    assert_eq!(r, [912, 934]);
    let first: Vec<u64> = pool.imap(0u64.., |x| x * 2).take(10).collect();
    assert_eq!(first, (0..10).map(|x| x * 2).collect::<Vec<u64>>());
    let mut any: Vec<u64> = pool.imap_unordered(0..100u64, |x| x).collect();
    any.sort_unstable();
    assert_eq!(any, (0..100).collect::<Vec<u64>>());
    let h = pool.apply_async(|| 6 * 7);
    assert_eq!(h.get(), 42);
    let (a, b) = pool.join(|| 1, || 2);
    assert_eq!((a, b), (1, 2));
    let mut borrowed = 0;
    pool.scope(|s| {
        s.spawn(|_| borrowed = 5);
    });
    assert_eq!(borrowed, 5);
    let total: u64 = pool.install(|| filch::join(|| 1u64, || 2u64)).0;
    assert_eq!(total, 1);
    let ok: Result<Vec<u32>, String> = pool.try_map(0..10u32, |x| Ok(x));
    assert_eq!(ok, Ok((0..10).collect()));
    let v: Vec<u64> = pool.map_init(
        0..100u64,
        || 0u64,
        |state, x| {
            *state += 1;
            x
        },
    );
    assert_eq!(v, (0..100).collect::<Vec<u64>>());
    let v: Vec<u64> = filch::map(0..100u64, |x| x + 1);
    assert_eq!(v, (1..=100).collect::<Vec<u64>>());
    Ok(())
}
