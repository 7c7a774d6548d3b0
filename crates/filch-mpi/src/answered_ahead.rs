//! Requests rank 0 answered before they arrived: the other ranks' requests
//! in calls rank 0 kept on its own pool.
//!
//! A call kept on rank 0 (`placement.rs`) needs nothing from the other
//! ranks, yet each of them makes the call too and waits in it for its one
//! reply. Waiting for their requests before returning would put a worker's
//! wake-up (up to `backoff::MAX_SLEEP`) on rank 0's path once per call, and
//! answering each only when it arrives would leave a worker that fell
//! behind a round trip per call to catch up. So when such a call ends, rank
//! 0 sends its `End` at once to every rank it has not heard from, and files
//! the call's id here; when that rank's request arrives (during any later
//! call, or when the `Cluster` drops), it is checked against the id and
//! consumed without a second reply.
//!
//! # Why it cannot hang or mix calls up
//! - Every request still gets exactly one reply: the early `End`. MPI keeps
//!   the messages from rank 0 to a rank in the order they were sent, and
//!   rank 0 sends a rank its replies in call order, so a worker reads the
//!   early `End` as the reply to its request in that call, and nothing else
//!   is sent to it in that call.
//! - A worker sends one request per call, in call order; so its requests
//!   for calls answered ahead arrive in the order filed here, and the front
//!   of its queue is always the call its next such request names.
//! - Sending ahead cannot block rank 0 for good: an `End` is a few bytes,
//!   and if MPI's buffers for a rank fill up, that rank is taking them as it
//!   makes its calls.
//! - A request that names a different call than the front of its queue
//!   means that rank's program made different calls: its queue is cleared
//!   and the call rank 0 is in fails with the mismatch, on every rank. That
//!   is one call later than in a call rank 0 waits in: the price of not
//!   waiting.
//! - On drop, rank 0 takes every request still expected before it tells
//!   the ranks it is gone: each of them belongs to a call that rank is
//!   making or will make, as every rank makes the same calls.

use std::collections::VecDeque;

use crate::wire::{CallId, EndReason};

/// What a worker's request naming call `id` turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Not answered ahead: the request is for the call in progress (or a
    /// mismatch of it), handled as usual.
    NotAhead,
    /// The request of a call answered ahead: consumed, nothing to send.
    Answered,
    /// It names another call than the one answered ahead: the call in
    /// progress fails with this mismatch.
    Mismatch(EndReason),
}

/// Per worker rank, the calls answered ahead whose request has not come,
/// oldest first.
#[derive(Debug, Default)]
pub(crate) struct AnsweredAhead {
    per_rank: Vec<VecDeque<CallId>>,
}

impl AnsweredAhead {
    /// Nothing answered ahead for any of `ranks` ranks.
    pub(crate) fn new(ranks: usize) -> AnsweredAhead {
        AnsweredAhead {
            per_rank: vec![VecDeque::new(); ranks],
        }
    }

    /// Files call `call`, whose `End` was just sent to `rank` before its
    /// request came.
    pub(crate) fn expect(&mut self, rank: usize, call: &CallId) {
        self.per_rank[rank].push_back(call.clone());
    }

    /// Whether a request from `rank` for a call answered ahead is expected.
    pub(crate) fn expects(&self, rank: usize) -> bool {
        !self.per_rank[rank].is_empty()
    }

    /// Whether no request at all is expected.
    pub(crate) fn is_empty(&self) -> bool {
        self.per_rank.iter().all(VecDeque::is_empty)
    }

    /// Checks `rank`'s request naming call `id`.
    pub(crate) fn check(&mut self, rank: usize, id: &CallId) -> Check {
        let queue = &mut self.per_rank[rank];
        match queue.front() {
            None => Check::NotAhead,
            Some(expected) if expected == id => {
                queue.pop_front();
                Check::Answered
            }
            Some(expected) => {
                let detail = expected.describe_mismatch(id);
                queue.clear();
                Check::Mismatch(EndReason::Mismatch {
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
    fn requests_answered_ahead_are_taken_in_order_and_only_from_their_rank() {
        let mut ahead = AnsweredAhead::new(3);
        assert!(ahead.is_empty());
        ahead.expect(1, &call(1));
        ahead.expect(1, &call(2));
        assert!(ahead.expects(1) && !ahead.expects(2));
        assert_eq!(ahead.check(2, &call(1)), Check::NotAhead);
        assert_eq!(ahead.check(1, &call(1)), Check::Answered);
        assert_eq!(ahead.check(1, &call(2)), Check::Answered);
        assert_eq!(ahead.check(1, &call(3)), Check::NotAhead);
        assert!(ahead.is_empty());
    }

    #[test]
    fn a_request_for_another_call_is_a_mismatch_that_clears_the_queue() {
        let mut ahead = AnsweredAhead::new(2);
        ahead.expect(1, &call(4));
        ahead.expect(1, &call(5));
        match ahead.check(1, &CallId::new::<u32, String>(4, "map")) {
            Check::Mismatch(EndReason::Mismatch { rank: 1, detail }) => {
                assert!(detail.contains("#4"), "{detail}");
                assert!(detail.contains("String"), "{detail}");
            }
            other => panic!("not a mismatch: {other:?}"),
        }
        assert!(!ahead.expects(1));
    }
}
