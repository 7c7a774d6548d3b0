//! The parallel loop behind `map`, `starmap`, `try_map` and `map_init`: lazy
//! binary splitting of an owned input buffer into a reserved output buffer.
//!
//! A piece of the input runs sequentially on one worker, `grain` items at a
//! time. Between batches it asks the scheduler whether a peer is idle
//! (`work_wanted`, one relaxed load); only then does it split its remaining
//! range in two with `join` (Tzannes et al., "Lazy Binary Splitting",
//! PPoPP 2010). So a pool with nobody idle never pays for a split, and an
//! idle worker gets half of someone's remaining work within one batch.
//!
//! # Ownership and drops
//! The caller moves the inputs into a buffer whose length it has set to 0:
//! from then on each input is owned by exactly one piece, which either moves
//! it into the user's function (`ptr::read`, counted in `consumed`) or drops
//! it. Each output slot is written once, by the piece that owns its index.
//! A piece returns a [`Written`] token owning the outputs it initialised;
//! tokens of adjacent pieces merge. If anything panics, every guard and token
//! on the unwinding path drops what it owns, so each input and each output is
//! dropped exactly once; the `stop` flag tells other pieces to stop starting
//! items.

use std::marker::PhantomData;
use std::mem;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::driver::Leaf;

/// Shared settings and the cancellation flag of one call.
#[derive(Debug)]
pub(crate) struct Control {
    /// Items run between idle-peer checks.
    pub(crate) grain: usize,
    /// Pieces are never split below this size, and splits fall on
    /// multiples of it (the explicit chunk size, or 1).
    pub(crate) unit: usize,
    /// Set by a panic or a `None` from a leaf: start no more items.
    pub(crate) stop: AtomicBool,
}

impl Control {
    pub(crate) fn new(grain: usize, unit: usize) -> Self {
        Control {
            grain: grain.max(1),
            unit: unit.max(1),
            stop: AtomicBool::new(false),
        }
    }
}

/// A run of slots a piece owns, `ptr[..len]`: its inputs not yet consumed
/// ([`Inputs`], initialised) or its output slots ([`Outputs`], not yet
/// written). Splitting hands each half its own exclusive run.
pub(crate) struct Span<T> {
    ptr: *mut T,
    len: usize,
}

/// A piece's owned, initialised inputs not yet consumed.
pub(crate) type Inputs<T> = Span<T>;

/// A piece's uninitialised output slots.
pub(crate) type Outputs<R> = Span<R>;

// SAFETY: a `Span<T>` is the exclusive owner of its inputs, or the exclusive
// right to write its slots; either moves `T`s across threads, which needs
// `T: Send` and nothing more.
unsafe impl<T: Send> Send for Span<T> {}

impl<T> Span<T> {
    /// # Safety
    /// As inputs: `ptr[..len]` must hold initialised values that nobody else
    /// will read or drop (the owning `Vec`'s length must already be 0). As
    /// outputs: `ptr[..len]` must be valid for writes and uninitialised (or
    /// otherwise not dropped by anyone else). Either way the buffer must
    /// outlive every use of this value.
    pub(crate) unsafe fn new(ptr: *mut T, len: usize) -> Self {
        Span { ptr, len }
    }

    fn split_at(self, mid: usize) -> (Span<T>, Span<T>) {
        debug_assert!(mid <= self.len);
        let rest = Span {
            // SAFETY: `mid <= len`, so the pointer stays within the buffer.
            ptr: unsafe { self.ptr.add(mid) },
            len: self.len - mid,
        };
        (
            Span {
                ptr: self.ptr,
                len: mid,
            },
            rest,
        )
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
    fn append(mut self, next: Written<R>) -> Written<R> {
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

/// A piece in progress; drops what it owns if the user's function panics.
struct Piece<'c, T, R> {
    inputs: Inputs<T>,
    outputs: Outputs<R>,
    consumed: usize,
    written: usize,
    control: &'c Control,
}

impl<T, R> Piece<'_, T, R> {
    /// Ends the piece: drops unconsumed inputs, returns the outputs.
    fn finish(self) -> Written<R> {
        let this = mem::ManuallyDrop::new(self);
        // SAFETY: `consumed..len` are inputs this piece still owns.
        unsafe { drop_inputs(&this.inputs, this.consumed) };
        Written {
            ptr: this.outputs.ptr,
            len: this.written,
            complete: this.written == this.outputs.len,
            marker: PhantomData,
        }
    }
}

/// Drops `inputs[from..]`.
///
/// # Safety
/// Those inputs must be initialised and owned by the caller.
unsafe fn drop_inputs<T>(inputs: &Inputs<T>, from: usize) {
    // SAFETY: per the contract.
    unsafe {
        ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
            inputs.ptr.add(from),
            inputs.len - from,
        ));
    }
}

impl<T, R> Drop for Piece<'_, T, R> {
    /// Only reached by unwinding out of the user's function.
    fn drop(&mut self) {
        self.control.stop.store(true, Ordering::Relaxed);
        // SAFETY: the piece owns inputs `consumed..` and outputs `..written`.
        unsafe {
            drop_inputs(&self.inputs, self.consumed);
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                self.outputs.ptr,
                self.written,
            ));
        }
    }
}

/// Runs the piece `inputs` → `outputs` (same length), splitting lazily.
/// `make_leaf` builds the per-piece function (where `map_init` keeps its
/// state); a leaf returning `None` stops the whole call.
pub(crate) fn run<T, R, M, L>(
    inputs: Inputs<T>,
    outputs: Outputs<R>,
    make_leaf: &M,
    control: &Control,
    eager: bool,
) -> Written<R>
where
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    debug_assert_eq!(inputs.len, outputs.len);
    let len = inputs.len;
    let mut piece = Piece {
        inputs,
        outputs,
        consumed: 0,
        written: 0,
        control,
    };
    // Made lazily, after `piece` (whose guard drops the inputs if
    // `make_leaf` panics, i.e. `map_init`'s `init`), and only once the piece
    // runs items itself: a piece that splits at once never calls `init`.
    let mut leaf = None;
    // Once an item of this piece has blocked (`filch::blocking`), the rest
    // is split down to single units at once: the next `blocking` publishes
    // all of them, and the spares standing in for blocked threads take them.
    let mut eager = eager;
    loop {
        let remaining = len - piece.consumed;
        if remaining == 0 || control.stop.load(Ordering::Relaxed) {
            return piece.finish();
        }
        if remaining >= 2 * control.unit && (eager || filch_scheduler::work_wanted()) {
            return split(piece, make_leaf, control, eager);
        }
        let leaf = leaf.get_or_insert_with(make_leaf);
        let blocks_before = crate::blocking::blocks_on_this_thread();
        for _ in 0..control.grain.min(remaining) {
            // SAFETY: `consumed < len`: this input is initialised and still
            // owned by the piece; counting it consumed first means a panic in
            // `leaf` leaves it to `leaf` (which dropped it), not to the guard.
            let item = unsafe { ptr::read(piece.inputs.ptr.add(piece.consumed)) };
            piece.consumed += 1;
            match leaf.call(item) {
                Some(out) => {
                    // SAFETY: `written < consumed <= len`: an unwritten slot
                    // this piece owns.
                    unsafe { piece.outputs.ptr.add(piece.written).write(out) };
                    piece.written += 1;
                }
                None => {
                    control.stop.store(true, Ordering::Relaxed);
                    return piece.finish();
                }
            }
        }
        eager |= crate::blocking::blocks_on_this_thread() != blocks_before;
    }
}

/// Splits the unconsumed rest of `piece` in two halves run by `join`.
#[cold]
fn split<T, R, M, L>(
    piece: Piece<'_, T, R>,
    make_leaf: &M,
    control: &Control,
    eager: bool,
) -> Written<R>
where
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    let piece = mem::ManuallyDrop::new(piece);
    let done = piece.consumed;
    debug_assert_eq!(done, piece.written);
    // Move the fields out; `piece` itself is forgotten (its guard disarmed).
    // SAFETY: each field is read exactly once and `piece` is never used or
    // dropped afterwards.
    let (inputs, outputs) = unsafe { (ptr::read(&piece.inputs), ptr::read(&piece.outputs)) };
    let prefix = Written {
        ptr: outputs.ptr,
        len: done,
        complete: true,
        marker: PhantomData,
    };
    let (_, rest_in) = inputs.split_at(done);
    let (_, rest_out) = outputs.split_at(done);
    let remaining = rest_in.len;
    let mid = (remaining / 2).div_ceil(control.unit) * control.unit;
    let (left_in, right_in) = rest_in.split_at(mid);
    let (left_out, right_out) = rest_out.split_at(mid);
    // `join` drops its second closure unrun if the first panics before a
    // thief started it; `Inputs` has no destructor, so without this guard
    // the right half's inputs leaked then.
    let right_in = Unstarted(Some(right_in));
    let (left, right) = filch_scheduler::join(
        || run(left_in, left_out, make_leaf, control, eager),
        move || run(right_in.start(), right_out, make_leaf, control, eager),
    );
    prefix.append(left).append(right)
}

/// The inputs of a `join` half not started yet: dropped with the closure
/// holding them unless [`start`](Unstarted::start) takes them out first.
struct Unstarted<T>(Option<Inputs<T>>);

impl<T> Unstarted<T> {
    /// The half runs: hands its inputs over.
    fn start(mut self) -> Inputs<T> {
        self.0.take().expect("a half starts once")
    }
}

impl<T> Drop for Unstarted<T> {
    fn drop(&mut self) {
        if let Some(inputs) = &self.0 {
            // SAFETY: the half never ran, so all its inputs are still
            // initialised and owned by this guard alone.
            unsafe { drop_inputs(inputs, 0) };
        }
    }
}
