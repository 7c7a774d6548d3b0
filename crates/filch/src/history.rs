//! What the previous calls from the same call site measured: how long
//! their first items took, and whether the items the calling thread ran
//! made parallel calls of their own. Kept per calling thread, in small
//! tables indexed by the call site; lets a call from outside the pool share
//! its rest *before* its own first item runs, when the last two calls'
//! first items were long, or hand the whole call to the pool when those
//! items also nested (`driver.rs`, `heavy_to_engine`).
//!
//! Why: the probe decides nothing before the first item returns, so ten
//! 100 µs items on two threads took at least six item-times (the first
//! alone, then nine on two threads): at most 1.67x, against the 1.8x target
//! for any call of 1 ms or more. Asking the helpers first lets them start
//! while the first item runs. The cost of a wrong guess is one helper
//! wake-up (a few µs) on a call whose site last had a first item of at
//! least `probe::SHARE_AT_ONCE_FIRST_NS`: a fraction of that item, and
//! corrected by the guessing call's own record. Two calls, not one: a first
//! item that merely looked long because the OS preempted its thread (a
//! timer tick in a 100 ns item) must not cost the next call a wake-up too.
//!
//! A *site* is the monomorphised driver of the call (`drive::<..>` for
//! `map` and its kin, `imap`'s `run_chunk::<..>` for `imap` and
//! `imap_unordered`), so two closures with the same code may share an
//! entry: a collision only costs a guess. No atomics: the table is this
//! thread's.

use std::cell::Cell;

/// Entries in the table (a power of two); sites that collide in it
/// overwrite each other.
const SLOTS: usize = 64;
const _: () = assert!(SLOTS.is_power_of_two());

/// `(site key, ticks of its last two first items)`; key 0 is an empty slot.
type Entry = (usize, [u64; 2]);

thread_local! {
    static LAST_FIRST_ITEM: [Cell<Entry>; SLOTS] =
        const { [const { Cell::new((0, [0; 2])) }; SLOTS] };
    /// `(site key, whether the items its last call ran on this thread made
    /// parallel calls of their own)` (`driver.rs`, `NestWatch`).
    static NESTS: [Cell<(usize, bool)>; SLOTS] =
        const { [const { Cell::new((0, false)) }; SLOTS] };
}

/// A call site (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Site(usize);

impl Site {
    /// The site whose key is `key`, an address unique to the call site's
    /// code (never 0 for a function's address).
    #[inline]
    pub(crate) fn new(key: usize) -> Site {
        Site(key)
    }

    fn slot(self) -> usize {
        // Functions are at least 16-byte aligned in practice: drop the low
        // bits, then mix so that neighbouring functions spread.
        let mixed = (self.0 as u64 >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (mixed >> (64 - SLOTS.trailing_zeros())) as usize
    }

    /// The shorter of this site's last two first items on this thread, in
    /// ticks; `None` before two were recorded.
    #[inline]
    pub(crate) fn last_first_item(self) -> Option<u64> {
        let (key, [last, before]) = LAST_FIRST_ITEM.with(|table| table[self.slot()].get());
        (key == self.0 && before != 0).then_some(last.min(before))
    }

    /// Whether the items this site's last call ran on this thread made
    /// parallel calls of their own.
    #[inline]
    pub(crate) fn nests(self) -> bool {
        let (key, nests) = NESTS.with(|table| table[self.slot()].get());
        key == self.0 && nests
    }

    /// Records whether this call's items on this thread made parallel calls.
    #[inline]
    pub(crate) fn record_nests(self, nests: bool) {
        NESTS.with(|table| table[self.slot()].set((self.0, nests)));
    }

    /// Records how long this call's first item took, in ticks.
    #[inline]
    pub(crate) fn record_first_item(self, ticks: u64) {
        LAST_FIRST_ITEM.with(|table| {
            let slot = &table[self.slot()];
            let (key, [last, _]) = slot.get();
            let before = if key == self.0 { last } else { 0 };
            slot.set((self.0, [ticks.max(1), before]));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_reads_back_the_shorter_of_its_last_two_records() {
        let site = Site::new(0x1234_5670);
        assert_eq!(site.last_first_item(), None);
        site.record_first_item(777);
        assert_eq!(site.last_first_item(), None, "one record is no pattern");
        site.record_first_item(900);
        assert_eq!(site.last_first_item(), Some(777));
        site.record_first_item(5);
        assert_eq!(site.last_first_item(), Some(5), "one short item is enough");
        site.record_first_item(800);
        assert_eq!(site.last_first_item(), Some(5));
        site.record_first_item(800);
        assert_eq!(site.last_first_item(), Some(800));
    }

    #[test]
    fn a_colliding_site_replaces_the_entry_and_is_not_mistaken_for_it() {
        let a = Site::new(0x10_0000);
        let b = (1..)
            .map(|i| Site::new(0x10_0000 + i * 16))
            .find(|b| b.slot() == a.slot())
            .expect("64 slots: some site collides");
        a.record_first_item(1);
        a.record_first_item(1);
        b.record_first_item(2);
        assert_eq!(a.last_first_item(), None, "b took the slot over");
        assert_eq!(b.last_first_item(), None, "a's records are not b's");
        b.record_first_item(3);
        assert_eq!(b.last_first_item(), Some(2));
    }

    #[test]
    fn records_are_per_thread() {
        let site = Site::new(0xABC0);
        site.record_first_item(9);
        site.record_first_item(9);
        assert_eq!(site.last_first_item(), Some(9));
        let elsewhere = std::thread::spawn(move || site.last_first_item())
            .join()
            .unwrap();
        assert_eq!(elsewhere, None);
    }
}
