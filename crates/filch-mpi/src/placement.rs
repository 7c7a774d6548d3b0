//! Where a `map` runs: on rank 0's own pool, or across the cluster. The
//! local pool's promise (never slower than a loop) carries over as "never
//! slower than the local pool": a call whose work is too small to pay for
//! messages stays on rank 0, decided per call the way the local pool decides
//! whether to share — time the first items, estimate the rest, then choose.
//!
//! # The probe
//! Rank 0 maps the first items itself, on its pool, in pieces growing
//! [`PROBE_GROWTH`]-fold from one item, and estimates the rest at the
//! fastest rate a piece showed. It stops when the estimate settles
//! the question: the rest would take less than half the bar (stay local),
//! or at least [`MIN_PIECES`] pieces and [`PROBE_NS`] have passed and the rest would take at least the bar
//! (distribute; the probe's results become the call's first chunk and its
//! timing seeds the chunk sizer). Meanwhile the other ranks' first requests
//! wait in MPI's queue; whatever rank 0 decides, every request gets its one
//! reply, so the protocol in `coordinator.rs` is unchanged: a call kept
//! local is a distributed call whose input ran out before anyone asked.
//!
//! # The bar
//! Distributing costs about [`DISTRIBUTION_COST_NS`] per call (the first
//! one-item chunks, the chunk sizes ramping up, the tail), and saves at most
//! `rest × (1 − 1/ranks)` when every rank is as fast as rank 0. So a call
//! goes out when the rest's estimated time on rank 0's pool is at least
//! `DISTRIBUTION_COST_NS × ranks / (ranks − 1)`: 2 ms with 2 ranks.
//!
//! Ranks may be slower than rank 0 (fewer cores, a busy host, several ranks
//! on one host sharing its cores), which the bar cannot see in advance. So
//! every distributed call is checked afterwards: if it took longer than the
//! estimate for staying local, the bar rises to twice that estimate, and
//! calls of that size stay local. The bar sinks back by a sixteenth on each
//! call kept local (never below its starting value), so after a dozen such
//! calls the cluster tries again: a slow spell on another host does not
//! lock a program out of its cluster for good.

use filch::Pool;

use crate::local::map_chunk;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    /// Every call goes across the cluster, unprobed.
    pub(crate) always_distribute: bool,
    /// The bar for the current cluster size; 0 until first used.
    bar_ns: u64,
}

impl Placement {
    /// Probes and decides, unless told to always distribute.
    pub(crate) fn new(always_distribute: bool) -> Placement {
        Placement {
            always_distribute,
            bar_ns: 0,
        }
    }

    /// The least estimated time on rank 0's pool for which a call of a
    /// cluster of `ranks` is distributed.
    pub(crate) fn bar_ns(&self, ranks: usize) -> u64 {
        self.bar_ns.max(starting_bar_ns(ranks))
    }

    /// Maps a probe of `items` on `pool` and decides where the rest runs; a
    /// call kept local is finished here.
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
        let bar = if ranks > 1 {
            self.bar_ns(ranks)
        } else {
            u64::MAX
        };
        let mut todo = items.into_iter();
        let mut results = Vec::with_capacity(todo.len());
        let mut busy_ns = 0u64;
        // The fastest rate seen, in ns per item: on a shared machine a
        // piece can only be slowed down (preempted), never sped up, so one
        // unlucky piece must not make cheap work look dear.
        let mut fastest: Option<(u64, usize)> = None;
        let mut piece = 1usize;
        let mut pieces = 0usize;
        while todo.len() > 0 {
            let estimate =
                fastest.map_or(u64::MAX, |(ns, items)| estimate_ns(ns, items, todo.len()));
            if !results.is_empty() && estimate < bar / 2 {
                break;
            }
            if pieces >= MIN_PIECES && busy_ns >= PROBE_NS && estimate >= bar {
                self.bar_ns = self.bar_ns(ranks);
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
            let items = piece.min(todo.len());
            let elapsed_ns =
                match map_onto(pool, f, todo.by_ref().take(items).collect(), &mut results) {
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
        // Staying local: map the rest in one call, and let the bar sink.
        let outcome = match map_onto(pool, f, todo.collect(), &mut results) {
            Ok(elapsed_ns) => ChunkOutcome::Done {
                results,
                elapsed_ns: busy_ns.saturating_add(elapsed_ns),
            },
            Err(failed) => failed,
        };
        if ranks > 1 {
            let bar = self.bar_ns(ranks);
            self.bar_ns = (bar - bar / 16).max(starting_bar_ns(ranks));
        }
        Plan::Local(outcome)
    }

    /// After a distributed call: `elapsed_ns` from the decision to the end,
    /// against `local_estimate_ns` for staying on rank 0. A call that did
    /// not pay raises the bar above its size.
    pub(crate) fn learn(&mut self, local_estimate_ns: u64, elapsed_ns: u64, ranks: usize) {
        if local_estimate_ns > 0 && elapsed_ns > local_estimate_ns {
            self.bar_ns = self.bar_ns(ranks).max(local_estimate_ns.saturating_mul(2));
        }
    }
}

/// Maps `items` on `pool` and appends their results to `results`: the
/// piece's wall time, or the outcome of a piece that failed.
fn map_onto<T, R, F>(
    pool: &Pool,
    f: &F,
    items: Vec<T>,
    results: &mut Vec<R>,
) -> Result<u64, ChunkOutcome<R>>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync + Send,
{
    match map_chunk(pool, f, items) {
        ChunkOutcome::Done {
            results: done,
            elapsed_ns,
        } => {
            results.extend(done);
            Ok(elapsed_ns)
        }
        failed => Err(failed),
    }
}

/// The bar before anything was learned: see the module docs.
fn starting_bar_ns(ranks: usize) -> u64 {
    let ranks = ranks.max(2) as u64;
    DISTRIBUTION_COST_NS.saturating_mul(ranks) / (ranks - 1)
}

/// The time `rest` items take at the rate of `done` items in `busy_ns`.
fn estimate_ns(busy_ns: u64, done: usize, rest: usize) -> u64 {
    if done == 0 {
        return u64::MAX;
    }
    let estimate = u128::from(busy_ns) * rest as u128 / done as u128;
    u64::try_from(estimate).unwrap_or(u64::MAX)
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
        assert_eq!(placement.bar_ns(2), 2 * DISTRIBUTION_COST_NS);
        assert_eq!(placement.bar_ns(3), 3 * DISTRIBUTION_COST_NS / 2);
        assert_eq!(placement.bar_ns(1), 2 * DISTRIBUTION_COST_NS);
    }

    #[test]
    fn small_work_stays_local_with_every_result_in_order() {
        let mut placement = Placement::new(false);
        match placement.plan(&pool(), &|x: u64| x * 3, (0..10_000).collect(), 4) {
            Plan::Local(ChunkOutcome::Done { results, .. }) => {
                assert_eq!(results, (0..10_000).map(|x| x * 3).collect::<Vec<_>>());
            }
            other => panic!("cheap items were not kept local: {other:?}"),
        }
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
    fn a_call_that_did_not_pay_raises_the_bar_and_local_calls_lower_it() {
        let mut placement = Placement::new(false);
        let start = placement.bar_ns(2);
        placement.learn(5_000_000, 4_000_000, 2);
        assert_eq!(
            placement.bar_ns(2),
            start,
            "a call that paid leaves the bar"
        );
        placement.learn(5_000_000, 6_000_000, 2);
        assert_eq!(placement.bar_ns(2), 10_000_000);
        let mut calls = 0;
        while placement.bar_ns(2) > start {
            placement.plan(&pool(), &|x: u64| x, vec![1], 2);
            calls += 1;
            assert!(calls < 100, "the bar never sank back");
        }
        // 10 ms → 2 ms by sixteenths: 25 calls.
        assert_eq!(calls, 25);
    }
}
