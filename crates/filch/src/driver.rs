//! One driver for every eager combinator (`map`, `starmap`, `try_map`,
//! `map_init`): the serial-first probe on the calling thread, then, if the
//! remaining work is big enough, a parallel phase:
//! - called from **outside** the pool: `shared_call.rs`. The caller keeps working
//!   and `threads - 1` helper jobs join it through a shared cursor; helpers
//!   that wake after the work is gone do nothing. So which items run on a
//!   worker is timing-dependent, and a 1-thread pool's calls from outside
//!   run entirely on the caller (results are the same either way).
//! - called on a **worker** of the pool (nested calls, or inside
//!   `install`): `split_by_index.rs`, lazy binary splitting with `join`.
//!
//! A call nested in an item the *calling* thread runs (it is no worker) is
//! a call from outside again, to the same pool. A call from outside whose
//! site's first items were long and nested parallel calls of their own is
//! handed to the engine whole instead (`heavy_to_engine`).
//!
//! An explicit chunk size skips the probe but not this choice.

use std::cell::Cell;
use std::num::NonZeroUsize;
use std::ptr;

use filch_scheduler::ThreadPool;

use crate::caller::{caller_pool, swap_items_went_parallel, CallerScope};
use crate::clock;
use crate::first_item::{self, First};
use crate::history::Site;
use crate::leaves::{Leaf, Stopped};
use crate::output;
use crate::probe::{self, Probe, Rules, Verdict};
use crate::shared_call::{self, claim_buffer_items, Batching, Outcome};
use crate::source::{same_layout, InPlace, OwnedBuffer, SliceIter, Source, Stepped, VecBuffer};
use crate::split_by_index::{self, Control, Outputs};
use crate::stream;

/// How a call is split into units of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chunking {
    /// The probe and the scheduler decide (the default).
    Auto,
    /// The caller fixed the chunk size: no serial probe, splits on multiples
    /// of it, each worker takes at least this many items at a time.
    Fixed(NonZeroUsize),
}

/// Where a call runs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Target<'p> {
    /// This pool.
    Pool(&'p ThreadPool),
    /// The calling worker's pool, or the global pool off-pool.
    Current,
}

impl<'p> Target<'p> {
    /// Whether the caller is already a worker of the target pool.
    #[inline]
    pub(crate) fn in_worker(self) -> bool {
        match self {
            Target::Pool(pool) => pool.current_thread_index().is_some(),
            // A caller working on its pool's call is not one of its
            // workers: its nested `filch::map` is a call from outside to
            // that pool (`pool()` below), like a nested `pool.map`. It
            // could not split as a worker does (no thief can take a
            // non-worker's half), so it would run serially while helpers
            // that ran out of items idle; shared, they join it.
            Target::Current => filch_scheduler::current_thread_index().is_some(),
        }
    }

    /// The pool itself (the global pool for `Current` off-pool).
    #[inline]
    pub(crate) fn pool(self) -> &'p ThreadPool {
        match self {
            Target::Pool(pool) => pool,
            Target::Current => caller_pool().unwrap_or_else(filch_scheduler::global_pool),
        }
    }

    /// Runs `op` on the target pool.
    pub(crate) fn install<R: Send>(self, op: impl FnOnce() -> R + Send) -> R {
        match self {
            Target::Pool(pool) => pool.install(op),
            Target::Current if self.in_worker() => op(),
            Target::Current => self.pool().install(op),
        }
    }
}

/// The remaining length, if the iterator knows it exactly.
fn exact_remaining<I: Iterator>(iter: &I) -> Option<usize> {
    match iter.size_hint() {
        (lo, Some(hi)) if lo == hi => Some(lo),
        _ => None,
    }
}

/// Runs a whole call: probe, then the engine for what remains.
pub(crate) fn drive<I, T, R, M, L>(
    target: Target<'_>,
    chunking: Chunking,
    items: I,
    make_leaf: &M,
) -> Result<Vec<R>, Stopped>
where
    I: IntoIterator<Item = T>,
    I::IntoIter: Send,
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    // Read before the input becomes an iterator: an owned `Vec`'s rest is
    // split in place after the probe (`source.rs`).
    let vec_buffer = VecBuffer::of::<I, T>(&items);
    // Whose results can go over its inputs: then the call allocates no
    // output (the probe's few results grow a small `Vec` of their own).
    let in_place = vec_buffer.filter(|_| same_layout::<T, R>());
    let mut iter = items.into_iter();
    let mut out: Vec<R> = match in_place {
        Some(_) => Vec::new(),
        None => output::with_capacity(iter.size_hint().0),
    };
    // Asked once: a thread-local lookup, and a small call's budget is tight.
    let in_worker = target.in_worker();
    let nest_watch = (!in_worker).then(NestWatch::start);
    // Items this thread runs (the probe's, and its part of a shared call)
    // belong to the target pool: a free function they call goes to it, as
    // on a worker, not to the global pool. `Current` off the pool has the
    // pool of an enclosing scope already, or is the global pool's call.
    let _caller = match target {
        Target::Pool(pool) if !in_worker => Some(CallerScope::enter(pool)),
        _ => None,
    };
    let priced = match chunking {
        Chunking::Fixed(_) => None,
        Chunking::Auto => {
            let exact = exact_remaining(&iter).is_some();
            let indexed = vec_buffer.is_some() || is_range(&iter) || SliceIter::is(&iter);
            let probe = Probe::start(Rules::of(in_worker, exact, indexed));
            // This driver's code, the user's function inlined, names the
            // call site (`history.rs`).
            let site = Site::new(drive::<I, T, R, M, L> as *const () as usize);
            if let Some(watch) = &nest_watch {
                if site.nests() {
                    iter = match heavy_to_engine(target, &probe, site, iter, make_leaf) {
                        Ok(result) => {
                            watch.went_parallel.set(true);
                            return result;
                        }
                        Err(iter) => iter,
                    };
                }
                watch.site.set(Some(site));
            }
            // Pulled before the leaf is made: an empty input never runs
            // `map_init`'s `init`.
            let Some(first_input) = iter.next() else {
                return Ok(out);
            };
            let mut leaf = make_leaf();
            let first = FirstItem {
                probe: &probe,
                site,
                in_worker,
                in_place,
            };
            match first.run(
                target,
                first_input,
                &mut iter,
                &mut out,
                make_leaf,
                &mut leaf,
            ) {
                AfterFirst::Probe => {}
                AfterFirst::Stopped => return Err(Stopped),
                // The rest was shared: the call went parallel.
                finished => {
                    if let Some(watch) = &nest_watch {
                        watch.went_parallel.set(true);
                    }
                    let AfterFirst::FinishedInPlace(len) = finished else {
                        return Ok(out);
                    };
                    let buffer = in_place.expect("only a call in place finishes in place");
                    let Ok(rest) = buffer.take_rest(iter) else {
                        unreachable!("the iterator was checked to be the buffer's");
                    };
                    // SAFETY: the buffer's first `len` slots hold the
                    // call's results, owned by nobody else (`FirstItem::run`);
                    // an `R` fits a `T`'s slot.
                    return Ok(unsafe { rest.into_vec(len) });
                }
            }
            let mut verdict = probe.first_checkpoint(site, exact_remaining(&iter));
            loop {
                match verdict {
                    Verdict::Parallel { ns_per_item } => {
                        break Some(Priced {
                            ns_per_item,
                            engine: probe.chose_engine(),
                        })
                    }
                    Verdict::Serial(batch)
                        if exact_remaining(&iter).is_some_and(|left| left <= batch) =>
                    {
                        if let Some(buffer) = in_place {
                            return serial_end(buffer, iter, out, &mut leaf);
                        }
                        // The last batch: by value (see `Leaf::serial_rest`).
                        return match leaf.serial_rest(iter, &mut out) {
                            true => Ok(out),
                            false => Err(Stopped),
                        };
                    }
                    Verdict::Serial(batch) => {
                        let before = out.len();
                        if !leaf.serial_batch(&mut iter, batch, &mut out) {
                            return Err(Stopped);
                        }
                        if out.len() - before < batch {
                            return Ok(out); // input exhausted
                        }
                        verdict = probe.checkpoint(out.len(), exact_remaining(&iter));
                    }
                }
            }
        }
    };
    if let Some(watch) = &nest_watch {
        watch.went_parallel.set(true);
    }
    let splitting = Splitting { chunking, priced };
    // The engine splits by index, with no claims: on a worker always (it
    // waits for its halves by running other jobs), from outside when the
    // probe's engine rule chose it or a chunk size asks for the pool.
    let engine = in_worker || splitting.engine_from_outside(exact_remaining(&iter));
    if engine {
        if let Some(buffer) = vec_buffer {
            let iter = match buffer.take_rest(iter) {
                Ok(rest) => return engine_over_buffer(target, rest, out, make_leaf, splitting),
                Err(iter) => iter,
            };
            return fallback_phase(target, engine, splitting, iter, out, make_leaf);
        }
        let Some(n) = exact_remaining(&iter) else {
            return fallback_phase(target, engine, splitting, iter, out, make_leaf);
        };
        return match engine_by_index(target, iter, n, out, make_leaf, splitting) {
            Ok(result) => result,
            Err((iter, out)) => fallback_phase(target, engine, splitting, iter, out, make_leaf),
        };
    }
    if let Some(buffer) = in_place {
        // Shared from outside: still in place, as on the engine.
        return match buffer.take_rest(iter) {
            Ok(rest) => shared_over_buffer(target.pool(), rest, out, make_leaf, splitting),
            Err(iter) => fallback_phase(target, engine, splitting, iter, out, make_leaf),
        };
    }
    fallback_phase(target, engine, splitting, iter, out, make_leaf)
}

/// Watches, for one call made on a thread that is no worker (started before
/// the call enters its own caller scope), whether a call
/// made in an item this thread runs for it goes parallel, and records that
/// as the site's (`Site::nests`) when the call ends. It also tells the
/// enclosing call, if this one runs in one of its items, whether this one
/// went parallel. See [`heavy_to_engine`] for what the record decides.
struct NestWatch {
    /// The enclosing call's flag (`caller::swap_items_went_parallel`).
    enclosing: bool,
    /// This call is made in an item that this thread runs for another call
    /// (it has a caller scope), so its going parallel makes that item nest.
    in_callers_item: bool,
    /// This call went parallel.
    went_parallel: Cell<bool>,
    /// Where to record what this call's items did, once it is known.
    site: Cell<Option<Site>>,
}

impl NestWatch {
    #[inline]
    fn start() -> NestWatch {
        NestWatch {
            enclosing: swap_items_went_parallel(false),
            in_callers_item: caller_pool().is_some(),
            went_parallel: Cell::new(false),
            site: Cell::new(None),
        }
    }
}

impl Drop for NestWatch {
    #[inline]
    fn drop(&mut self) {
        let nested_here = self.in_callers_item && self.went_parallel.get();
        let items_nest = swap_items_went_parallel(self.enclosing || nested_here);
        if let Some(site) = self.site.get() {
            site.record_nests(items_nest);
        }
    }
}

/// A call from outside whose site's last first items were long
/// (`Probe::share_at_once`) and whose items, run on this thread last time,
/// made parallel calls of their own (`Site::nests`), over a range or a
/// slice: the whole call goes to the engine on the pool at once, the first
/// item included, and this thread waits, as a call inside `install` would.
///
/// Why: such a call would otherwise be shared with `threads - 1` helpers
/// while this thread works on items too, and a parallel call in one of this
/// thread's items wakes the last worker: three threads on two cores' worth
/// of pool. Nested maps of 32 × 256 items of 1 µs ran at 1.87-1.89x the
/// loop that way, at 1.91-1.94x handed over (1.93-1.96x inside `install`). A call whose items do not nest
/// keeps this thread working beside its helpers, which saves the wake-ups
/// of a call handed over whole (4 items of 1 ms: 1.91x shared, 1.64-1.72x
/// handed over).
///
/// Then records, as the site's first item, what an item took on average
/// (wall time × threads ÷ items), so that a site whose items turn short
/// goes back to the probe; the site's nesting record stays as it was (this
/// thread ran no item to say otherwise). `Err` gives the iterator back.
fn heavy_to_engine<J, T, R, M, L>(
    target: Target<'_>,
    probe: &Probe,
    site: Site,
    iter: J,
    make_leaf: &M,
) -> Result<Result<Vec<R>, Stopped>, J>
where
    J: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    let Some(n) = exact_remaining(&iter) else {
        return Err(iter);
    };
    let threads = target.pool().num_threads();
    if threads < 2 || n < 2 || !probe.share_at_once(site, n - 1) {
        return Err(iter);
    }
    let Some(first_ns) = site.last_first_item().map(clock::nanos) else {
        return Err(iter);
    };
    let splitting = Splitting {
        chunking: Chunking::Auto,
        priced: Some(Priced {
            ns_per_item: first_ns.max(1),
            engine: true,
        }),
    };
    let start = clock::now();
    let result = match engine_by_index(target, iter, n, Vec::new(), make_leaf, splitting) {
        Ok(result) => result,
        Err((iter, _)) => return Err(iter),
    };
    let elapsed = clock::now().wrapping_sub(start);
    site.record_first_item(elapsed.saturating_mul(threads as u64) / n as u64);
    Ok(result)
}

/// The engine over the `n` items left of an input that splits by index
/// where it lies (a range or a slice), after the results already in `out`;
/// any other input comes back, with `out`.
fn engine_by_index<J, T, R, M, L>(
    target: Target<'_>,
    iter: J,
    n: usize,
    out: Vec<R>,
    make_leaf: &M,
    splitting: Splitting,
) -> Result<Result<Vec<R>, Stopped>, (J, Vec<R>)>
where
    J: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    let iter = match Stepped::new(iter) {
        Ok(range) => return Ok(engine_phase(target, &range, n, out, make_leaf, splitting)),
        Err(iter) => iter,
    };
    match SliceIter::new(iter) {
        Ok(slice) => Ok(engine_phase(target, &slice, n, out, make_leaf, splitting)),
        Err(iter) => Err((iter, out)),
    }
}

/// Whether `iter` is an integer range, which splits by index.
fn is_range<J: Iterator>(_iter: &J) -> bool {
    typeid::of::<J>() == typeid::of::<std::ops::Range<J::Item>>()
}

/// The parallel phase of an input that does not split by index: on the
/// engine (`split_by_index.rs`: on a worker, or a big call from outside), pulled in
/// chunks if its length is known (`stream.rs`), else collected first;
/// otherwise through claims from the iterator (`shared_call.rs`).
fn fallback_phase<J, T, R, M, L>(
    target: Target<'_>,
    engine: bool,
    splitting: Splitting,
    iter: J,
    out: Vec<R>,
    make_leaf: &M,
) -> Result<Vec<R>, Stopped>
where
    J: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    if engine {
        if let Some(n) = exact_remaining(&iter) {
            return stream_phase(target, iter, n, out, make_leaf, splitting);
        }
        let rest = OwnedBuffer::from_vec(iter.collect());
        return engine_over_buffer(target, rest, out, make_leaf, splitting);
    }
    match exact_remaining(&iter) {
        Some(n) => shared_phase(
            target.pool(),
            iter,
            n,
            out,
            make_leaf,
            splitting.batching::<T>(),
        ),
        // Unknown length: the output needs sizing, so collect the rest.
        None => {
            let rest: Vec<T> = iter.collect();
            let n = rest.len();
            shared_phase(
                target.pool(),
                rest.into_iter(),
                n,
                out,
                make_leaf,
                splitting.batching::<T>(),
            )
        }
    }
}

/// What the probe found out about a call it sent to the pool.
#[derive(Clone, Copy, Debug)]
struct Priced {
    /// An item's cost, rounded up to whole ns.
    ns_per_item: u64,
    /// The engine's rule chose the pool (`Probe::chose_engine`).
    engine: bool,
}

/// How a parallel phase sizes its work, from the chunk size or the probe's
/// findings.
#[derive(Clone, Copy, Debug)]
struct Splitting {
    chunking: Chunking,
    priced: Option<Priced>,
}

impl Splitting {
    /// The probe's estimate of an item's cost, if it ran.
    fn ns_per_item(self) -> Option<u64> {
        self.priced.map(|priced| priced.ns_per_item)
    }

    /// Whether a call from outside with `n` items left should hand them to
    /// the engine on the pool and wait: with an explicit chunk size always
    /// (the caller asked for the pool), else when the probe's engine rule
    /// chose it (`probe::ENGINE_MIN_NS`), so the wait for a worker to wake
    /// is a small part of the call. Smaller calls keep the caller working
    /// beside its helpers (`shared_call.rs`). Only inputs of known length.
    fn engine_from_outside(self, n: Option<usize>) -> bool {
        n.is_some()
            && match (self.chunking, self.priced) {
                (Chunking::Fixed(_), _) => true,
                (Chunking::Auto, Some(priced)) => priced.engine,
                (Chunking::Auto, None) => false,
            }
    }

    /// The engine's settings: a chunk size is the grain and the unit of
    /// splits, and two chunks are worth a wake-up (the caller asked for the
    /// pool); otherwise the probe's estimate sizes the grain and the items
    /// worth a wake-up (`probe::WAKE_MIN_NS`), which the engine corrects.
    fn control(self) -> Control {
        match (self.chunking, self.priced) {
            (Chunking::Fixed(chunk), _) => {
                Control::new(chunk.get(), chunk.get(), 2 * chunk.get(), false)
            }
            (Chunking::Auto, priced) => {
                let ns = priced.map_or(probe::WAKE_MIN_NS, |priced| priced.ns_per_item);
                Control::new(probe::grain(ns), 1, probe::wake_items(ns), true)
            }
        }
    }

    /// The claims of a shared call from outside.
    fn batching<T>(self) -> Batching {
        match (self.chunking, self.ns_per_item()) {
            (Chunking::Fixed(chunk), _) => Batching {
                min: chunk.get(),
                max: chunk.get(),
                fixed: true,
            },
            (Chunking::Auto, ns) => {
                // A claim is copied into the claimer's buffer: keep that
                // buffer cache-sized, or a memory-bound map pays a second
                // trip to memory per item.
                let max = ns
                    .map_or(usize::MAX, probe::max_batch)
                    .min(claim_buffer_items::<T>());
                Batching {
                    min: ns.map_or(1, probe::batch).min(max),
                    max,
                    fixed: false,
                }
            }
        }
    }
}

/// What is left to do after the first item.
enum AfterFirst {
    /// The first item ran alone and is in `out`: go on probing.
    Probe,
    /// The rest was shared, and the call is complete in `out`.
    Finished,
    /// The rest was shared, and the call is complete in the first `len`
    /// slots of the input `Vec`'s buffer, mapped in place; its iterator is
    /// exhausted.
    FinishedInPlace(usize),
    /// A leaf stopped the call.
    Stopped,
}

/// The probe's first item and what it is measured against.
struct FirstItem<'p> {
    probe: &'p Probe,
    site: Site,
    /// The caller is a worker of the target pool.
    in_worker: bool,
    /// The input `Vec`'s buffer, if the call maps it in place.
    in_place: Option<VecBuffer>,
}

impl FirstItem<'_> {
    /// Runs the probe's first item, armed (`first_item.rs`): if it blocks, the
    /// rest of a known-length input is shared with the pool while it waits;
    /// if the site's last two first items were long, it is shared before it starts.
    fn run<I, T, R, M, L>(
        self,
        target: Target<'_>,
        first: T,
        iter: &mut I,
        out: &mut Vec<R>,
        make_leaf: &M,
        leaf: &mut L,
    ) -> AfterFirst
    where
        I: Iterator<Item = T> + Send,
        T: Send,
        R: Send,
        M: Fn() -> L + Sync,
        L: Leaf<T, Out = R>,
    {
        debug_assert!(out.is_empty());
        let n = match exact_remaining(iter) {
            Some(n) if n > 0 => n,
            // Nothing left to share, or no way to size its outputs.
            _ => {
                return match leaf.call(first) {
                    Some(value) => {
                        out.push(value);
                        AfterFirst::Probe
                    }
                    None => AfterFirst::Stopped,
                }
            }
        };
        let pool = target.pool();
        let share_at_once =
            !self.in_worker && self.probe.share_at_once(self.site, n) && pool.num_threads() > 1;
        // In place if the iterator is the buffer's with only the first
        // item taken: its slot takes the first result, and the rest's
        // results go over their inputs.
        let in_place = self
            .in_place
            .filter(|buffer| buffer.taken_by(iter) == Some(1))
            .map(VecBuffer::first_slot::<R>);
        let run = || {
            let value = leaf.call(first);
            if share_at_once {
                // No checkpoint follows a shared first item: record it
                // here, so a wrong guess is not repeated.
                self.probe.record_first_item(self.site);
            }
            value
        };
        // SAFETY: `in_place` is the buffer of the `Vec` that `iter` is
        // the iterator of, with one item taken: slot 0 is free and slot `i`
        // holds the item `iter` yields `i`-th, the `n` items it has left
        // (exact: a `vec::IntoIter`'s size hint); an `R` fits a `T`'s slot.
        let first =
            unsafe { first_item::run(pool, iter, n, out, in_place, make_leaf, share_at_once, run) };
        match (first, in_place) {
            (First::Shared(Some(value), Outcome::Complete(count)), Some(slot)) => {
                assert_eq!(count, n, "an owned buffer's items all mapped");
                // SAFETY: slot 0 held the first item, moved out before it
                // ran; the shared rest wrote slots `1..=n`.
                unsafe { slot.write(value) };
                AfterFirst::FinishedInPlace(n + 1)
            }
            (First::Alone(Some(value)), _) => {
                out.push(value);
                AfterFirst::Probe
            }
            (First::Shared(Some(value), Outcome::Complete(count)), None) => {
                // Slot 0: within the capacity reserved for the shared call,
                // so no reallocation.
                out.push(value);
                // SAFETY: the shared rest initialised slots `1..=count` and
                // handed them to `out`.
                unsafe { out.set_len(1 + count) };
                if finish_overlong(iter, out, make_leaf) {
                    AfterFirst::Finished
                } else {
                    AfterFirst::Stopped
                }
            }
            (First::Alone(None) | First::Shared(..), _) => AfterFirst::Stopped,
        }
    }
}

/// Maps what an iterator still yields after a shared phase, serially: one
/// may yield more than its size hint promised. `false` if stopped. Makes a
/// leaf only for such leftovers (`map_init`'s `init` never runs for no
/// item).
fn finish_overlong<I, T, R, M, L>(iter: &mut I, out: &mut Vec<R>, make_leaf: &M) -> bool
where
    I: Iterator<Item = T>,
    M: Fn() -> L,
    L: Leaf<T, Out = R>,
{
    let Some(item) = iter.next() else {
        return true;
    };
    let mut leaf = make_leaf();
    match leaf.call(item) {
        Some(value) => out.push(value),
        None => return false,
    }
    leaf.serial_batch(iter, usize::MAX, out)
}

/// The parallel phase from outside the pool (`shared_call.rs`), then whatever the
/// input still holds if its size hint was short, serially.
fn shared_phase<J, T, R, M, L>(
    pool: &ThreadPool,
    iter: J,
    n: usize,
    mut out: Vec<R>,
    make_leaf: &M,
    batching: Batching,
) -> Result<Vec<R>, Stopped>
where
    J: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    output::reserve(&mut out, n);
    // SAFETY: `reserve` made room for `n` more slots past `len`; they
    // are uninitialised and `out` is not touched until the phase returns.
    let outputs = unsafe { out.as_mut_ptr().add(out.len()) };
    // SAFETY: as just established.
    let (outcome, mut rest) =
        unsafe { shared_call::run(pool, iter, n, outputs, make_leaf, batching) };
    match outcome {
        shared_call::Outcome::Stopped => Err(Stopped),
        shared_call::Outcome::Complete(count) => {
            // SAFETY: the phase initialised the first `count <= n` slots and
            // handed them to `out`.
            unsafe { out.set_len(out.len() + count) };
            if finish_overlong(&mut rest, &mut out, make_leaf) {
                Ok(out)
            } else {
                Err(Stopped)
            }
        }
    }
}

/// The engine over the taken-over rest of an owned buffer (the input `Vec`,
/// or the rest collected on a worker); the buffer is freed however the call
/// ends.
fn engine_over_buffer<T, R, M, L>(
    target: Target<'_>,
    rest: OwnedBuffer<T>,
    out: Vec<R>,
    make_leaf: &M,
    splitting: Splitting,
) -> Result<Vec<R>, Stopped>
where
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    if same_layout::<T, R>() && rest.taken_before() == out.len() {
        return engine_in_place(target, rest, out, make_leaf, splitting);
    }
    let n = rest.len();
    // SAFETY: the engine hands out each of the `n` indices once, and
    // `rest` outlives it (it is dropped at the end of this function).
    let source = unsafe { rest.source() };
    engine_phase(target, &source, n, out, make_leaf, splitting)
}

/// The engine over an owned buffer whose slots fit the results (same size
/// and alignment) and whose first `out.len()` items the probe already
/// mapped: each result is written over its own input, as the standard
/// library's in-place `collect` does, so the call writes no fresh memory
/// and allocates no output; the probe's results are then moved to the
/// front of the buffer, which becomes the result.
///
/// Why it is sound: a piece reads input `i` (moving it out) before it
/// writes result `i` into the same slot, and owns both; at every moment a
/// slot holds an unread input, a written result, or nothing, and the
/// guards of `split_by_index.rs` drop exactly the inputs and the results
/// they own, by type. If the call stops or panics, the results written so
/// far are dropped by those guards and `rest` frees the buffer.
fn engine_in_place<T, R, M, L>(
    target: Target<'_>,
    rest: OwnedBuffer<T>,
    out: Vec<R>,
    make_leaf: &M,
    splitting: Splitting,
) -> Result<Vec<R>, Stopped>
where
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    let n = rest.len();
    // SAFETY: the engine hands out each of the `n` indices once, and
    // `rest` outlives it; the outputs below are the inputs' own slots, and
    // an `R` fits a `T`'s slot (`same_layout`, checked by the caller).
    let source = unsafe { InPlace::new(rest.source()) };
    // SAFETY: slot `i` of the rest holds input `i` until the piece owning
    // `i` reads it; only then does that piece write result `i` there (see
    // above).
    let outputs = unsafe { Outputs::new(rest.rest_as::<R>()) };
    // SAFETY: the indices `0..n` are the call's, not taken before. On a
    // stop the engine has dropped its results; `rest` then frees the buffer.
    unsafe { run_engine(target, &source, n, outputs, make_leaf, splitting)? };
    // SAFETY: the rest's slots hold its `n` results, and the buffer's
    // first `out.len()` slots the inputs the probe moved out.
    Ok(unsafe { results_in_place(rest, out) })
}

/// The shared phase (`shared_call.rs`) over the taken-over rest of an
/// owned `Vec`: in place when the results fit the inputs' slots and line
/// up with them (see [`engine_in_place`]), otherwise into `out`.
///
/// Why in place is sound here too: a claim moves its batch out of the
/// iterator, under the lock, before its participant writes any result of
/// that batch, and result `i` goes to the slot input `i` came from; a slot
/// past the iterator's position is never written, and one before it holds
/// nothing or a result of the batch that owns it. On a stop or panic the
/// phase drops the results written, the iterator the inputs nobody claimed,
/// and `rest` frees the buffer.
fn shared_over_buffer<T, R, M, L>(
    pool: &ThreadPool,
    rest: OwnedBuffer<T>,
    out: Vec<R>,
    make_leaf: &M,
    splitting: Splitting,
) -> Result<Vec<R>, Stopped>
where
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    let n = rest.len();
    // SAFETY: all `n` indices are taken once, here, and `rest` outlives
    // the source and the run taken from it.
    let source = unsafe { rest.source() };
    // SAFETY: as just said.
    let items = unsafe { source.take(0..n) };
    let batching = splitting.batching::<T>();
    if !(same_layout::<T, R>() && rest.taken_before() == out.len()) {
        return shared_phase(pool, items, n, out, make_leaf, batching);
    }
    // SAFETY: the `n` slots of the rest stay allocated until `rest` drops;
    // slot `i` holds input `i` until the iterator yields it, and only then
    // is result `i` written there (see above); an `R` fits a `T`'s slot.
    let (outcome, left) =
        unsafe { shared_call::run(pool, items, n, rest.rest_as::<R>(), make_leaf, batching) };
    drop(left);
    match outcome {
        Outcome::Stopped => Err(Stopped),
        Outcome::Complete(count) => {
            // The iterator yields exactly `n` items, so a complete call
            // wrote them all; checked, as the `Vec` below relies on it.
            assert_eq!(count, n, "an owned buffer's items all mapped");
            // SAFETY: the rest's `n` slots hold its results, and the
            // buffer's first `out.len()` slots the inputs the probe moved
            // out.
            Ok(unsafe { results_in_place(rest, out) })
        }
    }
}

/// The last serial batch of a call over an owned `Vec` whose slots fit
/// the results: in place, unless the iterator is not the `Vec`'s own.
fn serial_end<J, T, R, L>(
    buffer: VecBuffer,
    iter: J,
    mut out: Vec<R>,
    leaf: &mut L,
) -> Result<Vec<R>, Stopped>
where
    J: Iterator<Item = T>,
    T: Send,
    L: Leaf<T, Out = R>,
{
    let stopped = match buffer.take_rest(iter) {
        Ok(rest) if rest.taken_before() == out.len() => return serial_in_place(rest, out, leaf),
        Ok(rest) => {
            // Results and inputs do not line up: an output of its own.
            // SAFETY: each index is taken once, before `rest` drops.
            let source = unsafe { rest.source() };
            // SAFETY: the rest's indices are the call's.
            !leaf.serial_rest(unsafe { source.take(0..rest.len()) }, &mut out)
        }
        Err(iter) => !leaf.serial_rest(iter, &mut out),
    };
    match stopped {
        false => Ok(out),
        true => Err(Stopped),
    }
}

/// The serial end of a call over an owned buffer whose slots fit the
/// results (see [`engine_in_place`]): the rest is mapped in place on this
/// thread, as the standard library's `into_iter().map().collect()` does.
fn serial_in_place<T, R, L>(
    rest: OwnedBuffer<T>,
    out: Vec<R>,
    leaf: &mut L,
) -> Result<Vec<R>, Stopped>
where
    L: Leaf<T, Out = R>,
{
    /// Results written so far over the rest: dropped if the call stops or
    /// panics (before `rest` frees the buffer).
    struct Results<R> {
        first: *mut R,
        len: usize,
    }
    impl<R> Drop for Results<R> {
        fn drop(&mut self) {
            // SAFETY: the first `len` slots of the rest hold results this
            // guard owns.
            unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(self.first, self.len)) }
        }
    }
    let mut results = Results {
        first: rest.rest_as::<R>(),
        len: 0,
    };
    // SAFETY: the rest's `len()` slots hold its inputs, which this call
    // owns; an `R` fits a `T`'s slot (checked by the caller).
    let going = unsafe { leaf.write_in_place(rest.rest_as::<T>(), rest.len(), &mut results.len) };
    if !going {
        return Err(Stopped);
    }
    debug_assert_eq!(results.len, rest.len());
    std::mem::forget(results);
    // SAFETY: as `engine_in_place`'s call.
    Ok(unsafe { results_in_place(rest, out) })
}

/// The result of an in-place call: the probe's results in `out` moved to
/// the front of the buffer, in the slots of the inputs they came from; the
/// buffer, as a `Vec<R>`, is the result.
///
/// # Safety
/// `R` must fit `T`'s slots (`same_layout`); all `rest.len()` slots of the
/// rest must hold initialised results, owned by nobody else, and the
/// buffer's `out.len()` slots before them the inputs the probe moved out
/// (`rest.taken_before() == out.len()`).
unsafe fn results_in_place<T, R>(rest: OwnedBuffer<T>, mut out: Vec<R>) -> Vec<R> {
    let done = out.len();
    debug_assert_eq!(rest.taken_before(), done);
    // SAFETY: those `done` slots are free (the caller's promise); `out`'s
    // results are moved there bitwise and then forgotten by `out`
    // (`set_len(0)`), whose own buffer is freed without dropping them.
    unsafe {
        let front = rest.rest_as::<R>().sub(done);
        ptr::copy_nonoverlapping(out.as_ptr(), front, done);
        out.set_len(0);
    }
    let len = done + rest.len();
    // SAFETY: same layout, and slots `..len` hold the probe's results, then
    // the rest's (the caller's promise).
    unsafe { rest.into_vec(len) }
}

/// The parallel phase on the engine over `n` items pulled from `iter` in
/// chunks (`stream.rs`), then whatever `iter` still holds if its size hint
/// was short, serially.
fn stream_phase<J, T, R, M, L>(
    target: Target<'_>,
    mut iter: J,
    n: usize,
    mut out: Vec<R>,
    make_leaf: &M,
    splitting: Splitting,
) -> Result<Vec<R>, Stopped>
where
    J: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    output::reserve(&mut out, n);
    // SAFETY: `reserve` made room for `n` more slots past `len`; they
    // are uninitialised and `out` is not touched until the engine returns.
    let outputs = unsafe { Outputs::new(out.as_mut_ptr().add(out.len())) };
    let control = splitting.control();
    wake_for(target, splitting);
    let source = &mut iter;
    // SAFETY: as just established.
    let written =
        target.install(|| unsafe { stream::run(source, n, outputs, make_leaf, &control) });
    if !written.is_complete() {
        return Err(Stopped);
    }
    let len = out.len() + written.release();
    // SAFETY: the engine initialised these slots, in order, and released them.
    unsafe { out.set_len(len) };
    if finish_overlong(&mut iter, &mut out, make_leaf) {
        Ok(out)
    } else {
        Err(Stopped)
    }
}

/// From outside, before a call the engine will split at once: wakes one
/// sleeping worker besides the one `install` wakes, so the two wake-ups
/// overlap rather than follow each other (each is 10-50 µs here; a call
/// that is sent to the engine is worth a quarter millisecond or more). On
/// a worker the engine wakes its peers as it splits.
fn wake_for(target: Target<'_>, splitting: Splitting) {
    let big = matches!(splitting.priced, Some(Priced { engine: true, .. }));
    if big && !target.in_worker() {
        target.pool().wake_sleepers(1);
    }
}

/// The parallel phase by index (`split_by_index.rs`) over `n` items of `source`,
/// run on the target pool.
fn engine_phase<S, R, M, L>(
    target: Target<'_>,
    source: &S,
    n: usize,
    mut out: Vec<R>,
    make_leaf: &M,
    splitting: Splitting,
) -> Result<Vec<R>, Stopped>
where
    S: Source,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<S::Item, Out = R>,
{
    if n == 0 {
        return Ok(out);
    }
    output::reserve(&mut out, n);
    // SAFETY: `reserve` made room for `n` more slots past `len`; they
    // are uninitialised and `out` is not touched until the engine returns.
    let outputs = unsafe { Outputs::new(out.as_mut_ptr().add(out.len())) };
    // SAFETY: as just established; the indices `0..n` are the call's.
    let len = out.len() + unsafe { run_engine(target, source, n, outputs, make_leaf, splitting)? };
    // SAFETY: the engine initialised all `n` slots and released them.
    unsafe { out.set_len(len) };
    Ok(out)
}

/// Runs the engine over the `n` items of `source` into `outputs`, on the
/// target pool: `Ok(n)` with every output written and handed to the caller,
/// or `Err(Stopped)` with the outputs written so far dropped.
///
/// # Safety
/// The indices `0..n` of `source` must be the caller's, not taken before,
/// and `outputs` valid for them (`Outputs::new`).
unsafe fn run_engine<S, R, M, L>(
    target: Target<'_>,
    source: &S,
    n: usize,
    outputs: Outputs<R>,
    make_leaf: &M,
    splitting: Splitting,
) -> Result<usize, Stopped>
where
    S: Source,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<S::Item, Out = R>,
{
    let control = splitting.control();
    wake_for(target, splitting);
    // SAFETY: the caller's promise, passed on.
    let written = target.install(|| unsafe {
        split_by_index::run(source, 0..n, outputs, make_leaf, &control, false)
    });
    if !written.is_complete() {
        return Err(Stopped);
    }
    debug_assert_eq!(written.len(), n);
    Ok(written.release())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::leaves::MapLeaf;

    /// Items of the calls below.
    const N: usize = 10_000;

    /// Items the probe took before the shared phase.
    const PROBED: usize = 3;

    /// A value that counts its drops.
    struct Counted(u64, &'static AtomicUsize);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, SeqCst);
        }
    }

    /// Claims of 7 items, so that many batches interleave.
    fn splitting() -> Splitting {
        Splitting {
            chunking: Chunking::Fixed(NonZeroUsize::new(7).unwrap()),
            priced: None,
        }
    }

    /// Runs `f` over `input` as a call from outside does once its probe has
    /// run `PROBED` items and chosen to share the rest.
    fn shared_after_probe<T: Send, R: Send>(
        pool: &crate::Pool,
        input: Vec<T>,
        f: &(impl Fn(T) -> R + Sync),
    ) -> Result<Vec<R>, Stopped> {
        let buffer = VecBuffer::of::<Vec<T>, T>(&input).expect("a Vec");
        let mut iter = input.into_iter();
        let out: Vec<R> = iter.by_ref().take(PROBED).map(f).collect();
        let Ok(rest) = buffer.take_rest(iter) else {
            panic!("the Vec's own iterator");
        };
        shared_over_buffer(pool.scheduler(), rest, out, &|| MapLeaf(f), splitting())
    }

    #[test]
    fn a_shared_call_writes_results_over_their_inputs() {
        let pool = crate::Pool::builder().threads(2).build().unwrap();
        let input: Vec<u64> = (0..N as u64).collect();
        let buffer = input.as_ptr() as usize;
        let on_a_worker = AtomicBool::new(false);
        let f = |x: u64| {
            if crate::current_thread_index().is_some() {
                on_a_worker.store(true, SeqCst);
            } else if x >= PROBED as u64 {
                // In the shared phase, this thread waits (boundedly) for
                // the helper to take a claim, so the two interleave.
                let start = Instant::now();
                while !on_a_worker.load(SeqCst) && start.elapsed() < Duration::from_secs(10) {
                    std::hint::spin_loop();
                }
            }
            x * 3 + 1
        };
        let got = shared_after_probe(&pool, input, &f).expect("not stopped");
        assert_eq!(got.as_ptr() as usize, buffer, "not the input's buffer");
        assert!(got.iter().enumerate().all(|(i, &y)| y == i as u64 * 3 + 1));
        assert!(on_a_worker.load(SeqCst), "no helper ran an item");
    }

    #[test]
    fn a_panic_in_a_shared_call_drops_every_input_and_result_once() {
        static INPUTS: AtomicUsize = AtomicUsize::new(0);
        static RESULTS: AtomicUsize = AtomicUsize::new(0);
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let pool = crate::Pool::builder().threads(2).build().unwrap();
        let input: Vec<Counted> = (0..N as u64).map(|i| Counted(i, &INPUTS)).collect();
        let f = |c: Counted| {
            if c.0 == N as u64 / 2 {
                panic!("item {}", c.0);
            }
            MADE.fetch_add(1, SeqCst);
            Counted(c.0 * 2, &RESULTS)
        };
        let outcome =
            panic::catch_unwind(AssertUnwindSafe(|| shared_after_probe(&pool, input, &f)));
        assert!(outcome.is_err(), "the item's panic reaches the caller");
        assert_eq!(INPUTS.load(SeqCst), N, "inputs dropped");
        assert_eq!(RESULTS.load(SeqCst), MADE.load(SeqCst), "results dropped");
    }
}
