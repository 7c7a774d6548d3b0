//! The input side of an `imap`: how the consumer cuts its input into
//! chunks. An integer range or a slice's iterator of known length is cut
//! by index ([`Piece`]): a chunk is the input's own iterator over its
//! sub-range, so nothing is copied on the consumer and a worker reads the
//! items where they lie. Any other input is read item by item into a
//! `Vec` per chunk ([`pull`]).
//!
//! Which inputs cut by index is found out at run time, as for `map`
//! (`source.rs`): a miss costs nothing but the item-by-item path.

use std::mem::{self, MaybeUninit};
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::ptr;

use crate::imap_window::{Batch, Payload};
use crate::reserved;
use crate::source::{SliceIter, Source, Stepped};

/// A chunk of input waiting in the window, for an `F` mapping `T`s to `R`s.
pub(crate) enum Chunk<T, F, R> {
    /// Items read from the input.
    Items(Vec<T>),
    /// A sub-range of an input cut by index.
    Piece(Piece<F, R>),
}

/// Room for the input iterator of a piece: a range of any type the
/// standard library steps (two `u128`s at most) or a slice's iterator.
type Bits = MaybeUninit<[u128; 2]>;

/// The input's own iterator over exactly one chunk's sub-range, held as
/// bits, with the function that maps it.
///
/// The window is shared with jobs that may run as long as the call's data
/// lives, so what it holds must not name the input's type, which may
/// borrow for less (`pool.imap(local.iter().copied(), f)` yields `'static`
/// items from a borrowed iterator). A piece is only ever a range of
/// plain data or a slice's iterator, which live as long as their items, so
/// the erased iterator is valid as long as the window may run it.
pub(crate) struct Piece<F, R> {
    bits: Bits,
    len: usize,
    /// `map_piece` for the input's type.
    map: unsafe fn(&Bits, &F, &mut Vec<R>),
}

// SAFETY: pieces are only made by `Cutter::cut`, of `Range<T>` for a `T` the
// standard library steps, of `slice::Iter<'_, X>` or of
// `slice::IterMut<'_, X>`, and only for items that are `Send`. Each of
// these is `Send` exactly when its item is (`Range<T>` needs `T: Send`,
// `Iter` needs `&X: Send`, i.e. `X: Sync`, and `IterMut` needs `X: Send`,
// i.e. `&mut X: Send`); `map` is a plain function pointer.
unsafe impl<F, R> Send for Piece<F, R> {}

/// Maps the iterator in `bits` through `f` into `out`.
///
/// # Safety
/// `bits` must hold an `I` written by [`Cutter::cut`], not read before.
unsafe fn map_piece<I: Iterator, F: Fn(I::Item) -> R, R>(bits: &Bits, f: &F, out: &mut Vec<R>) {
    // SAFETY: the caller's promise; the piece is consumed with this read
    // (its `Drop` runs nothing: ranges and slice iterators own no data).
    let run: I = unsafe { ptr::read(bits.as_ptr().cast::<I>()) };
    out.extend(run.map(f));
}

impl<T, F: Fn(T) -> R, R> Batch<F, R> for Chunk<T, F, R> {
    fn len(&self) -> usize {
        match self {
            Chunk::Items(items) => items.len(),
            Chunk::Piece(piece) => piece.len,
        }
    }

    #[inline]
    fn map_into(self, f: &F, out: &mut Vec<R>) {
        match self {
            Chunk::Items(items) => items.map_into(f, out),
            // SAFETY: `bits` holds the iterator `map` was made for, read
            // only here, once: `self` is consumed.
            Chunk::Piece(piece) => unsafe { (piece.map)(&piece.bits, f, out) },
        }
    }
}

/// How an input that cuts by index makes its pieces.
pub(crate) enum Cutter<I: Iterator> {
    Range(Stepped<I>),
    Slice(SliceIter<I>),
}

/// The consumer's input: read item by item, or cut by index.
pub(crate) enum Input<I: Iterator> {
    Items(I),
    Indexed {
        cutter: Cutter<I>,
        /// The next index to hand out; every index below it is in a chunk.
        next: usize,
        len: usize,
    },
}

impl<I: Iterator> Input<I>
where
    I::Item: Send,
{
    /// Cuts `input` by index if it is a range or a slice's iterator whose
    /// length it states exactly; else reads it item by item.
    pub(crate) fn new(input: I) -> Self {
        // A piece is held as bits and never dropped: the input's type must
        // fit them and own nothing (true of every range and slice iterator).
        let fits = mem::size_of::<I>() <= mem::size_of::<Bits>()
            && mem::align_of::<I>() <= mem::align_of::<Bits>()
            && !mem::needs_drop::<I>();
        let len = match input.size_hint() {
            (low, Some(high)) if low == high && fits => low,
            _ => return Input::Items(input),
        };
        let cutter = match Stepped::new(input) {
            Ok(range) => Cutter::Range(range),
            Err(input) => match SliceIter::new(input) {
                Ok(slice) => Cutter::Slice(slice),
                Err(input) => return Input::Items(input),
            },
        };
        Input::Indexed {
            cutter,
            next: 0,
            len,
        }
    }

    /// As [`Iterator::size_hint`] for the items not yet in a chunk.
    pub(crate) fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Input::Items(input) => input.size_hint(),
            Input::Indexed { next, len, .. } => (len - next, Some(len - next)),
        }
    }

    /// The next chunk of up to `n` items, and the input's panic if it
    /// panicked while being read (the chunk then holds the items read
    /// before it). A chunk shorter than `n` means the input is over.
    pub(crate) fn pull<F, R>(&mut self, n: usize) -> (Chunk<I::Item, F, R>, Option<Payload>)
    where
        F: Fn(I::Item) -> R,
    {
        match self {
            Input::Items(input) => {
                let (items, panic) = pull(input, n);
                (Chunk::Items(items), panic)
            }
            Input::Indexed { cutter, next, len } => {
                let range = *next..(*next + n.min(*len - *next));
                *next = range.end;
                // SAFETY: `range` lies within the input (`len` is its exact
                // length), and `next` only grows, so no index is cut twice.
                let piece = unsafe { cutter.cut(range) };
                (Chunk::Piece(piece), None)
            }
        }
    }
}

impl<I: Iterator> Cutter<I>
where
    I::Item: Send,
{
    /// The piece of `range`, mapped by an `F`.
    ///
    /// # Safety
    /// As [`Source::take`].
    unsafe fn cut<F: Fn(I::Item) -> R, R>(&self, range: Range<usize>) -> Piece<F, R> {
        let len = range.len();
        // SAFETY: the caller's promise, passed on.
        let run = unsafe {
            match self {
                Cutter::Range(range_source) => range_source.take(range),
                Cutter::Slice(slice_source) => slice_source.take(range),
            }
        };
        let mut bits = Bits::uninit();
        // SAFETY: `Input::new` made a cutter only for an `I` that fits in
        // `Bits`, in size and alignment, and needs no drop (a piece dropped
        // unrun leaks nothing); `map_piece` reads it back once.
        unsafe { bits.as_mut_ptr().cast::<I>().write(run) };
        Piece {
            bits,
            len,
            map: map_piece::<I, F, R>,
        }
    }
}

/// Reads up to `n` items, keeping those read before a panic of the input
/// iterator, and that panic. The items the input promises (its size
/// hint's lower bound) go into reserved slots (`reserved.rs`); only items
/// beyond the promise are pushed.
pub(crate) fn pull<I: Iterator>(input: &mut I, n: usize) -> (Vec<I::Item>, Option<Payload>) {
    let promised = input.size_hint().0.min(n);
    let mut items: Vec<I::Item> = Vec::with_capacity(promised);
    let panic = panic::catch_unwind(AssertUnwindSafe(|| {
        if reserved::fill(input, &mut items, promised) < promised {
            return; // the input ended early
        }
        for _ in promised..n {
            let Some(item) = input.next() else { break };
            items.push(item);
        }
    }))
    .err();
    (items, panic)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::rc::Rc;

    /// An input that promises its whole length, yields `Rc` clones (so
    /// every item's drop is counted) and panics at item `panic_at`.
    fn input(len: usize, panic_at: usize, token: &Rc<()>) -> impl Iterator<Item = Rc<()>> + '_ {
        (0..len).map(move |i| {
            assert!(i != panic_at, "input panics at {i}");
            Rc::clone(token)
        })
    }

    #[test]
    fn pull_keeps_every_item_read_before_an_input_panic_and_drops_each_once() {
        let token = Rc::new(());
        let mut it = input(10, 6, &token);
        let (items, panic) = pull(&mut it, 8);
        assert_eq!(items.len(), 6);
        assert!(panic.is_some());
        assert_eq!(Rc::strong_count(&token), 7);
        drop(items);
        assert_eq!(Rc::strong_count(&token), 1);
    }

    #[test]
    fn pull_reads_past_the_promise_and_stops_at_the_end_or_at_n() {
        let token = Rc::new(());
        // A lower bound of 0: every item goes through the push path.
        let mut unsized_input = input(5, usize::MAX, &token).filter(|_| true);
        let (items, panic) = pull(&mut unsized_input, 3);
        assert_eq!((items.len(), panic.is_none()), (3, true));
        let (rest, _) = pull(&mut unsized_input, 10);
        assert_eq!(rest.len(), 2);
        let mut exact = input(5, usize::MAX, &token);
        assert_eq!(pull(&mut exact, 4).0.len(), 4);
        assert_eq!(pull(&mut exact, 4).0.len(), 1);
        drop((items, rest));
        assert_eq!(Rc::strong_count(&token), 1);
    }

    /// The items of every chunk `input` is cut into, `n` at a time, and
    /// whether every chunk was a piece.
    fn chunks<I: Iterator>(input: I, n: usize) -> (Vec<Vec<I::Item>>, bool)
    where
        I::Item: Send,
    {
        let mut input = Input::new(input);
        let (mut out, mut pieces) = (Vec::new(), true);
        loop {
            let (chunk, panic) = input.pull::<_, I::Item>(n);
            assert!(panic.is_none());
            pieces &= matches!(chunk, Chunk::Piece(_));
            let len = chunk.len();
            let mut items = Vec::new();
            chunk.map_into(&|x: I::Item| x, &mut items);
            assert_eq!(items.len(), len, "a chunk's length is its item count");
            if items.is_empty() {
                return (out, pieces);
            }
            out.push(items);
            if len < n {
                return (out, pieces);
            }
        }
    }

    #[test]
    fn ranges_and_slices_are_cut_by_index_into_consecutive_pieces() {
        let (got, pieces) = chunks(10u64..17, 3);
        assert!(pieces);
        assert_eq!(got, [vec![10, 11, 12], vec![13, 14, 15], vec![16]]);

        // The widest ranges the standard library steps still fit a piece.
        let (got, pieces) = chunks(u128::MAX - 4..u128::MAX, 2);
        assert!(pieces);
        assert_eq!(got.concat(), (u128::MAX - 4..u128::MAX).collect::<Vec<_>>());

        let data = [1.5f64, 2.5, 3.5, 4.5];
        let (got, pieces) = chunks(data.iter(), 2);
        assert!(pieces);
        assert_eq!(got, [vec![&1.5, &2.5], vec![&3.5, &4.5]]);

        let mut words = vec![String::from("a"), String::from("b"), String::from("c")];
        let (got, pieces) = chunks(words.iter_mut(), 2);
        assert!(pieces);
        assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
        for (i, w) in got.into_iter().flatten().enumerate() {
            w.push_str(&i.to_string());
        }
        assert_eq!(words, ["a0", "b1", "c2"]);
    }

    #[test]
    fn an_input_cut_by_index_states_what_is_left() {
        type Id = fn(u32) -> u32;
        let mut input = Input::new(0u32..10);
        assert_eq!(input.size_hint(), (10, Some(10)));
        let _ = input.pull::<Id, u32>(4);
        assert_eq!(input.size_hint(), (6, Some(6)));
        let (chunk, _) = input.pull::<Id, u32>(100);
        assert_eq!(chunk.len(), 6);
        assert_eq!(input.size_hint(), (0, Some(0)));
        assert_eq!(input.pull::<Id, u32>(1).0.len(), 0);
    }

    #[test]
    fn other_inputs_are_read_item_by_item() {
        let (got, pieces) = chunks((0u64..7).map(|x| x * 2), 4);
        assert!(!pieces);
        assert_eq!(got, [vec![0, 2, 4, 6], vec![8, 10, 12]]);
        // An inclusive range is an iterator like any other.
        assert!(!chunks(0u8..=3, 2).1);
        let (got, pieces) = chunks(vec![1, 2, 3].into_iter(), 2);
        assert!(!pieces);
        assert_eq!(got.concat(), [1, 2, 3]);
    }
}
