//! Where a `map` runs: on rank 0's own pool, or across the cluster. The
//! local pool's promise (never slower than a loop) carries over as "never
//! slower than the local pool": a call whose work is too small to pay for
//! messages stays on rank 0, decided per call the way the local pool decides
//! whether to share — time the first items, estimate the rest, then choose.
//!
//! # The probe
//! Rank 0 maps the first items itself, on its calling thread, in pieces
//! growing [`PROBE_GROWTH`]-fold from one item (the last one cut to end the
//! probe near [`PROBE_NS`]), and takes the fastest rate a piece showed: on a
//! shared machine a piece can only be slowed down, never sped up. The rest
//! would take `rest × rate / threads` on rank 0's pool (the pool's ideal
//! speed-up, which leans towards staying local). The probe stops as soon as
//! that estimate is under half the least bar (stay local), or once at least
//! [`MIN_PIECES`] pieces and [`PROBE_NS`] have passed; then the call goes
//! out if the estimate reaches the bar, the probe's results becoming the
//! call's first chunk. Pieces run serially so the rate is one thread's
//! rate, whatever the pool's own splitting does with small pieces.
//!
//! Meanwhile the other ranks' first requests wait in MPI's queue; whatever
//! rank 0 decides, every request gets its one reply, so the protocol in
//! `coordinator.rs` is unchanged: a call kept local is a distributed call
//! whose input ran out before anyone asked.
//!
//! # The bar
//! A distributed call takes about `cost + estimate / gain`: a fixed
//! [`DISTRIBUTION_COST_NS`] (the first one-item chunks, the chunk sizes
//! ramping up, the tail) plus the work spread over the cluster, where
//! `gain` is what the whole cluster can do per unit of time over what rank
//! 0's pool can. It pays when that is less than `estimate`, that is from
//! `estimate ≥ cost × gain / (gain − 1)`: 2 ms when `gain` is 2.
//!
//! `gain` starts at the number of ranks (every rank as fast as rank 0) and
//! is measured afresh by every distributed call: `estimate / (elapsed −
//! cost)`. Ranks sharing rank 0's host, busy hosts and slow links all show
//! up there. A cluster measured at no gain (two ranks on one host, each
//! with a pool over all its cores) keeps its calls local; since hosts come
//! and go from busy, a call the starting bar would send out still goes out
//! after [`patience`](Placement) such calls were kept local. Patience starts
//! at one call and doubles up to [`MAX_PATIENCE`] each time going out did
//! not pay, and returns to one when it paid: a slow spell does not lock a
//! program out of its cluster, and a cluster that never pays costs at most
//! one slow call in [`MAX_PATIENCE`].

use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use filch::Pool;

use crate::error::panic_message;
use crate::local::{elapsed_ns, map_chunk};
use crate::wire::ChunkOutcome;

/// How long rank 0 probes before it distributes, in ns: long enough to time
/// items to a few percent, short against the 2 ms bar.
pub(crate) const PROBE_NS: u64 = 100_000;

/// Pieces timed before a call may go out: one piece alone can have been
/// preempted (a one-item first piece once took 365 µs under CI load and
/// sent a call out before its fifth item was reached).
pub(crate) const MIN_PIECES: usize = 2;

/// Each probe piece is this many times the one before.
pub(crate) const PROBE_GROWTH: usize = 4;

/// What distributing one call costs rank 0 in wall time, in ns, beyond the
/// work itself. The `cluster-threshold` bench, 2 ranks × 1 thread on the
/// 2-core VM over shared memory and TCP, 1000 items: at 3 µs per item the
/// cluster took ~2.7 ms where an even split of the work is ~1.5 ms; at 1 µs,
/// ~1.4 ms against 0.5 ms.
pub(crate) const DISTRIBUTION_COST_NS: u64 = 1_000_000;

/// A cluster measured at a gain below this keeps its calls local: the
/// saving would be lost in the noise of the measurement itself.
pub(crate) const MIN_GAIN: f64 = 1.1;

/// The most calls the starting bar would send out that are kept local in a
/// row before one goes out to measure the cluster again.
pub(crate) const MAX_PATIENCE: u32 = 64;

/// What a `map` on rank 0 does with its input, as the probe decided.
#[derive(Debug)]
pub(crate) enum Plan<T, R> {
    /// Every item was mapped on rank 0 (or `f` panicked there).
    Local(ChunkOutcome<R>),
    /// The rest goes across the cluster.
    Distribute {
        /// The probe's results, the call's first chunk (`None` when nothing
        /// was probed: distribution was asked for).
        first: Option<(usize, ChunkOutcome<R>)>,
        /// The items the probe did not map.
        rest: std::vec::IntoIter<T>,
        /// How long the rest would take on rank 0's pool, in ns (0 when
        /// nothing was probed).
        local_estimate_ns: u64,
    },
}

/// Rank 0's placement rule and what it has learned from earlier calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placement {
    /// Every call goes across the cluster, unprobed.
    pub(crate) always_distribute: bool,
    /// The gain the last distributed call measured; `None` until one did.
    gain: Option<f64>,
    /// Calls the starting bar would have sent out that the measured gain
    /// kept local, since the last call went out.
    held_back: u32,
    /// How many of those before the next one goes out anyway.
    patience: u32,
}

impl Placement {
    /// Probes and decides, unless told to always distribute.
    pub(crate) fn new(always_distribute: bool) -> Placement {
        Placement {
            always_distribute,
            gain: None,
            held_back: 0,
            patience: 1,
        }
    }

    /// The least estimated time on rank 0's pool for which a call of a
    /// cluster of `ranks` is distributed; `None` while the cluster is
    /// measured at no gain.
    pub(crate) fn bar_ns(&self, ranks: usize) -> Option<u64> {
        let gain = self.gain.unwrap_or(ranks as f64);
        (gain >= MIN_GAIN).then(|| bar_for_gain(gain))
    }

    /// Whether a call whose rest would take `estimate_ns` on rank 0's pool
    /// goes out, counting the calls held back by a measured lack of gain.
    fn goes_out(&mut self, estimate_ns: u64, ranks: usize) -> bool {
        if self.bar_ns(ranks).is_some_and(|bar| estimate_ns >= bar) {
            return true;
        }
        if estimate_ns < starting_bar_ns(ranks) {
            return false;
        }
        self.held_back += 1;
        if self.held_back < self.patience {
            return false;
        }
        self.held_back = 0;
        true
    }

    /// Maps a probe of `items` and decides where the rest runs; a call kept
    /// local is finished here, on `pool`.
    pub(crate) fn plan<T, R, F>(
        &mut self,
        pool: &Pool,
        f: &F,
        items: Vec<T>,
        ranks: usize,
    ) -> Plan<T, R>
    where
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync + Send,
    {
        if self.always_distribute && ranks > 1 {
            return Plan::Distribute {
                first: None,
                rest: items.into_iter(),
                local_estimate_ns: 0,
            };
        }
        let threads = pool.threads().max(1);
        let least_bar = if ranks > 1 {
            starting_bar_ns(ranks).min(self.bar_ns(ranks).unwrap_or(u64::MAX))
        } else {
            u64::MAX
        };
        let mut todo = items.into_iter();
        let mut results = Vec::with_capacity(todo.len());
        let mut busy_ns = 0u64;
        // The fastest rate seen, as (ns, items) of one piece.
        let mut fastest: Option<(u64, usize)> = None;
        let mut piece = 1usize;
        let mut pieces = 0usize;
        while todo.len() > 0 {
            let estimate = fastest.map_or(u64::MAX, |(ns, items)| {
                estimate_ns(ns, items * threads, todo.len())
            });
            if !results.is_empty() && estimate < least_bar / 2 {
                break;
            }
            if pieces >= MIN_PIECES && busy_ns >= PROBE_NS {
                if ranks > 1 && self.goes_out(estimate, ranks) {
                    return Plan::Distribute {
                        first: Some((
                            results.len(),
                            ChunkOutcome::Done {
                                results,
                                elapsed_ns: busy_ns,
                            },
                        )),
                        rest: todo,
                        local_estimate_ns: estimate,
                    };
                }
                break;
            }
            // Cut the piece so the probe ends near `PROBE_NS` once two
            // pieces have been timed.
            let to_probe_end = match fastest {
                Some((ns, done)) if pieces + 1 >= MIN_PIECES => {
                    let left = PROBE_NS.saturating_sub(busy_ns);
                    usize::try_from(estimate_items(left, ns, done)).unwrap_or(usize::MAX)
                }
                _ => usize::MAX,
            };
            let items = piece.min(to_probe_end).clamp(1, todo.len());
            let elapsed_ns = match map_here(f, todo.by_ref().take(items), &mut results) {
                Ok(elapsed_ns) => elapsed_ns,
                Err(failed) => return Plan::Local(failed),
            };
            let faster = fastest.is_none_or(|(ns, n)| {
                u128::from(elapsed_ns) * (n as u128) < u128::from(ns) * (items as u128)
            });
            if faster {
                fastest = Some((elapsed_ns, items));
            }
            busy_ns = busy_ns.saturating_add(elapsed_ns);
            pieces += 1;
            piece = piece.saturating_mul(PROBE_GROWTH);
        }
        // Staying local: map the rest on the pool in one call.
        let outcome = match map_chunk(pool, f, todo.collect()) {
            ChunkOutcome::Done {
                results: rest,
                elapsed_ns,
            } => {
                results.extend(rest);
                ChunkOutcome::Done {
                    results,
                    elapsed_ns: busy_ns.saturating_add(elapsed_ns),
                }
            }
            failed => failed,
        };
        Plan::Local(outcome)
    }

    /// After a distributed call: `elapsed_ns` from the decision to the end,
    /// against `local_estimate_ns` for staying on rank 0. Measures the
    /// cluster's gain afresh and adjusts the patience.
    pub(crate) fn learn(&mut self, local_estimate_ns: u64, elapsed_ns: u64) {
        if local_estimate_ns == 0 {
            return;
        }
        let spread_ns = elapsed_ns.saturating_sub(DISTRIBUTION_COST_NS).max(1);
        self.gain = Some(local_estimate_ns as f64 / spread_ns as f64);
        self.patience = if elapsed_ns < local_estimate_ns {
            1
        } else {
            (self.patience * 2).min(MAX_PATIENCE)
        };
    }
}

/// Maps `items` on this thread and appends their results to `results`: the
/// piece's wall time, or the outcome of a piece that panicked.
fn map_here<T, R, F>(
    f: &F,
    items: impl Iterator<Item = T>,
    results: &mut Vec<R>,
) -> Result<u64, ChunkOutcome<R>>
where
    F: Fn(T) -> R,
{
    let start = Instant::now();
    match panic::catch_unwind(AssertUnwindSafe(|| results.extend(items.map(f)))) {
        Ok(()) => Ok(elapsed_ns(start)),
        Err(payload) => Err(ChunkOutcome::Panicked(panic_message(&*payload))),
    }
}

/// The bar for a cluster that does `gain` times rank 0's work per unit of
/// time: see the module docs.
fn bar_for_gain(gain: f64) -> u64 {
    let bar = DISTRIBUTION_COST_NS as f64 * gain / (gain - 1.0);
    bar.min(u64::MAX as f64) as u64
}

/// The bar before anything was learned: every rank as fast as rank 0.
fn starting_bar_ns(ranks: usize) -> u64 {
    bar_for_gain(ranks.max(2) as f64)
}

/// The time `rest` items take at the rate of `done` items in `busy_ns`.
fn estimate_ns(busy_ns: u64, done: usize, rest: usize) -> u64 {
    if done == 0 {
        return u64::MAX;
    }
    let estimate = u128::from(busy_ns) * rest as u128 / done as u128;
    u64::try_from(estimate).unwrap_or(u64::MAX)
}

/// How many items fit in `ns` at the rate of `done` items in `busy_ns`.
fn estimate_items(ns: u64, busy_ns: u64, done: usize) -> u64 {
    let items = u128::from(ns) * done as u128 / u128::from(busy_ns.max(1));
    u64::try_from(items).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn pool() -> Pool {
        Pool::builder().threads(1).build().expect("a 1-thread pool")
    }

    fn spin(ns: u64) {
        let start = Instant::now();
        while start.elapsed().as_nanos() < u128::from(ns) {
            std::hint::spin_loop();
        }
    }

    #[test]
    fn the_bar_starts_at_the_cost_over_the_saving() {
        let placement = Placement::new(false);
        assert_eq!(placement.bar_ns(2), Some(2 * DISTRIBUTION_COST_NS));
        assert_eq!(placement.bar_ns(3), Some(3 * DISTRIBUTION_COST_NS / 2));
        assert_eq!(placement.bar_ns(1), None, "one rank has nothing to gain");
    }

    #[test]
    fn small_work_stays_local_with_every_result_in_order() {
        // A preemption during a probe piece can make cheap items look dear
        // on a loaded machine: most of five plans must stay local.
        let mut kept_local = 0;
        for _ in 0..5 {
            let mut placement = Placement::new(false);
            match placement.plan(&pool(), &|x: u64| x * 3, (0..10_000).collect(), 4) {
                Plan::Local(ChunkOutcome::Done { results, .. }) => {
                    assert_eq!(results, (0..10_000).map(|x| x * 3).collect::<Vec<_>>());
                    kept_local += 1;
                }
                Plan::Distribute { .. } => {}
                other => panic!("cheap items failed: {other:?}"),
            }
        }
        assert!(
            kept_local >= 3,
            "only {kept_local} of 5 cheap calls stayed local"
        );
    }

    #[test]
    fn big_work_is_distributed_after_a_short_probe() {
        let mut placement = Placement::new(false);
        let f = |x: u64| {
            spin(20_000);
            x + 1
        };
        match placement.plan(&pool(), &f, (0..1_000).collect(), 2) {
            Plan::Distribute {
                first:
                    Some((
                        probed,
                        ChunkOutcome::Done {
                            results,
                            elapsed_ns,
                        },
                    )),
                rest,
                local_estimate_ns,
            } => {
                assert_eq!(probed, results.len());
                assert_eq!(results, (1..=probed as u64).collect::<Vec<_>>());
                assert_eq!(
                    rest.as_slice(),
                    &(probed as u64..1_000).collect::<Vec<_>>()[..]
                );
                // 1 + 4 + 16 items of 20 µs pass the 100 µs probe.
                assert!(probed <= 21, "probed {probed} items");
                assert!(elapsed_ns >= PROBE_NS);
                assert!(local_estimate_ns >= 20_000 * (1_000 - probed as u64));
            }
            other => panic!("20 ms of work was kept local: {other:?}"),
        }
    }

    #[test]
    fn one_rank_keeps_everything_local() {
        let mut placement = Placement::new(false);
        let f = |x: u64| {
            spin(20_000);
            x
        };
        assert!(matches!(
            placement.plan(&pool(), &f, (0..200).collect(), 1),
            Plan::Local(ChunkOutcome::Done { .. })
        ));
    }

    #[test]
    fn always_distribute_skips_the_probe() {
        let mut placement = Placement::new(true);
        match placement.plan(&pool(), &|x: u64| x, vec![1, 2, 3], 2) {
            Plan::Distribute {
                first: None, rest, ..
            } => assert_eq!(rest.as_slice(), &[1, 2, 3]),
            other => panic!("not distributed as asked: {other:?}"),
        }
    }

    #[test]
    fn a_panic_in_the_probe_is_the_call_outcome() {
        let mut placement = Placement::new(false);
        let f = |x: u64| {
            assert!(x != 3, "item three");
            x
        };
        match placement.plan(&pool(), &f, (0..100).collect(), 2) {
            Plan::Local(ChunkOutcome::Panicked(message)) => assert!(message.contains("item three")),
            other => panic!("the panic was lost: {other:?}"),
        }
    }

    #[test]
    fn a_measured_gain_moves_the_bar() {
        let mut placement = Placement::new(false);
        // 5 ms of rank-0 work done in 1 ms + 2 ms: a gain of 2.5.
        placement.learn(5_000_000, 3_000_000);
        let bar = placement.bar_ns(2).expect("a cluster that paid has a bar");
        assert!(
            (1_600_000..=1_700_000).contains(&bar),
            "bar {bar} for gain 2.5"
        );
        // Asked to always distribute: nothing is learned.
        placement.learn(0, 9_000_000);
        assert_eq!(placement.bar_ns(2), Some(bar));
    }

    #[test]
    fn a_cluster_without_gain_keeps_calls_local_but_tries_again_ever_less_often() {
        let mut placement = Placement::new(false);
        let big = 50 * DISTRIBUTION_COST_NS;
        assert!(placement.goes_out(big, 2), "the first big call goes out");
        // It took as long as staying local would have.
        placement.learn(big, big + DISTRIBUTION_COST_NS);
        assert_eq!(placement.bar_ns(2), None);
        let mut tries = Vec::new();
        for call in 1..=300u32 {
            if placement.goes_out(big, 2) {
                tries.push(call);
                placement.learn(big, big + DISTRIBUTION_COST_NS);
            }
        }
        // Kept local 1, 3, 7, 15, 31, 63 calls before each try, then 63.
        assert_eq!(&tries[..6], &[2, 6, 14, 30, 62, 126]);
        assert!(tries.windows(2).all(|w| w[1] - w[0] <= MAX_PATIENCE));
        // Small calls never count towards a try.
        let before = placement;
        assert!(!placement.goes_out(DISTRIBUTION_COST_NS / 2, 2));
        assert_eq!(placement, before);
        // A try that pays brings the bar and the patience back.
        let mut placement = before;
        while !placement.goes_out(big, 2) {}
        placement.learn(big, big / 2);
        assert!(placement.bar_ns(2).is_some());
        assert!(placement.goes_out(big, 2));
    }
}
