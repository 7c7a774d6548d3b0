//! Bytes between ranks over MPI: every message of the chunk protocol goes
//! through here, on one tag of `MPI_COMM_WORLD`, as a byte vector (the
//! encoding is `wire.rs`'s business). One thread at a time uses it: the
//! thread that initialised MPI, or, while an `imap` runs on rank 0 with MPI
//! initialised `MPI_THREAD_SERIALIZED`, that imap's progress thread
//! (`imap_progress.rs`).

use std::sync::{Mutex, MutexGuard, PoisonError};

use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::request::{Request, StaticScope};
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
    /// Sends posted and not yet done, each owning its buffer (see `send`).
    in_flight: Mutex<Vec<Request<'static, [u8]>>>,
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
        Transport {
            world,
            rank,
            size,
            in_flight: Mutex::new(Vec::new()),
        }
    }

    /// This process's rank.
    pub(crate) fn rank(&self) -> usize {
        self.rank
    }

    /// The number of ranks.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Sends `bytes` to `rank` without waiting for the send to be done.
    ///
    /// Over shared memory, OpenMPI often calls even a small send done only
    /// once `rank` has taken it in, and a rank waiting between calls polls
    /// only every 50 to 500 µs: waiting for that made each call rank 0 keeps
    /// local pay for the other ranks' sleep (with 3 ranks on one host, ending
    /// such a call took 7.4 µs on average against 4.0 µs without the wait).
    /// So the send is posted, tested once, and otherwise kept in flight with
    /// its buffer; every later use of the transport tests the sends in
    /// flight, and dropping it waits for them. MPI delivers the messages
    /// from one rank to another in the order they were sent, posted or not.
    pub(crate) fn send(&self, rank: usize, bytes: Vec<u8>) {
        let destination = self.world.process_at_rank(rank as mpi::Rank);
        let buffer: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        let request = destination.immediate_send_with_tag(StaticScope, buffer, TAG);
        let mut in_flight = self.in_flight();
        in_flight.push(request);
        complete_done(&mut in_flight);
    }

    /// The sends in flight.
    fn in_flight(&self) -> MutexGuard<'_, Vec<Request<'static, [u8]>>> {
        self.in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Tests the sends in flight, freeing the buffers of those done.
    fn progress_sends(&self) {
        let mut in_flight = self.in_flight();
        if !in_flight.is_empty() {
            complete_done(&mut in_flight);
        }
    }

    /// A message from any rank, if one has arrived: its source and bytes.
    pub(crate) fn try_receive_any(&self) -> Option<(usize, Vec<u8>)> {
        self.progress_sends();
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
            self.progress_sends();
            if let Some(matched) = source.immediate_matched_probe_with_tag(TAG) {
                return matched.matched_receive_vec::<u8>().0;
            }
            backoff.snooze();
        }
    }
}

impl Drop for Transport {
    /// Waits (politely) until every send in flight is done: a buffer must
    /// outlive its send, and MPI must still be up (a `Cluster` drops its
    /// transport before it finalises MPI). Every message sent is one its
    /// rank takes in: a reply it waits for, or, as rank 0's cluster drops,
    /// a request rank 0 answers or the shutdown notice.
    fn drop(&mut self) {
        let mut in_flight = self.in_flight();
        let mut backoff = Backoff::new();
        while !in_flight.is_empty() {
            complete_done(&mut in_flight);
            backoff.snooze();
        }
    }
}

/// Removes the sends of `in_flight` that are done and frees their buffers.
fn complete_done(in_flight: &mut Vec<Request<'static, [u8]>>) {
    for request in std::mem::take(in_flight) {
        match request.test_with_data() {
            Ok((_, buffer)) => {
                // SAFETY: `send` leaked this buffer from a `Box<[u8]>` for
                // this request alone, and the request is done, so MPI no
                // longer reads it and nothing else refers to it.
                drop(unsafe { Box::from_raw(std::ptr::from_ref(buffer).cast_mut()) });
            }
            Err(pending) => in_flight.push(pending),
        }
    }
}
