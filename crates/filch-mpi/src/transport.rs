//! Bytes between ranks over MPI: every message of the chunk protocol goes
//! through here, on one tag of `MPI_COMM_WORLD`, as a byte vector (the
//! encoding is `wire.rs`'s business). One thread at a time uses it: the
//! thread that initialised MPI, or, while an `imap` runs on rank 0 with MPI
//! initialised `MPI_THREAD_SERIALIZED`, that imap's progress thread
//! (`imap_progress.rs`).

use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::topology::{Communicator, SimpleCommunicator};

use crate::backoff::Backoff;

/// The tag of filch-mpi's messages, so a program's own MPI traffic on the
/// world communicator (on other tags) does not mix with them. Below 32767,
/// the smallest `MPI_TAG_UB` the standard allows.
const TAG: mpi::Tag = 0x4649; // "FI"

/// The world communicator, with this process's rank and the rank count.
pub(crate) struct Transport {
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
}

// SAFETY: MPI allows calls from any thread as long as no two are made at
// once when it was initialised `MPI_THREAD_SERIALIZED`, and from the
// initialising thread only when `MPI_THREAD_FUNNELED`. A `Transport` is
// only reachable through its `Cluster` (which is neither `Send` nor `Sync`)
// and through the progress thread of an `imap` on rank 0, which is started
// only under `MPI_THREAD_SERIALIZED`, while the `Cluster` makes no MPI call
// (every other call returns `ClusterError::Busy` while an `imap` is open),
// and is joined before the `Cluster` uses MPI again or drops.
unsafe impl Send for Transport {}
// SAFETY: as for `Send` above: shared, it is still used by one thread at a
// time.
unsafe impl Sync for Transport {}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("rank", &self.rank)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Wraps the world communicator.
    pub(crate) fn new(world: SimpleCommunicator) -> Transport {
        let rank = world.rank() as usize;
        let size = world.size() as usize;
        Transport { world, rank, size }
    }

    /// This process's rank.
    pub(crate) fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Sends `bytes` to `rank` and waits (politely) until the send is done.
    /// A message above MPI's eager limit is only done once `rank` receives
    /// it, which the protocol guarantees it does (a worker is only sent the
    /// reply it waits for; rank 0 polls during a call, though for `imap`
    /// only inside `next()`). OpenMPI's blocking send would spin a core all
    /// that time, so this posts a non-blocking send and tests it with
    /// backoff instead.
    pub(crate) fn send(&self, rank: usize, bytes: &[u8]) {
        let destination = self.world.process_at_rank(rank as mpi::Rank);
        mpi::request::scope(|scope| {
            let mut request = destination.immediate_send_with_tag(scope, bytes, TAG);
            let mut backoff = Backoff::new();
            loop {
                match request.test() {
                    Ok(_) => return,
                    Err(pending) => request = pending,
                }
                backoff.snooze();
            }
        });
    }

    /// A message from any rank, if one has arrived: its source and bytes.
    pub(crate) fn try_receive_any(&self) -> Option<(usize, Vec<u8>)> {
        let matched = self
            .world
            .any_process()
            .immediate_matched_probe_with_tag(TAG)?;
        let (bytes, status) = matched.matched_receive_vec::<u8>();
        Some((status.source_rank() as usize, bytes))
    }

    /// Waits (politely, with `backoff`, see `backoff.rs`) for the next
    /// message from `rank`.
    pub(crate) fn receive_from(&self, rank: usize, mut backoff: Backoff) -> Vec<u8> {
        let source = self.world.process_at_rank(rank as mpi::Rank);
        loop {
            if let Some(matched) = source.immediate_matched_probe_with_tag(TAG) {
                return matched.matched_receive_vec::<u8>().0;
            }
            backoff.snooze();
        }
    }
}
