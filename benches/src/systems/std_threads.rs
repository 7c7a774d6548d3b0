//! Plain `std` threads as comparison systems: no pool, threads created per call.
//!
//! * [`map_slice`] — `std::thread::scope` with a static split into contiguous pieces, the
//!   hand-written parallel loop a user would write without a library.
//! * [`run_pieces`] — the same split for any work: [`fill_pieces`] writes one output from the
//!   pieces, [`tree_sum`] sums a tree's subtrees.
//! * [`thread_per_item`] — one thread per item, the analogue of seed 003's
//!   `multiprocessing.Process` per item.
//! * [`PingPong`] — a parked thread woken through a `Mutex` + `Condvar`, the floor for any
//!   pool's wake-up round trip.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

use crate::workloads::{self, SerialJoin, Tree};

/// Maps `f` over `items` on `threads` threads: the slice and one output are cut into
/// `threads` contiguous pieces of equal length, each mapped by [`fill_pieces`].
///
/// # Panics
/// Re-raises the panic of any piece.
pub fn map_slice<T, R, F>(threads: usize, items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    fill_pieces(threads, items.len(), |range, out| {
        for (slot, item) in out.iter_mut().zip(&items[range]) {
            slot.write(f(item));
        }
    })
}

/// The length of each of `threads` contiguous pieces of `n` items (the last may be shorter),
/// at least 1.
pub fn piece_len(n: usize, threads: usize) -> usize {
    n.div_ceil(threads.max(1)).max(1)
}

/// Runs `work` on every piece, each but the first on a scoped thread of its own and the
/// first on the calling thread meanwhile, with no scheduler; the results in the pieces'
/// order. The hand-split loop every "std pieces" row is built on.
///
/// # Panics
/// Re-raises the panic of any piece, once every piece has finished.
pub fn run_pieces<P, R, F>(pieces: impl IntoIterator<Item = P>, work: F) -> Vec<R>
where
    P: Send,
    R: Send,
    F: Fn(P) -> R + Sync,
{
    let work = &work;
    let mut pieces = pieces.into_iter();
    let Some(first) = pieces.next() else {
        return Vec::new();
    };
    thread::scope(|scope| {
        let rest: Vec<_> = pieces.map(|p| scope.spawn(move || work(p))).collect();
        let mut out = Vec::with_capacity(rest.len() + 1);
        out.push(work(first));
        for handle in rest {
            match handle.join() {
                Ok(result) => out.push(result),
                Err(payload) => std::panic::resume_unwind(payload),
            }
        }
        out
    })
}

/// Fills an output of `n` items on `threads` threads with no scheduler and no copy: the
/// output is cut into `threads` contiguous pieces, and `fill(range, piece)` writes every
/// slot of the piece for the indices `range`, the calling thread taking the first piece
/// ([`run_pieces`]). The most a plain loop gets from the machine's cores and memory.
///
/// # Panics
/// Re-raises the panic of any piece (the pieces' outputs then leak).
pub fn fill_pieces<R, F>(threads: usize, n: usize, fill: F) -> Vec<R>
where
    R: Send,
    F: Fn(std::ops::Range<usize>, &mut [std::mem::MaybeUninit<R>]) + Sync,
{
    let mut out: Vec<R> = Vec::with_capacity(n);
    let len = piece_len(n, threads);
    let pieces = out.spare_capacity_mut()[..n].chunks_mut(len).enumerate();
    run_pieces(pieces, |(i, piece)| {
        fill(i * len..i * len + piece.len(), piece)
    });
    // SAFETY: every piece's `fill` wrote each of its slots (its contract), and `run_pieces`
    // returned only after all of them finished without panicking.
    unsafe { out.set_len(n) };
    out
}

/// [`tree_sum`] with no scheduler: the top levels are cut into at least `threads` subtrees,
/// each summed serially on a thread of its own ([`run_pieces`]). On a perfect tree the pieces
/// are equal, so this is what the machine gives a tree walk split by hand: where memory
/// latency caps it, the limit for any scheduler.
pub fn tree_sum(node: &Tree, threads: usize) -> u64 {
    // The nodes above the cut (summed here) and the subtrees below it (one thread each).
    let (mut above, mut pieces) = (0, vec![node]);
    while pieces.len() < threads && pieces.iter().any(|t| t.left.is_some() || t.right.is_some()) {
        let mut next = Vec::with_capacity(pieces.len() * 2);
        for t in pieces {
            if t.left.is_none() && t.right.is_none() {
                next.push(t);
            } else {
                above += t.value;
                next.extend(t.left.as_deref().into_iter().chain(t.right.as_deref()));
            }
        }
        pieces = next;
    }
    above
        + run_pieces(pieces, workloads::tree_sum::<SerialJoin>)
            .into_iter()
            .sum::<u64>()
}

/// Runs `f` on every item in its own freshly spawned thread and collects the results in
/// input order.
///
/// # Panics
/// Re-raises the panic of any item.
pub fn thread_per_item<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let f = &f;
    thread::scope(|scope| {
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || f(item)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[derive(Debug, Default)]
struct PingState {
    request: u64,
    response: u64,
    quit: bool,
}

/// A helper thread parked on a `Condvar`; [`PingPong::round_trip`] wakes it and waits for
/// its answer. Both directions share one `Condvar` (with `notify_all`), which is correct
/// with two parties and keeps the protocol to one lock.
#[derive(Debug)]
pub struct PingPong {
    shared: Arc<(Mutex<PingState>, Condvar)>,
    helper: Option<JoinHandle<()>>,
}

impl PingPong {
    /// Starts the helper thread.
    pub fn start() -> PingPong {
        let shared = Arc::new((Mutex::new(PingState::default()), Condvar::new()));
        let theirs = Arc::clone(&shared);
        let helper = thread::Builder::new()
            .name("pingpong".into())
            .spawn(move || {
                let (lock, cv) = &*theirs;
                let mut state = lock.lock().expect("ping-pong lock");
                loop {
                    while state.request == state.response && !state.quit {
                        state = cv.wait(state).expect("ping-pong lock");
                    }
                    if state.quit {
                        return;
                    }
                    state.response = state.request;
                    cv.notify_all();
                }
            })
            .expect("spawning the ping-pong thread");
        PingPong {
            shared,
            helper: Some(helper),
        }
    }

    /// Wakes the helper and waits until it has answered; returns the round number.
    pub fn round_trip(&self) -> u64 {
        let (lock, cv) = &*self.shared;
        let mut state = lock.lock().expect("ping-pong lock");
        state.request += 1;
        let wanted = state.request;
        cv.notify_all();
        while state.response != wanted {
            state = cv.wait(state).expect("ping-pong lock");
        }
        1
    }
}

impl Drop for PingPong {
    fn drop(&mut self) {
        let (lock, cv) = &*self.shared;
        if let Ok(mut state) = lock.lock() {
            state.quit = true;
        }
        cv.notify_all();
        if let Some(helper) = self.helper.take() {
            let _ = helper.join();
        }
    }
}

/// A lazy iterator with no threads at all: it maps `chunk` inputs at a time into a buffer and
/// yields from the buffer, refilling it out of line. Every lazy, buffered iterator has this
/// shape, so collecting it into a `Vec` (whose loop calls `next` per item and cannot keep
/// the iterator in registers across the refill call) is the floor for a lazy parallel one.
#[derive(Debug)]
pub struct Buffered<I, F, R> {
    input: I,
    f: F,
    chunk: usize,
    ready: std::vec::IntoIter<R>,
}

impl<I: Iterator, F: FnMut(I::Item) -> R, R> Buffered<I, F, R> {
    /// `input` mapped through `f`, `chunk` items at a time.
    pub fn new(input: I, f: F, chunk: usize) -> Self {
        Buffered {
            input,
            f,
            chunk: chunk.max(1),
            ready: Vec::new().into_iter(),
        }
    }

    #[inline(never)]
    fn refill(&mut self) -> Option<R> {
        let chunk: Vec<R> = self
            .input
            .by_ref()
            .take(self.chunk)
            .map(&mut self.f)
            .collect();
        self.ready = chunk.into_iter();
        self.ready.next()
    }
}

impl<I: Iterator, F: FnMut(I::Item) -> R, R> Iterator for Buffered<I, F, R> {
    type Item = R;

    #[inline]
    fn next(&mut self) -> Option<R> {
        match self.ready.next() {
            Some(x) => Some(x),
            None => self.refill(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (low, high) = self.input.size_hint();
        let here = self.ready.len();
        (
            low.saturating_add(here),
            high.and_then(|h| h.checked_add(here)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_split_by_hand_sums_to_the_closed_form() {
        let t = Tree::perfect(10);
        // Cut into 1, 2, 3 (→ 4) and more subtrees than the tree has leaves.
        for threads in [1, 2, 3, 8, 5000] {
            assert_eq!(tree_sum(&t, threads), Tree::perfect_sum(10), "{threads}");
        }
        assert_eq!(tree_sum(&Tree::perfect(1), 2), 1);
    }

    #[test]
    fn run_pieces_keeps_the_pieces_order_and_resumes_a_piece_panic() {
        assert_eq!(run_pieces(1..=5, |x| x * 10), [10, 20, 30, 40, 50]);
        assert!(run_pieces(std::iter::empty::<u8>(), |x| x).is_empty());
        let caught = std::panic::catch_unwind(|| run_pieces([1, 2, 3], |x| assert_ne!(x, 3)));
        assert!(caught.is_err());
    }

    #[test]
    fn buffered_yields_every_mapped_item_in_order_across_chunks() {
        let got: Vec<u64> = Buffered::new(0..10u64, |x| x * 2, 3).collect();
        assert_eq!(got, (0..10).map(|x| x * 2).collect::<Vec<_>>());
        assert_eq!(Buffered::new(0..5u64, |x| x, 2).size_hint(), (5, Some(5)));
    }

    #[test]
    fn static_split_keeps_order_for_uneven_lengths() {
        let items: Vec<u32> = (0..11).collect();
        for threads in 1..=5 {
            let out = map_slice(threads, &items, |x| x * 2);
            assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
        assert!(map_slice(3, &[] as &[u32], |x| *x).is_empty());
    }

    #[test]
    fn thread_per_item_keeps_order() {
        assert_eq!(thread_per_item(&[3, 1, 2], |x| x + 1), vec![4, 2, 3]);
    }

    #[test]
    fn ping_pong_answers_every_round_and_shuts_down() {
        let p = PingPong::start();
        for _ in 0..100 {
            assert_eq!(p.round_trip(), 1);
        }
        drop(p);
    }
}
