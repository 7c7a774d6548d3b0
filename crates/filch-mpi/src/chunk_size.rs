//! How many items rank 0 puts in the next chunk: adaptive, like the local
//! pool's splitting, so the caller never picks a chunk size.
//!
//! - The first chunk a call hands out has [`FIRST_CHUNK`] item: nothing is
//!   known about the work yet, and a tiny chunk comes back fast with a
//!   measurement.
//! - After that a chunk is sized to take about [`TARGET_CHUNK_NS`] of wall
//!   time on the rank that gets it, from that rank's measured time per item
//!   (any rank's until it has its own), growing at most [`MAX_GROWTH`]-fold
//!   over the biggest chunk measured so far so one noisy timing cannot hand
//!   out half the input. With items longer than rank 0's slices, a chunk is
//!   at least [`ROOT_ITEMS_PER_CHUNK`] of rank 0's items instead.
//! - Near the end of an input of known length a chunk is at most
//!   `remaining / (2 × ranks)` items, so the last chunks are small and a
//!   slow rank holds the others up by at most a fraction of a chunk; but
//!   not below [`MIN_CHUNK_NS`] of work, since a chunk smaller than a few
//!   request/reply round trips costs more in waiting than it balances.

/// Items in the first chunk of a call.
pub(crate) const FIRST_CHUNK: usize = 1;

/// The wall time a chunk should take, in ns. A request and its reply cost
/// 10–40 µs between two ranks on one machine (measured with the
/// `cluster-threshold` bench's smallest items on the 2-core dev VM), and a
/// network adds tens of µs more, so 5 ms keeps that overhead near 1% while a
/// rank that turns out slow delays the end of a call by at most ~5 ms.
pub(crate) const TARGET_CHUNK_NS: f64 = 5_000_000.0;

/// The least work a tail chunk is cut down to, in ns: a few round trips
/// (a worker's request can wait up to `backoff::MAX_SLEEP`, 100 µs, while
/// rank 0 sleeps). Without it the tail of 1000 items was cut into ~25 ever
/// smaller chunks; with it, `cluster-threshold --work 3000,10000,30000`
/// (2 ranks, 2-core VM, two A/B runs) went from 0.33–0.45x of a serial
/// loop to 0.62–0.80x at 3 µs per item, and from 0.99–1.24x to 1.10–1.28x
/// at 30 µs.
pub(crate) const MIN_CHUNK_NS: f64 = 500_000.0;

/// A chunk lasts at least this many of rank 0's items. Rank 0 answers
/// requests between slices of its own chunk, and a slice is at least one
/// item, so with items longer than a slice (250 µs) a request can wait a
/// whole item; a chunk of 20 items keeps that wait near 5% of the chunk.
/// `cluster-threshold --work 1000000` (2 ranks, two A/B runs): 1.63–1.72x
/// of a serial loop with 5 ms chunks, 1.86–1.89x with this rule.
pub(crate) const ROOT_ITEMS_PER_CHUNK: f64 = 20.0;

/// How much bigger than the biggest chunk measured so far a chunk may be.
pub(crate) const MAX_GROWTH: usize = 4;

/// The most items in one chunk, whatever the timings say: bounds the size
/// of one message (and of the buffer a rank decodes into).
pub(crate) const MAX_CHUNK: usize = 1 << 20;

/// Per-rank timings and the sizing rule above.
#[derive(Debug)]
pub(crate) struct ChunkSizer {
    /// Measured wall ns per item, per rank (`None`: not measured yet).
    ns_per_item: Vec<Option<f64>>,
    /// The latest measurement from any rank, for ranks without their own.
    latest: Option<f64>,
    /// The most items in a chunk whose time came back.
    biggest_measured: usize,
    /// Whether chunks last at least [`ROOT_ITEMS_PER_CHUNK`] of rank 0's
    /// items (see [`ChunkSizer::for_lazy_calls`]).
    root_floor: bool,
}

impl ChunkSizer {
    /// A sizer for `ranks` ranks that knows nothing yet.
    pub(crate) fn new(ranks: usize) -> ChunkSizer {
        ChunkSizer {
            ns_per_item: vec![None; ranks],
            latest: None,
            biggest_measured: 0,
            root_floor: true,
        }
    }

    /// A sizer for an `imap`: chunks of [`TARGET_CHUNK_NS`] even when rank
    /// 0's items outlast a slice. The floor of [`ROOT_ITEMS_PER_CHUNK`]
    /// items buys `map` throughput with chunks of up to 20 items; an `imap`
    /// consumer would get its results in bursts that long (with 2 ms items,
    /// 40 ms), and a consumer slower than that leaves the ranks idle.
    pub(crate) fn for_lazy_calls(ranks: usize) -> ChunkSizer {
        ChunkSizer {
            root_floor: false,
            ..ChunkSizer::new(ranks)
        }
    }

    /// Records that `rank` mapped `items` items in `elapsed_ns` of wall time.
    pub(crate) fn record(&mut self, rank: usize, items: usize, elapsed_ns: u64) {
        if items == 0 {
            return;
        }
        // A 0 ns reading (a clock too coarse for a tiny chunk) would make the
        // next chunk as large as allowed; count it as 1 ns for the chunk.
        let per_item = elapsed_ns.max(1) as f64 / items as f64;
        let slot = &mut self.ns_per_item[rank];
        // Smooth over chunks: the newest counts half, so a rank that slows
        // down (other load on its host) is noticed within a chunk or two.
        *slot = Some(match *slot {
            Some(old) => (old + per_item) / 2.0,
            None => per_item,
        });
        self.latest = *slot;
        self.biggest_measured = self.biggest_measured.max(items);
    }

    /// How many items take about `ns` of wall time on `rank` (at least 1;
    /// [`FIRST_CHUNK`] while nothing is measured).
    pub(crate) fn items_taking(&self, rank: usize, ns: f64) -> usize {
        match self.ns_per_item[rank].or(self.latest) {
            None => FIRST_CHUNK,
            Some(per_item) => ((ns / per_item) as usize).max(1),
        }
    }

    /// The size of the next chunk for `rank`, with `remaining` the number of
    /// items left when known (`None` for an input of unknown length) and
    /// `ranks` the ranks sharing the work.
    pub(crate) fn next_size(&self, rank: usize, remaining: Option<usize>) -> usize {
        let timed = self.ns_per_item[rank].or(self.latest);
        let mut size = match timed {
            None => FIRST_CHUNK,
            Some(per_item) => {
                let root_item = self.ns_per_item[0].unwrap_or(per_item);
                let floor = if self.root_floor {
                    ROOT_ITEMS_PER_CHUNK * root_item
                } else {
                    0.0
                };
                let target = TARGET_CHUNK_NS.max(floor);
                let wanted = (target / per_item) as usize;
                wanted.clamp(1, self.biggest_measured.max(1) * MAX_GROWTH)
            }
        };
        if let Some(remaining) = remaining {
            let floor = timed.map_or(1, |per_item| (MIN_CHUNK_NS / per_item) as usize);
            let tail_cap = (remaining / (2 * self.ns_per_item.len())).max(floor).max(1);
            size = size.min(tail_cap);
        }
        size.min(MAX_CHUNK)
    }
}

#[cfg(test)]
mod chunk_size_tests {
    use super::*;

    #[test]
    fn the_first_chunk_is_small_while_nothing_is_measured() {
        let sizer = ChunkSizer::new(3);
        assert_eq!(sizer.next_size(1, Some(1_000_000)), FIRST_CHUNK);
    }

    #[test]
    fn chunks_grow_at_most_fourfold_towards_the_target_duration() {
        let mut sizer = ChunkSizer::new(2);
        // 100 ns per item: the target would be 50_000 items.
        sizer.record(1, 1, 100);
        assert_eq!(sizer.next_size(1, None), 4);
        sizer.record(1, 4, 400);
        assert_eq!(sizer.next_size(1, None), 16);
        for _ in 0..10 {
            let size = sizer.next_size(1, None);
            sizer.record(1, size, 100 * size as u64);
        }
        assert_eq!(sizer.next_size(1, None), 50_000);
    }

    #[test]
    fn slow_items_grow_fourfold_and_the_tail_still_splits() {
        let mut sizer = ChunkSizer::new(2);
        sizer.record(0, 1, 50_000_000);
        // 50 ms items want 20-item chunks, four times the biggest measured.
        assert_eq!(sizer.next_size(0, None), 4);
        // 10 left over 2 ranks: 2 (the 500 µs floor is under one item).
        assert_eq!(sizer.next_size(0, Some(10)), 2);
    }

    #[test]
    fn long_items_make_chunks_of_at_least_twenty_of_rank_0s_items() {
        let mut sizer = ChunkSizer::new(2);
        for _ in 0..4 {
            sizer.record(0, 8, 8_000_000);
            sizer.record(1, 8, 8_000_000);
        }
        // 1 ms per item: 5 ms would be 5 items; 20 of rank 0's items win.
        assert_eq!(sizer.next_size(1, None), 20);
    }

    #[test]
    fn an_imap_keeps_chunks_at_the_target_duration_however_long_the_items() {
        let mut sizer = ChunkSizer::for_lazy_calls(2);
        for _ in 0..4 {
            sizer.record(0, 8, 8_000_000);
            sizer.record(1, 8, 8_000_000);
        }
        // 1 ms per item: 5 ms is 5 items, for rank 0 as for the others.
        assert_eq!(sizer.next_size(1, None), 5);
        assert_eq!(sizer.next_size(0, None), 5);
    }

    #[test]
    fn a_rank_without_timings_uses_another_ranks() {
        let mut sizer = ChunkSizer::new(3);
        sizer.record(1, 100, 100 * 100_000);
        // 100 µs per item on rank 1: 5 ms is 50 items, for rank 2 as well.
        assert_eq!(sizer.next_size(2, None), 50);
    }

    #[test]
    fn the_tail_is_split_among_the_ranks() {
        let mut sizer = ChunkSizer::new(2);
        for _ in 0..10 {
            sizer.record(1, 1_000, 1_000_000);
        }
        // 1 µs per item wants 5_000 (4_000 after the growth cap); 10_000
        // left over 2 ranks: 2_500.
        assert_eq!(sizer.next_size(1, Some(10_000)), 2_500);
        // 1_000 left would be 250, under the 500 µs floor: 500.
        assert_eq!(sizer.next_size(1, Some(1_000)), 500);
    }

    #[test]
    fn the_tail_is_not_cut_below_the_minimum_chunk_work() {
        let mut sizer = ChunkSizer::new(2);
        for _ in 0..10 {
            sizer.record(1, 1_000, 10_000_000);
        }
        // 10 µs per item: the floor is 50 items, above 100 / (2 × 2) = 25.
        assert_eq!(sizer.next_size(1, Some(100)), 50);
    }

    #[test]
    fn a_slice_takes_the_asked_time_by_this_ranks_timings() {
        let mut sizer = ChunkSizer::new(2);
        assert_eq!(sizer.items_taking(0, 250_000.0), FIRST_CHUNK);
        sizer.record(0, 10, 10_000);
        assert_eq!(sizer.items_taking(0, 250_000.0), 250);
        sizer.record(0, 10, 1_000_000_000);
        assert_eq!(sizer.items_taking(0, 250_000.0), 1);
    }

    #[test]
    fn a_zero_reading_does_not_blow_the_chunk_up() {
        let mut sizer = ChunkSizer::new(1);
        sizer.record(0, 2, 0);
        assert_eq!(sizer.next_size(0, None), 8);
    }
}
