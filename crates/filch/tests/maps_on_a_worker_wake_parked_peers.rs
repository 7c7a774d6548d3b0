//! A map made on a worker (inside `install`, inside another map's item,
//! inside `join`) while the pool's other workers are parked wakes them when
//! its work can pay for it, as a map from outside does: its items run on
//! more than one worker. Each input shape the call splits differently is
//! covered: an owned `Vec` (split in place), an integer range (split by
//! index), a slice's iterator (pulled in chunks), an input of unknown
//! length (collected first), and the chunk-size form.

mod common;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use common::{spin_for, watchdog};
use filch::Pool;

/// Items per call, and what each costs: 120 ms in all, so a parked peer
/// has ample time to wake on a loaded machine, and each item alone is far
/// above what makes a call worth sharing.
const ITEMS: usize = 400;
const ITEM: Duration = Duration::from_micros(300);

/// Which workers ran the items of one call.
#[derive(Default)]
struct Seen(Mutex<BTreeSet<usize>>);

impl Seen {
    fn item(&self, x: u64) -> u64 {
        spin_for(ITEM);
        let index = filch::current_thread_index().expect("items run on workers here");
        self.0.lock().unwrap().insert(index);
        x * 2
    }

    fn workers(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A 2-worker pool whose workers have gone to sleep.
fn parked_pool() -> Pool {
    let pool = Pool::builder().threads(2).build().unwrap();
    // Idle workers spin, then yield, then park within milliseconds;
    // give them well over that.
    std::thread::sleep(Duration::from_millis(100));
    pool
}

fn expected() -> Vec<u64> {
    (0..ITEMS as u64).map(|x| x * 2).collect()
}

/// Runs `call` on a worker of a fresh parked pool; asserts the results and
/// that both workers ran items.
fn check(name: &'static str, call: fn(&Pool, &Seen) -> Vec<u64>) {
    watchdog(name, move || {
        let pool = parked_pool();
        let seen = Seen::default();
        let got = call(&pool, &seen);
        assert_eq!(got, expected(), "{name}: results");
        assert_eq!(
            seen.workers(),
            2,
            "{name}: a {ITEMS}-item map of {ITEM:?} items made on a worker ran on one worker only: \
             the parked peer was never woken"
        );
    });
}

#[test]
fn an_owned_vec_inside_install() {
    check("vec in install", |pool, seen| {
        let input: Vec<u64> = (0..ITEMS as u64).collect();
        pool.install(|| pool.map(input, |x| seen.item(x)))
    });
}

#[test]
fn a_range_inside_install() {
    check("range in install", |pool, seen| {
        pool.install(|| pool.map(0..ITEMS as u64, |x| seen.item(x)))
    });
}

#[test]
fn a_slice_inside_join() {
    check("slice in join", |pool, seen| {
        let input: Vec<u64> = (0..ITEMS as u64).collect();
        pool.install(|| filch::join(|| pool.map(&input, |&x| seen.item(x)), || ()).0)
    });
}

#[test]
fn an_input_of_unknown_length_inside_install() {
    check("unknown length in install", |pool, seen| {
        let input = (0..ITEMS as u64).filter(|_| true);
        pool.install(|| pool.map(input, |x| seen.item(x)))
    });
}

#[test]
fn the_chunk_size_form_inside_install() {
    check("chunked in install", |pool, seen| {
        let chunked = pool.with_chunk_size(8).unwrap();
        pool.install(|| chunked.map(0..ITEMS as u64, |x| seen.item(x)))
    });
}

#[test]
fn a_map_nested_in_a_map_item_on_a_worker() {
    check("nested in a map item", |pool, seen| {
        // The outer map has one item, which runs on a worker (inside
        // `install`); the inner map is the big one.
        let mut outer =
            pool.install(|| pool.map(vec![()], |()| pool.map(0..ITEMS as u64, |x| seen.item(x))));
        outer.pop().expect("one outer item")
    });
}
