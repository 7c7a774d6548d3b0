//! A worker rank's side of a call (every rank but 0): ask rank 0 for a
//! chunk, map it on the local pool, report it with the next request, until
//! rank 0 says the call is over. The protocol is described in
//! `coordinator.rs`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use filch::Pool;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::backoff::Backoff;
use crate::error::ClusterError;
use crate::local::map_chunk;
use crate::transport::Transport;
use crate::wire::{self, CallId, ChunkOutcome, EndReason, Finished, ReplyHead};

/// What a worker rank keeps from call to call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Worker<'c> {
    /// The link to rank 0.
    pub(crate) transport: &'c Transport,
    /// This rank's pool.
    pub(crate) pool: &'c Pool,
    /// Whether this rank's last call ended without a chunk (see [`serve`]).
    pub(crate) idle: &'c Cell<bool>,
    /// The endings of the next calls, already told by rank 0 in an `Ends`
    /// reply (`owed_ends.rs`), oldest first.
    pub(crate) told: &'c RefCell<VecDeque<(CallId, EndReason)>>,
}

/// Serves call `call` until rank 0 ends it; returns the call's error, if it
/// failed anywhere, so that every rank sees the same outcome.
///
/// A call whose ending rank 0 already told (the next one in `told`, with
/// the same id) ends at once, without a message. If the next told ending
/// is for another call, this rank's program made different calls than
/// rank 0's: the rest of what it was told is dropped and it asks rank 0
/// as usual, which then reports the mismatch (`owed_ends.rs`).
///
/// `idle` says whether this rank's last call ended without a chunk (rank 0
/// kept it local), and is updated for the next call. After such a call the
/// first wait sleeps instead of spinning: rank 0 is likely keeping this
/// call local too and answers only when it is done, and on a host the ranks
/// share, a spinning worker would take a core from rank 0's pool. A call
/// that does go out starts with a one-item chunk, so a sleeping worker
/// joins it at most one short sleep late.
pub(crate) fn serve<T, R, F>(worker: Worker<'_>, call: &CallId, f: &F) -> Result<(), ClusterError>
where
    T: DeserializeOwned + Send,
    R: Serialize + Send,
    F: Fn(T) -> R + Sync + Send,
{
    let Worker {
        transport,
        pool,
        idle,
        told,
    } = worker;
    {
        let mut told = told.borrow_mut();
        match told.pop_front() {
            Some((id, reason)) if id == *call => {
                return reason.into_error().map_or(Ok(()), Err);
            }
            Some(_) => told.clear(),
            None => {}
        }
    }
    let rank = transport.rank();
    let mut finished: Option<Finished<R>> = None;
    loop {
        let request = match wire::encode(rank, call, &finished) {
            Ok(bytes) => bytes,
            // The results would not encode: report that instead of them.
            Err(err) => {
                let chunk = finished.as_ref().map_or(0, |done| done.chunk);
                let failed: Option<Finished<R>> = Some(Finished {
                    chunk,
                    outcome: ChunkOutcome::Wire(err.to_string()),
                });
                wire::encode(rank, call, &failed)?
            }
        };
        transport.send(0, request);
        let wait = if finished.is_none() && idle.get() {
            Backoff::sleepy()
        } else {
            Backoff::new()
        };
        let reply = transport.receive_from(0, wait);
        let (head, body) = match wire::decode_head::<ReplyHead>(rank, &reply) {
            Ok(decoded) => decoded,
            // Garbage from rank 0 (ranks built from different code): say so
            // in the next request rather than leave rank 0 waiting for one.
            Err(err) => {
                finished = Some(Finished {
                    chunk: u64::MAX,
                    outcome: ChunkOutcome::Wire(err.to_string()),
                });
                continue;
            }
        };
        idle.set(matches!(head, ReplyHead::End(_) | ReplyHead::Ends(_)) && finished.is_none());
        finished = match head {
            ReplyHead::End(reason) => return reason.into_error().map_or(Ok(()), Err),
            ReplyHead::Ends(ends) => {
                let mut ends = ends.into_iter();
                let first = ends.next();
                told.borrow_mut().extend(ends);
                return match first {
                    Some((id, reason)) if id == *call => reason.into_error().map_or(Ok(()), Err),
                    // Rank 0 answers a request with the endings that start
                    // at its call; anything else is a reply from other code.
                    _ => Err(ClusterError::Wire {
                        rank: 0,
                        detail: "an Ends reply that does not start with this call".to_owned(),
                    }),
                };
            }
            ReplyHead::Shutdown => return Err(ClusterError::RootGone { rank }),
            ReplyHead::Chunk { chunk } => Some(Finished {
                chunk,
                outcome: match wire::decode_body::<Vec<T>>(rank, body) {
                    Ok(items) => map_chunk(pool, f, items),
                    Err(err) => ChunkOutcome::Wire(err.to_string()),
                },
            }),
        };
    }
}
