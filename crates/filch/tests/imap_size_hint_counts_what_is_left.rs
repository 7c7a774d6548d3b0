//! `imap`'s and `imap_unordered`'s `size_hint`: over an input of known
//! length its lower bound is every result still to come, so `collect` into
//! a `Vec` allocates once; over an input of unknown length it promises only
//! the results at hand, never more than are left.

use filch::Pool;

fn pool() -> Pool {
    Pool::builder().threads(2).build().expect("a 2-thread pool")
}

#[test]
fn over_a_range_the_lower_bound_is_every_result_left() {
    let pool = pool();
    for n in [1u64, 10, 1_000, 100_000] {
        let mut ordered = pool.imap(0..n, |x| x * 2);
        let mut unordered = pool.imap_unordered(0..n, |x| x * 2);
        for taken in 1..=n.min(3) {
            assert!(ordered.next().is_some());
            assert!(unordered.next().is_some());
            let left = (n - taken) as usize;
            assert_eq!(
                ordered.size_hint().0,
                left,
                "imap, {n} items, {taken} taken"
            );
            assert_eq!(
                unordered.size_hint().0,
                left,
                "imap_unordered, {n} items, {taken} taken"
            );
        }
        assert_eq!(ordered.count() as u64, n - n.min(3));
        assert_eq!(unordered.count() as u64, n - n.min(3));
    }
}

#[test]
fn over_an_input_of_unknown_length_the_lower_bound_never_exceeds_what_is_left() {
    let pool = pool();
    let n = 10_000u64;
    // `filter` hides the length: its lower bound is 0.
    let mut it = pool.imap((0..n).filter(|x| x % 3 != 0), |x| x + 1);
    let mut yielded = 0usize;
    let total = (0..n).filter(|x| x % 3 != 0).count();
    loop {
        let (low, _) = it.size_hint();
        assert!(
            low <= total - yielded,
            "promised {low} with {} left",
            total - yielded
        );
        if it.next().is_none() {
            break;
        }
        yielded += 1;
    }
    assert_eq!(yielded, total);
}

#[test]
fn collect_of_a_long_range_allocates_the_exact_length() {
    let pool = pool();
    let out: Vec<u64> = pool.imap(0..200_000u64, |x| x ^ 1).collect();
    assert_eq!(out.len(), 200_000);
    // One allocation of the lower bound plus the first item: no doubling.
    assert!(
        out.capacity() <= 200_000 + 1,
        "capacity {} for 200000 items",
        out.capacity()
    );
}
