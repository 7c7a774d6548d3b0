//! The messages of the chunk protocol and how they are encoded: postcard, a
//! compact serde format (varint integers, no field names, no padding), so a
//! chunk of small numbers costs about a byte or two per item on the wire.
//!
//! Each message is a *head* followed by a *body*, encoded back to back, so
//! the receiver can read the head alone first: rank 0 checks a worker's
//! [`CallId`] before it trusts the body's types, and a worker reads a
//! [`ReplyHead`] (which does not depend on the item type) before the items.
//! The protocol itself is described in `coordinator.rs`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ClusterError;

/// Which call a message belongs to: a per-cluster sequence number (the same
/// on every rank when the ranks make the same calls) and a signature naming
/// the call kind and its item and result types.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallId {
    /// Counts this cluster's calls from 1.
    pub(crate) seq: u64,
    /// For example `map<u64 -> alloc::string::String>`.
    pub(crate) signature: String,
}

impl CallId {
    /// The id of call number `seq` of `kind` from `T` to `R`.
    pub(crate) fn new<T, R>(seq: u64, kind: &str) -> CallId {
        CallId {
            seq,
            signature: format!(
                "{kind}<{} -> {}>",
                std::any::type_name::<T>(),
                std::any::type_name::<R>()
            ),
        }
    }

    /// Says how `other` (a worker's id) differs from this (rank 0's).
    pub(crate) fn describe_mismatch(&self, other: &CallId) -> String {
        format!(
            "rank 0 is in call #{} {}, the other rank in call #{} {}",
            self.seq, self.signature, other.seq, other.signature
        )
    }
}

/// What happened to one chunk on the rank that ran it.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) enum ChunkOutcome<R> {
    /// The results, in item order, and the wall time the rank took.
    Done {
        /// One result per item.
        results: Vec<R>,
        /// Wall time for the whole chunk, in nanoseconds.
        elapsed_ns: u64,
    },
    /// The function panicked on one of the items; the panic's message.
    Panicked(String),
    /// The chunk's items could not be decoded, or its results encoded.
    Wire(String),
}

/// A worker's report on the chunk it was given last.
#[derive(Serialize, Deserialize, Debug)]
pub(crate) struct Finished<R> {
    /// The chunk's index in the call (chunks are numbered in input order).
    pub(crate) chunk: u64,
    /// Its results or what went wrong.
    pub(crate) outcome: ChunkOutcome<R>,
}

/// How a call ended, as rank 0 tells every worker.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub(crate) enum EndReason {
    /// Every item was mapped.
    Complete,
    /// Rank 0 dropped an `imap` before it was exhausted.
    Cancelled,
    /// The function panicked on `rank`.
    Panicked {
        /// Where.
        rank: u64,
        /// The panic message.
        message: String,
    },
    /// `rank` made a different call than rank 0.
    Mismatch {
        /// Which rank.
        rank: u64,
        /// The two calls.
        detail: String,
    },
    /// Encoding or decoding failed on `rank`.
    Wire {
        /// Which rank.
        rank: u64,
        /// The codec's message.
        detail: String,
    },
}

impl EndReason {
    /// The error every rank returns for this ending, if it is a failure.
    pub(crate) fn into_error(self) -> Option<ClusterError> {
        match self {
            EndReason::Complete | EndReason::Cancelled => None,
            EndReason::Panicked { rank, message } => Some(ClusterError::Panicked {
                rank: rank as usize,
                message,
            }),
            EndReason::Mismatch { rank, detail } => Some(ClusterError::Mismatch {
                rank: rank as usize,
                detail,
            }),
            EndReason::Wire { rank, detail } => Some(ClusterError::Wire {
                rank: rank as usize,
                detail,
            }),
        }
    }
}

/// The head of rank 0's reply to a worker's request; a `Chunk` head is
/// followed by the items (`Vec<T>`), the others by nothing.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplyHead {
    /// Map these items: chunk number `chunk`.
    Chunk {
        /// The chunk's index in the call.
        chunk: u64,
    },
    /// The call is over; stop asking.
    End(EndReason),
    /// Calls rank 0 kept on its own pool, oldest first: the first is the
    /// call the request named, which is over with its reason; the others
    /// are the next calls, already over too (`owed_ends.rs`).
    Ends(Vec<(CallId, EndReason)>),
    /// Rank 0 dropped its `Cluster`: no call will be answered any more.
    Shutdown,
}

/// Encodes `head` followed by `body`. A failure names the type that would
/// not encode: postcard does not keep a `Serialize` impl's own message
/// (its error says only "Serde Serialization Error").
pub(crate) fn encode<H: Serialize, B: Serialize + ?Sized>(
    rank: usize,
    head: &H,
    body: &B,
) -> Result<Vec<u8>, ClusterError> {
    let wire = |err: postcard::Error| ClusterError::Wire {
        rank,
        detail: format!("encoding {}: {err}", std::any::type_name::<B>()),
    };
    let mut bytes = postcard::to_stdvec(head).map_err(wire)?;
    bytes.extend_from_slice(&postcard::to_stdvec(body).map_err(wire)?);
    Ok(bytes)
}

/// Decodes a head and returns it with the bytes of the body.
pub(crate) fn decode_head<H: DeserializeOwned>(
    rank: usize,
    bytes: &[u8],
) -> Result<(H, &[u8]), ClusterError> {
    postcard::take_from_bytes(bytes).map_err(|err| ClusterError::Wire {
        rank,
        detail: format!("message head: {err}"),
    })
}

/// Decodes a body that must use up all of `bytes`.
pub(crate) fn decode_body<B: DeserializeOwned>(
    rank: usize,
    bytes: &[u8],
) -> Result<B, ClusterError> {
    match postcard::take_from_bytes::<B>(bytes) {
        Ok((body, [])) => Ok(body),
        Ok((_, rest)) => Err(ClusterError::Wire {
            rank,
            detail: format!("{} bytes left over after the message body", rest.len()),
        }),
        Err(err) => Err(ClusterError::Wire {
            rank,
            detail: format!("message body: {err}"),
        }),
    }
}

#[cfg(test)]
mod wire_tests {
    use super::*;

    #[test]
    fn a_request_round_trips_head_then_body() {
        let id = CallId::new::<u64, String>(7, "map");
        let finished = Some(Finished {
            chunk: 3,
            outcome: ChunkOutcome::Done {
                results: vec!["a".to_owned(), "bc".to_owned()],
                elapsed_ns: 1234,
            },
        });
        let bytes = encode(1, &id, &finished).unwrap();
        let (head, body): (CallId, _) = decode_head(0, &bytes).unwrap();
        assert_eq!(head, id);
        let back: Option<Finished<String>> = decode_body(0, body).unwrap();
        match back {
            Some(Finished {
                chunk: 3,
                outcome:
                    ChunkOutcome::Done {
                        results,
                        elapsed_ns: 1234,
                    },
            }) => assert_eq!(results, ["a", "bc"]),
            other => panic!("decoded {other:?}"),
        }
    }

    #[test]
    fn an_end_reply_decodes_whatever_the_item_type() {
        let end = ReplyHead::End(EndReason::Panicked {
            rank: 2,
            message: "boom".into(),
        });
        let bytes = encode(0, &end, &Vec::<u8>::new()).unwrap();
        let (head, _): (ReplyHead, _) = decode_head(1, &bytes).unwrap();
        let err = match head {
            ReplyHead::End(reason) => reason.into_error().unwrap(),
            other => panic!("decoded {other:?}"),
        };
        assert_eq!(
            err.to_string(),
            "filch-mpi: a mapped function panicked on rank 2: boom"
        );
    }

    #[test]
    fn a_body_of_the_wrong_type_is_a_wire_error_naming_the_rank() {
        let bytes = encode(0, &ReplyHead::Chunk { chunk: 0 }, &vec![u64::MAX; 3]).unwrap();
        let (_, body): (ReplyHead, _) = decode_head(1, &bytes).unwrap();
        let err = decode_body::<Vec<bool>>(1, body).unwrap_err();
        assert!(matches!(err, ClusterError::Wire { rank: 1, .. }), "{err}");
    }

    #[test]
    fn small_numbers_cost_about_a_byte_each() {
        let bytes = encode(
            0,
            &ReplyHead::Chunk { chunk: 1 },
            &(0..100u64).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(
            bytes.len() < 110,
            "{} bytes for 100 small u64s",
            bytes.len()
        );
    }

    #[test]
    fn a_mismatch_names_both_calls() {
        let root = CallId::new::<u64, u64>(4, "map");
        let other = CallId::new::<u64, u64>(5, "imap");
        let detail = root.describe_mismatch(&other);
        assert!(
            detail.contains("#4 map<u64 -> u64>") && detail.contains("#5 imap<u64 -> u64>"),
            "{detail}"
        );
    }
}
