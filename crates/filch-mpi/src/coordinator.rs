//! Rank 0's side of a call: hands chunks out on demand, gathers results in
//! order, and ends the call on every rank. This is the protocol.
//!
//! # Messages (one MPI tag, see `transport.rs`; encoding in `wire.rs`)
//! - **request** (worker → rank 0): `(CallId, Option<Finished<R>>)`: "I am
//!   in call `CallId` and dry; here is the chunk you gave me last (results,
//!   or a panic message)". A worker's first request of a call has `None`.
//! - **reply** (rank 0 → worker), exactly one per request:
//!   `Chunk { chunk } + items`, or `End(reason)`, after which the worker
//!   returns from the call. (`Shutdown` is sent once, when rank 0's
//!   `Cluster` drops, to any rank still waiting in a call rank 0 never made.)
//!   A call rank 0 kept on its own pool ends without waiting for the ranks
//!   not heard from yet: their endings are filed and sent, several calls'
//!   at once, as `Ends` in reply to their next request (`owed_ends.rs`).
//!
//! Rank 0 maps chunks too, on its calling thread, a slice of about 250 µs
//! at a time (`local.rs`), so between slices it answers requests: a
//! request waits at most one slice, whatever the OS scheduler does.
//!
//! # States, per worker rank, as rank 0 sees them
//! `Unheard` (no request yet this call) → `Computing { chunk }` (a chunk was
//! sent) ⇄ `Waiting` (its request is parked: nothing to hand out now) →
//! `Ended` (it was sent `End`). A request naming another call parks its
//! rank as `Refused` (never given a chunk) until `End`.
//!
//! # Steps of rank 0's loop (`poll`)
//! 1. Take every request that has arrived: check its `CallId` (sequence
//!    number and signature; a mismatch fails the call, and that rank's
//!    request is parked as `Refused` until the end), file the finished
//!    chunk's results under its index, record its timing for the chunk
//!    sizer, and park the rank as `Waiting`. A panic or codec error in the report *stops* the
//!    call: the first such reason is kept, and no chunk is handed out after.
//! 2. Unless stopped: give each `Waiting` rank a new chunk (sized by
//!    `chunk_size.rs`), and take one for rank 0 if it has none; for `imap`,
//!    only while fewer than the read-ahead window of chunks are out or
//!    unconsumed.
//! 3. Map one slice of rank 0's chunk; when the chunk is done, file it like
//!    a worker's. (A stopped call abandons rank 0's chunk: nobody will use
//!    its results.)
//! 4. When the input is used up or the call is stopped, every worker is
//!    `Waiting` or `Refused`, and rank 0 has no chunk of its own, send
//!    `End(reason)` to all of them at once: the call is over.
//!
//! # Why it cannot hang (given every rank makes the same call)
//! - Each worker has at most one message in flight in each direction, and
//!   every request gets exactly one reply: a chunk while there is input, or
//!   `End` once step 4 holds. A request is never dropped: it is answered or
//!   parked, and a parked one is answered at the end at the latest.
//! - Step 4 waits only for chunks already handed out, each of which comes
//!   back as results, a panic message (`catch_unwind` around every chunk)
//!   or a codec error. So after a panic anywhere the call still ends, and
//!   with an error naming the rank.
//! - When the call ends no message of it is left in flight (every request
//!   was answered; a worker sends nothing after `End`), so the next call
//!   starts clean; a worker out of step shows up as a `CallId` mismatch
//!   rather than as stale data.
//! - Sends never deadlock: rank 0 sends only to a worker waiting for its
//!   reply, and workers send only to rank 0, which polls at least once per
//!   slice while a call is on (for `imap`, while the consumer is inside
//!   `next()`). Every send is non-blocking and waited on with backoff
//!   (`transport.rs`), so a worker whose results rank 0 has not taken yet
//!   sleeps instead of spinning in OpenMPI's blocking send.
//!
//! What it cannot survive is a rank that dies: MPI's default error handler
//! then aborts the whole job (see `docs/cluster.md`).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use filch::Pool;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::backoff::Backoff;
use crate::chunk_size::ChunkSizer;
use crate::error::ClusterError;
use crate::local::{LocalChunk, SLICE_NS};
use crate::owed_ends::OwedEnds;
use crate::transport::Transport;
use crate::wire::{self, CallId, ChunkOutcome, EndReason, Finished, ReplyHead};

/// In which order the consumer takes finished chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Chunk 0, 1, 2, ... (`map`, `imap`).
    Input,
    /// Whichever finished first (`imap_unordered`).
    Completion,
}

/// A worker rank as rank 0 sees it during a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    /// No request from it yet in this call.
    Unheard,
    /// It was sent chunk `chunk` of `items` items.
    Computing { chunk: u64, items: usize },
    /// Its request is parked.
    Waiting,
    /// Its request names another call: parked, never given a chunk, and
    /// answered with the call's error at the end.
    Refused,
    /// It was told the call is over.
    Ended,
}

/// A job mapping one of rank 0's own chunks off the coordinating thread.
pub(crate) trait OwnJob<R>: std::fmt::Debug {
    /// Whether its outcome is ready.
    fn ready(&self) -> bool;
    /// Its outcome, once ready.
    fn outcome(self: Box<Self>) -> ChunkOutcome<R>;
}

/// Starts the job that maps a chunk of rank 0's own share (see
/// [`Coordinator::map_own_share_with`]).
pub(crate) struct OwnShare<'t, T, R>(Box<dyn Fn(Vec<T>) -> Box<dyn OwnJob<R> + 't> + 't>);

impl<T, R> std::fmt::Debug for OwnShare<'_, T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OwnShare")
    }
}

impl<'t, T, R> OwnShare<'t, T, R> {
    /// Maps a chunk with the job `start` returns.
    pub(crate) fn new(start: impl Fn(Vec<T>) -> Box<dyn OwnJob<R> + 't> + 't) -> Self {
        OwnShare(Box::new(start))
    }
}

/// The chunk rank 0 maps itself.
#[derive(Debug)]
enum OwnChunk<'t, T, R> {
    /// Mapped by the coordinating thread, a slice per poll.
    Sliced(LocalChunk<T, R>),
    /// Mapped by a job while the coordinator polls.
    Job {
        chunk: u64,
        items: usize,
        job: Box<dyn OwnJob<R> + 't>,
    },
}

/// Rank 0's state for one call.
#[derive(Debug)]
pub(crate) struct Coordinator<'t, It: Iterator, R> {
    transport: &'t Transport,
    /// Endings of calls kept on rank 0 not yet told (`owed_ends.rs`).
    owed: &'t Mutex<OwedEnds>,
    call: CallId,
    input: It,
    /// The input returned `None`.
    input_done: bool,
    /// Whether `input.size_hint()` is exact, so the tail can be balanced.
    length_known: bool,
    next_chunk: u64,
    sizer: ChunkSizer,
    /// Indexed by rank; entry 0 (this rank) is unused.
    peers: Vec<Peer>,
    /// The chunk rank 0 is mapping itself.
    local: Option<OwnChunk<'t, It::Item, R>>,
    /// How rank 0 maps its own chunks when not a slice at a time.
    own_share: Option<OwnShare<'t, It::Item, R>>,
    /// Why the call stops early; the first reason wins.
    stop: Option<EndReason>,
    /// Finished chunks not yet taken by the consumer.
    done: BTreeMap<u64, Vec<R>>,
    /// The next chunk an in-order consumer takes.
    next_to_take: u64,
    /// For `imap`: the most chunks out or finished-but-not-taken at once.
    window: Option<usize>,
    /// Chunks handed out and not yet taken by the consumer.
    unconsumed: usize,
    ended: bool,
}

impl<'t, It, R> Coordinator<'t, It, R>
where
    It: Iterator,
    It::Item: Serialize + Send,
    R: DeserializeOwned + Send,
{
    /// Starts coordinating call `call` over `input`, for a lazy call at most
    /// `window` chunks ahead of the consumer.
    pub(crate) fn new(
        transport: &'t Transport,
        owed: &'t Mutex<OwedEnds>,
        call: CallId,
        input: It,
        window: Option<usize>,
    ) -> Self {
        let (low, high) = input.size_hint();
        Coordinator {
            transport,
            owed,
            call,
            length_known: high == Some(low),
            input,
            input_done: false,
            next_chunk: 0,
            sizer: if window.is_some() {
                ChunkSizer::for_lazy_calls(transport.size())
            } else {
                ChunkSizer::new(transport.size())
            },
            peers: vec![Peer::Unheard; transport.size()],
            local: None,
            own_share: None,
            stop: None,
            done: BTreeMap::new(),
            next_to_take: 0,
            window,
            unconsumed: 0,
            ended: false,
        }
    }

    /// Maps rank 0's own chunks with jobs `start` puts on its pool, whole,
    /// instead of a slice per poll on the coordinating thread: for a
    /// coordinator on a thread of its own (`imap_progress.rs`), so that a
    /// request never waits for one of rank 0's items.
    pub(crate) fn map_own_share_with(&mut self, start: OwnShare<'t, It::Item, R>) {
        self.own_share = Some(start);
    }

    /// Files `outcome`, the results of the input's first `items` items that
    /// rank 0 mapped before the call went out (see `placement.rs`), as the
    /// call's first chunk; `input` then holds the items after them.
    pub(crate) fn start_with(&mut self, items: usize, outcome: ChunkOutcome<R>) {
        debug_assert_eq!(self.next_chunk, 0);
        self.next_chunk = 1;
        self.unconsumed += 1;
        self.on_finished(0, 0, items, outcome);
    }

    /// Whether `End` has been sent: the call is over on every rank.
    pub(crate) fn is_over(&self) -> bool {
        self.ended
    }

    /// Whether the call failed (it may still be winding down).
    pub(crate) fn failed(&self) -> bool {
        matches!(&self.stop, Some(reason) if *reason != EndReason::Cancelled)
    }

    /// The call's error, if it failed.
    pub(crate) fn error(&self) -> Option<ClusterError> {
        self.stop.clone().and_then(EndReason::into_error)
    }

    /// The next finished chunk in `order`, if it is there.
    pub(crate) fn take_next(&mut self, order: Order) -> Option<Vec<R>> {
        let results = match order {
            Order::Input => {
                let results = self.done.remove(&self.next_to_take)?;
                self.next_to_take += 1;
                results
            }
            Order::Completion => self.done.pop_first()?.1,
        };
        self.unconsumed -= 1;
        Some(results)
    }

    /// All results in input order, once the call is over without error.
    pub(crate) fn into_results(mut self) -> Result<Vec<R>, ClusterError> {
        debug_assert!(self.ended);
        if let Some(err) = self.error() {
            return Err(err);
        }
        let done = std::mem::take(&mut self.done);
        debug_assert_eq!(done.len() as u64, self.next_chunk);
        if done.len() == 1 {
            // A call kept on rank 0: its one chunk is the output, uncopied.
            return Ok(done.into_values().next().unwrap_or_default());
        }
        Ok(done.into_values().flatten().collect())
    }

    /// Polls until the call is over, mapping rank 0's share with `f` on
    /// `pool`.
    pub(crate) fn run_to_end<F>(&mut self, pool: &Pool, f: &F)
    where
        F: Fn(It::Item) -> R + Sync + Send,
    {
        let mut backoff = Backoff::new();
        while !self.ended {
            if self.poll(pool, f) {
                backoff.reset();
            } else {
                backoff.snooze();
            }
        }
    }

    /// Ends a call rank 0 mapped entirely itself (its results filed with
    /// [`start_with`](Self::start_with), the input empty) without waiting
    /// for the other ranks: with `read_requests`, those whose request is
    /// here are answered as usual; every other rank's ending is filed
    /// (`owed_ends.rs`).
    pub(crate) fn end_without_waiting(&mut self, read_requests: bool) {
        debug_assert!(self.local.is_none());
        while let Some((rank, bytes)) = read_requests
            .then(|| self.transport.try_receive_any())
            .flatten()
        {
            self.on_request(rank, &bytes);
        }
        self.input_done = true;
        let reason = self.stop.clone().unwrap_or(EndReason::Complete);
        let mut owed = self.owed_ends();
        for rank in 1..self.peers.len() {
            if self.peers[rank] == Peer::Unheard {
                owed.owe(rank, &self.call, &reason);
                self.peers[rank] = Peer::Ended;
            }
        }
        drop(owed);
        debug_assert!(self.can_end());
        self.end();
    }

    /// Stops handing out work (the consumer is gone) and waits for the
    /// chunks already out, then ends the call on every rank.
    pub(crate) fn cancel<F>(&mut self, pool: &Pool, f: &F)
    where
        F: Fn(It::Item) -> R + Sync + Send,
    {
        if !self.ended {
            self.fail(EndReason::Cancelled);
            self.run_to_end(pool, f);
        }
    }

    /// One round of the loop in the module docs; whether anything happened
    /// (if not, the caller may wait a little before the next round).
    pub(crate) fn poll<F>(&mut self, pool: &Pool, f: &F) -> bool
    where
        F: Fn(It::Item) -> R + Sync + Send,
    {
        let mut progressed = false;
        while let Some((rank, bytes)) = self.transport.try_receive_any() {
            self.on_request(rank, &bytes);
            progressed = true;
        }
        progressed |= self.hand_out();
        if self.stop.is_some() {
            self.local = None;
        }
        match &mut self.local {
            Some(OwnChunk::Sliced(local)) => {
                let slice = self.sizer.items_taking(0, SLICE_NS);
                if let Some(outcome) = local.step(pool, f, slice) {
                    let (chunk, items) = (local.chunk, local.items);
                    self.local = None;
                    self.on_finished(0, chunk, items, outcome);
                }
                progressed = true;
            }
            Some(OwnChunk::Job { job, .. }) if job.ready() => {
                if let Some(OwnChunk::Job { chunk, items, job }) = self.local.take() {
                    self.on_finished(0, chunk, items, job.outcome());
                }
                progressed = true;
            }
            Some(OwnChunk::Job { .. }) | None => {}
        }
        if !self.ended && self.can_end() {
            self.end();
            progressed = true;
        }
        progressed
    }

    fn fail(&mut self, reason: EndReason) {
        if self.stop.is_none() {
            self.stop = Some(reason);
        }
    }

    fn reply(&self, rank: usize, head: &ReplyHead) {
        // A head with an empty body always encodes.
        if let Ok(bytes) = wire::encode(0, head, &()) {
            self.transport.send(rank, bytes);
        }
    }

    fn on_request(&mut self, rank: usize, bytes: &[u8]) {
        if self.settled_as_owed(rank, bytes) {
            return;
        }
        let decoded = wire::decode_head::<CallId>(rank, bytes).and_then(|(id, body)| {
            if id == self.call {
                wire::decode_body::<Option<Finished<R>>>(rank, body).map(Some)
            } else {
                Err(ClusterError::Mismatch {
                    rank,
                    detail: self.call.describe_mismatch(&id),
                })
            }
        });
        let previous = self.peers[rank];
        let next = match (decoded, previous) {
            // Answered at the end of the call like everyone else: answering
            // now would let that rank start its next call while this one is
            // still on, and its next request would land in this call.
            (Err(ClusterError::Mismatch { detail, .. }), _) => {
                self.fail(EndReason::Mismatch {
                    rank: rank as u64,
                    detail,
                });
                Peer::Refused
            }
            (_, Peer::Ended) => {
                // Cannot happen: `End` goes to every rank at once, after
                // which this call is not polled. Answer rather than strand it.
                let reason = EndReason::Mismatch {
                    rank: rank as u64,
                    detail: "it asked again after its call ended".to_owned(),
                };
                self.reply(rank, &ReplyHead::End(reason));
                return;
            }
            (Err(err), _) => {
                self.fail(wire_reason(rank, err.to_string()));
                Peer::Waiting
            }
            (Ok(Some(None)), Peer::Unheard | Peer::Waiting) => Peer::Waiting,
            (Ok(Some(Some(finished))), Peer::Computing { chunk, items }) => {
                self.on_finished(rank, chunk, items, finished.outcome);
                Peer::Waiting
            }
            (Ok(_), state) => {
                self.fail(wire_reason(
                    rank,
                    format!("a request that does not fit its state ({state:?})"),
                ));
                Peer::Waiting
            }
        };
        self.peers[rank] = next;
    }

    /// Answers `rank`'s request if it is for an earlier call whose ending
    /// is filed (`owed_ends.rs`); whether it was.
    fn settled_as_owed(&mut self, rank: usize, bytes: &[u8]) -> bool {
        let settle = self.owed_ends().settle_request(rank, bytes);
        let Some((head, mismatch)) = settle.into_reply() else {
            return false;
        };
        self.reply(rank, &head);
        if let Some(reason) = mismatch {
            self.fail(reason);
        }
        true
    }

    /// The filed endings; a panic elsewhere while they were held leaves
    /// them whole (every change to them is one call), so poison is ignored.
    fn owed_ends(&self) -> MutexGuard<'t, OwedEnds> {
        self.owed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn on_finished(&mut self, rank: usize, chunk: u64, items: usize, outcome: ChunkOutcome<R>) {
        match outcome {
            ChunkOutcome::Done {
                results,
                elapsed_ns,
            } => {
                if results.len() != items {
                    let detail = format!("{} results for {items} items", results.len());
                    self.fail(wire_reason(rank, detail));
                    return;
                }
                self.sizer.record(rank, items, elapsed_ns);
                self.done.insert(chunk, results);
            }
            ChunkOutcome::Panicked(message) => self.fail(EndReason::Panicked {
                rank: rank as u64,
                message,
            }),
            ChunkOutcome::Wire(detail) => self.fail(wire_reason(rank, detail)),
        }
    }

    /// The next chunk's items for `rank`, or `None` when the input is done.
    fn next_items(&mut self, rank: usize) -> Option<(u64, Vec<It::Item>)> {
        let remaining = self.length_known.then(|| self.input.size_hint().0);
        let size = self.sizer.next_size(rank, remaining);
        let items: Vec<It::Item> = self.input.by_ref().take(size).collect();
        if items.is_empty() {
            self.input_done = true;
            return None;
        }
        let chunk = self.next_chunk;
        self.next_chunk += 1;
        self.unconsumed += 1;
        Some((chunk, items))
    }

    fn may_hand_out(&self) -> bool {
        self.stop.is_none()
            && !self.input_done
            && self.window.is_none_or(|window| self.unconsumed < window)
    }

    fn hand_out(&mut self) -> bool {
        let mut progressed = false;
        for rank in 1..self.peers.len() {
            if self.peers[rank] != Peer::Waiting || !self.may_hand_out() {
                continue;
            }
            let Some((chunk, items)) = self.next_items(rank) else {
                break;
            };
            let count = items.len();
            match wire::encode(0, &ReplyHead::Chunk { chunk }, &items) {
                Ok(bytes) => {
                    self.transport.send(rank, bytes);
                    self.peers[rank] = Peer::Computing {
                        chunk,
                        items: count,
                    };
                }
                Err(err) => self.fail(wire_reason(0, err.to_string())),
            }
            progressed = true;
        }
        if self.local.is_none() && self.may_hand_out() {
            if let Some((chunk, items)) = self.next_items(0) {
                self.local = Some(match &self.own_share {
                    Some(OwnShare(start)) => OwnChunk::Job {
                        chunk,
                        items: items.len(),
                        job: start(items),
                    },
                    None => OwnChunk::Sliced(LocalChunk::new(chunk, items)),
                });
                progressed = true;
            }
        }
        progressed
    }

    fn can_end(&self) -> bool {
        (self.stop.is_some() || self.input_done)
            && self.local.is_none()
            && self
                .peers
                .iter()
                .skip(1)
                .all(|peer| matches!(peer, Peer::Waiting | Peer::Refused | Peer::Ended))
    }

    fn end(&mut self) {
        let reason = self.stop.clone().unwrap_or(EndReason::Complete);
        for rank in 1..self.peers.len() {
            if matches!(self.peers[rank], Peer::Waiting | Peer::Refused) {
                self.reply(rank, &ReplyHead::End(reason.clone()));
                self.peers[rank] = Peer::Ended;
            }
        }
        self.ended = true;
    }
}

fn wire_reason(rank: usize, detail: String) -> EndReason {
    EndReason::Wire {
        rank: rank as u64,
        detail,
    }
}
