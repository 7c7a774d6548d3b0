//! Inputs the parallel loop (`split_by_index.rs`) can split by index, with no lock,
//! no shared cursor and no copy: an owned `Vec`'s buffer, integer ranges,
//! and slices of primitives and of common compound element types (see
//! `slice_kind`). Every other input is an iterator that only yields in order, and
//! goes through the claims of `shared_call.rs` (or, on a worker, is first
//! collected into a buffer, which is then such a source). A call from
//! outside the pool that the probe shares rather than hands over claims
//! from an owned `Vec`'s rest too, as an [`OwnedRun`] behind the claims'
//! lock, writing its results over their inputs.
//!
//! `map` accepts any `IntoIterator`, so which inputs can be split is found
//! out at run time, by comparing the input's type with `Vec<T>` and
//! `Range<T>` for the item type `T` the call already knows
//! (`typeid::of`, which also works for types that borrow). A match proves
//! the type, so the casts below are no guesses; a miss costs nothing but
//! the fallback path.
//!
//! # Ownership
//! A [`Source`] hands out each index at most once, as a [`Source::take`] of
//! a range (moved out to the caller) or a [`Source::discard`] (dropped in
//! place). The engine's pieces own disjoint index ranges, so that holds by
//! construction; indices never handed out are the driver's to drop (a
//! buffer's are dropped by [`OwnedBuffer`]'s guard).

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Range;
use std::ptr;

/// Items that can be moved out by index range, from any thread.
///
/// # Safety
/// Implementors must hand out item `i` by value from `take` (or drop it in
/// `discard`) for each index below the length they were made with, given
/// the callers' promise below.
pub(crate) unsafe trait Source: Sync {
    /// The item type.
    type Item: Send;
    /// The items of one range, in order.
    type Run<'s>: Iterator<Item = Self::Item>
    where
        Self: 's;

    /// Moves out the items of `range`; a `Run` dropped early drops the
    /// items it did not yield.
    ///
    /// # Safety
    /// `range` lies within the source, and none of its indices were taken
    /// or discarded before.
    unsafe fn take(&self, range: Range<usize>) -> Self::Run<'_>;

    /// Drops the items of `range` without running them.
    ///
    /// # Safety
    /// As [`take`](Self::take).
    unsafe fn discard(&self, range: Range<usize>);

    /// For a source whose results are written over their own inputs
    /// ([`InPlace`]): the slots of `range`, which the caller then owns as
    /// if taken. `None` for every other source (the default), which the
    /// compiler folds away.
    ///
    /// # Safety
    /// As [`take`](Self::take).
    #[inline]
    unsafe fn in_place_slots(&self, _range: Range<usize>) -> Option<*mut Self::Item> {
        None
    }
}

/// The initialised items of a buffer whose owner no longer drops them.
pub(crate) struct Owned<T> {
    base: *mut T,
}

// SAFETY: each item is moved out at most once (the `Source` contract), by
// whichever thread takes its range; that moves a `T` across threads, which
// `T: Send` allows. Nothing is shared by reference.
unsafe impl<T: Send> Sync for Owned<T> {}

impl<T> Owned<T> {
    /// # Safety
    /// `base[..len]` must hold initialised items that nobody else reads or
    /// drops, valid for as long as this source is used.
    pub(crate) unsafe fn new(base: *mut T) -> Self {
        Owned { base }
    }
}

// SAFETY: `take` reads each item of its range once, through `OwnedRun`,
// which either yields it or drops it.
unsafe impl<T: Send> Source for Owned<T> {
    type Item = T;
    type Run<'s>
        = OwnedRun<'s, T>
    where
        Self: 's;

    #[inline]
    unsafe fn take(&self, range: Range<usize>) -> OwnedRun<'_, T> {
        // SAFETY: the range lies within the buffer (the caller's promise).
        unsafe {
            OwnedRun {
                next: self.base.add(range.start),
                left: range.len(),
                marker: PhantomData,
            }
        }
    }

    #[inline]
    unsafe fn discard(&self, range: Range<usize>) {
        // SAFETY: the range's items are initialised and owned by the caller.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                self.base.add(range.start),
                range.len(),
            ));
        }
    }
}

/// An [`Owned`] buffer whose results go over their own inputs: the
/// engine reads slot `i` and writes result `i` into it
/// ([`Leaf::write_in_place`](crate::leaves::Leaf::write_in_place)).
pub(crate) struct InPlace<T>(Owned<T>);

impl<T> InPlace<T> {
    /// # Safety
    /// As [`Owned::new`]; besides, the call's output slots must be these
    /// same slots, and its results fit them (`same_layout`).
    pub(crate) unsafe fn new(owned: Owned<T>) -> Self {
        InPlace(owned)
    }
}

// SAFETY: `Owned`'s contract, to which `in_place_slots` adds nothing: it
// hands out the range's items as `take` does, as slots instead of a run.
unsafe impl<T: Send> Source for InPlace<T> {
    type Item = T;
    type Run<'s>
        = OwnedRun<'s, T>
    where
        Self: 's;

    #[inline]
    unsafe fn take(&self, range: Range<usize>) -> OwnedRun<'_, T> {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.0.take(range) }
    }

    #[inline]
    unsafe fn discard(&self, range: Range<usize>) {
        // SAFETY: the caller's promise, passed on.
        unsafe { self.0.discard(range) }
    }

    #[inline]
    unsafe fn in_place_slots(&self, range: Range<usize>) -> Option<*mut T> {
        // SAFETY: the range lies within the buffer (the caller's promise).
        Some(unsafe { self.0.base.add(range.start) })
    }
}

/// A taken range of an [`Owned`] buffer.
/// (A count rather than an end pointer: zero-sized items have no addresses
/// to tell apart.)
pub(crate) struct OwnedRun<'s, T> {
    next: *mut T,
    left: usize,
    marker: PhantomData<&'s Owned<T>>,
}

// SAFETY: a run owns the items it has not yielded (and only those slots):
// moving it to another thread moves those `T`s, which `T: Send` allows.
unsafe impl<T: Send> Send for OwnedRun<'_, T> {}

impl<T> Iterator for OwnedRun<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // SAFETY: one of the `left` initialised items this run owns; the
        // pointer moves past it, so it is read once.
        unsafe {
            let item = ptr::read(self.next);
            self.next = self.next.add(1);
            Some(item)
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T> Drop for OwnedRun<'_, T> {
    fn drop(&mut self) {
        // Dropped early only when the mapped function panicked or stopped
        // the call: drop what was not yielded.
        // SAFETY: `next[..left]` are initialised items this run still owns.
        unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(self.next, self.left)) }
    }
}

/// An integer range (`Range<T>` for a `T` the standard library steps), split
/// by copying it and skipping ahead with `nth`, which ranges do in O(1).
pub(crate) struct Stepped<J: Iterator> {
    /// The range, as its iterator type (proven to be `Range<J::Item>`).
    range: J,
}

// SAFETY: `J` is `Range<T>` for a type the standard library's `Step` covers
// (only the standard library can implement `Step`): integers, `char` and
// IP addresses, all plain `Copy` data without interior mutability, so
// reading the range from several threads at once is sound; `take` makes
// bitwise copies, which for `Copy` data are independent values, each moved
// to the thread that took it, which `T: Send` allows.
unsafe impl<J: Iterator> Sync for Stepped<J> where J::Item: Send {}

impl<J: Iterator> Stepped<J> {
    /// `Some` if `iter` is an integer range, `None` (giving it back) if not.
    pub(crate) fn new(iter: J) -> Result<Self, J> {
        // `Range<T>: Iterator` only for `T: Step`, whose implementors are all
        // `Copy`; `needs_drop` is checked as well, so a range of anything
        // with a destructor is never copied bitwise.
        if typeid::of::<J>() == typeid::of::<Range<J::Item>>() && !std::mem::needs_drop::<J>() {
            Ok(Stepped { range: iter })
        } else {
            Err(iter)
        }
    }

    /// A copy of the range advanced by `by` items, as its `Range`.
    #[inline]
    fn advanced(&self, by: usize) -> Range<J::Item> {
        // SAFETY: `J` is `Range<J::Item>` (checked in `new`) of plain `Copy`
        // data: the bitwise copy is an independent value of the same type.
        let mut copy: J = unsafe { ptr::read(&self.range) };
        if by > 0 {
            // O(1) for ranges; stops at the end for `by` past it.
            copy.nth(by - 1);
        }
        let copy = ManuallyDrop::new(copy);
        // SAFETY: `J` and `Range<J::Item>` are the same type (`new`).
        unsafe { ptr::read((&*copy as *const J).cast::<Range<J::Item>>()) }
    }
}

// SAFETY: `take` yields the items of exactly `range` from a copy of the
// range; nothing needs dropping (plain `Copy` items).
unsafe impl<J: Iterator> Source for Stepped<J>
where
    J::Item: Send,
{
    type Item = J::Item;
    type Run<'s>
        = J
    where
        Self: 's;

    #[inline]
    unsafe fn take(&self, range: Range<usize>) -> J {
        let end = self.advanced(range.end).start;
        let mut run = self.advanced(range.start);
        run.end = end;
        let run = ManuallyDrop::new(run);
        // SAFETY: `Range<J::Item>` is `J` (`new`).
        unsafe { ptr::read((&*run as *const Range<J::Item>).cast::<J>()) }
    }

    #[inline]
    unsafe fn discard(&self, _range: Range<usize>) {}
}

/// A slice's iterator over one of the element types listed below, by
/// reference (`slice::Iter<X>`, as `&v` and `v.iter()` give) or by mutable
/// reference (`slice::IterMut<X>`, as `&mut v` and `v.iter_mut()` give),
/// split by sub-slicing. Stable Rust cannot ask whether an iterator is a
/// slice's for an element type it cannot name, so the check is against a
/// fixed list: slices of other types are pulled in chunks (`stream.rs`).
pub(crate) struct SliceIter<J> {
    /// The slice's first element; for `IterMut`, a pointer that may write
    /// (taken from the iterator's own `&mut` slice).
    base: *mut (),
    /// Makes the iterator over a sub-range of the slice at `base`.
    sub: unsafe fn(*mut (), Range<usize>) -> J,
}

// SAFETY: `J` iterates a slice of a listed `X` (checked in `new`), every
// one of which is `Send` and `Sync`: shared references to it may be read
// from any thread, and each
// index's `&mut` goes to one thread only (`Source::take`'s contract).
unsafe impl<J> Sync for SliceIter<J> {}

/// How to take `J`, a slice iterator over `X`, apart and make its pieces.
struct SliceKind<J> {
    /// The slice's start, consuming the iterator.
    base: unsafe fn(J) -> *mut (),
    sub: unsafe fn(*mut (), Range<usize>) -> J,
}

/// Reads `value`, of type `J`, as a `K`.
///
/// # Safety
/// `J` and `K` must be the same type up to lifetimes.
unsafe fn same<J, K>(value: J) -> K {
    let value = ManuallyDrop::new(value);
    // SAFETY: the same type (the caller's promise), read once.
    unsafe { ptr::read((&*value as *const J).cast::<K>()) }
}

/// # Safety
/// `J` must be `slice::Iter<'a, X>` for some `'a`.
unsafe fn iter_base<J, X: 'static>(iter: J) -> *mut () {
    // SAFETY: per the contract.
    let iter: std::slice::Iter<'static, X> = unsafe { same(iter) };
    // Only ever read through (`Iter` yields shared references).
    iter.as_slice().as_ptr().cast_mut().cast()
}

/// # Safety
/// `base` must come from [`iter_base`] for this `J` and `X`, and `range` be
/// within its slice, whose lifetime `'a` the resulting `J` carries.
unsafe fn iter_sub<J, X: 'static>(base: *mut (), range: Range<usize>) -> J {
    // SAFETY: `range` is within the slice at `base` (the caller's promise).
    let part: &'static [X] = unsafe {
        std::slice::from_raw_parts(base.cast::<X>().cast_const().add(range.start), range.len())
    };
    // SAFETY: `J` is `slice::Iter<'a, X>`; `'static` stood in for `'a`.
    unsafe { same(part.iter()) }
}

/// # Safety
/// `J` must be `slice::IterMut<'a, X>` for some `'a`.
unsafe fn iter_mut_base<J, X: 'static>(iter: J) -> *mut () {
    // SAFETY: per the contract.
    let iter: std::slice::IterMut<'static, X> = unsafe { same(iter) };
    // The iterator's own `&mut` slice: a pointer that may write.
    iter.into_slice().as_mut_ptr().cast()
}

/// # Safety
/// As [`iter_sub`], for `slice::IterMut<'a, X>`; besides, no two live
/// pieces may overlap (each index is handed out once).
unsafe fn iter_mut_sub<J, X: 'static>(base: *mut (), range: Range<usize>) -> J {
    // SAFETY: within the slice, and disjoint from every other piece (the
    // caller's promise), so this `&mut` is unique.
    let part: &'static mut [X] =
        unsafe { std::slice::from_raw_parts_mut(base.cast::<X>().add(range.start), range.len()) };
    // SAFETY: `J` is `slice::IterMut<'a, X>`; `'static` stood in for `'a`.
    unsafe { same(part.iter_mut()) }
}

impl<J: Iterator> SliceIter<J> {
    /// `Ok` if `iter` is a slice's iterator over a listed element type.
    pub(crate) fn new(iter: J) -> Result<Self, J> {
        match slice_kind::<J>() {
            Some(kind) => Ok(SliceIter {
                // SAFETY: `kind` is for `J` (`slice_kind`).
                base: unsafe { (kind.base)(iter) },
                sub: kind.sub,
            }),
            None => Err(iter),
        }
    }

    /// Whether `J` is such an iterator.
    pub(crate) fn is(_iter: &J) -> bool {
        slice_kind::<J>().is_some()
    }
}

/// How to split `J` if it is `slice::Iter<'_, X>` or `slice::IterMut<'_, X>`
/// for a listed `X`: the primitives, and the shapes user data most often
/// takes that stable Rust lets the list name: pairs, triples and small
/// arrays of numbers (points, vectors, key-value pairs), strings and byte
/// buffers. Each test compares two constants of the monomorphised code.
fn slice_kind<J>() -> Option<SliceKind<J>> {
    macro_rules! of {
        ($($x:ty),* $(,)?) => {
            $(
                if typeid::of::<J>() == typeid::of::<std::slice::Iter<'static, $x>>() {
                    return Some(SliceKind { base: iter_base::<J, $x>, sub: iter_sub::<J, $x> });
                }
                if typeid::of::<J>() == typeid::of::<std::slice::IterMut<'static, $x>>() {
                    return Some(SliceKind {
                        base: iter_mut_base::<J, $x>,
                        sub: iter_mut_sub::<J, $x>,
                    });
                }
            )*
        };
    }
    macro_rules! with_shapes {
        ($($x:ty),*) => {
            of!($(($x, $x), ($x, $x, $x), [$x; 2], [$x; 3], [$x; 4]),*);
        };
    }
    of!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64, bool, char);
    with_shapes!(u32, u64, usize, i32, i64, f32, f64);
    of!(
        (usize, f64),
        (u32, f32),
        (u64, f64),
        String,
        &'static str,
        Vec<u8>,
        Vec<f32>,
        Vec<f64>,
    );
    None
}

// SAFETY: `take` yields exactly the references of `range`, from a fresh
// iterator over that sub-slice; references need no dropping.
unsafe impl<J: Iterator> Source for SliceIter<J>
where
    J::Item: Send,
{
    type Item = J::Item;
    type Run<'s>
        = J
    where
        Self: 's;

    #[inline]
    unsafe fn take(&self, range: Range<usize>) -> J {
        // SAFETY: `sub` is for `J` and `base` (`new`); the range is the
        // caller's, within the slice, and taken once.
        unsafe { (self.sub)(self.base, range) }
    }

    #[inline]
    unsafe fn discard(&self, _range: Range<usize>) {}
}

/// Where an owned `Vec` input's buffer is, read before it became an
/// iterator, so that after the probe the rest can be taken in place.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VecBuffer {
    ptr: usize,
    capacity: usize,
}

impl VecBuffer {
    /// The buffer of `items` if it is a `Vec<T>`, else `None`.
    pub(crate) fn of<I, T>(items: &I) -> Option<VecBuffer> {
        if typeid::of::<I>() != typeid::of::<Vec<T>>() {
            return None;
        }
        // SAFETY: `I` is `Vec<T>` (the ids match, and `typeid` tells apart
        // every two types that differ in more than lifetimes, which a `Vec`
        // of the call's own item type cannot).
        let vec = unsafe { &*(items as *const I).cast::<Vec<T>>() };
        Some(VecBuffer {
            ptr: vec.as_ptr() as usize,
            capacity: vec.capacity(),
        })
    }

    /// The items `iter` has left, if it is the `vec::IntoIter` of the `Vec`
    /// this was read from, lying within its buffer; `None` for any other
    /// iterator.
    fn rest_of<J: Iterator>(self, iter: &J) -> Option<&[J::Item]> {
        if typeid::of::<J>() != typeid::of::<std::vec::IntoIter<J::Item>>() {
            return None;
        }
        // SAFETY: `J` is `vec::IntoIter<J::Item>` (the ids match).
        let rest = unsafe { &*(iter as *const J).cast::<std::vec::IntoIter<J::Item>>() };
        let rest = rest.as_slice();
        let (start, size) = (rest.as_ptr() as usize, std::mem::size_of::<J::Item>());
        // (Zero-sized items: the slice starts at the buffer's dangling
        // address and takes no room.)
        let within = start >= self.ptr
            && (start - self.ptr) + rest.len() * size <= self.capacity.saturating_mul(size);
        within.then_some(rest)
    }

    /// How many items `iter` has yielded, if it is the `vec::IntoIter` of
    /// the `Vec` this was read from (and its items take room); `None` for
    /// any other iterator.
    pub(crate) fn taken_by<J: Iterator>(self, iter: &J) -> Option<usize> {
        let size = std::mem::size_of::<J::Item>();
        let rest = self.rest_of(iter).filter(|_| size != 0)?;
        Some((rest.as_ptr() as usize - self.ptr) / size)
    }

    /// The buffer's first slot, for an `R`.
    pub(crate) fn first_slot<R>(self) -> *mut R {
        self.ptr as *mut R
    }

    /// Takes over the rest of `iter`, the `vec::IntoIter<T>` of the `Vec`
    /// this was read from: its remaining items become an [`Owned`] source
    /// and the buffer an [`OwnedBuffer`] that frees it. `Err(iter)` if
    /// `iter` is not such an iterator over this buffer.
    pub(crate) fn take_rest<J: Iterator>(self, iter: J) -> Result<OwnedBuffer<J::Item>, J> {
        let Some((start, len)) = self.rest_of(&iter).map(|rest| (rest.as_ptr(), rest.len())) else {
            // Not the buffer it was made from: leave it be.
            return Err(iter);
        };
        // The iterator is forgotten: it neither drops the remaining items
        // (the source hands each out once) nor frees the buffer (the
        // `OwnedBuffer` does, with the layout the `Vec` allocated).
        std::mem::forget(iter);
        Ok(OwnedBuffer {
            buffer: self,
            rest: start.cast_mut(),
            len,
        })
    }
}

/// An owned `Vec` input's buffer, taken over after the probe: `len` items
/// from `rest` are initialised and owned by the call; the buffer is freed
/// when this is dropped, whatever happened to the items.
pub(crate) struct OwnedBuffer<T> {
    buffer: VecBuffer,
    rest: *mut T,
    len: usize,
}

impl<T> OwnedBuffer<T> {
    /// Takes over all of `vec`'s items and its buffer.
    pub(crate) fn from_vec(vec: Vec<T>) -> Self {
        let mut vec = ManuallyDrop::new(vec);
        let len = vec.len();
        // The `Vec` is forgotten: its items now belong to this value, and
        // its buffer is freed by this value's `Drop`.
        OwnedBuffer {
            buffer: VecBuffer {
                ptr: vec.as_mut_ptr() as usize,
                capacity: vec.capacity(),
            },
            rest: vec.as_mut_ptr(),
            len,
        }
    }

    /// How many items are left.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The remaining items as a source.
    ///
    /// # Safety
    /// The source must be used at most once per index, and not after this
    /// buffer is dropped; indices it never hands out leak.
    pub(crate) unsafe fn source(&self) -> Owned<T> {
        // SAFETY: `rest[..len]` are initialised items nobody else owns.
        unsafe { Owned::new(self.rest) }
    }

    /// How many item slots lie before the remaining items: the items the
    /// call took before the buffer was taken over.
    pub(crate) fn taken_before(&self) -> usize {
        match std::mem::size_of::<T>() {
            0 => 0,
            size => (self.rest as usize - self.buffer.ptr) / size,
        }
    }

    /// The slot of the first remaining item, as a slot for an `R`: where
    /// the result of that item goes when a call maps in place.
    pub(crate) fn rest_as<R>(&self) -> *mut R {
        self.rest.cast::<R>()
    }

    /// Turns the buffer into a `Vec<R>` of its first `len` slots, without
    /// freeing it.
    ///
    /// # Safety
    /// `R` must have `T`'s size and alignment (so the buffer's layout is
    /// that of a `Vec<R>` of the same capacity), `len` must be within the
    /// capacity, and slots `..len` must hold initialised `R`s that nobody
    /// else owns.
    pub(crate) unsafe fn into_vec<R>(self, len: usize) -> Vec<R> {
        debug_assert!(same_layout::<T, R>() && len <= self.buffer.capacity);
        let this = ManuallyDrop::new(self);
        // SAFETY: a `Vec<T>` allocated the buffer with this capacity, which
        // is a `Vec<R>`'s layout too (same size and alignment); the items
        // are initialised `R`s (the caller's promise). `this` is forgotten,
        // so the buffer is freed only by the new `Vec`.
        unsafe { Vec::from_raw_parts(this.buffer.ptr as *mut R, len, this.buffer.capacity) }
    }
}

/// Whether a `T`'s slot can hold an `R` in a buffer allocated for `T`s:
/// the same size (not zero: zero-sized outputs need no buffer) and the
/// same alignment.
pub(crate) fn same_layout<T, R>() -> bool {
    use std::mem::{align_of, size_of};
    size_of::<T>() == size_of::<R>() && align_of::<T>() == align_of::<R>() && size_of::<T>() != 0
}

impl<T> Drop for OwnedBuffer<T> {
    fn drop(&mut self) {
        // SAFETY: the buffer was allocated by a `Vec<T>` with this capacity,
        // and nothing owns it any more (its iterator was forgotten); length
        // 0 frees it without dropping items.
        drop(unsafe {
            Vec::<T>::from_raw_parts(self.buffer.ptr as *mut T, 0, self.buffer.capacity)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_splits_into_its_own_pieces() {
        let source = Stepped::new(10u64..20).expect("a range");
        // SAFETY: disjoint ranges within the source, each taken once.
        let (a, b) = unsafe { (source.take(0..3), source.take(3..10)) };
        assert_eq!(a.collect::<Vec<_>>(), [10, 11, 12]);
        assert_eq!(b.collect::<Vec<_>>(), (13..20).collect::<Vec<_>>());
    }

    #[test]
    fn only_ranges_are_stepped() {
        assert!(Stepped::new((0u32..5).map(|x| x + 1)).is_err());
        assert!(Stepped::new(0u32..=5).is_err());
        assert!(Stepped::new(vec![1u8].into_iter()).is_err());
    }

    #[test]
    fn a_slice_of_primitives_splits_into_sub_slices() {
        let data = [1.5f64, 2.5, 3.5, 4.5];
        let mut iter = data.iter();
        iter.next();
        let source = SliceIter::new(iter).expect("a slice of f64");
        // SAFETY: disjoint ranges within the 3 items left.
        let (a, b) = unsafe { (source.take(0..1), source.take(1..3)) };
        assert_eq!(a.copied().collect::<Vec<_>>(), [2.5]);
        assert_eq!(b.copied().collect::<Vec<_>>(), [3.5, 4.5]);
        assert!(SliceIter::new(data.iter().copied()).is_err());
    }

    #[test]
    fn slices_of_listed_compound_types_split_and_others_do_not() {
        let points = [[0.5f64, 1.0], [1.5, 2.0], [2.5, 3.0]];
        let source = SliceIter::new(points.iter()).expect("a slice of [f64; 2]");
        // SAFETY: disjoint ranges within the 3 items.
        let (a, b) = unsafe { (source.take(0..2), source.take(2..3)) };
        assert_eq!(a.copied().collect::<Vec<_>>(), points[..2]);
        assert_eq!(b.copied().collect::<Vec<_>>(), points[2..]);
        let text = String::from("borrowed");
        let words = [text.as_str(), "two"];
        let source = SliceIter::new(words.iter()).expect("a slice of &str");
        // SAFETY: disjoint ranges within the 2 items.
        let (a, b) = unsafe { (source.take(0..1), source.take(1..2)) };
        assert_eq!(
            (a.collect::<Vec<_>>(), b.collect::<Vec<_>>()),
            (vec![&"borrowed"], vec![&"two"])
        );
        let names = ["a".to_string()];
        assert!(SliceIter::new(names.iter()).is_ok());
        struct Point(f64);
        let own = [Point(1.0)];
        assert!(
            SliceIter::new(own.iter()).is_err(),
            "a type the list cannot name"
        );
        assert_eq!(own[0].0, 1.0);
    }

    #[test]
    fn a_mut_slice_splits_into_disjoint_writable_pieces() {
        let mut data = [1u32, 2, 3, 4, 5];
        let source = SliceIter::new(data.iter_mut()).expect("a mut slice of u32");
        // SAFETY: disjoint ranges within the 5 items, each taken once.
        let (a, b) = unsafe { (source.take(0..2), source.take(2..5)) };
        b.for_each(|x| *x *= 10);
        a.for_each(|x| *x += 100);
        assert_eq!(data, [101, 102, 30, 40, 50]);
        let mut pairs = [(1u64, 2.0f64); 3];
        let source = SliceIter::new(pairs.iter_mut()).expect("a mut slice of (u64, f64)");
        // SAFETY: disjoint ranges within the 3 items, each taken once.
        let (a, b) = unsafe { (source.take(0..1), source.take(1..3)) };
        b.for_each(|p| p.0 = 7);
        a.for_each(|p| p.1 = 0.5);
        assert_eq!(pairs, [(1, 0.5), (7, 2.0), (7, 2.0)]);
        let mut cells = [std::cell::Cell::new(0u8)];
        assert!(SliceIter::new(cells.iter_mut()).is_err());
    }

    #[test]
    fn a_vec_rest_is_taken_in_place_and_its_items_moved_out_once() {
        let items: Vec<String> = (0..5).map(|i| i.to_string()).collect();
        let buffer = VecBuffer::of::<_, String>(&items).expect("a Vec");
        let mut iter = items.into_iter();
        assert_eq!(iter.next().as_deref(), Some("0"));
        let rest = buffer.take_rest(iter).expect("its own iterator");
        assert_eq!(rest.len(), 4);
        // SAFETY: each index taken or discarded once, before `rest` drops.
        let source = unsafe { rest.source() };
        // SAFETY: the first two, once.
        let taken: Vec<String> = unsafe { source.take(0..2) }.collect();
        assert_eq!(taken, ["1", "2"]);
        // SAFETY: the rest, once.
        unsafe { source.discard(2..4) };
    }

    #[test]
    fn other_inputs_are_not_taken_for_vecs() {
        assert!(VecBuffer::of::<_, u8>(&[1u8, 2]).is_none());
        let items = vec![1u8, 2];
        assert!(VecBuffer::of::<_, &u8>(&&items).is_none());
        let buffer = VecBuffer::of::<_, u8>(&items).expect("a Vec");
        let other = vec![3u8, 4];
        assert!(buffer.take_rest(other.into_iter()).is_err());
    }
}
