//! Values that count their creations and drops, for the tests that check
//! every closure and result is dropped exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts its creations and drops.
pub(crate) struct Tracked<'a> {
    drops: &'a AtomicUsize,
}

/// How many `Tracked` were made and dropped.
#[derive(Default)]
pub(crate) struct Counts {
    made: AtomicUsize,
    dropped: AtomicUsize,
}

impl Counts {
    pub(crate) fn track(&self) -> Tracked<'_> {
        self.made.fetch_add(1, Ordering::SeqCst);
        Tracked {
            drops: &self.dropped,
        }
    }

    pub(crate) fn read(&self) -> (usize, usize) {
        (
            self.made.load(Ordering::SeqCst),
            self.dropped.load(Ordering::SeqCst),
        )
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}
