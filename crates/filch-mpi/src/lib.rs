//! filch's map API across machines, on MPI, for when one box is not enough.
//!
//! Every rank of an MPI job runs the same program (SPMD) and holds a
//! `Cluster`; a cluster call (`map`, `starmap`, `imap`,
//! `imap_unordered`) is made by every rank with the same function. Rank 0
//! passes the real input and gets the results back in order; the other
//! ranks ask rank 0 for chunks whenever they run dry, map them on their own
//! filch pool, and return when rank 0 says the call is over. Rank 0 maps
//! chunks too. Items and results cross the wire with serde, encoded with
//! [postcard](https://docs.rs/postcard) (compact: varint integers, no field
//! names; and a stable, documented wire format, unlike bincode 1, which is
//! no longer developed).
//!
//! ```no_run
//! # #[cfg(feature = "mpi")]
//! # fn main() -> Result<(), filch_mpi::ClusterError> {
//! // cargo build --release --features mpi && mpirun -np 4 target/release/program
//! use filch_mpi::Cluster;
//!
//! let cluster = Cluster::builder().threads_per_rank(2).init()?;
//! // Only rank 0 reads the input; the other ranks' input is dropped unread.
//! let words: Vec<String> = ["a", "bb", "ccc"].map(String::from).into();
//! let lengths = cluster.map(words, |s: String| s.len());
//! match lengths? {
//!     Some(lengths) => assert_eq!(lengths, [1, 2, 3]), // rank 0
//!     None => assert!(!cluster.is_root()),             // the others
//! }
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "mpi"))]
//! # fn main() {}
//! ```
//!
//! Items and results must be owned (`serde::de::DeserializeOwned`): a
//! `String`, not a `&str`.
//!
//! # The `mpi` feature, and why it is off by default
//! The cluster needs an MPI library and libclang at build time (rsmpi
//! generates its bindings with bindgen). filch-mpi is a member of the
//! workspace, so `cargo test --workspace`, `cargo clippy --workspace` and
//! `cargo doc --workspace` build it on every machine, MPI or not. Without
//! the `mpi` feature the crate compiles without rsmpi: it has the error type
//! and the MPI-free parts (the wire format and the chunk sizer, with their
//! unit tests), and none of `Cluster`. Enable it where MPI is installed:
//!
//! ```toml
//! filch-mpi = { version = "0.1", features = ["mpi"] }
//! ```
//!
//! `bash .ci/mpi.sh` (from the repository root) installs OpenMPI and
//! libclang from Debian's packages if missing and runs the cluster tests
//! under `mpirun -np 3`.
//!
//! # What each call guarantees
//!
//! | call | on rank 0 | on the other ranks | order | laziness | a panic in `f` on any rank |
//! |---|---|---|---|---|---|
//! | `Cluster::map`, `Cluster::starmap` | `Ok(Some(results))` | `Ok(None)` | input order | eager: rank 0 collects the input first | `Err(Panicked { rank, message })` on every rank |
//! | `Cluster::imap` | `Ok(result)`s | yields nothing (serves inside the call) | input order | lazy: about two chunks per rank read ahead | `Err` once on every rank, then the iterator ends |
//! | `Cluster::imap_unordered` | `Ok(result)`s | as `imap` | completion order (per chunk) | as `imap` | as `imap` |
//!
//! After a panic, chunks already handed out to other ranks finish (rank 0
//! drops the rest of its own) and no new ones start; the cluster stays
//! usable for the next call. A rank whose *process* dies
//! (killed, or a segfault) cannot be survived: MPI aborts the whole job and
//! `mpirun` exits non-zero (see `docs/cluster.md`).
//!
//! # Load balance
//! Chunks are handed out on demand (a rank asks when it runs dry) and sized
//! adaptively: one item first, then about 5 ms of measured work per chunk,
//! and smaller near the end of the input so a slow rank does not hold up
//! the rest. The protocol, and why it cannot hang, is written down at the
//! top of `src/coordinator.rs`.
//!
//! # Rules of the SPMD model
//! - Every rank makes the same cluster calls in the same order, with the
//!   same item and result types and the same function. Calls are numbered
//!   and typed; ranks out of step get [`ClusterError::Mismatch`] instead of
//!   a hang.
//! - A `Cluster` stays on the thread that created it; the pool's threads
//!   never call MPI. MPI is initialised asking for `MPI_THREAD_SERIALIZED`:
//!   with it, an `imap` on rank 0 runs the protocol on a progress thread of
//!   its own while the consumer works (the only MPI user while it runs);
//!   with only `MPI_THREAD_FUNNELED`, it runs it from `next()`.
//! - `Cluster::init` once per process: MPI cannot be initialised twice.

// The MPI-free parts compile without the feature so their unit tests run in
// `cargo test --workspace` everywhere; only the MPI code uses them.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod chunk_size;
mod error;
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod local;
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod owed_ends;
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod placement;
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
mod wire;

#[cfg(feature = "mpi")]
mod backoff;
#[cfg(feature = "mpi")]
mod cluster;
#[cfg(feature = "mpi")]
mod coordinator;
#[cfg(feature = "mpi")]
mod imap;
#[cfg(feature = "mpi")]
mod imap_progress;
#[cfg(feature = "mpi")]
mod serve;
#[cfg(feature = "mpi")]
mod transport;

pub use error::{panic_message, ClusterError};

#[cfg(feature = "mpi")]
pub use cluster::{Cluster, ClusterBuilder};
#[cfg(feature = "mpi")]
pub use imap::ClusterImap;
