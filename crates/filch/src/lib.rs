//! Hand a function and a pile of inputs to all your cores and get the right
//! answer back faster — without choosing thread counts, chunk sizes, or
//! whether the work is big enough to be worth it.
//!
//! filch is Python's `multiprocessing.Pool` (`map`, `starmap`, `imap`,
//! `imap_unordered`, `apply_async`, `functools.partial`) done the Rust way,
//! on a work-stealing scheduler ([`filch_scheduler`]) that never loses to a
//! plain loop: small calls run on the calling thread at serial speed, big
//! ones are split across the workers as they become free.
//!
//! ```
//! use filch::{partial, Pool};
//!
//! let pool = Pool::new();
//! let squares: Vec<u64> = pool.map(0..100u64, |x| x * x);
//! assert_eq!(squares[9], 81);
//!
//! fn g(a: i32, b: i32) -> i32 { a + b }
//! let sums: Vec<i32> = pool.starmap(vec![(1, 2), (3, 4)], g);
//! assert_eq!(sums, [3, 7]);
//! let shifted: Vec<i32> = pool.map(0..3, partial(g, 2));
//! assert_eq!(shifted, [2, 3, 4]);
//!
//! let first: Vec<u64> = pool.imap(0u64.., |x| x * 2).take(3).collect();
//! assert_eq!(first, [0, 2, 4]);
//! ```
//!
//! # What each combinator guarantees
//!
//! | combinator | order of results | laziness | buffering | a panic in `f` |
//! |---|---|---|---|---|
//! | [`Pool::map`], [`Pool::starmap`], [`Pool::map_init`], [`map`] | input order | eager: returns when all are done | the output `Vec`, written in place (an owned `Vec` whose slots fit the results becomes the output: each result over its input); an owned `Vec`, an integer range or a slice of a primitive type (or of a pair, triple or small array of numbers, a `String`, a `&str`) is split by index where it lies; other inputs of known length are read in batches or chunks of a few MiB; an input of unknown length is collected first once the call goes parallel | resumed at the call with its payload; items not started are dropped unrun |
//! | [`Pool::try_map`], [`try_map`] | input order (`Ok`) | eager; stops starting items at the first `Err` | as `map` | as `map` |
//! | [`Pool::for_each`], [`for_each`] | — (no order among the calls) | eager | none: no output (in place over `&mut` slices, split by index for the elements `map` splits) | as `map` |
//! | [`Pool::map_reduce`], [`map_reduce`] | one value; `combine` associative and commutative, pieces combined in no particular order | eager | one accumulator per piece of work, no mapped vector | as `map`; every accumulator made is dropped |
//! | [`Pool::imap`] | input order | lazy: input read on demand | at most `4 × threads` chunks ahead of the consumer, plus up to `max_spare_threads` while items are inside `blocking` | every earlier item's result first, then the panic at `next()` (also for a panic of the input iterator); the iterator then ends and pending chunks are dropped |
//! | [`Pool::imap_scope`] | as `imap` / `imap_unordered`, over borrowed data | as `imap` | as `imap`; the scope returns only once every chunk job has finished | as `imap` |
//! | [`Pool::imap_unordered`] | completion order (from outside the pool the iterating thread runs no item, so none hides a finished result) | lazy | as `imap` | results finished before it first, then as `imap` |
//! | [`Pool::apply_async`], [`Pool::map_async`], [`Pool::starmap_async`] | — | starts at once; dropping the handle (or [`AsyncResult::cancel`], [`Pool::terminate`]) before it starts cancels it | one result | resumed at [`AsyncResult::get`] |
//! | [`join`], [`JoinContext::join`], [`scope`], [`Pool::install`] | — | runs at once | — | resumed at the call once the other half / all spawned jobs are done |
//! | [`spawn`], [`Pool::spawn`] | — | fire and forget | — | handed to the pool's panic handler |
//!
//! In every case the pool stays usable after a panic, and every input and
//! every output is dropped exactly once. Inputs may be any `IntoIterator`,
//! with or without a known length; each is consumed once.
//!
//! # Chunking
//! By default the call decides: it times the first items on the calling
//! thread and goes parallel only if the rest is worth it (see
//! `docs/design.md`), then splits lazily, when a worker is idle or, for
//! work worth waking one, asleep. A
//! call from outside the pool also remembers, per calling thread and call
//! site, how long its last two first items took: when both took 20 µs or
//! more, the next call shares its rest before running its first item, so
//! a few long items do not wait for the first one (`imap` too, on the
//! thread that iterates). To fix
//! the unit of work like `Pool.map(..., chunksize=n)`, use
//! [`Pool::with_chunk_size`]; a chunk size of 0 is an error.
//!
//! # Nesting
//! A combinator called on a worker runs on that worker's pool: `map` inside
//! `map` inside `map` neither deadlocks nor starts more threads (Python's
//! pools cannot nest at all). The thread that called `map` works on its
//! items too (the first ones alone, then beside the workers), as does the
//! thread that iterates an `imap`; free functions called in those items
//! (`filch::map`, `filch::try_map`, `filch::join`, `filch::scope`,
//! `filch::spawn`) go to that same pool, as calls from outside it (the
//! thread is no worker), so workers that ran out of items help with them,
//! instead of reaching for the global pool.
//!
//! # Features
//! - `progress`: `progress::tracked` wraps a function so an `indicatif`
//!   progress bar counts finished items, for `map`, `imap` and the rest.
//! - `tracing`: a DEBUG span per combinator call (target `filch`; for the
//!   lazy `imap` and `imap_unordered`, one per `next()`) and the
//!   scheduler's TRACE events for steals, parks and wake-ups.
//!
//! Both are off by default and cost nothing when off.
//!
//! # `partial` and closures
//! [`partial`] and [`partial_last`] bind an argument like
//! `functools.partial`; a Rust closure does the same and inlines better:
//! `pool.map(0..3, |b| g(2, b))`.

mod args;
mod async_result;
mod blocking;
mod caller;
mod chunked;
mod clock;
mod driver;
mod events;
mod first_item;
mod free_functions;
mod history;
mod imap;
mod imap_core;
mod imap_input;
mod imap_jobs;
mod imap_scope;
mod imap_window;
mod leaves;
mod ops;
mod output;
mod pool;
mod probe;
#[cfg(feature = "progress")]
pub mod progress;
mod reserved;
mod shared_call;
mod source;
mod split_by_index;
mod stream;
mod sync;

pub use args::{partial, partial_last, BindFirst, BindLast, Unpack};
pub use async_result::AsyncResult;
pub use blocking::blocking;
pub use chunked::{ChunkSizeError, Chunked};
pub use free_functions::{for_each, join, map, map_reduce, scope, spawn, try_map};
pub use imap::{Imap, ImapUnordered, TimedOut};
pub use imap_jobs::{Jobs, PoolJobs, ScopeJobs};
pub use imap_scope::ImapScope;
pub use output::set_huge_page_outputs;
pub use pool::{Pool, PoolBuilder};

pub use filch_scheduler::{
    current_num_threads, current_thread_index, with_join_context, BuildError, JoinContext, Pinning,
    PoolStats, Scope, WorkerStats,
};

/// The scheduler crate, for its lower-level API (`ThreadPool`, `work_wanted`).
pub use filch_scheduler as scheduler;

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
