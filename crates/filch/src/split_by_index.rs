//! The parallel loop behind `map`, `starmap`, `try_map` and `map_init`: lazy
//! binary splitting of an input that splits by index (`source.rs`) into a
//! reserved output buffer.
//!
//! A piece of the input runs sequentially on one worker, `grain` items at a
//! time. Between batches it asks the scheduler whether a peer is idle
//! (`work_wanted`, one relaxed load); only then does it split its remaining
//! range in two with `join` (Tzannes et al., "Lazy Binary Splitting",
//! PPoPP 2010). So a pool with nobody idle never pays for a split, and an
//! idle worker gets half of someone's remaining work within one batch.
//! A peer that has gone to sleep is not idle in that sense. While a piece
//! still holds enough work to pay for a wake-up (`Control::wake_items`,
//! `probe::WAKE_MIN_NS`) and no peer is looking but one sleeps
//! (`peer_asleep`), it splits anyway: `join` publishes the half and wakes
//! the sleeper, which finds it waiting. A woken peer stops counting as
//! asleep, so each such split wakes one peer.
//!
//! # Ownership and drops
//! The caller hands the engine a source (`source.rs`) whose indices it
//! owns: from then on each input is owned by exactly one piece, which either
//! takes it out to run it (counted in `consumed`) or drops it. Each output
//! slot is written once, by the piece that owns its index. A piece returns a [`Written`] token owning the outputs it initialised;
//! tokens of adjacent pieces merge. If anything panics, every guard and token
//! on the unwinding path drops what it owns, so each input and each output is
//! dropped exactly once; the `stop` flag tells other pieces to stop starting
//! items.

use std::marker::PhantomData;
use std::mem;
use std::ops::Range;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::clock;
use crate::leaves::Leaf;
use crate::probe;
use crate::source::Source;

/// Shared settings and the cancellation flag of one call.
#[derive(Debug)]
pub(crate) struct Control {
    /// Items run between idle-peer checks.
    grain: AtomicUsize,
    /// Whether pieces time their first full batch to correct `grain`
    /// (see [`Control::calibrate`]).
    calibrating: bool,
    /// Splits fall on multiples of this from a piece's start (the explicit
    /// chunk size, or 1), so only a piece's last chunk may be short; a
    /// piece of one chunk or less never splits.
    unit: usize,
    /// A piece with at least this many items left is worth waking a
    /// sleeping peer for (`probe::WAKE_MIN_NS` of work); raised with the
    /// grain.
    wake_items: AtomicUsize,
    /// Set by a panic or a `None` from a leaf: start no more items.
    pub(crate) stop: AtomicBool,
}

/// The most items between idle-peer checks, however cheap they time.
const MAX_GRAIN: usize = 1 << 16;

impl Control {
    /// A call run `grain` items at a time, split on multiples of `unit`,
    /// waking sleepers for `wake_items` items or more; `calibrating` if
    /// `grain` and `wake_items` are estimates to correct.
    pub(crate) fn new(grain: usize, unit: usize, wake_items: usize, calibrating: bool) -> Self {
        Control {
            grain: AtomicUsize::new(grain.clamp(1, MAX_GRAIN)),
            calibrating,
            unit: unit.max(1),
            wake_items: AtomicUsize::new(wake_items.max(2)),
            stop: AtomicBool::new(false),
        }
    }

    /// A full batch of `grain` items took `ticks`: raises the grain to what
    /// `probe::GRAIN_NS` of such items is, if that is more. Only raised:
    /// the probe's estimate errs high (a sample caught by a first touch of
    /// fresh output pages, or by a preemption, prices 1 ns items at
    /// hundreds), and a grain of a few items pays a check per item; a
    /// batch caught the same way only keeps the grain as it was.
    #[cold]
    fn calibrate(&self, grain: usize, ticks: u64) {
        let target = u128::from(clock::ticks(probe::GRAIN_NS));
        let fitting = (grain as u128 * target / u128::from(ticks.max(1))).min(MAX_GRAIN as u128);
        let raised = self.grain.fetch_max(fitting as usize, Ordering::Relaxed) < fitting as usize;
        if raised {
            let wake = (fitting as usize).saturating_mul(probe::WAKE_GRAINS);
            self.wake_items.fetch_max(wake, Ordering::Relaxed);
        }
    }
}

/// The output slots of a call, `ptr[i]` for input index `i`, written once
/// each by the piece that owns index `i`.
pub(crate) struct Outputs<R> {
    ptr: *mut R,
}

// By hand: a derive would ask `R: Copy`; copying the pointer is all it does.
impl<R> Clone for Outputs<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Outputs<R> {}

// SAFETY: pieces on other threads write disjoint slots, moving `R`s there,
// which needs `R: Send` and nothing more.
unsafe impl<R: Send> Send for Outputs<R> {}
// SAFETY: as for `Send`: shared only to write disjoint slots.
unsafe impl<R: Send> Sync for Outputs<R> {}

impl<R> Outputs<R> {
    /// # Safety
    /// `ptr[..len]`, for the length of the source it is used with, must be
    /// valid for writes and uninitialised (or otherwise not dropped by
    /// anyone else), and outlive every use of this value.
    pub(crate) unsafe fn new(ptr: *mut R) -> Self {
        Outputs { ptr }
    }

    /// The slots from input `by` on, as the slots of a source whose index 0
    /// is input `by` (a chunk of a longer call: `stream.rs`).
    ///
    /// # Safety
    /// `by` must be within the call's slots.
    pub(crate) unsafe fn shifted(self, by: usize) -> Self {
        Outputs {
            // SAFETY: within the call's slots (the caller's promise).
            ptr: unsafe { self.ptr.add(by) },
        }
    }

    /// The slot of input `index`.
    #[inline]
    fn at(self, index: usize) -> *mut R {
        // SAFETY: within the call's slots (the constructor's promise), as
        // every index a piece owns is.
        unsafe { self.ptr.add(index) }
    }
}

/// Owns `ptr[..len]`, initialised outputs; drops them unless forgotten.
#[must_use]
pub(crate) struct Written<R> {
    ptr: *mut R,
    len: usize,
    /// Whether every slot of the piece was written (so a neighbour's
    /// outputs can follow contiguously).
    complete: bool,
    marker: PhantomData<R>,
}

// SAFETY: a `Written<R>` owns its `R`s exclusively; moving it to another
// thread moves them, which `R: Send` allows.
unsafe impl<R: Send> Send for Written<R> {}

impl<R> Written<R> {
    /// No outputs yet, at the start of `outputs`: what later pieces'
    /// tokens are appended to.
    pub(crate) fn none(outputs: Outputs<R>) -> Self {
        Written {
            ptr: outputs.ptr,
            len: 0,
            complete: true,
            marker: PhantomData,
        }
    }

    /// Whether every slot of the call was written.
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// Number of initialised outputs owned.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Gives up ownership: the caller now treats the outputs as initialised
    /// (by growing the `Vec` they live in).
    pub(crate) fn release(self) -> usize {
        let len = self.len;
        mem::forget(self);
        len
    }

    /// Appends the outputs of the piece right after this one. If this piece
    /// is incomplete the two are not contiguous: `next`'s are dropped.
    pub(crate) fn append(mut self, next: Written<R>) -> Written<R> {
        if !self.complete {
            drop(next);
            return self;
        }
        // SAFETY: `self` is complete, so it covers its whole piece and the
        // next piece starts right after it.
        debug_assert!(ptr::eq(unsafe { self.ptr.add(self.len) }, next.ptr));
        self.len += next.len;
        self.complete = next.complete;
        mem::forget(next);
        self
    }
}

impl<R> Drop for Written<R> {
    fn drop(&mut self) {
        // SAFETY: this token exclusively owns `ptr[..len]`, all initialised.
        unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(self.ptr, self.len)) }
    }
}

/// A piece in progress: input indices `start..end`, of which `consumed`
/// were handed to the function; drops what it owns if the function panics.
struct Piece<'c, S: Source, R> {
    source: &'c S,
    outputs: Outputs<R>,
    start: usize,
    end: usize,
    /// Inputs from `start` taken out of the source (run or being run).
    consumed: usize,
    /// Outputs from `start` written.
    written: usize,
    control: &'c Control,
}

impl<S: Source, R> Piece<'_, S, R> {
    /// Ends the piece: drops unconsumed inputs, returns the outputs.
    fn finish(self) -> Written<R> {
        let this = mem::ManuallyDrop::new(self);
        // SAFETY: `start + consumed..end` are inputs this piece still owns.
        unsafe { this.source.discard(this.start + this.consumed..this.end) };
        Written {
            ptr: this.outputs.at(this.start),
            len: this.written,
            complete: this.written == this.end - this.start,
            marker: PhantomData,
        }
    }
}

impl<S: Source, R> Drop for Piece<'_, S, R> {
    /// Only reached by unwinding out of the user's function.
    fn drop(&mut self) {
        self.control.stop.store(true, Ordering::Relaxed);
        // SAFETY: the piece owns inputs `start + consumed..end` and outputs
        // `start..start + written`; the batch being run when the function
        // panicked dropped its own unrun inputs (`Source::Run`).
        unsafe {
            self.source.discard(self.start + self.consumed..self.end);
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                self.outputs.at(self.start),
                self.written,
            ));
        }
    }
}

/// Runs the inputs `range` of `source` into their slots of `outputs`,
/// splitting lazily. `make_leaf` builds the per-piece function (where
/// `map_init` keeps its state); a leaf returning `None` stops the whole call.
///
/// # Safety
/// The indices of `range` must be owned by the caller (not taken from
/// `source` before, and by nobody else), and `outputs` valid for them.
pub(crate) unsafe fn run<S, R, M, L>(
    source: &S,
    range: Range<usize>,
    outputs: Outputs<R>,
    make_leaf: &M,
    control: &Control,
    eager: bool,
) -> Written<R>
where
    S: Source,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<S::Item, Out = R>,
{
    let mut piece = Piece {
        source,
        outputs,
        start: range.start,
        end: range.end,
        consumed: 0,
        written: 0,
        control,
    };
    let len = range.len();
    // Made lazily, after `piece` (whose guard drops the inputs if
    // `make_leaf` panics, i.e. `map_init`'s `init`), and only once the piece
    // runs items itself: a piece that splits at once never calls `init`.
    let mut leaf = None;
    // Once an item of this piece has blocked (`filch::blocking`), the rest
    // is split down to single units at once: the next `blocking` publishes
    // all of them, and the spares standing in for blocked threads take them.
    let mut eager = eager;
    // Each piece times its first full batch (`Control::calibrate`).
    let mut timed = !control.calibrating;
    loop {
        let remaining = len - piece.consumed;
        if remaining == 0 || control.stop.load(Ordering::Relaxed) {
            return piece.finish();
        }
        let grain = control.grain.load(Ordering::Relaxed);
        // Peers that sleep are not counted by `work_wanted`: when the rest
        // is worth waking one for, split all the same (`join` publishes the
        // half and wakes a sleeper to take it).
        if remaining > control.unit
            && (eager
                || filch_scheduler::work_wanted()
                || (remaining >= control.wake_items.load(Ordering::Relaxed)
                    && filch_scheduler::peer_asleep()))
        {
            return split(piece, make_leaf, control, eager);
        }
        let leaf = leaf.get_or_insert_with(make_leaf);
        let blocks_before = crate::blocking::blocks_on_this_thread();
        let from = piece.start + piece.consumed;
        let batch = grain.min(remaining);
        let slot = piece.outputs.at(piece.start + piece.written);
        let timing = !timed && batch == grain;
        let started = if timing { clock::now() } else { 0 };
        // Both arms: `from..from + batch` are inputs this piece owns, taken
        // here; counted consumed first, so a panic in `leaf` leaves the
        // batch's unrun inputs to the run (which drops them), not to the
        // guard. The batch's output slots follow the ones written so far;
        // they are this piece's and unwritten, and for an in-place source
        // they are the inputs' own slots (`InPlace::new`).
        // SAFETY: as just said.
        let slots = unsafe { source.in_place_slots(from..from + batch) };
        let going = match slots {
            Some(slots) => {
                piece.consumed += batch;
                debug_assert!(ptr::eq(slots.cast::<R>(), slot));
                // SAFETY: as above.
                unsafe { leaf.write_in_place(slots, batch, &mut piece.written) }
            }
            None => {
                // SAFETY: as above.
                let run = unsafe { source.take(from..from + batch) };
                piece.consumed += batch;
                // SAFETY: as above; the run yields exactly the `batch` items
                // of its range (`Source::take`).
                unsafe { leaf.write_run(run, batch, slot, &mut piece.written) }
            }
        };
        if !going {
            control.stop.store(true, Ordering::Relaxed);
            return piece.finish();
        }
        if timing {
            timed = true;
            control.calibrate(grain, clock::now().wrapping_sub(started));
        }
        eager |= crate::blocking::blocks_on_this_thread() != blocks_before;
    }
}

/// Splits the unconsumed rest of `piece` in two halves run by `join`.
#[cold]
fn split<S, R, M, L>(
    piece: Piece<'_, S, R>,
    make_leaf: &M,
    control: &Control,
    eager: bool,
) -> Written<R>
where
    S: Source,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<S::Item, Out = R>,
{
    let piece = mem::ManuallyDrop::new(piece);
    let done = piece.consumed;
    debug_assert_eq!(done, piece.written);
    let (source, outputs) = (piece.source, piece.outputs);
    let prefix = Written {
        ptr: outputs.at(piece.start),
        len: done,
        complete: true,
        marker: PhantomData,
    };
    let from = piece.start + done;
    let remaining = piece.end - from;
    let mid = from + (remaining / 2).div_ceil(control.unit) * control.unit;
    // `join` drops its second closure unrun if the first panics before a
    // thief started it: this guard then drops the right half's inputs.
    let right = Unstarted {
        source,
        range: Some(mid..piece.end),
    };
    let (left, right) = filch_scheduler::join(
        // SAFETY: the piece owned `from..end`; the halves split it.
        || unsafe { run(source, from..mid, outputs, make_leaf, control, eager) },
        move || {
            let range = right.start();
            // SAFETY: as above.
            unsafe { run(source, range, outputs, make_leaf, control, eager) }
        },
    );
    prefix.append(left).append(right)
}

/// The inputs of a `join` half not started yet: dropped with the closure
/// holding them unless [`start`](Unstarted::start) takes them out first.
struct Unstarted<'s, S: Source> {
    source: &'s S,
    range: Option<Range<usize>>,
}

impl<S: Source> Unstarted<'_, S> {
    /// The half runs: hands its inputs over.
    fn start(mut self) -> Range<usize> {
        self.range.take().expect("a half starts once")
    }
}

impl<S: Source> Drop for Unstarted<'_, S> {
    fn drop(&mut self) {
        if let Some(range) = self.range.take() {
            // SAFETY: the half never ran, so all its inputs are still owned
            // by this guard alone.
            unsafe { self.source.discard(range) };
        }
    }
}
