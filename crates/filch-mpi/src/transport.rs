//! Bytes between ranks over MPI: every message of the chunk protocol goes
//! through here, on one tag of `MPI_COMM_WORLD`, as a byte vector (the
//! encoding is `wire.rs`'s business). All of it runs on the thread that
//! initialised MPI (`MPI_THREAD_FUNNELED`).

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

    /// Sends `bytes` to `rank`. A standard-mode send: it may wait until
    /// `rank` starts receiving, which the protocol guarantees it does (a
    /// rank is only sent a message it asked for, or rank 0, which polls).
    pub(crate) fn send(&self, rank: usize, bytes: &[u8]) {
        self.world
            .process_at_rank(rank as mpi::Rank)
            .send_with_tag(bytes, TAG);
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

    /// Waits (politely, see `backoff.rs`) for the next message from `rank`.
    pub(crate) fn receive_from(&self, rank: usize) -> Vec<u8> {
        let source = self.world.process_at_rank(rank as mpi::Rank);
        let mut backoff = Backoff::new();
        loop {
            if let Some(matched) = source.immediate_matched_probe_with_tag(TAG) {
                return matched.matched_receive_vec::<u8>().0;
            }
            backoff.snooze();
        }
    }
}
