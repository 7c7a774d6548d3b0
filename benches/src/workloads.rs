//! The work being parallelised, free of any scheduler: the calibrated spin of the threshold
//! sweep, the functions of the four Python seeds, and the recursive fork-join workloads (fib,
//! tree sum, empty joins), which are generic over a [`Joiner`] so that the serial recursion,
//! filch and rayon run literally the same code. Each also has a twin written against
//! [`JoinContext`], filch's join that takes its worker as an argument (`fib_in`,
//! `tree_sum_in`, `empty_joins_in`): the same source shape, with the context passed down.
//!
//! Each function keeps its result observable (`black_box` or a returned value) so the
//! optimiser cannot delete the work being measured.

use std::hint::black_box;
use std::time::Duration;

use filch::JoinContext;

/// Spins for `iters` iterations of dependent integer arithmetic and returns the result.
///
/// Every iteration passes through [`black_box`], so the loop can be neither vectorised nor
/// replaced by a closed form; its cost per iteration is therefore stable and is what
/// [`crate::calibrate::Spin`] measures. No clock is read inside.
#[inline]
pub fn spin(iters: u64, seed: u64) -> u64 {
    let mut acc = seed;
    for i in 0..iters {
        acc = black_box(acc.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
    }
    acc
}

/// [`spin`] out of line: the threshold sweep's item and its calibration, so that every system
/// runs the very same machine code at one address. Inlined, the loop is compiled into each
/// system's own function and lands wherever that function's layout puts it; on the 2-core
/// reference VM the same five instructions ran about 1.4x slower when the loop straddled a
/// 64-byte line (N = 1000 items of w = 10 ns: 5.4 µs inside filch's driver against 3.8 µs in
/// the serial loop, 3.7 µs once an unrelated change moved it), which the sweep reported as
/// filch's overhead. The call it costs every system alike is part of the item's work.
#[inline(never)]
pub fn spin_item(iters: u64, seed: u64) -> u64 {
    spin(iters, seed)
}

/// Seed 000: `x = z*z + 0.5; y = x*x + 0.6; return y*y + 0.7`.
#[inline]
pub fn poly(z: f64) -> f64 {
    let x = z * z + 0.5;
    let y = x * x + 0.6;
    y * y + 0.7
}

/// Seed 001's cheap function: `x * x`.
#[inline]
pub fn square(x: i64) -> i64 {
    x * x
}

/// Seed 001's expensive function: `iters` natural logarithms of a value stepping by 0.1.
/// Each `ln` goes through [`black_box`] so the dead results of earlier iterations (Python
/// overwrites `ret` every time) are still computed, as they are in Python.
///
/// Never inlined, so that every system runs the same machine code. Inlined, each system's
/// instantiation got its own register allocation, and on a 2-vCPU EPYC VM the serial
/// loop's kept `fixed` in a stack slot it stored and reloaded twice per iteration: ~1.75x
/// slower per `ln` than filch's copy, which made uneven items measure 3.4x on two cores.
/// A call costs nothing beside a loop of `ln`s.
#[inline(never)]
pub fn log_loop(x: f64, iters: u64) -> f64 {
    let mut fixed = x;
    let mut ret = 0.0;
    for _ in 0..iters {
        ret = black_box(fixed.ln());
        fixed += 0.1;
    }
    ret
}

/// Seed 002's two-argument function `g(a, b) = a + b`.
#[inline]
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Seed 003's `basic_func`: the parity word of `x`.
pub fn parity_word(x: u64) -> &'static str {
    if x == 0 {
        "zero"
    } else if x % 2 == 0 {
        "even"
    } else {
        "odd"
    }
}

/// Seed 003's item: square `x`, sleep for `nap` (the Python sleeps 2 s), name the parity.
pub fn sleepy_square(x: u64, nap: Duration) -> &'static str {
    let y = x * x;
    std::thread::sleep(nap);
    parity_word(y)
}

/// `n` pseudo-random integers in `[low, high)`, deterministic for a given `seed`
/// (splitmix64), standing in for seed 001's `np.random.randint(0, 1000, 100)`.
pub fn random_ints(n: usize, low: i64, high: i64, seed: u64) -> Vec<i64> {
    let span = (high - low).max(1) as u64;
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            low + (z % span) as i64
        })
        .collect()
}

/// A way to run two closures potentially in parallel: `rayon::join`, `filch::join`, or
/// one after the other. The fork-join workloads are generic over it.
pub trait Joiner {
    /// Runs `a` and `b` (maybe in parallel) and returns both results.
    fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send;
}

/// The serial [`Joiner`]: `a` then `b` on the calling thread. Monomorphised, the workloads
/// become the plain recursion that is the baseline.
///
/// Never inlined, like the schedulers' own fork functions: a recursion cut at this call
/// has the callee's leaf test inlined into each closure, so a leaf costs its parent a
/// test, not a call. Which cut is faster depends on the workload: on the EPYC machine
/// (scratch harness, medians of 15 rounds) the tree sum cut here ran 1.6x-2.1x faster
/// than the hand-written recursion ([`tree_sum_plain`]), while `fib` ran ~15% slower
/// than [`fib_plain`]. So the bench runs both shapes and judges the targets against the
/// faster one: a scheduler whose fork happens to get the better cut must not look
/// faster than serial code.
#[derive(Debug, Clone, Copy, Default)]
pub struct SerialJoin;

impl Joiner for SerialJoin {
    #[inline(never)]
    fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        (a(), b())
    }
}

/// The serial recursion plus the least bookkeeping a `join` with an implicit worker
/// context can do per fork: a thread-local depth counter, raised before `a` and restored
/// after it. No scheduler that keeps its frames in thread-local state forks for less, so
/// this row is the floor such a scheduler is measured against on this machine. Never
/// inlined, like [`SerialJoin`]. (On a
/// memory-bound tree this one read-modify-write per fork has cost 2x the plain
/// recursion: see `docs/design.md`.)
///
/// ```
/// use filch_bench::workloads::{fib, DepthCountJoin, SerialJoin};
/// assert_eq!(fib::<DepthCountJoin>(20), fib::<SerialJoin>(20));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct DepthCountJoin;

thread_local! {
    static JOIN_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Joiner for DepthCountJoin {
    #[inline(never)]
    fn join<A, B, RA, RB>(a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        let depth = JOIN_DEPTH.with(|d| d.replace(d.get() + 1));
        let ra = a();
        JOIN_DEPTH.with(|d| d.set(depth));
        (ra, b())
    }
}

/// A recursive workload that a fork-join system can run: the system chooses the
/// [`Joiner`] (and installs its pool around the call), the task supplies the recursion.
pub trait ForkJoinTask: Sync {
    /// What the task computes.
    type Output: Send + PartialEq;
    /// Runs the task with `J` doing the forking.
    fn run<J: Joiner>(&self) -> Self::Output;
    /// Runs the task's [`JoinContext`] twin on the worker that owns `ctx`.
    fn run_in(&self, ctx: JoinContext<'_>) -> Self::Output;
    /// Runs the task as a hand-written recursion with no `join` at all: the other shape
    /// of serial code, which the compiler cuts differently (see [`SerialJoin`]).
    fn run_plain(&self) -> Self::Output;
}

/// [`fib`] as a [`ForkJoinTask`].
#[derive(Debug, Clone, Copy)]
pub struct FibTask(pub u32);

impl ForkJoinTask for FibTask {
    type Output = u64;
    fn run<J: Joiner>(&self) -> u64 {
        fib::<J>(self.0)
    }
    fn run_in(&self, ctx: JoinContext<'_>) -> u64 {
        fib_in(ctx, self.0)
    }
    fn run_plain(&self) -> u64 {
        fib_plain(self.0)
    }
}

/// [`tree_sum`] over a borrowed tree as a [`ForkJoinTask`].
#[derive(Debug, Clone, Copy)]
pub struct TreeSumTask<'a>(pub &'a Tree);

impl ForkJoinTask for TreeSumTask<'_> {
    type Output = u64;
    fn run<J: Joiner>(&self) -> u64 {
        tree_sum::<J>(self.0)
    }
    fn run_in(&self, ctx: JoinContext<'_>) -> u64 {
        tree_sum_in(ctx, self.0)
    }
    fn run_plain(&self) -> u64 {
        tree_sum_plain(self.0)
    }
}

/// [`empty_joins`] as a [`ForkJoinTask`].
#[derive(Debug, Clone, Copy)]
pub struct EmptyJoinsTask(pub u64);

impl ForkJoinTask for EmptyJoinsTask {
    type Output = u64;
    fn run<J: Joiner>(&self) -> u64 {
        empty_joins::<J>(self.0)
    }
    fn run_in(&self, ctx: JoinContext<'_>) -> u64 {
        empty_joins_in(ctx, self.0)
    }
    fn run_plain(&self) -> u64 {
        (0..self.0).map(|_| black_box(1u64) + black_box(0u64)).sum()
    }
}

/// `fib(n)` by binary recursion, forking both calls through `J` with no cut-off: the
/// worst case for a scheduler, since every task is a few nanoseconds of work.
///
/// The closures capture `n` by value (`move`), as [`tree_sum`]'s capture its children and
/// as one writes a fine-grained fork by hand: captured by reference, `n` must live in the
/// forking frame's memory, and every level pays a store and a load through a pointer on
/// the recursion's critical path. In a scratch harness on the EPYC machine (three runs),
/// by-reference capture made `JoinContext`'s fib(30) on one thread 1.12x-1.46x the plain
/// recursion's time against 0.89x-1.18x by value. Every forking system here, `SerialJoin`
/// included, shares this source, so the change sped up the serial row too.
pub fn fib<J: Joiner>(n: u32) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    let (a, b) = J::join(move || fib::<J>(n - 1), move || fib::<J>(n - 2));
    a + b
}

/// [`fib`] as a plain recursive function.
pub fn fib_plain(n: u32) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    fib_plain(n - 1) + fib_plain(n - 2)
}

/// [`fib`] through [`JoinContext::join`].
pub fn fib_in(ctx: JoinContext<'_>, n: u32) -> u64 {
    if n < 2 {
        return u64::from(n);
    }
    let (a, b) = ctx.join(move |ctx| fib_in(ctx, n - 1), move |ctx| fib_in(ctx, n - 2));
    a + b
}

/// Number of `join` calls `fib::<J>(n)` makes (one per call with `n >= 2`).
pub fn fib_joins(n: u32) -> u64 {
    // joins(n) = fib(n + 1) - 1, the number of internal nodes of the call tree.
    fib::<SerialJoin>(n + 1) - 1
}

/// A node of a heap-allocated binary tree.
#[derive(Debug)]
pub struct Tree {
    /// The value summed by [`tree_sum`].
    pub value: u64,
    /// Left subtree.
    pub left: Option<Box<Tree>>,
    /// Right subtree.
    pub right: Option<Box<Tree>>,
}

impl Tree {
    /// [`Tree::perfect`], built on a thread of its own so that its nodes live in that
    /// thread's heap, which goes back to the system whole when the tree is dropped: built on
    /// the calling thread, a tree of 2^23 nodes leaves a hole of hundreds of MB in its heap,
    /// from which later large blocks come already faulted in (see the `measure` module).
    pub fn perfect_in_own_heap(levels: u32) -> Tree {
        std::thread::scope(|scope| {
            scope
                .spawn(|| Tree::perfect(levels))
                .join()
                .expect("building a tree does not panic")
        })
    }

    /// A perfect binary tree with `levels` levels (`2^levels - 1` nodes); node values are
    /// their breadth-first index, so the sum is known in closed form.
    pub fn perfect(levels: u32) -> Tree {
        Tree::build(levels, 1)
    }

    fn build(levels: u32, index: u64) -> Tree {
        let child = |i: u64| (levels > 1).then(|| Box::new(Tree::build(levels - 1, i)));
        Tree {
            value: index,
            left: child(2 * index),
            right: child(2 * index + 1),
        }
    }

    /// Number of nodes of a perfect tree with `levels` levels.
    pub fn perfect_nodes(levels: u32) -> u64 {
        (1u64 << levels) - 1
    }

    /// The sum of a perfect tree's values: `1 + 2 + … + nodes`.
    pub fn perfect_sum(levels: u32) -> u64 {
        let n = Tree::perfect_nodes(levels);
        n * (n + 1) / 2
    }
}

/// `node.value + join(sum(left), sum(right))`; a leaf returns its value without a join.
///
/// Both children are read before the fork and moved into the closures, as one would write
/// it by hand: reading them inside the closures made the plain recursion ~15% slower here
/// (the right child was loaded only after the left subtree, when the node had left the
/// cache), a handicap for the baseline, not for the schedulers.
pub fn tree_sum<J: Joiner>(node: &Tree) -> u64 {
    match (node.left.as_deref(), node.right.as_deref()) {
        (None, None) => node.value,
        (left, right) => {
            let (l, r) = J::join(
                move || left.map_or(0, tree_sum::<J>),
                move || right.map_or(0, tree_sum::<J>),
            );
            node.value + l + r
        }
    }
}

/// [`tree_sum`] as a plain recursive function.
pub fn tree_sum_plain(node: &Tree) -> u64 {
    match (node.left.as_deref(), node.right.as_deref()) {
        (None, None) => node.value,
        (left, right) => {
            node.value + left.map_or(0, tree_sum_plain) + right.map_or(0, tree_sum_plain)
        }
    }
}

/// [`tree_sum`] through [`JoinContext::join`].
pub fn tree_sum_in(ctx: JoinContext<'_>, node: &Tree) -> u64 {
    match (node.left.as_deref(), node.right.as_deref()) {
        (None, None) => node.value,
        (left, right) => {
            let (l, r) = ctx.join(
                move |ctx| left.map_or(0, |n| tree_sum_in(ctx, n)),
                move |ctx| right.map_or(0, |n| tree_sum_in(ctx, n)),
            );
            node.value + l + r
        }
    }
}

/// `count` joins of two empty closures in a row; returns `count` so the loop is observable.
pub fn empty_joins<J: Joiner>(count: u64) -> u64 {
    let mut done = 0;
    for _ in 0..count {
        let (a, b) = J::join(|| black_box(1u64), || black_box(0u64));
        done += a + b;
    }
    done
}

/// [`empty_joins`] through [`JoinContext::join`].
pub fn empty_joins_in(ctx: JoinContext<'_>, count: u64) -> u64 {
    let mut done = 0;
    for _ in 0..count {
        let (a, b) = ctx.join(|_| black_box(1u64), |_| black_box(0u64));
        done += a + b;
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_depends_on_seed_and_iterations() {
        assert_eq!(spin(0, 7), 7);
        assert_ne!(spin(10, 1), spin(10, 2));
        assert_ne!(spin(10, 1), spin(11, 1));
    }

    #[test]
    fn poly_matches_the_python_seed() {
        // z = 2: x = 4.5, y = 20.85, y*y + 0.7 = 434.7225 + 0.7
        assert!((poly(2.0) - 435.4225).abs() < 1e-9);
    }

    #[test]
    fn log_loop_returns_the_last_logarithm() {
        let x = 5.0;
        let expected = (x + 0.1 * 2.0f64).ln();
        assert!((log_loop(x, 3) - expected).abs() < 1e-12);
    }

    #[test]
    fn parity_words_match_basic_func() {
        assert_eq!(parity_word(0), "zero");
        assert_eq!(parity_word(4), "even");
        assert_eq!(parity_word(9), "odd");
    }

    #[test]
    fn random_ints_stay_in_range_and_repeat_per_seed() {
        let a = random_ints(1000, 0, 1000, 42);
        assert!(a.iter().all(|&x| (0..1000).contains(&x)));
        assert_eq!(a, random_ints(1000, 0, 1000, 42));
        assert_ne!(a, random_ints(1000, 0, 1000, 43));
    }

    #[test]
    fn fib_and_its_join_count_are_right() {
        assert_eq!(fib::<SerialJoin>(20), 6765);
        assert_eq!(fib::<DepthCountJoin>(20), 6765);
        assert_eq!(
            JOIN_DEPTH.with(std::cell::Cell::get),
            0,
            "every fork restored the depth"
        );
        // fib(4) calls: 4,3,2,1,0,1,2,1,0 -> internal (n >= 2) nodes: 4,3,2,2 = 4
        assert_eq!(fib_joins(4), 4);
    }

    #[test]
    fn perfect_tree_sums_to_closed_form() {
        let t = Tree::perfect(10);
        assert_eq!(tree_sum::<SerialJoin>(&t), Tree::perfect_sum(10));
        assert_eq!(Tree::perfect_nodes(10), 1023);
    }

    #[test]
    fn context_twins_give_the_same_answers() {
        let pool = filch::Pool::builder().threads(2).build().unwrap();
        let t = Tree::perfect(12);
        assert_eq!(pool.with_join_context(|c| fib_in(c, 20)), 6765);
        assert_eq!(
            pool.with_join_context(|c| tree_sum_in(c, &t)),
            Tree::perfect_sum(12)
        );
        assert_eq!(pool.with_join_context(|c| empty_joins_in(c, 17)), 17);
        assert_eq!(fib_plain(20), 6765);
        assert_eq!(tree_sum_plain(&t), Tree::perfect_sum(12));
        assert_eq!(EmptyJoinsTask(17).run_plain(), 17);
    }

    #[test]
    fn empty_joins_counts_its_joins() {
        assert_eq!(empty_joins::<SerialJoin>(17), 17);
    }
}
