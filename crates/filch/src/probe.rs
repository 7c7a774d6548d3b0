//! The serial-first probe: how a call decides, without being told, whether
//! its work is big enough to be worth the pool.
//!
//! The caller runs items itself, in batches, reading the clock only between
//! batches. After the first item it knows roughly what an item costs; each
//! later batch is sized to take about as long as everything so far (at
//! least [`CHECK_FLOOR_NS`]), so a call with `n` items reads the clock
//! O(log) times, and a 100-item call twice. When the estimated remaining work
//! reaches the threshold, the rest goes to the pool; tiny calls finish before
//! any worker is woken.

use crate::clock;

/// Work (ns) a call must still have ahead of it before handing it to the
/// pool from an outside thread. Going parallel costs an injection, one or
/// two worker wake-ups (~5-20 µs each on the 2-core bench machine) and the
/// caller's own wake-up; below ~4x that, serial wins or ties. Tuned with the
/// threshold sweep of `filch-bench` (see docs/design.md).
pub(crate) const PARALLEL_MIN_NS: u64 = 60_000;

/// The same threshold for a call made on a worker: no injection or caller
/// wake-up, and splitting is lazy (it happens only if a peer is idle), so a
/// much lower bar.
pub(crate) const PARALLEL_MIN_NS_IN_WORKER: u64 = 5_000;

/// The shortest stretch run between clock reads once the first item has
/// been timed: ~100 clock reads' worth, so the probe costs <1%.
pub(crate) const CHECK_FLOOR_NS: u64 = 2_000;

/// How long a lazy splitter runs between checks for idle peers, in ns.
/// Short enough that a thief waits little, long enough that the check (a
/// relaxed load) is noise.
pub(crate) const GRAIN_NS: u64 = 1_000;

/// What the probe concluded at a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Run this many more items serially, then check again.
    Serial(usize),
    /// Hand the rest to the pool; an item costs about this many ns.
    Parallel { ns_per_item: u64 },
}

/// The probe's running measurement.
#[derive(Debug)]
pub(crate) struct Probe {
    start: u64,
    threshold_ns: u64,
}

impl Probe {
    /// Starts timing; `in_worker` selects the lower threshold.
    #[inline]
    pub(crate) fn start(in_worker: bool) -> Self {
        Probe {
            start: clock::now(),
            threshold_ns: if in_worker {
                PARALLEL_MIN_NS_IN_WORKER
            } else {
                PARALLEL_MIN_NS
            },
        }
    }

    /// After `done` items in total, with `remaining` items left if known.
    #[inline]
    pub(crate) fn checkpoint(&self, done: usize, remaining: Option<usize>) -> Verdict {
        let elapsed_ns = clock::nanos(clock::now().wrapping_sub(self.start));
        decide(elapsed_ns, done, remaining, self.threshold_ns)
    }
}

/// The decision rule, separated from the clock so tests can drive it.
pub(crate) fn decide(elapsed_ns: u64, done: usize, remaining: Option<usize>, threshold_ns: u64) -> Verdict {
    let done = done.max(1) as u64;
    let ns_per_item = (elapsed_ns / done).max(1);
    let go = match remaining {
        Some(left) => ns_per_item.saturating_mul(left as u64) >= threshold_ns,
        // Unknown length: spending the threshold serially is the evidence.
        None => elapsed_ns >= threshold_ns,
    };
    if go {
        return Verdict::Parallel { ns_per_item };
    }
    let stretch_ns = elapsed_ns.max(CHECK_FLOOR_NS);
    Verdict::Serial(((stretch_ns / ns_per_item) as usize).max(1))
}

/// Items to run between idle-peer checks, given the cost of one.
#[inline]
pub(crate) fn grain(ns_per_item: u64) -> usize {
    ((GRAIN_NS / ns_per_item.max(1)) as usize).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_known_work_stays_serial_in_one_more_batch() {
        // 100 squares: the first item took ~20 ns.
        assert_eq!(decide(20, 1, Some(99), PARALLEL_MIN_NS), Verdict::Serial(100));
    }

    #[test]
    fn big_known_work_goes_parallel_after_one_item() {
        let v = decide(1_000_000, 1, Some(99), PARALLEL_MIN_NS);
        assert_eq!(v, Verdict::Parallel { ns_per_item: 1_000_000 });
    }

    #[test]
    fn unknown_length_goes_parallel_only_after_spending_the_threshold() {
        assert!(matches!(decide(10_000, 100, None, PARALLEL_MIN_NS), Verdict::Serial(_)));
        assert!(matches!(decide(PARALLEL_MIN_NS, 100, None, PARALLEL_MIN_NS), Verdict::Parallel { .. }));
    }

    #[test]
    fn batches_grow_with_elapsed_time() {
        let Verdict::Serial(first) = decide(1_000, 10, Some(1_000_000_000), u64::MAX) else {
            panic!("expected serial")
        };
        let Verdict::Serial(later) = decide(100_000, 1_000, Some(1_000_000_000), u64::MAX) else {
            panic!("expected serial")
        };
        assert!(later > first, "{later} <= {first}");
    }

    #[test]
    fn grain_is_at_least_one_item() {
        assert_eq!(grain(10_000_000), 1);
        assert_eq!(grain(1), GRAIN_NS as usize);
    }
}
