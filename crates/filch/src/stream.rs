//! Inputs of known length that do not split by index (a slice's iterator,
//! an adapter chain, a boxed iterator) on the engine, without first copying
//! the whole input: the input is pulled in chunks of a few MiB into a
//! buffer, and each chunk runs on the engine (`split_by_index.rs`) as an owned
//! buffer does, written straight into its place in the output.
//!
//! Pulling and running overlap: while the engine runs chunk `k` on this
//! worker (splitting it for peers as usual), pulling chunk `k + 1` is the
//! other half of a `join`, which an idle peer may take. Only one pull runs
//! at a time, so the iterator is used by one thread at a time, in order.
//!
//! Chunks start small, so the first parallel work starts soon, and double
//! up to [`CHUNK_BYTES`]: large enough that the split halves of a chunk
//! write output pages far apart (two threads faulting fresh pages within
//! one page table contend on its lock), small enough that the buffers stay
//! a bounded fraction of a big call's memory.
//!
//! # Drops
//! A chunk is an owned `Vec` until the engine takes its items over (its
//! length set to 0; then the engine's rules apply); a pulled chunk that is
//! never run (the call stopped, or panicked) drops as a `Vec`. Outputs of finished chunks are
//! held by one [`Written`] token that drops them if anything unwinds past
//! this frame; the iterator's unpulled rest stays with the caller.

use crate::leaves::Leaf;
use crate::reserved;
use crate::source::Owned;
use crate::split_by_index::{self, Control, Outputs, Written};

/// The largest chunk, in bytes of input or of output, whichever is larger.
pub(crate) const CHUNK_BYTES: usize = 1 << 20;

/// The first chunk is this fraction of the largest.
const FIRST_CHUNK_DIVISOR: usize = 16;

/// Maps up to `n` items of `iter` into `outputs[..n]` on the engine.
/// Returns the token of the outputs written: fewer than `n` if `iter` ended
/// early or the call stopped (then incomplete).
///
/// # Safety
/// `outputs` must be valid for `n` uninitialised slots, as for
/// [`engine::run`].
pub(crate) unsafe fn run<J, T, R, M, L>(
    iter: &mut J,
    n: usize,
    outputs: Outputs<R>,
    make_leaf: &M,
    control: &Control,
) -> Written<R>
where
    J: Iterator<Item = T> + Send,
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    let item_bytes = std::mem::size_of::<T>()
        .max(std::mem::size_of::<R>())
        .max(1);
    let largest = (CHUNK_BYTES / item_bytes).max(1);
    let mut size = (largest / FIRST_CHUNK_DIVISOR).max(1).min(n);
    let mut done = Written::none(outputs);
    let mut offset = 0;
    // Two buffers, reused: one being run, one being filled. (A fresh
    // buffer of a few MiB per chunk would be fresh pages from the OS
    // each time, and faulting them in cost as much as the copy.)
    // Each at its final size at once, so neither grows (and reallocates)
    // as the chunks double.
    let mut running: Vec<T> = Vec::with_capacity(largest.min(n));
    let mut filling: Vec<T> = Vec::with_capacity(largest.min(n - size));
    pull(iter, size, &mut running);
    while !running.is_empty() {
        let len = running.len();
        size = (2 * size).min(largest);
        let next = size.min(n - offset - len);
        // SAFETY: `offset + len <= n`: the chunk's slots are the call's.
        let chunk_outputs = unsafe { outputs.shifted(offset) };
        let chunk = &mut running;
        let (written, ()) = filch_scheduler::join(
            // SAFETY: the chunk's own slots, not written before.
            || unsafe { run_chunk(chunk, chunk_outputs, make_leaf, control) },
            || pull(iter, next, &mut filling),
        );
        done = done.append(written);
        if !done.is_complete() {
            return done; // `filling` drops its items unrun
        }
        offset += len;
        std::mem::swap(&mut running, &mut filling);
    }
    done
}

/// Replaces the (empty) `chunk` with the next `k` items of `iter`, within
/// its capacity.
fn pull<J: Iterator>(iter: &mut J, k: usize, chunk: &mut Vec<J::Item>) {
    debug_assert!(chunk.is_empty() && k <= chunk.capacity());
    reserved::fill(iter, chunk, k);
}

/// Runs one pulled chunk on the engine, its items moved out of `chunk`,
/// which is left empty for the next pull.
///
/// # Safety
/// `outputs[..chunk.len()]` must be valid, uninitialised slots.
unsafe fn run_chunk<T, R, M, L>(
    chunk: &mut Vec<T>,
    outputs: Outputs<R>,
    make_leaf: &M,
    control: &Control,
) -> Written<R>
where
    T: Send,
    R: Send,
    M: Fn() -> L + Sync,
    L: Leaf<T, Out = R>,
{
    let len = chunk.len();
    // SAFETY: length 0 hands the `len` initialised items to the source
    // (the engine runs or drops each once); the buffer stays allocated
    // and unmoved until the engine returns, as `chunk` is borrowed.
    let source = unsafe {
        chunk.set_len(0);
        Owned::new(chunk.as_mut_ptr())
    };
    // SAFETY: the chunk's indices are all this call's; `outputs` per the
    // contract.
    unsafe { split_by_index::run(&source, 0..len, outputs, make_leaf, control, false) }
}
