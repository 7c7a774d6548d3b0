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

use std::cell::Cell;
use std::sync::OnceLock;

use crate::clock;
use crate::history::Site;

/// Work (ns) a call must still have ahead of it before sharing it with the
/// pool from an outside thread. The caller keeps working either way (see
/// `shared_call.rs`); going parallel costs it an injection and a wake-up call
/// (a few µs) plus the helpers' claims, and pays only once a helper has
/// woken (10-50 µs on the 2-core bench machine) with work still left.
/// Tuned with the threshold sweep of `filch-bench` (see docs/design.md).
pub(crate) const PARALLEL_MIN_NS: u64 = 50_000;

/// The same threshold for a call made on a worker while a peer is awake and
/// looking for work (`Rules::PeerLooking`): no injection, no wake-up, and a
/// split is taken within a grain, so a much lower bar.
pub(crate) const PARALLEL_MIN_NS_IN_WORKER: u64 = 5_000;

/// Work (ns) a call from outside must still have ahead of it to hand its
/// rest to the pool's engine and wait, rather than share it through claims.
/// For an input that splits by index (`source.rs`) the engine costs no more
/// per item than the loop, so items are weighed at face value: however
/// cheap, enough of them pay; other inputs pay [`SHARED_ITEM_NS`]. The
/// caller waits for a worker to wake (10-50 µs on the 2-core bench machine)
/// and then for the last piece: a quarter of a millisecond keeps that a
/// small part of the call. Tuned with the big-input sweep of `filch-bench`
/// (see docs/design.md).
pub(crate) const ENGINE_MIN_NS: u64 = 250_000;

/// Work (ns) a piece of a call on the engine must still hold to wake a
/// sleeping peer for half of it: the peer takes 10-50 µs to wake on the
/// 2-core bench machine, so its half must be well above that to pay.
pub(crate) const WAKE_MIN_NS: u64 = 200_000;

/// [`WAKE_MIN_NS`] in grains of [`GRAIN_NS`].
pub(crate) const WAKE_GRAINS: usize = (WAKE_MIN_NS / GRAIN_NS) as usize;

/// Items worth [`WAKE_MIN_NS`], given the cost of one (at least 2: a
/// piece of one item has nothing to give).
#[inline]
pub(crate) fn wake_items(ns_per_item: u64) -> usize {
    ((WAKE_MIN_NS / ns_per_item.max(1)) as usize).max(2)
}

/// A call from outside whose site's last two first items took at least
/// this long (`history.rs`), and whose rest would then go parallel, shares its
/// rest before running its own first item, so helpers start while it runs.
/// A wrong guess costs one wake-up of a few µs; against a first item of
/// 20 µs or more that is a fifth of it at worst, once: the call records its
/// own first item. Ten 100 µs items on two threads went from 1.64x to
/// 1.8x+ the loop (see docs/design.md).
pub(crate) const SHARE_AT_ONCE_FIRST_NS: u64 = 20_000;

/// The shortest stretch run between clock reads once the first item has
/// been timed: ~200 clock reads' worth, so the probe costs <1%. 4 µs, not
/// 2: a first item of 1 ns reads as ~40 ns (the clock's own cost), and
/// with 2 µs a 100-item call of such items took a middle batch before the
/// last, paying ~7 instructions per item more in it than the by-value last
/// batch (`Leaf::serial_rest`); with 4 µs the rest is one last batch.
pub(crate) const CHECK_FLOOR_NS: u64 = 4_000;

/// The most items timed right after the first one: enough for an estimate
/// that is not just the clock's own cost, few enough that a 1,000-item call
/// of 1 ns items spends almost all of itself in the by-value last batch.
pub(crate) const SAMPLE_ITEMS: usize = 16;

/// A call with more items left than this is not sent to the pool on a
/// sample of fewer than [`SAMPLE_ITEMS`] items (see [`decide`]).
pub(crate) const RESAMPLE_LEFT: usize = 64 * SAMPLE_ITEMS;

/// What an item costs more, in ns, when it runs in a shared call from
/// outside the pool rather than in the caller's serial loop: the claim
/// copies it into the participant's buffer, the batch counts its output
/// for the panic path, and the outputs' cache lines move between cores.
/// On the 2-vCPU EPYC VM, 10^5 items of the sweep's "1 ns" spin (~0.9 ns
/// in the loop) cost ~2.3 ns of CPU each when shared, ~1.5 ns more (of
/// which idle workers' spinning is a part), and 10^5 items of ~5 ns cost
/// ~1.25 ns more (`perf stat`, a scratch harness): shared, such a call
/// took 0.71x the loop's time. The probe counts an item's cost less this
/// much towards the threshold, so items that cheap stay in the loop
/// however many there are, and the overhead never decides a call whose
/// items cost tens of ns. 2 ns rather than the ~1.5 ns measured, chosen
/// while the probe's middle batches still ran cheap items more slowly than
/// the by-value rest (they no longer do: `Leaf::serial_batch`), and kept:
/// the sweep's cells stayed within their bar with it. With 1 ns, the
/// 10^5 × 1 ns cell took 1.16x the loop's time in one of two full runs;
/// and even with the estimate read off the recent batch alone
/// ([`decide`]), a scratch harness saw that cell go parallel in one run of
/// two (1.3 CPUs used) and seed 000's polynomial on a warm heap every time
/// (1.8 CPUs, slower than the loop).
pub(crate) const SHARED_ITEM_NS: u64 = 2;

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

/// The constants [`decide`] applies, in one time unit (ticks in the probe,
/// ns in `imap` and the tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Remaining work worth sharing ([`PARALLEL_MIN_NS`]).
    pub(crate) threshold: u64,
    /// Time that must have been measured before an estimate is trusted
    /// ([`CHECK_FLOOR_NS`]).
    pub(crate) check_floor: u64,
    /// An item's extra cost when shared ([`SHARED_ITEM_NS`]).
    pub(crate) shared_item: u64,
}

impl Rule {
    /// A call from outside the pool, in ns.
    pub(crate) const OUTSIDE_NS: Rule = Rule {
        threshold: PARALLEL_MIN_NS,
        check_floor: CHECK_FLOOR_NS,
        shared_item: SHARED_ITEM_NS,
    };

    /// A call on a worker, in ns: it splits its range in place, with no
    /// claims or buffers, and only when a peer is idle.
    pub(crate) const IN_WORKER_NS: Rule = Rule {
        threshold: PARALLEL_MIN_NS_IN_WORKER,
        check_floor: CHECK_FLOOR_NS,
        shared_item: 0,
    };

    /// [`IN_WORKER_NS`](Self::IN_WORKER_NS) for an input that is copied
    /// into buffers first, whose items each cost [`SHARED_ITEM_NS`] more.
    pub(crate) const IN_WORKER_COPIED_NS: Rule = Rule {
        shared_item: SHARED_ITEM_NS,
        ..Rule::IN_WORKER_NS
    };

    /// A call from outside over an input that splits by index, for the
    /// engine ([`ENGINE_MIN_NS`]), in ns: items at face value, since the
    /// engine takes them where they lie.
    pub(crate) const ENGINE_INDEXED_NS: Rule = Rule {
        threshold: ENGINE_MIN_NS,
        check_floor: CHECK_FLOOR_NS,
        shared_item: 0,
    };

    /// The same for an input of known length that does not split by index
    /// (`stream.rs`), in ns: its items are copied into chunk buffers and
    /// read back, an extra cost per item like a shared call's.
    pub(crate) const ENGINE_STREAMED_NS: Rule = Rule {
        threshold: ENGINE_MIN_NS,
        check_floor: CHECK_FLOOR_NS,
        shared_item: SHARED_ITEM_NS,
    };

    fn in_ticks(self) -> Rule {
        Rule {
            threshold: clock::ticks(self.threshold),
            check_floor: clock::ticks(self.check_floor),
            shared_item: clock::ticks(self.shared_item),
        }
    }
}

/// The probe's rule and history threshold in clock ticks, computed once
/// with the clock's calibration so a checkpoint does no float math and no
/// division.
#[derive(Clone, Copy, Debug)]
struct Limits {
    rule: Rule,
    /// A rule asked first, which sends the call to the engine on the pool
    /// (`Probe::chose_engine`); `rule` then decides between sharing from
    /// outside and the loop.
    engine: Option<Rule>,
    share_at_once: u64,
}

/// `rule` and `engine` in ticks. Both must share a check floor below both
/// thresholds: `Probe::first_checkpoint` relies on it to skip the rules.
fn limits(rule: Rule, engine: Option<Rule>) -> Limits {
    for r in [Some(rule), engine].into_iter().flatten() {
        assert!(
            r.check_floor == CHECK_FLOOR_NS && r.threshold > CHECK_FLOOR_NS,
            "every rule checks after the same floor, below its threshold"
        );
    }
    Limits {
        rule: rule.in_ticks(),
        engine: engine.map(Rule::in_ticks),
        share_at_once: clock::ticks(SHARE_AT_ONCE_FIRST_NS),
    }
}

/// Which rules a call is judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rules {
    /// Unknown length: the outside rule alone.
    Unsized,
    /// Known length, not split by index: the streamed engine's rule, then
    /// the outside rule.
    Streamed,
    /// Split by index: the engine's rule at face value, then the outside
    /// rule.
    Indexed,
    /// On a worker with a peer awake and looking for work: the worker's
    /// low threshold (a split costs no wake-up), for an input split by
    /// index.
    PeerLooking,
    /// The same for an input that is copied into buffers first (pulled in
    /// chunks or collected), whose items each cost [`SHARED_ITEM_NS`] more.
    PeerLookingCopied,
}

impl Rules {
    /// The rules of a call, from where it runs and what its input is. A
    /// call on a worker whose peers are all busy or asleep is judged as one
    /// from outside: waking a peer costs the same whoever asks.
    #[inline]
    pub(crate) fn of(in_worker: bool, exact: bool, indexed: bool) -> Rules {
        if in_worker && filch_scheduler::work_wanted() {
            if indexed {
                Rules::PeerLooking
            } else {
                Rules::PeerLookingCopied
            }
        } else if indexed {
            Rules::Indexed
        } else if exact {
            Rules::Streamed
        } else {
            Rules::Unsized
        }
    }
}

static UNSIZED: OnceLock<Limits> = OnceLock::new();
static STREAMED: OnceLock<Limits> = OnceLock::new();
static INDEXED: OnceLock<Limits> = OnceLock::new();
static PEER_LOOKING: OnceLock<Limits> = OnceLock::new();
static PEER_LOOKING_COPIED: OnceLock<Limits> = OnceLock::new();

/// The probe's running measurement.
#[derive(Debug)]
pub(crate) struct Probe {
    start: u64,
    limits: Limits,
    /// Elapsed ticks and items done at the last checkpoint, so the next one
    /// can see what its own batch cost (see [`Recent`]).
    last: Cell<(u64, usize)>,
    /// Whether the engine's rule sent the call to the pool.
    chose_engine: Cell<bool>,
}

impl Probe {
    /// Starts timing a call judged by `rules`.
    #[inline]
    pub(crate) fn start(rules: Rules) -> Self {
        let limits = match rules {
            Rules::Unsized => *UNSIZED.get_or_init(|| limits(Rule::OUTSIDE_NS, None)),
            Rules::Streamed => {
                *STREAMED.get_or_init(|| limits(Rule::OUTSIDE_NS, Some(Rule::ENGINE_STREAMED_NS)))
            }
            Rules::Indexed => {
                *INDEXED.get_or_init(|| limits(Rule::OUTSIDE_NS, Some(Rule::ENGINE_INDEXED_NS)))
            }
            Rules::PeerLooking => *PEER_LOOKING.get_or_init(|| limits(Rule::IN_WORKER_NS, None)),
            Rules::PeerLookingCopied => {
                *PEER_LOOKING_COPIED.get_or_init(|| limits(Rule::IN_WORKER_COPIED_NS, None))
            }
        };
        Probe {
            start: clock::now(),
            limits,
            last: Cell::new((0, 0)),
            chose_engine: Cell::new(false),
        }
    }

    /// After a `Parallel` verdict: whether the engine's rule gave it (the
    /// call should go to the engine on the pool rather than be shared from
    /// outside).
    #[inline]
    pub(crate) fn chose_engine(&self) -> bool {
        self.chose_engine.get()
    }

    /// Whether a call of `site` with `rest` items after its first should
    /// share them before running the first (see [`SHARE_AT_ONCE_FIRST_NS`]):
    /// the site's last two first items were long, and at that cost the rest is
    /// worth the pool.
    #[inline]
    pub(crate) fn share_at_once(&self, site: Site, rest: usize) -> bool {
        site.last_first_item().is_some_and(|first| {
            first >= self.limits.share_at_once
                && u128::from(first) * rest as u128 >= u128::from(self.limits.rule.threshold)
        })
    }

    /// Records the time since the start as `site`'s first item.
    #[inline]
    pub(crate) fn record_first_item(&self, site: Site) {
        site.record_first_item(clock::now().wrapping_sub(self.start));
    }

    /// [`checkpoint`](Self::checkpoint) right after the first item, which
    /// it also records as `site`'s.
    ///
    /// A first item shorter than the check floor is too thin an estimate for
    /// any rule to share the call on (every rule has the same floor, and
    /// every threshold is above it: [`limits`]), so the next batch follows
    /// from the time alone and neither rule is asked: a small call's whole
    /// budget is a few dozen ns, and the two rules cost a tenth of it.
    #[inline]
    pub(crate) fn first_checkpoint(&self, site: Site, remaining: Option<usize>) -> Verdict {
        let elapsed = clock::now().wrapping_sub(self.start);
        site.record_first_item(elapsed);
        let floor = self.limits.rule.check_floor;
        if elapsed < floor {
            self.last.set((elapsed, 1));
            return Verdict::Serial(next_batch(elapsed.max(1), 1, floor, remaining));
        }
        self.verdict(elapsed, 1, remaining)
    }

    /// After `done` items in total, with `remaining` items left if known.
    #[inline]
    pub(crate) fn checkpoint(&self, done: usize, remaining: Option<usize>) -> Verdict {
        self.verdict(clock::now().wrapping_sub(self.start), done, remaining)
    }

    #[inline]
    fn verdict(&self, elapsed: u64, done: usize, remaining: Option<usize>) -> Verdict {
        let (last_elapsed, last_done) = self.last.replace((elapsed, done));
        let recent = Recent {
            ticks: elapsed.wrapping_sub(last_elapsed),
            items: done.saturating_sub(last_done),
        };
        // The engine's rule first: if both would share the call, the engine
        // takes it. Until one rule shares it, the shorter serial batch, so
        // neither rule's "finish serially" runs past the other's next look.
        let mut verdict = decide(elapsed, done, recent, remaining, &self.limits.rule);
        if let Some(engine) = &self.limits.engine {
            match (decide(elapsed, done, recent, remaining, engine), verdict) {
                (parallel @ Verdict::Parallel { .. }, _) => {
                    self.chose_engine.set(true);
                    verdict = parallel;
                }
                (Verdict::Serial(other), Verdict::Serial(batch)) => {
                    verdict = Verdict::Serial(batch.min(other));
                }
                (Verdict::Serial(_), Verdict::Parallel { .. }) => {}
            }
        }
        match verdict {
            Verdict::Parallel { ns_per_item } => Verdict::Parallel {
                ns_per_item: clock::nanos(ns_per_item).max(1),
            },
            serial => serial,
        }
    }
}

/// The batch just run, as a checkpoint sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Recent {
    /// What the batch took.
    pub(crate) ticks: u64,
    /// How many items it ran.
    pub(crate) items: usize,
}

impl Recent {
    /// No batch of its own: [`decide`] prices items by everything timed so
    /// far (`imap`'s probe, which keeps no per-batch record).
    pub(crate) const WHOLE: Recent = Recent { ticks: 0, items: 0 };
}

/// The decision rule, in any time unit (ticks in use, ns in tests), free
/// of the clock so tests can drive it. `Parallel`'s cost is in that unit.
///
/// The work it weighs against the threshold is what sharing could save:
/// the measured time less `shared_item` per item ([`SHARED_ITEM_NS`]).
/// With a known length, the cost per item is read off the `recent` batch
/// alone, not the whole time so far: the first item carries the call's
/// fixed costs (a first touch of the output's pages, a cold cache, the
/// clock), which spread over a few hundred items read as ~2 ns more per
/// item and, multiplied by 10^7 items, sent seed 000's 0.5 ns polynomial
/// to the pool. Batches double, so the recent one is about half of what
/// has been timed.
///
/// Serial batches are sized to last about as long as everything so far
/// (at least `check_floor`); the division is approximated by a shift, since
/// a 64-bit divide costs more than a small call's whole budget and a batch
/// a factor of two short only costs one more checkpoint.
#[inline]
pub(crate) fn decide(
    elapsed: u64,
    done: usize,
    recent: Recent,
    remaining: Option<usize>,
    rule: &Rule,
) -> Verdict {
    let Rule {
        threshold,
        check_floor,
        shared_item,
    } = *rule;
    let elapsed = elapsed.max(1);
    let done = done.max(1) as u64;
    let (recent_ticks, recent_items) = match recent.items {
        // `Recent::WHOLE`, or nothing run since the last checkpoint.
        0 => (elapsed, done),
        items => (recent.ticks.max(1), items as u64),
    };
    // The part of the recent batch's time that sharing could have saved.
    let saveable = recent_ticks.saturating_sub(shared_item.saturating_mul(recent_items));
    let go = match remaining {
        // Estimated remaining work = saveable / recent_items * left; trusted
        // only once `elapsed` is well above the clock's own cost (tens of
        // ns), or a first item of 0.3 ns that reads as 25 ns would send a
        // 3 µs call of 10,000 items to the pool.
        Some(left) => {
            elapsed >= check_floor
                && u128::from(saveable) * left as u128
                    >= u128::from(threshold) * u128::from(recent_items)
        }
        // Unknown length: having spent the threshold serially (less what
        // sharing would have added) is the evidence.
        None => elapsed.saturating_sub(shared_item.saturating_mul(done)) >= threshold,
    };
    if go
        && recent_items < SAMPLE_ITEMS as u64
        && remaining.is_some_and(|left| left > RESAMPLE_LEFT)
    {
        // A big call priced by a handful of items: one first touch of a
        // fresh output page (1-2 µs here) can make 1 ns items read as
        // hundreds, which sizes the parallel phase for the wrong items. A
        // sample of `SAMPLE_ITEMS` more costs at most 1/64 of the call at
        // that price.
        return Verdict::Serial(SAMPLE_ITEMS);
    }
    if go {
        return Verdict::Parallel {
            ns_per_item: (recent_ticks / recent_items).max(1),
        };
    }
    // Once more than the first item has been timed, a rest whose estimate
    // (an over-estimate while the clock's own cost dominates) stays under
    // the threshold is finished in one batch: the last batch takes the
    // iterator by value, which for cheap items costs about half as much
    // per item as a middle one (`Leaf::serial_rest`). The first item alone
    // is too thin a sample to commit the rest on.
    if let Some(left) = remaining {
        if done > 1
            && u128::from(saveable) * (left as u128)
                < u128::from(threshold) * u128::from(recent_items)
        {
            return Verdict::Serial(left.max(1));
        }
    }
    Verdict::Serial(next_batch(elapsed, done, check_floor, remaining))
}

/// The next serial batch after `done` items took `elapsed` (at least 1):
/// as long as everything so far, at least `check_floor`, by a shift rather
/// than a divide ([`decide`]).
#[inline]
fn next_batch(elapsed: u64, done: u64, check_floor: u64, remaining: Option<usize>) -> usize {
    let stretch = u128::from(elapsed.max(check_floor)) * u128::from(done);
    let shift = 63 - elapsed.leading_zeros();
    let batch = ((stretch >> shift) as usize).max(1);
    if done == 1 && remaining.is_none_or(|left| batch < left) {
        // After the first item, a short sample unless it would finish the
        // input anyway: cheap items then reach the by-value last batch
        // (above) after `SAMPLE_ITEMS` more, not after a `CHECK_FLOOR_NS`
        // stretch of slower middle-batch items.
        batch.min(SAMPLE_ITEMS)
    } else {
        batch
    }
}

/// The smallest batch a participant claims from a shared call, in ns of
/// work: a claim is one CAS on a shared cursor (~50-100 ns when contended),
/// so 5 µs keeps it near 1%, and the last batch bounds the end imbalance.
pub(crate) const BATCH_NS: u64 = 5_000;

/// Items per shared-call batch, given the cost of one.
#[inline]
pub(crate) fn batch(ns_per_item: u64) -> usize {
    ((BATCH_NS / ns_per_item.max(1)) as usize).max(1)
}

/// The largest batch a participant claims from a shared call, in ns of
/// work: if the OS deschedules a participant mid-batch (more threads than
/// cores, a busy machine), the others can wait for at most this much of
/// its work; 200 µs keeps claims under 0.1% of the work.
pub(crate) const MAX_BATCH_NS: u64 = 200_000;

/// Items per shared-call batch at most, given the cost of one.
#[inline]
pub(crate) fn max_batch(ns_per_item: u64) -> usize {
    ((MAX_BATCH_NS / ns_per_item.max(1)) as usize).max(1)
}

/// Items to run between idle-peer checks, given the cost of one.
///
/// Estimates of cheap items are rough (a page of fresh output touched for
/// the first time, or the clock's own cost, can read as tens of ns for an
/// item of one), and a grain of a dozen such items costs more in checks
/// than it runs: items estimated at [`CHEAP_ITEM_NS`] or less run at least
/// [`CHEAP_GRAIN`] at a time, which at that estimate is still a few µs.
#[inline]
pub(crate) fn grain(ns_per_item: u64) -> usize {
    let grain = ((GRAIN_NS / ns_per_item.max(1)) as usize).max(1);
    if ns_per_item <= CHEAP_ITEM_NS {
        grain.max(CHEAP_GRAIN)
    } else {
        grain
    }
}

/// See [`grain`].
pub(crate) const CHEAP_ITEM_NS: u64 = 64;

/// See [`grain`].
pub(crate) const CHEAP_GRAIN: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_known_work_stays_serial_in_one_more_batch() {
        // 100 squares: the first item took ~20 ns; the next batch must cover
        // the 99 left, so the call reads the clock only twice.
        let Verdict::Serial(next) = decide(20, 1, Recent::WHOLE, Some(99), &Rule::OUTSIDE_NS)
        else {
            panic!("expected serial")
        };
        assert!(next >= 99, "{next}");
    }

    #[test]
    fn cheap_items_are_not_judged_by_the_clock_overhead_of_one() {
        // 10,000 items of 0.3 ns: the first reads as ~25 ns (the clock's own
        // cost); that must not look like 250 µs of remaining work.
        let verdict = decide(25, 1, Recent::WHOLE, Some(9_999), &Rule::OUTSIDE_NS);
        assert!(matches!(verdict, Verdict::Serial(_)), "{verdict:?}");
    }

    #[test]
    fn big_known_work_goes_parallel_after_one_item() {
        let v = decide(1_000_000, 1, Recent::WHOLE, Some(99), &Rule::OUTSIDE_NS);
        assert_eq!(
            v,
            Verdict::Parallel {
                ns_per_item: 1_000_000
            }
        );
    }

    /// A rule that never shares, for batch sizing alone.
    const NEVER: Rule = Rule {
        threshold: u64::MAX,
        ..Rule::OUTSIDE_NS
    };

    #[test]
    fn unknown_length_goes_parallel_only_after_spending_the_threshold() {
        assert!(matches!(
            decide(10_000, 100, Recent::WHOLE, None, &Rule::OUTSIDE_NS),
            Verdict::Serial(_)
        ));
        // The threshold counts what sharing could save: the time less the
        // items' overhead when shared.
        assert!(matches!(
            decide(PARALLEL_MIN_NS, 100, Recent::WHOLE, None, &Rule::OUTSIDE_NS),
            Verdict::Serial(_)
        ));
        assert!(matches!(
            decide(
                PARALLEL_MIN_NS + 100 * SHARED_ITEM_NS,
                100,
                Recent::WHOLE,
                None,
                &Rule::OUTSIDE_NS
            ),
            Verdict::Parallel { .. }
        ));
    }

    #[test]
    fn items_cheaper_than_sharing_them_stay_serial_however_many() {
        // Seed 000: 10^7 items of ~0.55 ns, 8,000 timed in 4.4 us. Counted
        // at face value the rest is ~5.5 ms of work; shared, every item
        // would cost more than it does in the loop.
        assert_eq!(
            decide(
                4_400,
                8_000,
                Recent::WHOLE,
                Some(9_992_000),
                &Rule::OUTSIDE_NS
            ),
            Verdict::Serial(9_992_000)
        );
        let face_value = Rule {
            shared_item: 0,
            ..Rule::OUTSIDE_NS
        };
        assert!(matches!(
            decide(4_400, 8_000, Recent::WHOLE, Some(9_992_000), &face_value),
            Verdict::Parallel { .. }
        ));
    }

    #[test]
    fn a_slow_start_is_not_taken_for_slow_items() {
        // 10^7 items of 0.5 ns: the first 17 took 10 us (a page of the
        // output touched for the first time, a cold cache), the next 4,000
        // took 2 us. Averaged, ~3 ns an item would be worth sharing; the
        // recent batch says the items are far too cheap to.
        let (elapsed, done, left) = (12_000, 4_017, 9_995_983);
        let recent = Recent {
            ticks: 2_000,
            items: 4_000,
        };
        assert_eq!(
            decide(elapsed, done, recent, Some(left), &Rule::OUTSIDE_NS),
            Verdict::Serial(left)
        );
        assert!(matches!(
            decide(elapsed, done, Recent::WHOLE, Some(left), &Rule::OUTSIDE_NS),
            Verdict::Parallel { .. }
        ));
    }

    #[test]
    fn the_recent_batch_prices_items_that_go_parallel() {
        // 10^5 items of ~5 ns after a slow first item: the estimate handed
        // on (which sizes the batches) is the recent batch's.
        let recent = Recent {
            ticks: 5_000,
            items: 1_000,
        };
        assert_eq!(
            decide(25_000, 1_017, recent, Some(98_983), &Rule::OUTSIDE_NS),
            Verdict::Parallel { ns_per_item: 5 }
        );
    }

    #[test]
    fn items_of_a_few_ns_still_go_parallel_when_there_is_enough_of_them() {
        // 10^5 items of ~5 ns, 1,000 timed in 5 us: ~400 us worth saving.
        assert_eq!(
            decide(5_000, 1_000, Recent::WHOLE, Some(99_000), &Rule::OUTSIDE_NS),
            Verdict::Parallel { ns_per_item: 5 }
        );
        // The same items, 10^4 of them: ~36 us worth saving stays serial.
        assert_eq!(
            decide(5_000, 1_000, Recent::WHOLE, Some(9_000), &Rule::OUTSIDE_NS),
            Verdict::Serial(9_000)
        );
    }

    #[test]
    fn batches_grow_with_elapsed_time() {
        // An input of unknown length that has not yet spent the threshold.
        let Verdict::Serial(first) = decide(1_000, 10, Recent::WHOLE, None, &NEVER) else {
            panic!("expected serial")
        };
        let Verdict::Serial(later) = decide(100_000, 1_000, Recent::WHOLE, None, &NEVER) else {
            panic!("expected serial")
        };
        assert!(later > first, "{later} <= {first}");
    }

    #[test]
    fn a_small_rest_is_finished_in_one_batch_once_more_than_one_item_was_timed() {
        // 10,000 items of ~1 ns, 101 timed in 140 ns (mostly clock cost):
        // the rest, 9,899 items, is estimated at ~14 us < 50 us.
        assert_eq!(
            decide(140, 101, Recent::WHOLE, Some(9_899), &Rule::OUTSIDE_NS),
            Verdict::Serial(9_899)
        );
        // After the first item alone, the next batch is a sample, not the rest.
        let Verdict::Serial(next) = decide(40, 1, Recent::WHOLE, Some(9_999), &Rule::OUTSIDE_NS)
        else {
            panic!("expected serial")
        };
        assert!(next < 9_999, "{next}");
    }

    #[test]
    fn a_big_call_is_not_priced_by_a_handful_of_items() {
        // 10^7 items; the 5 after the first took 86 µs (descheduled, or
        // first touches). Another sample first, not the pool.
        let recent = Recent {
            ticks: 86_000,
            items: 5,
        };
        let rule = &Rule::OUTSIDE_NS;
        assert_eq!(
            decide(88_000, 6, recent, Some(9_999_994), rule),
            Verdict::Serial(SAMPLE_ITEMS)
        );
        // A sample of `SAMPLE_ITEMS` is enough.
        let recent = Recent {
            ticks: 80,
            items: SAMPLE_ITEMS,
        };
        assert!(matches!(
            decide(
                88_100,
                22,
                recent,
                Some(9_999_978),
                &Rule {
                    shared_item: 0,
                    ..*rule
                }
            ),
            Verdict::Parallel { .. }
        ));
        // As are a handful of items when few are left.
        let recent = Recent {
            ticks: 86_000,
            items: 5,
        };
        assert!(matches!(
            decide(88_000, 6, recent, Some(RESAMPLE_LEFT), rule),
            Verdict::Parallel { .. }
        ));
    }

    #[test]
    fn a_first_item_under_the_floor_gets_the_batch_every_rule_would_give() {
        // `Probe::first_checkpoint` skips the rules below the floor: that
        // must be what each of them decides there, whatever is left.
        let rules = [
            Rule::OUTSIDE_NS,
            Rule::IN_WORKER_NS,
            Rule::IN_WORKER_COPIED_NS,
            Rule::ENGINE_INDEXED_NS,
            Rule::ENGINE_STREAMED_NS,
        ];
        let lefts = [None, Some(0), Some(1), Some(9), Some(99), Some(10_000_000)];
        for rule in rules {
            for elapsed in (1..CHECK_FLOOR_NS).step_by(37).chain([CHECK_FLOOR_NS - 1]) {
                for left in lefts {
                    let recent = Recent {
                        ticks: elapsed,
                        items: 1,
                    };
                    assert_eq!(
                        decide(elapsed, 1, recent, left, &rule),
                        Verdict::Serial(next_batch(elapsed, 1, CHECK_FLOOR_NS, left)),
                        "{rule:?}, first item {elapsed} ns, {left:?} left"
                    );
                }
            }
        }
    }

    #[test]
    fn grain_is_at_least_one_item() {
        assert_eq!(grain(10_000_000), 1);
        assert_eq!(grain(1), GRAIN_NS as usize);
    }
}
