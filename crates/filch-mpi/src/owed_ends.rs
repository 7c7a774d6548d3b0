//! The endings rank 0 owes the other ranks for calls it kept on its own pool,
//! delivered in batches.
//!
//! A call kept on rank 0 (`placement.rs`) needs nothing from the other
//! ranks, yet each of them makes the call too and waits in it for its one
//! reply. Waiting for their requests before returning would put a worker's
//! wake-up on rank 0's path once per call; sending each rank an `End` per
//! call would cost rank 0 a send per rank per call and wake every rank once
//! per call, on cores rank 0's pool may share. So rank 0 files the call's id
//! and ending here for each rank it has not heard from, and returns. When
//! rank 0 reads that rank's request (in a later call that goes out, in one
//! kept local once `READ_REQUESTS_EVERY` has passed since the last such
//! read, see `cluster.rs`, or when the `Cluster` drops), its reply, `Ends`,
//! carries the endings of every call filed for it
//! so far, oldest first: the worker ends the call it is in with the first,
//! and the calls it makes next with the others, checking each against its
//! own call without a message (`serve.rs`). One request and one reply per
//! rank cover a whole run of small calls.
//!
//! # Why it cannot hang or mix calls up
//! - A worker sends one request per call it has not been told the end of,
//!   in call order, and waits for its reply; rank 0 answers each request
//!   exactly once. Filed calls are the calls after the last one that rank
//!   was answered for, so the request a rank sends while it has calls filed
//!   names the oldest of them, and the batch it gets covers exactly the
//!   calls it has not been told about.
//! - A worker whose own call does not match the next ending it was told
//!   drops the rest of the batch and asks rank 0 as usual; rank 0 has
//!   nothing filed for it by then (the batch emptied its queue), so the
//!   request meets the call in progress and fails it as a mismatch, on every
//!   rank. A request that names another call than the oldest filed one is a
//!   mismatch too: it gets `End` with it, that rank's queue is cleared, and
//!   the call in progress fails with it. Either way rank 0 learns it in
//!   the first call that reads requests after it was sent, later than in a
//!   call it waits in: the price of not waiting.
//! - On drop, rank 0 waits for the request of every rank with calls filed
//!   and answers it before it tells the ranks it is gone: each such rank is
//!   in one of those calls or about to make it, as every rank makes the same
//!   calls.

use std::collections::VecDeque;

use crate::wire::{self, CallId, EndReason, ReplyHead};

/// What to answer a worker's request naming call `id`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Settle {
    /// Nothing is filed for that rank: the request is for the call in
    /// progress (or a mismatch of it), handled as usual.
    NotOwed,
    /// Reply `Ends` with these endings, oldest (the request's call) first.
    Owed(Vec<(CallId, EndReason)>),
    /// The request names another call than the oldest filed: reply `End`
    /// with this mismatch, and fail the call in progress with it.
    Mismatch(EndReason),
}

impl Settle {
    /// The reply to send, and the mismatch the call in progress fails
    /// with, if any; `None` when nothing was owed.
    pub(crate) fn into_reply(self) -> Option<(ReplyHead, Option<EndReason>)> {
        match self {
            Settle::NotOwed => None,
            Settle::Owed(ends) => Some((ReplyHead::Ends(ends), None)),
            Settle::Mismatch(reason) => Some((ReplyHead::End(reason.clone()), Some(reason))),
        }
    }
}

/// Per worker rank, the calls whose ending it has not been told, oldest
/// first.
#[derive(Debug, Default)]
pub(crate) struct OwedEnds {
    per_rank: Vec<VecDeque<(CallId, EndReason)>>,
}

impl OwedEnds {
    /// Nothing owed to any of `ranks` ranks.
    pub(crate) fn new(ranks: usize) -> OwedEnds {
        OwedEnds {
            per_rank: vec![VecDeque::new(); ranks],
        }
    }

    /// Files the ending of call `call` for `rank`, which has not asked yet.
    pub(crate) fn owe(&mut self, rank: usize, call: &CallId, reason: &EndReason) {
        self.per_rank[rank].push_back((call.clone(), reason.clone()));
    }

    /// Whether anything is filed for `rank`.
    pub(crate) fn owes(&self, rank: usize) -> bool {
        !self.per_rank[rank].is_empty()
    }

    /// Whether nothing is filed for any rank.
    pub(crate) fn is_empty(&self) -> bool {
        self.per_rank.iter().all(VecDeque::is_empty)
    }

    /// What to answer `rank`'s request `bytes` (encoded as in `wire.rs`):
    /// [`settle`](Self::settle) of the call it names, or `NotOwed` when
    /// nothing is filed for `rank` or the request does not decode.
    pub(crate) fn settle_request(&mut self, rank: usize, bytes: &[u8]) -> Settle {
        if !self.owes(rank) {
            return Settle::NotOwed;
        }
        match wire::decode_head::<CallId>(rank, bytes) {
            Ok((id, _)) => self.settle(rank, &id),
            Err(_) => Settle::NotOwed,
        }
    }

    /// What to answer `rank`'s request naming call `id`; empties its queue
    /// unless nothing was filed.
    pub(crate) fn settle(&mut self, rank: usize, id: &CallId) -> Settle {
        let queue = &mut self.per_rank[rank];
        match queue.front() {
            None => Settle::NotOwed,
            Some((owed, _)) if owed == id => Settle::Owed(queue.drain(..).collect()),
            Some((owed, _)) => {
                let detail = owed.describe_mismatch(id);
                queue.clear();
                Settle::Mismatch(EndReason::Mismatch {
                    rank: rank as u64,
                    detail,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(seq: u64) -> CallId {
        CallId::new::<u32, u32>(seq, "map")
    }

    #[test]
    fn a_request_for_the_oldest_owed_call_takes_every_owed_ending_of_its_rank() {
        let mut owed = OwedEnds::new(3);
        assert!(owed.is_empty());
        owed.owe(1, &call(1), &EndReason::Complete);
        let panicked = EndReason::Panicked {
            rank: 0,
            message: "boom".to_owned(),
        };
        owed.owe(1, &call(2), &panicked);
        owed.owe(2, &call(2), &panicked);
        assert!(owed.owes(1) && owed.owes(2) && !owed.owes(0));
        assert_eq!(
            owed.settle(1, &call(1)),
            Settle::Owed(vec![
                (call(1), EndReason::Complete),
                (call(2), panicked.clone())
            ])
        );
        assert_eq!(owed.settle(1, &call(3)), Settle::NotOwed);
        assert_eq!(
            owed.settle(2, &call(2)),
            Settle::Owed(vec![(call(2), panicked)])
        );
        assert!(owed.is_empty());
    }

    #[test]
    fn an_encoded_request_is_decoded_and_answered_with_the_batch_or_the_mismatch() {
        let mut owed = OwedEnds::new(2);
        owed.owe(1, &call(1), &EndReason::Complete);
        let request = |id: &CallId| wire::encode(1, id, &()).expect("a request encodes");
        assert_eq!(owed.settle_request(1, b"not a request"), Settle::NotOwed);
        let (head, mismatch) = owed
            .settle_request(1, &request(&call(1)))
            .into_reply()
            .expect("an owed call is answered");
        assert_eq!(head, ReplyHead::Ends(vec![(call(1), EndReason::Complete)]));
        assert!(mismatch.is_none());
        assert_eq!(owed.settle_request(1, &request(&call(2))), Settle::NotOwed);
        owed.owe(1, &call(3), &EndReason::Complete);
        let (head, mismatch) = owed
            .settle_request(1, &request(&CallId::new::<u32, String>(3, "map")))
            .into_reply()
            .expect("a mismatch is answered");
        assert!(matches!(
            head,
            ReplyHead::End(EndReason::Mismatch { rank: 1, .. })
        ));
        assert!(matches!(
            mismatch,
            Some(EndReason::Mismatch { rank: 1, .. })
        ));
    }

    #[test]
    fn a_request_for_another_call_is_a_mismatch_that_clears_the_queue() {
        let mut owed = OwedEnds::new(2);
        owed.owe(1, &call(4), &EndReason::Complete);
        owed.owe(1, &call(5), &EndReason::Complete);
        match owed.settle(1, &CallId::new::<u32, String>(4, "map")) {
            Settle::Mismatch(EndReason::Mismatch { rank: 1, detail }) => {
                assert!(detail.contains("#4"), "{detail}");
                assert!(detail.contains("String"), "{detail}");
            }
            other => panic!("not a mismatch: {other:?}"),
        }
        assert!(!owed.owes(1));
    }
}
