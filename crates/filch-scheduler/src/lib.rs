//! The work-stealing core of [filch](https://docs.rs/filch): a from-scratch
//! thread pool with per-worker deques, random-victim stealing, core pinning
//! and parking that never loses a wake-up.
//!
//! Most users want the `filch` crate, which adds `map`, `imap` and friends on
//! top. This crate is for building your own parallel algorithms:
//!
//! ```
//! use filch_scheduler::{join, ThreadPoolBuilder};
//!
//! fn sum(values: &[u64]) -> u64 {
//!     if values.len() <= 1024 {
//!         return values.iter().sum();
//!     }
//!     let (left, right) = values.split_at(values.len() / 2);
//!     let (a, b) = join(|| sum(left), || sum(right));
//!     a + b
//! }
//!
//! let pool = ThreadPoolBuilder::new().num_threads(2).build()?;
//! let values: Vec<u64> = (1..=100_000).collect();
//! assert_eq!(pool.install(|| sum(&values)), 5_000_050_000);
//! # Ok::<(), filch_scheduler::BuildError>(())
//! ```
//!
//! # How it schedules
//! - Each worker owns a LIFO deque (`crossbeam-deque`); an idle worker
//!   looks in its own deque, then steals from peers in random order, then
//!   takes from the global injector, where outside submissions land.
//! - `join(a, b)` keeps `b` private until an idle worker wants work, so a
//!   fork on a busy pool costs a few nanoseconds (see `worker.rs`).
//!   [`JoinContext::join`] goes further for very fine-grained recursions:
//!   the worker is passed down as an argument and the open frames form a
//!   chain through the stack, so a fork writes nothing but its own job.
//! - Idle workers spin briefly, yield, then park; the protocol that keeps
//!   wake-ups from being lost is written out in `sleep.rs`.
//! - Panics in `join`, `scope` and `install` reach the caller with their
//!   original payload; workers survive. Panics in detached `spawn`s go to a
//!   configurable handler.
//! - Dropping a [`ThreadPool`] runs all submitted work, then joins the
//!   workers.
//! - [`blocking`] marks a region that waits; a spare thread stands in for
//!   the blocked worker meanwhile (`spare.rs` has the protocol).
//!
//! # Features
//! - `tracing`: TRACE events (target `filch_scheduler`) for steals, parks,
//!   wake-ups and spare workers. Off by default; when off the events compile to nothing.

mod blocking;
mod builder;
mod error;
mod events;
mod fork_latch;
mod global_pool;
mod job;
mod join;
mod join_context;
mod latch;
mod pinning;
mod pool;
mod registry;
mod scope;
mod sleep;
mod spare;
mod spawn;
mod spread;
mod stats;
mod sync;
mod unwind;
mod waking_latch;
mod worker;

#[cfg(all(test, loom))]
mod loom_tests;

pub use blocking::blocking;
pub use builder::{ThreadPoolBuilder, DEFAULT_MAX_SPARE_THREADS, MIN_STACK_SIZE};
pub use error::BuildError;
pub use global_pool::{
    current_num_threads, current_thread_index, global_pool, join, join_off_pool_on, peer_asleep,
    scope, spawn, with_join_context, work_wanted,
};
pub use join_context::JoinContext;
pub use pinning::Pinning;
pub use pool::ThreadPool;
pub use scope::Scope;
pub use spare::SPARE_IDLE_TIMEOUT;
pub use stats::{PoolStats, WorkerStats};
pub use unwind::panic_message;
